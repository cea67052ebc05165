// SessionTable: live sessions, their timeouts and when they expire.
//
// Expiry follows ZooKeeper's ExpiryQueue: a session touched at time t with timeout T
// expires at the first tick boundary after t + T (ticks of tickTime ms), and the table is
// scanned once per tick. Not thread-safe: the kernel's pipeline strand owns it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corral/types.h"

namespace corral::kernel::session {

struct SessionEntry {
  sdk::SessionId id = 0;
  int32_t timeout_ms = 0;
  int64_t expires_at = 0;   // tick-rounded monotonic ms
  bool closing = false;     // a closeSession txn is on its way
};

class SessionTable {
 public:
  explicit SessionTable(int32_t tick_ms) : tick_ms_(tick_ms < 1 ? 1 : tick_ms) {}

  // Adds (or replaces) a session and schedules its expiry from `now_ms`.
  void add(sdk::SessionId id, int32_t timeout_ms, int64_t now_ms);
  void remove(sdk::SessionId id);
  SessionEntry* find(sdk::SessionId id);
  const SessionEntry* find(sdk::SessionId id) const;
  // Pushes the expiry out; a new timeout (reattach) replaces the old one when given.
  bool touch(sdk::SessionId id, int64_t now_ms, int32_t new_timeout_ms = 0);
  // Sessions whose expiry is at or before `now_ms` and not already closing.
  std::vector<sdk::SessionId> expired(int64_t now_ms);

  size_t size() const { return sessions_.size(); }
  const std::unordered_map<sdk::SessionId, SessionEntry>& all() const { return sessions_; }
  int32_t tickMs() const { return tick_ms_; }
  // expiry tick (monotonic ms) → sessions due then; for the `dump` command.
  const std::map<int64_t, std::unordered_set<sdk::SessionId>>& buckets() const { return buckets_; }

 private:
  int64_t roundToTick(int64_t time_ms) const { return (time_ms / tick_ms_ + 1) * tick_ms_; }
  void schedule(SessionEntry& entry, int64_t expires_at);

  int32_t tick_ms_;
  std::unordered_map<sdk::SessionId, SessionEntry> sessions_;
  // expiry tick → sessions due then (a session sits in exactly one bucket)
  std::map<int64_t, std::unordered_set<sdk::SessionId>> buckets_;
};

}  // namespace corral::kernel::session
