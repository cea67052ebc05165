// One term as leader (ZooKeeper's Leader): accept learners on the quorum port, agree on a new
// epoch with a quorum (getEpochToPropose, waitForEpochAck), sync each learner and wait for a
// quorum to ack NEWLEADER, then broadcast: every txn the kernel's sequencer proposes is logged
// here and sent to the followers, committed once a quorum of voters has it durable, strictly in
// zxid order, and sent as COMMIT (INFORM to observers). Every tickTime/2 the learners are
// pinged; without a quorum of voters heard from within syncLimit the term ends (quorum loss:
// the kernel closes client connections when the role changes).
//
// lead() runs on the peer's main thread; everything else may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "corral/consensus.h"
#include "committed_txn.h"
#include "fast_leader_election.h"
#include "learner_master.h"
#include "membership.h"
#include "net.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

class ZabPeer;
class LearnerHandler;

class Leader final : public LearnerMaster, public std::enable_shared_from_this<Leader> {
 public:
  Leader(ZabPeer& peer, const Vote& vote);
  ~Leader();

  void lead();
  void shutdown(const std::string& reason);
  void propose(sdk::TxnEntry txn);
  std::vector<std::pair<std::string, std::string>> reportFields() const;
  // srvr's "Proposal sizes last/min/max: L/MIN/MAX" line (-1 before the first proposal).
  std::string proposalSizesLine() const;
  // PrepRequestProcessor's reconfig checks against this term's learners; the new config text.
  sdk::Result<std::string> prepareReconfig(const sdk::ReconfigRequest& request, sdk::Zxid zxid);

  // ---- LearnerMaster (for learner handlers) ----
  ZabPeer& peer() override { return peer_; }
  bool running() const override { return !ended_.load(); }
  const char* role() const override { return "leader"; }
  sdk::Status admit(PacketType hello, int64_t sid, const sdk::EnsembleMember* member) override;
  sdk::Result<int64_t> getEpochToPropose(int64_t sid, int64_t last_accepted_epoch) override;
  sdk::Status waitForEpochAck(int64_t sid, const StateSummary& summary) override;
  std::optional<sdk::Zxid> startSync(LearnerHandler& handler, sdk::Zxid learner_last) override;
  sdk::Status waitForNewLeaderAck(int64_t sid) override;
  bool waitForStartup() override;
  void processAck(LearnerHandler& handler, sdk::Zxid zxid) override;
  void processTouches(std::vector<sdk::SessionTouch> touches) override;
  void processRevalidate(LearnerHandler& handler, sdk::SessionId id, int32_t timeout_ms) override;
  sdk::Status processRequest(LearnerHandler& handler, const QuorumPacket& packet) override;
  void handlerEnded(LearnerHandler& handler) override;

  // The learners connected now, for the `observers` view and orst.
  void forEachHandler(const std::function<void(LearnerHandler&)>& visit);
  int64_t epoch() const { return epoch_; }

 private:
  struct Outstanding {
    sdk::TxnEntry txn;
    PacketBytes entry;
    std::set<int64_t> acks;          // participants that logged it (voters or not)
    std::vector<ConfigPtr> configs;  // each must have a quorum in `acks`
  };

  void commitReady();  // mutex_ held
  void onDurable(sdk::Zxid zxid, const sdk::Status& status);
  void processAck(int64_t sid, sdk::Zxid zxid);
  void processSync(LearnerHandler& handler);
  void pingAndCheck(bool check);
  void stopHandlers();
  bool isQuorumSynced(const QuorumConfig& config) const;  // mutex_ held
  int64_t designatedLeader(const Outstanding& reconfig, sdk::Zxid zxid) const;  // mutex_ held
  void activateNewLeaderConfig();
  std::string sidList(const std::set<int64_t>& sids) const;

  ZabPeer& peer_;
  const Vote vote_;
  Listener listener_;
  std::thread acceptor_;
  std::atomic<bool> ended_{false};

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::list<std::shared_ptr<LearnerHandler>> handlers_;
  std::set<LearnerHandler*> forwarding_;  // synced or syncing, receive every txn
  std::string end_reason_;
  // discovery
  int64_t epoch_ = -1;
  bool waiting_for_new_epoch_ = true;
  std::set<int64_t> connecting_;
  bool election_finished_ = false;
  std::set<int64_t> electing_;
  StateSummary my_summary_;
  std::set<int64_t> new_leader_acks_;
  bool quorum_formed_ = false;
  bool established_ = false;
  // broadcast
  std::map<sdk::Zxid, Outstanding> outstanding_;
  sdk::Zxid last_committed_ = 0;
  // False once a committed reconfig designated another leader: nothing more commits here.
  bool allowed_to_commit_ = true;
  sdk::Zxid last_proposed_ = 0;
  std::map<sdk::Zxid, std::vector<LearnerHandler*>> pending_syncs_;
  int appends_in_flight_ = 0;
  int64_t last_proposal_size_ = -1;
  int64_t min_proposal_size_ = -1;
  int64_t max_proposal_size_ = -1;
  std::chrono::steady_clock::time_point established_at_{};
  sdk::Status append_failure_;
};

}  // namespace corral::plugins::zab
