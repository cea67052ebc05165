#include "fast_leader_election.h"

#include <set>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

namespace corral::plugins::zab {

using namespace std::chrono_literals;

namespace {
const char* stateName(ServerState state) {
  switch (state) {
    case ServerState::kLooking: return "LOOKING";
    case ServerState::kFollowing: return "FOLLOWING";
    case ServerState::kLeading: return "LEADING";
    case ServerState::kObserving: return "OBSERVING";
  }
  return "?";
}
}  // namespace

bool sameVote(const Vote& a, const Vote& b) {
  if (a.state == ServerState::kLooking || b.state == ServerState::kLooking) {
    return a.id == b.id && a.zxid == b.zxid && a.election_epoch == b.election_epoch && a.peer_epoch == b.peer_epoch;
  }
  if ((a.version > 0) != (b.version > 0)) return a.id == b.id;
  return a.id == b.id && a.peer_epoch == b.peer_epoch;
}

FastLeaderElection::FastLeaderElection(Membership& membership, const ZabSettings& settings,
                                       ElectionConnections& connections, sdk::Logger& log, Self self)
    : membership_(membership), settings_(settings), connections_(connections), log_(log), self_(std::move(self)) {}

FastLeaderElection::~FastLeaderElection() { stop(); }

void FastLeaderElection::start() {
  {
    std::lock_guard lock(mutex_);
    current_vote_ = Vote{initId(), initZxid(), 0, initEpoch()};
  }
  receiver_ = std::thread([this] { receiveLoop(); });
}

void FastLeaderElection::stop() {
  if (stopping_.exchange(true)) return;
  queue_cv_.notify_all();
  if (receiver_.joinable()) receiver_.join();
}

// A member not in the config (removed, or about to join) is a non-voting participant.
bool FastLeaderElection::participant() const { return !membership_.amObserver(); }
// getInitId: only a voter of the config in force proposes itself (a removed or joining member
// votes Long.MIN_VALUE, as an observer does).
int64_t FastLeaderElection::initId() const {
  return membership_.isVoter(membership_.myId()) ? membership_.myId() : kObserverVote;
}
sdk::Zxid FastLeaderElection::initZxid() const { return participant() ? self_.last_logged_zxid() : kObserverVote; }
int64_t FastLeaderElection::initEpoch() const { return participant() ? self_.current_epoch() : kObserverVote; }

bool FastLeaderElection::isVoter(int64_t sid) const {
  for (const auto& config : membership_.quorumConfigs()) {
    if (config->isVoter(sid)) return true;
  }
  return false;
}

ServerState FastLeaderElection::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

Vote FastLeaderElection::currentVote() const {
  std::lock_guard lock(mutex_);
  return current_vote_;
}

int64_t FastLeaderElection::round() const {
  std::lock_guard lock(mutex_);
  return logical_clock_;
}

void FastLeaderElection::becomeLooking() {
  std::lock_guard lock(mutex_);
  state_ = ServerState::kLooking;
}

Vote FastLeaderElection::adoptLeader(int64_t leader, ServerState state) {
  std::lock_guard lock(mutex_);
  current_vote_ = Vote{leader, self_.last_logged_zxid(), logical_clock_, current_vote_.peer_epoch};
  state_ = state;
  Vote vote = current_vote_;
  vote.state = state;
  return vote;
}

void FastLeaderElection::setPeerEpoch(int64_t epoch) {
  std::lock_guard lock(mutex_);
  current_vote_.peer_epoch = epoch;
}

void FastLeaderElection::sendVote(int64_t sid, const Vote& vote, ServerState state, int64_t round) {
  Notification n;
  n.state = state;
  n.leader = vote.id;
  n.zxid = vote.zxid;
  n.election_epoch = round;
  n.peer_epoch = vote.peer_epoch;
  n.config = membership_.current()->toString();
  connections_.send(sid, encodeNotification(n));
}

void FastLeaderElection::sendNotifications() {
  Vote proposal;
  int64_t round;
  {
    std::lock_guard lock(mutex_);
    proposal = Vote{proposed_leader_, proposed_zxid_, logical_clock_, proposed_epoch_};
    round = logical_clock_;
  }
  std::set<int64_t> voters;
  for (const auto& config : membership_.quorumConfigs()) {
    for (int64_t sid : config->voters()) voters.insert(sid);
  }
  for (int64_t sid : voters) sendVote(sid, proposal, ServerState::kLooking, round);
}

void FastLeaderElection::receiveLoop() {
  while (!stopping_) {
    auto message = connections_.poll(200ms);
    if (!message) continue;
    auto decoded = decodeNotification(message->payload);
    if (!decoded) {
      log_.warn("election: dropped a bad notification from sid {}: {}", message->sid, decoded.status().message());
      continue;
    }
    if (!*decoded) continue;  // shorter than the oldest form: ignored, as ZooKeeper does
    const Notification& n = **decoded;
    if (n.version > 1 && !n.config.empty() && self_.adopt_config && state() == ServerState::kLooking) {
      // processReconfig while looking: a newer config in force here too; different members
      // mean a different election.
      auto received = QuorumConfig::parse(n.config);
      if (received.isOk() && received->version() > membership_.current()->version()) {
        log_.info("election: sid {} has config version {:x}, newer than ours ({:x})", message->sid,
                  received->version(), membership_.current()->version());
        if (self_.adopt_config(std::make_shared<const QuorumConfig>(std::move(received).value()))) {
          restart_ = true;
          queue_cv_.notify_all();
        }
      }
    }
    std::unique_lock lock(mutex_);
    if (!isVoter(message->sid)) {
      // An observer (or a non-voter) gets our current vote and is not counted.
      const Vote vote = current_vote_;
      const ServerState state = state_;
      const int64_t round = logical_clock_;
      lock.unlock();
      sendVote(message->sid, vote, state, round);
      continue;
    }
    if (state_ == ServerState::kLooking) {
      const bool behind = n.state == ServerState::kLooking && n.election_epoch < logical_clock_;
      const Vote proposal{proposed_leader_, proposed_zxid_, logical_clock_, proposed_epoch_};
      const int64_t round = logical_clock_;
      lock.unlock();
      {
        std::lock_guard queue_lock(queue_mutex_);
        queue_.push_back({message->sid, n});
      }
      queue_cv_.notify_one();
      if (behind) sendVote(message->sid, proposal, ServerState::kLooking, round);
    } else if (n.state == ServerState::kLooking) {
      const Vote vote = current_vote_;
      const ServerState state = state_;
      lock.unlock();
      sendVote(message->sid, vote, state, vote.election_epoch);
    }
  }
}

std::optional<FastLeaderElection::Received> FastLeaderElection::take(std::chrono::milliseconds timeout) {
  std::unique_lock lock(queue_mutex_);
  queue_cv_.wait_for(lock, timeout, [&] { return stopping_ || restart_ || !queue_.empty(); });
  if (queue_.empty()) return std::nullopt;
  Received received = std::move(queue_.front());
  queue_.pop_front();
  return received;
}

void FastLeaderElection::putBack(Received received) {
  std::lock_guard lock(queue_mutex_);
  queue_.push_front(std::move(received));
}

void FastLeaderElection::updateProposal(int64_t leader, sdk::Zxid zxid, int64_t epoch) {
  std::lock_guard lock(mutex_);
  proposed_leader_ = leader;
  proposed_zxid_ = zxid;
  proposed_epoch_ = epoch;
}

// A quorum of the current config, and of the last seen one while a reconfig is pending
// (SyncedLearnerTracker.hasAllQuorums).
bool FastLeaderElection::hasQuorum(const std::map<int64_t, Vote>& votes, const Vote& target) const {
  std::set<int64_t> agreeing;
  for (const auto& [sid, vote] : votes) {
    if (sameVote(vote, target)) agreeing.insert(sid);
  }
  for (const auto& config : membership_.quorumConfigs()) {
    if (!config->containsQuorum(agreeing)) return false;
  }
  return true;
}

bool FastLeaderElection::checkLeader(const std::map<int64_t, Vote>& votes, int64_t leader, int64_t round) const {
  if (leader != membership_.myId()) {
    auto it = votes.find(leader);
    return it != votes.end() && it->second.state == ServerState::kLeading;
  }
  std::lock_guard lock(mutex_);
  return logical_clock_ == round;
}

Vote FastLeaderElection::decide(int64_t leader, sdk::Zxid zxid, int64_t round, int64_t epoch) {
  Vote end{leader, zxid, round, epoch};
  ServerState state = leader == membership_.myId() ? ServerState::kLeading
                      : participant()              ? ServerState::kFollowing
                                                   : ServerState::kObserving;
  {
    std::lock_guard lock(mutex_);
    logical_clock_ = round;
    state_ = state;
    current_vote_ = end;
  }
  end.state = state;
  std::lock_guard queue_lock(queue_mutex_);
  queue_.clear();  // leaveInstance
  return end;
}

std::optional<Vote> FastLeaderElection::lookForLeader() {
  const auto started = std::chrono::steady_clock::now();
  std::map<int64_t, Vote> received_votes;  // recvset
  std::map<int64_t, Vote> out_of_election;
  auto timeout = std::chrono::milliseconds(settings_.min_notification_ms);
  int64_t round;
  {
    std::lock_guard lock(mutex_);
    state_ = ServerState::kLooking;
    round = ++logical_clock_;
  }
  updateProposal(initId(), initZxid(), initEpoch());
  log_.info("election: round {}: looking, proposing sid {} (zxid 0x{:x}, epoch {})", round, initId(), initZxid(),
            initEpoch());
  sendNotifications();
  auto elapsed = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  };

  while (!stopping_) {
    if (restart_.exchange(false)) {
      // The config changed under us: vote again among its members.
      received_votes.clear();
      out_of_election.clear();
      {
        std::lock_guard lock(mutex_);
        round = ++logical_clock_;
      }
      updateProposal(initId(), initZxid(), initEpoch());
      log_.info("election: round {}: the members changed; proposing sid {} again", round, initId());
      sendNotifications();
    }
    auto got = take(timeout);
    if (stopping_) break;
    if (!got) {
      if (connections_.haveDelivered()) {
        sendNotifications();
      } else {
        connections_.connectAll();
      }
      timeout = std::min(timeout * 2, std::chrono::milliseconds(settings_.max_notification_ms));
      continue;
    }
    const int64_t sid = got->sid;
    const Notification& n = got->n;
    if (!isVoter(sid) || !isVoter(n.leader)) continue;
    switch (n.state) {
      case ServerState::kLooking: {
        if (!participant() || initZxid() == -1 || n.zxid == -1) break;
        int64_t clock;
        int64_t cur_leader;
        sdk::Zxid cur_zxid;
        int64_t cur_epoch;
        {
          std::lock_guard lock(mutex_);
          clock = logical_clock_;
          cur_leader = proposed_leader_;
          cur_zxid = proposed_zxid_;
          cur_epoch = proposed_epoch_;
        }
        if (n.election_epoch > clock) {
          {
            std::lock_guard lock(mutex_);
            logical_clock_ = n.election_epoch;
          }
          received_votes.clear();
          if (voteBeats(n.leader, n.zxid, n.peer_epoch, initId(), initZxid(), initEpoch())) {
            updateProposal(n.leader, n.zxid, n.peer_epoch);
          } else {
            updateProposal(initId(), initZxid(), initEpoch());
          }
          log_.info("election: round {} (from sid {}): proposing sid {}", n.election_epoch, sid, proposed_leader_);
          sendNotifications();
        } else if (n.election_epoch < clock) {
          break;
        } else if (voteBeats(n.leader, n.zxid, n.peer_epoch, cur_leader, cur_zxid, cur_epoch)) {
          updateProposal(n.leader, n.zxid, n.peer_epoch);
          sendNotifications();
        }
        received_votes[sid] = Vote{n.leader, n.zxid, n.election_epoch, n.peer_epoch};
        Vote proposal;
        {
          std::lock_guard lock(mutex_);
          proposal = Vote{proposed_leader_, proposed_zxid_, logical_clock_, proposed_epoch_};
        }
        if (hasQuorum(received_votes, proposal)) {
          // finalizeWait: a better vote still arriving reopens the round.
          std::optional<Received> better;
          const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(settings_.finalize_wait_ms);
          while (auto next = take(std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::max(deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero())))) {
            if (voteBeats(next->n.leader, next->n.zxid, next->n.peer_epoch, proposal.id, proposal.zxid,
                          proposal.peer_epoch)) {
              better = std::move(next);
              break;
            }
            if (std::chrono::steady_clock::now() >= deadline) break;
          }
          if (better) {
            putBack(std::move(*better));
            break;
          }
          if (stopping_) return std::nullopt;
          Vote end = decide(proposal.id, proposal.zxid, proposal.election_epoch, proposal.peer_epoch);
          log_.info("election: round {} decided in {} ms: {} (leader sid {}, zxid 0x{:x}, epoch {})",
                    end.election_epoch, elapsed(), stateName(end.state), end.id, end.zxid, end.peer_epoch);
          return end;
        }
        break;
      }
      case ServerState::kObserving:
        break;
      case ServerState::kFollowing:
      case ServerState::kLeading: {
        const Vote vote{n.leader, n.zxid, n.election_epoch, n.peer_epoch, n.state, n.version};
        int64_t clock;
        {
          std::lock_guard lock(mutex_);
          clock = logical_clock_;
        }
        if (n.election_epoch == clock) {
          received_votes[sid] = vote;
          if (hasQuorum(received_votes, vote) && checkLeader(received_votes, n.leader, n.election_epoch)) {
            Vote end = decide(n.leader, n.zxid, n.election_epoch, n.peer_epoch);
            log_.info("election: joined round {} in {} ms: {} (leader sid {}, epoch {})", end.election_epoch, elapsed(),
                      stateName(end.state), end.id, end.peer_epoch);
            return end;
          }
        }
        out_of_election[sid] = vote;
        if (hasQuorum(out_of_election, vote) && checkLeader(out_of_election, n.leader, n.election_epoch)) {
          Vote end = decide(n.leader, n.zxid, n.election_epoch, n.peer_epoch);
          log_.info("election: joined the established leader sid {} (round {}, epoch {}) in {} ms", end.id,
                    end.election_epoch, end.peer_epoch, elapsed());
          return end;
        }
        break;
      }
    }
  }
  return std::nullopt;
}

}  // namespace corral::plugins::zab
