#include "settings.h"

#include "corral/host.h"

#include <algorithm>

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;

sdk::Result<DurabilitySettings> DurabilitySettings::fromConfig(const sdk::PluginConfig& config) {
  DurabilitySettings s;
  auto data_dir = config.get("dataDir");
  if (!data_dir || data_dir->empty()) return Status(Code::kInvalidConfig, "storage.memlog needs dataDir");
  s.durable = true;
  s.data_dir = *data_dir;
  s.log_dir = config.getOr("dataLogDir", *data_dir);
  if (s.log_dir.empty()) s.log_dir = s.data_dir;
  auto integer = [&](std::string_view key, int64_t fallback, int64_t& out) -> Status {
    auto v = config.getInt(key, fallback);
    if (!v.isOk()) return v.status();
    out = *v;
    return Status::ok();
  };
  auto boolean = [&](std::string_view key, bool fallback, bool& out) -> Status {
    auto v = config.getBool(key, fallback);
    if (!v.isOk()) return v.status();
    out = *v;
    return Status::ok();
  };
  for (auto st : {integer("snapCount", 100000, s.snap_count),
                  integer("snapSizeLimitInKb", 4194304, s.snap_size_limit_kb),
                  integer("txnLogSizeLimitInKb", -1, s.txn_log_size_limit_kb),
                  integer("preAllocSize", 65536, s.prealloc_kb),
                  integer("autopurge.snapRetainCount", 3, s.snap_retain_count),
                  integer("autopurge.purgeInterval", 0, s.purge_interval_hours),
                  integer("maxBatchSize", 1000, s.max_batch),
                  integer("fsync.warningthresholdms", 1000, s.fsync_warn_ms),
                  boolean("forceSync", true, s.force_sync),
                  boolean("digest.enabled", true, s.digest_enabled),
                  boolean("snapshot.trust.empty", false, s.trust_empty_snapshot),
                  boolean("datadir.autocreate", true, s.autocreate)}) {
    if (!st.isOk()) return st;
  }
  s.snap_count = std::max<int64_t>(s.snap_count, 2);  // ZooKeeperServer.getSnapCount
  s.snap_retain_count = std::max<int64_t>(s.snap_retain_count, 3);
  s.max_batch = std::max<int64_t>(s.max_batch, 1);
  s.compression = formats::compressionFromSetting(config.getOr("snapshot.compression.method", ""));
  return s;
}

}  // namespace corral::plugins::memlog
