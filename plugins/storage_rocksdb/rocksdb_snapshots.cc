#include <chrono>

#include <fmt/format.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "bulk_loader.h"
#include "corral/formats/snapshot_stream.h"
#include "corral/jute.h"
#include "corral/records.h"
#include "rocksdb_storage.h"
#include "snapshot_out.h"
#include "tree_ops.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// ---- out: a consistent stream from a RocksDB snapshot -----------------------------------------

sdk::Result<sdk::Zxid> RocksdbStorage::writeSnapshot(const sdk::SnapshotSink& sink) noexcept {
  try {
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    auto& db = store_->db();
    const auto started = std::chrono::steady_clock::now();
    // The stream covers at least every txn applied before the call.
    if (auto drained = drainApplied(); !drained.isOk()) return drained;
    ScopedSnapshot snapshot(db);
    auto streamed = streamState(*store_, snapshot.get(), sink);
    if (!streamed.isOk()) return streamed.status();
    const sdk::Zxid zxid = streamed->zxid;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    host_.logger().info("snapshot stream of {:#x}: {} nodes, {} bytes in {:.2f} s", zxid,
                        streamed->nodes, streamed->bytes, seconds);
    last_snapshot_zxid_ = zxid;
    last_snapshot_time_ms_ = nowMs();
    return zxid;
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

// ---- in: a leader's SNAP ------------------------------------------------------------------------

Status RocksdbStorage::wipeState() {
  if (auto drained = drainApplied(); !drained.isOk()) return drained;
  rocksdb::WriteBatch batch;
  for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) {
    const auto cf = static_cast<Cf>(i);
    if (cf == Cf::kMeta) continue;
    (void)batch.DeleteRange(store_->cf(cf), std::string(), endOfKeys());
  }
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaApplied);
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaLogBase);
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaUndoFloor);
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaLogCount);
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaUndoCount);
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaLoading, "1");
  rocksdb::WriteOptions options;
  options.sync = true;
  if (auto status = store_->db().Write(options, &batch); !status.ok()) return toStatus(status, "clearing the database");
  acls_.clear();
  node_cache_.clear();
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_.clear();
  }
  counters_ = {};
  node_count_ = ephemeral_count_ = data_size_ = 0;
  log_entries_ = undo_entries_ = 0;
  log_zxids_.clear();
  undo_zxids_.clear();
  return Status::ok();
}

Status RocksdbStorage::finishLoad(BulkLoader& loader, sdk::Zxid zxid, sdk::Zxid log_base) {
  if (auto status = loader.finish(); !status.isOk()) return status;
  rocksdb::WriteBatch batch;
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaApplied, encodeApplied(zxid, loader.counters()));
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaLogBase, be64Key(static_cast<uint64_t>(log_base)));
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaUndoFloor, be64Key(static_cast<uint64_t>(zxid)));
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaFormat, kFormatVersion);
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaLogCount, be64Key(static_cast<uint64_t>(loader.logEntries())));
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaUndoCount, be64Key(0));
  if (auto status = store_->db().Write(rocksdb::WriteOptions(), &batch); !status.ok()) return toStatus(status, "load");
  // The bulk batches skipped the WAL: flush everything before the load counts as done.
  if (auto status = store_->flushAll(); !status.isOk()) return status;
  rocksdb::WriteOptions sync;
  sync.sync = true;
  if (auto status = store_->db().Delete(sync, store_->cf(Cf::kMeta), kMetaLoading); !status.ok()) {
    return toStatus(status, "load");
  }
  node_cache_.clear();
  counters_ = loader.counters();
  node_count_ = counters_.nodes;
  ephemeral_count_ = counters_.ephemerals;
  data_size_ = counters_.data_size;
  {
    std::lock_guard lock(sessions_mutex_);
    sessions_ = loader.sessions();
  }
  last_applied_ = zxid;
  last_logged_ = zxid;
  log_base_ = log_base;
  undo_floor_ = zxid;
  log_entries_ = loader.logEntries();
  undo_entries_ = 0;
  return Status::ok();
}

Status RocksdbStorage::loadSnapshotLocked(sdk::Zxid zxid, const sdk::SnapshotSource& source) {
  const auto started = std::chrono::steady_clock::now();
  if (auto status = wipeState(); !status.isOk()) return status;
  BulkLoader loader(*store_, acls_, host_.logger(), fmt::format("snapshot {:#x} from the leader", zxid));
  Status failed;
  formats::SnapshotVisitor visitor;
  visitor.on_session = [&](sdk::SessionId id, int32_t timeout) {
    if (failed.isOk()) failed = loader.session(id, timeout);
  };
  visitor.on_acl = [&](int64_t key, sdk::AclList acl) { return loader.acl(key, acl); };
  visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                        const sdk::StatPersisted& stat) { return loader.node(path, data, acl_key, stat); };
  formats::SnapshotInfo info;
  Status parsed = formats::parseSnapshotBody(source, visitor, info);
  if (parsed.isOk()) parsed = failed;
  if (parsed.isOk()) parsed = finishLoad(loader, zxid, zxid);
  if (!parsed.isOk()) {
    // Leave an empty state behind, still marked as loading: a restart starts empty too.
    (void)wipeState();
    StagedWrites staged(*store_);
    TreeCounters counters;
    TreeOps ops(staged, acls_, counters);
    (void)ops.buildFresh();
    UndoRecord ignored;
    rocksdb::WriteBatch batch;
    if (staged.build(batch, ignored).isOk() && store_->db().Write(rocksdb::WriteOptions(), &batch).ok()) acls_.commitStaged();
    acls_.dropStaged();
    node_cache_.clear();
    counters_ = counters;
    node_count_ = counters.nodes;
    data_size_ = counters.data_size;
    last_applied_ = 0;
    last_logged_ = 0;
    log_base_ = 0;
    return parsed;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  host_.logger().info("loaded snapshot {:#x}: {} nodes in {:.2f} s", zxid, loader.nodes(), seconds);
  return Status::ok();
}

Status RocksdbStorage::loadSnapshot(sdk::Zxid zxid, const sdk::SnapshotSource& source) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    return loadSnapshotLocked(zxid, source);
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

}  // namespace corral::plugins::rocks
