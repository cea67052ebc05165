#include "node_cache.h"

#include <functional>

namespace corral::plugins::rocks {

namespace {
// What an entry costs beyond its key and value: map node, list node, shared_ptr control block.
constexpr size_t kOverhead = 160;
}  // namespace

NodeCache::Shard& NodeCache::shardOf(std::string_view key, size_t* index) {
  const size_t i = std::hash<std::string_view>()(key) % kShards;
  if (index != nullptr) *index = i;
  return shards_[i];
}

NodeCache::Value NodeCache::find(std::string_view key, Miss& miss) {
  Shard& shard = shardOf(key, &miss.shard);
  std::lock_guard lock(shard.mutex);
  miss.generation = shard.generation;
  auto it = shard.entries.find(std::string(key));
  if (it == shard.entries.end()) return nullptr;
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  return it->second.value;
}

void NodeCache::fill(std::string_view key, std::string value, const Miss& miss) {
  if (shard_capacity_ == 0) return;
  Shard& shard = shards_[miss.shard];
  std::lock_guard lock(shard.mutex);
  if (shard.generation != miss.generation) return;  // an apply may have changed it meanwhile
  insertLocked(shard, key, std::move(value));
}

void NodeCache::put(std::string_view key, std::string value) {
  if (shard_capacity_ == 0) return;
  Shard& shard = shardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  insertLocked(shard, key, std::move(value));
}

void NodeCache::erase(std::string_view key) {
  Shard& shard = shardOf(key);
  std::lock_guard lock(shard.mutex);
  ++shard.generation;
  if (auto it = shard.entries.find(std::string(key)); it != shard.entries.end()) eraseLocked(shard, it);
}

void NodeCache::clear() {
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    ++shard.generation;
    shard.entries.clear();
    shard.lru.clear();
    shard.bytes = 0;
  }
}

void NodeCache::insertLocked(Shard& shard, std::string_view key, std::string value) {
  const size_t cost = key.size() + value.size() + kOverhead;
  if (cost > shard_capacity_ / 8) {  // a big node would evict many small ones: not cached
    if (auto it = shard.entries.find(std::string(key)); it != shard.entries.end()) eraseLocked(shard, it);
    return;
  }
  auto it = shard.entries.find(std::string(key));
  if (it != shard.entries.end()) {
    shard.bytes -= key.size() + it->second.value->size() + kOverhead;
    it->second.value = std::make_shared<const std::string>(std::move(value));
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
  } else {
    shard.lru.emplace_front(key);
    shard.entries.emplace(std::string(key), Entry{std::make_shared<const std::string>(std::move(value)), shard.lru.begin()});
  }
  shard.bytes += cost;
  while (shard.bytes > shard_capacity_ && !shard.lru.empty()) {
    eraseLocked(shard, shard.entries.find(shard.lru.back()));
  }
}

void NodeCache::eraseLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it) {
  shard.bytes -= it->first.size() + it->second.value->size() + kOverhead;
  shard.lru.erase(it->second.lru);
  shard.entries.erase(it);
}

}  // namespace corral::plugins::rocks
