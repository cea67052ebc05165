#include "thrift_settings.h"

#include <limits>

#include <fmt/format.h>

namespace corral::plugins::thrift {
namespace {

sdk::Status invalid(const sdk::PluginConfig& config, std::string_view key, std::string_view what) {
  return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: {}", config.where(key), what));
}

}  // namespace

sdk::Result<ThriftSettings> parseSettings(const sdk::PluginConfig& config) {
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  ThriftSettings settings;

  if (config.get("thrift.port")) {
    auto port = config.getIntIn("thrift.port", 0, 1, 65535, "1..65535");
    if (!port) return port.status();
    settings.port = static_cast<uint16_t>(*port);
  }
  if (auto address = config.get("thrift.address")) {
    if (address->empty()) return invalid(config, "thrift.address", "thrift.address is empty");
    settings.address = *address;
  }
  if (auto protocol = config.get("thrift.protocol")) {
    if (*protocol == "binary") {
      settings.protocol = WireProtocol::kBinary;
    } else if (*protocol == "compact") {
      settings.protocol = WireProtocol::kCompact;
    } else {
      return invalid(config, "thrift.protocol",
                     fmt::format("thrift.protocol={} is not binary or compact", *protocol));
    }
  }
  auto secure = config.getBool("thrift.secure", false);
  if (!secure) return secure.status();
  settings.secure = *secure;

  // The default follows jute.maxbuffer: the same largest request on both ports.
  auto max_buffer = config.getIntIn(config.propertyKey("jute.maxbuffer"), settings.max_frame, 1,
                                    kIntMax, "1..2147483647");
  if (!max_buffer) return max_buffer.status();
  // A frame must at least hold a message header and a small call.
  auto max_frame = config.getIntIn("thrift.maxFrameSize", *max_buffer, 64, kIntMax, "64..2147483647");
  if (!max_frame) return max_frame.status();
  settings.max_frame = static_cast<int32_t>(*max_frame);

  auto max_connections = config.getIntIn("thrift.maxConnections", 0, 0, kIntMax, "0 (no limit) or more");
  if (!max_connections) return max_connections.status();
  settings.max_connections = *max_connections;

  auto backlog = config.getIntIn("clientPortListenBacklog", -1, -1, kIntMax, "-1 or more");
  if (!backlog) return backlog.status();
  settings.listen_backlog = static_cast<int>(*backlog);

  auto handshake = config.getIntIn(config.propertyKey("nio.sessionlessCnxnTimeout"), 10000, 1,
                                   kIntMax, "1 or more (ms)");
  if (!handshake) return handshake.status();
  settings.handshake_timeout_ms = *handshake;
  return settings;
}

}  // namespace corral::plugins::thrift
