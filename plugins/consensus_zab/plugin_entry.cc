// consensus.zab's descriptor; the peer itself is in zab_peer.*.
#include <new>

#include "corral/host.h"
#include "zab_peer.h"

namespace corral::plugins::zab {
namespace {

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    auto settings = readZabSettings(config);
    return settings ? sdk::Status::ok() : settings.status();
  } catch (...) {
    return sdk::Status(sdk::Code::kSystemError, "consensus.zab: out of memory reading settings");
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = readZabSettings(config);
    if (!settings) {
      *error = settings.status();
      return nullptr;
    }
    return new ZabPeer(host, std::move(*settings));
  } catch (...) {
    *error = sdk::Status(sdk::Code::kSystemError, "consensus.zab: out of memory");
    return nullptr;
  }
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kConsensus, "consensus.zab", "0.1.0",
    "ZooKeeper 3.8's quorum protocol: fast leader election, Zab leader and learners", nullptr, validate, create};

}  // namespace corral::plugins::zab

CORRAL_PLUGIN(corral::plugins::zab::descriptor)
