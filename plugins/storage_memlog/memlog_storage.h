// storage.memlog: the data tree in memory behind the sdk::Storage interface, made durable in
// ZooKeeper 3.8's own on-disk formats (disk-formats.md; the codecs are the SDK's
// Corral::zkformats), so a dataDir moves between Apache ZooKeeper and Corral in both directions.
//
// One job per source file:
// - memlog_storage.cc: life cycle, the purge command, reads and stats.
// - memlog_apply.cc: txns into DataTree mutations with ZooKeeper's DataTree.processTxn rules (a
//   multi that carries an error txn changes nothing and reports every op as an error); kReplay
//   tolerates what a fuzzy snapshot already holds.
// - memlog_writer.cc: group commit. append() frames txns on the caller's thread; ONE writer
//   thread writes everything queued (up to maxBatchSize txns) into
//   <dataLogDir>/version-2/log.<zxid> with one write(), fdatasyncs once (unless forceSync=no),
//   then runs the `done` callbacks in order. A failed write or fsync fails that batch and every
//   later append. The snapCount/snapSizeLimitInKb rule (SyncRequestProcessor) rolls the log
//   and wakes the snapshot thread.
// - memlog_snapshots.cc: fuzzy snapshots streamed from the live tree (DataTree::Walk holds the
//   tree's lock for a batch of nodes at a time; no copy of the tree), to a file or to a
//   replication stream; loading a streamed snapshot; autopurge.
// - memlog_recovery.cc: newest valid snapshot plus the logs after it, with ZooKeeper's replay
//   tolerance, torn-tail cut and digest checks; a hole or bad checksum is an error naming file
//   and offset.
// - memlog_log_access.cc: the log for replication: read from a zxid, truncate to a zxid.
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
#include <optional>
#include <random>
#include <shared_mutex>
#include <thread>

#include "corral/formats/data_files.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/snapshot_stream.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "data_tree.h"
#include "purge.h"
#include "settings.h"
#include "storage_metrics.h"
#include "txn_log_file.h"

namespace corral::plugins::memlog {

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

// What one snapshot stream held (its log line).
struct SnapshotReport {
  sdk::Zxid zxid = 0;      // the zxid it stands for (last applied when it began)
  sdk::Zxid end_zxid = 0;  // last applied when it ended (the ZxidDigest's zxid)
  int64_t nodes = 0;
  uint64_t bytes = 0;      // uncompressed body
  double seconds = 0;
};

class MemlogStorage final : public sdk::Storage {
 public:
  explicit MemlogStorage(sdk::Host& host, DurabilitySettings settings = {});
  ~MemlogStorage() override;

  sdk::Status start() noexcept override;
  void stop() noexcept override;

  sdk::Code read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept override;
  int64_t countDescendants(std::string_view path) const noexcept override;
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) const override;
  std::vector<sdk::ReapCandidate> reapCandidates() const override;
  sdk::TreeStats stats() const noexcept override;
  sdk::Status apply(const sdk::TxnEntry& txn, sdk::ApplyMode mode,
                    std::vector<sdk::OpOutcome>& outcomes) noexcept override;
  void append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept override;
  sdk::Status recover(std::vector<sdk::RecoveredSession>& sessions) noexcept override;
  std::vector<sdk::RecoveredSession> sessions() const override;
  sdk::Zxid lastLoggedZxid() const noexcept override { return last_logged_.load(); }
  sdk::Status readLog(sdk::Zxid after_zxid, const std::function<bool(const sdk::TxnEntry&)>& visit) noexcept override;
  sdk::Status truncateLog(sdk::Zxid zxid) noexcept override;
  sdk::Result<sdk::Zxid> writeSnapshot(const sdk::SnapshotSink& sink) noexcept override;
  sdk::Status loadSnapshot(sdk::Zxid zxid, const sdk::SnapshotSource& source) noexcept override;
  sdk::Status setConfigNode(std::string_view text, sdk::Zxid version) noexcept override;

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
    sdk::Zxid last_zxid = 0;
    int64_t count = 0;
    std::function<void(sdk::Status)> done;
    std::chrono::steady_clock::time_point queued_at;
  };

  // apply
  sdk::Status applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes);
  // recovery
  sdk::Status recoverLocked(std::vector<sdk::RecoveredSession>& sessions);
  sdk::Status loadSnapshotFile(const formats::DataFile& file, formats::SnapshotInfo& info);
  void resetTree();
  void registerCommands();
  // writer
  void startWriter();
  void stopWriter();
  void awaitWorkBriefly();
  void writerLoop();
  sdk::Status writeBatch(std::vector<Pending>& batch);
  sdk::Status rollTo(sdk::Zxid first_zxid);
  bool shouldSnapshot() const;
  void resetSnapshotStats();
  // snapshots
  sdk::Result<SnapshotReport> streamSnapshot(formats::SnapshotBodyEncoder& encoder,
                                             const std::function<sdk::Status(sdk::Zxid)>& on_start);
  void snapshotLoop();
  // log access (callers hold log_files_mutex_ exclusively)
  sdk::Status cutLogsAfter(sdk::Zxid zxid);
  // Removes snapshots named after `zxid` (and, with `fuzzy_past`, those whose ZxidDigest says
  // they may hold txns after it).
  sdk::Status removeSnapshotsAfter(sdk::Zxid zxid, bool fuzzy_past);
  // Whether the retained snapshots and logs can rebuild the state at exactly `zxid`.
  sdk::Status checkReachable(sdk::Zxid zxid);

  sdk::Host& host_;
  DurabilitySettings settings_;
  std::unique_ptr<DataTree> tree_;
  std::atomic<sdk::Zxid> last_applied_{0};
  std::atomic<sdk::Zxid> last_logged_{0};
  // The zxid the log continues from (the snapshot recovered or loaded): readLog(base) needs no
  // record of it.
  std::atomic<sdk::Zxid> log_base_{0};
  // The newest snapshot on disk: written by us, or loaded at recovery (its file's mtime), as
  // ZooKeeper's FileSnap.getLastSnapshotInfo reports it (lsnp / last_snapshot).
  std::atomic<sdk::Zxid> last_snapshot_zxid_{0};
  std::atomic<int64_t> last_snapshot_time_ms_{0};

  // Held by apply() for a whole txn; a snapshot takes it only to read where it starts (sessions,
  // zxid) and where it ends (zxid + digest).
  mutable std::mutex apply_mutex_;
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
  // One snapshot stream at a time (thread, startup, replication, tests); truncateLog and
  // loadSnapshot hold it too, so no walk runs while the tree is replaced.
  std::recursive_mutex snapshot_write_mutex_;
  // Readers of the log files (readLog) share it; whoever removes or cuts them (truncate, a
  // loaded snapshot, purge) holds it alone. Lock order: snapshot_write_mutex_, then this, then
  // apply_mutex_.
  std::shared_mutex log_files_mutex_;
  bool recovered_ = false;
  RecoveryReport report_;

  StorageMetrics metrics_;
};

}  // namespace corral::plugins::memlog
