// TouchTable: sessions active on a learner since its last PING reply, with their timeouts
// (ZooKeeper's LearnerSessionTracker touch table). Written on the pipeline strand, taken by
// the consensus plugin's thread: thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "corral/consensus.h"

namespace corral::kernel::session {

class TouchTable {
 public:
  void touch(sdk::SessionId id, int32_t timeout_ms) {
    std::lock_guard lock(mutex_);
    touched_[id] = timeout_ms;
  }
  void forget(sdk::SessionId id) {
    std::lock_guard lock(mutex_);
    touched_.erase(id);
  }
  // The touches since the previous call; the table is empty afterwards.
  std::vector<sdk::SessionTouch> take() {
    std::unordered_map<sdk::SessionId, int32_t> taken;
    {
      std::lock_guard lock(mutex_);
      taken.swap(touched_);
    }
    std::vector<sdk::SessionTouch> touches;
    touches.reserve(taken.size());
    for (const auto& [id, timeout] : taken) touches.push_back({id, timeout});
    return touches;
  }

 private:
  std::mutex mutex_;
  std::unordered_map<sdk::SessionId, int32_t> touched_;
};

}  // namespace corral::kernel::session
