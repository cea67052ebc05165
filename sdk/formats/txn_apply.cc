#include "corral/formats/txn_apply.h"

#include "corral/path.h"

namespace corral::formats {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;

namespace {

std::optional<std::string_view> view(const sdk::OptionalBytes& data) {
  if (!data) return std::nullopt;
  return std::string_view(*data);
}

Status applyOne(TreeMutations& tree, OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                sdk::OpOutcome& outcome, bool replay) {
  outcome.type = type;
  outcome.err = Code::kOk;
  Status status;
  const sdk::AclList* created_acl = nullptr;
  if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
    outcome.path = create->path;
    created_acl = &create->acl;
    status = tree.create(create->path, view(create->data), create->acl, create->ephemeral ? header.client_id : 0,
                         create->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
    outcome.path = container->path;
    created_acl = &container->acl;
    status = tree.create(container->path, view(container->data), container->acl, sdk::owner::kContainer,
                         container->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
    outcome.path = ttl->path;
    created_acl = &ttl->acl;
    status = tree.create(ttl->path, view(ttl->data), ttl->acl, sdk::owner::ttlOwner(ttl->ttl), ttl->parent_cversion,
                         header.zxid, header.time, &outcome.stat);
  } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
    outcome.path = remove->path;
    status = tree.remove(remove->path, header.zxid);
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
  if (replay && status.code() == Code::kNodeExists && created_acl != nullptr) {
    tree.restorePlaceholderAcl(outcome.path, *created_acl, header.zxid);
  }
  if (!status.isOk()) outcome.err = status.code();
  return status;
}

}  // namespace

Status applyTxn(TreeMutations& tree, const sdk::TxnEntry& txn, sdk::ApplyMode mode,
                std::vector<sdk::OpOutcome>& outcomes) {
  const bool replay = mode == sdk::ApplyMode::kReplay;
  outcomes.clear();
  const auto& header = txn.header;
  Status result;
  switch (header.type) {
    case OpCode::kCreateSession:
      if (const auto* create = std::get_if<sdk::CreateSessionTxn>(&txn.body)) {
        tree.openSession(header.client_id, create->timeout);
      }
      break;
    case OpCode::kCloseSession: {
      tree.closeSession(header.client_id);
      const auto& close = std::get<sdk::CloseSessionTxn>(txn.body);
      std::vector<std::string> paths = close.no_body ? tree.ephemeralsOf(header.client_id) : close.paths_to_delete;
      for (const auto& path : paths) {
        auto status = tree.remove(path, header.zxid);
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
        auto status = applyOne(tree, sub.type, body, header, outcome, replay);
        if (!status.isOk() && result.isOk()) result = status;
        outcomes.push_back(std::move(outcome));
      }
      break;
    }
    default: {
      sdk::OpOutcome outcome;
      result = applyOne(tree, header.type, txn.body, header, outcome, replay);
      if (replay && header.type == OpCode::kCreate && result.code() == Code::kNodeExists) {
        // DataTree.processTxn: a create that meets an existing node during restore (fuzzy
        // snapshot) still advances the parent's cversion and pzxid.
        const auto& create = std::get<sdk::CreateTxn>(txn.body);
        (void)tree.setCversionPzxid(sdk::parentOf(create.path), create.parent_cversion, header.zxid);
      }
      outcomes.push_back(std::move(outcome));
      break;
    }
  }
  // DataTree.processTxn during restore: a node a fuzzy snapshot already created (or deleted) is
  // expected, not a divergence.
  if (replay && (result.code() == Code::kNoNode || result.code() == Code::kNodeExists)) return Status::ok();
  return result;
}

}  // namespace corral::formats
