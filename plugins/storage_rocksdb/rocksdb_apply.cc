#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <rocksdb/write_batch.h>

#include "corral/formats/txn_apply.h"
#include "corral/path.h"
#include "rocksdb_storage.h"
#include "staged_writes.h"
#include "tree_ops.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;

namespace {

// TreeOps plus the sessions column family, as formats::applyTxn mutates them; the session
// changes are reported back so the in-memory table follows once the batch is written.
class RocksMutations final : public formats::TreeMutations {
 public:
  RocksMutations(TreeOps& ops, StagedWrites& staged, std::function<std::vector<std::string>(sdk::SessionId)> ephemerals)
      : ops_(ops), staged_(staged), ephemerals_(std::move(ephemerals)) {}

  Status create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl, int64_t owner,
                int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time, sdk::Stat* out_stat) override {
    return ops_.create(path, data, acl, owner, parent_cversion, zxid, time, out_stat);
  }
  Status remove(std::string_view path, sdk::Zxid zxid) override { return ops_.remove(path, zxid); }
  sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data, int32_t version,
                                 sdk::Zxid zxid, sdk::TimeMs time) override {
    return ops_.setData(path, data, version, zxid, time);
  }
  sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion) override {
    return ops_.setAcl(path, acl, aversion);
  }
  Status setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid) override {
    return ops_.setCversionPzxid(path, cversion, zxid);
  }
  void restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid) override {
    ops_.restorePlaceholderAcl(path, acl, zxid);
  }
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) override { return ephemerals_(session); }
  void openSession(sdk::SessionId session, int32_t timeout_ms) override {
    std::string timeout;
    putBe32(timeout, static_cast<uint32_t>(timeout_ms));
    staged_.put(Cf::kSessions, be64Key(static_cast<uint64_t>(session)), std::move(timeout));
    opened.emplace(session, timeout_ms);
  }
  void closeSession(sdk::SessionId session) override {
    staged_.erase(Cf::kSessions, be64Key(static_cast<uint64_t>(session)));
    closed = session;
  }

  std::optional<std::pair<sdk::SessionId, int32_t>> opened;
  std::optional<sdk::SessionId> closed;

 private:
  TreeOps& ops_;
  StagedWrites& staged_;
  std::function<std::vector<std::string>(sdk::SessionId)> ephemerals_;
};

}  // namespace

Status RocksdbStorage::commitStaged(StagedWrites& staged, sdk::Zxid zxid, const TreeCounters& before,
                                    const TreeCounters& after, bool with_undo) {
  // The batch goes to the database from the apply writer's thread, with other txns' (and the
  // applied zxid of the newest); until then the changes are read from its overlay.
  auto fill = [&](rocksdb::WriteBatch& batch, std::vector<ApplyWriter::Change>& changes) -> Status {
    UndoRecord undo;
    undo.counters = before;
    if (auto status = staged.build(batch, undo, &changes); !status.isOk()) return status;
    if (!with_undo) return Status::ok();
    if (auto st = batch.Put(store_->cf(Cf::kUndo), be64Key(static_cast<uint64_t>(zxid)), encodeUndo(undo)); !st.ok()) {
      return toStatus(st, "batch");
    }
    // The count only sizes retention: written now and then, not with every txn.
    if ((undo_entries_.load() + 1) % 256 == 0) {
      (void)batch.Put(store_->cf(Cf::kMeta), kMetaUndoCount, be64Key(static_cast<uint64_t>(undo_entries_.load() + 1)));
    }
    return Status::ok();
  };
  if (auto status = apply_writer_->add(fill, zxid, encodeApplied(zxid, after)); !status.isOk()) {
    acls_.dropStaged();
    return Status(status.code(), fmt::format("applying txn {:#x}: {}", zxid, status.message()));
  }
  acls_.commitStaged();
  staged.publish();
  if (with_undo) {
    ++undo_entries_;
    undo_zxids_.push(zxid);
  }
  return Status::ok();
}

// The apply writer's thread, after each batch: bounds what a crash loses from the memtables
// (and so the log tail replayed at start), and the undo records kept.
void RocksdbStorage::afterAppliedWrite(int64_t txns) {
  since_flush_ += txns;
  if (since_flush_ >= kFlushEveryTxns) {
    since_flush_ = 0;
    rocksdb::FlushOptions flush;
    flush.wait = false;
    flush.allow_write_stall = true;
    std::vector<rocksdb::ColumnFamilyHandle*> all;
    for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) all.push_back(store_->cf(static_cast<Cf>(i)));
    (void)store_->db().Flush(flush, all);
  }
  since_undo_trim_ += txns;
  if (since_undo_trim_ >= std::max<int64_t>(100, settings_.undo_retain_txns / 20)) {
    since_undo_trim_ = 0;
    trimUndo();
  }
}

rocksdb::Status RocksdbStorage::writeApplied(rocksdb::WriteBatch& batch) {
  for (int attempt = 0;; ++attempt) {
    rocksdb::WriteOptions options;
    options.disableWAL = true;
    auto status = writeWaitingOutStalls(options, batch);
    const bool no_space = isNoSpace(status);
    if (status.ok() && attempt > 0) disk_->writeSucceeded();
    if (status.ok() || !no_space) return status;
    // The txn is durable in the log and clients were answered from it: failing here would stop
    // the server. Wait for space instead (the guard keeps this rare).
    if (stopping_.load()) return status;  // the log replays these txns at the next start
    if (attempt == 0) host_.logger().error("writing applied txns: {}; waiting for disk space", status.ToString());
    disk_->markFull(status.ToString());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    disk_->check();  // RocksDB recovers by itself once there is room (see writeWhenSpaceReturns)
  }
}

Status RocksdbStorage::applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) {
  const auto& header = txn.header;
  StagedWrites staged(*store_, &node_cache_, apply_writer_.get());
  TreeCounters counters = counters_;
  TreeOps ops(staged, acls_, counters);
  RocksMutations mutations(ops, staged, [this](sdk::SessionId session) { return ephemeralsOf(session); });
  Status result = formats::applyTxn(mutations, txn, mode, outcomes);
  const auto& opened = mutations.opened;
  const auto& closed = mutations.closed;
  // An op that could not read the database is not a ZooKeeper outcome: nothing is written.
  if (result.code() == Code::kIoError || result.code() == Code::kCorruptData) {
    acls_.dropStaged();
    return result;
  }
  if (auto status = commitStaged(staged, header.zxid, counters_, counters, true); !status.isOk()) return status;
  counters_ = counters;
  node_count_ = counters.nodes;
  ephemeral_count_ = counters.ephemerals;
  data_size_ = counters.data_size;
  if (opened || closed) {
    std::lock_guard lock(sessions_mutex_);
    if (opened) sessions_[opened->first] = opened->second;
    if (closed) sessions_.erase(*closed);
  }
  last_applied_ = header.zxid;
  return result;
}

Status RocksdbStorage::apply(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    return applyLocked(txn, mode, outcomes);
  } catch (const std::exception& error) {
    acls_.dropStaged();
    return Status(Code::kInternal, error.what());
  }
}

Status RocksdbStorage::setConfigNode(std::string_view text, sdk::Zxid version) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    if (!store_) return Status(Code::kIoError, "storage.rocksdb is not started");
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    StagedWrites staged(*store_, &node_cache_, apply_writer_.get());
    TreeCounters counters = counters_;
    TreeOps ops(staged, acls_, counters);
    auto stat = ops.setData(sdk::kConfigPath, text, -1, version, now);
    if (!stat.isOk()) return stat.status();
    // Outside any txn: no undo record, the applied zxid stays; the counters go with the next txn.
    if (auto status = commitStaged(staged, last_applied_.load(), counters_, counters, false); !status.isOk()) return status;
    counters_ = counters;
    data_size_ = counters.data_size;
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

}  // namespace corral::plugins::rocks
