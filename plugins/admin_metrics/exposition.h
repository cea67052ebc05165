// admin.metrics without the network: the Prometheus text exposition (format 0.0.4) of the
// kernel's `monitor` data, the metrics registry and process statistics. Pure functions, so
// unit tests cover them without sockets.
//
// Names follow ZooKeeper's PrometheusMetricsProvider: the mntr keys without `zk_`.
// - A summary shows in mntr as avg_X, min_X, max_X, cnt_X, sum_X [, p50_X, p95_X, p99_X,
//   p999_X]; it is exported as a Prometheus summary X: X{quantile="0.5"} (from p50_X, and
//   0.95/0.99/0.999 where given), X_count and X_sum. avg/min/max have no Prometheus form.
// - Per-namespace sets (<ns>_read_per_namespace, <ns>_quota_count_limit_per_namespace, ...)
//   become one family with a `key="<ns>"` label, as ZooKeeper's summary and gauge sets.
// - Other numbers are gauges, except ZooKeeper's ServerMetrics counters (TYPE counter).
// - Strings (version, server_state) are not exported, as in ZooKeeper.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::plugins::metrics {

struct RegistryValue {
  std::string name;
  std::string help;
  int64_t value = 0;
  bool counter = false;  // registered as a counter (TYPE counter)
};

struct ProcessStats {
  std::optional<double> cpu_seconds;          // user + system, all threads
  std::optional<double> start_time_seconds;   // since the epoch
  std::optional<int64_t> open_fds;
  std::optional<int64_t> max_fds;
  std::optional<int64_t> virtual_memory_bytes;
  std::optional<int64_t> resident_memory_bytes;
  // jemalloc's stats.<name> (allocated, active, metadata, resident, mapped, retained);
  // empty when the process does not run on jemalloc.
  std::vector<std::pair<std::string, int64_t>> jemalloc;
};

// A valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*): other characters become '_', a leading
// digit gets a '_' prefix. Empty input gives "".
std::string sanitizeName(std::string_view name);

// Whether ZooKeeper registers `name` as a counter (ServerMetrics); otherwise a gauge.
bool isZooKeeperCounter(std::string_view name);

// The whole /metrics body. `monitor` is the monitor command's data (an object; anything
// else is ignored); registry values whose names the monitor data already gives are skipped.
// `process` is null when exportJvmInfo=false.
std::string renderExposition(const nlohmann::json& monitor, const std::vector<RegistryValue>& registry,
                             const ProcessStats* process);

}  // namespace corral::plugins::metrics
