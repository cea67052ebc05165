#include "data_tree.h"

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

namespace detail {

struct ChildTable;

// One znode = one malloc block: this header, then the full path, then the data bytes.
// Field order keeps the header at exactly 80 bytes with no padding.
struct ZNode {
  Zxid czxid;
  Zxid mzxid;
  TimeMs ctime;
  TimeMs mtime;
  Zxid pzxid;
  int64_t ephemeral_owner;
  int32_t version;
  int32_t cversion;  // stored form: counts creates
  int32_t aversion;
  uint32_t acl_slot;     // AclCache slot
  ChildTable* children;  // nullptr while the node has no children
  uint32_t path_len;
  uint32_t data_len;  // kNullData = null data

  static constexpr uint32_t kNullData = UINT32_MAX;

  char* bytes() { return reinterpret_cast<char*>(this + 1); }
  const char* bytes() const { return reinterpret_cast<const char*>(this + 1); }
  std::string_view path() const { return {bytes(), path_len}; }
  bool dataIsNull() const { return data_len == kNullData; }
  uint32_t dataSize() const { return dataIsNull() ? 0 : data_len; }
  std::string_view data() const { return {bytes() + path_len, dataSize()}; }
  // The name as seen from the parent whose path length is parent_len.
  std::string_view nameFrom(uint32_t name_offset) const {
    return {bytes() + name_offset, path_len - name_offset};
  }
};
static_assert(sizeof(ZNode) == 80, "the per-znode header is part of the memory budget");

// Open-addressing set of children, linear probing, backward-shift deletion (no tombstones).
// A slot is the child pointer in the low 48 bits and the top 16 bits of the name hash, so most
// mismatching probes are rejected without touching the child's memory.
struct ChildTable {
  uint32_t size;
  uint32_t capacity;
  uint64_t* slots() { return reinterpret_cast<uint64_t*>(this + 1); }
  const uint64_t* slots() const { return reinterpret_cast<const uint64_t*>(this + 1); }
};
static_assert(sizeof(ChildTable) == 8);

}  // namespace detail

namespace {

using detail::ChildTable;
using ZNode = detail::ZNode;

constexpr uint64_t kPtrMask = (uint64_t{1} << 48) - 1;
constexpr uint64_t kTagMask = ~kPtrMask;
constexpr uint32_t kMinTableCapacity = 2;

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hashName(std::string_view s) {
  const char* p = s.data();
  size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = mix64(h ^ w) * 0x9E3779B97F4A7C15ULL;
    p += 8;
    n -= 8;
  }
  if (n != 0) {
    uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = mix64(h ^ w) * 0x9E3779B97F4A7C15ULL;
  }
  return mix64(h);
}

inline uint64_t makeSlot(ZNode* node, uint64_t hash) {
  const auto p = reinterpret_cast<uintptr_t>(node);
  if ((p & kTagMask) != 0) {
    // Tagged slots rely on 48-bit user-space addresses (x86-64, AArch64 Linux).
    std::fputs("corral memlog: heap pointer above 2^48, cannot tag child slots\n", stderr);
    std::abort();
  }
  return static_cast<uint64_t>(p) | (hash & kTagMask);
}
inline ZNode* slotNode(uint64_t slot) { return reinterpret_cast<ZNode*>(slot & kPtrMask); }
// Tables of up to this many slots take a child's home slot from the 16-bit tag kept in its slot,
// so growing a table (and the backward shift of a delete) never re-reads the children's names:
// hashing them again meant a cache miss per child, ~40% of inserting into a growing table.
// Bigger tables need more bits and hash the names again.
constexpr uint32_t kTagHomedCapacity = 1u << 16;

inline uint32_t homeOf(uint64_t hash, uint32_t capacity) {
  if (capacity <= kTagHomedCapacity) {
    return static_cast<uint32_t>(((hash >> 48) * capacity) >> 16);
  }
  return static_cast<uint32_t>(((hash & 0xffffffffULL) * capacity) >> 32);
}

// Enough of the hash of the child in `slot` for homeOf(_, capacity).
inline uint64_t slotHash(uint64_t slot, uint32_t capacity, uint32_t name_offset) {
  if (capacity <= kTagHomedCapacity) return slot & kTagMask;
  return hashName(slotNode(slot)->nameFrom(name_offset));
}

inline uint32_t childCount(const ZNode* node) { return node->children ? node->children->size : 0; }

// Java's String.length() of a UTF-8 path: every non-continuation byte is one UTF-16 unit and a
// 4-byte sequence is two.
int64_t utf16Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
    if (c >= 0xF0) ++n;
  }
  return n;
}

// ZooKeeper's getNodeSize: the root is keyed "/" (length 1) in that accounting.
int64_t nodeSize(const ZNode* node) {
  const int64_t path = node->path_len == 0 ? 1 : utf16Length(node->path());
  return path + node->dataSize();
}

inline size_t blockSize(size_t path_len, size_t data_size) {
  return (sizeof(ZNode) + path_len + data_size + 15) & ~size_t{15};
}

ZNode* allocNode(std::string_view path, std::optional<std::string_view> data) {
  const size_t data_size = data ? data->size() : 0;
  void* mem = std::malloc(blockSize(path.size(), data_size));
  if (mem == nullptr) {
    std::fputs("corral memlog: out of memory\n", stderr);
    std::abort();
  }
  auto* node = new (mem) ZNode{};
  node->path_len = static_cast<uint32_t>(path.size());
  node->data_len = data ? static_cast<uint32_t>(data_size) : ZNode::kNullData;
  std::memcpy(node->bytes(), path.data(), path.size());
  if (data_size != 0) std::memcpy(node->bytes() + path.size(), data->data(), data_size);
  return node;
}

// A table with room for at least `min_capacity` slots. malloc rounds every request up to one of
// its size classes (jemalloc: four per doubling), so the table takes all the slots that fit in
// the block it got: they cost no memory, and tables grow in steps that match the classes.
ChildTable* allocTable(uint32_t min_capacity) {
  void* mem = std::malloc(sizeof(ChildTable) + sizeof(uint64_t) * min_capacity);
  if (mem == nullptr) {
    std::fputs("corral memlog: out of memory\n", stderr);
    std::abort();
  }
  const size_t usable_slots = (malloc_usable_size(mem) - sizeof(ChildTable)) / sizeof(uint64_t);
  const auto capacity = static_cast<uint32_t>(std::min<size_t>(usable_slots, UINT32_MAX));
  std::memset(mem, 0, sizeof(ChildTable) + sizeof(uint64_t) * capacity);
  auto* t = new (mem) ChildTable{};
  t->capacity = capacity;
  return t;
}

// Slot index of the child called `name`, or -1.
int64_t tableFind(const ChildTable* t, std::string_view name, uint64_t hash, uint32_t name_offset) {
  const uint32_t cap = t->capacity;
  const uint64_t* s = t->slots();
  const uint64_t tag = hash & kTagMask;
  uint32_t i = homeOf(hash, cap);
  for (;;) {
    const uint64_t v = s[i];
    if (v == 0) return -1;
    if ((v & kTagMask) == tag) {
      const ZNode* c = slotNode(v);
      if (c->path_len - name_offset == name.size() &&
          std::memcmp(c->bytes() + name_offset, name.data(), name.size()) == 0) {
        return i;
      }
    }
    if (++i == cap) i = 0;
  }
}

void tablePlace(ChildTable* t, uint64_t slot, uint64_t hash) {
  const uint32_t cap = t->capacity;
  uint64_t* s = t->slots();
  uint32_t i = homeOf(hash, cap);
  while (s[i] != 0) {
    if (++i == cap) i = 0;
  }
  s[i] = slot;
  ++t->size;
}

ChildTable* tableRehash(ChildTable* old, uint32_t capacity, uint32_t name_offset) {
  ChildTable* t = allocTable(capacity);
  if (old != nullptr) {
    const uint64_t* s = old->slots();
    for (uint32_t i = 0; i < old->capacity; ++i) {
      if (s[i] != 0) tablePlace(t, s[i], slotHash(s[i], capacity, name_offset));
    }
    std::free(old);
  }
  return t;
}

// Load factor stays <= 0.8; capacities grow by 1.25x (not powers of two), rounded up to the
// allocator's size class, so a big parent's table averages ~70% full instead of ~50%. Growing
// is cheap (slots move by their tags, see kTagHomedCapacity), so small steps cost little.
inline bool fits(uint64_t size, uint64_t capacity) { return size * 5 <= capacity * 4; }

ChildTable* tableInsert(ChildTable* t, ZNode* child, uint64_t hash, uint32_t name_offset) {
  const uint32_t size = t ? t->size : 0;
  if (t == nullptr || !fits(size + 1, t->capacity)) {
    uint64_t cap = t ? t->capacity : kMinTableCapacity;
    while (!fits(size + 1, cap)) cap = cap + cap / 4 + 1;
    t = tableRehash(t, static_cast<uint32_t>(cap), name_offset);
  }
  tablePlace(t, makeSlot(child, hash), hash);
  return t;
}

// Removes slot i; returns the (possibly shrunk or freed) table.
ChildTable* tableEraseAt(ChildTable* t, uint32_t i, uint32_t name_offset) {
  const uint32_t cap = t->capacity;
  uint64_t* s = t->slots();
  s[i] = 0;
  uint32_t j = i;
  for (;;) {
    if (++j == cap) j = 0;
    if (s[j] == 0) break;
    const uint32_t k = homeOf(slotHash(s[j], cap, name_offset), cap);
    // Move s[j] back into the hole unless its home lies cyclically in (i, j].
    const bool stays = (i <= j) ? (k > i && k <= j) : (k > i || k <= j);
    if (!stays) {
      s[i] = s[j];
      s[j] = 0;
      i = j;
    }
  }
  --t->size;
  if (t->size == 0) {
    std::free(t);
    return nullptr;
  }
  if (cap > 16 && t->size * 5 < cap) {
    uint64_t new_cap = kMinTableCapacity;
    while (!fits(uint64_t{t->size} * 2, new_cap)) new_cap = new_cap + new_cap / 4 + 1;
    return tableRehash(t, static_cast<uint32_t>(new_cap), name_offset);
  }
  return t;
}

inline int32_t wrapIncrement(int32_t v) {
  return static_cast<int32_t>(static_cast<uint32_t>(v) + 1u);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

DataTree::DataTree() {
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

DataTree::~DataTree() { destroyAll(); }

void DataTree::destroyAll() {
  if (root_ == nullptr) return;
  std::vector<Node*> stack{root_};
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
  std::free(node);
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
  std::free(child);
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
  load_digest_source_ = digest_source;
  destroyAll();
  acl_cache_.clear();
  ephemerals_.clear();
  containers_.clear();
  ttls_.clear();
  load_ancestors_.clear();
  node_count_ = 0;
  approximate_data_size_ = 0;
  digest_ = 0;
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
  const std::optional<uint32_t> slot = acl_cache_.addUsage(acl_key);
  if (!slot) {
    return Status(Code::kCorruptData, "node " + std::string(path) + " refers to unknown aclKey " +
                                          std::to_string(acl_key));
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

}  // namespace corral::plugins::memlog
