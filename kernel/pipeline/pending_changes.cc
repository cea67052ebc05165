#include "kernel/pipeline/pending_changes.h"

namespace corral::kernel::pipeline {

NodeState PendingChanges::get(const std::string& path) const {
  auto it = changes_.find(path);
  if (it != changes_.end()) return it->second.state;
  NodeState state;
  sdk::NodeRead read;
  // ZooKeeper keys the root as "" as well as "/".
  const std::string& lookup = path.empty() ? std::string("/") : path;
  if (storage_.read(lookup, sdk::NodeRead::kStat | sdk::NodeRead::kAcl, read)) {
    state.exists = true;
    state.version = read.stat.version;
    state.stored_cversion = read.stored_cversion;
    state.aversion = read.stat.aversion;
    state.raw_owner = read.raw_owner;
    state.num_children = read.stat.num_children;
    state.acl = std::move(read.acl);
  }
  return state;
}

std::optional<NodeState> PendingChanges::peek(const std::string& path) const {
  auto it = changes_.find(path);
  if (it == changes_.end()) return std::nullopt;
  return it->second.state;
}

void PendingChanges::put(const std::string& path, NodeState state, sdk::Zxid zxid) {
  changes_[path] = Change{std::move(state), zxid};
  order_.emplace_back(zxid, path);
  if (queued_ != nullptr) queued_->add();
}

void PendingChanges::applied(sdk::Zxid zxid) {
  while (!order_.empty() && order_.front().first <= zxid) {
    auto it = changes_.find(order_.front().second);
    if (it != changes_.end() && it->second.zxid <= zxid) changes_.erase(it);
    order_.pop_front();
    if (removed_ != nullptr) removed_->add();
  }
}

void PendingChanges::rollback(sdk::Zxid zxid,
                              const std::unordered_map<std::string, std::optional<NodeState>>& saved) {
  while (!order_.empty() && order_.back().first == zxid) order_.pop_back();
  for (const auto& [path, state] : saved) {
    if (state) {
      // The earlier change keeps its own zxid; find it in the order queue.
      sdk::Zxid earlier = 0;
      for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        if (it->second == path) {
          earlier = it->first;
          break;
        }
      }
      changes_[path] = Change{*state, earlier};
    } else {
      changes_.erase(path);
    }
  }
}

}  // namespace corral::kernel::pipeline
