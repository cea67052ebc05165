// WatchDispatcher: the data-watch and child-watch tables of the client pipeline, and the rules
// that turn one applied txn into watch events (ZooKeeper's WatchManager + DataTree triggers).
// An event reaches only connections allowed to READ the node (ZOOKEEPER-4799, in Debian's
// 3.8). Strand only.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/connection_state.h"
#include "kernel/runtime/server_metrics.h"
#include "kernel/watch/watch_table.h"

namespace corral::kernel::pipeline {

class WatchDispatcher {
 public:
  // `find` returns the live connection of a watcher, or null.
  using FindConnection = std::function<ConnectionState*(watch::WatcherId)>;

  WatchDispatcher(const sdk::Storage& storage, const AclChecker& acl, runtime::KernelMetrics& metrics,
                  FindConnection find)
      : storage_(storage), acl_(acl), metrics_(metrics), find_(std::move(find)) {}

  watch::WatchTable& data() { return data_; }
  watch::WatchTable& children() { return children_; }
  const watch::WatchTable& data() const { return data_; }
  const watch::WatchTable& children() const { return children_; }
  bool empty() const { return data_.watchCount() == 0 && children_.watchCount() == 0; }

  // ACLs of the nodes `txn` deletes, read before it applies (for the READ check of their
  // NodeDeleted events); empty when nobody watches anything.
  std::unordered_map<std::string, sdk::AclList> aclsOfDeleted(const sdk::TxnEntry& txn) const;
  // Fires the events of an applied txn.
  void fire(const sdk::TxnEntry& txn, const std::vector<sdk::OpOutcome>& outcomes,
            const std::unordered_map<std::string, sdk::AclList>& deleted_acls);
  void removeWatcher(watch::WatcherId watcher) {
    data_.removeWatcher(watcher);
    children_.removeWatcher(watcher);
  }

 private:
  void deliver(const std::vector<watch::WatcherId>& watchers, sdk::EventType type,
               const std::string& path, const sdk::AclList* acl);

  const sdk::Storage& storage_;
  const AclChecker& acl_;
  runtime::KernelMetrics& metrics_;
  FindConnection find_;
  watch::WatchTable data_;
  watch::WatchTable children_;
};

}  // namespace corral::kernel::pipeline
