// The acl.x509 descriptor. Its super user comes from ZooKeeper's own key,
// zookeeper.X509AuthenticationProvider.superUser (an RFC 2253 subject).
#include <exception>
#include <new>

#include "corral/host.h"
#include "corral/plugin.h"
#include "x500_dn.h"
#include "x509_scheme.h"

namespace corral::plugins::x509 {
namespace {

constexpr const char* kSuperUserKey = "zookeeper.X509AuthenticationProvider.superUser";

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    auto super_user = config.get(kSuperUserKey);
    if (super_user && !super_user->empty() && !isValidDistinguishedName(*super_user)) {
      return {sdk::Code::kInvalidConfig,
              config.where(kSuperUserKey) + ": " + kSuperUserKey + "=" + *super_user +
                  " is not an X.500 name (e.g. CN=admin,O=Example)"};
    }
    return sdk::Status::ok();
  } catch (const std::exception& e) {
    return {sdk::Code::kInvalidConfig, std::string("acl.x509: ") + e.what()};
  }
}

sdk::Plugin* create(sdk::Host&, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    return new X509Scheme(config.getOr(kSuperUserKey, ""));
  } catch (const std::exception& failure) {
    *error = sdk::Status(sdk::Code::kSystemError, failure.what());
    return nullptr;
  }
}

constexpr const char* kKeys[] = {kSuperUserKey, nullptr};

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kAcl, "acl.x509", "0.1.0",
    "x509 scheme: the subject of a verified TLS client certificate (secureClientPort)", kKeys,
    validate, create};

}  // namespace corral::plugins::x509

CORRAL_PLUGIN(corral::plugins::x509::descriptor)
