// consensus.single's descriptor; the consensus itself is in single_consensus.*.
#include <new>

#include "corral/host.h"
#include "single_consensus.h"

namespace corral::plugins::single {
namespace {

sdk::Status validate(const sdk::PluginConfig&) noexcept { return sdk::Status::ok(); }

sdk::Plugin* create(sdk::Host&, const sdk::PluginConfig&, sdk::Status* error) noexcept {
  auto* plugin = new (std::nothrow) SingleConsensus();
  if (plugin == nullptr) *error = sdk::Status(sdk::Code::kSystemError, "out of memory");
  return plugin;
}

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kConsensus, "consensus.single", "0.1.0",
    "standalone: commit on local durability", nullptr, validate, create};

}  // namespace corral::plugins::single

CORRAL_PLUGIN(corral::plugins::single::descriptor)
