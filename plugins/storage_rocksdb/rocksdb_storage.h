// storage.rocksdb: the data tree in RocksDB behind the sdk::Storage interface. Restart opens
// the database instead of replaying a log; the block cache (rocksdb.cacheSizeMb) bounds memory
// whatever the tree's size. The replication seams (DIFF, TRUNC, SNAP) speak ZooKeeper's formats,
// so a rocksdb member leads and follows memlog and Apache ZooKeeper members.
//
// One job per source file:
// - rocksdb_storage.cc: life cycle, reads and stats.
// - rocksdb_apply.cc: committed txns into write batches (ZooKeeper's processTxn rules through
//   TreeOps), each with the txn's undo record, handed to the apply writer (apply_writer.h).
// - rocksdb_log.cc: group commit of the txn log (the `log` column family, one WAL sync per
//   batch), readLog, truncateLog (undo records), log and undo retention.
// - rocksdb_snapshots.cc: snapshot streams out (a RocksDB snapshot: consistent, no tree copy)
//   and in (bulk load).
// - rocksdb_recovery.cc: start-up: meta, sessions, ACLs, the log tail after the applied zxid,
//   and the first-start import of a ZooKeeper/memlog data dir.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "acl_table.h"
#include "apply_writer.h"
#include "disk_guard.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "encoding.h"
#include "node_cache.h"
#include "recent_zxids.h"
#include "rocks_metrics.h"
#include "rocks_store.h"
#include "settings.h"

namespace corral::plugins::rocks {

class BulkLoader;

class RocksdbStorage final : public sdk::Storage {
 public:
  RocksdbStorage(sdk::Host& host, RocksSettings settings);
  ~RocksdbStorage() override;

  sdk::Status start() noexcept override;
  void stop() noexcept override;

  sdk::Code read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept override;
  int64_t countDescendants(std::string_view path) const noexcept override;
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) const override;
  std::vector<sdk::ReapCandidate> reapCandidates() const override;
  sdk::TreeStats stats() const noexcept override;
  sdk::Status apply(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) noexcept override;
  void append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept override;
  sdk::Status recover(std::vector<sdk::RecoveredSession>& sessions) noexcept override;
  std::vector<sdk::RecoveredSession> sessions() const override;
  sdk::Zxid lastLoggedZxid() const noexcept override { return last_logged_.load(); }
  sdk::Status readLog(sdk::Zxid after_zxid, const std::function<bool(const sdk::TxnEntry&)>& visit) noexcept override;
  sdk::Status truncateLog(sdk::Zxid zxid) noexcept override;
  sdk::Result<sdk::Zxid> writeSnapshot(const sdk::SnapshotSink& sink) noexcept override;
  sdk::Status loadSnapshot(sdk::Zxid zxid, const sdk::SnapshotSource& source) noexcept override;
  sdk::Status setConfigNode(std::string_view text, sdk::Zxid version) noexcept override;
  sdk::Status writable() const noexcept override;

  const RocksSettings& settings() const { return settings_; }
  RocksStore* store() { return store_.get(); }

 private:
  struct Pending {
    std::vector<std::pair<sdk::Zxid, std::string>> records;  // zxid -> encoded txn
    std::function<void(sdk::Status)> done;
  };

  // apply
  sdk::Status applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes);
  // writes the staged txn, its undo record and the applied zxid as one batch
  sdk::Status commitStaged(class StagedWrites& staged, sdk::Zxid zxid, const TreeCounters& before,
                           const TreeCounters& after, bool with_undo);
  // recovery
  sdk::Status loadState();
  sdk::Status replayLogTail();
  sdk::Status importDataDir(bool& imported);
  sdk::Status freshTree();
  // writer
  void writerLoop();
  // `no_space`: the write failed for lack of disk space (the batch can be written again later).
  sdk::Status writeBatch(std::vector<Pending>& batch, bool& no_space);
  // Waits for space and RocksDB's recovery, then writes `batch`; false when stopping first.
  bool writeWhenSpaceReturns(std::vector<Pending>& batch, sdk::Status& status);
  // Writes a batch of applied txns (the apply writer's thread); a full disk is waited out
  // (rocksdb.minFreeDiskMb makes it rare) unless the server stops.
  rocksdb::Status writeApplied(rocksdb::WriteBatch& batch);
  void afterAppliedWrite(int64_t txns);
  // DB::Write that waits out write stalls in small steps and gives up once the server stops.
  rocksdb::Status writeWaitingOutStalls(rocksdb::WriteOptions options, rocksdb::WriteBatch& batch);
  // Everything applied is in the database (before a scan of key ranges, a TRUNC, a load).
  sdk::Status drainApplied() const;
  // A listing read while the apply writer is behind: its pending creates and deletes of the
  // children under `prefix` (the listing's key prefix) applied to `children`.
  void mergePendingChildren(const std::string& prefix, std::vector<std::string>& children) const;
  static constexpr std::chrono::milliseconds kListingDrainWait{200};
  void trimLog();
  // snapshots
  sdk::Status loadSnapshotLocked(sdk::Zxid zxid, const sdk::SnapshotSource& source);
  sdk::Status wipeState();
  // `log_base`: the log (if the loader wrote one) continues from there; else `zxid`.
  sdk::Status finishLoad(BulkLoader& loader, sdk::Zxid zxid, sdk::Zxid log_base);
  // log access
  sdk::Status holdsLogEntry(sdk::Zxid zxid, bool& held);

  sdk::Host& host_;
  RocksSettings settings_;
  std::unique_ptr<RocksStore> store_;
  std::unique_ptr<DiskGuard> disk_;
  mutable NodeCache node_cache_;  // filled by readers too
  bool created_ = false;
  AclTable acls_;
  RocksMetrics metrics_;

  std::atomic<sdk::Zxid> last_applied_{0};
  std::atomic<sdk::Zxid> last_logged_{0};
  std::atomic<sdk::Zxid> log_base_{0};  // readLog(log_base_) needs no record of it
  std::atomic<sdk::Zxid> undo_floor_{0};  // txns up to it can no longer be undone
  std::atomic<sdk::Zxid> last_snapshot_zxid_{0};
  std::atomic<int64_t> last_snapshot_time_ms_{0};

  // Held by apply for a whole txn, and by truncate and snapshot loads.
  mutable std::mutex apply_mutex_;
  TreeCounters counters_;  // guarded by apply_mutex_; copied to the atomics below for stats()
  std::atomic<int64_t> node_count_{0}, ephemeral_count_{0}, data_size_{0};
  mutable std::mutex sessions_mutex_;
  std::map<sdk::SessionId, int32_t> sessions_;

  // ---- writer (group commit) ----
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_;
  bool writer_stopping_ = false;
  sdk::Status failed_;  // sticky after a failed write or sync
  std::thread writer_;
  // Entries in the log and undo column families (retention counts txns, not zxids), kept in
  // meta keys: the log's by the writer thread, the undo records' by the apply strand.
  std::atomic<int64_t> log_entries_{0};
  std::atomic<int64_t> undo_entries_{0};
  RecentZxids log_zxids_, undo_zxids_;  // where retention cuts, without a scan
  int64_t since_log_trim_ = 0;   // writer thread
  int64_t since_undo_trim_ = 0;  // apply writer thread
  int64_t since_flush_ = 0;      // apply writer thread
  std::unique_ptr<ApplyWriter> apply_writer_;
  std::atomic<bool> stopping_{false};
  static constexpr int64_t kFlushEveryTxns = 100000;
  // The applied zxid of the state in the database's files (what a crash would leave).
  sdk::Result<sdk::Zxid> persistedApplied();
  // Drops the oldest entries of `cf` beyond `retain` (with its count in meta); the zxid of the
  // last dropped one, or 0.
  sdk::Result<sdk::Zxid> trimColumn(Cf cf, int64_t retain, std::atomic<int64_t>& entries);
  void trimUndo();
  // The cut of a trim found by walking the column family (when RecentZxids cannot tell).
  sdk::Result<RecentZxids::Cut> scanForCut(Cf cf, int64_t excess, sdk::Zxid limit);
  sdk::Status readCounts();
  sdk::Status reloadAfterRewind();
};

}  // namespace corral::plugins::rocks
