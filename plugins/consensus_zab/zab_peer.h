// consensus.zab: a ZooKeeper 3.8 quorum peer (QuorumPeer). Its main thread loops as
// ZooKeeper's does: look for a leader (fast leader election), then lead or follow until that
// ends, then look again. Leader and Follower each live for one term.
//
// What the terms share lives here: the epoch files, the commit stream to the kernel (strictly
// increasing zxids, exactly once, across terms), the committed-log window a leader serves DIFFs
// from, and the fast-forward that applies logged-but-uncommitted txns when a term ends (as
// ZooKeeper's ZooKeeperServer.shutdown does), so what we report in the next election is what
// our tree holds.
#pragma once

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "corral/consensus.h"
#include "corral/host.h"
#include "committed_txn.h"
#include "epoch_files.h"
#include "election_connections.h"
#include "fast_leader_election.h"
#include "membership.h"
#include "packet_sender.h"
#include "zab_settings.h"

namespace corral::plugins::zab {

class Leader;
class Follower;
class LearnerHandler;

// ZooKeeper's QuorumPeer.ZabState and SyncMode, for zabstate and zk_peer_state.
enum class ZabPhase : int { kElection, kDiscovery, kSynchronization, kBroadcast };
enum class SyncMode : int { kNone, kDiff, kSnap, kTrunc };

class ZabPeer final : public sdk::Consensus {
 public:
  ZabPeer(sdk::Host& host, ZabSettings settings);
  ~ZabPeer() override;

  // sdk::Plugin
  sdk::Status start() noexcept override;
  void stop() noexcept override;

  // sdk::Consensus
  void attach(sdk::Storage& storage, sdk::ConsensusHost& host, const sdk::Ensemble& ensemble) noexcept override;
  void propose(sdk::TxnEntry txn) noexcept override;
  void forward(sdk::ForwardedRequest request) noexcept override;
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) noexcept override;
  sdk::Role role() const noexcept override { return role_.load(); }
  int64_t epoch() const noexcept override { return epoch_.load(); }
  sdk::ConsensusReport report() const noexcept override;
  sdk::Result<std::string> prepareReconfig(const sdk::ReconfigRequest& request, sdk::Zxid zxid) noexcept override;

  // ---- for Leader and Follower ----
  const sdk::Ensemble& ensemble() const { return ensemble_; }
  int64_t myId() const { return ensemble_.my_id; }
  Membership& membership() { return *membership_; }
  const Membership& membership() const { return *membership_; }
  // What the config in force makes us: an observer, or a participant (voting or not).
  bool amObserver() const { return membership_->amObserver(); }
  const ZabSettings& settings() const { return settings_; }
  sdk::Storage& storage() { return *storage_; }
  sdk::ConsensusHost& host() { return *kernel_; }
  sdk::Logger& log() { return log_; }
  sdk::MetricsRegistry& metrics() { return host_.metrics(); }
  EpochFiles& epochs() { return *epochs_; }
  FastLeaderElection& election() { return *election_; }
  bool stopping() const { return stopping_.load(); }
  bool isVoter(int64_t sid) const;
  size_t voterCount() const;
  // A quorum of every config a proposal made now needs (the current one, and the last seen
  // one while a reconfig is pending).
  bool hasAllQuorums(const std::set<int64_t>& sids) const;

  // ---- reconfiguration (QuorumPeer.processReconfig) ----
  // Puts `config` in force when newer (files, /zookeeper/config, election peers). With a
  // designated leader (COMMITANDACTIVATE) the next term goes to it without an election when
  // it is not the leader we have. True when our role or leader changes: the term must end.
  bool processReconfig(ConfigPtr config, std::optional<int64_t> designated_leader);
  // The leader our current term serves (our own sid when leading, -1 when looking).
  int64_t currentLeader() const { return current_leader_.load(); }

  // Hands a committed txn to the kernel unless it already has it; keeps it in the window.
  void deliver(sdk::TxnEntry txn, PacketBytes entry, sdk::ApplyMode mode);
  sdk::Zxid lastDelivered() const;
  // The kernel applies commits asynchronously: waits until the storage applied `zxid`.
  bool waitApplied(sdk::Zxid zxid, int64_t timeout_ms);
  // The committed-log window (the last commitLogCount commits, for DIFF): whether it holds
  // `zxid`, and every txn in it after `after`.
  bool windowHas(sdk::Zxid zxid) const;
  void windowAfter(sdk::Zxid after, std::vector<CommittedTxn>& out) const;
  std::optional<sdk::Zxid> windowFirst() const;
  // The storage's state was replaced (TRUNC, SNAP): the kernel reloads sessions and zxid.
  void stateReplaced(sdk::Zxid zxid);
  void setRole(sdk::Role role, int64_t epoch);
  void setPhase(ZabPhase phase, SyncMode sync = SyncMode::kNone) {
    phase_ = phase;
    sync_mode_ = sync;
  }
  ZabPhase phase() const { return phase_.load(); }
  // "leading - broadcast", "following - synchronization - snap", "looking"
  std::string peerState() const;
  bool leading() const;

  // ---- observers ----
  // The voters but `leader`, as observer masters in this peer's shuffled order, each call
  // starting one further (ZooKeeper's observers shuffle the list once and walk it).
  std::vector<sdk::EnsembleMember> observerMasters(int64_t leader);
  void observerReconnectDelay() const;  // a random part of observer.reconnectDelayMs
  void observerElectionDelay() const;   // a random part of observer.election.DelayMs
  // The observers this member serves now (a leader, or a follower's observer master), for
  // the `observers` view and orst; and the member an observer learns from (-1 otherwise).
  struct ObserverInfo {
    std::string remote_address;
    int64_t sid = 0;
    int64_t established_ms = 0;
    int64_t packets_received = 0;
    int64_t packets_sent = 0;
    int64_t requests = 0;
    sdk::Zxid last_zxid = -1;
    bool synced = false;
  };
  std::vector<ObserverInfo> observers() const;
  void forEachObserverHandler(const std::function<void(LearnerHandler&)>& visit) const;
  void resetObserverStats();
  int64_t learnerMasterId() const;

 private:
  void run();
  std::optional<Vote> nextVote();
  void fastForward();
  bool startMembership();
  void refreshObserverMasters();

  sdk::Host& host_;
  sdk::Logger& log_;
  ZabSettings settings_;
  sdk::Storage* storage_ = nullptr;
  sdk::ConsensusHost* kernel_ = nullptr;
  sdk::Ensemble ensemble_;
  std::unique_ptr<Membership> membership_;
  std::atomic<int64_t> current_leader_{-1};
  std::mutex designated_mutex_;
  std::optional<int64_t> designated_leader_;  // the next term's leader, decided by a reconfig
  std::unique_ptr<EpochFiles> epochs_;
  std::unique_ptr<ElectionConnections> connections_;
  std::unique_ptr<FastLeaderElection> election_;
  std::atomic<sdk::Role> role_{sdk::Role::kLooking};
  std::atomic<int64_t> epoch_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<ZabPhase> phase_{ZabPhase::kElection};
  std::atomic<SyncMode> sync_mode_{SyncMode::kNone};
  std::thread main_;

  mutable std::mutex term_mutex_;
  std::shared_ptr<Leader> leader_;
  std::shared_ptr<Follower> follower_;

  mutable std::mutex observer_masters_mutex_;
  std::vector<int64_t> observer_masters_;  // voter sids, shuffled once per config
  std::atomic<size_t> observer_master_cursor_{0};

  mutable std::mutex deliver_mutex_;
  sdk::Zxid last_delivered_ = 0;
  std::deque<CommittedTxn> window_;
};

}  // namespace corral::plugins::zab
