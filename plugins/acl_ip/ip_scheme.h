// acl.ip: ZooKeeper's IPAuthenticationProvider, extended to IPv6.
//
// Every connection carries the id ip:<peer address>. An ACL id is an address with an
// optional prefix length ("10.0.0.0/8", "::1", "fd00::/8"); it matches a peer whose address
// has the same leading bits. ZooKeeper 3.8 accepts IPv4 only; IPv6 ids are a Corral
// extension (a 3.8 server refuses them with InvalidACL). Stateless and thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "corral/acl.h"

namespace corral::plugins::ip {

struct Prefix {
  std::array<unsigned char, 16> bytes{};
  int length = 0;  // bytes in use: 4 or 16
  int bits = 0;    // prefix length
};

// "a.b.c.d[/n]" or an IPv6 address "[/n]"; nullopt when malformed or n out of range.
std::optional<Prefix> parsePrefix(std::string_view text);

class IpScheme final : public sdk::AclProvider {
 public:
  std::string_view scheme() const noexcept override { return "ip"; }
  sdk::Result<std::vector<sdk::Id>> authenticate(const sdk::ConnectionInfo& connection,
                                                 std::string_view auth) const noexcept override;
  std::vector<sdk::Id> connectIds(const sdk::ConnectionInfo& connection) const override;
  bool isValid(std::string_view id) const noexcept override;
  bool matches(std::string_view caller_id, std::string_view acl_id) const noexcept override;
  bool isAuthenticated() const noexcept override { return false; }
};

}  // namespace corral::plugins::ip
