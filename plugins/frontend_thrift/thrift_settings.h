// frontend.thrift's settings: its own `thrift.*` keys. What every front end shares
// (maxClientCnxns, maxCnxns, globalOutstandingLimit, the output limits, ssl.*) is the
// kernel's, reached through Host::admission().
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::plugins::thrift {

enum class WireProtocol { kBinary, kCompact };

struct ThriftSettings {
  // thrift.port; nullopt = unset (the front end then refuses to start: a Thrift front end with
  // no port is a config mistake). 0 here (never from the config) = an ephemeral port, for tests.
  std::optional<uint16_t> port;
  std::string address = "0.0.0.0";              // thrift.address; a host name binds its first address
  WireProtocol protocol = WireProtocol::kBinary;  // thrift.protocol
  bool secure = false;                            // thrift.secure: TLS with the server's ssl.* context
  // thrift.maxFrameSize: largest message accepted; larger closes the connection. Defaults to
  // jute.maxbuffer, so both front ends accept the same largest request (and node data).
  int32_t max_frame = 1048575;
  int64_t max_connections = 0;                    // thrift.maxConnections; 0 = no limit of its own
  int listen_backlog = -1;                        // clientPortListenBacklog, as the jute port
  // nio.sessionlessCnxnTimeout, as the jute port: a connection must open its session by then.
  int64_t handshake_timeout_ms = 10000;
};

// Reads and checks every setting; the Status names file:line and key of the first bad one.
sdk::Result<ThriftSettings> parseSettings(const sdk::PluginConfig& config);

}  // namespace corral::plugins::thrift
