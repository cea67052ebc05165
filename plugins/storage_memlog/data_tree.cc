#include "data_tree.h"
#include "data_tree_internal.h"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>

#include "corral/path.h"

namespace corral::plugins::memlog {

using sdk::AclList;
using sdk::Code;
using sdk::Result;
using sdk::Stat;
using sdk::StatPersisted;
using sdk::Status;
using sdk::TimeMs;
using sdk::Zxid;

using namespace detail;

// ---------------------------------------------------------------------------------------------

DataTree::DataTree() { buildFresh(); }

void DataTree::buildFresh() {
  // Built-in nodes as a fresh ZooKeeper 3.8 DataTree has them: DataNode(new byte[0], -1L,
  // new StatPersisted()) for /, /zookeeper and /zookeeper/quota, then addConfigNode() which
  // does setACL(/zookeeper/config, READ_ACL_UNSAFE, -1) -> ACL key 1, aversion -1.
  root_ = allocNode("", std::string_view{});
  Node* zk = allocNode(sdk::kZookeeperPath, std::string_view{});
  Node* quota = allocNode(sdk::kQuotaPath, std::string_view{});
  Node* config = allocNode(sdk::kConfigPath, std::string_view{});
  config->acl_slot = acl_cache_.acquire(sdk::readAclUnsafe());
  config->aversion = -1;
  auto add = [](Node* parent, Node* child) {
    const uint32_t off = parent->path_len + 1;
    parent->children = tableInsert(parent->children, child, hashName(child->nameFrom(off)), off);
  };
  add(root_, zk);
  add(zk, quota);
  add(zk, config);
  recomputeDerived();
}

void DataTree::reset() {
  std::unique_lock lock(mutex_);
  destroyAll();
  buildFresh();
}

DataTree::~DataTree() { destroyAll(); }

void DataTree::destroyAll() {
  // No root (a snapshot load that failed before its root node) still leaves the ACL cache it
  // filled: cleared below in any case, or the next load refuses its keys as duplicates.
  std::vector<Node*> stack;
  if (root_ != nullptr) stack.push_back(root_);
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    if (n->children != nullptr) {
      const uint64_t* s = n->children->slots();
      for (uint32_t i = 0; i < n->children->capacity; ++i) {
        if (s[i] != 0) stack.push_back(slotNode(s[i]));
      }
      std::free(n->children);
    }
    std::free(n);
  }
  root_ = nullptr;
  acl_cache_.clear();
  ephemerals_.clear();
  containers_.clear();
  ttls_.clear();
  load_ancestors_.clear();
  node_count_ = 0;
  approximate_data_size_ = 0;
  digest_ = 0;
}

DataTree::Node* DataTree::findLocked(std::string_view path) const {
  if (path.empty() || path == "/") return root_;
  if (path[0] != '/' || root_ == nullptr) return nullptr;
  Node* cur = root_;
  size_t pos = 1;
  for (;;) {
    const size_t slash = path.find('/', pos);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view seg = path.substr(pos, end - pos);
    if (cur->children == nullptr) return nullptr;
    const int64_t i = tableFind(cur->children, seg, hashName(seg), cur->path_len + 1);
    if (i < 0) return nullptr;
    cur = slotNode(cur->children->slots()[i]);
    if (slash == std::string_view::npos) return cur;
    pos = slash + 1;
  }
}

Stat DataTree::statOf(const Node* n) const {
  Stat s;
  s.czxid = n->czxid;
  s.mzxid = n->mzxid;
  s.ctime = n->ctime;
  s.mtime = n->mtime;
  s.version = n->version;
  const uint32_t children = childCount(n);
  // DataNode.copyStat: int arithmetic, so it wraps like Java's.
  s.cversion = static_cast<int32_t>(static_cast<uint32_t>(n->cversion) * 2u - children);
  s.aversion = n->aversion;
  s.ephemeral_owner = sdk::owner::exposed(n->ephemeral_owner);
  s.data_length = static_cast<int32_t>(n->dataSize());
  s.num_children = static_cast<int32_t>(children);
  s.pzxid = n->pzxid;
  return s;
}

StatPersisted DataTree::persistedOf(const Node* n) const {
  StatPersisted s;
  s.czxid = n->czxid;
  s.mzxid = n->mzxid;
  s.ctime = n->ctime;
  s.mtime = n->mtime;
  s.version = n->version;
  s.cversion = n->cversion;
  s.aversion = n->aversion;
  s.ephemeral_owner = n->ephemeral_owner;
  s.pzxid = n->pzxid;
  return s;
}

void DataTree::indexAdd(Node* n) {
  const int64_t owner = n->ephemeral_owner;
  if (sdk::owner::isContainer(owner)) {
    containers_.insert(n);
  } else if (sdk::owner::isTtl(owner)) {
    ttls_.insert(n);
  } else if (owner != 0) {
    ephemerals_[owner].insert(n);
  }
}

void DataTree::indexRemove(Node* n) {
  const int64_t owner = n->ephemeral_owner;
  if (sdk::owner::isContainer(owner)) {
    containers_.erase(n);
  } else if (sdk::owner::isTtl(owner)) {
    ttls_.erase(n);
  } else if (owner != 0) {
    auto it = ephemerals_.find(owner);
    if (it != ephemerals_.end()) {
      it->second.erase(n);
      if (it->second.empty()) ephemerals_.erase(it);
    }
  }
}

void DataTree::indexReplace(Node* old_node, Node* new_node) {
  if (new_node->ephemeral_owner == 0) return;
  // The old pointer is only compared (hashed), never dereferenced.
  const int64_t owner = new_node->ephemeral_owner;
  if (sdk::owner::isContainer(owner)) {
    containers_.erase(old_node);
    containers_.insert(new_node);
  } else if (sdk::owner::isTtl(owner)) {
    ttls_.erase(old_node);
    ttls_.insert(new_node);
  } else {
    auto& set = ephemerals_[owner];
    set.erase(old_node);
    set.insert(new_node);
  }
}

DataTree::Node* DataTree::relocate(Node* node, Node* parent, uint32_t new_data_size) {
  load_ancestors_.clear();  // may hold the old block
  void* mem = std::malloc(blockSize(node->path_len, new_data_size));
  if (mem == nullptr) {
    std::fputs("corral memlog: out of memory\n", stderr);
    std::abort();
  }
  auto* fresh = static_cast<Node*>(mem);
  std::memcpy(static_cast<void*>(fresh), node, sizeof(Node) + node->path_len);
  if (parent == nullptr) {
    root_ = fresh;
  } else {
    const uint32_t off = parent->path_len + 1;
    const std::string_view name = node->nameFrom(off);
    const uint64_t hash = hashName(name);
    const int64_t i = tableFind(parent->children, name, hash, off);
    parent->children->slots()[i] = makeSlot(fresh, hash);
  }
  indexReplace(node, fresh);
  freeNode(node);
  return fresh;
}

uint64_t DataTree::nodeDigest(const Node* n) const { return znodeDigest(n->path(), n->data(), persistedOf(n)); }

void DataTree::digestSub(const Node* n) {
  if (digest_enabled_) digest_ -= nodeDigest(n);
}
void DataTree::digestAdd(const Node* n) {
  if (digest_enabled_) digest_ += nodeDigest(n);
}

void DataTree::recomputeDerived() {
  node_count_ = 0;
  approximate_data_size_ = 0;
  digest_ = 0;
  if (root_ == nullptr) return;
  std::vector<const Node*> stack{root_};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++node_count_;
    approximate_data_size_ += nodeSize(n);
    if (digest_enabled_) digest_ += nodeDigest(n);
    if (n->children != nullptr) {
      const uint64_t* s = n->children->slots();
      for (uint32_t i = 0; i < n->children->capacity; ++i) {
        if (s[i] != 0) stack.push_back(slotNode(s[i]));
      }
    }
  }
}

// ---- mutations ------------------------------------------------------------------------------

Status DataTree::createNode(std::string_view path, std::optional<std::string_view> data,
                            const AclList& acl, int64_t ephemeral_owner, int32_t parent_cversion,
                            Zxid zxid, TimeMs time, Stat* out_stat) {
  if (path.size() < 2 || path[0] != '/') {
    return Status(Code::kBadArguments, "not an absolute node path: " + std::string(path));
  }
  const size_t slash = path.rfind('/');
  const std::string_view name = path.substr(slash + 1);
  const std::string_view parent_path = path.substr(0, slash);
  if (name.empty()) return Status(Code::kBadArguments, "empty node name: " + std::string(path));
  if (data && data->size() >= ZNode::kNullData) return Status(Code::kBadArguments, "data too large");

  std::unique_lock lock(mutex_);
  Node* parent = findLocked(parent_path);
  if (parent == nullptr) return Status(Code::kNoNode, std::string(parent_path));
  // "//a" finds the root through its "/" alias but could never be found again.
  if (parent->path_len != parent_path.size()) {
    return Status(Code::kBadArguments, "empty node name: " + std::string(path));
  }
  const uint32_t off = parent->path_len + 1;
  const uint64_t hash = hashName(name);
  if (parent->children != nullptr && tableFind(parent->children, name, hash, off) >= 0) {
    return Status(Code::kNodeExists, std::string(path));
  }

  digestSub(parent);
  if (parent_cversion == -1) parent_cversion = wrapIncrement(parent->cversion);
  if (parent_cversion > parent->cversion) {
    parent->cversion = parent_cversion;
    parent->pzxid = zxid;
  }
  Node* child = allocNode(path, data);
  child->czxid = child->mzxid = child->pzxid = zxid;
  child->ctime = child->mtime = time;
  child->ephemeral_owner = ephemeral_owner;
  child->acl_slot = acl_cache_.acquire(acl);
  parent->children = tableInsert(parent->children, child, hash, off);
  digestAdd(parent);
  digestAdd(child);
  ++node_count_;
  approximate_data_size_ += nodeSize(child);
  indexAdd(child);
  if (out_stat != nullptr) *out_stat = statOf(child);
  return Status::ok();
}

Status DataTree::deleteNode(std::string_view path, Zxid zxid) {
  if (path.size() < 2 || path[0] != '/') {
    return Status(Code::kBadArguments, "cannot delete " + std::string(path));
  }
  const size_t slash = path.rfind('/');
  const std::string_view name = path.substr(slash + 1);
  const std::string_view parent_path = path.substr(0, slash);

  std::unique_lock lock(mutex_);
  Node* parent = findLocked(parent_path);
  if (parent == nullptr || parent->path_len != parent_path.size()) {
    return Status(Code::kNoNode, std::string(path));
  }
  const uint32_t off = parent->path_len + 1;
  const uint64_t hash = hashName(name);
  const int64_t index =
      (parent->children != nullptr && !name.empty()) ? tableFind(parent->children, name, hash, off) : -1;
  Node* child = index >= 0 ? slotNode(parent->children->slots()[index]) : nullptr;
  if (child != nullptr && childCount(child) != 0) return Status(Code::kNotEmpty, std::string(path));

  // ZooKeeper raises the parent's pzxid (only upwards) even when the child is already gone: a
  // fuzzy snapshot may hold the parent without it.
  digestSub(parent);
  if (zxid > parent->pzxid) parent->pzxid = zxid;
  if (child == nullptr) {
    digestAdd(parent);
    return Status(Code::kNoNode, std::string(path));
  }
  parent->children = tableEraseAt(parent->children, static_cast<uint32_t>(index), off);
  load_ancestors_.clear();  // may hold the freed node
  digestAdd(parent);
  digestSub(child);
  indexRemove(child);
  acl_cache_.release(child->acl_slot);
  approximate_data_size_ -= nodeSize(child);
  --node_count_;
  freeNode(child);
  return Status::ok();
}

Result<Stat> DataTree::setData(std::string_view path, std::optional<std::string_view> data,
                               int32_t new_version, Zxid zxid, TimeMs time) {
  if (data && data->size() >= ZNode::kNullData) return Status(Code::kBadArguments, "data too large");
  std::unique_lock lock(mutex_);
  Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  digestSub(node);
  const uint32_t old_size = node->dataSize();
  const uint32_t new_size = data ? static_cast<uint32_t>(data->size()) : 0;
  const size_t have = blockSize(node->path_len, old_size);
  const size_t want = blockSize(node->path_len, new_size);
  // Reuse the block unless it is too small or would waste more than half of it.
  if (want > have || want * 2 <= have) {
    Node* parent = node == root_ ? nullptr : findLocked(sdk::parentOf(node->path()));
    node = relocate(node, parent, new_size);
  }
  if (new_size != 0) std::memcpy(node->bytes() + node->path_len, data->data(), new_size);
  node->data_len = data ? new_size : ZNode::kNullData;
  node->mtime = time;
  node->mzxid = zxid;
  node->version = new_version;
  digestAdd(node);
  approximate_data_size_ += static_cast<int64_t>(new_size) - static_cast<int64_t>(old_size);
  return statOf(node);
}

Result<Stat> DataTree::setAcl(std::string_view path, const AclList& acl, int32_t new_aversion) {
  std::unique_lock lock(mutex_);
  Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  // Release before acquire, as ZooKeeper does: re-setting the same list on its only user
  // allocates a fresh key.
  acl_cache_.release(node->acl_slot);
  digestSub(node);
  node->aversion = new_aversion;
  node->acl_slot = acl_cache_.acquire(acl);
  digestAdd(node);
  return statOf(node);
}

Status DataTree::setCversionPzxid(std::string_view path, int32_t new_cversion, Zxid zxid) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::unique_lock lock(mutex_);
  Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  if (new_cversion == -1) new_cversion = wrapIncrement(node->cversion);
  if (new_cversion > node->cversion) {
    digestSub(node);
    node->cversion = new_cversion;
    node->pzxid = zxid;
    digestAdd(node);
  }
  return Status::ok();
}

// ---- reads ----------------------------------------------------------------------------------

Result<Stat> DataTree::exists(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  return statOf(node);
}

Result<NodeInfo> DataTree::getNode(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  NodeInfo info;
  info.stat = statOf(node);
  info.persisted = persistedOf(node);
  info.acl = acl_cache_.aclsOf(node->acl_slot);
  info.acl_key = acl_cache_.keyOf(node->acl_slot);
  return info;
}

Result<DataView> DataTree::getData(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  DataView view;
  if (!node->dataIsNull()) view.data.emplace(node->data());
  view.stat = statOf(node);
  return view;
}

Result<ChildrenView> DataTree::getChildren(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  ChildrenView view;
  if (node->children != nullptr) {
    const uint32_t off = node->path_len + 1;
    view.names.reserve(node->children->size);
    const uint64_t* s = node->children->slots();
    for (uint32_t i = 0; i < node->children->capacity; ++i) {
      if (s[i] != 0) view.names.emplace_back(slotNode(s[i])->nameFrom(off));
    }
  }
  view.stat = statOf(node);
  return view;
}

Result<AclView> DataTree::getAcl(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  return AclView{acl_cache_.aclsOf(node->acl_slot), statOf(node)};
}

Result<int32_t> DataTree::getAllChildrenNumber(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  // ZooKeeper: "/" -> nodes.size() - 2; "" -> keys starting with "/", which include the "/"
  // alias of the root itself.
  if (path == "/") return static_cast<int32_t>(node_count_ - 1);
  if (path.empty()) return static_cast<int32_t>(node_count_);
  int64_t count = 0;
  std::vector<const Node*> stack{node};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (n->children == nullptr) continue;
    const uint64_t* s = n->children->slots();
    for (uint32_t i = 0; i < n->children->capacity; ++i) {
      if (s[i] != 0) {
        ++count;
        const Node* c = slotNode(s[i]);
        if (c->children != nullptr) stack.push_back(c);
      }
    }
  }
  return static_cast<int32_t>(count);
}

Result<StatPersisted> DataTree::persistedStat(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  return persistedOf(node);
}

Result<int32_t> DataTree::storedCVersion(std::string_view path) const {
  std::shared_lock lock(mutex_);
  const Node* node = findLocked(path);
  if (node == nullptr) return Status(Code::kNoNode, std::string(path));
  return node->cversion;
}

size_t DataTree::nodeCount() const {
  std::shared_lock lock(mutex_);
  return node_count_;
}

int64_t DataTree::approximateDataSize() const {
  std::shared_lock lock(mutex_);
  return approximate_data_size_;
}

// ---- indexes --------------------------------------------------------------------------------

std::vector<std::string> DataTree::ephemerals(sdk::SessionId session) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  auto it = ephemerals_.find(session);
  if (it == ephemerals_.end()) return out;
  out.reserve(it->second.size());
  for (const Node* n : it->second) out.emplace_back(n->path());
  return out;
}

std::vector<sdk::SessionId> DataTree::ephemeralSessions() const {
  std::shared_lock lock(mutex_);
  std::vector<sdk::SessionId> out;
  out.reserve(ephemerals_.size());
  for (const auto& [session, nodes] : ephemerals_) out.push_back(session);
  return out;
}

std::vector<std::pair<sdk::SessionId, std::vector<std::string>>> DataTree::allEphemerals() const {
  std::shared_lock lock(mutex_);
  std::vector<std::pair<sdk::SessionId, std::vector<std::string>>> out;
  out.reserve(ephemerals_.size());
  for (const auto& [session, nodes] : ephemerals_) {
    std::vector<std::string> paths;
    paths.reserve(nodes.size());
    for (const Node* n : nodes) paths.emplace_back(n->path());
    out.emplace_back(session, std::move(paths));
  }
  return out;
}

size_t DataTree::ephemeralsCount() const {
  std::shared_lock lock(mutex_);
  size_t total = 0;
  for (const auto& [session, nodes] : ephemerals_) total += nodes.size();
  return total;
}

ReapInfo DataTree::reapInfoOf(const Node* n) const {
  ReapInfo info;
  info.path = std::string(n->path());
  info.ephemeral_owner = n->ephemeral_owner;
  info.stored_cversion = n->cversion;
  info.num_children = static_cast<int32_t>(childCount(n));
  info.ctime = n->ctime;
  info.mtime = n->mtime;
  return info;
}

std::vector<ReapInfo> DataTree::containers() const {
  std::shared_lock lock(mutex_);
  std::vector<ReapInfo> out;
  out.reserve(containers_.size());
  for (const Node* n : containers_) out.push_back(reapInfoOf(n));
  return out;
}

std::vector<ReapInfo> DataTree::ttlNodes() const {
  std::shared_lock lock(mutex_);
  std::vector<ReapInfo> out;
  out.reserve(ttls_.size());
  for (const Node* n : ttls_) out.push_back(reapInfoOf(n));
  return out;
}

std::vector<std::string> DataTree::reapCandidates(TimeMs now, int64_t max_never_used_ms) const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const Node* n : containers_) {
    if (childCount(n) != 0) continue;
    // cversion > 0: the container has had a child, so it is not merely new.
    if (n->cversion > 0 || (max_never_used_ms != 0 && now - n->mtime >= max_never_used_ms)) {
      out.emplace_back(n->path());
    }
  }
  for (const Node* n : ttls_) {
    if (childCount(n) != 0 || !sdk::owner::isTtl(n->ephemeral_owner)) continue;
    const int64_t ttl = sdk::owner::ttlOf(n->ephemeral_owner);
    if (ttl != 0 && now - n->mtime > ttl) out.emplace_back(n->path());
  }
  return out;
}

// ---- digest ---------------------------------------------------------------------------------

void DataTree::setDigestEnabled(bool enabled) {
  std::unique_lock lock(mutex_);
  if (enabled == digest_enabled_) return;
  digest_enabled_ = enabled;
  recomputeDerived();
}

bool DataTree::digestEnabled() const {
  std::shared_lock lock(mutex_);
  return digest_enabled_;
}

int64_t DataTree::digest() const {
  std::shared_lock lock(mutex_);
  return digest_enabled_ ? static_cast<int64_t>(digest_) : 0;
}

}  // namespace corral::plugins::memlog
