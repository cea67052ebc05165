#include "kernel/session/session_table.h"

#include <algorithm>

namespace corral::kernel::session {

void SessionTable::schedule(SessionEntry& entry, int64_t expires_at) {
  if (entry.expires_at == expires_at) return;
  if (entry.expires_at != 0) {
    auto bucket = buckets_.find(entry.expires_at);
    if (bucket != buckets_.end()) {
      bucket->second.erase(entry.id);
      if (bucket->second.empty()) buckets_.erase(bucket);
    }
  }
  entry.expires_at = expires_at;
  buckets_[expires_at].insert(entry.id);
}

void SessionTable::add(sdk::SessionId id, int32_t timeout_ms, int64_t now_ms) {
  auto& entry = sessions_[id];
  entry.id = id;
  entry.timeout_ms = timeout_ms;
  entry.closing = false;
  schedule(entry, roundToTick(now_ms + timeout_ms));
}

void SessionTable::remove(sdk::SessionId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  auto bucket = buckets_.find(it->second.expires_at);
  if (bucket != buckets_.end()) {
    bucket->second.erase(id);
    if (bucket->second.empty()) buckets_.erase(bucket);
  }
  sessions_.erase(it);
}

SessionEntry* SessionTable::find(sdk::SessionId id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

const SessionEntry* SessionTable::find(sdk::SessionId id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second;
}

bool SessionTable::touch(sdk::SessionId id, int64_t now_ms, int32_t new_timeout_ms) {
  auto* entry = find(id);
  if (entry == nullptr || entry->closing) return false;
  if (new_timeout_ms > 0) entry->timeout_ms = new_timeout_ms;
  schedule(*entry, roundToTick(now_ms + entry->timeout_ms));
  return true;
}

std::vector<sdk::SessionId> SessionTable::expired(int64_t now_ms) {
  std::vector<sdk::SessionId> result;
  while (!buckets_.empty() && buckets_.begin()->first <= now_ms) {
    for (auto id : buckets_.begin()->second) {
      auto* entry = find(id);
      if (entry != nullptr) {
        entry->expires_at = 0;
        if (!entry->closing) result.push_back(id);
      }
    }
    buckets_.erase(buckets_.begin());
  }
  return result;
}

}  // namespace corral::kernel::session
