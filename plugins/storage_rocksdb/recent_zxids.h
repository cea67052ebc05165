// The zxids of the newest entries of a history column family (log or undo), oldest first, so
// retention can find where to cut without scanning the column family: a scan walks (and
// decompresses) every dropped entry again, on every trim. After a restart the index starts
// empty and covers the entries written since; until the older ones are trimmed (by a scan),
// plan() declines and the caller scans.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "corral/storage.h"

namespace corral::plugins::rocks {

class RecentZxids {
 public:
  struct Cut {
    sdk::Zxid last_dropped = 0;
    int64_t count = 0;
  };

  void push(sdk::Zxid zxid) {
    std::lock_guard lock(mutex_);
    zxids_.push_back(zxid);
  }
  // Drops up to `excess` of the oldest entries, none beyond `limit`; nullopt when the index does
  // not hold all `total` entries the column family has (the caller scans instead).
  std::optional<Cut> plan(int64_t excess, int64_t total, sdk::Zxid limit) const {
    std::lock_guard lock(mutex_);
    if (static_cast<int64_t>(zxids_.size()) != total) return std::nullopt;
    Cut cut;
    for (auto it = zxids_.begin(); it != zxids_.end() && cut.count < excess && *it <= limit; ++it) {
      cut.last_dropped = *it;
      ++cut.count;
    }
    return cut;
  }
  // After a trim (by plan or by scan): the entries up to `zxid` are gone.
  void droppedThrough(sdk::Zxid zxid) {
    std::lock_guard lock(mutex_);
    while (!zxids_.empty() && zxids_.front() <= zxid) zxids_.pop_front();
  }
  // After a TRUNC: the entries after `zxid` are gone.
  void droppedAfter(sdk::Zxid zxid) {
    std::lock_guard lock(mutex_);
    while (!zxids_.empty() && zxids_.back() > zxid) zxids_.pop_back();
  }
  void clear() {
    std::lock_guard lock(mutex_);
    zxids_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::deque<sdk::Zxid> zxids_;
};

}  // namespace corral::plugins::rocks
