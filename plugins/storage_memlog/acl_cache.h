// Reference-counted ACL cache: ZooKeeper's ReferenceCountedACLCache, so every distinct ACL
// list is stored once and snapshots can refer to it by the same long `aclKey` ZooKeeper writes.
//
// Rules reproduced (disk-formats.md §6):
//  * key -1 is OPEN_ACL_UNSAFE without a map entry; only the built-in nodes use it;
//  * acquire() (ZooKeeper's convertAcls) always hands out a real key, also for world:anyone,
//    allocating keys 1, 2, 3, ... in order and adding one usage;
//  * release() (removeUsage) drops an entry as soon as its count reaches 0, so re-setting the
//    same list on its only user allocates a fresh key, exactly like ZooKeeper;
//  * loaded entries start at count 0; purgeUnused() drops those no node referenced.
//
// Nodes refer to entries by a 32-bit slot (not the 64-bit key) to keep the per-node header
// small; slots are stable for the life of an entry. Not thread-safe: DataTree locks around it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::memlog {

class AclCache {
 public:
  static constexpr int64_t kOpenAclUnsafeKey = -1;
  static constexpr uint32_t kOpenAclUnsafeSlot = 0;

  AclCache();
  AclCache(const AclCache&) = delete;
  AclCache& operator=(const AclCache&) = delete;

  // convertAcls: the slot of `acls` (a new key if the list is not cached) with one more usage.
  uint32_t acquire(const sdk::AclList& acls);
  // removeUsage: one usage fewer; the entry disappears when none are left.
  void release(uint32_t slot);

  int64_t keyOf(uint32_t slot) const { return entries_[slot].key; }
  const std::shared_ptr<const sdk::AclList>& aclsOf(uint32_t slot) const { return entries_[slot].acls; }

  // Snapshot loading: clear(), insertLoaded() per map entry (count 0), addUsage() per node,
  // then purgeUnused().
  void clear();
  sdk::Status insertLoaded(int64_t key, sdk::AclList acls);
  // The slot for a loaded node's aclKey, counting one usage; nullopt if the key is unknown.
  std::optional<uint32_t> addUsage(int64_t key);
  void purgeUnused();

  // Every cached entry (not key -1), ascending by key, as a snapshot writes them.
  std::vector<std::pair<int64_t, std::shared_ptr<const sdk::AclList>>> entries() const;
  size_t size() const { return by_key_.size(); }
  // Usage count of a key (0 if absent; -1 for the built-in key -1, which is not counted).
  int64_t refCount(int64_t key) const;
  // The highest key handed out or loaded (ZooKeeper's aclIndex).
  int64_t lastKey() const { return last_key_; }

 private:
  struct Entry {
    int64_t key = 0;
    std::shared_ptr<const sdk::AclList> acls;
    int64_t refs = 0;
    bool live = false;
  };
  struct ListHash {
    size_t operator()(const sdk::AclList* list) const noexcept;
  };
  struct ListEq {
    bool operator()(const sdk::AclList* a, const sdk::AclList* b) const noexcept { return *a == *b; }
  };

  uint32_t allocSlot(int64_t key, std::shared_ptr<const sdk::AclList> acls);
  void dropSlot(uint32_t slot);

  std::vector<Entry> entries_;  // slot -> entry; slot 0 is key -1
  std::vector<uint32_t> free_slots_;
  std::unordered_map<int64_t, uint32_t> by_key_;
  // Keys point at the list owned by the entry, so each list is stored once.
  std::unordered_map<const sdk::AclList*, uint32_t, ListHash, ListEq> by_list_;
  int64_t last_key_ = 0;
};

}  // namespace corral::plugins::memlog
