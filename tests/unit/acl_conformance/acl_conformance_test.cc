// The SDK's ACL conformance suite on every ACL plugin built here.
#include "testing/acl_conformance.h"

namespace {

using corral::sdk::Id;
using corral::testing::AclConformance;
using corral::testing::AclConformanceCase;

std::string plugin(const char* name) { return std::string(CORRAL_BUILD_PLUGIN_DIR) + "/" + name; }

AclConformanceCase digestCase() {
  AclConformanceCase c;
  c.label = "digest";
  c.plugin_file = plugin("libcorral_acl_digest.so");
  c.scheme = "digest";
  c.valid_ids = {"user:smGaoVKd/cQkjm7b88GyorAUz20=", ":x"};
  c.invalid_ids = {"", "nocolon", "a:b:c", "a:"};
  c.accepted_auth = {{"user:pass", Id{"digest", "user:smGaoVKd/cQkjm7b88GyorAUz20="}}};
  c.matching = {{"u:x", "u:x"}};
  c.not_matching = {{"u:x", "u:y"}, {"u:x", "U:x"}};
  c.authenticated = true;
  return c;
}

AclConformanceCase digestSuperCase() {
  AclConformanceCase c = digestCase();
  c.label = "digest_super";
  c.config = {{"zookeeper.DigestAuthenticationProvider.superDigest", "user:smGaoVKd/cQkjm7b88GyorAUz20="}};
  c.accepted_auth = {{"user:pass", Id{"super", ""}}};
  return c;
}

AclConformanceCase ipCase() {
  AclConformanceCase c;
  c.label = "ip";
  c.plugin_file = plugin("libcorral_acl_ip.so");
  c.scheme = "ip";
  c.valid_ids = {"127.0.0.1", "10.0.0.0/8", "::1", "fd00::/8"};
  c.invalid_ids = {"", "300.1.1.1", "127.0.0.1/33", "localhost", "1.2.3.4/"};
  c.accepted_auth = {{"", Id{"ip", "127.0.0.1"}}};
  c.matching = {{"127.0.0.1", "127.0.0.0/8"}, {"::1", "::1"}};
  c.not_matching = {{"127.0.0.1", "10.0.0.0/8"}, {"::1", "127.0.0.1"}};
  c.authenticated = false;
  return c;
}

AclConformanceCase x509Case() {
  AclConformanceCase c;
  c.label = "x509";
  c.plugin_file = plugin("libcorral_acl_x509.so");
  c.scheme = "x509";
  c.connection.tls_peer_subject = "CN=alice,O=Corral,C=DE";
  c.valid_ids = {"CN=alice,O=Corral,C=DE", "CN=bob"};
  c.invalid_ids = {"not a name", "CN", "=x"};
  c.accepted_auth = {{"", Id{"x509", "CN=alice,O=Corral,C=DE"}}};
  c.matching = {{"CN=alice,O=Corral,C=DE", "CN=alice,O=Corral,C=DE"}};
  c.not_matching = {{"CN=alice,O=Corral,C=DE", "CN=bob"}};
  c.authenticated = true;
  return c;
}

AclConformanceCase x509WithoutCertificateCase() {
  AclConformanceCase c = x509Case();
  c.label = "x509_without_certificate";
  c.connection.tls_peer_subject.clear();
  c.accepted_auth.clear();
  c.refused_auth = {"", "CN=alice"};  // no verified certificate: AuthFailed whatever is sent
  return c;
}

INSTANTIATE_TEST_SUITE_P(BuiltIn, AclConformance,
                         ::testing::Values(digestCase(), digestSuperCase(), ipCase(), x509Case(),
                                           x509WithoutCertificateCase()),
                         corral::testing::caseName);

}  // namespace
