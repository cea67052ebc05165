// storage.rocksdb's settings: ZooKeeper's durability keys it honours plus its own rocksdb.* keys.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "corral/plugin.h"
#include "corral/status.h"

namespace corral::plugins::rocks {

struct RocksSettings {
  std::filesystem::path data_dir;  // dataDir: the database is <dataDir>/rocksdb
  std::filesystem::path log_dir;   // dataLogDir: RocksDB's WAL goes to <dataLogDir>/rocksdb-wal when it differs
  bool force_sync = true;          // forceSync: fsync the WAL before acknowledging a write
  bool autocreate = true;          // datadir.autocreate
  bool digest_enabled = true;      // digest.enabled (an imported ZooKeeper snapshot's digest check)
  int64_t max_batch = 1000;        // maxBatchSize: txns per group commit
  int64_t fsync_warn_ms = 1000;    // fsync.warningthresholdms
  // rocksdb.* (README: tuning)
  int64_t cache_mb = 64;            // rocksdb.cacheSizeMb: block cache; memtables are charged to it too
  int64_t write_buffer_mb = 16;     // rocksdb.writeBufferMb: one memtable
  int64_t background_jobs = 2;      // rocksdb.backgroundJobs: flush + compaction threads
  std::string compression = "snappy";  // rocksdb.compression: none | snappy | zlib | lz4 | zstd
  int64_t log_retain_txns = 100000;    // rocksdb.logRetainTxns: txns kept for followers' DIFF
  int64_t undo_retain_txns = 10000;    // rocksdb.undoRetainTxns: txns a TRUNC can undo
  int64_t max_open_files = 512;        // rocksdb.maxOpenFiles
  int64_t min_free_disk_mb = 64;       // rocksdb.minFreeDiskMb: refuse writes below (10% of a smaller disk)

  static sdk::Result<RocksSettings> fromConfig(const sdk::PluginConfig& config);
  std::filesystem::path dbDir() const { return data_dir / "rocksdb"; }
  // rocksdb.cacheSizeMb split: a quarter for the node cache (node_cache.h), the rest for
  // RocksDB's block cache (which also carries the memtables and index/filter blocks).
  size_t nodeCacheBytes() const { return static_cast<size_t>(cache_mb << 20) / 4; }
  size_t blockCacheBytes() const { return static_cast<size_t>(cache_mb << 20) - nodeCacheBytes(); }
  // Empty when the WAL stays in dbDir().
  std::filesystem::path walDir() const;
};

}  // namespace corral::plugins::rocks
