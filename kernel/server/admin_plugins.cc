#include "kernel/server/admin_plugins.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

namespace corral::kernel::server {
namespace {

constexpr std::string_view kEnableServerKey = "admin.enableServer";
constexpr std::string_view kProviderClassKey = "metricsProvider.className";

sdk::Status configError(std::string message) {
  return sdk::Status(sdk::Code::kInvalidConfig, std::move(message));
}

// "file:line: key=value" of an entry, as spelled in the file (zookeeper.admin.enableServer
// stays so).
std::string describe(const config::Config& config, std::string_view key) {
  const config::ConfigEntry* entry = config.entry(key);
  return fmt::format("{}: {}={}", config.where(key), entry->key, entry->value);
}

// Where an implied plugin comes from, for the loader's messages.
std::string origin(const config::Config& config, std::string_view key, std::string_view default_text) {
  return config.isSet(key) ? config.where(key) : fmt::format("{} ({})", key, default_text);
}

// admin.enableServer as ZooKeeper reads it: on unless set to false. Validated here, not only
// in Config::validate(), because the plugin set is chosen before validation runs.
sdk::Result<bool> adminServerEnabled(const config::Config& config) {
  auto written = config.get(kEnableServerKey);
  if (!written) return true;
  auto enabled = config::parseBool(*written);
  if (!enabled) {
    return configError(describe(config, kEnableServerKey) + ": not a boolean (true/false/yes/no)");
  }
  return *enabled;
}

// Whether metricsProvider.className asks for the Prometheus endpoint. ZooKeeper loads the
// named Java class; Corral has no JVM and knows only ZooKeeper's own three providers.
sdk::Result<bool> prometheusRequested(const config::Config& config) {
  auto written = config.get(kProviderClassKey);
  if (!written || *written == kDefaultProviderClass || *written == kNullProviderClass) return false;
  if (*written == kPrometheusProviderClass) return true;
  return configError(fmt::format(
      "{}: Corral cannot load Java classes; it serves {} itself (plugin admin.metrics), and {} "
      "or {} (or no {} line) mean no metrics endpoint",
      describe(config, kProviderClassKey), kPrometheusProviderClass, kDefaultProviderClass,
      kNullProviderClass, kProviderClassKey));
}

}  // namespace

sdk::Result<std::vector<loader::PluginRequest>> adminPluginRequests(const config::Config& config) {
  auto enabled = adminServerEnabled(config);
  if (!enabled) return enabled.status();
  auto prometheus = prometheusRequested(config);
  if (!prometheus) return prometheus.status();

  std::vector<loader::PluginRequest> requests;
  auto implied = [&](std::string name, std::string where) {
    requests.push_back({sdk::PluginKind::kAdmin, std::move(name), std::move(where)});
  };
  // ZooKeeper starts the metrics provider before the AdminServer; so does Corral, so that
  // with both ports taken the exit is the same.
  if (*prometheus) implied("metrics", config.where(kProviderClassKey));
  if (*enabled) implied("http", origin(config, kEnableServerKey, "true by default"));
  const size_t implied_count = requests.size();
  auto isImplied = [&](const std::string& name) {
    return std::any_of(requests.begin(), requests.begin() + implied_count,
                       [&](const auto& request) { return request.name == name; });
  };

  const std::string where = config.where("admin");
  for (const auto& name : config.getList("admin")) {
    // The four-letter words are the kernel's own commands, served by frontend.jute on the
    // client port; "admin=4lw" (as in DESIGN.md's example) names them and loads nothing.
    if (name == "4lw") continue;
    if (!config::isPluginName(name)) {
      return configError(fmt::format("{}: admin: '{}' is not a plugin name (letters, digits, _)", where, name));
    }
    if (name == "http" && !*enabled) {
      return configError(fmt::format("{}: admin=http asks for the AdminServer, but {} turns it off; remove one "
                                     "of the two lines",
                                     where, describe(config, kEnableServerKey)));
    }
    if (name == "metrics" && config.isSet(kProviderClassKey) && !*prometheus) {
      return configError(fmt::format("{}: admin=metrics asks for the Prometheus endpoint, but {} serves none; "
                                     "remove one of the two lines",
                                     where, describe(config, kProviderClassKey)));
    }
    // Named by a ZooKeeper key and by admin=: one plugin, loaded once. A name repeated
    // within admin= itself stays the loader's "listed more than once" error.
    if (isImplied(name)) continue;
    requests.push_back({sdk::PluginKind::kAdmin, name, where});
  }
  return requests;
}

std::optional<ZooKeeperStartFailure> zooKeeperStartFailure(std::string_view plugin_name) {
  // Both verified on 3.8.0 standalone with the port taken (plugins/admin_http/README.md).
  if (plugin_name == "admin.http") {
    return ZooKeeperStartFailure{ExitCode::kAdminServerFailed, "Unable to start AdminServer, exiting abnormally"};
  }
  if (plugin_name == "admin.metrics") {
    return ZooKeeperStartFailure{
        ExitCode::kMetricsProviderFailed,
        "Cannot boot MetricsProvider org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider, "
        "exiting abnormally"};
  }
  return std::nullopt;
}

}  // namespace corral::kernel::server
