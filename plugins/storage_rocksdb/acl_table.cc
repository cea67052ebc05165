#include "acl_table.h"

#include <functional>

namespace corral::plugins::rocks {

size_t AclTable::ListHash::operator()(const sdk::AclList& list) const noexcept {
  size_t h = list.size();
  for (const auto& acl : list) {
    h = h * 31 + std::hash<std::string>()(acl.id.scheme);
    h = h * 31 + std::hash<std::string>()(acl.id.id);
    h = h * 31 + static_cast<size_t>(acl.perms);
  }
  return h;
}

std::shared_ptr<const sdk::AclList> AclTable::find(int64_t key) const {
  if (key == kOpenAclUnsafeKey) {
    static const auto open = std::make_shared<const sdk::AclList>(sdk::openAclUnsafe());
    return open;
  }
  std::shared_lock lock(mutex_);
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return it->second;
  for (const auto& [staged_key, list] : staged_) {
    if (staged_key == key) return std::make_shared<const sdk::AclList>(list);
  }
  return nullptr;
}

int64_t AclTable::stage(const sdk::AclList& acl, bool& is_new) {
  is_new = false;
  {
    std::shared_lock lock(mutex_);
    if (auto it = by_list_.find(acl); it != by_list_.end()) return it->second;
  }
  for (const auto& [key, list] : staged_) {
    if (list == acl) return key;
  }
  is_new = true;
  // ZooKeeper's aclIndex is a Java long whose ++ wraps, as after a snapshot's Long.MAX_VALUE
  // key. A wrapped key may be taken (ZooKeeper would then hand one key two lists): skip it.
  int64_t key = staged_.empty() ? last_key_ : staged_.back().first;
  {
    std::shared_lock lock(mutex_);
    do {
      key = static_cast<int64_t>(static_cast<uint64_t>(key) + 1);
    } while (key == kOpenAclUnsafeKey || by_key_.count(key) != 0);
  }
  staged_.emplace_back(key, acl);
  return key;
}

void AclTable::commitStaged() {
  std::unique_lock lock(mutex_);
  for (auto& [key, list] : staged_) {
    by_list_[list] = key;
    by_key_[key] = std::make_shared<const sdk::AclList>(std::move(list));
    last_key_ = key;  // the staged keys follow last_key_ in order (not max(): they may wrap)
  }
  staged_.clear();
}

void AclTable::dropStaged() { staged_.clear(); }

void AclTable::clear() {
  std::unique_lock lock(mutex_);
  by_key_.clear();
  by_list_.clear();
  staged_.clear();
  last_key_ = 0;
}

void AclTable::load(int64_t key, sdk::AclList acl) {
  std::unique_lock lock(mutex_);
  // Two keys with one list: the later key wins for new nodes, as in ZooKeeper's map.
  by_list_[acl] = key;
  by_key_[key] = std::make_shared<const sdk::AclList>(std::move(acl));
  last_key_ = std::max(last_key_, key);
}

std::vector<std::pair<int64_t, std::shared_ptr<const sdk::AclList>>> AclTable::entries() const {
  std::shared_lock lock(mutex_);
  return {by_key_.begin(), by_key_.end()};
}

}  // namespace corral::plugins::rocks
