// The exported descriptor of frontend.jute. Nothing here may throw past the boundary.
#include <exception>
#include <new>
#include <string>

#include "corral/host.h"
#include "corral/plugin.h"
#include "frontend_settings.h"
#include "jute_frontend.h"

namespace corral::plugins::jute {
namespace {

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    return parseSettings(config).status();
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kInvalidConfig, std::string("frontend.jute: ") + e.what());
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = parseSettings(config);
    if (!settings) {
      *error = settings.status();
      return nullptr;
    }
    return makeJuteFrontend(host, std::move(settings).value()).release();
  } catch (const std::exception& e) {
    *error = sdk::Status(sdk::Code::kPluginError, std::string("frontend.jute: ") + e.what());
    return nullptr;
  }
}

}  // namespace

// Keys: none of its own. It reads ZooKeeper's clientPort, clientPortAddress, secureClientPort,
// secureClientPortAddress, clientPortListenBacklog, jute.maxbuffer, nio.sessionlessCnxnTimeout,
// 4lw.commands.whitelist and readonlymode.enabled (see README.md); maxClientCnxns, maxCnxns,
// globalOutstandingLimit, clientOutput.* and ssl.* are the kernel's (Host::admission()).
// ZooKeeper keys this plugin acts on beyond the kernel's (claiming them marks them
// implemented in the config catalog).
constexpr const char* kKeys[] = {"secureClientPortAddress", "serverCnxnFactory", "clientPortListenBacklog",
                                 nullptr};

extern const sdk::PluginDescriptor descriptor;
const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kFrontend, "frontend.jute", "0.1.0",
    "ZooKeeper client protocol (jute over TCP) on clientPort, TLS on secureClientPort", kKeys,
    validate, create};

}  // namespace corral::plugins::jute

CORRAL_PLUGIN(corral::plugins::jute::descriptor)
