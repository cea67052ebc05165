#include "disk_guard.h"

#include <sys/statvfs.h>

#include <fmt/format.h>

namespace corral::plugins::rocks {

void DiskGuard::check() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mutex_);
    if (now - checked_ < std::chrono::milliseconds(100)) return;
    checked_ = now;
  }
  std::string short_of;
  bool critical = false;
  for (const auto& dir : dirs_) {
    struct statvfs fs {};
    if (::statvfs(dir.c_str(), &fs) != 0) continue;
    const int64_t total = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
    const int64_t free = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    const int64_t reserve = std::min(reserve_bytes_, total / 10);
    critical = critical || free < reserve / 2;
    if (free < reserve) {
      short_of = fmt::format("{} MiB free on {} (rocksdb.minFreeDiskMb keeps {} MiB free)", free >> 20, dir.string(),
                             reserve >> 20);
      break;
    }
  }
  critical_.store(critical, std::memory_order_release);
  if (failed_write_.load(std::memory_order_acquire)) return;  // until a write goes through
  set(!short_of.empty(), short_of.empty() ? std::string() : "the disk is full: " + short_of);
}

void DiskGuard::markFull(const std::string& why) {
  failed_write_.store(true, std::memory_order_release);
  set(true, "the disk is full: " + why);
}

void DiskGuard::writeSucceeded() {
  if (!failed_write_.exchange(false, std::memory_order_acq_rel)) return;
  {
    std::lock_guard lock(mutex_);
    checked_ = {};  // statvfs again now
  }
  check();
}

void DiskGuard::set(bool full, const std::string& why) {
  const bool was = full_.exchange(full, std::memory_order_acq_rel);
  std::lock_guard lock(mutex_);
  if (full) reason_ = why;
  if (full && !was) logger_.error("{}: refusing writes (reads go on) until space returns", why);
  if (!full && was) logger_.warn("disk space is back: accepting writes again");
}

sdk::Status DiskGuard::writable() const {
  if (!full_.load(std::memory_order_acquire)) return sdk::Status::ok();
  std::lock_guard lock(mutex_);
  return sdk::Status(sdk::Code::kIoError, reason_);
}

}  // namespace corral::plugins::rocks
