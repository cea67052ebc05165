// What storage.memlog does with decoded txns and snapshot records, for the fuzz targets that
// follow a decoder into it: its DataTree (plugins/storage_memlog/data_tree.h) mutated through
// formats::applyTxn (the dispatch every storage shares), and loaded record by record as
// MemlogStorage::loadSnapshotFile / loadSnapshot do. MemlogMutations is memlog_apply.cc's adapter
// of the same name (file-local there), repeated here line for line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/formats/snapshot_codec.h"
#include "corral/formats/txn_apply.h"
#include "data_tree.h"

namespace corral::fuzz {

class MemlogMutations final : public formats::TreeMutations {
 public:
  MemlogMutations(plugins::memlog::DataTree& tree, std::map<sdk::SessionId, int32_t>& sessions)
      : tree_(tree), sessions_(sessions) {}

  sdk::Status create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl,
                     int64_t owner, int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time,
                     sdk::Stat* out_stat) override {
    return tree_.createNode(path, data, acl, owner, parent_cversion, zxid, time, out_stat);
  }
  sdk::Status remove(std::string_view path, sdk::Zxid zxid) override { return tree_.deleteNode(path, zxid); }
  sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data, int32_t version,
                                 sdk::Zxid zxid, sdk::TimeMs time) override {
    return tree_.setData(path, data, version, zxid, time);
  }
  sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion) override {
    return tree_.setAcl(path, acl, aversion);
  }
  sdk::Status setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid) override {
    return tree_.setCversionPzxid(path, cversion, zxid);
  }
  void restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid) override {
    auto node = tree_.getNode(path);
    if (node.isOk() && node->persisted.czxid == zxid && node->acl &&
        *node->acl == plugins::memlog::unknownAclPlaceholder()) {
      (void)tree_.setAcl(path, acl, node->persisted.aversion);
    }
  }
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) override { return tree_.ephemerals(session); }
  void openSession(sdk::SessionId session, int32_t timeout_ms) override { sessions_[session] = timeout_ms; }
  void closeSession(sdk::SessionId session) override { sessions_.erase(session); }

 private:
  plugins::memlog::DataTree& tree_;
  std::map<sdk::SessionId, int32_t>& sessions_;
};

// The visitor MemlogStorage builds to load a snapshot into its tree (sessions, ACL map, nodes).
inline formats::SnapshotVisitor treeLoader(plugins::memlog::DataTree& tree,
                                           std::map<sdk::SessionId, int32_t>& sessions) {
  formats::SnapshotVisitor visitor;
  visitor.on_session = [&sessions](sdk::SessionId id, int32_t timeout) { sessions[id] = timeout; };
  visitor.on_acl = [&tree](int64_t key, sdk::AclList acl) { return tree.loadAcl(key, std::move(acl)); };
  visitor.on_node = [&tree](std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                            const sdk::StatPersisted& stat) { return tree.loadNode(path, data, acl_key, stat); };
  return visitor;
}

// Reads after a load or after txns, as the server's readers do: every node's data, children,
// ACL and stat, walked from the root (bounded, so a deep tree stays cheap).
inline void readBack(const plugins::memlog::DataTree& tree, size_t max_nodes = 256) {
  std::vector<std::string> todo{"/"};
  size_t seen = 0;
  while (!todo.empty() && seen++ < max_nodes) {
    const std::string path = std::move(todo.back());
    todo.pop_back();
    (void)tree.getData(path);
    (void)tree.getAcl(path);
    (void)tree.getAllChildrenNumber(path);
    auto children = tree.getChildren(path);
    if (!children.isOk()) continue;
    for (const auto& name : children->names) todo.push_back(path == "/" ? "/" + name : path + "/" + name);
  }
  (void)tree.nodeCount();
  (void)tree.approximateDataSize();
  (void)tree.digest();
  (void)tree.ephemeralSessions();
  (void)tree.containers();
  (void)tree.ttlNodes();
  (void)tree.reapCandidates(0, 0);
}

}  // namespace corral::fuzz
