// Internals of DataTree shared by its source files (data_tree.cc: nodes and mutations;
// data_tree_snapshot.cc: loading and walking for snapshots): the znode block layout, the
// per-parent child tables and the helpers over them. Not used outside the DataTree.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>

#include "corral/types.h"

namespace corral::plugins::memlog {

using sdk::Zxid;
using sdk::TimeMs;

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

inline uint64_t hashName(std::string_view s) {
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
inline int64_t utf16Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
    if (c >= 0xF0) ++n;
  }
  return n;
}

// ZooKeeper's getNodeSize: the root is keyed "/" (length 1) in that accounting.
inline int64_t nodeSize(const ZNode* node) {
  const int64_t path = node->path_len == 0 ? 1 : utf16Length(node->path());
  return path + node->dataSize();
}

inline size_t blockSize(size_t path_len, size_t data_size) {
  return (sizeof(ZNode) + path_len + data_size + 15) & ~size_t{15};
}

inline ZNode* allocNode(std::string_view path, std::optional<std::string_view> data) {
  const size_t data_size = data ? data->size() : 0;
  void* mem = std::malloc(blockSize(path.size(), data_size));
  if (mem == nullptr) {
    std::fputs("corral memlog: out of memory\n", stderr);
    std::abort();
  }
  auto* node = new (mem) ZNode{};
  node->path_len = static_cast<uint32_t>(path.size());
  node->data_len = data ? static_cast<uint32_t>(data_size) : ZNode::kNullData;
  if (!path.empty()) std::memcpy(node->bytes(), path.data(), path.size());  // root: "" may be null
  if (data_size != 0) std::memcpy(node->bytes() + path.size(), data->data(), data_size);
  return node;
}

// A table with room for at least `min_capacity` slots. malloc rounds every request up to one of
// its size classes (jemalloc: four per doubling), so the table takes all the slots that fit in
// the block it got: they cost no memory, and tables grow in steps that match the classes.
inline ChildTable* allocTable(uint32_t min_capacity) {
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
inline int64_t tableFind(const ChildTable* t, std::string_view name, uint64_t hash, uint32_t name_offset) {
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

inline void tablePlace(ChildTable* t, uint64_t slot, uint64_t hash) {
  const uint32_t cap = t->capacity;
  uint64_t* s = t->slots();
  uint32_t i = homeOf(hash, cap);
  while (s[i] != 0) {
    if (++i == cap) i = 0;
  }
  s[i] = slot;
  ++t->size;
}

inline ChildTable* tableRehash(ChildTable* old, uint32_t capacity, uint32_t name_offset) {
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

inline ChildTable* tableInsert(ChildTable* t, ZNode* child, uint64_t hash, uint32_t name_offset) {
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
inline ChildTable* tableEraseAt(ChildTable* t, uint32_t i, uint32_t name_offset) {
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

}  // namespace detail

}  // namespace corral::plugins::memlog
