#include <chrono>
#include <limits>
#include <thread>

#include <fmt/format.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "rocksdb_storage.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;
using Clock = std::chrono::steady_clock;

// ---- group commit ---------------------------------------------------------------------------

void RocksdbStorage::append(std::span<const sdk::TxnEntry> txns, std::function<void(Status)> done) noexcept {
  Status refused;
  try {
    Pending pending;
    pending.records.reserve(txns.size());
    for (const auto& txn : txns) {
      std::string bytes;
      sdk::JuteWriter w(bytes);
      sdk::encode(w, txn);
      pending.records.emplace_back(txn.header.zxid, std::move(bytes));
    }
    pending.done = std::move(done);
    {
      std::lock_guard lock(queue_mutex_);
      if (!failed_.isOk()) {
        refused = failed_;
      } else if (writer_stopping_ || !writer_.joinable()) {
        refused = Status(Code::kIoError, "the txn log writer is not running");
      } else {
        metrics_.request_queued.add(static_cast<int64_t>(pending.records.size()));
        queue_.push_back(std::move(pending));
      }
    }
    if (refused.isOk()) {
      queue_cv_.notify_one();
      return;
    }
    pending.done(refused);
  } catch (const std::exception& error) {
    done(Status(Code::kSystemError, error.what()));
  }
}

void RocksdbStorage::writerLoop() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      // Wakes now and then when idle, so a refusal for lack of space ends once space returns.
      while (!writer_stopping_ && queue_.empty()) {
        if (queue_cv_.wait_for(lock, std::chrono::seconds(1)) == std::cv_status::timeout) {
          lock.unlock();
          disk_->check();
          lock.lock();
        }
      }
      if (queue_.empty()) return;  // stopping, everything written
      size_t txns = 0;
      while (!queue_.empty() && (txns == 0 || txns + queue_.front().records.size() <= static_cast<size_t>(settings_.max_batch))) {
        txns += queue_.front().records.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    disk_->check();
    // Clients' writes are refused below the reserve; what was accepted before is written into
    // it. A follower cannot refuse its leader's txns, so below half the reserve the batch waits
    // for space instead of meeting ENOSPC inside RocksDB (a failed WAL append leaves that WAL
    // unusable, and Debian's librocksdb asserts on its next use).
    bool no_space = disk_->critical();
    Status status = no_space ? Status(Code::kIoError, "the disk is full") : writeBatch(batch, no_space);
    if (no_space && !writeWhenSpaceReturns(batch, status)) {
      status = Status(Code::kIoError, "stopped while the disk was full");
    }
    if (!status.isOk()) {
      host_.logger().error("writing the txn log failed, no more writes are accepted: {}",
                           status.toString());
      std::lock_guard lock(queue_mutex_);
      if (failed_.isOk()) failed_ = status;
    }
    int64_t written = 0;
    for (auto& pending : batch) {
      written += static_cast<int64_t>(pending.records.size());
      pending.done(status);
    }
    batch.clear();
    if (!status.isOk()) continue;
    since_log_trim_ += written;
    if (since_log_trim_ >= std::max<int64_t>(100, settings_.log_retain_txns / 20)) {
      since_log_trim_ = 0;
      trimLog();
    }
  }
}

bool RocksdbStorage::writeWhenSpaceReturns(std::vector<Pending>& batch, Status& status) {
  disk_->markFull(status.message());
  for (;;) {
    {
      std::unique_lock lock(queue_mutex_);
      if (queue_cv_.wait_for(lock, std::chrono::milliseconds(500), [&] { return writer_stopping_; })) return false;
    }
    disk_->check();
    // Held batches were accepted before the disk filled: they may use the reserve's upper half
    // (clients' new writes stay refused until the whole reserve is free).
    if (disk_->critical()) continue;
    // After a write or flush failed for lack of space RocksDB refuses writes until its own
    // recovery (SstFileManager, once the room it needs is free) clears the error; a write
    // meanwhile returns at once. DB::Resume() is not called: it waits for the background work,
    // which keeps retrying while the disk is full, and stop() could then never end.
    bool no_space = false;
    status = writeBatch(batch, no_space);
    if (!no_space) {
      if (status.isOk()) {
        disk_->writeSucceeded();
        host_.logger().info("the txn log is written again after the disk was full");
      }
      return true;
    }
    disk_->markFull(status.message());
  }
}

Status RocksdbStorage::writeBatch(std::vector<Pending>& batch, bool& no_space) {
  const auto started = Clock::now();
  rocksdb::WriteBatch write;
  sdk::Zxid last = 0;
  int64_t count = 0;
  for (const auto& pending : batch) {
    for (const auto& [zxid, bytes] : pending.records) {
      if (auto st = write.Put(store_->cf(Cf::kLog), be64Key(static_cast<uint64_t>(zxid)), bytes); !st.ok()) {
        return toStatus(st, "txn log batch");
      }
      last = zxid;
      ++count;
    }
  }
  if (count == 0) return Status::ok();
  (void)write.Put(store_->cf(Cf::kMeta), kMetaLogCount, be64Key(static_cast<uint64_t>(log_entries_.load() + count)));
  // Written unsynced, then synced apart: a sync inside Write() holds RocksDB's write queue,
  // and every apply batch queued behind it (the apply strand) would wait out the fsync too.
  // Nothing reads these entries before they are synced: readLog stops at last_logged_.
  auto status = writeWaitingOutStalls(rocksdb::WriteOptions(), write);
  if (status.ok() && settings_.force_sync) status = store_->db().SyncWAL();
  if (!status.ok()) {
    no_space = isNoSpace(status);
    return toStatus(status, "writing the txn log");
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
  if (settings_.force_sync) {
    metrics_.fsync_count.add();
    metrics_.fsync_time.add(ms);
    if (ms > settings_.fsync_warn_ms) {
      host_.logger().warn("fsync-ing the txn log took {} ms (fsync.warningthresholdms {})", ms,
                          settings_.fsync_warn_ms);
    }
  }
  metrics_.batch_size.add(count);
  metrics_.queue_and_flush_time.add(ms);
  for (const auto& pending : batch) {
    for (const auto& record : pending.records) log_zxids_.push(record.first);
  }
  log_entries_ += count;
  last_logged_ = last;
  return Status::ok();
}

rocksdb::Status RocksdbStorage::writeWaitingOutStalls(rocksdb::WriteOptions options, rocksdb::WriteBatch& batch) {
  // RocksDB would block a stalled write inside Write() until memtables are flushed; when the
  // flush cannot run (a full disk) that is forever, and stop() could not end the thread.
  options.no_slowdown = true;
  for (;;) {
    auto status = store_->db().Write(options, &batch);
    if (!status.IsIncomplete() || stopping_.load()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// ---- retention ------------------------------------------------------------------------------

sdk::Result<sdk::Zxid> RocksdbStorage::persistedApplied() {
  rocksdb::ReadOptions options;
  options.read_tier = rocksdb::kPersistedTier;  // the files (and WAL), not the memtables
  std::string bytes;
  auto status = store_->db().Get(options, store_->cf(Cf::kMeta), kMetaApplied, &bytes);
  if (status.IsNotFound()) return sdk::Zxid{0};  // nothing flushed yet
  if (!status.ok()) return toStatus(status, "reading the persisted applied zxid");
  sdk::Zxid zxid = 0;
  TreeCounters counters;
  if (!decodeApplied(bytes, zxid, counters)) return Status(Code::kCorruptData, "the applied zxid record does not decode");
  return zxid;
}

sdk::Result<sdk::Zxid> RocksdbStorage::trimColumn(Cf cf, int64_t retain, std::atomic<int64_t>& entries) {
  const int64_t excess = entries.load() - retain;
  if (excess <= 0) return sdk::Zxid{0};
  // The log must keep every txn the files' state has not applied yet: they are replayed after a crash.
  sdk::Zxid limit = std::numeric_limits<sdk::Zxid>::max();
  if (cf == Cf::kLog) {
    auto persisted = persistedApplied();
    if (!persisted.isOk()) return persisted.status();
    limit = *persisted;
  }
  // Undo records are dropped only once their batch is in the database (a range delete must
  // not precede the write it covers).
  if (cf == Cf::kUndo) limit = apply_writer_ ? apply_writer_->writtenZxid() : limit;
  auto& index = cf == Cf::kLog ? log_zxids_ : undo_zxids_;
  sdk::Zxid last_dropped = 0;
  int64_t skipped = 0;
  if (auto cut = index.plan(excess, entries.load(), limit)) {
    last_dropped = cut->last_dropped;
    skipped = cut->count;
  } else if (auto scanned = scanForCut(cf, excess, limit); !scanned.isOk()) {
    return scanned.status();
  } else {
    last_dropped = scanned->last_dropped;
    skipped = scanned->count;
  }
  if (skipped == 0) return sdk::Zxid{0};
  rocksdb::WriteBatch batch;

  (void)batch.DeleteRange(store_->cf(cf), std::string(8, '\0'), be64Key(static_cast<uint64_t>(last_dropped) + 1));
  (void)batch.Put(store_->cf(Cf::kMeta), cf == Cf::kLog ? kMetaLogBase : kMetaUndoFloor,
                  be64Key(static_cast<uint64_t>(last_dropped)));
  (void)batch.Put(store_->cf(Cf::kMeta), cf == Cf::kLog ? kMetaLogCount : kMetaUndoCount,
                  be64Key(static_cast<uint64_t>(entries.load() - skipped)));
  if (auto status = store_->db().Write(rocksdb::WriteOptions(), &batch); !status.ok()) {
    return toStatus(status, fmt::format("trimming the {} column family", cfName(cf)));
  }
  entries -= skipped;
  index.droppedThrough(last_dropped);
  return last_dropped;
}

sdk::Result<RecentZxids::Cut> RocksdbStorage::scanForCut(Cf cf, int64_t excess, sdk::Zxid limit) {
  // Start past what earlier trims dropped: their range tombstones would be walked again.
  const sdk::Zxid floor = cf == Cf::kLog ? log_base_.load() : undo_floor_.load();
  const std::string lower = be64Key(static_cast<uint64_t>(floor) + 1);
  rocksdb::Slice lower_slice(lower);
  rocksdb::ReadOptions options;
  options.fill_cache = false;
  options.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator(options, store_->cf(cf)));
  RecentZxids::Cut cut;
  for (it->Seek(lower); it->Valid() && cut.count < excess; it->Next()) {
    const auto zxid = static_cast<sdk::Zxid>(getBe64(it->key().data()));
    if (zxid > limit) break;
    cut.last_dropped = zxid;
    ++cut.count;
  }
  if (!it->status().ok()) return toStatus(it->status(), fmt::format("scanning the {} column family", cfName(cf)));
  return cut;
}

void RocksdbStorage::trimLog() {
  auto log = trimColumn(Cf::kLog, settings_.log_retain_txns, log_entries_);
  if (!log.isOk()) {
    host_.logger().warn("{}", log.status().toString());
  } else if (*log != 0) {
    log_base_ = *log;
  }
}

void RocksdbStorage::trimUndo() {
  auto undo = trimColumn(Cf::kUndo, settings_.undo_retain_txns, undo_entries_);
  if (!undo.isOk()) {
    host_.logger().warn("{}", undo.status().toString());
  } else if (*undo != 0) {
    undo_floor_ = *undo;
  }
}

Status RocksdbStorage::readCounts() {
  for (auto [key, counter] : {std::pair{kMetaLogCount, &log_entries_}, std::pair{kMetaUndoCount, &undo_entries_}}) {
    sdk::Zxid value = 0;
    std::string bytes;
    auto status = store_->db().Get(rocksdb::ReadOptions(), store_->cf(Cf::kMeta), key, &bytes);
    if (status.ok() && bytes.size() == 8) value = static_cast<sdk::Zxid>(getBe64(bytes.data()));
    else if (!status.ok() && !status.IsNotFound()) return toStatus(status, "reading the history counts");
    counter->store(value);
  }
  return Status::ok();
}

// ---- the log for replication ------------------------------------------------------------------

Status RocksdbStorage::readLog(sdk::Zxid after_zxid, const std::function<bool(const sdk::TxnEntry&)>& visit) noexcept {
  try {
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    auto& db = store_->db();
    const sdk::Zxid end = last_logged_.load();
    if (after_zxid > end) return Status(Code::kNotFound, fmt::format("the log ends at {:#x}", end));
    rocksdb::ReadOptions options;
    ScopedSnapshot snapshot(db);
    options.snapshot = snapshot.get();
    std::string base_bytes;
    sdk::Zxid base = 0;
    auto status = db.Get(options, store_->cf(Cf::kMeta), kMetaLogBase, &base_bytes);
    if (status.ok() && base_bytes.size() == 8) base = static_cast<sdk::Zxid>(getBe64(base_bytes.data()));
    else if (!status.ok() && !status.IsNotFound()) return toStatus(status, "reading the log base");
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store_->cf(Cf::kLog)));
    if (after_zxid != base) {
      it->Seek(be64Key(static_cast<uint64_t>(after_zxid)));
      if (!it->Valid() || static_cast<sdk::Zxid>(getBe64(it->key().data())) != after_zxid) {
        if (!it->status().ok()) return toStatus(it->status(), "reading the txn log");
        return Status(Code::kNotFound, fmt::format("the log does not hold {:#x}", after_zxid));
      }
      it->Next();
    } else {
      it->Seek(be64Key(static_cast<uint64_t>(after_zxid) + 1));
    }
    for (; it->Valid(); it->Next()) {
      const auto zxid = static_cast<sdk::Zxid>(getBe64(it->key().data()));
      if (zxid > end) break;
      sdk::TxnEntry txn;
      if (auto decoded = formats::decodeEntry(std::string_view(it->value().data(), it->value().size()), txn);
          !decoded.isOk()) {
        return Status(Code::kCorruptData, fmt::format("txn {:#x} in the log: {}", zxid, decoded.message()));
      }
      if (!visit(txn)) return Status::ok();
    }
    if (!it->status().ok()) return toStatus(it->status(), "reading the txn log");
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

Status RocksdbStorage::holdsLogEntry(sdk::Zxid zxid, bool& held) {
  std::string value;
  auto status = store_->db().Get(rocksdb::ReadOptions(), store_->cf(Cf::kLog), be64Key(static_cast<uint64_t>(zxid)), &value);
  if (!status.ok() && !status.IsNotFound()) return toStatus(status, "reading the txn log");
  held = status.ok() || zxid == log_base_.load();
  return Status::ok();
}

Status RocksdbStorage::truncateLog(sdk::Zxid zxid) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    auto& db = store_->db();
    bool held = false;
    if (zxid > last_logged_.load()) return Status(Code::kNotFound, fmt::format("the log ends before {:#x}", zxid));
    if (auto status = holdsLogEntry(zxid, held); !status.isOk()) return status;
    if (!held) return Status(Code::kNotFound, fmt::format("the log does not hold {:#x}", zxid));
    if (auto drained = drainApplied(); !drained.isOk()) return drained;

    // The undo records restore the keys later txns touched; every other key must already be in
    // the files as of now, or a crash after the TRUNC would mix states: flush first.
    if (auto flushed = store_->flushAll(); !flushed.isOk()) return flushed;
    rocksdb::WriteBatch batch;
    const sdk::Zxid applied = last_applied_.load();
    TreeCounters counters = counters_;
    int64_t undone = 0;
    if (applied > zxid) {
      // Every applied txn after `zxid` has its undo record unless retention dropped it.
      if (undo_floor_.load() > zxid) {
        return Status(Code::kNotFound, fmt::format("txns after {:#x} can no longer be undone (rocksdb.undoRetainTxns)", zxid));
      }
      std::vector<UndoRecord> records;
      std::unique_ptr<rocksdb::Iterator> undo(db.NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kUndo)));
      for (undo->Seek(be64Key(static_cast<uint64_t>(zxid) + 1)); undo->Valid(); undo->Next()) {
        UndoRecord record;
        if (!decodeUndo(std::string_view(undo->value().data(), undo->value().size()), record)) {
          return Status(Code::kCorruptData, fmt::format("undo record {:#x} does not decode", getBe64(undo->key().data())));
        }
        records.push_back(std::move(record));
      }
      if (!undo->status().ok()) return toStatus(undo->status(), "reading the undo records");
      for (auto record = records.rbegin(); record != records.rend(); ++record) {
        for (const auto& entry : record->entries) {
          if (entry.cf == Cf::kAcls) continue;  // ACL entries stay: the in-memory map keeps them
          auto st = entry.old_value ? batch.Put(store_->cf(entry.cf), entry.key, *entry.old_value)
                                    : batch.Delete(store_->cf(entry.cf), entry.key);
          if (!st.ok()) return toStatus(st, "undo batch");
        }
      }
      if (!records.empty()) counters = records.front().counters;
      undone = static_cast<int64_t>(records.size());
    }
    // The log entries after `zxid` go too (logged, maybe never applied).
    int64_t cut = 0;
    {
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kLog)));
      for (it->Seek(be64Key(static_cast<uint64_t>(zxid) + 1)); it->Valid(); it->Next()) ++cut;
      if (!it->status().ok()) return toStatus(it->status(), "reading the txn log");
    }
    (void)batch.Put(store_->cf(Cf::kMeta), kMetaLogCount, be64Key(static_cast<uint64_t>(std::max<int64_t>(0, log_entries_.load() - cut))));
    (void)batch.Put(store_->cf(Cf::kMeta), kMetaUndoCount, be64Key(static_cast<uint64_t>(std::max<int64_t>(0, undo_entries_.load() - undone))));
    const std::string from = be64Key(static_cast<uint64_t>(zxid) + 1);
    (void)batch.DeleteRange(store_->cf(Cf::kLog), from, endOfKeys());
    (void)batch.DeleteRange(store_->cf(Cf::kUndo), from, endOfKeys());
    (void)batch.Put(store_->cf(Cf::kMeta), kMetaApplied, encodeApplied(std::min(applied, zxid), counters));
    rocksdb::WriteOptions options;
    options.sync = true;
    if (auto status = db.Write(options, &batch); !status.ok()) return toStatus(status, "truncating the log");
    node_cache_.clear();
    log_zxids_.droppedAfter(zxid);
    undo_zxids_.droppedAfter(zxid);
    host_.logger().info("truncated the log to {:#x} (applied was {:#x})", zxid, applied);
    last_logged_ = zxid;
    return reloadAfterRewind();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

}  // namespace corral::plugins::rocks
