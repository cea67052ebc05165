// Whether the disks under the database and its WAL have room for writes. Below
// `rocksdb.minFreeDiskMb` free (or 10% of a smaller filesystem), or after a write failed for
// lack of space, writes are refused (RocksdbStorage::writable) until space returns: clients get
// an error instead of a server that stops, and RocksDB keeps room to flush what it holds.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::plugins::rocks {

class DiskGuard {
 public:
  DiskGuard(std::vector<std::filesystem::path> dirs, int64_t reserve_mb, sdk::Logger& logger)
      : dirs_(std::move(dirs)), reserve_bytes_(reserve_mb << 20), logger_(logger) {}

  // Reads the free space again (statvfs) unless it did within the last 100 ms.
  void check();
  // A write failed for lack of space (or RocksDB will not write yet): refused until
  // writeSucceeded(), whatever statvfs says meanwhile (RocksDB may need more room than the
  // reserve to recover, e.g. a compaction's headroom).
  void markFull(const std::string& why);
  void writeSucceeded();
  sdk::Status writable() const;
  bool full() const { return full_.load(std::memory_order_acquire); }
  // Below half the reserve: what was already accepted has had its room (a follower's leader
  // keeps sending txns); further log writes wait rather than meet ENOSPC inside RocksDB.
  bool critical() const { return critical_.load(std::memory_order_acquire); }

 private:
  void set(bool full, const std::string& why);
  std::vector<std::filesystem::path> dirs_;
  int64_t reserve_bytes_;
  sdk::Logger& logger_;
  std::atomic<bool> full_{false};
  std::atomic<bool> critical_{false};
  std::atomic<bool> failed_write_{false};
  mutable std::mutex mutex_;
  std::string reason_;
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace corral::plugins::rocks
