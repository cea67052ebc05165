// globalOutstandingLimit: requests submitted to the kernel and not answered yet, over every
// connection of every front end. Like ZooKeeper (ServerCnxn.incrOutstandingAndCheckThrottle),
// front ends count only requests with xid > 0 (pings, auth and setWatches do not), and a
// connection stops reading while the total is over the limit *and* it has requests of its own
// outstanding, so a connection always gets going again when its own replies arrive.
#pragma once

#include <atomic>
#include <cstdint>

namespace corral::kernel::admission {

class OutstandingRequests {
 public:
  explicit OutstandingRequests(int64_t limit) noexcept : limit_(limit) {}

  void add(int64_t n) noexcept { count_.fetch_add(n); }
  void remove(int64_t n) noexcept { count_.fetch_sub(n); }
  int64_t count() const noexcept { return count_.load(); }
  int64_t limit() const noexcept { return limit_; }
  // ZooKeeperServer.shouldThrottle(outstandingCount).
  bool shouldThrottle(int64_t own_outstanding) const noexcept {
    return count_.load() > limit_ && own_outstanding > 0;
  }

 private:
  const int64_t limit_;
  std::atomic<int64_t> count_{0};
};

}  // namespace corral::kernel::admission
