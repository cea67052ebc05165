#include "kernel/admission/tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "kernel/admission/x500_name.h"

namespace corral::kernel::admission {
namespace ssl = boost::asio::ssl;

namespace {

// X509Util's defaults on Java 9+ (GCM first, then CBC), all TLS 1.2 ECDHE suites.
const std::vector<std::string> kZooKeeperDefaultCiphers = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"};

const std::set<std::string_view> kTls13Suites = {
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256"};

// Drains OpenSSL's error queue into one readable string.
std::string openSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? std::string("unknown OpenSSL error") : text;
}

sdk::Status failure(std::string message) {
  return sdk::Status(sdk::Code::kInvalidConfig, "secureClientPort: " + std::move(message));
}

sdk::Result<std::string> readFile(std::string_view key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return failure(fmt::format("{}={}: cannot read the file: {}", key, path, std::strerror(errno)));
  }
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

BioPtr memoryBio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())), &BIO_free);
}

// Every CERTIFICATE block of a PEM text, in file order (other blocks are skipped).
std::vector<X509Ptr> readCertificates(const std::string& pem) {
  std::vector<X509Ptr> certificates;
  BioPtr bio = memoryBio(pem);
  while (bio) {
    X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (certificate == nullptr) break;
    certificates.emplace_back(certificate, &X509_free);
  }
  ERR_clear_error();  // the loop ends on "no start line"
  return certificates;
}

int passwordCallback(char* buffer, int size, int, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password == nullptr || password->empty()) return 0;
  const int length = std::min<int>(size, static_cast<int>(password->size()));
  std::memcpy(buffer, password->data(), static_cast<size_t>(length));
  return length;
}

bool hasPrivateKeyBlock(const std::string& pem, bool* encrypted) {
  *encrypted = pem.find("ENCRYPTED PRIVATE KEY") != std::string::npos ||
               pem.find("Proc-Type: 4,ENCRYPTED") != std::string::npos;
  return pem.find("PRIVATE KEY-----") != std::string::npos;
}

sdk::Result<std::string> keyStorePassword(const TlsSettings& settings) {
  if (settings.key_store_password_path.empty()) return settings.key_store_password;
  // ZooKeeper's SecretUtils.readSecret: the file's text without one trailing line separator.
  auto text = readFile("ssl.keyStore.passwordPath", settings.key_store_password_path);
  if (!text) return text.status();
  std::string password = std::move(text).value();
  if (password.ends_with('\n')) password.pop_back();
  return password;
}

sdk::Status loadKeyStore(SSL_CTX* context, const TlsSettings& settings) {
  const std::string& path = settings.key_store_location;
  auto pem = readFile("ssl.keyStore.location", path);
  if (!pem) return pem.status();
  auto password = keyStorePassword(settings);
  if (!password) return password.status();

  bool encrypted = false;
  if (!hasPrivateKeyBlock(*pem, &encrypted)) {
    return failure(fmt::format("ssl.keyStore.location={}: no PRIVATE KEY block in the file", path));
  }
  BioPtr key_bio = memoryBio(*pem);
  KeyPtr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, passwordCallback,
                                     const_cast<std::string*>(&password.value())),
             &EVP_PKEY_free);
  if (!key) {
    std::string errors = openSslErrors();
    if (encrypted && password->empty()) {
      return failure(fmt::format("ssl.keyStore.location={}: the private key is encrypted and "
                                 "ssl.keyStore.password is not set",
                                 path));
    }
    return failure(fmt::format("ssl.keyStore.location={}: cannot read the private key{}: {}", path,
                               encrypted ? " (wrong ssl.keyStore.password?)" : "", errors));
  }
  std::vector<X509Ptr> chain = readCertificates(*pem);
  if (chain.empty()) {
    return failure(fmt::format("ssl.keyStore.location={}: no CERTIFICATE in the file (it must hold "
                               "the private key and the certificate chain)",
                               path));
  }
  if (SSL_CTX_use_certificate(context, chain.front().get()) != 1) {
    return failure(fmt::format("ssl.keyStore.location={}: unusable certificate: {}", path,
                               openSslErrors()));
  }
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add1_chain_cert(context, chain[i].get()) != 1) {
      return failure(fmt::format("ssl.keyStore.location={}: unusable chain certificate: {}", path,
                                 openSslErrors()));
    }
  }
  if (SSL_CTX_use_PrivateKey(context, key.get()) != 1 || SSL_CTX_check_private_key(context) != 1) {
    return failure(fmt::format("ssl.keyStore.location={}: the private key does not match the "
                               "certificate: {}",
                               path, openSslErrors()));
  }
  return sdk::Status::ok();
}

sdk::Status loadTrustStore(SSL_CTX* context, const TlsSettings& settings) {
  if (settings.trust_store_location.empty()) {
    // Java then trusts the JDK's CA certificates; Corral uses the system's.
    if (SSL_CTX_set_default_verify_paths(context) != 1) ERR_clear_error();
    return sdk::Status::ok();
  }
  const std::string& path = settings.trust_store_location;
  auto pem = readFile("ssl.trustStore.location", path);
  if (!pem) return pem.status();
  std::vector<X509Ptr> certificates = readCertificates(*pem);
  if (certificates.empty()) {
    return failure(fmt::format("ssl.trustStore.location={}: no CERTIFICATE in the file", path));
  }
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  for (const auto& certificate : certificates) {
    if (X509_STORE_add_cert(store, certificate.get()) != 1) {
      const unsigned long error = ERR_peek_last_error();
      if (ERR_GET_REASON(error) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();
        continue;
      }
      return failure(fmt::format("ssl.trustStore.location={}: unusable certificate: {}", path,
                                 openSslErrors()));
    }
    // Like Java's trust manager, name the accepted issuers in the CertificateRequest.
    SSL_CTX_add_client_CA(context, certificate.get());
  }
  ERR_clear_error();
  return sdk::Status::ok();
}

sdk::Status applyProtocols(SSL_CTX* context, const TlsSettings& settings) {
  static const std::map<std::string_view, int> kVersions = {
      {"TLSv1", TLS1_VERSION}, {"TLSv1.1", TLS1_1_VERSION}, {"TLSv1.2", TLS1_2_VERSION},
      {"TLSv1.3", TLS1_3_VERSION}};
  std::set<int> enabled;
  for (const auto& name : settings.protocols) {
    if (name == "TLS") {
      enabled.insert(TLS1_2_VERSION);
      enabled.insert(TLS1_3_VERSION);
      continue;
    }
    auto it = kVersions.find(name);
    if (it == kVersions.end()) return failure(fmt::format("unknown TLS protocol '{}'", name));
    enabled.insert(it->second);
  }
  if (enabled.empty()) return failure("no TLS protocol enabled");
  SSL_CTX_set_min_proto_version(context, *enabled.begin());
  SSL_CTX_set_max_proto_version(context, *enabled.rbegin());
  // Holes in the range (e.g. TLSv1.1,TLSv1.3) are switched off one by one.
  const std::pair<int, uint64_t> kOff[] = {{TLS1_VERSION, SSL_OP_NO_TLSv1},
                                           {TLS1_1_VERSION, SSL_OP_NO_TLSv1_1},
                                           {TLS1_2_VERSION, SSL_OP_NO_TLSv1_2},
                                           {TLS1_3_VERSION, SSL_OP_NO_TLSv1_3}};
  for (const auto& [version, option] : kOff) {
    if (version > *enabled.begin() && version < *enabled.rbegin() && !enabled.contains(version)) {
      SSL_CTX_set_options(context, option);
    }
  }
  if (*enabled.begin() < TLS1_2_VERSION) SSL_CTX_set_security_level(context, 0);
  return sdk::Status::ok();
}

sdk::Status applyCiphers(SSL_CTX* context, const TlsSettings& settings, sdk::Logger& logger) {
  const std::vector<std::string>& names =
      settings.cipher_suites.empty() ? kZooKeeperDefaultCiphers : settings.cipher_suites;
  std::vector<std::string> tls13;
  std::vector<std::string> tls12;
  for (const auto& name : names) {
    (kTls13Suites.contains(name) ? tls13 : tls12).push_back(name);
  }
  std::vector<std::string> unknown;
  const std::string list = openSslCipherList(tls12, &unknown);
  for (const auto& name : unknown) {
    logger.warn("ssl.ciphersuites: {} is not a cipher suite OpenSSL offers; ignored", name);
  }
  const bool below_13 = SSL_CTX_get_min_proto_version(context) < TLS1_3_VERSION;
  if (list.empty()) {
    if (below_13) {
      return failure("ssl.ciphersuites: none of the cipher suites for TLS 1.2 and older is "
                     "available in OpenSSL");
    }
  } else if (SSL_CTX_set_cipher_list(context, list.c_str()) != 1) {
    return failure(fmt::format("ssl.ciphersuites: {}", openSslErrors()));
  }
  // Like Java, TLS 1.3 is only possible with a TLS 1.3 suite in the list; ZooKeeper's
  // default list has none, so by default only TLS 1.2 is negotiated.
  std::string suites;
  for (const auto& name : tls13) suites += (suites.empty() ? "" : ":") + name;
  if (SSL_CTX_set_ciphersuites(context, suites.c_str()) != 1) {
    return failure(fmt::format("ssl.ciphersuites: {}", openSslErrors()));
  }
  if (tls13.empty() && SSL_CTX_get_max_proto_version(context) >= TLS1_3_VERSION) {
    if (!below_13) {
      return failure("TLS 1.3 is the only protocol enabled (ssl.protocol / ssl.enabledProtocols) "
                     "but ssl.ciphersuites names no TLS 1.3 suite (e.g. TLS_AES_128_GCM_SHA256, "
                     "TLS_AES_256_GCM_SHA384): no client could connect");
    }
    SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
    logger.info("TLS 1.3 is enabled but ssl.ciphersuites names no TLS 1.3 suite: TLS 1.2 only");
  }
  return sdk::Status::ok();
}

}  // namespace

std::string openSslCipherList(const std::vector<std::string>& java_names,
                              std::vector<std::string>* unknown) {
  std::map<std::string, std::string> by_standard_name;
  {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> probe(SSL_CTX_new(TLS_method()), &SSL_CTX_free);
    if (probe && SSL_CTX_set_cipher_list(probe.get(), "ALL:COMPLEMENTOFALL:@SECLEVEL=0") == 1) {
      STACK_OF(SSL_CIPHER)* ciphers = SSL_CTX_get_ciphers(probe.get());
      for (int i = 0; i < sk_SSL_CIPHER_num(ciphers); ++i) {
        const SSL_CIPHER* cipher = sk_SSL_CIPHER_value(ciphers, i);
        const char* standard = SSL_CIPHER_standard_name(cipher);
        if (standard != nullptr) by_standard_name[standard] = SSL_CIPHER_get_name(cipher);
      }
    }
    ERR_clear_error();
  }
  std::string list;
  for (const auto& name : java_names) {
    auto it = by_standard_name.find(name);
    if (it == by_standard_name.end()) {
      // OpenSSL's own spelling is accepted too.
      bool openssl_name = false;
      for (const auto& [standard, ours] : by_standard_name) {
        if (ours == name) openssl_name = true;
      }
      if (!openssl_name) {
        if (unknown != nullptr) unknown->push_back(name);
        continue;
      }
      list += (list.empty() ? "" : ":") + name;
      continue;
    }
    list += (list.empty() ? "" : ":") + it->second;
  }
  return list;
}

sdk::Result<std::shared_ptr<ssl::context>> makeTlsContext(const TlsSettings& settings,
                                                          sdk::Logger& logger) {
  ERR_clear_error();
  std::shared_ptr<ssl::context> tls;
  try {
    tls = std::make_shared<ssl::context>(ssl::context::tls_server);
  } catch (const std::exception& e) {
    return failure(fmt::format("cannot create a TLS context: {}", e.what()));
  }
  SSL_CTX* context = tls->native_handle();
  // ZooKeeper sets jdk.tls.rejectClientInitiatedRenegotiation=true.
  SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                   SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Needed for session resumption once client certificates are verified.
  static constexpr unsigned char kSessionContext[] = "corral.secureClientPort";
  SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1);

  if (auto status = applyProtocols(context, settings); !status.isOk()) return status;
  if (auto status = applyCiphers(context, settings, logger); !status.isOk()) return status;
  if (auto status = loadKeyStore(context, settings); !status.isOk()) return status;
  if (auto status = loadTrustStore(context, settings); !status.isOk()) return status;

  switch (settings.client_auth) {
    case TlsSettings::ClientAuth::kNone:
      SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
      break;
    case TlsSettings::ClientAuth::kWant:
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
      break;
    case TlsSettings::ClientAuth::kNeed:
      SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  ERR_clear_error();
  return tls;
}

std::string verifiedPeerSubject(ssl_st* ssl) {
  if (ssl == nullptr) return {};
  X509Ptr peer(SSL_get1_peer_certificate(ssl), &X509_free);
  if (!peer || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  return rfc2253Name(X509_get_subject_name(peer.get()));
}

}  // namespace corral::kernel::admission
