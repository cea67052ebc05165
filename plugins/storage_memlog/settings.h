// storage.memlog's settings: the zoo.cfg keys of durability, snapshots and purge, with
// ZooKeeper's defaults and bounds.
#pragma once

#include <cstdint>
#include <filesystem>

#include "corral/formats/data_files.h"
#include "corral/plugin.h"
#include "corral/status.h"

namespace corral::plugins::memlog {

struct DurabilitySettings {
  bool durable = false;                  // false: memory only (no dataDir)
  std::filesystem::path data_dir;        // dataDir (snapshots in version-2/)
  std::filesystem::path log_dir;         // dataLogDir (logs in version-2/)
  int64_t snap_count = 100000;           // snapCount
  int64_t snap_size_limit_kb = 4194304;  // snapSizeLimitInKb (<= 0: off)
  int64_t txn_log_size_limit_kb = -1;    // txnLogSizeLimitInKb (<= 0: off)
  int64_t prealloc_kb = 65536;           // preAllocSize
  bool force_sync = true;                // forceSync
  int64_t snap_retain_count = 3;         // autopurge.snapRetainCount (>= 3)
  int64_t purge_interval_hours = 0;      // autopurge.purgeInterval (0: off)
  formats::Compression compression = formats::Compression::kNone;  // snapshot.compression.method
  bool digest_enabled = true;            // digest.enabled
  bool trust_empty_snapshot = false;     // snapshot.trust.empty
  bool autocreate = true;                // datadir.autocreate
  int64_t max_batch = 1000;              // maxBatchSize
  int64_t fsync_warn_ms = 1000;          // fsync.warningthresholdms

  static sdk::Result<DurabilitySettings> fromConfig(const sdk::PluginConfig& config);
  std::filesystem::path snapDir() const { return data_dir / "version-2"; }
  std::filesystem::path logDir() const { return log_dir / "version-2"; }
};

}  // namespace corral::plugins::memlog
