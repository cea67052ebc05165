// Recently used node records in front of RocksDB: a read of a hot node (and the apply of a
// txn on it) skips the memtable and block lookups. Bounded in bytes (part of
// rocksdb.cacheSizeMb) and sharded by key hash.
//
// Consistency: only the apply strand changes nodes, and it updates the cache right after its
// batch is in the database (put/erase). A reader that missed fills the cache only if no apply
// touched that shard between its miss and its fill (the shard's generation did not move), so
// the cache never holds a value older than the database's.
#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace corral::plugins::rocks {

class NodeCache {
 public:
  explicit NodeCache(size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

  using Value = std::shared_ptr<const std::string>;  // the encoded node record
  struct Miss {
    size_t shard = 0;
    uint64_t generation = 0;
  };

  // The cached record of `key`, or the ticket a reader gives back to fill() after reading.
  Value find(std::string_view key, Miss& miss);
  void fill(std::string_view key, std::string value, const Miss& miss);
  // The apply strand, after its batch is written: the new record, or the key is gone.
  void put(std::string_view key, std::string value);
  void erase(std::string_view key);
  // Everything changed at once (TRUNC, a loaded snapshot).
  void clear();

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    Value value;
    std::list<std::string>::iterator lru;
  };
  struct Shard {
    std::mutex mutex;
    uint64_t generation = 0;
    size_t bytes = 0;
    std::list<std::string> lru;  // most recent first
    std::unordered_map<std::string, Entry> entries;
  };
  Shard& shardOf(std::string_view key, size_t* index = nullptr);
  void insertLocked(Shard& shard, std::string_view key, std::string value);
  void eraseLocked(Shard& shard, std::unordered_map<std::string, Entry>::iterator it);

  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace corral::plugins::rocks
