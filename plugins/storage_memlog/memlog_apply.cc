#include <algorithm>
#include <chrono>

#include "corral/path.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;

namespace {

std::optional<std::string_view> view(const sdk::OptionalBytes& data) {
  if (!data) return std::nullopt;
  return std::string_view(*data);
}

}  // namespace

// A replayed create (any flavour, also inside a multi) that meets the very node it created: a
// fuzzy snapshot may have written that node with an ACL key its ACL map did not list yet, loaded
// with a placeholder ACL; the txn carries the real one.
void MemlogStorage::restorePlaceholderAcl(const std::string& path, const sdk::AclList& acl, sdk::Zxid zxid) {
  auto node = tree_->getNode(path);
  if (node.isOk() && node->persisted.czxid == zxid && node->acl && *node->acl == unknownAclPlaceholder()) {
    (void)tree_->setAcl(path, acl, node->persisted.aversion);
  }
}

Status MemlogStorage::applyOne(OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                               sdk::OpOutcome& outcome, bool replay) {
  DataTree& tree = *tree_;
  outcome.type = type;
  outcome.err = Code::kOk;
  Status status;
  if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
    outcome.path = create->path;
    status = tree.createNode(create->path, view(create->data), create->acl,
                             create->ephemeral ? header.client_id : 0, create->parent_cversion,
                             header.zxid, header.time, &outcome.stat);
  } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
    outcome.path = container->path;
    status = tree.createNode(container->path, view(container->data), container->acl,
                             sdk::owner::kContainer, container->parent_cversion, header.zxid,
                             header.time, &outcome.stat);
  } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
    outcome.path = ttl->path;
    status = tree.createNode(ttl->path, view(ttl->data), ttl->acl, sdk::owner::ttlOwner(ttl->ttl),
                             ttl->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
    outcome.path = remove->path;
    status = tree.deleteNode(remove->path, header.zxid);
  } else if (const auto* set = std::get_if<sdk::SetDataTxn>(&body)) {
    outcome.path = set->path;
    auto stat = tree.setData(set->path, view(set->data), set->version, header.zxid, header.time);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* set_acl = std::get_if<sdk::SetAclTxn>(&body)) {
    outcome.path = set_acl->path;
    auto stat = tree.setAcl(set_acl->path, set_acl->acl, set_acl->version);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* check = std::get_if<sdk::CheckVersionTxn>(&body)) {
    outcome.path = check->path;
  } else if (const auto* error = std::get_if<sdk::ErrorTxn>(&body)) {
    outcome.type = OpCode::kError;
    outcome.err = error->err;
  }
  if (replay && status.code() == Code::kNodeExists) {
    if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) restorePlaceholderAcl(create->path, create->acl, header.zxid);
    if (const auto* c = std::get_if<sdk::CreateContainerTxn>(&body)) restorePlaceholderAcl(c->path, c->acl, header.zxid);
    if (const auto* t = std::get_if<sdk::CreateTtlTxn>(&body)) restorePlaceholderAcl(t->path, t->acl, header.zxid);
  }
  if (!status.isOk()) outcome.err = status.code();
  return status;
}

Status MemlogStorage::applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) {
  const bool replay = mode == sdk::ApplyMode::kReplay;
  outcomes.clear();
  const auto& header = txn.header;
  Status result;
  switch (header.type) {
    case OpCode::kCreateSession:
      if (const auto* create = std::get_if<sdk::CreateSessionTxn>(&txn.body)) {
        sessions_[header.client_id] = create->timeout;
      }
      break;
    case OpCode::kCloseSession: {
      sessions_.erase(header.client_id);
      const auto& close = std::get<sdk::CloseSessionTxn>(txn.body);
      std::vector<std::string> paths = close.no_body ? tree_->ephemerals(header.client_id) : close.paths_to_delete;
      for (const auto& path : paths) {
        auto status = tree_->deleteNode(path, header.zxid);
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
          // A failed multi changes nothing: each op reports 0 before the failing one,
          // the failing op its code, and the ones after it RuntimeInconsistency.
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
        if (!sdk::decodeSubTxn(sub, body)) {
          return Status(Code::kCorruptData, "undecodable op in multi txn");
        }
        auto status = applyOne(sub.type, body, header, outcome, replay);
        if (!status.isOk() && result.isOk()) result = status;
        outcomes.push_back(std::move(outcome));
      }
      break;
    }
    default: {
      sdk::OpOutcome outcome;
      result = applyOne(header.type, txn.body, header, outcome, replay);
      if (replay && header.type == OpCode::kCreate && result.code() == Code::kNodeExists) {
        // DataTree.processTxn: a create that meets an existing node during restore (fuzzy
        // snapshot) still advances the parent's cversion and pzxid.
        const auto& create = std::get<sdk::CreateTxn>(txn.body);
        (void)tree_->setCversionPzxid(sdk::parentOf(create.path), create.parent_cversion, header.zxid);
      }
      outcomes.push_back(std::move(outcome));
      break;
    }
  }
  last_applied_ = header.zxid;
  // DataTree.processTxn during restore: a node a fuzzy snapshot already created (or deleted) is
  // expected, not a divergence.
  if (replay && (result.code() == Code::kNoNode || result.code() == Code::kNodeExists)) return Status::ok();
  return result;
}

Status MemlogStorage::setConfigNode(std::string_view text, sdk::Zxid version) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto stat = tree_->setData(sdk::kConfigPath, text, -1, version, now);
    return stat.isOk() ? Status::ok() : stat.status();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

Status MemlogStorage::apply(const sdk::TxnEntry& txn, sdk::ApplyMode mode,
                            std::vector<sdk::OpOutcome>& outcomes) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    return applyLocked(txn, mode, outcomes);
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}
}  // namespace corral::plugins::memlog
