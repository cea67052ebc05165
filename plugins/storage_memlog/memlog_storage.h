// storage.memlog: the data tree in memory behind the sdk::Storage interface.
//
// apply() translates each txn into DataTree mutations with ZooKeeper's DataTree.processTxn
// rules (a multi that carries an error txn changes nothing and reports every op as an
// error: 0 before the failing op, its code, then -2). Durability (ZooKeeper-format txn log
// and snapshots) is the next step; until then append() completes at once.
#pragma once

#include "corral/host.h"
#include "corral/storage.h"
#include "data_tree.h"

namespace corral::plugins::memlog {

class MemlogStorage final : public sdk::Storage {
 public:
  explicit MemlogStorage(sdk::Host& host) : host_(host) {}

  bool read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept override;
  int64_t countDescendants(std::string_view path) const noexcept override;
  std::vector<std::string> ephemeralsOf(sdk::SessionId session) const override;
  std::vector<sdk::ReapCandidate> reapCandidates() const override;
  sdk::TreeStats stats() const noexcept override;
  sdk::Status apply(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes) noexcept override;
  void append(std::span<const sdk::TxnEntry> txns, std::function<void(sdk::Status)> done) noexcept override;
  sdk::Status recover(std::vector<sdk::RecoveredSession>& sessions) noexcept override;

  DataTree& tree() { return tree_; }

 private:
  sdk::Status applyOne(sdk::OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                       sdk::OpOutcome& outcome);

  sdk::Host& host_;
  DataTree tree_;
  std::atomic<sdk::Zxid> last_applied_{0};
};

}  // namespace corral::plugins::memlog
