#include "kernel/pipeline/pending_changes.h"

namespace corral::kernel::pipeline {
namespace {

// ZooKeeper names the root "" as well as "/" (the parent of "/a" is ""): one key for both,
// or a change recorded under one name is missed when the next txn looks under the other.
const std::string& keyOf(const std::string& path) {
  static const std::string kRoot = "/";
  return path.empty() ? kRoot : path;
}

}  // namespace

NodeState PendingChanges::get(const std::string& path_in) const {
  const std::string& path = keyOf(path_in);
  auto it = changes_.find(path);
  if (it != changes_.end()) return it->second.state;
  NodeState state;
  sdk::NodeRead read;
  const sdk::Code code = storage_.read(path, sdk::NodeRead::kStat | sdk::NodeRead::kAcl, read);
  if (code != sdk::Code::kOk && code != sdk::Code::kNoNode && read_failure_ == sdk::Code::kOk) read_failure_ = code;
  if (code == sdk::Code::kOk) {
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
  auto it = changes_.find(keyOf(path));
  if (it == changes_.end()) return std::nullopt;
  return it->second.state;
}

bool PendingChanges::has(const std::string& path) const { return changes_.count(keyOf(path)) != 0; }

void PendingChanges::put(const std::string& path_in, NodeState state, sdk::Zxid zxid) {
  const std::string& path = keyOf(path_in);
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
  for (const auto& [path_in, state] : saved) {
    const std::string& path = keyOf(path_in);
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
