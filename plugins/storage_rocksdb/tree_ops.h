// ZooKeeper's DataTree mutations (create, delete, setData, setACL, the parent's cversion and
// pzxid) over one txn's staged writes, with the Stat rules storage.memlog follows: the parent
// keeps the stored cversion and its child count, the ephemerals index and the tree's counters
// move with each node. Apply-strand only.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "acl_table.h"
#include "corral/status.h"
#include "corral/types.h"
#include "encoding.h"
#include "staged_writes.h"

namespace corral::plugins::rocks {

class TreeOps {
 public:
  TreeOps(StagedWrites& staged, AclTable& acls, TreeCounters& counters)
      : staged_(staged), acls_(acls), counters_(counters) {}

  // kNoNode when absent; kCorruptData when the stored value does not decode.
  sdk::Result<NodeValue> node(std::string_view path);
  sdk::Status create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl,
                     int64_t owner, int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time, sdk::Stat* out_stat);
  sdk::Status remove(std::string_view path, sdk::Zxid zxid);
  sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data, int32_t version,
                                 sdk::Zxid zxid, sdk::TimeMs time);
  sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion);
  sdk::Status setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid);
  // A replayed create meeting its own node, loaded from a fuzzy snapshot with a placeholder
  // ACL (an ACL key the snapshot's map lacked): the txn carries the real list.
  void restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid);

  // The built-in nodes of a fresh ZooKeeper 3.8 tree: "/", /zookeeper, /zookeeper/quota and
  // /zookeeper/config (READ_ACL_UNSAFE, aversion -1).
  sdk::Status buildFresh();

  // The list a snapshot node with an unknown ACL key gets until its create is replayed.
  static const sdk::AclList& placeholderAcl();

 private:
  void putNode(std::string_view path, const NodeValue& node, bool known_absent = false);
  int64_t aclKeyOf(const sdk::AclList& acl);
  void indexAdd(int64_t owner, std::string_view path);
  void indexRemove(int64_t owner, std::string_view path);

  StagedWrites& staged_;
  AclTable& acls_;
  TreeCounters& counters_;
};

// Whether an owner is a session (not a container or TTL marker).
inline bool isSessionOwner(int64_t owner) {
  return owner != 0 && !sdk::owner::isContainer(owner) && !sdk::owner::isTtl(owner);
}

}  // namespace corral::plugins::rocks
