// The storage.memlog descriptor.
#include <new>

#include "corral/plugin.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {
namespace {

// ZooKeeper keys this plugin acts on (claiming them marks them implemented).
const char* const kKeys[] = {"dataDir",
                             "dataLogDir",
                             "snapCount",
                             "preAllocSize",
                             "forceSync",
                             "autopurge.snapRetainCount",
                             "autopurge.purgeInterval",
                             "snapshot.compression.method",
                             "txnLogSizeLimitInKb",
                             "snapSizeLimitInKb",
                             "digest.enabled",
                             "snapshot.trust.empty",
                             "datadir.autocreate",
                             "maxBatchSize",
                             "fsync.warningthresholdms",
                             nullptr};

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    auto settings = DurabilitySettings::fromConfig(config);
    if (!settings.isOk()) return settings.status();
    return sdk::Status::ok();
  } catch (const std::exception& failure) {
    return sdk::Status(sdk::Code::kInvalidConfig, failure.what());
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = DurabilitySettings::fromConfig(config);
    if (!settings.isOk()) {
      *error = settings.status();
      return nullptr;
    }
    return new MemlogStorage(host, std::move(*settings));
  } catch (const std::exception& failure) {
    *error = sdk::Status(sdk::Code::kSystemError, failure.what());
    return nullptr;
  }
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kStorage, "storage.memlog", "0.2.0",
    "ZooKeeper data tree in memory, durable in ZooKeeper's txn log and snapshot formats", kKeys,
    validate, create};

}  // namespace corral::plugins::memlog

CORRAL_PLUGIN(corral::plugins::memlog::descriptor)
