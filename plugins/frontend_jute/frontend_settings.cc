#include "frontend_settings.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <string_view>

#include <fmt/format.h>

namespace corral::plugins::jute {
namespace {

// `key` if set, else `zookeeper.<key>` (the system-property spelling).
std::string settingKey(const sdk::PluginConfig& config, std::string_view key) {
  if (config.get(key)) return std::string(key);
  std::string property = fmt::format("zookeeper.{}", key);
  if (config.get(property)) return property;
  return std::string(key);
}

sdk::Status outOfRange(const sdk::PluginConfig& config, std::string_view key, int64_t value,
                       std::string_view range) {
  return sdk::Status(sdk::Code::kInvalidConfig,
                     fmt::format("{}: {}={} is out of range ({})", config.where(key), key, value,
                                 range));
}

// An integer setting within [low, high]; `fallback` when unset.
sdk::Result<int64_t> intSetting(const sdk::PluginConfig& config, std::string_view key,
                                int64_t fallback, int64_t low, int64_t high,
                                std::string_view range) {
  auto value = config.getInt(key, fallback);
  if (!value) return value.status();
  if (*value < low || *value > high) return outOfRange(config, key, *value, range);
  return value;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(begin, end - begin);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    begin = end + 1;
  }
  return out;
}

sdk::Status invalid(const sdk::PluginConfig& config, std::string_view key, std::string_view what) {
  return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: {}", config.where(key), what));
}

// ZooKeeper's KeyStoreFileType.fromPropertyValueOrFileName, where only PEM is served.
sdk::Status checkStoreType(const sdk::PluginConfig& config, std::string_view type_key,
                           std::string_view location_key, const std::string& location) {
  const std::string key = settingKey(config, type_key);
  if (auto type = config.get(key); type && !type->empty()) {
    if (lower(*type) == "pem") return sdk::Status::ok();
    return invalid(config, key,
                   fmt::format("{}={} is not supported: frontend.jute reads PEM files only "
                               "(set {}=PEM)", type_key, *type, type_key));
  }
  const std::string name = lower(location);
  if (name.ends_with(".pem")) return sdk::Status::ok();
  if (name.ends_with(".jks") || name.ends_with(".p12") || name.ends_with(".pfx") ||
      name.ends_with(".bcfks")) {
    return invalid(config, settingKey(config, location_key),
                   fmt::format("{}={} is not a PEM file: frontend.jute reads PEM files only",
                               location_key, location));
  }
  return invalid(config, settingKey(config, location_key),
                 fmt::format("cannot tell the store type of {}={} from its name; set {}=PEM",
                             location_key, location, type_key));
}

// Protocol names as Java's SSLContext knows them; "TLS" means every version Corral serves.
bool knownProtocol(std::string_view name) {
  return name == "TLSv1" || name == "TLSv1.1" || name == "TLSv1.2" || name == "TLSv1.3" ||
         name == "TLS";
}

sdk::Status parseTls(const sdk::PluginConfig& config, TlsSettings& tls) {
  const std::string location_key = settingKey(config, "ssl.keyStore.location");
  tls.key_store_location = config.getOr(location_key, "");
  if (tls.key_store_location.empty()) {
    return invalid(config, "secureClientPort",
                   "secureClientPort is set but ssl.keyStore.location is not (the server needs "
                   "a PEM file with its private key and certificate chain)");
  }
  if (auto status = checkStoreType(config, "ssl.keyStore.type", "ssl.keyStore.location",
                                   tls.key_store_location);
      !status.isOk()) {
    return status;
  }
  tls.key_store_password = config.getOr(settingKey(config, "ssl.keyStore.password"), "");
  tls.key_store_password_path = config.getOr(settingKey(config, "ssl.keyStore.passwordPath"), "");

  tls.trust_store_location = config.getOr(settingKey(config, "ssl.trustStore.location"), "");
  if (!tls.trust_store_location.empty()) {
    if (auto status = checkStoreType(config, "ssl.trustStore.type", "ssl.trustStore.location",
                                     tls.trust_store_location);
        !status.isOk()) {
      return status;
    }
  }

  const std::string auth_key = settingKey(config, "ssl.clientAuth");
  const std::string auth = lower(config.getOr(auth_key, ""));
  if (auth.empty() || auth == "need") {
    tls.client_auth = TlsSettings::ClientAuth::kNeed;
  } else if (auth == "want") {
    tls.client_auth = TlsSettings::ClientAuth::kWant;
  } else if (auth == "none") {
    tls.client_auth = TlsSettings::ClientAuth::kNone;
  } else {
    return invalid(config, auth_key,
                   fmt::format("ssl.clientAuth={} is not none, want or need", *config.get(auth_key)));
  }

  const std::string enabled_key = settingKey(config, "ssl.enabledProtocols");
  const std::string protocol_key = settingKey(config, "ssl.protocol");
  std::vector<std::string> protocols;
  std::string used_key = enabled_key;
  if (auto enabled = config.get(enabled_key); enabled && !splitList(*enabled).empty()) {
    protocols = splitList(*enabled);
  } else {
    used_key = protocol_key;
    const std::string protocol = config.getOr(protocol_key, "");
    protocols = {protocol.empty() ? std::string("TLSv1.2") : protocol};
  }
  for (const auto& protocol : protocols) {
    if (!knownProtocol(protocol)) {
      return invalid(config, used_key,
                     fmt::format("{}: unknown TLS protocol '{}' (TLSv1.2, TLSv1.3, TLSv1.1, TLSv1, TLS)",
                                 used_key, protocol));
    }
  }
  tls.protocols = std::move(protocols);
  tls.cipher_suites = splitList(config.getOr(settingKey(config, "ssl.ciphersuites"), ""));

  auto hostname = config.getBool(settingKey(config, "ssl.hostnameVerification"), true);
  if (!hostname) return hostname.status();
  tls.hostname_verification = *hostname;

  // What Corral cannot honour is refused rather than silently weakened.
  for (const char* key : {"ssl.crl", "ssl.ocsp"}) {
    const std::string name = settingKey(config, key);
    auto on = config.getBool(name, false);
    if (!on) return on.status();
    if (*on) {
      return invalid(config, name,
                     fmt::format("{}=true (certificate revocation checks) is not supported by "
                                 "frontend.jute", key));
    }
  }
  const std::string supplier_key = settingKey(config, "ssl.context.supplier.class");
  if (auto supplier = config.get(supplier_key); supplier && !supplier->empty()) {
    return invalid(config, supplier_key,
                   "ssl.context.supplier.class (a Java class) is not supported by frontend.jute");
  }
  return sdk::Status::ok();
}

}  // namespace

sdk::Result<FrontendSettings> parseSettings(const sdk::PluginConfig& config) {
  constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
  constexpr int64_t kIntMin = std::numeric_limits<int32_t>::min();
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
    if (address->empty()) return invalid(config, "secureClientPortAddress", "secureClientPortAddress is empty");
    settings.secure_client_port_address = *address;
  }
  if (settings.secure_client_port) {
    if (auto status = parseTls(config, settings.tls); !status.isOk()) return status;
  }

  auto backlog = intSetting(config, "clientPortListenBacklog", -1, -1, kIntMax, "-1 or more");
  if (!backlog) return backlog.status();
  settings.listen_backlog = static_cast<int>(*backlog);

  const std::string max_buffer_key = settingKey(config, "jute.maxbuffer");
  auto max_buffer = intSetting(config, max_buffer_key, sdk::kJuteMaxBufferDefault, 1, kIntMax,
                               "1..2147483647");
  if (!max_buffer) return max_buffer.status();
  settings.max_buffer = static_cast<int32_t>(*max_buffer);

  auto per_ip = intSetting(config, "maxClientCnxns", 60, 0, kIntMax, "0 (unlimited) or more");
  if (!per_ip) return per_ip.status();
  settings.max_client_cnxns = *per_ip;

  auto total = intSetting(config, settingKey(config, "maxCnxns"), 0, 0, kIntMax,
                          "0 (unlimited) or more");
  if (!total) return total.status();
  settings.max_cnxns = *total;

  // Any int is meaningful, as in ZooKeeper: with a limit <= 0 a connection is throttled as soon
  // as it has one request outstanding.
  auto outstanding = intSetting(config, settingKey(config, "globalOutstandingLimit"), 1000,
                                kIntMin, kIntMax, "an int");
  if (!outstanding) return outstanding.status();
  settings.global_outstanding_limit = *outstanding;

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
