// WatchTable: which watchers wait on which paths, and who an event reaches.
//
// The kernel keeps two tables, as ZooKeeper's DataTree does: data watches (getData/exists
// watches, persistent and persistent-recursive watches) and child watches (getChildren
// watches and persistent watches). Triggering follows ZooKeeper's WatchManager:
// - a standard watch fires once and is removed; a persistent one stays;
// - a recursive watch (data table only) fires for its path and every descendant, except
//   NodeChildrenChanged;
// - one trigger reaches a watcher at most once, and `suppress` skips watchers an earlier
//   trigger of the same change already reached (delete: data, then child table).
// Not thread-safe: the kernel's pipeline strand owns it. A watcher is a connection id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "corral/types.h"

namespace corral::kernel::watch {

using WatcherId = uint64_t;

enum class WatchMode : uint8_t { kStandard = 0, kPersistent = 1, kPersistentRecursive = 2 };

class WatchTable {
 public:
  void add(const std::string& path, WatcherId watcher, WatchMode mode);
  // Watchers to notify of `type` on `path`; standard watches among them are removed.
  std::vector<WatcherId> trigger(std::string_view path, sdk::EventType type,
                                 const std::unordered_set<WatcherId>* suppress = nullptr);
  bool contains(std::string_view path, WatcherId watcher) const;
  std::optional<WatchMode> modeOf(std::string_view path, WatcherId watcher) const;
  bool remove(std::string_view path, WatcherId watcher);
  void removeWatcher(WatcherId watcher);

  size_t watchCount() const { return watch_count_; }
  size_t pathCount() const { return table_.size(); }
  // For wchc / wchp style reports.
  const std::unordered_map<std::string, std::unordered_map<WatcherId, WatchMode>>& byPath() const {
    return table_;
  }
  std::vector<std::string> pathsOf(WatcherId watcher) const;

 private:
  std::unordered_map<std::string, std::unordered_map<WatcherId, WatchMode>> table_;
  std::unordered_map<WatcherId, std::unordered_set<std::string>> by_watcher_;
  size_t watch_count_ = 0;
  size_t recursive_count_ = 0;
};

}  // namespace corral::kernel::watch
