// LearnerMaster: what a LearnerHandler serves a learner on behalf of (ZooKeeper's
// LearnerMaster). The Leader serves followers and observers on the quorum port; a follower's
// ObserverMaster serves observers on observerMasterPort with the same handshake and sync, so
// that the leader's fan-out does not grow with a read tier.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "corral/consensus.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {

class ZabPeer;
class LearnerHandler;

// (currentEpoch, last zxid): who is more recent, as ZooKeeper's StateSummary compares them.
struct StateSummary {
  int64_t current_epoch = 0;
  sdk::Zxid last_zxid = 0;
  bool moreRecentThan(const StateSummary& other) const {
    return current_epoch > other.current_epoch ||
           (current_epoch == other.current_epoch && last_zxid > other.last_zxid);
  }
};

class LearnerMaster {
 public:
  virtual ~LearnerMaster() = default;

  virtual ZabPeer& peer() = 0;
  virtual bool running() const = 0;
  // "leader" or "observer master", for log lines.
  virtual const char* role() const = 0;
  // Whether sid (a configured member, not us) may register with this hello packet type
  // (FOLLOWERINFO or OBSERVERINFO). A refusal is logged and the connection closed.
  virtual sdk::Status admit(PacketType hello, int64_t sid, const sdk::EnsembleMember* member) = 0;

  // The handshake, in order (ZooKeeper's names).
  virtual sdk::Result<int64_t> getEpochToPropose(int64_t sid, int64_t last_accepted_epoch) = 0;
  virtual sdk::Status waitForEpochAck(int64_t sid, const StateSummary& summary) = 0;
  // Chooses DIFF / TRUNC / SNAP for a learner at `learner_last`, queues what follows it (and
  // NEWLEADER) on the handler's sender and makes it receive every later txn, with nothing
  // falling between. Returns the SNAP zxid when a snapshot must be streamed first.
  virtual std::optional<sdk::Zxid> startSync(LearnerHandler& handler, sdk::Zxid learner_last) = 0;
  virtual sdk::Status waitForNewLeaderAck(int64_t sid) = 0;
  virtual bool waitForStartup() = 0;

  // While broadcasting: what the learner sends.
  virtual void processAck(LearnerHandler& handler, sdk::Zxid zxid) = 0;
  virtual void processTouches(std::vector<sdk::SessionTouch> touches) = 0;
  virtual void processRevalidate(LearnerHandler& handler, sdk::SessionId id, int32_t timeout_ms) = 0;
  // A forwarded REQUEST (sync included), as it came off the wire.
  virtual sdk::Status processRequest(LearnerHandler& handler, const QuorumPacket& packet) = 0;
  virtual void handlerEnded(LearnerHandler& handler) = 0;
};

}  // namespace corral::plugins::zab
