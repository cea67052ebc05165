// frontend.jute's settings, read from ZooKeeper's own zoo.cfg keys (no keys of its own).
//
// ZooKeeper turns an unknown zoo.cfg key K into the JVM property zookeeper.K, so for the
// property-style settings both spellings are accepted (`4lw.commands.whitelist` or
// `zookeeper.4lw.commands.whitelist`); the first one wins when both are set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "corral/host.h"
#include "corral/jute.h"
#include "corral/status.h"
#include "four_letter_whitelist.h"

namespace corral::plugins::jute {

// TLS on secureClientPort: ZooKeeper's ssl.* keys (X509Util / ClientX509Util), PEM stores only.
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

struct FrontendSettings {
  // Plain client port. nullopt = no listener (clientPort unset or 0, ZooKeeper's meaning:
  // e.g. a quorum member that serves no clients). 0 here (never from zoo.cfg) = an ephemeral
  // port, for tests.
  std::optional<uint16_t> client_port;
  std::string client_port_address = "0.0.0.0";  // clientPortAddress; a host name is resolved at start
  // secureClientPort: the TLS port; nullopt = none (unset or 0). 0 here (never from zoo.cfg) =
  // an ephemeral port, for tests.
  std::optional<uint16_t> secure_client_port;
  std::string secure_client_port_address = "0.0.0.0";  // secureClientPortAddress
  TlsSettings tls;                                      // ssl.* (only read with secureClientPort)
  int listen_backlog = -1;                      // clientPortListenBacklog; -1 = OS default
  int32_t max_buffer = sdk::kJuteMaxBufferDefault;  // jute.maxbuffer: request frame limit
  int64_t max_client_cnxns = 60;                // maxClientCnxns: per remote IP, 0 = unlimited
  int64_t max_cnxns = 0;                        // maxCnxns: all connections, 0 = unlimited
  int64_t global_outstanding_limit = 1000;      // globalOutstandingLimit
  // nio.sessionlessCnxnTimeout: a connection that has not finished its handshake (or 4lw) by
  // then is closed, so idle sockets cannot hold maxClientCnxns slots.
  int64_t handshake_timeout_ms = 10000;
  FourLetterWhitelist whitelist;                // 4lw.commands.whitelist (+ readonlymode.enabled)
};

// Reads and checks every setting; the Status names file:line and key of the first bad one.
sdk::Result<FrontendSettings> parseSettings(const sdk::PluginConfig& config);

}  // namespace corral::plugins::jute
