#include "kernel/pipeline/watch_dispatcher.h"

#include <unordered_set>

namespace corral::kernel::pipeline {
namespace {

std::string_view parentPath(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == 0 || slash == std::string_view::npos) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::unordered_map<std::string, sdk::AclList> WatchDispatcher::aclsOfDeleted(const sdk::TxnEntry& txn) const {
  std::unordered_map<std::string, sdk::AclList> acls;
  if (empty()) return acls;
  auto remember = [&](const std::string& path) {
    sdk::NodeRead node;
    if (storage_.read(path, sdk::NodeRead::kAcl, node) == sdk::Code::kOk) acls[path] = std::move(node.acl);
  };
  if (const auto* remove = std::get_if<sdk::DeleteTxn>(&txn.body)) remember(remove->path);
  if (const auto* close = std::get_if<sdk::CloseSessionTxn>(&txn.body)) {
    for (const auto& path : close->paths_to_delete) remember(path);
  }
  if (const auto* multi = std::get_if<sdk::MultiTxn>(&txn.body)) {
    for (const auto& sub : multi->txns) {
      if (sub.type != sdk::OpCode::kDelete) continue;
      sdk::TxnBody body;
      if (sdk::decodeSubTxn(sub, body)) remember(std::get<sdk::DeleteTxn>(body).path);
    }
  }
  return acls;
}

void WatchDispatcher::deliver(const std::vector<watch::WatcherId>& watchers, sdk::EventType type,
                              const std::string& path, const sdk::AclList* acl) {
  for (auto watcher : watchers) {
    ConnectionState* connection = find_(watcher);
    if (connection == nullptr || connection->closed) continue;
    if (acl != nullptr && !acl_.check(*acl, sdk::perms::kRead, connection->ids)) continue;
    connection->link->sendEvent(sdk::WatcherEvent{type, sdk::KeeperState::kSyncConnected, path});
  }
}

void WatchDispatcher::fire(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
                           const std::unordered_map<std::string, sdk::AclList>& deleted_acls) {
  if (empty()) return;
  auto aclOf = [&](const std::string& path, sdk::AclList& out) -> const sdk::AclList* {
    sdk::NodeRead node;
    const sdk::Code code = storage_.read(path, sdk::NodeRead::kAcl, node);
    if (code == sdk::Code::kNoNode) return nullptr;
    // A node whose ACL cannot be read: nobody but super passes the READ check (fail closed; an
    // empty list would let everyone in, as in ZooKeeper).
    out = code == sdk::Code::kOk ? std::move(node.acl) : sdk::AclList{{0, {"world", "anyone"}}};
    return &out;
  };
  auto childrenChanged = [&](const std::string& path) {
    std::string parent(parentPath(path));
    auto watchers = children_.trigger(parent, sdk::EventType::kNodeChildrenChanged);
    if (watchers.empty()) return;
    metrics_.node_children_watch_count.add(static_cast<int64_t>(watchers.size()));
    sdk::AclList acl;
    deliver(watchers, sdk::EventType::kNodeChildrenChanged, parent, aclOf(parent, acl));
  };
  auto created = [&](const std::string& path) {
    auto watchers = data_.trigger(path, sdk::EventType::kNodeCreated);
    if (!watchers.empty()) {
      metrics_.node_created_watch_count.add(static_cast<int64_t>(watchers.size()));
      sdk::AclList acl;
      deliver(watchers, sdk::EventType::kNodeCreated, path, aclOf(path, acl));
    }
    childrenChanged(path);
  };
  auto deleted = [&](const std::string& path) {
    auto data = data_.trigger(path, sdk::EventType::kNodeDeleted);
    std::unordered_set<watch::WatcherId> seen(data.begin(), data.end());
    auto children = children_.trigger(path, sdk::EventType::kNodeDeleted, &seen);
    data.insert(data.end(), children.begin(), children.end());
    if (!data.empty()) {
      metrics_.node_deleted_watch_count.add(static_cast<int64_t>(data.size()));
      auto acl = deleted_acls.find(path);
      deliver(data, sdk::EventType::kNodeDeleted, path, acl == deleted_acls.end() ? nullptr : &acl->second);
    }
    childrenChanged(path);
  };
  auto changed = [&](const std::string& path) {
    auto watchers = data_.trigger(path, sdk::EventType::kNodeDataChanged);
    if (watchers.empty()) return;
    metrics_.node_changed_watch_count.add(static_cast<int64_t>(watchers.size()));
    sdk::AclList acl;
    deliver(watchers, sdk::EventType::kNodeDataChanged, path, aclOf(path, acl));
  };
  if (const auto* close = std::get_if<sdk::CloseSessionTxn>(&txn.body)) {
    for (const auto& path : close->paths_to_delete) deleted(path);
    return;
  }
  for (const auto& outcome : outcomes) {
    if (outcome.err != sdk::Code::kOk) continue;
    switch (outcome.type) {
      case sdk::OpCode::kCreate:
      case sdk::OpCode::kCreate2:
      case sdk::OpCode::kCreateContainer:
      case sdk::OpCode::kCreateTtl: created(outcome.path); break;
      case sdk::OpCode::kDelete:
      case sdk::OpCode::kDeleteContainer: deleted(outcome.path); break;
      case sdk::OpCode::kSetData:
      case sdk::OpCode::kReconfig: changed(outcome.path); break;  // reconfig sets /zookeeper/config
      default: break;
    }
  }
}

}  // namespace corral::kernel::pipeline
