#include <chrono>
#include <thread>

#include <rocksdb/write_batch.h>

#include "corral/path.h"
#include "rocksdb_storage.h"
#include "staged_writes.h"
#include "tree_ops.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;

namespace {

std::optional<std::string_view> view(const sdk::OptionalBytes& data) {
  if (!data) return std::nullopt;
  return std::string_view(*data);
}

Status applyOne(TreeOps& ops, OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                sdk::OpOutcome& outcome, bool replay) {
  outcome.type = type;
  outcome.err = Code::kOk;
  Status status;
  const sdk::AclList* created_acl = nullptr;
  if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
    outcome.path = create->path;
    created_acl = &create->acl;
    status = ops.create(create->path, view(create->data), create->acl, create->ephemeral ? header.client_id : 0,
                        create->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
    outcome.path = container->path;
    created_acl = &container->acl;
    status = ops.create(container->path, view(container->data), container->acl, sdk::owner::kContainer,
                        container->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
    outcome.path = ttl->path;
    created_acl = &ttl->acl;
    status = ops.create(ttl->path, view(ttl->data), ttl->acl, sdk::owner::ttlOwner(ttl->ttl), ttl->parent_cversion,
                        header.zxid, header.time, &outcome.stat);
  } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
    outcome.path = remove->path;
    status = ops.remove(remove->path, header.zxid);
  } else if (const auto* set = std::get_if<sdk::SetDataTxn>(&body)) {
    outcome.path = set->path;
    auto stat = ops.setData(set->path, view(set->data), set->version, header.zxid, header.time);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* set_acl = std::get_if<sdk::SetAclTxn>(&body)) {
    outcome.path = set_acl->path;
    auto stat = ops.setAcl(set_acl->path, set_acl->acl, set_acl->version);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* check = std::get_if<sdk::CheckVersionTxn>(&body)) {
    outcome.path = check->path;
  } else if (const auto* error = std::get_if<sdk::ErrorTxn>(&body)) {
    outcome.type = OpCode::kError;
    outcome.err = error->err;
  }
  if (replay && status.code() == Code::kNodeExists && created_acl != nullptr) {
    ops.restorePlaceholderAcl(outcome.path, *created_acl, header.zxid);
  }
  if (!status.isOk()) outcome.err = status.code();
  return status;
}

}  // namespace

Status RocksdbStorage::commitStaged(StagedWrites& staged, sdk::Zxid zxid, const TreeCounters& before,
                                    const TreeCounters& after, bool with_undo) {
  rocksdb::WriteBatch batch;
  UndoRecord undo;
  undo.counters = before;
  if (auto status = staged.build(batch, undo); !status.isOk()) return status;
  if (with_undo) {
    if (auto st = batch.Put(store_->cf(Cf::kUndo), be64Key(static_cast<uint64_t>(zxid)), encodeUndo(undo)); !st.ok()) {
      return toStatus(st, "batch");
    }
    // The count only sizes retention: written now and then, not with every txn.
    if ((undo_entries_.load() + 1) % 256 == 0) {
      (void)batch.Put(store_->cf(Cf::kMeta), kMetaUndoCount, be64Key(static_cast<uint64_t>(undo_entries_.load() + 1)));
    }
  }
  if (auto st = batch.Put(store_->cf(Cf::kMeta), kMetaApplied, encodeApplied(zxid, after)); !st.ok()) {
    return toStatus(st, "batch");
  }
  // Without the WAL: the txn is already durable in the log. Column families are flushed
  // together (atomic_flush), so the files always hold the state of one applied zxid, and after
  // a crash the log tail past it is applied again (rocksdb_recovery.cc).
  auto status = writeApplied(batch);
  if (!status.ok()) {
    acls_.dropStaged();
    return toStatus(status, "applying txn " + std::to_string(zxid));
  }
  acls_.commitStaged();
  staged.publish();
  if (with_undo) {
    ++undo_entries_;
    // Bounds what a crash loses from the memtables, and so the log tail replayed at start.
    if (++since_flush_ >= kFlushEveryTxns) {
      since_flush_ = 0;
      rocksdb::FlushOptions flush;
      flush.wait = false;
      flush.allow_write_stall = true;
      std::vector<rocksdb::ColumnFamilyHandle*> all;
      for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) all.push_back(store_->cf(static_cast<Cf>(i)));
      (void)store_->db().Flush(flush, all);
    }
    if (++since_undo_trim_ >= std::max<int64_t>(100, settings_.undo_retain_txns / 20)) {
      since_undo_trim_ = 0;
      trimUndo();
    }
  }
  return Status::ok();
}

rocksdb::Status RocksdbStorage::writeApplied(rocksdb::WriteBatch& batch) {
  for (int attempt = 0;; ++attempt) {
    rocksdb::WriteOptions options;
    options.disableWAL = true;
    auto status = store_->db().Write(options, &batch);
    const bool no_space = status.IsNoSpace() || status.ToString().find("No space left") != std::string::npos;
    if (status.ok() || !no_space) return status;
    // The txn is durable in the log and clients were answered from it: failing here would stop
    // the server. Wait for space instead (the guard keeps this rare).
    if (attempt == 0) host_.logger().error("applying a txn: {}; waiting for disk space", status.ToString());
    disk_->markFull(status.ToString());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    disk_->check();
    (void)store_->db().Resume();
  }
}

Status RocksdbStorage::applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) {
  const bool replay = mode == sdk::ApplyMode::kReplay;
  outcomes.clear();
  const auto& header = txn.header;
  StagedWrites staged(*store_, &node_cache_);
  TreeCounters counters = counters_;
  TreeOps ops(staged, acls_, counters);
  std::optional<std::pair<sdk::SessionId, int32_t>> opened;
  std::optional<sdk::SessionId> closed;
  Status result;
  switch (header.type) {
    case OpCode::kCreateSession:
      if (const auto* create = std::get_if<sdk::CreateSessionTxn>(&txn.body)) {
        std::string timeout;
        putBe32(timeout, static_cast<uint32_t>(create->timeout));
        staged.put(Cf::kSessions, be64Key(static_cast<uint64_t>(header.client_id)), std::move(timeout));
        opened.emplace(header.client_id, create->timeout);
      }
      break;
    case OpCode::kCloseSession: {
      staged.erase(Cf::kSessions, be64Key(static_cast<uint64_t>(header.client_id)));
      closed = header.client_id;
      const auto& close = std::get<sdk::CloseSessionTxn>(txn.body);
      std::vector<std::string> paths = close.no_body ? ephemeralsOf(header.client_id) : close.paths_to_delete;
      for (const auto& path : paths) {
        auto status = ops.remove(path, header.zxid);
        if (!status.isOk() && status.code() != Code::kNoNode) result = status;
        outcomes.push_back({OpCode::kDelete, status.code(), path, {}});
      }
      break;
    }
    case OpCode::kMulti: {
      const auto& multi = std::get<sdk::MultiTxn>(txn.body);
      bool failed = false;
      for (const auto& sub : multi.txns) failed = failed || sub.type == OpCode::kError;
      bool past_failure = false;
      for (const auto& sub : multi.txns) {
        sdk::OpOutcome outcome;
        if (failed) {
          // A failed multi changes nothing: each op reports 0 before the failing one, the
          // failing op its code, and the ones after it RuntimeInconsistency.
          sdk::TxnBody body;
          Code code = past_failure ? Code::kRuntimeInconsistency : Code::kOk;
          if (sub.type == OpCode::kError && sdk::decodeSubTxn(sub, body)) {
            code = std::get<sdk::ErrorTxn>(body).err;
            past_failure = true;
          }
          outcomes.push_back({OpCode::kError, code, {}, {}});
          continue;
        }
        sdk::TxnBody body;
        if (!sdk::decodeSubTxn(sub, body)) return Status(Code::kCorruptData, "undecodable op in multi txn");
        auto status = applyOne(ops, sub.type, body, header, outcome, replay);
        if (!status.isOk() && result.isOk()) result = status;
        outcomes.push_back(std::move(outcome));
      }
      break;
    }
    default: {
      sdk::OpOutcome outcome;
      result = applyOne(ops, header.type, txn.body, header, outcome, replay);
      if (replay && header.type == OpCode::kCreate && result.code() == Code::kNodeExists) {
        // DataTree.processTxn: a create that meets an existing node during restore (fuzzy
        // snapshot) still advances the parent's cversion and pzxid.
        const auto& create = std::get<sdk::CreateTxn>(txn.body);
        (void)ops.setCversionPzxid(sdk::parentOf(create.path), create.parent_cversion, header.zxid);
      }
      outcomes.push_back(std::move(outcome));
      break;
    }
  }
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
  // DataTree.processTxn during restore: a node a fuzzy snapshot already created (or deleted) is
  // expected, not a divergence.
  if (replay && (result.code() == Code::kNoNode || result.code() == Code::kNodeExists)) return Status::ok();
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
    StagedWrites staged(*store_, &node_cache_);
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
