#include "tree_ops.h"

#include "corral/jute.h"
#include "corral/path.h"
#include "corral/records.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

namespace {

// ZooKeeper's DataNode data limit: lengths must fit a jute int.
constexpr size_t kMaxData = 0x7ffffffe;

int32_t wrapIncrement(int32_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v) + 1u); }

}  // namespace

const sdk::AclList& TreeOps::placeholderAcl() {
  static const sdk::AclList acl{{0, {"world", "anyone"}}};
  return acl;
}

sdk::Result<NodeValue> TreeOps::node(std::string_view path) {
  auto bytes = staged_.get(Cf::kNodes, nodeKey(path));
  if (!bytes.isOk()) return bytes.status();
  if (!bytes->has_value()) return Status(Code::kNoNode, std::string(path));
  NodeValue node;
  if (!decodeNode(**bytes, node)) return Status(Code::kCorruptData, "undecodable node record for " + std::string(path));
  return node;
}

void TreeOps::putNode(std::string_view path, const NodeValue& node, bool known_absent) {
  staged_.put(Cf::kNodes, nodeKey(path), encodeNode(node), known_absent);
}

int64_t TreeOps::aclKeyOf(const sdk::AclList& acl) {
  bool is_new = false;
  const int64_t key = acls_.stage(acl, is_new);
  if (is_new) {
    std::string bytes;
    sdk::JuteWriter w(bytes);
    sdk::encode(w, acl);
    staged_.put(Cf::kAcls, be64Key(static_cast<uint64_t>(key)), std::move(bytes), true);
  }
  return key;
}

void TreeOps::indexAdd(int64_t owner, std::string_view path) {
  if (owner == 0) return;
  staged_.put(Cf::kEphemerals, ephemeralKey(owner, path), std::string(), true);
  if (isSessionOwner(owner)) ++counters_.ephemerals;
}

void TreeOps::indexRemove(int64_t owner, std::string_view path) {
  if (owner == 0) return;
  staged_.erase(Cf::kEphemerals, ephemeralKey(owner, path), true);
  if (isSessionOwner(owner)) --counters_.ephemerals;
}

Status TreeOps::create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl,
                       int64_t owner, int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time, sdk::Stat* out_stat) {
  if (path.size() < 2 || path[0] != '/') return Status(Code::kBadArguments, "not an absolute node path: " + std::string(path));
  const size_t slash = path.rfind('/');
  const std::string_view name = path.substr(slash + 1);
  std::string_view parent_path = path.substr(0, slash);
  if (name.empty()) return Status(Code::kBadArguments, "empty node name: " + std::string(path));
  if (parent_path.empty()) parent_path = "/";
  else if (parent_path.find("//") != std::string_view::npos || parent_path.back() == '/')
    return Status(Code::kBadArguments, "empty node name: " + std::string(path));
  if (data && data->size() > kMaxData) return Status(Code::kBadArguments, "data too large");

  auto parent = node(parent_path);
  if (!parent.isOk()) return parent.status().code() == Code::kNoNode ? Status(Code::kNoNode, std::string(parent_path)) : parent.status();
  auto existing = staged_.get(Cf::kNodes, nodeKey(path));
  if (!existing.isOk()) return existing.status();
  if (existing->has_value()) return Status(Code::kNodeExists, std::string(path));

  if (parent_cversion == -1) parent_cversion = wrapIncrement(parent->stat.cversion);
  if (parent_cversion > parent->stat.cversion) {
    parent->stat.cversion = parent_cversion;
    parent->stat.pzxid = zxid;
  }
  ++parent->num_children;
  putNode(parent_path, *parent);

  NodeValue child;
  child.stat.czxid = child.stat.mzxid = child.stat.pzxid = zxid;
  child.stat.ctime = child.stat.mtime = time;
  child.stat.ephemeral_owner = owner;
  child.acl_key = aclKeyOf(acl);
  child.assignData(data);
  putNode(path, child, true);
  indexAdd(owner, path);
  ++counters_.nodes;
  counters_.data_size += nodeSize(path, child.data_length);
  if (out_stat != nullptr) *out_stat = exposedStat(child);
  return Status::ok();
}

Status TreeOps::remove(std::string_view path, sdk::Zxid zxid) {
  if (path.size() < 2 || path[0] != '/') return Status(Code::kBadArguments, "cannot delete " + std::string(path));
  const size_t slash = path.rfind('/');
  std::string_view parent_path = path.substr(0, slash);
  if (parent_path.empty()) parent_path = "/";
  auto parent = node(parent_path);
  if (!parent.isOk()) return parent.status().code() == Code::kNoNode ? Status(Code::kNoNode, std::string(path)) : parent.status();
  auto child = node(path);
  if (!child.isOk() && child.status().code() != Code::kNoNode) return child.status();
  if (child.isOk() && child->num_children != 0) return Status(Code::kNotEmpty, std::string(path));
  // ZooKeeper raises the parent's pzxid (only upwards) even when the child is already gone: a
  // fuzzy snapshot may hold the parent without it.
  if (zxid > parent->stat.pzxid) parent->stat.pzxid = zxid;
  if (!child.isOk()) {
    putNode(parent_path, *parent);
    return Status(Code::kNoNode, std::string(path));
  }
  --parent->num_children;
  putNode(parent_path, *parent);
  staged_.erase(Cf::kNodes, nodeKey(path));
  indexRemove(child->stat.ephemeral_owner, path);
  --counters_.nodes;
  counters_.data_size -= nodeSize(path, child->data_length);
  return Status::ok();
}

sdk::Result<sdk::Stat> TreeOps::setData(std::string_view path, std::optional<std::string_view> data, int32_t version,
                                        sdk::Zxid zxid, sdk::TimeMs time) {
  if (data && data->size() > kMaxData) return Status(Code::kBadArguments, "data too large");
  auto current = node(path);
  if (!current.isOk()) return current.status();
  counters_.data_size -= current->data_length;
  current->assignData(data);
  counters_.data_size += current->data_length;
  current->stat.mtime = time;
  current->stat.mzxid = zxid;
  current->stat.version = version;
  putNode(path, *current);
  return exposedStat(*current);
}

sdk::Result<sdk::Stat> TreeOps::setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion) {
  auto current = node(path);
  if (!current.isOk()) return current.status();
  current->stat.aversion = aversion;
  current->acl_key = aclKeyOf(acl);
  putNode(path, *current);
  return exposedStat(*current);
}

Status TreeOps::setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto current = node(path);
  if (!current.isOk()) return current.status();
  if (cversion == -1) cversion = wrapIncrement(current->stat.cversion);
  if (cversion > current->stat.cversion) {
    current->stat.cversion = cversion;
    current->stat.pzxid = zxid;
    putNode(path, *current);
  }
  return Status::ok();
}

void TreeOps::restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid) {
  auto current = node(path);
  if (!current.isOk() || current->stat.czxid != zxid) return;
  auto list = acls_.find(current->acl_key);
  if (list == nullptr || *list != placeholderAcl()) return;
  current->acl_key = aclKeyOf(acl);
  putNode(path, *current);
}

Status TreeOps::buildFresh() {
  NodeValue root;
  root.assignData(std::string_view());
  root.num_children = 1;
  NodeValue zookeeper = root;
  zookeeper.num_children = 2;
  NodeValue quota;
  quota.assignData(std::string_view());
  NodeValue config = quota;
  config.stat.aversion = -1;
  config.acl_key = aclKeyOf(sdk::readAclUnsafe());
  putNode("/", root, true);
  putNode(sdk::kZookeeperPath, zookeeper, true);
  putNode(sdk::kQuotaPath, quota, true);
  putNode(sdk::kConfigPath, config, true);
  counters_ = TreeCounters{};
  counters_.nodes = 4;
  for (std::string_view path : {std::string_view("/"), sdk::kZookeeperPath, sdk::kQuotaPath, sdk::kConfigPath}) {
    counters_.data_size += nodeSize(path, 0);
  }
  return Status::ok();
}

}  // namespace corral::plugins::rocks
