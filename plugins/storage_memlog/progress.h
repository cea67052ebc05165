// Timing helpers and progress lines for long storage work (loading, replaying, snapshotting).
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "corral/host.h"

namespace corral::plugins::memlog {

using Clock = std::chrono::steady_clock;

inline int64_t millisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

inline double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::string mib(double bytes) {
  if (bytes < 1024.0 * 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

// Progress lines for long work: how much, how fast, how long left. Logs at most every 2 s and
// only once the work has run for 2 s, so small data dirs stay quiet.
class Progress {
 public:
  Progress(sdk::Logger& log, std::string what, std::string unit)
      : log_(log), what_(std::move(what)), unit_(std::move(unit)), start_(Clock::now()),
        next_(start_ + std::chrono::seconds(2)) {}

  void update(double done, double total, std::string_view extra = {}) {
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::seconds(2);
    const double elapsed = secondsSince(start_);
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const double left = rate > 0 && total > done ? (total - done) / rate : 0;
    if (unit_ == "bytes") {
      log_.info("{}: {:.0f}% ({} of {}, {}/s){}, about {:.0f} s left", what_,
                total > 0 ? 100.0 * done / total : 100.0, mib(done), mib(total), mib(rate),
                extra, left);
    } else {
      log_.info("{}: {:.0f}% ({:.0f} of ~{:.0f} {}, {:.0f} {}/s){}, about {:.0f} s left", what_,
                total > 0 ? std::min(100.0, 100.0 * done / total) : 100.0, done, total, unit_,
                rate, unit_, extra, left);
    }
  }
  double elapsed() const { return secondsSince(start_); }

 private:
  sdk::Logger& log_;
  std::string what_;
  std::string unit_;
  Clock::time_point start_;
  Clock::time_point next_;
};

}  // namespace corral::plugins::memlog
