// storage.memlog: the data tree in memory behind the sdk::Storage interface, made durable in
// ZooKeeper 3.8's own on-disk formats (disk-formats.md), so a dataDir moves between Apache
// ZooKeeper and Corral in both directions.
//
// apply() translates each txn into DataTree mutations with ZooKeeper's DataTree.processTxn
// rules (a multi that carries an error txn changes nothing and reports every op as an
// error: 0 before the failing op, its code, then -2).
//
// Durability (when a dataDir is configured):
// - append() frames the txns as log records on the caller's thread and queues them; ONE writer
//   thread takes everything queued (up to maxBatchSize txns), writes it with one write() into
//   <dataLogDir>/version-2/log.<zxid>, fdatasyncs once (unless forceSync=no) and only then runs
//   the `done` callbacks, in append order (group commit). A failed write or fsync fails that
//   batch and every later append (the kernel then stops).
// - Snapshot trigger (SyncRequestProcessor.shouldSnapshot): after snapCount/2 + randRoll txns or
//   snapSizeLimitInKb/2 + randSize log bytes since the last roll, the writer rolls the log (the
//   next txn opens a new file) and wakes the snapshot thread (skipped, with a warning, while a
//   snapshot is still being written).
// - The snapshot thread copies the tree into memory under the apply lock (sessions, ACL map and
//   nodes of exactly the last applied zxid Z, so the image is consistent rather than fuzzy), then
//   checksums, compresses and writes snapshot.<Z> off every lock, fsyncs and renames it into
//   place. It also runs the autopurge task every autopurge.purgeInterval hours.
// - recover(): newest valid snapshot (up to 100 tried), then every txn after it from the logs
//   (FileTxnSnapLog.restore), with ZooKeeper's replay tolerance (NoNode/NodeExists ignored), a
//   partial last record dropped (and its header zeroed, with a warning), a CRC error or a zxid
//   gap an error naming file and offset. Then a snapshot of the result, as a standalone
//   ZooKeeper takes at start.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "corral/host.h"
#include "corral/storage.h"
#include "data_tree.h"
#include "corral/formats/checksum.h"
#include "corral/formats/compression.h"
#include "corral/formats/data_files.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/txn_log.h"
#include "purge.h"
#include "storage_metrics.h"
#include "txn_log_file.h"

namespace corral::plugins::memlog {

struct DurabilitySettings {
  bool durable = false;                  // false: memory only (no dataDir)
  std::filesystem::path data_dir;        // dataDir (snapshots in version-2/)
  std::filesystem::path log_dir;         // dataLogDir (logs in version-2/)
  int64_t snap_count = 100000;           // snapCount
  int64_t snap_size_limit_kb = 4194304;  // snapSizeLimitInKb (<= 0: off)
  int64_t txn_log_size_limit_kb = -1;    // txnLogSizeLimitInKb (<= 0: off)
  int64_t prealloc_kb = 65536;           // preAllocSize
  bool force_sync = true;                // forceSync
  int64_t snap_retain_count = 3;         // autopurge.snapRetainCount (>= 3)
  int64_t purge_interval_hours = 0;      // autopurge.purgeInterval (0: off)
  formats::Compression compression = formats::Compression::kNone;  // snapshot.compression.method
  bool digest_enabled = true;            // digest.enabled
  bool trust_empty_snapshot = false;     // snapshot.trust.empty
  bool autocreate = true;                // datadir.autocreate
  int64_t max_batch = 1000;              // maxBatchSize
  int64_t fsync_warn_ms = 1000;          // fsync.warningthresholdms

  static sdk::Result<DurabilitySettings> fromConfig(const sdk::PluginConfig& config);
  std::filesystem::path snapDir() const { return data_dir / "version-2"; }
  std::filesystem::path logDir() const { return log_dir / "version-2"; }
};

// What the last recover() did (tests, logs).
struct RecoveryReport {
  bool snapshot_loaded = false;
  std::filesystem::path snapshot;
  sdk::Zxid snapshot_zxid = 0;
  sdk::Zxid last_zxid = 0;
  int64_t replayed = 0;
  int64_t log_files = 0;
  int64_t digest_checks = 0;
  int64_t digest_mismatches = 0;
  int64_t partial_records = 0;
  int64_t snapshot_load_ms = 0;  // finding and loading the snapshot
  int64_t replay_ms = 0;         // replaying the txn logs after it
};

class MemlogStorage final : public sdk::Storage {
 public:
  explicit MemlogStorage(sdk::Host& host, DurabilitySettings settings = {});
  ~MemlogStorage() override;

  sdk::Status start() noexcept override;
  void stop() noexcept override;

  bool read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept override;
  int64_t countDescendants(std::string_view path) const noexcept override;
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) const override;
  std::vector<sdk::ReapCandidate> reapCandidates() const override;
  sdk::TreeStats stats() const noexcept override;
  sdk::Status apply(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes) noexcept override;
  void append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept override;
  sdk::Status recover(std::vector<sdk::RecoveredSession>& sessions) noexcept override;

  DataTree& tree() { return *tree_; }
  // Takes a snapshot now, on the calling thread (tests, the startup snapshot).
  sdk::Result<std::filesystem::path> snapshotNow();
  // PurgeTxnLog with `retain` snapshots (autopurge and the "purge" command).
  sdk::Result<PurgeResult> purgeNow(int64_t retain);
  const DurabilitySettings& settings() const { return settings_; }
  const RecoveryReport& lastRecovery() const { return report_; }

 private:
  struct Pending {
    std::string records;  // framed log records
    sdk::Zxid first_zxid = 0;
    int64_t count = 0;
    std::function<void(sdk::Status)> done;
    std::chrono::steady_clock::time_point queued_at;
  };

  sdk::Status applyLocked(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes, bool replay);
  sdk::Status applyOne(sdk::OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                       sdk::OpOutcome& outcome);
  sdk::Status recoverLocked(std::vector<sdk::RecoveredSession>& sessions);
  sdk::Status loadSnapshot(const formats::DataFile& file, formats::SnapshotInfo& info);
  void registerCommands();

  void awaitWorkBriefly();
  void writerLoop();
  sdk::Status writeBatch(std::vector<Pending>& batch);
  sdk::Status rollTo(sdk::Zxid first_zxid);
  bool shouldSnapshot() const;
  void resetSnapshotStats();

  void snapshotLoop();

  sdk::Host& host_;
  DurabilitySettings settings_;
  std::unique_ptr<DataTree> tree_;
  std::atomic<sdk::Zxid> last_applied_{0};
  // The newest snapshot on disk: written by us, or loaded at recovery (its file's mtime), as
  // ZooKeeper's FileSnap.getLastSnapshotInfo reports it (lsnp / last_snapshot).
  std::atomic<sdk::Zxid> last_snapshot_zxid_{0};
  std::atomic<int64_t> last_snapshot_time_ms_{0};

  // apply() and the snapshot copy exclude each other, so a snapshot holds whole txns and the
  // session table matches the tree.
  std::mutex apply_mutex_;
  std::map<sdk::SessionId, int32_t> sessions_;

  // ---- writer (group commit) ----
  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::atomic<size_t> queue_size_hint_{0};  // queue_.size(), readable without queue_mutex_
  std::deque<Pending> queue_;
  bool writer_stopping_ = false;
  sdk::Status failed_;  // sticky after a write/fsync failure
  std::thread writer_;
  // writer-thread state
  TxnLogFile log_;
  bool roll_pending_ = false;
  int64_t log_count_ = 0;
  int64_t log_bytes_ = 0;
  int64_t rand_roll_ = 0;
  int64_t rand_size_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};

  // ---- snapshots and purge ----
  std::mutex snap_mutex_;
  std::condition_variable snap_cv_;
  bool snap_requested_ = false;
  bool snap_running_ = false;
  bool snap_stopping_ = false;
  std::thread snapshotter_;
  std::mutex snapshot_write_mutex_;  // one snapshot at a time (thread, startup, tests)
  bool recovered_ = false;
  RecoveryReport report_;

  StorageMetrics metrics_;
};

}  // namespace corral::plugins::memlog
