#include "kernel/admission/tls_settings.h"

#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "kernel/admission/setting_reading.h"

namespace corral::kernel::admission {
namespace {

// ZooKeeper's KeyStoreFileType.fromPropertyValueOrFileName, where only PEM is served.
sdk::Status checkStoreType(const sdk::PluginConfig& config, std::string_view type_key,
                           std::string_view location_key, const std::string& location) {
  const std::string key = settingKey(config, type_key);
  if (auto type = config.get(key); type && !type->empty()) {
    if (lowerCase(*type) == "pem") return sdk::Status::ok();
    return invalidSetting(config, key,
                          fmt::format("{}={} is not supported: Corral reads PEM files only "
                                      "(set {}=PEM)", type_key, *type, type_key));
  }
  const std::string name = lowerCase(location);
  if (name.ends_with(".pem")) return sdk::Status::ok();
  if (name.ends_with(".jks") || name.ends_with(".p12") || name.ends_with(".pfx") ||
      name.ends_with(".bcfks")) {
    return invalidSetting(config, settingKey(config, location_key),
                          fmt::format("{}={} is not a PEM file: Corral reads PEM files only",
                                      location_key, location));
  }
  return invalidSetting(config, settingKey(config, location_key),
                        fmt::format("cannot tell the store type of {}={} from its name; set {}=PEM",
                                    location_key, location, type_key));
}

// Protocol names as Java's SSLContext knows them; "TLS" means every version Corral serves.
bool knownProtocol(std::string_view name) {
  return name == "TLSv1" || name == "TLSv1.1" || name == "TLSv1.2" || name == "TLSv1.3" ||
         name == "TLS";
}

sdk::Status parseClientAuth(const sdk::PluginConfig& config, TlsSettings& tls) {
  const std::string auth_key = settingKey(config, "ssl.clientAuth");
  const std::string auth = lowerCase(config.getOr(auth_key, ""));
  if (auth.empty() || auth == "need") {
    tls.client_auth = TlsSettings::ClientAuth::kNeed;
  } else if (auth == "want") {
    tls.client_auth = TlsSettings::ClientAuth::kWant;
  } else if (auth == "none") {
    tls.client_auth = TlsSettings::ClientAuth::kNone;
  } else {
    return invalidSetting(config, auth_key,
                          fmt::format("ssl.clientAuth={} is not none, want or need",
                                      *config.get(auth_key)));
  }
  return sdk::Status::ok();
}

sdk::Status parseProtocols(const sdk::PluginConfig& config, TlsSettings& tls) {
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
      return invalidSetting(
          config, used_key,
          fmt::format("{}: unknown TLS protocol '{}' (TLSv1.2, TLSv1.3, TLSv1.1, TLSv1, TLS)",
                      used_key, protocol));
    }
  }
  tls.protocols = std::move(protocols);
  return sdk::Status::ok();
}

// What Corral cannot honour is refused rather than silently weakened.
sdk::Status refuseUnsupported(const sdk::PluginConfig& config) {
  for (const char* key : {"ssl.crl", "ssl.ocsp"}) {
    const std::string name = settingKey(config, key);
    auto on = config.getBool(name, false);
    if (!on) return on.status();
    if (*on) {
      return invalidSetting(config, name,
                            fmt::format("{}=true (certificate revocation checks) is not "
                                        "supported by Corral", key));
    }
  }
  const std::string supplier_key = settingKey(config, "ssl.context.supplier.class");
  if (auto supplier = config.get(supplier_key); supplier && !supplier->empty()) {
    return invalidSetting(config, supplier_key,
                          "ssl.context.supplier.class (a Java class) is not supported by Corral");
  }
  return sdk::Status::ok();
}

}  // namespace

sdk::Result<TlsSettings> parseTlsSettings(const sdk::PluginConfig& config) {
  TlsSettings tls;
  const std::string location_key = settingKey(config, "ssl.keyStore.location");
  tls.key_store_location = config.getOr(location_key, "");
  if (tls.key_store_location.empty()) {
    return invalidSetting(config, "secureClientPort",
                          "secureClientPort is set but ssl.keyStore.location is not (the server "
                          "needs a PEM file with its private key and certificate chain)");
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
  if (auto status = parseClientAuth(config, tls); !status.isOk()) return status;
  if (auto status = parseProtocols(config, tls); !status.isOk()) return status;
  tls.cipher_suites = splitList(config.getOr(settingKey(config, "ssl.ciphersuites"), ""));

  auto hostname = config.getBool(settingKey(config, "ssl.hostnameVerification"), true);
  if (!hostname) return hostname.status();
  tls.hostname_verification = *hostname;
  if (auto status = refuseUnsupported(config); !status.isOk()) return status;
  return tls;
}

}  // namespace corral::kernel::admission
