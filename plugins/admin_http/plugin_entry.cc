// The admin.http descriptor: ZooKeeper's AdminServer (Jetty in 3.8) over the kernel's
// command registry. Loaded when admin.enableServer is true (ZooKeeper's default) or
// `admin=http` names it (kernel/server/admin_plugins.h).
#include <chrono>
#include <memory>
#include <new>

#include <fmt/format.h>

#include "command_http.h"
#include "corral/admin.h"
#include "corral/host.h"
#include "corral/plugin.h"
#include "http_server.h"

namespace corral::plugins::http {
namespace {

struct Settings {
  bool enabled = true;
  std::string address = "0.0.0.0";
  int port = 8080;
  std::string command_url = "/commands";
  int64_t idle_timeout_ms = 30000;
};

sdk::Result<Settings> parseSettings(const sdk::PluginConfig& config) {
  Settings settings;
  auto enabled = config.getBool("admin.enableServer", true);
  if (!enabled) return enabled.status();
  settings.enabled = *enabled;
  settings.address = config.getOr("admin.serverAddress", "0.0.0.0");
  if (settings.address.empty()) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: admin.serverAddress is empty", config.where("admin.serverAddress")));
  }
  auto port = config.getInt("admin.serverPort", 8080);
  if (!port) return port.status();
  if (*port < 0 || *port > 65535) {
    return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: admin.serverPort={} is not a port (0-65535)",
                                                              config.where("admin.serverPort"), *port));
  }
  settings.port = static_cast<int>(*port);
  settings.command_url = config.getOr("admin.commandURL", "/commands");
  if (settings.command_url.empty()) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: admin.commandURL is empty", config.where("admin.commandURL")));
  }
  auto idle = config.getInt("admin.idleTimeout", 30000);
  if (!idle) return idle.status();
  if (*idle < 0) {
    return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: admin.idleTimeout={} is negative",
                                                              config.where("admin.idleTimeout"), *idle));
  }
  settings.idle_timeout_ms = *idle;
  // Plain HTTP only: refuse rather than silently serve without TLS.
  auto https = config.getBool("admin.forceHttps", false);
  if (https && *https) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: admin.forceHttps=true is not supported by admin.http (no TLS yet)",
                                   config.where("admin.forceHttps")));
  }
  return settings;
}

class AdminHttp final : public sdk::Plugin {
 public:
  AdminHttp(sdk::Host& host, Settings settings)
      : host_(host),
        settings_(std::move(settings)),
        router_(host.commands(), RouterSettings{settings_.command_url, "/ready", "/live"}) {}

  ~AdminHttp() override { stop(); }

  sdk::Status start() noexcept override {
    auto& log = host_.logger();
    if (!settings_.enabled) {
      log.info("AdminServer disabled (admin.enableServer=false)");
      return sdk::Status::ok();
    }
    try {
      HttpServerOptions options;
      options.address = settings_.address;
      options.port = settings_.port;
      options.idle_timeout = std::chrono::milliseconds(settings_.idle_timeout_ms);
      options.name = "admin.http";
      server_ = makeHttpServer(host_.ioContext(), host_.blockingPool(), log, options,
                               [this](const HttpRequest& request) { return router_.handle(request); });
    } catch (const std::exception& e) {
      return sdk::Status(sdk::Code::kSystemError, e.what());
    }
    if (auto status = server_->start(); !status.isOk()) {
      server_.reset();
      // ZooKeeper's AdminServerException text, then the cause.
      return sdk::Status(status.code(),
                         fmt::format("Problem starting AdminServer on address {}, port {} and command URL {}: {}",
                                     settings_.address, settings_.port, settings_.command_url, status.message()));
    }
    router_.setStopping(false);
    log.info("Started AdminServer on address {}, port {} and command URL {}", settings_.address,
             server_->port(), settings_.command_url);
    return sdk::Status::ok();
  }

  void stop() noexcept override {
    router_.setStopping(true);
    if (server_) {
      server_->stop();
      server_.reset();
    }
  }

 private:
  sdk::Host& host_;
  Settings settings_;
  CommandRouter router_;
  std::unique_ptr<HttpServer> server_;
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
    return new AdminHttp(host, std::move(settings.value()));
  } catch (const std::exception& e) {
    *error = sdk::Status(sdk::Code::kSystemError, e.what());
    return nullptr;
  }
}

const char* const kKeys[] = {"admin.enableServer", "admin.serverAddress", "admin.serverPort",
                             "admin.commandURL", "admin.idleTimeout", nullptr};

}  // namespace

const sdk::PluginDescriptor descriptor{sdk::kAbiVersion, sdk::PluginKind::kAdmin, "admin.http", "0.1.0",
                                       "ZooKeeper's AdminServer: /commands over HTTP, plus /ready and /live",
                                       kKeys, validate, create};

}  // namespace corral::plugins::http

CORRAL_PLUGIN(corral::plugins::http::descriptor)
