// The acl.ip descriptor.
#include <new>

#include "corral/plugin.h"
#include "ip_scheme.h"

namespace corral::plugins::ip {
namespace {

sdk::Status validate(const sdk::PluginConfig&) noexcept { return sdk::Status::ok(); }

sdk::Plugin* create(sdk::Host&, const sdk::PluginConfig&, sdk::Status* error) noexcept {
  auto* plugin = new (std::nothrow) IpScheme();
  if (plugin == nullptr) *error = sdk::Status(sdk::Code::kSystemError, "out of memory");
  return plugin;
}

}  // namespace

const sdk::PluginDescriptor descriptor{sdk::kAbiVersion, sdk::PluginKind::kAcl, "acl.ip", "0.1.0",
                                       "ip scheme: peer address and CIDR prefixes (IPv4, IPv6)", nullptr,
                                       validate, create};

}  // namespace corral::plugins::ip

CORRAL_PLUGIN(corral::plugins::ip::descriptor)
