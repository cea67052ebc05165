// The OpenSSL server context of secureClientPort, built from ZooKeeper's ssl.* settings, and
// the identity of a verified client certificate. Front ends get both through
// sdk::ClientAdmission (client_admission_service.h); this header is the kernel's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "corral/host.h"
#include "corral/status.h"
#include "kernel/admission/tls_settings.h"

struct ssl_st;

namespace corral::kernel::admission {

// Reads the PEM key store (private key + certificate chain) and trust store and applies
// ssl.clientAuth, the protocol versions and cipher suites. Any problem (missing or unreadable
// file, no key, no certificate, a key that does not match the certificate, a wrong password,
// no usable cipher suite) is an error naming the key and the file, so the server does not start.
sdk::Result<std::shared_ptr<boost::asio::ssl::context>> makeTlsContext(const TlsSettings& settings,
                                                                       sdk::Logger& logger);

// The RFC 2253 subject (Java's X500Principal.getName()) of the client certificate of a finished
// handshake when that certificate was presented and verified; "" otherwise.
std::string verifiedPeerSubject(ssl_st* ssl);

// Java/IANA cipher suite names → OpenSSL's; exposed for tests. Unknown names are dropped.
std::string openSslCipherList(const std::vector<std::string>& java_names,
                              std::vector<std::string>* unknown = nullptr);

}  // namespace corral::kernel::admission
