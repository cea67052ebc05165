// The storage.rocksdb descriptor.
#include "corral/plugin.h"
#include "rocksdb_storage.h"

namespace corral::plugins::rocks {
namespace {

// ZooKeeper keys this plugin acts on and its own (claiming them marks them implemented).
const char* const kKeys[] = {"dataDir",
                             "dataLogDir",
                             "forceSync",
                             "datadir.autocreate",
                             "digest.enabled",
                             "maxBatchSize",
                             "fsync.warningthresholdms",
                             "rocksdb.cacheSizeMb",
                             "rocksdb.writeBufferMb",
                             "rocksdb.backgroundJobs",
                             "rocksdb.compression",
                             "rocksdb.logRetainTxns",
                             "rocksdb.undoRetainTxns",
                             "rocksdb.maxOpenFiles",
                             "rocksdb.minFreeDiskMb",
                             nullptr};

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    auto settings = RocksSettings::fromConfig(config);
    return settings.isOk() ? sdk::Status::ok() : settings.status();
  } catch (const std::exception& failure) {
    return sdk::Status(sdk::Code::kInvalidConfig, failure.what());
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = RocksSettings::fromConfig(config);
    if (!settings.isOk()) {
      *error = settings.status();
      return nullptr;
    }
    return new RocksdbStorage(host, std::move(*settings));
  } catch (const std::exception& failure) {
    *error = sdk::Status(sdk::Code::kSystemError, failure.what());
    return nullptr;
  }
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kStorage, "storage.rocksdb", "0.1.0",
    "ZooKeeper data tree in RocksDB: restart without replay, trees larger than memory", kKeys, validate, create};

}  // namespace corral::plugins::rocks

CORRAL_PLUGIN(corral::plugins::rocks::descriptor)
