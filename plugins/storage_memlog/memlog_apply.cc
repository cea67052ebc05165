#include <algorithm>
#include <chrono>

#include "corral/formats/txn_apply.h"
#include "corral/path.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;

namespace {

// The DataTree and the session table as formats::applyTxn mutates them.
class MemlogMutations final : public formats::TreeMutations {
 public:
  MemlogMutations(DataTree& tree, std::map<sdk::SessionId, int32_t>& sessions) : tree_(tree), sessions_(sessions) {}

  Status create(std::string_view path, std::optional<std::string_view> data, const sdk::AclList& acl, int64_t owner,
                int32_t parent_cversion, sdk::Zxid zxid, sdk::TimeMs time, sdk::Stat* out_stat) override {
    return tree_.createNode(path, data, acl, owner, parent_cversion, zxid, time, out_stat);
  }
  Status remove(std::string_view path, sdk::Zxid zxid) override { return tree_.deleteNode(path, zxid); }
  sdk::Result<sdk::Stat> setData(std::string_view path, std::optional<std::string_view> data, int32_t version,
                                 sdk::Zxid zxid, sdk::TimeMs time) override {
    return tree_.setData(path, data, version, zxid, time);
  }
  sdk::Result<sdk::Stat> setAcl(std::string_view path, const sdk::AclList& acl, int32_t aversion) override {
    return tree_.setAcl(path, acl, aversion);
  }
  Status setCversionPzxid(std::string_view path, int32_t cversion, sdk::Zxid zxid) override {
    return tree_.setCversionPzxid(path, cversion, zxid);
  }
  // A fuzzy snapshot may have written the node with an ACL key its ACL map did not list yet,
  // loaded with a placeholder ACL; the txn carries the real one.
  void restorePlaceholderAcl(std::string_view path, const sdk::AclList& acl, sdk::Zxid zxid) override {
    auto node = tree_.getNode(path);
    if (node.isOk() && node->persisted.czxid == zxid && node->acl && *node->acl == unknownAclPlaceholder()) {
      (void)tree_.setAcl(path, acl, node->persisted.aversion);
    }
  }
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) override { return tree_.ephemerals(session); }
  void openSession(sdk::SessionId session, int32_t timeout_ms) override { sessions_[session] = timeout_ms; }
  void closeSession(sdk::SessionId session) override { sessions_.erase(session); }

 private:
  DataTree& tree_;
  std::map<sdk::SessionId, int32_t>& sessions_;
};

}  // namespace

Status MemlogStorage::applyLocked(const sdk::TxnEntry& txn, sdk::ApplyMode mode, std::vector<sdk::OpOutcome>& outcomes) {
  MemlogMutations mutations(*tree_, sessions_);
  Status result = formats::applyTxn(mutations, txn, mode, outcomes);
  if (result.code() == Code::kCorruptData) return result;  // nothing applied: an undecodable multi
  last_applied_ = txn.header.zxid;
  return result;
}

Status MemlogStorage::setConfigNode(std::string_view text, sdk::Zxid version) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
    auto stat = tree_->setData(sdk::kConfigPath, text, -1, version, now);
    return stat.isOk() ? Status::ok() : stat.status();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

Status MemlogStorage::apply(const sdk::TxnEntry& txn, sdk::ApplyMode mode,
                            std::vector<sdk::OpOutcome>& outcomes) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    return applyLocked(txn, mode, outcomes);
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}
}  // namespace corral::plugins::memlog
