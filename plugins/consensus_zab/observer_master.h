// ObserverMaster: a follower serving observers on observerMasterPort (ZooKeeper's
// ObserverMaster), so that the leader's fan-out does not grow with a read tier. Observers
// register and sync here exactly as with a leader (OBSERVERINFO, LEADERINFO with our current
// epoch, ACKEPOCH, DIFF/TRUNC/SNAP from our own committed window, log and tree, NEWLEADER,
// UPTODATE); then every txn this follower commits reaches them as INFORM, and they are pinged
// every tickTime/2. What they send goes up through the follower's own leader connection:
// REQUESTs (sync included, whose SYNC answer comes back to them), REVALIDATEs (answered to
// them), and their session touches, carried in the follower's next PING reply.
//
// Lives for one follower term: started once the follower is up to date, stopped when the
// term ends, which closes every observer connection (the observers look for a master again).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "learner_master.h"
#include "net.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

class Follower;

class ObserverMaster final : public LearnerMaster, public std::enable_shared_from_this<ObserverMaster> {
 public:
  // `epoch`: the follower's current epoch; `last_committed`: what it has delivered so far
  // (every later txn must come through committed()).
  ObserverMaster(ZabPeer& peer, Follower& follower, int64_t epoch, sdk::Zxid last_committed);
  ~ObserverMaster() override;

  // Listens on this member's quorum address at observerMasterPort.
  sdk::Status start();
  // Closes the port and every observer connection; waits for their threads.
  void stop();

  // The follower's commit stream, in zxid order (called under the follower's lock).
  void committed(sdk::Zxid zxid, const PacketBytes& entry, std::optional<int64_t> designated_leader = std::nullopt);
  // Session touches the observers reported since the last call.
  std::vector<sdk::SessionTouch> takeTouches();
  void forEachHandler(const std::function<void(LearnerHandler&)>& visit);

  // ---- LearnerMaster ----
  ZabPeer& peer() override { return peer_; }
  bool running() const override { return !ended_.load(); }
  const char* role() const override { return "observer master"; }
  sdk::Status admit(PacketType hello, int64_t sid, const sdk::EnsembleMember* member) override;
  sdk::Result<int64_t> getEpochToPropose(int64_t sid, int64_t last_accepted_epoch) override;
  sdk::Status waitForEpochAck(int64_t sid, const StateSummary& summary) override;
  std::optional<sdk::Zxid> startSync(LearnerHandler& handler, sdk::Zxid learner_last) override;
  sdk::Status waitForNewLeaderAck(int64_t) override { return sdk::Status::ok(); }
  bool waitForStartup() override { return running(); }
  void processAck(LearnerHandler& handler, sdk::Zxid zxid) override;
  void processTouches(std::vector<sdk::SessionTouch> touches) override;
  void processRevalidate(LearnerHandler& handler, sdk::SessionId id, int32_t timeout_ms) override;
  sdk::Status processRequest(LearnerHandler& handler, const QuorumPacket& packet) override;
  void handlerEnded(LearnerHandler& handler) override;

 private:
  void pingLoop();

  ZabPeer& peer_;
  Follower& follower_;
  const int64_t epoch_;
  Listener listener_;
  std::thread acceptor_;
  std::thread pinger_;
  std::atomic<bool> ended_{false};

  std::mutex mutex_;
  std::condition_variable cv_;
  std::list<std::shared_ptr<LearnerHandler>> handlers_;
  // Observers synced or syncing, and the zxid their sync covers: later txns go to them.
  std::map<LearnerHandler*, sdk::Zxid> forwarding_;
  sdk::Zxid last_committed_;
  std::unordered_map<sdk::SessionId, int32_t> touches_;
};

}  // namespace corral::plugins::zab
