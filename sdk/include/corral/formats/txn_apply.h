// ZooKeeper's DataTree.processTxn dispatch, shared by the storage plugins: which tree mutation
// each txn makes, the outcomes of a failed multi, closeSession's ephemerals, and the replay
// tolerance after a fuzzy snapshot. A storage implements TreeMutations over its own tree and
// calls applyTxn() from its Storage::apply().
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"
#include "corral/storage.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::formats {

// The mutations of ZooKeeper's DataTree with its Stat rules (see storage.memlog's DataTree).
class TreeMutations {
 public:
  virtual ~TreeMutations() = default;
  virtual sdk::Status create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl,
                             int64_t owner, int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time,
                             sdk::Stat* out_stat) = 0;
  virtual sdk::Status remove(std::string_view path, sdk::Zxid zxid) = 0;
  virtual sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data,
                                         int32_t version, sdk::Zxid zxid, sdk::TimeMs time) = 0;
  virtual sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion) = 0;
  virtual sdk::Status setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid) = 0;
  // A replayed create that meets its own node, loaded from a fuzzy snapshot with a placeholder
  // ACL (a key the snapshot's ACL map lacked): the txn carries the real list.
  virtual void restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid) = 0;
  virtual std::vector<std::string> ephemeralsOf(sdk::SessionId session) = 0;
  virtual void openSession(sdk::SessionId session, int32_t timeout_ms) = 0;
  virtual void closeSession(sdk::SessionId session) = 0;
};

// Applies one committed txn to `tree` and reports each op's outcome (Storage::apply's
// contract). In kReplay, NoNode and NodeExists are expected (the fuzzy snapshot already holds
// the change) and not errors; a replayed create meeting its node still advances the parent's
// cversion and pzxid. A multi sub-op that does not decode is kCorruptData.
sdk::Status applyTxn(TreeMutations& tree, const sdk::TxnEntry& txn, sdk::ApplyMode mode,
                     std::vector<sdk::OpOutcome>& outcomes);

}  // namespace corral::formats
