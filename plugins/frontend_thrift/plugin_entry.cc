// The exported descriptor of frontend.thrift. Nothing here may throw past the boundary.
#include <exception>
#include <string>

#include "corral/host.h"
#include "corral/plugin.h"
#include "thrift_frontend.h"
#include "thrift_settings.h"

namespace corral::plugins::thrift {
namespace {

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    auto settings = parseSettings(config);
    if (!settings) return settings.status();
    if (!settings->port) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         "frontend.thrift: thrift.port is not set (frontends lists thrift)");
    }
    return sdk::Status::ok();
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kInvalidConfig, std::string("frontend.thrift: ") + e.what());
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = parseSettings(config);
    if (!settings) {
      *error = settings.status();
      return nullptr;
    }
    return makeThriftFrontend(host, std::move(settings).value()).release();
  } catch (const std::exception& e) {
    *error = sdk::Status(sdk::Code::kPluginError, std::string("frontend.thrift: ") + e.what());
    return nullptr;
  }
}

}  // namespace

// Its own keys; it also reads clientPortListenBacklog, jute.maxbuffer (the default of
// thrift.maxFrameSize) and nio.sessionlessCnxnTimeout. maxClientCnxns, maxCnxns,
// globalOutstandingLimit, clientOutput.* and ssl.* are the kernel's (Host::admission()).
constexpr const char* kKeys[] = {"thrift.port",          "thrift.address",        "thrift.protocol",
                                 "thrift.secure",        "thrift.maxFrameSize",   "thrift.maxConnections",
                                 nullptr};

extern const sdk::PluginDescriptor descriptor;
const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kFrontend, "frontend.thrift", "0.1.0",
    "ZooKeeper's client API as an Apache Thrift service (sdk/thrift/corral.thrift) on thrift.port",
    kKeys, validate, create};

}  // namespace corral::plugins::thrift

CORRAL_PLUGIN(corral::plugins::thrift::descriptor)
