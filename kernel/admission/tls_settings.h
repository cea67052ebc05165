// TLS on secureClientPort: ZooKeeper's ssl.* keys (X509Util / ClientX509Util), PEM stores only.
//
// ZooKeeper reads these as JVM properties (zookeeper.ssl.X); both spellings are accepted, the
// first one set wins.
#pragma once

#include <string>
#include <vector>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::kernel::admission {

struct TlsSettings {
  enum class ClientAuth { kNone, kWant, kNeed };

  std::string key_store_location;    // ssl.keyStore.location: private key + certificate chain
  std::string key_store_password;    // ssl.keyStore.password, for an encrypted private key
  std::string key_store_password_path;  // ssl.keyStore.passwordPath: read at start, wins if set
  std::string trust_store_location;  // ssl.trustStore.location: CA certificates; "" = system CAs
  ClientAuth client_auth = ClientAuth::kNeed;  // ssl.clientAuth (ZooKeeper's default: need)
  // Enabled protocol versions, "TLSv1.2"/"TLSv1.3" (also "TLSv1", "TLSv1.1"): ssl.enabledProtocols,
  // else ssl.protocol alone (as ZooKeeper's SSLContextAndOptions).
  std::vector<std::string> protocols{"TLSv1.2"};
  // ssl.ciphersuites in Java/IANA names; empty = ZooKeeper's default ECDHE list.
  std::vector<std::string> cipher_suites;
  // ssl.hostnameVerification: accepted; ZooKeeper never verifies client host names on the client
  // port (ClientX509Util.shouldVerifyClientHostname() is false), and neither does Corral.
  bool hostname_verification = true;
};

// Reads ssl.* for a configured secureClientPort; the Status names file:line and key of the
// first bad setting (InvalidConfig). The files themselves are read by makeTlsContext().
sdk::Result<TlsSettings> parseTlsSettings(const sdk::PluginConfig& config);

}  // namespace corral::kernel::admission
