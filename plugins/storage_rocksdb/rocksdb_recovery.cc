#include <chrono>

#include <fmt/format.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "bulk_loader.h"
#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "corral/records.h"
#include "rocksdb_storage.h"
#include "staged_writes.h"
#include "tree_ops.h"
#include "zk_import.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

namespace {

Status readZxidKey(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* meta, std::string_view key, sdk::Zxid& out) {
  std::string bytes;
  auto status = db.Get(rocksdb::ReadOptions(), meta, key, &bytes);
  if (status.IsNotFound()) {
    out = 0;
    return Status::ok();
  }
  if (!status.ok()) return toStatus(status, fmt::format("reading {}", key));
  if (bytes.size() != 8) return Status(Code::kCorruptData, fmt::format("meta record {} has {} bytes", key, bytes.size()));
  out = static_cast<sdk::Zxid>(getBe64(bytes.data()));
  return Status::ok();
}

}  // namespace

Status RocksdbStorage::freshTree() {
  StagedWrites staged(*store_);
  TreeCounters counters;
  TreeOps ops(staged, acls_, counters);
  if (auto status = ops.buildFresh(); !status.isOk()) return status;
  rocksdb::WriteBatch batch;
  UndoRecord ignored;
  if (auto status = staged.build(batch, ignored); !status.isOk()) return status;
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaApplied, encodeApplied(0, counters));
  (void)batch.Put(store_->cf(Cf::kMeta), kMetaFormat, kFormatVersion);
  (void)batch.Delete(store_->cf(Cf::kMeta), kMetaLoading);
  rocksdb::WriteOptions options;
  options.sync = true;
  if (auto status = store_->db().Write(options, &batch); !status.ok()) {
    acls_.dropStaged();
    return toStatus(status, "writing the initial tree");
  }
  acls_.commitStaged();
  node_cache_.clear();
  return Status::ok();
}

Status RocksdbStorage::importDataDir(bool& imported) {
  imported = false;
  if (!hasZooKeeperFiles(settings_)) return Status::ok();
  if (auto status = wipeState(); !status.isOk()) return status;  // marks the database as loading
  BulkLoader loader(*store_, acls_, host_.logger(), "import");
  sdk::Zxid zxid = 0, log_base = 0;
  Status status = importZooKeeperFiles(host_, settings_, loader, zxid, log_base);
  if (status.isOk()) status = finishLoad(loader, zxid, log_base);
  if (!status.isOk()) {
    // Not "an interrupted load" (which starts empty): the next start imports again and fails
    // the same way until the files are repaired.
    rocksdb::WriteOptions sync;
    sync.sync = true;
    (void)store_->db().Delete(sync, store_->cf(Cf::kMeta), kMetaLoading);
    return status;
  }
  imported = true;
  return Status::ok();
}

// The state as the database holds it: counters, the ACL map, sessions and the log's bounds.
Status RocksdbStorage::loadState() {
  auto& db = store_->db();
  std::string applied_bytes;
  auto status = db.Get(rocksdb::ReadOptions(), store_->cf(Cf::kMeta), kMetaApplied, &applied_bytes);
  if (!status.ok()) {
    return status.IsNotFound() ? Status(Code::kCorruptData, fmt::format("{}: the database has no applied zxid record",
                                                                        settings_.dbDir().string()))
                               : toStatus(status, "reading the applied zxid");
  }
  sdk::Zxid applied = 0;
  if (!decodeApplied(applied_bytes, applied, counters_)) {
    return Status(Code::kCorruptData, "the applied zxid record does not decode");
  }
  sdk::Zxid base = 0, floor = 0;
  if (auto st = readZxidKey(db, store_->cf(Cf::kMeta), kMetaLogBase, base); !st.isOk()) return st;
  if (auto st = readZxidKey(db, store_->cf(Cf::kMeta), kMetaUndoFloor, floor); !st.isOk()) return st;
  log_base_ = base;
  undo_floor_ = floor;
  last_applied_ = applied;
  node_count_ = counters_.nodes;
  ephemeral_count_ = counters_.ephemerals;
  data_size_ = counters_.data_size;

  acls_.clear();
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kAcls)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      sdk::AclList list;
      sdk::JuteReader r(std::string_view(it->value().data(), it->value().size()));
      if (it->key().size() != 8 || !sdk::decode(r, list)) return Status(Code::kCorruptData, "an ACL record does not decode");
      acls_.load(static_cast<int64_t>(getBe64(it->key().data())), std::move(list));
    }
    if (!it->status().ok()) return toStatus(it->status(), "reading ACLs");
  }
  {
    std::map<sdk::SessionId, int32_t> sessions;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kSessions)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8 || it->value().size() != 4) return Status(Code::kCorruptData, "a session record does not decode");
      sessions[static_cast<sdk::SessionId>(getBe64(it->key().data()))] = static_cast<int32_t>(getBe32(it->value().data()));
    }
    if (!it->status().ok()) return toStatus(it->status(), "reading sessions");
    std::lock_guard lock(sessions_mutex_);
    sessions_ = std::move(sessions);
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kLog)));
    it->SeekToLast();
    if (!it->status().ok()) return toStatus(it->status(), "reading the txn log");
    const sdk::Zxid last = it->Valid() ? static_cast<sdk::Zxid>(getBe64(it->key().data())) : 0;
    last_logged_ = std::max({last, base, applied});
  }
  return readCounts();
}

Status RocksdbStorage::reloadAfterRewind() { return loadState(); }

// Txns logged but not applied when the server stopped: their apply batches were not synced.
Status RocksdbStorage::replayLogTail() {
  const auto started = std::chrono::steady_clock::now();
  const sdk::Zxid applied = last_applied_.load();
  std::vector<sdk::TxnEntry> tail;
  std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kLog)));
  for (it->Seek(be64Key(static_cast<uint64_t>(applied) + 1)); it->Valid(); it->Next()) {
    sdk::TxnEntry txn;
    if (auto decoded = formats::decodeEntry(std::string_view(it->value().data(), it->value().size()), txn); !decoded.isOk()) {
      return Status(Code::kCorruptData, fmt::format("{}: txn {:#x} in the log does not decode: {}",
                                                    settings_.dbDir().string(), getBe64(it->key().data()), decoded.message()));
    }
    tail.push_back(std::move(txn));
  }
  if (!it->status().ok()) return toStatus(it->status(), "reading the txn log");
  std::vector<sdk::OpOutcome> outcomes;
  for (const auto& txn : tail) {
    if (auto status = applyLocked(txn, sdk::ApplyMode::kLive, outcomes); !status.isOk()) {
      return Status(status.code(), fmt::format("replaying txn {:#x}: {}", txn.header.zxid, status.message()));
    }
  }
  metrics_.startup_txns_loaded.add(static_cast<int64_t>(tail.size()));
  metrics_.startup_txns_load_time.add(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
  if (!tail.empty()) host_.logger().info("applied {} logged txns after {:#x}", tail.size(), applied);
  return Status::ok();
}

Status RocksdbStorage::recover(std::vector<sdk::RecoveredSession>& sessions) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    const auto started = std::chrono::steady_clock::now();
    auto& db = store_->db();
    std::string value;
    const bool loading = db.Get(rocksdb::ReadOptions(), store_->cf(Cf::kMeta), kMetaLoading, &value).ok();
    const bool formatted = db.Get(rocksdb::ReadOptions(), store_->cf(Cf::kMeta), kMetaFormat, &value).ok();
    if (formatted && value != kFormatVersion) {
      return Status(Code::kCorruptData, fmt::format("{} was written in format '{}', this server reads '{}'",
                                                    settings_.dbDir().string(), value, kFormatVersion));
    }
    if (loading) {
      host_.logger().warn("a snapshot load or import was interrupted; starting from an empty tree "
                          "(an ensemble member then gets a snapshot from its leader)");
    }
    if (loading || !formatted) {
      bool imported = false;
      if (!loading) {
        if (auto status = importDataDir(imported); !status.isOk()) return status;
      }
      if (!imported) {
        if (loading) {
          if (auto status = wipeState(); !status.isOk()) return status;
        }
        if (auto status = freshTree(); !status.isOk()) return status;
      }
    }
    if (auto status = loadState(); !status.isOk()) return status;
    if (auto status = replayLogTail(); !status.isOk()) return status;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
    metrics_.startup_load_time.add(ms);
    host_.logger().info("opened {} at zxid {:#x}: {} nodes, {} sessions in {} ms",
                        settings_.dbDir().string(), last_applied_.load(), node_count_.load(), sessions_.size(), ms);
    for (const auto& session : this->sessions()) sessions.push_back(session);
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

}  // namespace corral::plugins::rocks
