// secureClientPort: ssl.* settings, the TLS context's start-up errors, cipher-name mapping and
// the RFC 2253 subject form (Java's X500Principal.getName()). The TLS handshake itself and the
// x509 ids are covered end to end by tests/integration/test_tls.py (also against ZooKeeper).
#include <openssl/x509.h>

#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "kernel/admission/admission_settings.h"
#include "kernel/admission/tls_context.h"
#include "kernel/admission/x500_name.h"
#include "test_config.h"

namespace corral::kernel::admission {
namespace {

using testing::MapConfig;

struct NameDeleter {
  void operator()(X509_NAME* name) const { X509_NAME_free(name); }
};
using NamePtr = std::unique_ptr<X509_NAME, NameDeleter>;

// `set` = 0 starts a new RDN, -1 joins the previous one (multi-valued RDN).
void add(X509_NAME* name, const char* field, std::string_view value, int set = 0,
         int type = MBSTRING_UTF8) {
  ASSERT_EQ(X509_NAME_add_entry_by_txt(name, field, type,
                                       reinterpret_cast<const unsigned char*>(value.data()),
                                       static_cast<int>(value.size()), -1, set),
            1)
      << field;
}

TEST(Rfc2253Name, ReversedOrderAndKeywords) {
  NamePtr name(X509_NAME_new());
  add(name.get(), "C", "DE", 0, MBSTRING_ASC);
  add(name.get(), "ST", "Berlin");
  add(name.get(), "L", "Berlin");
  add(name.get(), "O", "Corral");
  add(name.get(), "OU", "Tests");
  add(name.get(), "CN", "client-a");
  EXPECT_EQ(rfc2253Name(name.get()), "CN=client-a,OU=Tests,O=Corral,L=Berlin,ST=Berlin,C=DE");
}

TEST(Rfc2253Name, EscapesLikeJava) {
  NamePtr name(X509_NAME_new());
  add(name.get(), "O", "Acme, Inc.");
  add(name.get(), "CN", " a+b=c;<d>#\"e\\ ");
  EXPECT_EQ(rfc2253Name(name.get()), "CN=\\ a\\+b\\=c\\;\\<d\\>\\#\\\"e\\\\\\ ,O=Acme\\, Inc.");
}

TEST(Rfc2253Name, OtherTypesAsOidAndHex) {
  NamePtr name(X509_NAME_new());
  add(name.get(), "emailAddress", "a@b", 0, MBSTRING_ASC);  // IA5String
  add(name.get(), "CN", "caf\xc3\xa9");
  add(name.get(), "UID", "7", -1);  // same RDN as the CN
  add(name.get(), "title", "x", 0, V_ASN1_PRINTABLESTRING);
  // Java: title -> 2.5.4.12=#<DER>; emailAddress -> 1.2.840.113549.1.9.1=#<DER>.
  EXPECT_EQ(rfc2253Name(name.get()),
            "2.5.4.12=#130178,CN=caf\xc3\xa9+UID=7,1.2.840.113549.1.9.1=#1603614062");
}

TEST(Rfc2253Name, Empty) {
  NamePtr name(X509_NAME_new());
  EXPECT_EQ(rfc2253Name(name.get()), "");
  EXPECT_EQ(rfc2253Name(nullptr), "");
}

TEST(TlsSettings, DefaultsAndKeys) {
  auto settings = parseAdmissionSettings(MapConfig({{"secureClientPort", "2281"},
                                                    {"ssl.keyStore.location", "/k.pem"},
                                                    {"zookeeper.ssl.trustStore.location", "/ca.pem"}}));
  ASSERT_TRUE(settings.isOk()) << settings.status().toString();
  ASSERT_TRUE(settings->tls.has_value());
  EXPECT_EQ(settings->tls->key_store_location, "/k.pem");
  EXPECT_EQ(settings->tls->trust_store_location, "/ca.pem");
  EXPECT_EQ(settings->tls->client_auth, TlsSettings::ClientAuth::kNeed);
  EXPECT_EQ(settings->tls->protocols, std::vector<std::string>{"TLSv1.2"});
  EXPECT_TRUE(settings->tls->cipher_suites.empty());

  auto custom = parseAdmissionSettings(MapConfig({{"secureClientPort", "2281"},
                                         {"ssl.keyStore.location", "/k.crt"},
                                         {"ssl.keyStore.type", "pem"},
                                         {"ssl.clientAuth", "WANT"},
                                         {"ssl.protocol", "TLSv1.3"},
                                         {"ssl.enabledProtocols", "TLSv1.3, TLSv1.2"},
                                         {"ssl.ciphersuites", "TLS_AES_128_GCM_SHA256,x"}}));
  ASSERT_TRUE(custom.isOk()) << custom.status().toString();
  EXPECT_EQ(custom->tls->client_auth, TlsSettings::ClientAuth::kWant);
  EXPECT_EQ(custom->tls->protocols, (std::vector<std::string>{"TLSv1.3", "TLSv1.2"}));
  EXPECT_EQ(custom->tls->cipher_suites, (std::vector<std::string>{"TLS_AES_128_GCM_SHA256", "x"}));

  auto none = parseAdmissionSettings(
      MapConfig({{"clientPort", "2181"}, {"ssl.keyStore.location", "/x.jks"}}));
  ASSERT_TRUE(none.isOk());  // ssl.* are only read with a secureClientPort
  EXPECT_FALSE(none->tls.has_value());
}

TEST(TlsSettings, BadValuesNameTheKey) {
  const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, std::string>> cases = {
      {{{"secureClientPort", "2281"}}, "ssl.keyStore.location is not"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.jks"}}, "PEM files only"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k"}}, "set ssl.keyStore.type=PEM"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.keyStore.type", "JKS"}},
       "ssl.keyStore.type=JKS is not supported"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.trustStore.location", "/t.p12"}},
       "ssl.trustStore.location"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.clientAuth", "maybe"}},
       "ssl.clientAuth=maybe"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.protocol", "SSLv3"}},
       "unknown TLS protocol 'SSLv3'"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.crl", "true"}},
       "ssl.crl=true"},
      {{{"secureClientPort", "2281"}, {"ssl.keyStore.location", "/k.pem"}, {"ssl.context.supplier.class", "a.B"}},
       "ssl.context.supplier.class"},
  };
  for (const auto& [entries, expected] : cases) {
    auto settings = parseAdmissionSettings(MapConfig(entries));
    ASSERT_FALSE(settings.isOk()) << expected;
    EXPECT_EQ(settings.status().code(), sdk::Code::kInvalidConfig);
    EXPECT_NE(settings.status().message().find(expected), std::string::npos)
        << settings.status().message();
  }
}

TEST(TlsContext, CipherNamesFromJava) {
  std::vector<std::string> unknown;
  EXPECT_EQ(openSslCipherList({"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_NOPE",
                               "ECDHE-ECDSA-AES256-GCM-SHA384"},
                              &unknown),
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384");
  EXPECT_EQ(unknown, std::vector<std::string>{"TLS_NOPE"});
}

TEST(TlsContext, BadFilesAreStartErrors) {
  testing::CapturingLogger logger;
  TlsSettings settings;
  settings.key_store_location = "/nonexistent/key.pem";
  auto missing = makeTlsContext(settings, logger);
  ASSERT_FALSE(missing.isOk());
  EXPECT_NE(missing.status().message().find("ssl.keyStore.location=/nonexistent/key.pem: cannot read"),
            std::string::npos)
      << missing.status().message();

  const std::string garbage = ::testing::TempDir() + "/corral-garbage.pem";
  std::ofstream(garbage) << "hello\n";
  settings.key_store_location = garbage;
  auto bad = makeTlsContext(settings, logger);
  ASSERT_FALSE(bad.isOk());
  EXPECT_NE(bad.status().message().find("no PRIVATE KEY"), std::string::npos) << bad.status().message();

  settings.protocols = {"TLSv1.3"};  // with ZooKeeper's default (TLS 1.2) suites
  auto tls13 = makeTlsContext(settings, logger);
  ASSERT_FALSE(tls13.isOk());
  EXPECT_NE(tls13.status().message().find("no TLS 1.3 suite"), std::string::npos);
}

}  // namespace
}  // namespace corral::kernel::admission
