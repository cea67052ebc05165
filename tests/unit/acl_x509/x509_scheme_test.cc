// acl.x509: ids from the TLS peer subject, super user, and Java's X500Principal validity.
#include "x509_scheme.h"

#include <gtest/gtest.h>

#include "x500_dn.h"

namespace corral::plugins::x509 {
namespace {

sdk::ConnectionInfo tlsPeer(std::string subject) {
  sdk::ConnectionInfo info;
  info.remote_address = "127.0.0.1";
  info.tls_peer_subject = std::move(subject);
  return info;
}

TEST(X509Scheme, IdsFromTheVerifiedCertificate) {
  X509Scheme scheme("");
  EXPECT_EQ(scheme.scheme(), "x509");
  EXPECT_TRUE(scheme.isAuthenticated());
  EXPECT_TRUE(scheme.connectIds(tlsPeer("")).empty());
  auto ids = scheme.connectIds(tlsPeer("CN=a,O=b"));
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], (sdk::Id{"x509", "CN=a,O=b"}));

  auto auth = scheme.authenticate(tlsPeer("CN=a,O=b"), "ignored");
  ASSERT_TRUE(auth.isOk());
  EXPECT_EQ(*auth, ids);
  auto plain = scheme.authenticate(tlsPeer(""), "CN=a,O=b");  // the bytes never count
  ASSERT_FALSE(plain.isOk());
  EXPECT_EQ(plain.status().code(), sdk::Code::kAuthFailed);
}

TEST(X509Scheme, SuperUser) {
  X509Scheme scheme("CN=admin,O=Corral");
  auto ids = scheme.connectIds(tlsPeer("CN=admin,O=Corral"));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0], (sdk::Id{"super", ""}));
  EXPECT_EQ(ids[1], (sdk::Id{"x509", "CN=admin,O=Corral"}));
  EXPECT_EQ(scheme.connectIds(tlsPeer("CN=other")).size(), 1u);
  EXPECT_TRUE(scheme.isSuper("CN=admin,O=Corral"));
  EXPECT_FALSE(scheme.isSuper("CN=other"));
  // X509AuthenticationProvider.matches: the super user matches any x509 entry.
  EXPECT_TRUE(scheme.matches("CN=admin,O=Corral", "CN=someone"));
  EXPECT_TRUE(scheme.matches("CN=x", "CN=x"));
  EXPECT_FALSE(scheme.matches("CN=x", "CN=y"));
  EXPECT_FALSE(X509Scheme("").isSuper(""));
}

TEST(X509Scheme, MatchesByExactString) {
  X509Scheme scheme("");
  EXPECT_TRUE(scheme.matches("CN=a,O=b", "CN=a,O=b"));
  EXPECT_FALSE(scheme.matches("CN=a,O=b", "CN=a, O=b"));
  EXPECT_FALSE(scheme.matches("CN=a,O=b", "cn=a,o=b"));
}

// Both lists were checked against Java 17's `new X500Principal(String)`.
TEST(X500Dn, ValidNames) {
  for (const char* name :
       {"", "CN=a", "CN=a,O=b", "CN=a, O=b", "cn=a;o=b", "CN=a+UID=7,O=b", "CN=", "CN=\"a, b\"",
        "CN=a\\,b", "CN=\\ a\\+b\\=c,O=Acme\\, Inc.", "OID.2.5.4.3=x", "2.5.4.3=x",
        "1.2.840.113549.1.9.1=#160b6140622e6578616d706c65", "EMAILADDRESS=a@b", "ST=x,C=DE",
        "CN=caf\xc3\xa9", "CN=a\\4Ab", "  CN = a  ", "CN=a=b", "CN=a#b", "CN= a", "T=x",
        "oid.2.5.4.3=x"}) {
    EXPECT_TRUE(isValidDistinguishedName(name)) << name;
  }
}

TEST(X500Dn, InvalidNames) {
  for (const char* name : {"not a dn", "CN", "FOO=bar", "CN=a,", ",CN=a", "CN=a<b", "CN=a>b", "CN=a;", "CN=a+",
                           "CN=a\"b", "CN=\"open", "CN=#zz", "CN=#1", "CN=#0401", "3.1=x", "1=x",
                           "CN=a\\", "CN=a\\4", "=a", "CN=a,,O=b", "CN=\"a\"b"}) {
    EXPECT_FALSE(isValidDistinguishedName(name)) << name;
  }
}

}  // namespace
}  // namespace corral::plugins::x509
