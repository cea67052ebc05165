#include "frontend_settings.h"

#include <limits>
#include <string_view>

#include <fmt/format.h>

namespace corral::plugins::jute {
namespace {

std::string settingKey(const sdk::PluginConfig& config, std::string_view key) {
  return config.propertyKey(key);
}

// An integer setting within [low, high]; `fallback` when unset.
sdk::Result<int64_t> intSetting(const sdk::PluginConfig& config, std::string_view key,
                                int64_t fallback, int64_t low, int64_t high,
                                std::string_view range) {
  return config.getIntIn(key, fallback, low, high, range);
}

sdk::Status invalid(const sdk::PluginConfig& config, std::string_view key, std::string_view what) {
  return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: {}", config.where(key), what));
}

}  // namespace

sdk::Result<FrontendSettings> parseSettings(const sdk::PluginConfig& config) {
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  FrontendSettings settings;

  // ZooKeeper: clientPort 0 and an absent clientPort both mean "no plain client port".
  auto port = intSetting(config, "clientPort", 0, 0, 65535, "1..65535, or 0 for none");
  if (!port) return port.status();
  if (*port != 0) settings.client_port = static_cast<uint16_t>(*port);

  if (auto address = config.get("clientPortAddress")) {
    if (!settings.client_port) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         fmt::format("{}: clientPortAddress is set but clientPort is not set",
                                     config.where("clientPortAddress")));
    }
    if (address->empty()) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         fmt::format("{}: clientPortAddress is empty",
                                     config.where("clientPortAddress")));
    }
    settings.client_port_address = *address;
  }

  auto secure = intSetting(config, "secureClientPort", 0, 0, 65535, "1..65535, or 0 for none");
  if (!secure) return secure.status();
  if (*secure != 0) settings.secure_client_port = static_cast<uint16_t>(*secure);
  if (auto address = config.get("secureClientPortAddress")) {
    if (!settings.secure_client_port) {
      return invalid(config, "secureClientPortAddress",
                     "secureClientPortAddress is set but secureClientPort is not set");
    }
    if (address->empty()) {
      return invalid(config, "secureClientPortAddress", "secureClientPortAddress is empty");
    }
    settings.secure_client_port_address = *address;
  }

  auto backlog = intSetting(config, "clientPortListenBacklog", -1, -1, kIntMax, "-1 or more");
  if (!backlog) return backlog.status();
  settings.listen_backlog = static_cast<int>(*backlog);

  const std::string max_buffer_key = settingKey(config, "jute.maxbuffer");
  auto max_buffer = intSetting(config, max_buffer_key, sdk::kJuteMaxBufferDefault, 1, kIntMax,
                               "1..2147483647");
  if (!max_buffer) return max_buffer.status();
  settings.max_buffer = static_cast<int32_t>(*max_buffer);

  auto handshake = intSetting(config, settingKey(config, "nio.sessionlessCnxnTimeout"), 10000, 1,
                              kIntMax, "1 or more (ms)");
  if (!handshake) return handshake.status();
  settings.handshake_timeout_ms = *handshake;

  auto read_only = config.getBool(settingKey(config, "readonlymode.enabled"), false);
  if (!read_only) return read_only.status();
  settings.whitelist = FourLetterWhitelist::parse(
      config.get(settingKey(config, "4lw.commands.whitelist")), *read_only);
  return settings;
}

}  // namespace corral::plugins::jute
