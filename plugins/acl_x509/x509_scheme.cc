#include "x509_scheme.h"

#include "x500_dn.h"

namespace corral::plugins::x509 {

std::vector<sdk::Id> X509Scheme::idsFor(const std::string& subject) const {
  std::vector<sdk::Id> ids;
  // ZooKeeper adds super:<subject>; its whoAmI shows that id as ("super", "") since no
  // provider serves "super", so the string is never visible. Corral stores what is shown.
  if (isSuper(subject)) ids.push_back(sdk::Id{"super", ""});
  ids.push_back(sdk::Id{"x509", subject});
  return ids;
}

sdk::Result<std::vector<sdk::Id>> X509Scheme::authenticate(const sdk::ConnectionInfo& connection,
                                                           std::string_view) const noexcept {
  // The auth bytes are ignored, as in ZooKeeper: only the TLS certificate counts.
  if (connection.tls_peer_subject.empty()) {
    return sdk::Status(sdk::Code::kAuthFailed, "x509: no verified client certificate");
  }
  try {
    return idsFor(connection.tls_peer_subject);
  } catch (...) {
    return sdk::Status(sdk::Code::kAuthFailed);
  }
}

std::vector<sdk::Id> X509Scheme::connectIds(const sdk::ConnectionInfo& connection) const {
  if (connection.tls_peer_subject.empty()) return {};
  return idsFor(connection.tls_peer_subject);
}

bool X509Scheme::isValid(std::string_view id) const noexcept {
  return isValidDistinguishedName(id);
}

bool X509Scheme::matches(std::string_view caller_id, std::string_view acl_id) const noexcept {
  // X509AuthenticationProvider.matches: the super user matches every x509 ACL entry.
  if (!super_user_.empty() && caller_id == super_user_) return true;
  return caller_id == acl_id;
}

bool X509Scheme::isSuper(std::string_view id) const noexcept {
  return !super_user_.empty() && id == super_user_;
}

}  // namespace corral::plugins::x509
