// PendingChanges: the tree as it will be once every prepared-but-not-applied txn applies
// (ZooKeeper's outstandingChanges). The prepare stage validates each write against it, so
// pipelined writes see each other before they are durable.
//
// Not thread-safe: the pipeline strand owns it.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "corral/metrics.h"
#include "corral/storage.h"
#include "corral/types.h"

namespace corral::kernel::pipeline {

// What prepare needs to know of a node.
struct NodeState {
  bool exists = false;
  int32_t version = 0;
  int32_t stored_cversion = 0;
  int32_t aversion = 0;
  int64_t raw_owner = 0;
  int32_t num_children = 0;
  sdk::AclList acl;
};

class PendingChanges {
 public:
  explicit PendingChanges(const sdk::Storage& storage) : storage_(storage) {}
  // ZooKeeper's outstanding_changes_queued / _removed; either may be null.
  void countInto(sdk::Counter* queued, sdk::Counter* removed) {
    queued_ = queued;
    removed_ = removed;
  }

  // The node as the next txn will find it (nullopt-like: exists=false when absent). A storage
  // that could not read (not an absent node) is remembered for takeReadFailure().
  NodeState get(const std::string& path) const;
  // The first storage read failure since the last call (kOk when none): the op being prepared
  // fails with a system error instead of acting on a node that only looked absent.
  sdk::Code takeReadFailure() { return std::exchange(read_failure_, sdk::Code::kOk); }
  // Records the state `path` will have after txn `zxid`.
  void put(const std::string& path, NodeState state, sdk::Zxid zxid);
  // Forgets changes made by txns up to `zxid` (now visible in the storage).
  void applied(sdk::Zxid zxid);
  // Drops every change recorded by `zxid` (a multi that failed while being prepared),
  // restoring what `saved` held before it.
  void rollback(sdk::Zxid zxid, const std::unordered_map<std::string, std::optional<NodeState>>& saved);
  // What put() would overwrite, for rollback.
  std::optional<NodeState> peek(const std::string& path) const;
  bool has(const std::string& path) const;
  size_t size() const { return changes_.size(); }

 private:
  struct Change {
    NodeState state;
    sdk::Zxid zxid;
  };
  const sdk::Storage& storage_;
  mutable sdk::Code read_failure_ = sdk::Code::kOk;
  std::unordered_map<std::string, Change> changes_;
  std::deque<std::pair<sdk::Zxid, std::string>> order_;
  sdk::Counter* queued_ = nullptr;
  sdk::Counter* removed_ = nullptr;
};

}  // namespace corral::kernel::pipeline
