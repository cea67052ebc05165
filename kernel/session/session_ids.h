// Session ids and passwords exactly as ZooKeeper makes them, so a client can move between
// Corral and ZooKeeper servers of one ensemble and any server can check a password.
#pragma once

#include <cstdint>
#include <string>

#include "corral/types.h"

namespace corral::kernel::session {

// The first id a server hands out: server id in the top byte, the low 40 bits of a
// monotonic millisecond clock below it, a 16-bit counter at the bottom
// (SessionTrackerImpl.initializeNextSessionId). Standalone servers use server id 1.
sdk::SessionId initialSessionId(int64_t server_id, int64_t monotonic_ms);

// The 16-byte password of a session: java.util.Random(id ^ 0xB3415C00).nextBytes(16).
std::string sessionPassword(sdk::SessionId id);

// Milliseconds since boot (what Java's System.nanoTime()/1e6 gives on Linux).
int64_t monotonicMs();
// Milliseconds since the epoch (txn header times, connection establishment times).
int64_t wallMs();

}  // namespace corral::kernel::session
