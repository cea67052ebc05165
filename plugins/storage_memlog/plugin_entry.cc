// The storage.memlog descriptor.
#include <new>

#include "corral/plugin.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {
namespace {

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  if (!config.get("dataDir")) {
    return {sdk::Code::kInvalidConfig, "storage.memlog needs dataDir"};
  }
  return sdk::Status::ok();
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig&, sdk::Status* error) noexcept {
  try {
    return new MemlogStorage(host);
  } catch (const std::exception& failure) {
    *error = sdk::Status(sdk::Code::kSystemError, failure.what());
    return nullptr;
  }
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kStorage, "storage.memlog", "0.1.0",
    "ZooKeeper data tree in memory", nullptr, validate, create};

}  // namespace corral::plugins::memlog

CORRAL_PLUGIN(corral::plugins::memlog::descriptor)
