// Fast leader election (ZooKeeper's FastLeaderElection, quorum-protocol.md §4): rounds of
// votes ordered by (peer epoch, zxid, sid), a decision once a quorum agrees and no better vote
// arrives within finalizeWait, and joining an election that is already over by the FOLLOWING
// and LEADING replies of a quorum that includes the leader itself.
//
// A receiver thread answers every notification as ZooKeeper's WorkerReceiver does (a looking
// peer behind our round, or any looking peer once we follow or lead, gets our vote back) and
// hands the rest to lookForLeader(), which runs on the peer's main thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "corral/consensus.h"
#include "corral/host.h"
#include "election_connections.h"
#include "membership.h"
#include "election_messages.h"
#include "zab_settings.h"

namespace corral::plugins::zab {

struct Vote {
  int64_t id = 0;
  sdk::Zxid zxid = 0;
  int64_t election_epoch = 0;
  int64_t peer_epoch = 0;
  ServerState state = ServerState::kLooking;
  int32_t version = kNotificationVersion;
};

// Vote.equals: all four numbers while either side is looking; otherwise (leader, peer epoch),
// or the leader alone when one side predates versioned notifications.
bool sameVote(const Vote& a, const Vote& b);

class FastLeaderElection {
 public:
  struct Self {
    std::function<sdk::Zxid()> last_logged_zxid;
    std::function<int64_t()> current_epoch;
    // A notification carried a newer config while we look (FastLeaderElection's receiver
    // calls processReconfig): true when it is now in force and changes the members.
    std::function<bool(ConfigPtr)> adopt_config;
  };
  FastLeaderElection(Membership& membership, const ZabSettings& settings, ElectionConnections& connections,
                     sdk::Logger& log, Self self);
  ~FastLeaderElection();

  void start();
  void stop();

  // One election: the vote decided (our state is then LEADING, FOLLOWING or OBSERVING), or
  // nullopt once stopped.
  std::optional<Vote> lookForLeader();
  // Back to looking (the role we had ended).
  void becomeLooking();
  // A reconfig designated `leader` (QuorumPeer.updateVote): our vote and state become that
  // without an election; returns the vote to act on.
  Vote adoptLeader(int64_t leader, ServerState state);
  // Once the leader established its epoch, the vote we report carries it (as 3.8 does).
  void setPeerEpoch(int64_t epoch);

  ServerState state() const;
  Vote currentVote() const;
  int64_t round() const;

 private:
  struct Received {
    int64_t sid;
    Notification n;
  };
  void receiveLoop();
  void sendNotifications();
  void sendVote(int64_t sid, const Vote& vote, ServerState state, int64_t round);
  bool isVoter(int64_t sid) const;  // a voter of the current or the last seen config
  bool participant() const;
  bool hasQuorum(const std::map<int64_t, Vote>& votes, const Vote& target) const;
  bool checkLeader(const std::map<int64_t, Vote>& votes, int64_t leader, int64_t round) const;
  void updateProposal(int64_t leader, sdk::Zxid zxid, int64_t epoch);
  std::optional<Received> take(std::chrono::milliseconds timeout);
  void putBack(Received received);
  Vote decide(int64_t leader, sdk::Zxid zxid, int64_t round, int64_t epoch);
  int64_t initId() const;
  sdk::Zxid initZxid() const;
  int64_t initEpoch() const;

  Membership& membership_;
  const ZabSettings& settings_;
  ElectionConnections& connections_;
  sdk::Logger& log_;
  Self self_;
  std::atomic<bool> restart_{false};  // the members changed: start the election over

  mutable std::mutex mutex_;
  ServerState state_ = ServerState::kLooking;
  Vote current_vote_;
  int64_t logical_clock_ = 0;
  int64_t proposed_leader_ = 0;
  sdk::Zxid proposed_zxid_ = 0;
  int64_t proposed_epoch_ = 0;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Received> queue_;
  std::atomic<bool> stopping_{false};
  std::thread receiver_;
};

}  // namespace corral::plugins::zab
