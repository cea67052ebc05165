#include <mutex>
#include <utility>

#include "data_tree.h"
#include "data_tree_internal.h"

namespace corral::plugins::memlog {

using sdk::AclList;
using sdk::Code;
using sdk::StatPersisted;
using sdk::Status;
using namespace detail;

// ---- snapshots ------------------------------------------------------------------------------

void DataTree::visitSnapshot(const std::function<void(int64_t, const AclList&)>& on_acl,
                             const std::function<void(const NodeRecord&)>& on_node) const {
  std::shared_lock lock(mutex_);
  if (on_acl) {
    for (const auto& [key, acl] : acl_cache_.entries()) on_acl(key, *acl);
  }
  if (!on_node || root_ == nullptr) return;
  std::vector<const Node*> stack{root_};
  NodeRecord record;
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    record.path = n->path();
    if (n->dataIsNull()) {
      record.data.reset();
    } else {
      record.data = n->data();
    }
    record.acl_key = acl_cache_.keyOf(n->acl_slot);
    record.stat = persistedOf(n);
    on_node(record);
    if (n->children != nullptr) {
      const uint64_t* s = n->children->slots();
      for (uint32_t i = 0; i < n->children->capacity; ++i) {
        if (s[i] != 0) stack.push_back(slotNode(s[i]));
      }
    }
  }
}

std::vector<std::pair<int64_t, std::shared_ptr<const AclList>>> DataTree::aclEntries() const {
  std::shared_lock lock(mutex_);
  return acl_cache_.entries();
}

int64_t DataTree::aclRefCount(int64_t acl_key) const {
  std::shared_lock lock(mutex_);
  return acl_cache_.refCount(acl_key);
}

void DataTree::clearForLoad(DigestSource digest_source) {
  std::unique_lock lock(mutex_);
  unknown_acl_keys_ = 0;
  load_digest_source_ = digest_source;
  destroyAll();
}

Status DataTree::loadAcl(int64_t key, AclList acl) {
  std::unique_lock lock(mutex_);
  return acl_cache_.insertLoaded(key, std::move(acl));
}

DataTree::Node* DataTree::findLoadParent(std::string_view parent_path) {
  // Snapshots list every parent before its children, depth first (ZooKeeper's serializeNode and
  // visitSnapshot alike), so the parent is almost always on the chain of the nodes just loaded:
  // drop the chain's entries that are not it, and walk the tree from the root only otherwise.
  while (!load_ancestors_.empty()) {
    Node* candidate = load_ancestors_.back();
    if (candidate->path() == parent_path) return candidate;
    load_ancestors_.pop_back();
  }
  Node* parent = findLocked(parent_path);
  if (parent != nullptr && parent->path_len == parent_path.size()) {
    load_ancestors_.push_back(parent);
    return parent;
  }
  return nullptr;
}

Status DataTree::loadNode(std::string_view path, std::optional<std::string_view> data,
                          int64_t acl_key, const StatPersisted& stat) {
  if (data && data->size() >= ZNode::kNullData) return Status(Code::kCorruptData, "data too large");
  std::unique_lock lock(mutex_);
  Node* parent = nullptr;
  uint32_t off = 0;
  uint64_t hash = 0;
  if (path.empty()) {
    if (root_ != nullptr) return Status(Code::kCorruptData, "Invalid Datatree, root stored twice");
  } else {
    const size_t slash = path.rfind('/');
    if (path[0] != '/' || slash == std::string_view::npos || slash + 1 == path.size() || root_ == nullptr) {
      return Status(Code::kCorruptData, "Invalid Datatree, bad node path " + std::string(path));
    }
    const std::string_view parent_path = path.substr(0, slash);
    parent = findLoadParent(parent_path);
    if (parent == nullptr) {
      return Status(Code::kCorruptData, "Invalid Datatree, unable to find parent " +
                                            std::string(parent_path) + " of path " + std::string(path));
    }
    off = parent->path_len + 1;
    const std::string_view name = path.substr(slash + 1);
    hash = hashName(name);
    if (parent->children != nullptr && tableFind(parent->children, name, hash, off) >= 0) {
      return Status(Code::kCorruptData, "Invalid Datatree, node stored twice: " + std::string(path));
    }
  }
  std::optional<uint32_t> slot = acl_cache_.addUsage(acl_key);
  if (!slot) {
    // A fuzzy snapshot (ZooKeeper's or ours) may hold a node created or re-ACLed after its ACL
    // map was written. ZooKeeper loads such a node anyway (ReferenceCountedACLCache.addUsage
    // ignores the key); so do we, with a placeholder ACL until the replay of that txn sets it.
    if (auto st = acl_cache_.insertLoaded(acl_key, unknownAclPlaceholder()); !st.isOk()) return st;
    slot = acl_cache_.addUsage(acl_key);
    ++unknown_acl_keys_;
  }
  Node* node = allocNode(path, data);
  node->czxid = stat.czxid;
  node->mzxid = stat.mzxid;
  node->ctime = stat.ctime;
  node->mtime = stat.mtime;
  node->version = stat.version;
  node->cversion = stat.cversion;
  node->aversion = stat.aversion;
  node->ephemeral_owner = stat.ephemeral_owner;
  node->pzxid = stat.pzxid;
  node->acl_slot = *slot;
  if (parent == nullptr) {
    root_ = node;
  } else {
    parent->children = tableInsert(parent->children, node, hash, off);
    indexAdd(node);  // the root is never indexed, as in ZooKeeper
  }
  load_ancestors_.push_back(node);
  // Count, size and digest while the node is still in cache, instead of a second walk over
  // the whole tree in finishLoad.
  ++node_count_;
  approximate_data_size_ += nodeSize(node);
  if (load_digest_source_ == DigestSource::kComputeWhileLoading) digestAdd(node);
  return Status::ok();
}

Status DataTree::finishLoad(std::optional<uint64_t> supplied_digest) {
  std::unique_lock lock(mutex_);
  load_ancestors_.clear();
  load_ancestors_.shrink_to_fit();
  const DigestSource source = std::exchange(load_digest_source_, DigestSource::kComputeWhileLoading);
  if (root_ == nullptr) return Status(Code::kCorruptData, "Invalid Datatree, no root node");
  if (source == DigestSource::kSuppliedByCaller) {
    if (!supplied_digest) return Status(Code::kInternal, "snapshot load: the tree digest was not supplied");
    if (digest_enabled_) digest_ = *supplied_digest;
  }
  acl_cache_.purgeUnused();
  return Status::ok();
}


// ---- fuzzy walk -------------------------------------------------------------------------------

namespace {
constexpr size_t kPrefetchAhead = 8;  // slots; ~a memory latency's worth of encoding
}  // namespace

void DataTree::freeNode(Node* node) {
  // While a walk runs it may still read the name of a node it copied the slot of.
  if (walks_ > 0) {
    graveyard_.push_back(node);
  } else {
    std::free(node);
  }
}

DataTree::Walk::Walk(const DataTree& tree) : tree_(tree) {}

DataTree::Walk::~Walk() {
  std::unique_lock lock(tree_.mutex_);
  if (--tree_.walks_ == 0) {
    for (Node* node : tree_.graveyard_) std::free(node);
    tree_.graveyard_.clear();
    tree_.graveyard_.shrink_to_fit();
  }
}

std::unique_ptr<DataTree::Walk> DataTree::beginWalk(
    const std::function<void(int64_t key, const AclList& acl)>& on_acl) const {
  std::unique_ptr<Walk> walk(new Walk(*this));
  // Exclusive: the walk count changes only while no mutator runs.
  std::unique_lock lock(mutex_);
  ++walks_;
  if (on_acl) {
    for (const auto& [key, acl] : acl_cache_.entries()) on_acl(key, *acl);
  }
  return walk;
}

void DataTree::Walk::pushChildrenOf(const Node* node) {
  if (node->children == nullptr || node->children->size == 0) return;
  Frame frame;
  frame.path.assign(node->path());
  frame.name_offset = node->path_len + 1;
  // The whole table, empty slots too: a slot still holding the same value at the same index
  // later is the same child, found without hashing its name (memcpy-cheap, 8 bytes a slot).
  const uint64_t* s = node->children->slots();
  frame.slots.assign(s, s + node->children->capacity);
  stack_.push_back(std::move(frame));
}

void DataTree::Walk::emit(const Node* node, const std::function<void(const NodeRecord&)>& on_node) {
  NodeRecord record;
  record.path = node->path();
  if (!node->dataIsNull()) record.data = node->data();
  record.acl_key = tree_.acl_cache_.keyOf(node->acl_slot);
  record.stat = tree_.persistedOf(node);
  on_node(record);
  ++visited_;
}

bool DataTree::Walk::step(size_t max_nodes, size_t max_bytes,
                          const std::function<void(const NodeRecord&)>& on_node) {
  std::shared_lock lock(tree_.mutex_);
  size_t budget = std::max<size_t>(max_nodes, 1);
  size_t bytes = 0;
  if (!started_) {
    started_ = true;
    if (tree_.root_ == nullptr) return false;
    emit(tree_.root_, on_node);
    --budget;
    pushChildrenOf(tree_.root_);
  }
  // The node the top frame lists the children of, found again after every lock gap (nodes move
  // when their data grows, and may be gone).
  const Node* parent = nullptr;
  while (!stack_.empty() && budget > 0 && bytes < max_bytes) {
    Frame& frame = stack_.back();
    if (parent == nullptr) {
      parent = tree_.findLocked(frame.path);
      if (parent == nullptr || parent->path_len != frame.path.size()) {
        // Deleted since its slots were copied, and with it every node below it.
        stack_.pop_back();
        parent = nullptr;
        continue;
      }
    }
    while (frame.next < frame.slots.size() && frame.slots[frame.next] == 0) ++frame.next;
    if (frame.next == frame.slots.size() || parent->children == nullptr) {
      stack_.pop_back();
      parent = nullptr;
      continue;
    }
    const size_t index = frame.next++;
    const uint64_t copied = frame.slots[index];
    // Children sit all over the heap: fetch the blocks a few slots ahead while this one is
    // encoded (a miss per node is most of a walk's cost otherwise). The copied slots are safe to
    // prefetch from: their blocks stay allocated for the whole walk.
    if (index + kPrefetchAhead < frame.slots.size()) {
      if (const uint64_t ahead = frame.slots[index + kPrefetchAhead]; ahead != 0) {
        const char* block = reinterpret_cast<const char*>(slotNode(ahead));
        __builtin_prefetch(block);
        __builtin_prefetch(block + 64);
      }
    }
    const ChildTable* table = parent->children;
    const Node* child = nullptr;
    if (index < table->capacity && table->slots()[index] == copied) {
      // Same slot value at the same place: the same child (a block's address cannot be reused
      // while the walk runs, see freeNode).
      child = slotNode(copied);
    } else {
      // The table changed (grown, shrunk, shifted) or the child moved or went: look it up by
      // the name kept in its old block, which freeNode keeps until the walk ends.
      const std::string_view name = slotNode(copied)->nameFrom(frame.name_offset);
      const int64_t found = tableFind(table, name, hashName(name), frame.name_offset);
      if (found < 0) continue;  // deleted meanwhile
      child = slotNode(table->slots()[found]);
    }
    emit(child, on_node);
    --budget;
    bytes += child->path_len + child->dataSize() + 76;
    if (child->children != nullptr && child->children->size > 0) {
      pushChildrenOf(child);
      parent = child;
    }
  }
  return !stack_.empty();
}

}  // namespace corral::plugins::memlog
