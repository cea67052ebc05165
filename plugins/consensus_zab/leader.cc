#include "leader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "corral/data_records.h"
#include "corral/jute.h"
#include "failpoints.h"
#include "learner_handler.h"
#include "request_codec.h"
#include "sync_planner.h"
#include "zab_peer.h"

namespace corral::plugins::zab {

using namespace std::chrono_literals;
using sdk::Code;
using sdk::Status;

namespace {
QuorumPacket proposal(PacketType type, sdk::Zxid zxid, const PacketBytes& entry) {
  return makePacket(type, zxid, *entry);
}
}  // namespace

Leader::Leader(ZabPeer& peer, const Vote& vote) : peer_(peer), vote_(vote) {}

Leader::~Leader() {
  shutdown("leader object destroyed");
  if (acceptor_.joinable()) acceptor_.join();
  stopHandlers();
}

std::string Leader::sidList(const std::set<int64_t>& sids) const {
  std::string text;
  for (int64_t sid : sids) text += (text.empty() ? "" : ", ") + std::to_string(sid);
  return "[" + text + "]";
}

void Leader::shutdown(const std::string& reason) {
  {
    std::lock_guard lock(mutex_);
    if (ended_) return;
    ended_ = true;
    end_reason_ = reason;
  }
  cv_.notify_all();
  listener_.close();
  std::lock_guard lock(mutex_);
  for (auto& handler : handlers_) handler->shutdown();
}

void Leader::stopHandlers() {
  std::list<std::shared_ptr<LearnerHandler>> handlers;
  {
    std::lock_guard lock(mutex_);
    for (auto& handler : handlers_) handler->shutdown();
    handlers.swap(handlers_);
  }
  for (auto& handler : handlers) handler->join();
}

void Leader::lead() {
  auto& log = peer_.log();
  const auto& settings = peer_.settings();
  std::optional<sdk::EnsembleMember> found;
  for (const auto& config : {peer_.membership().current(), peer_.membership().lastSeen()}) {
    if (const auto* member = config->member(peer_.myId()); member != nullptr && !found) found = *member;
  }
  if (!found) {
    log.error("leader: sid {} is in no config; cannot lead", peer_.myId());
    return;
  }
  const sdk::EnsembleMember* me = &*found;
  const std::string host = settings.listen_on_all_ips ? "0.0.0.0" : me->host;
  auto listener = Listener::bind(host, me->quorum_port);
  if (!listener) {
    log.error("leader: cannot listen on the quorum port {}: {}", hostPort(host, me->quorum_port),
              listener.status().message());
    return;
  }
  listener_ = std::move(*listener);
  {
    std::lock_guard lock(mutex_);
    last_committed_ = peer_.lastDelivered();
    last_proposed_ = last_committed_;
    my_summary_ = StateSummary{peer_.epochs().current(), last_committed_};
  }
  acceptor_ = std::thread([this] { acceptLearners(listener_, ended_, mutex_, handlers_, *this); });
  log.info("leader: leading from zxid 0x{:x}; waiting for a quorum of followers on {}", last_committed_,
           hostPort(host, me->quorum_port));

  const int64_t my_id = peer_.myId();
  Status step = Status::ok();
  auto epoch = getEpochToPropose(my_id, peer_.epochs().accepted());
  if (!epoch) step = epoch.status();
  if (step.isOk() && peer_.membership().reconfigEnabled()) {
    // ZOOKEEPER-1783: a config nobody established yet (version 0) gets this epoch's NEWLEADER
    // zxid as its version, agreed through NEWLEADER, before any learner is sent it.
    auto& membership = peer_.membership();
    if (membership.current()->version() == 0 && membership.lastSeen()->version() == 0) {
      membership.see(std::make_shared<const QuorumConfig>(membership.current()->members(), sdk::zxidOf(*epoch, 0)));
    }
  }
  if (step.isOk()) step = waitForEpochAck(my_id, my_summary_);
  if (step.isOk()) {
    step = peer_.epochs().setCurrent(*epoch);
    peer_.election().setPeerEpoch(*epoch);
  }
  if (step.isOk()) {
    peer_.setPhase(ZabPhase::kSynchronization);
    step = waitForNewLeaderAck(my_id);
  }
  if (step.isOk()) {
    std::set<int64_t> supporters;
    {
      std::lock_guard lock(mutex_);
      supporters = new_leader_acks_;
      established_ = true;
      established_at_ = std::chrono::steady_clock::now();
    }
    cv_.notify_all();
    log.info("leader: a quorum {} acked NEWLEADER; serving in epoch {} from zxid 0x{:x}", sidList(supporters), *epoch,
             last_committed_);
    activateNewLeaderConfig();
    peer_.setPhase(ZabPhase::kBroadcast);
    peer_.setRole(sdk::Role::kLeader, *epoch);
    // Every tickTime/2 a ping; every tickTime the quorum check (ZooKeeper's tickSkip).
    bool check = false;
    std::unique_lock lock(mutex_);
    while (!ended_) {
      cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(settings.tick_ms / 2, 1)), [&] { return ended_.load(); });
      if (ended_) break;
      lock.unlock();
      pingAndCheck(check);
      check = !check;
      lock.lock();
    }
  } else {
    log.warn("leader: could not establish the epoch: {}", step.message());
  }
  shutdown(step.isOk() ? "term ended" : step.message());
  if (acceptor_.joinable()) acceptor_.join();
  stopHandlers();
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return appends_in_flight_ == 0; });
  log.info("leader: term ended: {}", end_reason_);
}

// ---- discovery ----

sdk::Result<int64_t> Leader::getEpochToPropose(int64_t sid, int64_t last_accepted_epoch) {
  std::unique_lock lock(mutex_);
  if (!waiting_for_new_epoch_) return epoch_;
  if (last_accepted_epoch >= epoch_) epoch_ = last_accepted_epoch + 1;
  if (peer_.isVoter(sid) || peer_.membership().lastSeen()->isVoter(sid)) connecting_.insert(sid);
  if (connecting_.count(peer_.myId()) && peer_.hasAllQuorums(connecting_)) {
    if (auto saved = peer_.epochs().setAccepted(epoch_); !saved.isOk()) return saved;
    waiting_for_new_epoch_ = false;
    peer_.log().info("leader: new epoch {} agreed by {}", epoch_, sidList(connecting_));
    cv_.notify_all();
    return epoch_;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(peer_.settings().initLimitMs());
  cv_.wait_until(lock, deadline, [&] { return !waiting_for_new_epoch_ || ended_; });
  if (waiting_for_new_epoch_) {
    return Status(Code::kOperationTimeout,
                  fmt::format("timed out waiting for a quorum to report its epoch (heard from {})", sidList(connecting_)));
  }
  return epoch_;
}

Status Leader::waitForEpochAck(int64_t sid, const StateSummary& summary) {
  std::unique_lock lock(mutex_);
  if (election_finished_) {
    // Joining an established leader: a learner holding txns we never committed (a deposed
    // leader's, say) is TRUNCated or SNAPped, as ZooKeeper does. Only a learner claiming an
    // epoch beyond ours is impossible, and dropped.
    if (summary.current_epoch > epoch_ || sdk::epochOf(summary.last_zxid) > epoch_) {
      return Status(Code::kCorruptData, fmt::format("sid {} is ahead of the leader (epoch {}, zxid 0x{:x}; ours is {})",
                                                    sid, summary.current_epoch, summary.last_zxid, epoch_));
    }
    return Status::ok();
  }
  if (summary.current_epoch != -1) {
    if (summary.moreRecentThan(my_summary_)) {
      return Status(Code::kCorruptData,
                    fmt::format("sid {} is ahead of the leader (epoch {}, zxid 0x{:x} > epoch {}, 0x{:x})", sid,
                                summary.current_epoch, summary.last_zxid, my_summary_.current_epoch,
                                my_summary_.last_zxid));
    }
  }
  if (peer_.isVoter(sid) || peer_.membership().lastSeen()->isVoter(sid)) electing_.insert(sid);
  if (electing_.count(peer_.myId()) && peer_.hasAllQuorums(electing_)) {
    election_finished_ = true;
    cv_.notify_all();
    return Status::ok();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(peer_.settings().initLimitMs());
  cv_.wait_until(lock, deadline, [&] { return election_finished_ || ended_; });
  if (!election_finished_) {
    return Status(Code::kOperationTimeout,
                  fmt::format("timed out waiting for a quorum to ack the epoch (acked: {})", sidList(electing_)));
  }
  return Status::ok();
}

Status Leader::waitForNewLeaderAck(int64_t sid) {
  std::unique_lock lock(mutex_);
  if (quorum_formed_) return Status::ok();
  if (peer_.isVoter(sid) || peer_.membership().lastSeen()->isVoter(sid)) new_leader_acks_.insert(sid);
  if (new_leader_acks_.count(peer_.myId()) && peer_.hasAllQuorums(new_leader_acks_)) {
    quorum_formed_ = true;
    cv_.notify_all();
    return Status::ok();
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(peer_.settings().initLimitMs());
  cv_.wait_until(lock, deadline, [&] { return quorum_formed_ || ended_; });
  if (!quorum_formed_) {
    return Status(Code::kOperationTimeout,
                  fmt::format("timed out waiting for a quorum to ack NEWLEADER (acked: {})", sidList(new_leader_acks_)));
  }
  return Status::ok();
}

bool Leader::waitForStartup() {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(peer_.settings().initLimitMs()), [&] { return established_ || ended_; });
  return established_ && !ended_;
}

// ---- sync ----

std::optional<sdk::Zxid> Leader::startSync(LearnerHandler& handler, sdk::Zxid learner_last) {
  std::lock_guard lock(mutex_);
  const SyncPlan plan = planSync(peer_, learner_last, last_committed_);
  queueSync(handler, plan, learner_last, role());
  // Proposals not committed yet follow (participants ack them like live ones).
  if (!handler.isObserver()) {
    for (const auto& [zxid, pending] : outstanding_) handler.send(proposal(PacketType::kProposal, zxid, pending.entry));
  }
  // NEWLEADER carries the last seen config: the one this term establishes.
  handler.send(makePacket(PacketType::kNewLeader, sdk::zxidOf(epoch_, 0), peer_.membership().lastSeen()->toString()));
  forwarding_.insert(&handler);
  if (plan.kind == PacketType::kSnap) return plan.zxid;
  return std::nullopt;
}

// A member registers as what its server.N line says it is: a participant claiming to be an
// observer (or the reverse) is refused, so that acks and votes always match the config.
// A member not in the config (one about to join by reconfig) is what its hello says.
sdk::Status Leader::admit(PacketType hello, int64_t sid, const sdk::EnsembleMember* member) {
  if (member == nullptr) return Status::ok();
  const bool claims_observer = hello == PacketType::kObserverInfo;
  const bool is_observer = member->type == sdk::PeerType::kObserver;
  if (claims_observer == is_observer) return Status::ok();
  return Status(Code::kCorruptData,
                fmt::format("sid {} sent {} but is configured as {}", sid, packetTypeName(static_cast<int32_t>(hello)),
                            is_observer ? "an observer" : "a participant"));
}

void Leader::handlerEnded(LearnerHandler& handler) {
  std::lock_guard lock(mutex_);
  forwarding_.erase(&handler);
  for (auto& [zxid, waiting] : pending_syncs_) std::erase(waiting, &handler);
}

// ---- broadcast ----

void Leader::propose(sdk::TxnEntry txn) {
  const sdk::Zxid zxid = txn.header.zxid;
  if (sdk::counterOf(zxid) == 0xffffffffLL) {
    // ZooKeeper's rollover rule: a new epoch (a new election) before the counter wraps.
    shutdown(fmt::format("zxid 0x{:x}: the counter would roll over; a new election starts a new epoch", zxid));
    return;
  }
  auto entry = std::make_shared<const std::string>(sdk::encodeToString(txn));
  const sdk::TxnEntry* logged = nullptr;
  if (txn.header.type == sdk::OpCode::kReconfig) {
    // The new config is the last seen one from now on: this and every later proposal needs a
    // quorum of it too, until it commits.
    if (auto config = configOfReconfig(txn); config.isOk()) peer_.membership().see(*config);
  }
  {
    std::lock_guard lock(mutex_);
    if (ended_ || !established_ || zxid <= last_proposed_) return;
    last_proposed_ = zxid;
    last_proposal_size_ = static_cast<int64_t>(entry->size());
    min_proposal_size_ = min_proposal_size_ < 0 ? last_proposal_size_ : std::min(min_proposal_size_, last_proposal_size_);
    max_proposal_size_ = std::max(max_proposal_size_, last_proposal_size_);
    auto& slot = outstanding_[zxid];
    slot.txn = std::move(txn);
    slot.entry = entry;
    slot.configs = peer_.membership().quorumConfigs();
    // std::map nodes do not move: `logged` stays valid until the txn commits, which needs our
    // own ack, which comes after the append completes.
    logged = &slot.txn;
    ++appends_in_flight_;
    if (failpointHit("leader.logged_before_send")) {
      peer_.storage().append(std::span<const sdk::TxnEntry>(logged, 1),
                             [](sdk::Status) { crashAt("leader.logged_before_send"); });
      return;
    }
    const auto bytes = packetBytes(proposal(PacketType::kProposal, zxid, entry));
    for (auto* handler : forwarding_) {
      if (!handler->isObserver()) handler->send(bytes);
    }
  }
  // Outside the lock: a storage may call `done` before append() returns. The sequencer calls
  // propose() serially, so appends stay in zxid order.
  peer_.storage().append(std::span<const sdk::TxnEntry>(logged, 1),
                         [this, zxid](sdk::Status status) { onDurable(zxid, status); });
}

void Leader::onDurable(sdk::Zxid zxid, const sdk::Status& status) {
  if (!status.isOk()) {
    // A leader that cannot log must not lead; the kernel stops on the failed commit.
    peer_.log().error("leader: txn 0x{:x} could not be logged: {}", zxid, status.message());
    shutdown("the log failed: " + status.message());
  }
  // The last use of this object: lead() returns once appends_in_flight_ is 0, and the Leader is
  // then destroyed, so the count drops and the waiter is woken under the lock, with nothing
  // after it (TSan: the notify after the unlock raced with ~Leader's destruction of cv_).
  std::lock_guard lock(mutex_);
  --appends_in_flight_;
  if (!status.isOk()) {
    append_failure_ = status;
  } else {
    auto it = outstanding_.find(zxid);
    if (it != outstanding_.end()) it->second.acks.insert(peer_.myId());
    commitReady();
  }
  cv_.notify_all();
}

void Leader::processAck(LearnerHandler& handler, sdk::Zxid zxid) {
  if (!handler.isObserver()) processAck(handler.sid(), zxid);
}

void Leader::processTouches(std::vector<sdk::SessionTouch> touches) { peer_.host().touchSessions(touches); }

void Leader::processRevalidate(LearnerHandler& handler, sdk::SessionId id, int32_t timeout_ms) {
  // The answer may come after the handler ended: it only goes to a live one.
  peer_.host().revalidateSession(id, timeout_ms, [weak = handler.weak_from_this(), id](bool valid) {
    auto self = weak.lock();
    if (!self) return;
    std::string data;
    sdk::JuteWriter w(data);
    w.writeLong(id);
    w.writeBool(valid);
    self->send(makePacket(PacketType::kRevalidate, -1, std::move(data)));
  });
}

sdk::Status Leader::processRequest(LearnerHandler& handler, const QuorumPacket& packet) {
  auto request = decodeRequestPacket(packet, static_cast<int32_t>(peer_.settings().max_packet_data));
  if (!request) return Status(Code::kCorruptData, "REQUEST shorter than its header");
  if (request->request.op == sdk::OpCode::kSync) {
    // After the writes this learner forwarded before it are proposed (ZooKeeper runs a
    // learner's sync through the same ordered pipeline).
    peer_.host().afterForwarded([weak = handler.weak_from_this(), leader = weak_from_this()] {
      auto self = weak.lock();
      auto current = leader.lock();
      if (self && current) current->processSync(*self);
    });
  } else {
    peer_.host().submitForwarded(std::move(*request));
  }
  return Status::ok();
}

void Leader::forEachHandler(const std::function<void(LearnerHandler&)>& visit) {
  std::lock_guard lock(mutex_);
  for (auto& handler : handlers_) {
    if (!handler->ended()) visit(*handler);
  }
}

void Leader::processAck(int64_t sid, sdk::Zxid zxid) {
  if (sdk::counterOf(zxid) == 0) return;  // the ACK of NEWLEADER, once more after UPTODATE
  std::lock_guard lock(mutex_);
  if (zxid <= last_committed_) return;
  auto it = outstanding_.find(zxid);
  if (it == outstanding_.end()) return;
  it->second.acks.insert(sid);
  commitReady();
}

void Leader::commitReady() {
  while (!outstanding_.empty() && allowed_to_commit_) {
    auto it = outstanding_.begin();
    // The leader's own durability is required too: it serves reads of what it commits.
    if (!it->second.acks.count(peer_.myId())) return;
    for (const auto& config : it->second.configs) {
      if (!config->containsQuorum(it->second.acks)) return;
    }
    const sdk::Zxid zxid = it->first;
    failpoint("leader.quorum_before_commit");
    last_committed_ = zxid;
    std::optional<int64_t> designated;
    if (it->second.txn.header.type == sdk::OpCode::kReconfig && it->second.configs.size() > 1) {
      // Leader.tryToCommit: the new config in force here first; a leader that is not in it
      // hands over to a follower that has everything (the designated leader).
      designated = designatedLeader(it->second, zxid);
      peer_.processReconfig(it->second.configs.back(), designated);
      if (*designated != peer_.myId()) {
        peer_.log().info("leader: committing reconfig 0x{:x}; sid {} leads the new config, so nothing more commits here",
                         zxid, *designated);
        allowed_to_commit_ = false;
      }
    }
    const auto commit = packetBytes(designated ? makePacket(PacketType::kCommitAndActivate, zxid, activationData(*designated))
                                               : makePacket(PacketType::kCommit, zxid));
    PacketBytes inform;
    for (auto* handler : forwarding_) {
      if (handler->isObserver()) {
        if (!inform) {
          inform = packetBytes(designated ? makePacket(PacketType::kInformAndActivate, zxid,
                                                       activationData(*designated, *it->second.entry))
                                          : proposal(PacketType::kInform, zxid, it->second.entry));
        }
        handler->send(inform);
        handler->noteSent(zxid);
      } else {
        handler->send(commit);
      }
    }
    peer_.deliver(std::move(it->second.txn), std::move(it->second.entry), sdk::ApplyMode::kLive);
    outstanding_.erase(it);
    if (auto waiting = pending_syncs_.find(zxid); waiting != pending_syncs_.end()) {
      for (auto* handler : waiting->second) handler->send(makePacket(PacketType::kSync, 0));
      pending_syncs_.erase(waiting);
    }
  }
}

void Leader::processSync(LearnerHandler& handler) {
  std::lock_guard lock(mutex_);
  if (outstanding_.empty()) {
    handler.send(makePacket(PacketType::kSync, 0));
  } else {
    pending_syncs_[last_proposed_].push_back(&handler);
  }
}

void Leader::pingAndCheck(bool check) {
  std::set<int64_t> synced{peer_.myId()};
  sdk::Zxid last_proposed;
  {
    std::lock_guard lock(mutex_);
    last_proposed = last_proposed_;
    for (auto& handler : handlers_) {
      if (!handler->isObserver() && handler->synced()) synced.insert(handler->sid());
    }
    for (auto& handler : handlers_) handler->ping(last_proposed);
  }
  if (check && !peer_.hasAllQuorums(synced)) {
    shutdown(fmt::format("not enough followers synced, only synced with sids {}", sidList(synced)));
  }
}

std::vector<std::pair<std::string, std::string>> Leader::reportFields() const {
  std::lock_guard lock(mutex_);
  size_t learners = 0;
  size_t synced_followers = 0;
  size_t synced_observers = 0;
  size_t synced_non_voting = 0;
  for (const auto& handler : handlers_) {
    if (handler->ended()) continue;
    ++learners;
    if (!handler->broadcasting()) continue;
    if (handler->isObserver()) {
      ++synced_observers;
    } else {
      // As ZooKeeper's forwarding followers: the non-voting ones count here too.
      ++synced_followers;
      synced_non_voting += !handler->isVoter();
    }
  }
  size_t pending_syncs = 0;
  for (const auto& [zxid, waiting] : pending_syncs_) pending_syncs += waiting.size();
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                            established_at_).count();
  return {{"learners", std::to_string(learners)},
          {"synced_followers", std::to_string(synced_followers)},
          {"synced_non_voting_followers", std::to_string(synced_non_voting)},
          {"synced_observers", std::to_string(synced_observers)},
          {"pending_syncs", std::to_string(pending_syncs)},
          {"leader_uptime", std::to_string(uptime)},
          {"last_proposal_size", std::to_string(last_proposal_size_)},
          {"max_proposal_size", std::to_string(max_proposal_size_)},
          {"min_proposal_size", std::to_string(min_proposal_size_)}};
}

std::string Leader::proposalSizesLine() const {
  std::lock_guard lock(mutex_);
  return fmt::format("Proposal sizes last/min/max: {}/{}/{}\n", last_proposal_size_, min_proposal_size_,
                     max_proposal_size_);
}

// ---- reconfiguration ----

// Leader.isQuorumSynced: we (if a voter of `config`) and the synced followers it has as voters.
bool Leader::isQuorumSynced(const QuorumConfig& config) const {
  std::set<int64_t> synced;
  if (config.isVoter(peer_.myId())) synced.insert(peer_.myId());
  for (const auto* handler : forwarding_) {
    if (!handler->isObserver() && handler->synced() && config.isVoter(handler->sid())) synced.insert(handler->sid());
  }
  return config.containsQuorum(synced);
}

// Leader.getDesignatedLeader: ourselves when we stay a voter at the same address; else the
// voter of the new config that acked the reconfig and the most proposals after it.
int64_t Leader::designatedLeader(const Outstanding& reconfig, sdk::Zxid zxid) const {
  const auto& next = *reconfig.configs.back();
  const auto config_now = peer_.membership().current();
  const auto* me_now = config_now->member(peer_.myId());
  const auto* me_next = next.member(peer_.myId());
  if (next.isVoter(peer_.myId()) && me_now != nullptr && me_next != nullptr && me_now->host == me_next->host &&
      me_now->quorum_port == me_next->quorum_port) {
    return peer_.myId();
  }
  std::set<int64_t> candidates;
  for (int64_t sid : reconfig.acks) {
    if (next.isVoter(sid) && sid != peer_.myId()) candidates.insert(sid);
  }
  if (candidates.empty()) return peer_.myId();
  int64_t best = *candidates.begin();
  for (auto it = outstanding_.upper_bound(zxid); it != outstanding_.end() && candidates.size() > 1; ++it) {
    std::set<int64_t> acked;
    for (int64_t sid : candidates) {
      if (it->second.acks.count(sid)) acked.insert(sid);
    }
    if (acked.empty()) break;
    candidates.swap(acked);
    best = *candidates.begin();
  }
  return best;
}

// Leader.startZkServer with reconfig enabled: the config NEWLEADER carried is in force once a
// quorum acked it.
void Leader::activateNewLeaderConfig() {
  auto& membership = peer_.membership();
  if (!membership.reconfigEnabled()) return;
  const auto config = membership.lastSeen();
  int64_t designated = peer_.myId();
  if (!config->isVoter(peer_.myId())) {
    std::lock_guard lock(mutex_);
    for (int64_t sid : new_leader_acks_) {
      if (config->isVoter(sid) && sid != peer_.myId()) {
        designated = sid;
        break;
      }
    }
  }
  peer_.processReconfig(config, designated);
  if (designated != peer_.myId()) {
    peer_.log().warn("leader: not a voter of config {:x}; sid {} is to lead it, so nothing commits here",
                     config->version(), designated);
    std::lock_guard lock(mutex_);
    allowed_to_commit_ = false;
  }
}

namespace {
// QuorumServer.checkAddressDuplicate, which skips loopback, wildcard and unresolved addresses
// (so members on 127.x may share ports, as a 3.8 leader accepts).
bool sharesAnAddress(const sdk::EnsembleMember& a, const sdk::EnsembleMember& b) {
  auto checked = [](const std::string& host) {
    const bool ipv4 = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv4 || ipv6) && !host.starts_with("127.") && host != "0.0.0.0" && host != "::1" && host != "::" &&
           host != "0:0:0:0:0:0:0:1" && host != "0:0:0:0:0:0:0:0";
  };
  if (a.host != b.host || !checked(a.host)) return false;
  return a.quorum_port == b.quorum_port || a.election_port == b.election_port || a.quorum_port == b.election_port ||
         a.election_port == b.quorum_port;
}
}  // namespace

// PrepRequestProcessor's reconfig case after the disabled check.
sdk::Result<std::string> Leader::prepareReconfig(const sdk::ReconfigRequest& request, sdk::Zxid zxid) {
  auto& membership = peer_.membership();
  const auto last_seen = membership.lastSeen();
  if (membership.reconfigInProgress()) return Status(Code::kReconfigInProgress, "a reconfig is in progress");
  if (request.cur_config_id != -1 && request.cur_config_id != last_seen->version()) {
    return Status(Code::kBadVersion, fmt::format("Reconfiguration from version {:x} failed -- last seen version is {:x}",
                                                 request.cur_config_id, last_seen->version()));
  }
  std::vector<sdk::EnsembleMember> members;
  std::optional<QuorumConfig> next;
  std::vector<int64_t> order;  // the incremental path's text order (a copied Java HashMap)
  size_t copied = 0;           // how many members the copy started with
  if (request.new_members) {
    // Bulk: the members given, separated by commas or newlines.
    std::string text = *request.new_members;
    std::replace(text.begin(), text.end(), ',', '\n');
    auto parsed = QuorumConfig::parse(text);
    if (!parsed.isOk()) return parsed.status();
    if (parsed->members().empty()) return Status(Code::kBadArguments, "no members given");
    if (parsed->voterCount() == 0) {
      // parseDynamicConfig's IllegalArgumentException, caught as a marshalling error.
      return Status(Code::kMarshallingError, "Observers w/o participants is an invalid configuration");
    }
    next = QuorumConfig(parsed->members(), zxid);
  } else {
    members = last_seen->members();
    order = last_seen->textOrder();
    copied = order.size();
    auto split = [](const std::string& text) {
      std::vector<std::string> parts;
      size_t pos = 0;
      while (pos <= text.size()) {
        size_t end = text.find(',', pos);
        if (end == std::string::npos) end = text.size();
        std::string part = text.substr(pos, end - pos);
        while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.erase(part.begin());
        while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.pop_back();
        if (!part.empty()) parts.push_back(std::move(part));
        pos = end + 1;
      }
      return parts;
    };
    if (request.leaving_servers) {
      for (const auto& leaving : split(*request.leaving_servers)) {
        int64_t sid = 0;
        auto [ptr, error] = std::from_chars(leaving.data(), leaving.data() + leaving.size(), sid);
        if (error != std::errc() || ptr != leaving.data() + leaving.size()) {
          // ZooKeeper's Long.parseLong throws into its generic catch: MarshallingError.
          return Status(Code::kMarshallingError, fmt::format("'{}' is not a server id", leaving));
        }
        std::erase_if(members, [sid](const auto& m) { return m.id == sid; });
      }
    }
    if (request.joining_servers) {
      for (const auto& joiner : split(*request.joining_servers)) {
        auto member = QuorumConfig::parseJoiner(joiner);
        if (!member.isOk()) return member.status();
        for (const auto& other : members) {
          if (other.id == member->id) continue;
          if (sharesAnAddress(other, *member)) return Status(Code::kBadArguments, "Reconfiguration failed");
        }
        std::erase_if(members, [&](const auto& m) { return m.id == member->id; });
        std::erase(order, member->id);
        members.push_back(std::move(member).value());
        order.push_back(members.back().id);
      }
    }
  }
  if (!next) {
    std::erase_if(order, [&](int64_t sid) { return std::none_of(members.begin(), members.end(), [&](const auto& m) { return m.id == sid; }); });
    next = QuorumConfig(std::move(members), zxid);
    next->setTextOrder(order, copied);
  }
  if (peer_.settings().standalone_enabled && next->voterCount() < 2) {
    return Status(Code::kBadArguments, "Reconfig failed - new configuration must include at least 2 followers");
  }
  if (next->voterCount() < 1) {
    return Status(Code::kBadArguments, "Reconfig failed - new configuration must include at least 1 follower");
  }
  std::lock_guard lock(mutex_);
  if (!isQuorumSynced(*next)) {
    return Status(Code::kNewConfigNoQuorum,
                  "Reconfig failed - there must be a connected and synced quorum in new configuration");
  }
  return next->toString();
}

}  // namespace corral::plugins::zab
