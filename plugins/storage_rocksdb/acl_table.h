// ZooKeeper's ACL map for storage.rocksdb: every distinct ACL list once, under the long key a
// snapshot refers to it by. Key -1 is OPEN_ACL_UNSAFE without an entry (the built-in nodes).
// The whole map is in memory (mirrored from the `acls` column family; lists are few) so a read
// turns a node's key into its list without touching the database.
//
// Unlike ZooKeeper's ReferenceCountedACLCache, entries are not counted and never dropped: a
// list once used keeps its key (an exported snapshot may list unused entries, which ZooKeeper
// drops when it loads them).
//
// Thread-safety: lookups from any thread; changes from the apply strand, staged per txn
// (stage() hands out keys, commit() publishes them once the txn's batch is written).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corral/types.h"

namespace corral::plugins::rocks {

class AclTable {
 public:
  static constexpr int64_t kOpenAclUnsafeKey = -1;

  // The list behind `key` (nullptr when unknown).
  std::shared_ptr<const sdk::AclList> find(int64_t key) const;
  // The key of `acl`, staging a new entry when the list is not known yet; `is_new` tells the
  // caller to write the entry with the txn.
  int64_t stage(const sdk::AclList& acl, bool& is_new);
  void commitStaged();
  void dropStaged();

  // Loading (start, snapshots): replace everything / add one entry as it is on disk.
  void clear();
  void load(int64_t key, sdk::AclList acl);
  std::vector<std::pair<int64_t, std::shared_ptr<const sdk::AclList>>> entries() const;

 private:
  struct ListHash {
    size_t operator()(const sdk::AclList& list) const noexcept;
  };
  mutable std::shared_mutex mutex_;
  std::map<int64_t, std::shared_ptr<const sdk::AclList>> by_key_;
  std::unordered_map<sdk::AclList, int64_t, ListHash> by_list_;
  int64_t last_key_ = 0;
  std::vector<std::pair<int64_t, sdk::AclList>> staged_;
};

}  // namespace corral::plugins::rocks
