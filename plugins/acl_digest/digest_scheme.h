// acl.digest: ZooKeeper's DigestAuthenticationProvider.
//
// A client authenticates with "user:password"; its id becomes
// "user:" + base64(sha1("user:password")). ACL ids are compared as strings. If the id
// equals the configured super digest, the connection is also a super user.
// Stateless and thread-safe.
#pragma once

#include <string>

#include "corral/acl.h"

namespace corral::plugins::digest {

// "user:" + base64(SHA-1(text)); the user is the text up to the first ':' (all of it if none).
std::string generateDigest(std::string_view text);

class DigestScheme final : public sdk::AclProvider {
 public:
  explicit DigestScheme(std::string super_digest) : super_digest_(std::move(super_digest)) {}

  std::string_view scheme() const noexcept override { return "digest"; }
  sdk::Result<std::vector<sdk::Id>> authenticate(const sdk::ConnectionInfo& connection,
                                                 std::string_view auth) const noexcept override;
  bool isValid(std::string_view id) const noexcept override;
  bool matches(std::string_view caller_id, std::string_view acl_id) const noexcept override;
  bool isAuthenticated() const noexcept override { return true; }
  std::string userName(std::string_view id) const override;

 private:
  std::string super_digest_;
};

}  // namespace corral::plugins::digest
