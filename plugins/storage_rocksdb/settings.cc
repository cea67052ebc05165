#include "settings.h"

#include "corral/host.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

sdk::Result<RocksSettings> RocksSettings::fromConfig(const sdk::PluginConfig& config) {
  RocksSettings s;
  auto data_dir = config.get("dataDir");
  if (!data_dir || data_dir->empty()) return Status(Code::kInvalidConfig, "storage.rocksdb needs dataDir");
  s.data_dir = *data_dir;
  s.log_dir = config.getOr("dataLogDir", *data_dir);
  if (s.log_dir.empty()) s.log_dir = s.data_dir;
  auto integer = [&](std::string_view key, int64_t fallback, int64_t low, int64_t& out) -> Status {
    auto v = config.getInt(key, fallback);
    if (!v.isOk()) return v.status();
    if (*v < low) return Status(Code::kInvalidConfig, fmt::format("{} must be at least {} (is {})", key, low, *v));
    out = *v;
    return Status::ok();
  };
  auto boolean = [&](std::string_view key, bool fallback, bool& out) -> Status {
    auto v = config.getBool(key, fallback);
    if (!v.isOk()) return v.status();
    out = *v;
    return Status::ok();
  };
  for (auto st : {boolean("forceSync", true, s.force_sync), boolean("datadir.autocreate", true, s.autocreate),
                  boolean("digest.enabled", true, s.digest_enabled),
                  integer("maxBatchSize", 1000, 1, s.max_batch),
                  integer("fsync.warningthresholdms", 1000, 0, s.fsync_warn_ms),
                  integer("rocksdb.cacheSizeMb", 64, 8, s.cache_mb),
                  integer("rocksdb.writeBufferMb", 16, 1, s.write_buffer_mb),
                  integer("rocksdb.backgroundJobs", 2, 1, s.background_jobs),
                  integer("rocksdb.logRetainTxns", 100000, 1000, s.log_retain_txns),
                  integer("rocksdb.undoRetainTxns", 10000, 100, s.undo_retain_txns),
                  integer("rocksdb.maxOpenFiles", 512, 64, s.max_open_files),
                  integer("rocksdb.minFreeDiskMb", 64, 0, s.min_free_disk_mb)}) {
    if (!st.isOk()) return st;
  }
  if (s.write_buffer_mb * 4 > s.cache_mb) {
    return Status(Code::kInvalidConfig,
                  fmt::format("rocksdb.writeBufferMb ({}) must be at most a quarter of rocksdb.cacheSizeMb ({}): "
                              "memtables are charged to the cache",
                              s.write_buffer_mb, s.cache_mb));
  }
  s.compression = config.getOr("rocksdb.compression", "snappy");
  static const char* const kKnown[] = {"none", "snappy", "zlib", "lz4", "zstd"};
  if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return s.compression == k; })) {
    return Status(Code::kInvalidConfig,
                  fmt::format("rocksdb.compression={}: expected none, snappy, zlib, lz4 or zstd", s.compression));
  }
  s.undo_retain_txns = std::min(s.undo_retain_txns, s.log_retain_txns);
  return s;
}

std::filesystem::path RocksSettings::walDir() const {
  std::error_code ec;
  if (log_dir == data_dir || std::filesystem::equivalent(log_dir, data_dir, ec)) return {};
  return log_dir / "rocksdb-wal";
}

}  // namespace corral::plugins::rocks
