// Applied txns into RocksDB, off the apply strand.
//
// The apply strand computes a txn's outcome and its changes (StagedWrites) and hands them here;
// a writer thread puts all txns handed over since its last write into the database as one batch
// (WAL off: the txns are already durable in the log). The strand answers the client at once, so
// the memtable inserts no longer sit between two applies, and many txns share one write.
//
// Until their batch is written, the changes stay in an overlay that every point read consults
// after the node cache and before the database; a read that scans key ranges (a child listing,
// a descendant count, a session's ephemerals) calls drain() first. A crash loses only what the
// log replays anyway: the applied zxid in the database moves with each written batch.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include <rocksdb/write_batch.h>

#include "corral/status.h"
#include "corral/storage.h"
#include "encoding.h"

namespace corral::plugins::rocks {

class ApplyWriter {
 public:
  struct Change {
    Cf cf;
    std::string key;
    std::optional<std::string> value;  // nullopt: deleted
  };
  // Writes one batch (the storage's write, which waits out a full disk).
  using WriteFn = std::function<rocksdb::Status(rocksdb::WriteBatch&)>;
  // Runs on the writer thread after each written batch, with the number of txns it held.
  using AfterWriteFn = std::function<void(int64_t txns)>;
  // The record of the applied zxid (meta key kMetaApplied) of the newest txn in a batch.
  using AppliedRecordFn = std::function<void(rocksdb::WriteBatch&, const std::string& record)>;

  ApplyWriter(WriteFn write, AfterWriteFn after_write, AppliedRecordFn applied_record);
  ~ApplyWriter();
  ApplyWriter(const ApplyWriter&) = delete;
  ApplyWriter& operator=(const ApplyWriter&) = delete;

  void start();
  // Writes everything handed over, then ends the thread.
  void stop();

  // The apply strand: `fill` adds one txn's writes to the open batch (rolled back if it fails)
  // and lists them in `changes` for the overlay; `applied_record` is the txn's applied-zxid
  // record. Waits while too much is pending. Fails once a write failed (the state on disk fell
  // behind what clients were told).
  using FillFn = std::function<sdk::Status(rocksdb::WriteBatch&, std::vector<Change>& changes)>;
  sdk::Status add(const FillFn& fill, sdk::Zxid zxid, std::string applied_record);
  // What pending txns left in (cf, key): nullopt when nothing is pending for it; otherwise the
  // value, itself nullopt when the key was deleted.
  std::optional<std::optional<std::string>> pending(Cf cf, std::string_view key) const;
  // Returns once everything added before the call is in the database (or a write failed).
  sdk::Status drain() const;
  // drain() for at most `limit`: false when the writer is still behind (e.g. a full disk holds
  // its writes), and the caller reads the database and the overlay together instead.
  bool drainFor(std::chrono::milliseconds limit) const;
  // Every pending change of a key in `cf` that starts with `prefix`.
  void visitPending(Cf cf, std::string_view prefix,
                    const std::function<void(std::string_view key, const std::optional<std::string>& value)>& visit) const;
  // Txns handed over and not yet written.
  int64_t pendingTxns() const;
  // The zxid of the newest txn in the database.
  sdk::Zxid writtenZxid() const { return written_zxid_.load(); }

 private:
  void loop();
  static std::string overlayKey(Cf cf, std::string_view key);
  // Waits (with mutex_ held by `lock`) until everything added so far is written, a write
  // failed, the writer stopped, or `limit` passed; true when everything is written.
  static constexpr std::chrono::milliseconds kNoLimit{-1};
  bool waitWritten(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds limit) const;

  WriteFn write_;
  AfterWriteFn after_write_;
  AppliedRecordFn applied_record_;

  mutable std::mutex mutex_;
  mutable std::condition_variable work_cv_;     // the writer waits for txns
  mutable std::condition_variable written_cv_;  // drain() and a full queue wait for writes
  rocksdb::WriteBatch open_;
  std::vector<std::string> open_keys_;  // overlay keys of the open batch
  std::string open_applied_;
  sdk::Zxid open_zxid_ = 0;
  std::atomic<sdk::Zxid> written_zxid_{0};
  int64_t open_txns_ = 0;
  uint64_t added_seq_ = 0;    // txns handed over, ever
  uint64_t written_seq_ = 0;  // txns in the database
  bool stopping_ = false;
  bool running_ = false;
  sdk::Status failed_;
  std::thread thread_;

  struct Pending {
    std::optional<std::string> value;
    uint64_t seq = 0;
  };
  mutable std::mutex overlay_mutex_;
  std::unordered_map<std::string, Pending> overlay_;

  mutable int drain_waiters_ = 0;  // drain() calls waiting: the writer goes at once
  // Bounds what waits for the writer (memory, and the work a crash replays from the log).
  static constexpr int64_t kMaxPendingTxns = 4096;
  // The writer wakes for this many txns, or after kGatherFor, whichever comes first.
  static constexpr int64_t kWakeAfterTxns = 256;
  static constexpr std::chrono::milliseconds kGatherFor{2};
  static constexpr size_t kMaxPendingBytes = 16u << 20;
};

}  // namespace corral::plugins::rocks
