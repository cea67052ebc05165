#include "follower.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "corral/data_records.h"
#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "failpoints.h"
#include "learner_handler.h"
#include "observer_master.h"
#include "request_codec.h"
#include "zab_peer.h"

namespace corral::plugins::zab {

using namespace std::chrono_literals;
using sdk::Code;
using sdk::Status;

namespace {
std::string intData(int32_t value) {
  std::string data;
  sdk::JuteWriter(data).writeInt(value);
  return data;
}
Status protocolError(std::string message) { return Status(Code::kCorruptData, std::move(message)); }
}  // namespace

Follower::Follower(ZabPeer& peer, int64_t leader_sid)
    : peer_(peer),
      leader_sid_(leader_sid),
      observer_(peer.amObserver()),
      logs_(!observer_ || peer.settings().sync_enabled),
      proposals_received_(peer.metrics().counter("learner_proposal_received_count", "proposals a learner received")),
      commits_received_(peer.metrics().counter("learner_commit_received_count", "commits a learner received")) {}

Follower::~Follower() {
  if (sender_) sender_->stop();
}

void Follower::shutdown() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  socket_.shutdown();
  cv_.notify_all();
}

Status Follower::connect() {
  if (observer_ && peer_.settings().observer_master_port > 0) {
    if (connectToObserverMaster().isOk()) return Status::ok();
    if (peer_.stopping()) return Status(Code::kConnectionLoss, "stopped");
    // Corral-only fallback: no observer master answered a whole round, so the leader serves
    // us itself (ZooKeeper's observers keep trying masters; a leader accepts them either way).
    peer_.log().warn("learner: no observer master answered on port {}; connecting to the leader instead",
                     peer_.settings().observer_master_port);
  }
  // The leader is in the config in force, or (a new leader of a config being established) in
  // the last one seen.
  std::optional<sdk::EnsembleMember> found;
  for (const auto& config : {peer_.membership().current(), peer_.membership().lastSeen()}) {
    if (const auto* member = config->member(leader_sid_); member != nullptr && !found) found = *member;
  }
  if (!found) return Status(Code::kInvalidConfig, fmt::format("leader sid {} is not a member", leader_sid_));
  const auto* leader = &*found;
  const auto& s = peer_.settings();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.tick_ms * s.connect_limit);
  Status last;
  // The elected leader opens its quorum port only once it decides: retry soon at first (a
  // failover waits on this), then every 100 ms as ZooKeeper's learners do.
  auto pause = 5ms;
  while (!peer_.stopping()) {
    auto connected = connectTo(leader->host, leader->quorum_port, std::min<int64_t>(s.initLimitMs(), 5000));
    if (connected) {
      std::lock_guard lock(mutex_);
      if (shut_down_) return Status(Code::kConnectionLoss, "stopped");
      socket_ = std::move(*connected);
      master_sid_ = leader_sid_;
      return Status::ok();
    }
    last = connected.status();
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 100ms);
  }
  return Status(Code::kConnectionLoss, fmt::format("cannot connect to leader sid {} at {}: {}", leader_sid_,
                                                   hostPort(leader->host, leader->quorum_port), last.message()));
}

// An observer with observerMasterPort: the voters (but the leader, which serves no observer
// master) in the peer's shuffled order, one after another as ZooKeeper's observers take them,
// for up to connectToLearnerMasterLimit ticks; a short pause between rounds (followers open
// the port only once they are synced), with observer.reconnectDelayMs jitter on top.
Status Follower::connectToObserverMaster() {
  const auto& s = peer_.settings();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(s.tick_ms * s.connect_limit);
  const int port = static_cast<int>(s.observer_master_port);
  auto pause = 5ms;
  while (!peer_.stopping() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& master : peer_.observerMasters(leader_sid_)) {
      auto connected = connectTo(master.host, port, std::min<int64_t>(s.initLimitMs(), 2000));
      if (!connected) continue;
      std::lock_guard lock(mutex_);
      if (shut_down_) return Status(Code::kConnectionLoss, "stopped");
      socket_ = std::move(*connected);
      master_sid_ = master.id;
      peer_.log().info("learner: observing leader sid {} through the observer master sid {} at {}", leader_sid_,
                       master.id, hostPort(master.host, port));
      return Status::ok();
    }
    peer_.observerReconnectDelay();
    std::this_thread::sleep_for(pause);
    pause = std::min<std::chrono::milliseconds>(pause * 2, 100ms);
  }
  return Status(Code::kConnectionLoss, "no observer master answered");
}

sdk::Result<int64_t> Follower::registerWithLeader() {
  auto& epochs = peer_.epochs();
  LearnerInfo info{peer_.myId(), kProtocolVersion, peer_.membership().current()->version()};
  const auto hello = observer_ ? PacketType::kObserverInfo : PacketType::kFollowerInfo;
  if (auto sent = socket_.writeAll(encodePacket(makePacket(hello, sdk::zxidOf(epochs.accepted(), 0), encodeLearnerInfo(info))));
      !sent.isOk()) {
    return sent;
  }
  auto leader_info = reader_->next();
  if (!leader_info) return leader_info.status();
  if (leader_info->type != static_cast<int32_t>(PacketType::kLeaderInfo)) {
    return protocolError(fmt::format("expected LEADERINFO, got {}", packetTypeName(leader_info->type)));
  }
  const int64_t new_epoch = sdk::epochOf(leader_info->zxid);
  int32_t epoch_data = -1;
  if (new_epoch > epochs.accepted()) {
    epoch_data = static_cast<int32_t>(epochs.current());
    if (auto saved = epochs.setAccepted(new_epoch); !saved.isOk()) return saved;
  } else if (new_epoch < epochs.accepted()) {
    return protocolError(fmt::format("the leader's epoch {} is less than our accepted epoch {}", new_epoch,
                                     epochs.accepted()));
  }
  // An observer that keeps no log reports what its tree holds (it may be ahead of its last
  // snapshot), as ZooKeeper's learners report their data tree's last zxid.
  const sdk::Zxid last_logged = logs_ ? peer_.storage().lastLoggedZxid() : peer_.lastDelivered();
  if (auto sent = socket_.writeAll(encodePacket(makePacket(PacketType::kAckEpoch, last_logged, intData(epoch_data))));
      !sent.isOk()) {
    return sent;
  }
  peer_.log().info("learner: registered with leader sid {}: epoch {}, our last zxid 0x{:x}", leader_sid_, new_epoch,
                   last_logged);
  return new_epoch;
}

void Follower::follow() {
  const auto& s = peer_.settings();
  Status ended = connect();
  if (ended.isOk()) {
    socket_.setReadTimeout(s.initLimitMs());
    reader_ = std::make_unique<PacketReader>(socket_, s.max_packet_data);
    auto epoch = registerWithLeader();
    if (!epoch) {
      ended = epoch.status();
    } else {
      const auto started = std::chrono::steady_clock::now();
      ended = syncWithLeader(*epoch);
      if (ended.isOk()) {
        // ZooKeeper's FOLLOWER_SYNC_TIME / OBSERVER_SYNC_TIME, in ms.
        peer_.metrics()
            .summary(observer_ ? "observer_sync_time" : "follower_sync_time", "time to sync with the leader",
                     sdk::SummaryDetail::kBasic)
            .add(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                     .count());
        ended = serve();
      }
    }
  }
  if (!peer_.stopping()) peer_.log().warn("learner: leaving leader sid {}: {}", leader_sid_, ended.message());
  stopObserverMaster();
  socket_.shutdown();
  if (sender_) sender_->stop();
  // Stop serving clients before waiting for our appends: they may wait long (a full disk
  // holds them until space returns), and a member without a leader must not answer meanwhile.
  if (!peer_.stopping()) peer_.setRole(sdk::Role::kLooking, peer_.epoch());
  waitAppendsDone();
}

// ZooKeeper's Follower starts its ObserverMaster once synced, when observerMasterPort is set.
void Follower::startObserverMaster(int64_t epoch) {
  if (observer_ || peer_.settings().observer_master_port <= 0) return;
  std::shared_ptr<ObserverMaster> master;
  {
    // Under our lock no commit is delivered: the master starts from exactly what we hold.
    std::lock_guard lock(mutex_);
    if (shut_down_) return;
    master = std::make_shared<ObserverMaster>(peer_, *this, epoch, peer_.lastDelivered());
    observer_master_ = master;
  }
  if (auto started = master->start(); !started.isOk()) {
    peer_.log().warn("learner: not serving observers: {}", started.message());
    std::lock_guard lock(mutex_);
    observer_master_.reset();
  }
}

void Follower::stopObserverMaster() {
  std::shared_ptr<ObserverMaster> master;
  {
    std::lock_guard lock(mutex_);
    master.swap(observer_master_);
  }
  // Outside our lock: its handler threads may be relaying through us while they end.
  if (master) master->stop();
}

std::shared_ptr<ObserverMaster> Follower::observerMaster() {
  std::lock_guard lock(mutex_);
  return observer_master_;
}

Status Follower::receiveSnapshot(sdk::Zxid zxid) {
  // The kernel applies commits asynchronously; loadSnapshot must not race an apply.
  peer_.waitApplied(peer_.lastDelivered(), peer_.settings().initLimitMs());
  const auto started = std::chrono::steady_clock::now();
  size_t received = 0;
  auto loaded = peer_.storage().loadSnapshot(zxid, [this, &received](char* dst, size_t n) {
    received += n;
    if (received > (64u << 10)) failpoint("follower.snap_midway");
    return reader_->readExact(dst, n);
  });
  if (!loaded.isOk()) return loaded;
  peer_.stateReplaced(zxid);
  // ZooKeeper's leaders seal the stream with the string "BenWasHere" (quorum-protocol.md §7.3).
  char length[4];
  if (auto read = reader_->readExact(length, sizeof length); !read.isOk()) return read;
  const int32_t size = sdk::JuteReader(std::string_view(length, sizeof length)).readInt();
  std::string signature(size == static_cast<int32_t>(kSnapshotSignature.size()) ? size : 0, '\0');
  if (!signature.empty()) {
    if (auto read = reader_->readExact(signature.data(), signature.size()); !read.isOk()) return read;
  }
  if (signature != kSnapshotSignature) return protocolError("the snapshot from our master is not signed BenWasHere");
  peer_.log().info("learner: loaded a snapshot at 0x{:x} from sid {} in {} ms", zxid, master_sid_.load(),
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  return Status::ok();
}

Status Follower::syncWithLeader(int64_t new_epoch) {
  const sdk::Zxid new_leader_zxid = sdk::zxidOf(new_epoch, 0);
  auto first = reader_->next();
  if (!first) return first.status();
  switch (static_cast<PacketType>(first->type)) {
    case PacketType::kDiff:
      peer_.setPhase(ZabPhase::kSynchronization, SyncMode::kDiff);
      peer_.log().info("learner: DIFF sync to 0x{:x}", first->zxid);
      break;
    case PacketType::kSnap:
      peer_.setPhase(ZabPhase::kSynchronization, SyncMode::kSnap);
      peer_.log().info("learner: SNAP sync at 0x{:x}", first->zxid);
      if (auto received = receiveSnapshot(first->zxid); !received.isOk()) return received;
      mode_ = sdk::ApplyMode::kReplay;
      break;
    case PacketType::kTrunc: {
      peer_.setPhase(ZabPhase::kSynchronization, SyncMode::kTrunc);
      peer_.log().info("learner: TRUNC to 0x{:x}", first->zxid);
      peer_.waitApplied(peer_.lastDelivered(), peer_.settings().initLimitMs());
      if (auto cut = peer_.storage().truncateLog(first->zxid); !cut.isOk()) {
        return Status(cut.code(), fmt::format("cannot truncate the log to 0x{:x}: {}", first->zxid, cut.message()));
      }
      failpoint("follower.trunc_before_epoch");
      peer_.stateReplaced(first->zxid);
      break;
    }
    default:
      return protocolError(fmt::format("expected DIFF, TRUNC or SNAP, got {}", packetTypeName(first->type)));
  }
  // Learner.syncWithLeader: /zookeeper/config shows our own config, whatever a snapshot held.
  {
    const auto config = peer_.membership().current();
    peer_.host().configActivated(config->toString(), config->version());
  }
  ConfigPtr new_leader_config;
  {
    std::lock_guard lock(mutex_);
    sender_ = std::make_unique<PacketSender>(socket_);
    sender_->start();
  }
  for (;;) {
    auto next = reader_->next();
    if (!next) return next.status();
    switch (static_cast<PacketType>(next->type)) {
      case PacketType::kProposal:
      case PacketType::kCommit:
      case PacketType::kInform:
      case PacketType::kCommitAndActivate:
      case PacketType::kInformAndActivate:
        if (auto handled = onTxnPacket(*next); !handled.isOk()) return handled;
        break;
      case PacketType::kNewLeader: {
        // The config the new leader establishes (its last seen one): in force at UPTODATE.
        if (next->data && next->data->size() > 1) {
          auto config = QuorumConfig::parse(*next->data);
          if (config.isOk()) {
            new_leader_config = std::make_shared<const QuorumConfig>(std::move(config).value());
            peer_.membership().see(new_leader_config);
          } else {
            peer_.log().warn("learner: NEWLEADER carries a config that does not parse: {}", config.status().message());
          }
        }
        if (!waitDurable(peer_.settings().initLimitMs())) return Status(Code::kIoError, "synced txns did not become durable");
        if (auto saved = peer_.epochs().setCurrent(new_epoch); !saved.isOk()) return saved;
        peer_.election().setPeerEpoch(new_epoch);
        socket_.setReadTimeout(peer_.settings().syncLimitMs());
        sender_->send(makePacket(PacketType::kAck, new_leader_zxid));
        break;
      }
      case PacketType::kUpToDate: {
        if (new_leader_config && peer_.processReconfig(new_leader_config, std::nullopt)) {
          return Status(Code::kConnectionLoss, "the new leader's config changes our role or leader");
        }
        sender_->send(makePacket(PacketType::kAck, new_leader_zxid));
        releaseHeldAcks();
        peer_.setPhase(ZabPhase::kBroadcast);
        peer_.setRole(observer_ ? sdk::Role::kObserver : sdk::Role::kFollower, new_epoch);
        peer_.log().info("learner: up to date with leader sid {} in epoch {}; serving as {}", leader_sid_, new_epoch,
                         observer_ ? "observer" : "follower");
        startObserverMaster(new_epoch);
        return Status::ok();
      }
      case PacketType::kPing:
        // Not answered while syncing, as ZooKeeper's learners (Learner.syncWithLeader has no
        // PING case): a 3.8 leader expects the ACK of NEWLEADER as the learner's next packet.
        break;
      default:
        return protocolError(fmt::format("unexpected {} while syncing", packetTypeName(next->type)));
    }
  }
}

Status Follower::serve() {
  for (;;) {
    auto next = reader_->next();
    if (!next) return next.status();
    switch (static_cast<PacketType>(next->type)) {
      case PacketType::kPing: {
        auto touches = peer_.host().takeSessionTouches();
        if (auto master = observerMaster()) {
          auto theirs = master->takeTouches();
          touches.insert(touches.end(), theirs.begin(), theirs.end());
        }
        sender_->send(makePacket(PacketType::kPing, next->zxid, encodeTouches(touches)));
        break;
      }
      case PacketType::kProposal:
      case PacketType::kCommit:
      case PacketType::kInform:
      case PacketType::kCommitAndActivate:
      case PacketType::kInformAndActivate:
        if (auto handled = onTxnPacket(*next); !handled.isOk()) return handled;
        break;
      case PacketType::kSync:
        onSync();
        break;
      case PacketType::kRevalidate:
        onRevalidateReply(*next);
        break;
      case PacketType::kUpToDate:
        break;
      default:
        return protocolError(fmt::format("unexpected {} from the leader", packetTypeName(next->type)));
    }
    std::lock_guard lock(mutex_);
    if (!append_failure_.isOk()) return append_failure_;
  }
}

// The txn stream, the same while syncing and after: PROPOSAL (logged, acked once durable),
// COMMIT, and an observer's INFORM (both at once).
Status Follower::onTxnPacket(const QuorumPacket& txn) {
  // ZooKeeper's learner counters: PROPOSALs, and COMMITs (an observer's INFORMs).
  switch (static_cast<PacketType>(txn.type)) {
    case PacketType::kProposal:
      proposals_received_.add();
      return onProposal(txn, false);
    case PacketType::kInform:
      commits_received_.add();
      return onProposal(txn, true);
    case PacketType::kCommitAndActivate:
    case PacketType::kInformAndActivate:
      commits_received_.add();
      return onActivation(txn);
    default:
      commits_received_.add();
      return onCommit(txn.zxid);
  }
}

// A committed reconfig (COMMITANDACTIVATE to a follower, INFORMANDACTIVATE to an observer):
// the new config is in force before the txn applies; a new leader or role ends the term.
Status Follower::onActivation(const QuorumPacket& packet) {
  const bool inform = packet.type == static_cast<int32_t>(PacketType::kInformAndActivate);
  // The view points into the packet's data, which outlives this call.
  static const std::string kNone;
  auto activation = decodeActivation(packet.data ? std::string_view(*packet.data) : std::string_view(kNone));
  if (!activation) return protocolError(fmt::format("{} without a designated leader", packetTypeName(packet.type)));
  const int64_t designated = activation->first;
  // The reconfig txn: in the packet for an observer, the pending proposal for a follower.
  sdk::TxnEntry txn;
  if (inform) {
    if (auto decoded = formats::decodeEntry(activation->second, txn); !decoded.isOk()) {
      return protocolError(fmt::format("INFORMANDACTIVATE 0x{:x} does not decode: {}", packet.zxid, decoded.message()));
    }
  } else {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [&](const Pending& pending) { return pending.txn.header.zxid == packet.zxid; });
    if (it != pending_.end()) txn = it->txn;
  }
  auto config = configOfReconfig(txn);
  if (!config.isOk()) {
    return protocolError(fmt::format("{} 0x{:x}: the config does not parse: {}", packetTypeName(packet.type), packet.zxid,
                                     config.status().message()));
  }
  const bool major = peer_.processReconfig(*config, designated);
  {
    std::lock_guard lock(mutex_);
    activations_[packet.zxid] = designated;
  }
  if (inform) {
    QuorumPacket txn_packet = makePacket(PacketType::kInform, packet.zxid, std::string(activation->second));
    if (auto handled = onProposal(txn_packet, true); !handled.isOk()) return handled;
  } else if (auto handled = onCommit(packet.zxid); !handled.isOk()) {
    return handled;
  }
  if (major) {
    // Everything committed so far reaches the kernel before the role changes.
    waitDurable(peer_.settings().syncLimitMs());
    return Status(Code::kConnectionLoss, "changes proposed in reconfig");
  }
  return Status::ok();
}

Status Follower::onProposal(const QuorumPacket& proposal, bool committed) {
  if (!proposal.data) return protocolError(fmt::format("{} without data", packetTypeName(proposal.type)));
  sdk::TxnEntry txn;
  if (auto decoded = formats::decodeEntry(*proposal.data, txn); !decoded.isOk()) {
    return protocolError(fmt::format("{} 0x{:x} does not decode: {}", packetTypeName(proposal.type), proposal.zxid,
                                     decoded.message()));
  }
  if (txn.header.zxid != proposal.zxid) {
    return protocolError(fmt::format("{} 0x{:x} carries txn 0x{:x}", packetTypeName(proposal.type), proposal.zxid,
                                     txn.header.zxid));
  }
  if (txn.header.type == sdk::OpCode::kReconfig && !committed) {
    // A proposed reconfig: the last seen config until it commits.
    if (auto config = configOfReconfig(txn); config.isOk()) peer_.membership().see(*config);
  }
  const sdk::TxnEntry* queued;
  {
    std::lock_guard lock(mutex_);
    if (!pending_.empty() && txn.header.zxid <= pending_.back().txn.header.zxid) {
      return protocolError(fmt::format("proposal 0x{:x} after 0x{:x}", txn.header.zxid, pending_.back().txn.header.zxid));
    }
    if (!logs_) {
      // syncEnabled=false: an observer applies in memory only, logging nothing (so taking no
      // snapshots either), as ZooKeeper's ObserverZooKeeperServer without its SyncRequestProcessor.
      pending_.push_back(Pending{std::move(txn), std::make_shared<const std::string>(*proposal.data), true, committed});
      deliverReady();
      return Status::ok();
    }
    pending_.push_back(Pending{std::move(txn), std::make_shared<const std::string>(*proposal.data), false, committed});
    queued = &pending_.back().txn;
    ++appends_in_flight_;
  }
  const sdk::Zxid zxid = proposal.zxid;
  peer_.storage().append(std::span<const sdk::TxnEntry>(queued, 1),
                         [this, zxid](sdk::Status status) { onDurable(zxid, status); });
  return Status::ok();
}

void Follower::onDurable(sdk::Zxid zxid, const sdk::Status& status) {
  std::lock_guard lock(mutex_);
  --appends_in_flight_;
  if (!status.isOk()) {
    if (append_failure_.isOk()) append_failure_ = status;
    socket_.shutdown();
    cv_.notify_all();
    return;
  }
  for (auto& pending : pending_) {
    if (pending.txn.header.zxid == zxid) {
      pending.durable = true;
      break;
    }
  }
  if (!observer_) {
    if (acks_held_) {
      held_acks_.push_back(zxid);
    } else if (sender_) {
      failpoint("follower.logged_before_ack");
      sender_->send(makePacket(PacketType::kAck, zxid));
    }
  }
  deliverReady();
  cv_.notify_all();
}

Status Follower::onCommit(sdk::Zxid zxid) {
  std::lock_guard lock(mutex_);
  for (auto& pending : pending_) {
    if (pending.committed) continue;
    if (pending.txn.header.zxid != zxid) {
      return protocolError(fmt::format("COMMIT 0x{:x} but the next pending proposal is 0x{:x}", zxid,
                                       pending.txn.header.zxid));
    }
    pending.committed = true;
    deliverReady();
    return Status::ok();
  }
  // A commit of something we never got (or already applied) is harmless only if old.
  if (zxid <= peer_.lastDelivered()) return Status::ok();
  return protocolError(fmt::format("COMMIT 0x{:x} without its proposal", zxid));
}

// A SYNC completes after every commit the leader sent before it: a commit still waiting for
// our own log is delivered first (the kernel answers in the order it is told).
void Follower::onSync() {
  std::lock_guard lock(mutex_);
  // The leader answers syncs in the order they were sent.
  SyncOwner owner;
  if (!sync_owners_.empty()) {
    owner = std::move(sync_owners_.front());
    sync_owners_.pop_front();
  }
  std::optional<sdk::Zxid> last_committed;
  for (const auto& pending : pending_) {
    if (pending.committed) last_committed = pending.txn.header.zxid;
  }
  if (!last_committed) return completeSync(owner);
  deferred_syncs_.emplace_back(*last_committed, std::move(owner));
}

void Follower::completeSync(const SyncOwner& owner) {
  if (owner.local) return peer_.host().syncCompleted();
  if (auto observer = owner.observer.lock()) observer->send(makePacket(PacketType::kSync, 0));
}

void Follower::deliverReady() {
  while (!pending_.empty() && pending_.front().durable && pending_.front().committed) {
    Pending ready = std::move(pending_.front());
    pending_.pop_front();
    const sdk::Zxid zxid = ready.txn.header.zxid;
    const PacketBytes entry = ready.entry;
    peer_.deliver(std::move(ready.txn), std::move(ready.entry), mode_);
    std::optional<int64_t> designated;
    if (auto it = activations_.find(zxid); it != activations_.end()) {
      designated = it->second;
      activations_.erase(it);
    }
    if (observer_master_) observer_master_->committed(zxid, entry, designated);
    while (!deferred_syncs_.empty() && deferred_syncs_.front().first <= zxid) {
      auto owner = std::move(deferred_syncs_.front().second);
      deferred_syncs_.pop_front();
      completeSync(owner);
    }
  }
}

bool Follower::waitDurable(int64_t timeout_ms) {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    if (shut_down_ || !append_failure_.isOk()) return true;
    for (const auto& pending : pending_) {
      if (!pending.durable) return false;
    }
    return true;
  }) && append_failure_.isOk() && !shut_down_;
}

void Follower::waitAppendsDone() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return appends_in_flight_ == 0; });
}

void Follower::releaseHeldAcks() {
  std::lock_guard lock(mutex_);
  acks_held_ = false;
  for (sdk::Zxid zxid : held_acks_) sender_->send(makePacket(PacketType::kAck, zxid));
  held_acks_.clear();
}

void Follower::forward(sdk::ForwardedRequest request) {
  std::lock_guard lock(mutex_);
  if (!sender_ || shut_down_) return;
  if (request.request.op == sdk::OpCode::kSync) sync_owners_.push_back(SyncOwner{});
  sender_->send(encodeRequestPacket(request));
}

void Follower::relay(const QuorumPacket& packet) {
  std::lock_guard lock(mutex_);
  if (sender_ && !shut_down_) sender_->send(packet);
}

void Follower::relaySync(const QuorumPacket& packet, std::weak_ptr<LearnerHandler> owner) {
  std::lock_guard lock(mutex_);
  if (!sender_ || shut_down_) return;
  sync_owners_.push_back(SyncOwner{false, std::move(owner)});
  sender_->send(packet);
}

void Follower::revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) {
  {
    std::lock_guard lock(mutex_);
    if (sender_ && !shut_down_) {
      std::string data;
      sdk::JuteWriter w(data);
      w.writeLong(id);
      w.writeInt(timeout_ms);
      revalidations_[id].push_back(std::move(done));
      sender_->send(makePacket(PacketType::kRevalidate, -1, std::move(data)));
      return;
    }
  }
  done(false);
}

void Follower::onRevalidateReply(const QuorumPacket& reply) {
  if (!reply.data || reply.data->size() < 9) return;
  sdk::JuteReader r(*reply.data);
  const sdk::SessionId id = r.readLong();
  const bool valid = r.readBool();
  std::vector<std::function<void(bool)>> waiting;
  {
    std::lock_guard lock(mutex_);
    auto it = revalidations_.find(id);
    if (it == revalidations_.end() || it->second.empty()) return;
    waiting.push_back(std::move(it->second.front()));
    it->second.erase(it->second.begin());
    if (it->second.empty()) revalidations_.erase(it);
  }
  for (auto& done : waiting) done(valid);
}

void Follower::failRevalidations() {
  std::map<sdk::SessionId, std::vector<std::function<void(bool)>>> waiting;
  {
    std::lock_guard lock(mutex_);
    waiting.swap(revalidations_);
  }
  for (auto& [id, callbacks] : waiting) {
    for (auto& done : callbacks) done(false);
  }
}

}  // namespace corral::plugins::zab
