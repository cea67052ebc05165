#include "learner_handler.h"

#include <fmt/format.h>

#include "corral/jute.h"
#include "leader.h"
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
Status refuse(std::string message) { return Status(Code::kCorruptData, std::move(message)); }
}  // namespace

LearnerHandler::LearnerHandler(Leader& leader, Socket socket)
    : leader_(leader),
      socket_(std::move(socket)),
      reader_(socket_, leader.peer().settings().max_packet_data),
      sender_(socket_),
      address_(socket_.peerAddress()) {}

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

bool LearnerHandler::isVoter() const { return !observer_ && leader_.peer().isVoter(sid_.load()); }

bool LearnerHandler::synced() const {
  return broadcasting_ && !ended_ && nowMs() - last_heard_ms_.load() <= leader_.peer().settings().syncLimitMs();
}

void LearnerHandler::heard() { last_heard_ms_ = nowMs(); }

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
  if (leader_.running()) leader_.peer().log().warn("leader: dropping {}: {}", describe(), ended.message());
  ended_ = true;
  socket_.shutdown();
  sender_.stop();
  leader_.handlerEnded(*this);
}

Status LearnerHandler::handshake() {
  auto& peer = leader_.peer();
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
  const auto* member = peer.ensemble().member(info->server_id);
  if (member == nullptr || info->server_id == peer.ensemble().my_id) {
    return refuse(fmt::format("sid {} is not a member of this ensemble", info->server_id));
  }
  if (info->protocol_version < kProtocolVersion) {
    return refuse(fmt::format("sid {} speaks protocol 0x{:x}; 0x10000 (ZooKeeper 3.4+) is needed", info->server_id,
                              info->protocol_version));
  }
  sid_ = info->server_id;
  observer_ = type == PacketType::kObserverInfo || member->type == sdk::PeerType::kObserver;
  peer.log().info("leader: {} connected (accepted epoch {})", describe(), sdk::epochOf(hello->zxid));

  auto epoch = leader_.getEpochToPropose(sid_, sdk::epochOf(hello->zxid));
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
  if (auto acked = leader_.waitForEpochAck(sid_, summary); !acked.isOk()) return acked;

  auto snapshot_zxid = leader_.startSync(*this, summary.last_zxid);
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
  if (auto acked = leader_.waitForNewLeaderAck(sid_); !acked.isOk()) return acked;
  if (!leader_.waitForStartup()) return Status(Code::kConnectionLoss, "the leader stopped");
  socket_.setReadTimeout(settings.syncLimitMs());
  sender_.send(makePacket(PacketType::kUpToDate, -1));
  broadcasting_ = true;
  peer.log().info("leader: {} is synced", describe());
  return Status::ok();
}

Status LearnerHandler::streamSnapshot(sdk::Zxid zxid) {
  auto& peer = leader_.peer();
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
  peer.log().info("leader: sent {} a snapshot at 0x{:x} in {} ms", describe(), zxid,
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return Status::ok();
}

Status LearnerHandler::broadcast() {
  auto& peer = leader_.peer();
  const int32_t max_length = static_cast<int32_t>(peer.settings().max_packet_data);
  for (;;) {
    auto next = reader_.next();
    if (!next) return next.status();
    heard();
    switch (static_cast<PacketType>(next->type)) {
      case PacketType::kAck:
        if (!observer_) leader_.processAck(sid_, next->zxid);
        break;
      case PacketType::kPing: {
        auto touches = decodeTouches(next->data.value_or(""));
        if (!touches.empty()) peer.host().touchSessions(touches);
        break;
      }
      case PacketType::kRevalidate: {
        if (!next->data || next->data->size() < 12) return refuse("REVALIDATE shorter than 12 bytes");
        sdk::JuteReader r(*next->data);
        const sdk::SessionId id = r.readLong();
        const int32_t timeout = r.readInt();
        // The answer may come after this handler ended: it only goes to a live one.
        peer.host().revalidateSession(id, timeout, [weak = weak_from_this(), id](bool valid) {
          auto self = weak.lock();
          if (!self) return;
          std::string data;
          sdk::JuteWriter w(data);
          w.writeLong(id);
          w.writeBool(valid);
          self->send(makePacket(PacketType::kRevalidate, -1, std::move(data)));
        });
        break;
      }
      case PacketType::kRequest: {
        auto request = decodeRequestPacket(*next, max_length);
        if (!request) return refuse("REQUEST shorter than its header");
        if (request->request.op == sdk::OpCode::kSync) {
          // After the writes this learner forwarded before it are proposed (ZooKeeper runs a
          // learner's sync through the same ordered pipeline).
          peer.host().afterForwarded([weak = weak_from_this(), leader = leader_.weak()] {
            auto self = weak.lock();
            auto current = leader.lock();
            if (self && current) current->processSync(*self);
          });
        } else {
          peer.host().submitForwarded(std::move(*request));
        }
        break;
      }
      default:
        peer.log().warn("leader: {} sent an unexpected {}; ignored", describe(), packetTypeName(next->type));
    }
  }
}

}  // namespace corral::plugins::zab
