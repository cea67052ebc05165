// How a learner master brings a learner up to date (ZooKeeper's LearnerHandler.syncFollower),
// shared by the Leader and a follower's ObserverMaster:
//   - the learner has exactly what we committed: an empty DIFF;
//   - it has more than we committed, in an epoch it may not keep: TRUNC to our last commit;
//   - it is behind and the missing txns are in the committed window, or in the log while they
//     are small next to the tree (snapshotSizeFactor): DIFF with PROPOSAL + COMMIT pairs;
//   - otherwise (or forceSnapshotSync): SNAP.
#pragma once

#include <string>
#include <vector>

#include "committed_txn.h"
#include "corral/types.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {

class ZabPeer;
class LearnerHandler;

struct SyncPlan {
  PacketType kind = PacketType::kSnap;  // kDiff, kTrunc or kSnap
  sdk::Zxid zxid = 0;                   // DIFF and SNAP: our last commit; TRUNC: where to cut
  std::vector<CommittedTxn> txns;       // DIFF: the committed txns after the learner's last
};

// `committed` is the last txn the master committed (and will not send again as a live one).
SyncPlan planSync(ZabPeer& peer, sdk::Zxid learner_last, sdk::Zxid committed);

// Queues the plan on the handler's sender (for SNAP nothing: the handler streams the snapshot
// itself before its sender starts) and logs it, naming the master's role.
void queueSync(LearnerHandler& handler, const SyncPlan& plan, sdk::Zxid learner_last, const char* role);

}  // namespace corral::plugins::zab
