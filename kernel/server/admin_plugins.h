// Which admin plugins a config asks for, and how their start failures end the process.
//
// An unchanged zoo.cfg must behave as ZooKeeper 3.8's, so ZooKeeper's own keys imply the
// plugins that stand for ZooKeeper's parts:
//   admin.enableServer (default true)                      -> admin.http   (AdminServer)
//   metricsProvider.className=…PrometheusMetricsProvider   -> admin.metrics (/metrics)
// Corral's `admin=` list adds plugins on top (each loaded once, however often it is named);
// `admin=4lw` names the built-in four-letter words and loads nothing. A list entry that
// contradicts an explicit ZooKeeper key (admin=http with admin.enableServer=false,
// admin=metrics with a metrics provider that serves nothing) is a config error naming both
// lines: either way one of the two lines would be silently ignored.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "kernel/config/config.h"
#include "kernel/loader/plugin_loader.h"
#include "kernel/server/exit_codes.h"

namespace corral::kernel::server {

inline constexpr std::string_view kPrometheusProviderClass =
    "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
// ZooKeeper's default provider; it feeds mntr only and opens no port.
inline constexpr std::string_view kDefaultProviderClass =
    "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
// ZooKeeper's no-op provider; also opens no port.
inline constexpr std::string_view kNullProviderClass =
    "org.apache.zookeeper.metrics.impl.NullMetricsProvider";

// The admin plugin requests (kind kAdmin), implied ones first in ZooKeeper's start order
// (metrics provider, then AdminServer), then the rest of `admin=` in list order. An
// InvalidConfig status naming file:line when a key is malformed, names a Java class Corral
// cannot provide, or contradicts `admin=`.
sdk::Result<std::vector<loader::PluginRequest>> adminPluginRequests(const config::Config& config);

// How ZooKeeper 3.8 ends when the part a plugin stands for cannot start (its port is taken,
// say): the exit code and the log text. nullopt for plugins without a ZooKeeper counterpart.
struct ZooKeeperStartFailure {
  ExitCode code;
  std::string_view text;  // "Unable to start AdminServer, exiting abnormally"
};
std::optional<ZooKeeperStartFailure> zooKeeperStartFailure(std::string_view plugin_name);

}  // namespace corral::kernel::server
