// One term as a learner (ZooKeeper's Learner, Follower and Observer): connect to the elected
// leader's quorum port, register (FOLLOWERINFO/OBSERVERINFO, LEADERINFO, ACKEPOCH), sync (DIFF,
// TRUNC or SNAP, then NEWLEADER and UPTODATE), then log proposals, ack them once durable and
// hand commits to the kernel in zxid order, answer pings with the session touches, and carry
// the kernel's forwarded requests, revalidations and syncs.
//
// Safety order at NEWLEADER (ZOOKEEPER-4643/4646/4685): every synced txn is durable, then
// currentEpoch, then ACK(NEWLEADER); the synced proposals' own ACKs go after UPTODATE and our
// second ACK, the order a 3.8.0 leader expects.
//
// follow() runs on the peer's main thread and returns when the term ends (the leader is gone,
// a protocol error, or stop). Every other method may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <vector>

#include "corral/consensus.h"
#include "corral/metrics.h"
#include "net.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

class ZabPeer;
class ObserverMaster;
class LearnerHandler;

class Follower {
 public:
  Follower(ZabPeer& peer, int64_t leader_sid);
  ~Follower();

  void follow();
  void shutdown();  // any thread: ends follow() soon
  void forward(sdk::ForwardedRequest request);
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done);
  // Ends revalidations still waiting for the leader (after the term, once the kernel knows
  // the role is gone, so that no client is told its session expired).
  void failRevalidations();
  int64_t leaderId() const { return leader_sid_; }
  // The member this learner is connected to: the leader, or (an observer) an observer master.
  int64_t masterId() const { return master_sid_.load(); }
  // Requests of the observers attached to our observer master, passed up unchanged; a sync's
  // SYNC answer goes back to `owner`.
  void relay(const QuorumPacket& packet);
  void relaySync(const QuorumPacket& packet, std::weak_ptr<LearnerHandler> owner);
  std::shared_ptr<ObserverMaster> observerMaster();

 private:
  struct Pending {
    sdk::TxnEntry txn;
    PacketBytes entry;
    bool durable = false;
    bool committed = false;
  };

  // Whose SYNC a SYNC from the leader answers: the kernel's, or an observer's.
  struct SyncOwner {
    bool local = true;
    std::weak_ptr<LearnerHandler> observer;
  };

  sdk::Status connect();
  sdk::Status connectToObserverMaster();
  void startObserverMaster(int64_t epoch);
  void stopObserverMaster();
  void completeSync(const SyncOwner& owner);
  sdk::Result<int64_t> registerWithLeader();
  sdk::Status syncWithLeader(int64_t new_epoch);
  sdk::Status serve();
  sdk::Status receiveSnapshot(sdk::Zxid zxid);
  sdk::Status onTxnPacket(const QuorumPacket& packet);
  sdk::Status onProposal(const QuorumPacket& packet, bool committed);
  sdk::Status onCommit(sdk::Zxid zxid);
  sdk::Status onActivation(const QuorumPacket& packet);
  void onRevalidateReply(const QuorumPacket& packet);
  void onSync();
  void onDurable(sdk::Zxid zxid, const sdk::Status& status);
  void deliverReady();  // mutex_ held
  void releaseHeldAcks();
  bool waitDurable(int64_t timeout_ms);
  void waitAppendsDone();

  ZabPeer& peer_;
  const int64_t leader_sid_;
  const bool observer_;
  const bool logs_;  // false for an observer with syncEnabled=false
  sdk::Counter& proposals_received_;
  sdk::Counter& commits_received_;
  Socket socket_;
  std::unique_ptr<PacketReader> reader_;
  std::unique_ptr<PacketSender> sender_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Pending> pending_;  // logged or being logged, not yet handed to the kernel
  int appends_in_flight_ = 0;
  bool acks_held_ = true;         // until UPTODATE: synced proposals are acked afterwards
  std::vector<sdk::Zxid> held_acks_;
  std::deque<SyncOwner> sync_owners_;  // syncs sent up, oldest first
  std::deque<std::pair<sdk::Zxid, SyncOwner>> deferred_syncs_;  // SYNCs waiting for the commit of this zxid
  std::shared_ptr<ObserverMaster> observer_master_;
  std::map<sdk::Zxid, int64_t> activations_;  // committed reconfigs not yet delivered: their designated leader
  std::atomic<int64_t> master_sid_{-1};
  sdk::ApplyMode mode_ = sdk::ApplyMode::kLive;  // kReplay after a SNAP (fuzzy snapshot)
  sdk::Status append_failure_;
  std::map<sdk::SessionId, std::vector<std::function<void(bool)>>> revalidations_;
  bool shut_down_ = false;
};

}  // namespace corral::plugins::zab
