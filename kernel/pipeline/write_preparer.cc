#include "kernel/pipeline/write_preparer.h"

#include <algorithm>
#include <set>

#include "corral/path.h"

namespace corral::kernel::pipeline {
namespace {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;

Status fail(Code code, std::string_view path = {}) { return Status(code, std::string(path)); }

// checkAndIncVersion: -1 matches any version.
Status checkVersion(int32_t current, int32_t expected, std::string_view path, int32_t& next) {
  if (expected != -1 && expected != current) return fail(Code::kBadVersion, path);
  next = current + 1;
  return Status::ok();
}

// The parent of a path for create/delete, or BadArguments: the path needs a '/' and no NUL.
// The root's parent is "" (ZooKeeper keys the root under "" too).
bool parentForWrite(std::string_view path, std::string& parent) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos || path.find('\0') != std::string_view::npos) return false;
  parent = std::string(path.substr(0, slash));
  return true;
}

sdk::TxnEntry makeEntry(const PrepareContext& context, OpCode type, sdk::TxnBody body) {
  sdk::TxnEntry entry;
  entry.header = sdk::TxnHeader{context.session, context.cxid, context.zxid, context.time, type};
  entry.body = std::move(body);
  return entry;
}

sdk::TxnEntry errorEntry(const PrepareContext& context, Code code) {
  return makeEntry(context, OpCode::kError, sdk::ErrorTxn{code});
}

}  // namespace

void WritePreparer::record(const std::string& path, NodeState state, sdk::Zxid zxid, SavedStates* saved) {
  if (saved != nullptr && saved->count(path) == 0) saved->emplace(path, pending_.peek(path));
  pending_.put(path, std::move(state), zxid);
}

Status WritePreparer::prepareCreate(const PrepareContext& context, OpCode type,
                                    const std::string& path_in, const sdk::OptionalBytes& data,
                                    const sdk::AclList& acl, bool acl_null, int32_t flags, int64_t ttl,
                                    OpCode& txn_type, sdk::TxnBody& txn, SavedStates* saved) {
  if (!sdk::isValidCreateFlags(flags)) return fail(Code::kBadArguments, path_in);
  auto mode = static_cast<sdk::CreateMode>(flags);
  // validateCreateRequest: TTL modes need extended types; a TTL only with a TTL mode.
  if (sdk::isTtl(mode)) {
    if (!extended_types_) return fail(Code::kUnimplemented, path_in);
    if (ttl <= 0 || ttl > sdk::owner::kMaxTtl) return fail(Code::kBadArguments, path_in);
  } else if (ttl >= 0 || type == OpCode::kCreateTtl) {
    // 3.8.0 lets createTTL with a non-TTL mode and a negative TTL through and then dies
    // applying it; we refuse every createTTL without a TTL mode.
    return fail(Code::kBadArguments, path_in);
  }
  std::string parent_path;
  if (!parentForWrite(path_in, parent_path)) return fail(Code::kBadArguments, path_in);
  auto fixed = acl_null ? sdk::Result<sdk::AclList>(Status(Code::kInvalidAcl)) : acl_.fixup(acl, *context.ids);
  if (!fixed.isOk()) return fail(Code::kInvalidAcl, path_in);
  NodeState parent = pending_.get(parent_path);
  if (!parent.exists) return fail(Code::kNoNode, path_in);
  if (!acl_.check(parent.acl, sdk::perms::kCreate, *context.ids)) return fail(Code::kNoAuth, path_in);
  std::string path = path_in;
  if (sdk::isSequential(mode)) path = sdk::sequentialPath(path_in, parent.stored_cversion);
  if (auto status = sdk::validatePath(path); !status.isOk()) return fail(Code::kBadArguments, path);
  if (pending_.get(path).exists) return fail(Code::kNodeExists, path);
  if (parent.raw_owner != 0 && !sdk::owner::isContainer(parent.raw_owner) &&
      !sdk::owner::isTtl(parent.raw_owner)) {
    return fail(Code::kNoChildrenForEphemerals, path);
  }
  const int32_t new_cversion = parent.stored_cversion + 1;
  NodeState node;
  node.exists = true;
  node.acl = *fixed;
  if (type == OpCode::kCreateContainer) {
    txn_type = OpCode::kCreateContainer;
    txn = sdk::CreateContainerTxn{path, data, *fixed, new_cversion};
    node.raw_owner = sdk::owner::kContainer;
  } else if (type == OpCode::kCreateTtl) {
    txn_type = OpCode::kCreateTtl;
    txn = sdk::CreateTtlTxn{path, data, *fixed, new_cversion, ttl};
    node.raw_owner = sdk::owner::ttlOwner(ttl);
  } else {
    txn_type = type;
    const bool ephemeral = sdk::isEphemeral(mode);
    txn = sdk::CreateTxn{path, data, *fixed, ephemeral, new_cversion};
    node.raw_owner = ephemeral ? context.session : 0;
  }
  parent.stored_cversion = new_cversion;
  parent.num_children += 1;
  record(parent_path.empty() ? "/" : parent_path, std::move(parent), context.zxid, saved);
  record(path, std::move(node), context.zxid, saved);
  return Status::ok();
}

Status WritePreparer::prepareDelete(const PrepareContext& context, const std::string& path,
                                    int32_t version, sdk::TxnBody& txn, SavedStates* saved) {
  std::string parent_path;
  if (!parentForWrite(path, parent_path) || sdk::isReservedPath(path)) {
    return fail(Code::kBadArguments, path);
  }
  NodeState parent = pending_.get(parent_path);
  if (!parent.exists) return fail(Code::kNoNode, path);
  if (!acl_.check(parent.acl, sdk::perms::kDelete, *context.ids)) return fail(Code::kNoAuth, path);
  NodeState node = pending_.get(path);
  if (!node.exists) return fail(Code::kNoNode, path);
  int32_t next = 0;
  if (auto status = checkVersion(node.version, version, path, next); !status.isOk()) return status;
  if (node.num_children > 0) return fail(Code::kNotEmpty, path);
  txn = sdk::DeleteTxn{path};
  parent.num_children -= 1;
  record(parent_path.empty() ? "/" : parent_path, std::move(parent), context.zxid, saved);
  record(path, NodeState{}, context.zxid, saved);
  return Status::ok();
}

Status WritePreparer::prepareOp(const PrepareContext& context, OpCode type, const sdk::RequestBody& body,
                                OpCode& txn_type, sdk::TxnBody& txn, SavedStates* saved) {
  txn_type = type;
  switch (type) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer: {
      const auto& create = std::get<sdk::CreateRequest>(body);
      return prepareCreate(context, type, create.path, create.data, create.acl, create.acl_null,
                           create.flags, -1, txn_type, txn, saved);
    }
    case OpCode::kCreateTtl: {
      const auto& create = std::get<sdk::CreateTtlRequest>(body);
      return prepareCreate(context, type, create.path, create.data, create.acl, create.acl_null,
                           create.flags, create.ttl, txn_type, txn, saved);
    }
    case OpCode::kDelete: {
      const auto& remove = std::get<sdk::DeleteRequest>(body);
      return prepareDelete(context, remove.path, remove.version, txn, saved);
    }
    case OpCode::kSetData: {
      const auto& set = std::get<sdk::SetDataRequest>(body);
      if (auto status = sdk::validatePath(set.path); !status.isOk()) return fail(Code::kBadArguments, set.path);
      NodeState node = pending_.get(set.path);
      if (!node.exists) return fail(Code::kNoNode, set.path);
      if (!acl_.check(node.acl, sdk::perms::kWrite, *context.ids)) return fail(Code::kNoAuth, set.path);
      int32_t next = 0;
      if (auto status = checkVersion(node.version, set.version, set.path, next); !status.isOk()) return status;
      txn = sdk::SetDataTxn{set.path, set.data, next};
      node.version = next;
      record(set.path, std::move(node), context.zxid, saved);
      return Status::ok();
    }
    case OpCode::kSetAcl: {
      const auto& set = std::get<sdk::SetAclRequest>(body);
      if (auto status = sdk::validatePath(set.path); !status.isOk()) return fail(Code::kBadArguments, set.path);
      auto fixed = set.acl_null ? sdk::Result<sdk::AclList>(Status(Code::kInvalidAcl))
                                : acl_.fixup(set.acl, *context.ids);
      if (!fixed.isOk()) return fail(Code::kInvalidAcl, set.path);
      NodeState node = pending_.get(set.path);
      if (!node.exists) return fail(Code::kNoNode, set.path);
      if (!acl_.check(node.acl, sdk::perms::kAdmin, *context.ids)) return fail(Code::kNoAuth, set.path);
      int32_t next = 0;
      if (auto status = checkVersion(node.aversion, set.version, set.path, next); !status.isOk()) return status;
      txn = sdk::SetAclTxn{set.path, *fixed, next};
      node.aversion = next;
      node.acl = *fixed;
      record(set.path, std::move(node), context.zxid, saved);
      return Status::ok();
    }
    case OpCode::kCheck: {
      const auto& check = std::get<sdk::CheckVersionRequest>(body);
      if (auto status = sdk::validatePath(check.path); !status.isOk()) return fail(Code::kBadArguments, check.path);
      NodeState node = pending_.get(check.path);
      if (!node.exists) return fail(Code::kNoNode, check.path);
      if (!acl_.check(node.acl, sdk::perms::kRead, *context.ids)) return fail(Code::kNoAuth, check.path);
      int32_t next = 0;
      if (auto status = checkVersion(node.version, check.version, check.path, next); !status.isOk()) return status;
      txn = sdk::CheckVersionTxn{check.path, next};
      return Status::ok();
    }
    default:
      return fail(Code::kMarshallingError);
  }
}

sdk::TxnEntry WritePreparer::prepareMulti(const PrepareContext& context, const sdk::MultiRequest& multi) {
  (void)pending_.takeReadFailure();  // only this request's reads count
  // A multi with read ops, or create sub-ops with TTL flags, is refused as undecodable.
  for (const auto& op : multi.ops) {
    if (sdk::isMultiReadOp(op.type)) return errorEntry(context, Code::kMarshallingError);
    if (const auto* create = std::get_if<sdk::CreateRequest>(&op.op)) {
      if (create->flags == 5 || create->flags == 6) return errorEntry(context, Code::kMarshallingError);
    }
  }
  SavedStates saved;
  sdk::MultiTxn txns;
  bool failed = false;
  for (const auto& op : multi.ops) {
    if (failed) {
      txns.txns.push_back(sdk::makeTxn(OpCode::kError, sdk::ErrorTxn{Code::kRuntimeInconsistency}));
      continue;
    }
    // Inside a multi, create/create2/createContainer are told apart by their flags alone.
    OpCode type = op.type;
    if (type == OpCode::kCreate || type == OpCode::kCreate2 || type == OpCode::kCreateContainer) {
      const auto& create = std::get<sdk::CreateRequest>(op.op);
      type = create.flags == static_cast<int32_t>(sdk::CreateMode::kContainer) ? OpCode::kCreateContainer
                                                                                : OpCode::kCreate;
    }
    sdk::RequestBody body = std::visit([](const auto& record) -> sdk::RequestBody { return record; }, op.op);
    OpCode txn_type = type;
    sdk::TxnBody txn;
    auto status = prepareOp(context, type, body, txn_type, txn, &saved);
    if (pending_.takeReadFailure() != Code::kOk) status = fail(Code::kSystemError);
    if (!status.isOk()) {
      failed = true;
      pending_.rollback(context.zxid, saved);
      txns.txns.push_back(sdk::makeTxn(OpCode::kError, sdk::ErrorTxn{status.code()}));
      continue;
    }
    std::string bytes;
    sdk::JuteWriter writer(bytes);
    sdk::encode(writer, txn);
    txns.txns.push_back(sdk::Txn{txn_type, std::move(bytes)});
  }
  return makeEntry(context, OpCode::kMulti, std::move(txns));
}

sdk::TxnEntry WritePreparer::prepare(const PrepareContext& context, const sdk::ClientRequest& request) {
  if (request.decode_error != Code::kOk) return errorEntry(context, request.decode_error);
  if (request.op == OpCode::kMulti) return prepareMulti(context, std::get<sdk::MultiRequest>(request.body));
  OpCode txn_type = request.op;
  sdk::TxnBody txn;
  (void)pending_.takeReadFailure();  // only this request's reads count
  SavedStates saved;
  auto status = prepareOp(context, request.op, request.body, txn_type, txn, &saved);
  if (pending_.takeReadFailure() != Code::kOk) {
    // The storage could not read a node this op depends on: no change of it may stay pending.
    if (status.isOk()) pending_.rollback(context.zxid, saved);
    status = fail(Code::kSystemError);
  }
  if (!status.isOk()) return errorEntry(context, status.code());
  return makeEntry(context, txn_type, std::move(txn));
}

sdk::TxnEntry WritePreparer::createSession(const PrepareContext& context, int32_t timeout_ms) {
  return makeEntry(context, OpCode::kCreateSession, sdk::CreateSessionTxn{timeout_ms});
}

sdk::TxnEntry WritePreparer::closeSession(const PrepareContext& context, std::vector<std::string> ephemerals) {
  std::set<std::string> paths(ephemerals.begin(), ephemerals.end());
  // Fold in this session's ephemerals that are created or deleted but not applied yet.
  for (auto it = paths.begin(); it != paths.end();) {
    it = pending_.has(*it) && !pending_.get(*it).exists ? paths.erase(it) : std::next(it);
  }
  sdk::CloseSessionTxn txn;
  for (const auto& path : paths) {
    std::string parent_path;
    if (!parentForWrite(path, parent_path)) continue;
    NodeState parent = pending_.get(parent_path);
    if (parent.exists) {
      parent.num_children -= 1;
      pending_.put(parent_path.empty() ? "/" : parent_path, std::move(parent), context.zxid);
    }
    pending_.put(path, NodeState{}, context.zxid);
    txn.paths_to_delete.push_back(path);
  }
  // A session's close must go through: the storage deletes what the txn names (ZooKeeper's
  // closeSession never fails either); a read failure here is not the next request's.
  (void)pending_.takeReadFailure();
  return makeEntry(context, OpCode::kCloseSession, std::move(txn));
}

sdk::TxnEntry WritePreparer::deleteNode(const PrepareContext& context, const std::string& path, bool container) {
  sdk::TxnBody txn;
  static const std::vector<sdk::Id> kServerIds{sdk::Id{"super", ""}};
  PrepareContext server_context = context;
  server_context.ids = &kServerIds;
  (void)pending_.takeReadFailure();
  SavedStates saved;
  auto status = prepareDelete(server_context, path, -1, txn, &saved);
  if (pending_.takeReadFailure() != Code::kOk) {
    if (status.isOk()) pending_.rollback(context.zxid, saved);
    status = fail(Code::kSystemError);
  }
  if (!status.isOk()) return errorEntry(context, status.code());
  return makeEntry(context, container ? OpCode::kDeleteContainer : OpCode::kDelete, std::move(txn));
}

sdk::TxnEntry WritePreparer::reconfig(const PrepareContext& context, std::string config) {
  const std::string path(sdk::kConfigPath);
  NodeState node = pending_.get(path);
  if (!node.exists) return errorEntry(context, Code::kNoNode);
  if (!acl_.check(node.acl, sdk::perms::kWrite, *context.ids)) return errorEntry(context, Code::kNoAuth);
  node.version = -1;
  record(path, std::move(node), context.zxid, nullptr);
  return makeEntry(context, OpCode::kReconfig, sdk::SetDataTxn{path, std::move(config), -1});
}

}  // namespace corral::kernel::pipeline
