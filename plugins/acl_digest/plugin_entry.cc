// The acl.digest descriptor. Its super user comes from ZooKeeper's own key,
// zookeeper.DigestAuthenticationProvider.superDigest ("super:<base64 sha1>").
#include <new>

#include "corral/host.h"
#include "corral/plugin.h"
#include "digest_scheme.h"

namespace corral::plugins::digest {
namespace {

constexpr const char* kSuperDigestKey = "zookeeper.DigestAuthenticationProvider.superDigest";

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  auto super_digest = config.get(kSuperDigestKey);
  if (super_digest && !super_digest->empty() && super_digest->find(':') == std::string::npos) {
    return {sdk::Code::kInvalidConfig, config.where(kSuperDigestKey) + ": " + kSuperDigestKey +
                                           " must look like user:base64digest"};
  }
  return sdk::Status::ok();
}

sdk::Plugin* create(sdk::Host&, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    return new DigestScheme(config.getOr(kSuperDigestKey, ""));
  } catch (const std::exception& failure) {
    *error = sdk::Status(sdk::Code::kSystemError, failure.what());
    return nullptr;
  }
}

constexpr const char* kKeys[] = {kSuperDigestKey, nullptr};

}  // namespace

const sdk::PluginDescriptor descriptor{sdk::kAbiVersion, sdk::PluginKind::kAcl, "acl.digest", "0.1.0",
                                       "digest scheme: user:base64(sha1(user:password))", kKeys,
                                       validate, create};

}  // namespace corral::plugins::digest

CORRAL_PLUGIN(corral::plugins::digest::descriptor)
