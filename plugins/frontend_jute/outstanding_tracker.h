// globalOutstandingLimit: requests submitted to the kernel and not answered yet, over all
// connections. Like ZooKeeper (ServerCnxn.incrOutstandingAndCheckThrottle), only requests with
// xid > 0 count (pings, auth and setWatches do not), and a connection stops reading while the
// total is over the limit *and* it has requests of its own outstanding, so a connection
// always gets going again when its own replies arrive.
#pragma once

#include <atomic>
#include <cstdint>

namespace corral::plugins::jute {

class OutstandingTracker {
 public:
  explicit OutstandingTracker(int64_t limit) noexcept : limit_(limit) {}

  void add(int64_t n = 1) noexcept { count_.fetch_add(n); }
  void remove(int64_t n = 1) noexcept { count_.fetch_sub(n); }
  int64_t count() const noexcept { return count_.load(); }
  bool overLimit() const noexcept { return count_.load() > limit_; }

 private:
  const int64_t limit_;
  std::atomic<int64_t> count_{0};
};

}  // namespace corral::plugins::jute
