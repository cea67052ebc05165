#include "learner_handler.h"

#include <fmt/format.h>

#include "corral/jute.h"
#include "learner_master.h"
#include "request_codec.h"
#include "zab_peer.h"

namespace corral::plugins::zab {

using sdk::Code;
using sdk::Status;

namespace {
int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
Status refuse(std::string message) { return Status(Code::kCorruptData, std::move(message)); }
}  // namespace

LearnerHandler::LearnerHandler(LearnerMaster& master, Socket socket)
    : master_(master),
      socket_(std::move(socket)),
      reader_(socket_, master.peer().settings().max_packet_data),
      sender_(socket_),
      address_(socket_.peerAddress()),
      connected_at_ms_(wallMs()) {}

LearnerHandler::~LearnerHandler() {
  shutdown();
  join();
}

void LearnerHandler::start() {
  thread_ = std::thread([this] { run(); });
}

void LearnerHandler::shutdown() { socket_.shutdown(); }

void LearnerHandler::join() {
  if (thread_.joinable()) thread_.join();
}

bool LearnerHandler::isVoter() const { return !observer_ && master_.peer().isVoter(sid_.load()); }

bool LearnerHandler::synced() const {
  return broadcasting_ && !ended_ && nowMs() - last_heard_ms_.load() <= master_.peer().settings().syncLimitMs();
}

void LearnerHandler::heard() {
  last_heard_ms_ = nowMs();
  packets_received_.fetch_add(1, std::memory_order_relaxed);
}

void LearnerHandler::resetStats() {
  packets_received_ = 0;
  requests_ = 0;
  last_zxid_ = -1;
  sender_.resetSentPackets();
}

void LearnerHandler::ping(sdk::Zxid last_proposed) {
  if (broadcasting_) sender_.send(makePacket(PacketType::kPing, last_proposed));
}

std::string LearnerHandler::describe() const {
  return fmt::format("{} sid {} at {}", observer_ ? "observer" : "follower", sid_.load(), address_);
}

void LearnerHandler::run() {
  heard();
  Status ended = handshake();
  if (ended.isOk()) ended = broadcast();
  if (master_.running()) master_.peer().log().warn("{}: dropping {}: {}", master_.role(), describe(), ended.message());
  ended_ = true;
  socket_.shutdown();
  sender_.stop();
  master_.handlerEnded(*this);
}

Status LearnerHandler::handshake() {
  auto& peer = master_.peer();
  const auto& settings = peer.settings();
  socket_.setReadTimeout(settings.initLimitMs());
  auto hello = reader_.next();
  if (!hello) return hello.status();
  const auto type = static_cast<PacketType>(hello->type);
  if (type != PacketType::kFollowerInfo && type != PacketType::kObserverInfo) {
    return refuse(fmt::format("first packet is {}, not FOLLOWERINFO or OBSERVERINFO", packetTypeName(hello->type)));
  }
  auto info = decodeLearnerInfo(hello->data.value_or(""));
  if (!info) return refuse(fmt::format("bad LearnerInfo: {}", info.status().message()));
  const auto config = peer.membership().current();
  const auto* member = config->member(info->server_id);
  if (info->server_id == peer.myId() || (member == nullptr && !peer.membership().reconfigEnabled())) {
    return refuse(fmt::format("sid {} is not a member of this ensemble", info->server_id));
  }
  if (info->config_version > config->version()) {
    return refuse(fmt::format("sid {} is ahead of the leader (it has config version {:x}, ours is {:x})",
                              info->server_id, info->config_version, config->version()));
  }
  if (member == nullptr) {
    peer.log().info("{}: sid {} is not in config version {:x}; it may join by reconfig", master_.role(),
                    info->server_id, config->version());
  }
  // A learner with an older config may have had another role then: it learns this config
  // while syncing, so only a learner on our version must match its server.N role.
  if (info->config_version != config->version()) member = nullptr;
  if (info->protocol_version < kProtocolVersion) {
    return refuse(fmt::format("sid {} speaks protocol 0x{:x}; 0x10000 (ZooKeeper 3.4+) is needed", info->server_id,
                              info->protocol_version));
  }
  if (auto admitted = master_.admit(type, info->server_id, member); !admitted.isOk()) return admitted;
  sid_ = info->server_id;
  observer_ = type == PacketType::kObserverInfo;
  peer.log().info("{}: {} connected (accepted epoch {})", master_.role(), describe(), sdk::epochOf(hello->zxid));

  auto epoch = master_.getEpochToPropose(sid_, sdk::epochOf(hello->zxid));
  if (!epoch) return epoch.status();
  std::string version;
  sdk::JuteWriter(version).writeInt(kProtocolVersion);
  if (auto sent = socket_.writeAll(encodePacket(makePacket(PacketType::kLeaderInfo, sdk::zxidOf(*epoch, 0), version)));
      !sent.isOk()) {
    return sent;
  }
  auto ack = reader_.next();
  if (!ack) return ack.status();
  if (ack->type != static_cast<int32_t>(PacketType::kAckEpoch) || !ack->data || ack->data->size() < 4) {
    return refuse(fmt::format("expected ACKEPOCH, got {}", packetTypeName(ack->type)));
  }
  StateSummary summary{sdk::JuteReader(*ack->data).readInt(), ack->zxid};
  if (auto acked = master_.waitForEpochAck(sid_, summary); !acked.isOk()) return acked;

  auto snapshot_zxid = master_.startSync(*this, summary.last_zxid);
  if (snapshot_zxid) {
    if (auto streamed = streamSnapshot(*snapshot_zxid); !streamed.isOk()) return streamed;
  }
  sender_.start();
  // The ACK of NEWLEADER (a learner may reply to nothing else first).
  for (;;) {
    auto next = reader_.next();
    if (!next) return next.status();
    heard();
    if (next->type == static_cast<int32_t>(PacketType::kAck)) break;
    if (next->type == static_cast<int32_t>(PacketType::kPing)) continue;
    return refuse(fmt::format("expected the ACK of NEWLEADER, got {}", packetTypeName(next->type)));
  }
  if (auto acked = master_.waitForNewLeaderAck(sid_); !acked.isOk()) return acked;
  if (!master_.waitForStartup()) return Status(Code::kConnectionLoss, fmt::format("the {} stopped", master_.role()));
  socket_.setReadTimeout(settings.syncLimitMs());
  sender_.send(makePacket(PacketType::kUpToDate, -1));
  broadcasting_ = true;
  peer.log().info("{}: {} is synced", master_.role(), describe());
  return Status::ok();
}

Status LearnerHandler::streamSnapshot(sdk::Zxid zxid) {
  auto& peer = master_.peer();
  // The snapshot must hold every txn up to `zxid`: wait until the kernel applied them.
  if (!peer.waitApplied(zxid, peer.settings().initLimitMs())) {
    return Status(Code::kOperationTimeout, fmt::format("the tree did not reach 0x{:x} for a snapshot", zxid));
  }
  const auto started = std::chrono::steady_clock::now();
  if (auto sent = socket_.writeAll(encodePacket(makePacket(PacketType::kSnap, zxid))); !sent.isOk()) return sent;
  std::string buffer;
  auto flush = [&]() -> Status {
    Status sent = socket_.writeAll(buffer);
    buffer.clear();
    return sent;
  };
  auto written = peer.storage().writeSnapshot([&](std::string_view bytes) -> Status {
    buffer.append(bytes);
    return buffer.size() >= (256u << 10) ? flush() : Status::ok();
  });
  if (!written) return written.status();
  sdk::JuteWriter(buffer).writeString(kSnapshotSignature);
  if (auto sent = flush(); !sent.isOk()) return sent;
  peer.log().info("{}: sent {} a snapshot at 0x{:x} in {} ms", master_.role(), describe(), zxid,
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return Status::ok();
}

Status LearnerHandler::broadcast() {
  auto& peer = master_.peer();
  for (;;) {
    auto next = reader_.next();
    if (!next) return next.status();
    heard();
    switch (static_cast<PacketType>(next->type)) {
      case PacketType::kAck:
        master_.processAck(*this, next->zxid);
        break;
      case PacketType::kPing: {
        auto touches = decodeTouches(next->data.value_or(""));
        if (!touches.empty()) master_.processTouches(std::move(touches));
        break;
      }
      case PacketType::kRevalidate: {
        if (!next->data || next->data->size() < 12) return refuse("REVALIDATE shorter than 12 bytes");
        sdk::JuteReader r(*next->data);
        const sdk::SessionId id = r.readLong();
        const int32_t timeout = r.readInt();
        master_.processRevalidate(*this, id, timeout);
        break;
      }
      case PacketType::kRequest:
        noteRequest();
        if (auto handled = master_.processRequest(*this, *next); !handled.isOk()) return handled;
        break;
      default:
        peer.log().warn("{}: {} sent an unexpected {}; ignored", master_.role(), describe(), packetTypeName(next->type));
    }
  }
}

void acceptLearners(Listener& listener, const std::atomic<bool>& ended, std::mutex& mutex,
                    std::list<std::shared_ptr<LearnerHandler>>& handlers, LearnerMaster& master) {
  while (!ended) {
    auto accepted = listener.accept();
    if (!accepted) {
      if (!ended) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    auto handler = std::make_shared<LearnerHandler>(master, std::move(*accepted));
    std::list<std::shared_ptr<LearnerHandler>> finished;
    {
      std::lock_guard lock(mutex);
      if (ended) break;
      for (auto it = handlers.begin(); it != handlers.end();) {
        auto next = std::next(it);
        if ((*it)->ended()) finished.splice(finished.end(), handlers, it);
        it = next;
      }
      handlers.push_back(handler);
      handler->start();
    }
    // Joined outside the master's lock: an ended handler's thread may still be on its way
    // through handlerEnded(), which takes that lock (joining under it deadlocked the leader
    // when learners dropped and reconnected at once).
    for (auto& done : finished) done->join();
  }
}

}  // namespace corral::plugins::zab
