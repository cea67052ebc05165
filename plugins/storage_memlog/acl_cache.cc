#include "acl_cache.h"

#include <algorithm>
#include <functional>
#include <string>

namespace corral::plugins::memlog {

using sdk::AclList;
using sdk::Code;
using sdk::Status;

size_t AclCache::ListHash::operator()(const AclList* list) const noexcept {
  size_t h = list->size();
  std::hash<std::string> hs;
  for (const auto& acl : *list) {
    h = h * 1000003u ^ static_cast<size_t>(acl.perms);
    h = h * 1000003u ^ hs(acl.id.scheme);
    h = h * 1000003u ^ hs(acl.id.id);
  }
  return h;
}

AclCache::AclCache() { clear(); }

void AclCache::clear() {
  entries_.clear();
  free_slots_.clear();
  by_key_.clear();
  by_list_.clear();
  last_key_ = 0;
  Entry open;
  open.key = kOpenAclUnsafeKey;
  open.acls = std::make_shared<const AclList>(sdk::openAclUnsafe());
  open.live = true;
  entries_.push_back(std::move(open));
}

uint32_t AclCache::allocSlot(int64_t key, std::shared_ptr<const AclList> acls) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[slot];
  e.key = key;
  e.acls = std::move(acls);
  e.refs = 0;
  e.live = true;
  by_key_.emplace(key, slot);
  by_list_.emplace(e.acls.get(), slot);  // no-op if an equal list is mapped already
  return slot;
}

void AclCache::dropSlot(uint32_t slot) {
  Entry& e = entries_[slot];
  auto it = by_list_.find(e.acls.get());
  if (it != by_list_.end() && it->second == slot) by_list_.erase(it);
  by_key_.erase(e.key);
  e.acls.reset();
  e.live = false;
  e.refs = 0;
  free_slots_.push_back(slot);
}

uint32_t AclCache::acquire(const AclList& acls) {
  auto it = by_list_.find(&acls);
  uint32_t slot;
  if (it != by_list_.end()) {
    slot = it->second;
  } else {
    // ZooKeeper's aclIndex is a Java long whose ++ wraps, as after a snapshot's Long.MAX_VALUE
    // key. A wrapped key may be taken (ZooKeeper would then hand one key two lists): skip it.
    do {
      last_key_ = static_cast<int64_t>(static_cast<uint64_t>(last_key_) + 1);
    } while (last_key_ == kOpenAclUnsafeKey || by_key_.count(last_key_) != 0);
    slot = allocSlot(last_key_, std::make_shared<const AclList>(acls));
  }
  ++entries_[slot].refs;
  return slot;
}

void AclCache::release(uint32_t slot) {
  if (slot == kOpenAclUnsafeSlot) return;
  Entry& e = entries_[slot];
  if (!e.live) return;
  if (--e.refs <= 0) dropSlot(slot);
}

Status AclCache::insertLoaded(int64_t key, AclList acls) {
  if (key == kOpenAclUnsafeKey || by_key_.count(key) != 0) {
    return Status(Code::kCorruptData, "duplicate ACL cache key " + std::to_string(key));
  }
  auto list = std::make_shared<const AclList>(std::move(acls));
  // Two keys with the same list: ZooKeeper's list->key map keeps the later key, and so do we
  // (re-inserted so the map's key pointer refers to the surviving entry's own list).
  by_list_.erase(list.get());
  allocSlot(key, std::move(list));
  last_key_ = std::max(last_key_, key);
  return Status::ok();
}

std::optional<uint32_t> AclCache::addUsage(int64_t key) {
  if (key == kOpenAclUnsafeKey) return kOpenAclUnsafeSlot;
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  ++entries_[it->second].refs;
  return it->second;
}

void AclCache::purgeUnused() {
  for (uint32_t slot = 1; slot < entries_.size(); ++slot) {
    if (entries_[slot].live && entries_[slot].refs <= 0) dropSlot(slot);
  }
}

std::vector<std::pair<int64_t, std::shared_ptr<const AclList>>> AclCache::entries() const {
  std::vector<std::pair<int64_t, std::shared_ptr<const AclList>>> out;
  out.reserve(by_key_.size());
  for (const auto& [key, slot] : by_key_) out.emplace_back(key, entries_[slot].acls);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

int64_t AclCache::refCount(int64_t key) const {
  if (key == kOpenAclUnsafeKey) return -1;
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : entries_[it->second].refs;
}

}  // namespace corral::plugins::memlog
