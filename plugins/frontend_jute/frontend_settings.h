// frontend.jute's settings, read from ZooKeeper's own zoo.cfg keys (no keys of its own).
// What every front end shares (maxClientCnxns, maxCnxns, globalOutstandingLimit, the output
// limits, ssl.*) is the kernel's: sdk::ClientAdmission, reached through Host::admission().
//
// ZooKeeper turns an unknown zoo.cfg key K into the JVM property zookeeper.K, so for the
// property-style settings both spellings are accepted (`4lw.commands.whitelist` or
// `zookeeper.4lw.commands.whitelist`); the first one wins when both are set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "corral/host.h"
#include "corral/jute.h"
#include "corral/status.h"
#include "four_letter_whitelist.h"

namespace corral::plugins::jute {

struct FrontendSettings {
  // Plain client port. nullopt = no listener (clientPort unset or 0, ZooKeeper's meaning:
  // e.g. a quorum member that serves no clients). 0 here (never from zoo.cfg) = an ephemeral
  // port, for tests.
  std::optional<uint16_t> client_port;
  std::string client_port_address = "0.0.0.0";  // clientPortAddress; a host name is resolved at start
  // secureClientPort: the TLS port; nullopt = none (unset or 0). 0 here (never from zoo.cfg) =
  // an ephemeral port, for tests. Its TLS context comes from Host::admission().
  std::optional<uint16_t> secure_client_port;
  std::string secure_client_port_address = "0.0.0.0";  // secureClientPortAddress
  int listen_backlog = -1;                      // clientPortListenBacklog; -1 = OS default
  int32_t max_buffer = sdk::kJuteMaxBufferDefault;  // jute.maxbuffer: request frame limit
  // nio.sessionlessCnxnTimeout: a connection that has not finished its handshake (or 4lw) by
  // then is closed, so idle sockets cannot hold maxClientCnxns slots.
  int64_t handshake_timeout_ms = 10000;
  FourLetterWhitelist whitelist;                // 4lw.commands.whitelist (+ readonlymode.enabled)
};

// Reads and checks every setting; the Status names file:line and key of the first bad one.
sdk::Result<FrontendSettings> parseSettings(const sdk::PluginConfig& config);

}  // namespace corral::plugins::jute
