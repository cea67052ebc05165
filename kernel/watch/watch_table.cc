#include "kernel/watch/watch_table.h"

namespace corral::kernel::watch {

void WatchTable::add(const std::string& path, WatcherId watcher, WatchMode mode) {
  auto& watchers = table_[path];
  auto [it, inserted] = watchers.try_emplace(watcher, mode);
  if (inserted) {
    ++watch_count_;
    by_watcher_[watcher].insert(path);
  } else {
    if (it->second == WatchMode::kPersistentRecursive) --recursive_count_;
    // The latest watch on a path sets its mode, as in ZooKeeper 3.8 (WatcherModeManager):
    // a one-shot watch set after a persistent one turns it into a one-shot watch.
    it->second = mode;
  }
  if (it->second == WatchMode::kPersistentRecursive) ++recursive_count_;
}

std::vector<WatcherId> WatchTable::trigger(std::string_view path, sdk::EventType type,
                                           const std::unordered_set<WatcherId>* suppress) {
  std::vector<WatcherId> notified;
  auto visit = [&](std::string_view local_path, bool at_parent) {
    auto entry = table_.find(std::string(local_path));
    if (entry == table_.end()) return;
    auto& watchers = entry->second;
    for (auto it = watchers.begin(); it != watchers.end();) {
      WatcherId watcher = it->first;
      WatchMode mode = it->second;
      bool fire = false;
      bool erase = false;
      if (mode == WatchMode::kPersistentRecursive) {
        fire = type != sdk::EventType::kNodeChildrenChanged;
      } else if (!at_parent) {
        fire = true;
        erase = mode == WatchMode::kStandard;
      }
      if (fire && (suppress == nullptr || suppress->count(watcher) == 0)) {
        bool seen = false;
        for (auto id : notified) seen = seen || id == watcher;
        if (!seen) notified.push_back(watcher);
      }
      if (erase) {
        auto paths = by_watcher_.find(watcher);
        if (paths != by_watcher_.end()) {
          paths->second.erase(entry->first);
          if (paths->second.empty()) by_watcher_.erase(paths);
        }
        --watch_count_;
        it = watchers.erase(it);
      } else {
        ++it;
      }
    }
    if (watchers.empty()) table_.erase(entry);
  };
  visit(path, false);
  // Ancestors matter only to recursive watches; skip the walk when there are none.
  if (recursive_count_ > 0 && path.size() > 1) {
    std::string_view current = path;
    while (current.size() > 1) {
      auto slash = current.rfind('/');
      current = slash == 0 ? std::string_view("/") : current.substr(0, slash);
      visit(current, true);
    }
  }
  return notified;
}

bool WatchTable::contains(std::string_view path, WatcherId watcher) const {
  auto entry = table_.find(std::string(path));
  return entry != table_.end() && entry->second.count(watcher) != 0;
}

std::optional<WatchMode> WatchTable::modeOf(std::string_view path, WatcherId watcher) const {
  auto entry = table_.find(std::string(path));
  if (entry == table_.end()) return std::nullopt;
  auto it = entry->second.find(watcher);
  if (it == entry->second.end()) return std::nullopt;
  return it->second;
}

bool WatchTable::remove(std::string_view path, WatcherId watcher) {
  auto entry = table_.find(std::string(path));
  if (entry == table_.end()) return false;
  auto it = entry->second.find(watcher);
  if (it == entry->second.end()) return false;
  if (it->second == WatchMode::kPersistentRecursive) --recursive_count_;
  entry->second.erase(it);
  --watch_count_;
  auto paths = by_watcher_.find(watcher);
  if (paths != by_watcher_.end()) {
    paths->second.erase(entry->first);
    if (paths->second.empty()) by_watcher_.erase(paths);
  }
  if (entry->second.empty()) table_.erase(entry);
  return true;
}

void WatchTable::removeWatcher(WatcherId watcher) {
  auto paths = by_watcher_.find(watcher);
  if (paths == by_watcher_.end()) return;
  for (const auto& path : paths->second) {
    auto entry = table_.find(path);
    if (entry == table_.end()) continue;
    auto it = entry->second.find(watcher);
    if (it != entry->second.end()) {
      if (it->second == WatchMode::kPersistentRecursive) --recursive_count_;
      entry->second.erase(it);
      --watch_count_;
    }
    if (entry->second.empty()) table_.erase(entry);
  }
  by_watcher_.erase(paths);
}

std::vector<std::string> WatchTable::pathsOf(WatcherId watcher) const {
  auto paths = by_watcher_.find(watcher);
  if (paths == by_watcher_.end()) return {};
  return {paths->second.begin(), paths->second.end()};
}

}  // namespace corral::kernel::watch
