#include "observer_master.h"

#include <chrono>

#include <fmt/format.h>

#include "corral/jute.h"
#include "follower.h"
#include "learner_handler.h"
#include "request_codec.h"
#include "sync_planner.h"
#include "zab_peer.h"

namespace corral::plugins::zab {

using namespace std::chrono_literals;
using sdk::Code;
using sdk::Status;

ObserverMaster::ObserverMaster(ZabPeer& peer, Follower& follower, int64_t epoch, sdk::Zxid last_committed)
    : peer_(peer), follower_(follower), epoch_(epoch), last_committed_(last_committed) {}

ObserverMaster::~ObserverMaster() { stop(); }

Status ObserverMaster::start() {
  const auto& settings = peer_.settings();
  const auto* me = peer_.ensemble().member(peer_.ensemble().my_id);
  const std::string host = settings.listen_on_all_ips ? "0.0.0.0" : me->host;
  auto listener = Listener::bind(host, static_cast<int>(settings.observer_master_port));
  if (!listener) {
    return Status(Code::kSystemError, fmt::format("cannot listen on observerMasterPort {}: {}",
                                                  hostPort(host, static_cast<int>(settings.observer_master_port)),
                                                  listener.status().message()));
  }
  listener_ = std::move(*listener);
  acceptor_ = std::thread([this] { acceptLearners(listener_, ended_, mutex_, handlers_, *this); });
  pinger_ = std::thread([this] { pingLoop(); });
  peer_.log().info("observer master: serving observers on {} in epoch {}",
                   hostPort(host, static_cast<int>(settings.observer_master_port)), epoch_);
  return Status::ok();
}

void ObserverMaster::stop() {
  {
    std::lock_guard lock(mutex_);
    if (ended_.exchange(true)) return;
    for (auto& handler : handlers_) handler->shutdown();
  }
  cv_.notify_all();
  listener_.close();
  if (acceptor_.joinable()) acceptor_.join();
  if (pinger_.joinable()) pinger_.join();
  std::list<std::shared_ptr<LearnerHandler>> handlers;
  {
    std::lock_guard lock(mutex_);
    for (auto& handler : handlers_) handler->shutdown();
    handlers.swap(handlers_);
  }
  for (auto& handler : handlers) handler->join();
}

// Every tickTime/2, as ZooKeeper's ObserverMaster pinger; an observer that stops answering is
// dropped by its handler's read timeout (syncLimit).
void ObserverMaster::pingLoop() {
  const auto period = std::chrono::milliseconds(std::max<int64_t>(peer_.settings().tick_ms / 2, 1));
  std::unique_lock lock(mutex_);
  while (!ended_) {
    cv_.wait_for(lock, period, [&] { return ended_.load(); });
    if (ended_) break;
    for (auto& handler : handlers_) handler->ping(last_committed_);
  }
}

// ---- LearnerMaster ----

Status ObserverMaster::admit(PacketType hello, int64_t sid, const sdk::EnsembleMember* member) {
  // ZooKeeper: "Non observer attempting to connect to ObserverMaster".
  if (hello != PacketType::kObserverInfo || (member != nullptr && member->type != sdk::PeerType::kObserver)) {
    return Status(Code::kCorruptData, fmt::format("sid {} sent {} to the observer master but only observers may "
                                                  "connect here", sid,
                                                  packetTypeName(static_cast<int32_t>(hello))));
  }
  return Status::ok();
}

sdk::Result<int64_t> ObserverMaster::getEpochToPropose(int64_t, int64_t) { return epoch_; }

Status ObserverMaster::waitForEpochAck(int64_t sid, const StateSummary& summary) {
  // An observer that saw a newer epoch than ours follows a newer leader: we are the stale one.
  if (summary.current_epoch > epoch_ || sdk::epochOf(summary.last_zxid) > epoch_) {
    return Status(Code::kCorruptData, fmt::format("observer sid {} is ahead of this follower (epoch {}, zxid 0x{:x}; "
                                                  "ours is {})", sid, summary.current_epoch, summary.last_zxid, epoch_));
  }
  return Status::ok();
}

std::optional<sdk::Zxid> ObserverMaster::startSync(LearnerHandler& handler, sdk::Zxid learner_last) {
  std::lock_guard lock(mutex_);
  // Under our lock, committed() waits: every txn after last_committed_ reaches the handler
  // after the sync, none twice.
  const SyncPlan plan = planSync(peer_, learner_last, last_committed_);
  queueSync(handler, plan, learner_last, role());
  handler.send(makePacket(PacketType::kNewLeader, sdk::zxidOf(epoch_, 0), peer_.membership().lastSeen()->toString()));
  forwarding_[&handler] = last_committed_;
  if (plan.kind == PacketType::kSnap) return plan.zxid;
  return std::nullopt;
}

void ObserverMaster::processAck(LearnerHandler& handler, sdk::Zxid zxid) {
  // Observers ack NEWLEADER and UPTODATE only (counter 0); nothing else of theirs counts.
  if (sdk::counterOf(zxid) != 0) {
    peer_.log().warn("observer master: {} acked 0x{:x}; observers do not ack txns, ignored", handler.describe(), zxid);
  }
}

void ObserverMaster::processTouches(std::vector<sdk::SessionTouch> touches) {
  std::lock_guard lock(mutex_);
  for (const auto& touch : touches) touches_[touch.id] = touch.timeout_ms;
}

std::vector<sdk::SessionTouch> ObserverMaster::takeTouches() {
  std::lock_guard lock(mutex_);
  std::vector<sdk::SessionTouch> out;
  out.reserve(touches_.size());
  for (const auto& [id, timeout] : touches_) out.push_back({id, timeout});
  touches_.clear();
  return out;
}

void ObserverMaster::processRevalidate(LearnerHandler& handler, sdk::SessionId id, int32_t timeout_ms) {
  // The answer is passed on only while this master and the observer's connection live: when
  // the follower loses its leader, pending revalidations end unanswered (not as "invalid").
  follower_.revalidate(id, timeout_ms, [master = weak_from_this(), weak = handler.weak_from_this(), id,
                                        timeout_ms](bool valid) {
    auto self = weak.lock();
    auto current = master.lock();
    if (!self || !current || !current->running()) return;
    // As the leader would: a valid session is touched on the way.
    if (valid) current->processTouches({{id, timeout_ms}});
    std::string data;
    sdk::JuteWriter w(data);
    w.writeLong(id);
    w.writeBool(valid);
    self->send(makePacket(PacketType::kRevalidate, -1, std::move(data)));
  });
}

Status ObserverMaster::processRequest(LearnerHandler& handler, const QuorumPacket& packet) {
  const auto op = requestPacketOp(packet);
  if (!op) return Status(Code::kCorruptData, "REQUEST shorter than its header");
  // Passed up unchanged (auth ids included; the leader decodes the body); a sync's answer
  // comes back to this observer.
  if (*op == sdk::OpCode::kSync) {
    follower_.relaySync(packet, handler.weak_from_this());
  } else {
    follower_.relay(packet);
  }
  return Status::ok();
}

void ObserverMaster::handlerEnded(LearnerHandler& handler) {
  std::lock_guard lock(mutex_);
  forwarding_.erase(&handler);
}

void ObserverMaster::committed(sdk::Zxid zxid, const PacketBytes& entry, std::optional<int64_t> designated_leader) {
  std::lock_guard lock(mutex_);
  if (zxid <= last_committed_) return;
  last_committed_ = zxid;
  PacketBytes inform;
  for (auto& [handler, synced_to] : forwarding_) {
    if (zxid <= synced_to) continue;
    if (!inform) {
      // A reconfig goes on as INFORMANDACTIVATE (ZooKeeper's ObserverMaster.informAndActivate).
      inform = packetBytes(designated_leader
                               ? makePacket(PacketType::kInformAndActivate, zxid, activationData(*designated_leader, *entry))
                               : makePacket(PacketType::kInform, zxid, *entry));
    }
    handler->send(inform);
    handler->noteSent(zxid);
  }
}

void ObserverMaster::forEachHandler(const std::function<void(LearnerHandler&)>& visit) {
  std::lock_guard lock(mutex_);
  for (auto& handler : handlers_) {
    if (!handler->ended()) visit(*handler);
  }
}

}  // namespace corral::plugins::zab
