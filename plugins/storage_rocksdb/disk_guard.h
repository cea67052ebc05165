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
  // A write failed for lack of space: refused until check() sees the reserve free again.
  void markFull(const std::string& why);
  sdk::Status writable() const;
  bool full() const { return full_.load(std::memory_order_acquire); }

 private:
  void set(bool full, const std::string& why);
  std::vector<std::filesystem::path> dirs_;
  int64_t reserve_bytes_;
  sdk::Logger& logger_;
  std::atomic<bool> full_{false};
  mutable std::mutex mutex_;
  std::string reason_;
  std::chrono::steady_clock::time_point checked_{};
};

}  // namespace corral::plugins::rocks
