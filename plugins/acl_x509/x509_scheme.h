// acl.x509: ZooKeeper's X509AuthenticationProvider.
//
// A client that completed a TLS handshake on secureClientPort with a verified certificate is
// `x509:<subject>`, the subject in RFC 2253 form as Java's X500Principal.getName() prints it
// (the front end fills sdk::ConnectionInfo::tls_peer_subject). ZooKeeper grants that id during
// the TLS handshake; Corral grants it through connectIds() when the connection opens its
// session, and again through authenticate() when the client sends an AuthPacket with scheme
// "x509" (ZooKeeper answers that one from the certificate as well; without a certificate it is
// AuthFailed). If the subject equals zookeeper.X509AuthenticationProvider.superUser the
// connection is also `super:<subject>` (a super user).
// Stateless and thread-safe.
#pragma once

#include <string>
#include <vector>

#include "corral/acl.h"

namespace corral::plugins::x509 {

class X509Scheme final : public sdk::AclProvider {
 public:
  explicit X509Scheme(std::string super_user) : super_user_(std::move(super_user)) {}

  std::string_view scheme() const noexcept override { return "x509"; }
  sdk::Result<std::vector<sdk::Id>> authenticate(const sdk::ConnectionInfo& connection,
                                                 std::string_view auth) const noexcept override;
  std::vector<sdk::Id> connectIds(const sdk::ConnectionInfo& connection) const override;
  bool isValid(std::string_view id) const noexcept override;
  bool matches(std::string_view caller_id, std::string_view acl_id) const noexcept override;
  bool isAuthenticated() const noexcept override { return true; }
  bool isSuper(std::string_view id) const noexcept override;

 private:
  // The ids of a verified certificate's subject: super:<subject> first when it is the super
  // user (ZooKeeper's order), then x509:<subject>.
  std::vector<sdk::Id> idsFor(const std::string& subject) const;

  std::string super_user_;  // "" = none
};

}  // namespace corral::plugins::x509
