#include "memlog_storage.h"

namespace corral::plugins::memlog {
namespace {

using sdk::Code;
using sdk::OpCode;

std::optional<std::string_view> view(const sdk::OptionalBytes& data) {
  if (!data) return std::nullopt;
  return std::string_view(*data);
}

}  // namespace

bool MemlogStorage::read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept {
  try {
    auto node = tree_.getNode(path);
    if (!node.isOk()) return false;
    out.stat = node->stat;
    out.stored_cversion = node->persisted.cversion;
    out.raw_owner = node->persisted.ephemeral_owner;
    if (fields & sdk::NodeRead::kAcl) out.acl = node->acl ? *node->acl : sdk::AclList{};
    if (fields & sdk::NodeRead::kData) {
      auto data = tree_.getData(path);
      if (!data.isOk()) return false;
      out.data = std::move(data->data);
      out.stat = data->stat;
    }
    if (fields & sdk::NodeRead::kChildren) {
      auto children = tree_.getChildren(path);
      if (!children.isOk()) return false;
      out.children = std::move(children->names);
      out.stat = children->stat;
    }
    return true;
  } catch (...) {
    return false;
  }
}

int64_t MemlogStorage::countDescendants(std::string_view path) const noexcept {
  auto count = tree_.getAllChildrenNumber(path);
  return count.isOk() ? *count : -1;
}

std::vector<std::string> MemlogStorage::ephemeralsOf(sdk::SessionId session) const {
  return tree_.ephemerals(session);
}

std::vector<sdk::ReapCandidate> MemlogStorage::reapCandidates() const {
  std::vector<sdk::ReapCandidate> candidates;
  auto add = [&](const std::vector<ReapInfo>& infos) {
    for (const auto& info : infos) {
      candidates.push_back({info.path, info.ephemeral_owner, info.stored_cversion, info.num_children, info.mtime});
    }
  };
  add(tree_.containers());
  add(tree_.ttlNodes());
  return candidates;
}

sdk::TreeStats MemlogStorage::stats() const noexcept {
  sdk::TreeStats stats;
  stats.node_count = static_cast<int64_t>(tree_.nodeCount());
  stats.ephemeral_count = static_cast<int64_t>(tree_.ephemeralsCount());
  stats.approximate_data_size = tree_.approximateDataSize();
  stats.last_applied_zxid = last_applied_.load();
  return stats;
}

sdk::Status MemlogStorage::applyOne(OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                                    sdk::OpOutcome& outcome) {
  outcome.type = type;
  outcome.err = Code::kOk;
  sdk::Status status;
  if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
    outcome.path = create->path;
    status = tree_.createNode(create->path, view(create->data), create->acl,
                              create->ephemeral ? header.client_id : 0, create->parent_cversion,
                              header.zxid, header.time, &outcome.stat);
  } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
    outcome.path = container->path;
    status = tree_.createNode(container->path, view(container->data), container->acl,
                              sdk::owner::kContainer, container->parent_cversion, header.zxid,
                              header.time, &outcome.stat);
  } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
    outcome.path = ttl->path;
    status = tree_.createNode(ttl->path, view(ttl->data), ttl->acl, sdk::owner::ttlOwner(ttl->ttl),
                              ttl->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
    outcome.path = remove->path;
    status = tree_.deleteNode(remove->path, header.zxid);
  } else if (const auto* set = std::get_if<sdk::SetDataTxn>(&body)) {
    outcome.path = set->path;
    auto stat = tree_.setData(set->path, view(set->data), set->version, header.zxid, header.time);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* set_acl = std::get_if<sdk::SetAclTxn>(&body)) {
    outcome.path = set_acl->path;
    auto stat = tree_.setAcl(set_acl->path, set_acl->acl, set_acl->version);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* check = std::get_if<sdk::CheckVersionTxn>(&body)) {
    outcome.path = check->path;
  } else if (const auto* error = std::get_if<sdk::ErrorTxn>(&body)) {
    outcome.type = OpCode::kError;
    outcome.err = error->err;
  }
  if (!status.isOk()) outcome.err = status.code();
  return status;
}

sdk::Status MemlogStorage::apply(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes) noexcept {
  try {
    outcomes.clear();
    const auto& header = txn.header;
    sdk::Status result;
    switch (header.type) {
      case OpCode::kCreateSession:
        break;
      case OpCode::kCloseSession: {
        const auto& close = std::get<sdk::CloseSessionTxn>(txn.body);
        std::vector<std::string> paths = close.no_body ? tree_.ephemerals(header.client_id) : close.paths_to_delete;
        for (const auto& path : paths) {
          auto status = tree_.deleteNode(path, header.zxid);
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
            return sdk::Status(Code::kCorruptData, "undecodable op in multi txn");
          }
          auto status = applyOne(sub.type, body, header, outcome);
          if (!status.isOk() && result.isOk()) result = status;
          outcomes.push_back(std::move(outcome));
        }
        break;
      }
      default: {
        sdk::OpOutcome outcome;
        result = applyOne(header.type, txn.body, header, outcome);
        outcomes.push_back(std::move(outcome));
        break;
      }
    }
    last_applied_ = header.zxid;
    return result;
  } catch (const std::exception& error) {
    return sdk::Status(Code::kInternal, error.what());
  }
}

void MemlogStorage::append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept {
  (void)txns;
  done(sdk::Status::ok());
}

sdk::Status MemlogStorage::recover(std::vector<sdk::RecoveredSession>& sessions) noexcept {
  sessions.clear();
  return sdk::Status::ok();
}

}  // namespace corral::plugins::memlog
