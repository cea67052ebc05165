// Crash points for the Corral-only safety tests (tests/ensemble/test_failpoints.py): the
// environment variable CORRAL_ZAB_FAILPOINTS="name[@n],..." makes the process kill itself
// (SIGKILL, as kill -9 would) the n-th time (default: first) it passes the named point.
// Unset, a failpoint costs one relaxed atomic load.
//
// Points: follower.logged_before_ack (a proposal is durable, its ACK not sent),
// leader.quorum_before_commit (a quorum has a txn, no COMMIT sent yet),
// leader.logged_before_send (the leader logged a proposal, no follower has it),
// follower.trunc_before_epoch (the log is truncated, currentEpoch not written yet),
// follower.snap_midway (half of a SNAP stream loaded).
#pragma once

namespace corral::plugins::zab {

// Whether this pass is the one that must crash (consumes a hit); the caller then crashes with
// crashAt() once it has done what the point stands for.
bool failpointHit(const char* name) noexcept;
[[noreturn]] void crashAt(const char* name) noexcept;
inline void failpoint(const char* name) noexcept {
  if (failpointHit(name)) crashAt(name);
}

}  // namespace corral::plugins::zab
