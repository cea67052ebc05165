// The admin.metrics descriptor: the Prometheus endpoint of ZooKeeper's
// PrometheusMetricsProvider (metricsProvider.httpHost:httpPort/metrics), fed by the
// kernel's `monitor` command (the view 4lw mntr and HTTP /commands/monitor print), the
// metrics registry, and process statistics. Loaded when metricsProvider.className names
// ZooKeeper's PrometheusMetricsProvider or `admin=metrics` names it
// (kernel/server/admin_plugins.h).
#include <chrono>
#include <memory>
#include <new>

#include <fmt/format.h>

#include "corral/admin.h"
#include "corral/host.h"
#include "corral/plugin.h"
#include "exposition.h"
#include "http_server.h"
#include "process_stats.h"

namespace corral::plugins::metrics {
namespace {

constexpr std::string_view kPrometheusProvider = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider";
constexpr std::string_view kDefaultProvider = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider";
constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Settings {
  bool enabled = true;  // false: className names ZooKeeper's DefaultMetricsProvider
  std::string host = "0.0.0.0";
  int port = 7000;
  bool export_process = true;
};

sdk::Result<Settings> parseSettings(const sdk::PluginConfig& config) {
  Settings settings;
  constexpr const char* kClass = "metricsProvider.className";
  if (config.where(kClass) != "default") {
    std::string name = config.getOr(kClass, "");
    if (name == kDefaultProvider) {
      settings.enabled = false;
    } else if (name != kPrometheusProvider) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         fmt::format("{}: {}={} is not supported; admin.metrics implements {}", config.where(kClass),
                                     kClass, name, kPrometheusProvider));
    }
  }
  settings.host = config.getOr("metricsProvider.httpHost", "0.0.0.0");
  if (settings.host.empty()) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: metricsProvider.httpHost is empty", config.where("metricsProvider.httpHost")));
  }
  auto port = config.getInt("metricsProvider.httpPort", 7000);
  if (!port) return port.status();
  if (*port < 0 || *port > 65535) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: metricsProvider.httpPort={} is not a port (0-65535)",
                                   config.where("metricsProvider.httpPort"), *port));
  }
  settings.port = static_cast<int>(*port);
  auto jvm = config.getBool("metricsProvider.exportJvmInfo", true);
  if (!jvm) return jvm.status();
  settings.export_process = *jvm;
  return settings;
}

void addSummaryKeys(nlohmann::json& monitor, std::string_view name, const sdk::Summary& summary) {
  for (const auto& field : sdk::mntrFields(name, summary.values())) {
    if (field.is_average) {
      monitor[field.key] = field.average;
    } else {
      monitor[field.key] = field.value;
    }
  }
}

class AdminMetrics final : public sdk::Plugin {
 public:
  AdminMetrics(sdk::Host& host, Settings settings) : host_(host), settings_(std::move(settings)) {}
  ~AdminMetrics() override { stop(); }

  sdk::Status start() noexcept override {
    auto& log = host_.logger();
    if (!settings_.enabled) {
      log.info("metricsProvider.className is {}: no /metrics endpoint", kDefaultProvider);
      return sdk::Status::ok();
    }
    try {
      http::HttpServerOptions options;
      options.address = settings_.host;
      options.port = settings_.port;
      options.name = "admin.metrics";
      server_ = http::makeHttpServer(host_.ioContext(), host_.blockingPool(), log, options,
                                     [this](const http::HttpRequest& request) { return handle(request); });
    } catch (const std::exception& e) {
      return sdk::Status(sdk::Code::kSystemError, e.what());
    }
    if (auto status = server_->start(); !status.isOk()) {
      server_.reset();
      // PrometheusMetricsProvider's log text, then the cause.
      return sdk::Status(status.code(), fmt::format("Cannot start /metrics server: {}", status.message()));
    }
    log.info("Starting /metrics HTTP endpoint at host: {}, port: {}, exportJvmInfo: {}", settings_.host,
             server_->port(), settings_.export_process);
    return sdk::Status::ok();
  }

  void stop() noexcept override {
    if (server_) {
      server_->stop();
      server_.reset();
    }
  }

 private:
  // Runs on the blocking pool (HttpServer's contract).
  http::HttpResponse handle(const http::HttpRequest& request) {
    http::HttpResponse response;
    std::string_view target = request.target;
    std::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      response.status = 404;
      response.content_type = "text/plain; charset=utf-8";
      response.body = "Not Found\n";
      return response;
    }
    if (request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
      response.content_type = "text/plain; charset=utf-8";
      response.headers.emplace_back("Allow", "GET, HEAD");
      response.body = "Method Not Allowed\n";
      return response;
    }
    nlohmann::json monitor = nlohmann::json::object();
    if (const sdk::Command* command = host_.commands().find("monitor"); command != nullptr && command->run) {
      auto output = command->run(sdk::CommandArgs{});
      if (output.status.isOk()) monitor = std::move(output.data);
    }
    std::vector<RegistryValue> registry;
    host_.metrics().forEach([&](const sdk::MetricSample& metric) {
      switch (metric.kind) {
        case sdk::MetricKind::kCounter:
        case sdk::MetricKind::kGauge:
          registry.push_back({std::string(metric.name), std::string(metric.help), metric.value,
                              metric.kind == sdk::MetricKind::kCounter});
          break;
        case sdk::MetricKind::kSummary:
          // A plugin's own summary that mntr does not list: shown as mntr would show it, so
          // it is rendered by the same summary code.
          if (metric.summary != nullptr && !monitor.contains("cnt_" + std::string(metric.name))) {
            addSummaryKeys(monitor, metric.name, *metric.summary);
          }
          break;
        case sdk::MetricKind::kSummarySet: break;  // the kernel lists ZooKeeper's sets in mntr
      }
    });
    ProcessStats process;
    if (settings_.export_process) process = readProcessStats();
    response.content_type = std::string(kContentType);
    response.body = renderExposition(monitor, registry, settings_.export_process ? &process : nullptr);
    return response;
  }

  sdk::Host& host_;
  Settings settings_;
  std::unique_ptr<http::HttpServer> server_;
};

sdk::Status validate(const sdk::PluginConfig& config) noexcept {
  try {
    return parseSettings(config).status();
  } catch (const std::exception& e) {
    return sdk::Status(sdk::Code::kInvalidConfig, e.what());
  }
}

sdk::Plugin* create(sdk::Host& host, const sdk::PluginConfig& config, sdk::Status* error) noexcept {
  try {
    auto settings = parseSettings(config);
    if (!settings) {
      *error = settings.status();
      return nullptr;
    }
    return new AdminMetrics(host, std::move(settings.value()));
  } catch (const std::exception& e) {
    *error = sdk::Status(sdk::Code::kSystemError, e.what());
    return nullptr;
  }
}

const char* const kKeys[] = {"metricsProvider.className", "metricsProvider.httpHost", "metricsProvider.httpPort",
                             "metricsProvider.exportJvmInfo", nullptr};

}  // namespace

const sdk::PluginDescriptor descriptor{
    sdk::kAbiVersion, sdk::PluginKind::kAdmin, "admin.metrics", "0.1.0",
    "Prometheus /metrics (ZooKeeper's PrometheusMetricsProvider names) from mntr, the registry and the process",
    kKeys, validate, create};

}  // namespace corral::plugins::metrics

CORRAL_PLUGIN(corral::plugins::metrics::descriptor)
