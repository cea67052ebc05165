#include "kernel/server/server.h"

#include <signal.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "corral/acl.h"
#include "corral/consensus.h"
#include "corral/storage.h"
#include "corral/frontend.h"
#include "kernel/admin/core_commands.h"
#include "kernel/admission/client_admission_service.h"
#include "kernel/config/config.h"
#include "kernel/config/ensemble_view.h"
#include "kernel/loader/plugin_loader.h"
#include "kernel/pipeline/role_wiring.h"
#include "kernel/runtime/component_set.h"
#include "kernel/runtime/host_services.h"
#include "kernel/runtime/logging.h"
#include "kernel/runtime/server_metrics.h"
#include "kernel/server/admin_plugins.h"
#include "kernel/server/exit_codes.h"
#include "kernel/server/plugin_set.h"
#include "kernel/service/service_monitor.h"
#include "kernel/service/systemd_notifier.h"

namespace corral::kernel::server {
namespace {

constexpr const char* kUsage =
    "usage: corral-server [--config] FILE [--check] [--plugin-dir DIR]\n"
    "       corral-server --list-plugins [--plugin-dir DIR]\n"
    "       corral-server --version | --help\n"
    "\n"
    "Corral, a ZooKeeper-compatible coordination service. FILE is zoo.cfg syntax: ZooKeeper\n"
    "3.8's keys plus Corral's plugin keys (man corral.cfg). Runs in the foreground; stops\n"
    "cleanly on SIGTERM or SIGINT. Under systemd (Type=notify) it reports READY=1 once it\n"
    "serves clients, its role and last zxid as STATUS=, and answers WatchdogSec=.\n"
    "\n"
    "  -c, --config FILE   the config file (the first bare argument also names it, as\n"
    "                      zkServer.sh passes zoo.cfg)\n"
    "  --check             validate the config and every plugin's settings, then exit\n"
    "  --plugin-dir DIR    search DIR for plugins before the installed folder\n"
    "  --list-plugins      list the plugins found, with versions, then exit\n"
    "  --version           print the version and the plugin ABI version, then exit\n"
    "  -h, --help          print this help, then exit\n"
    "\n"
    "Exit codes: 0 clean stop, 1 runtime error, 2 config error, 4 AdminServer start failed,\n"
    "10-19 plugin failures, 64 usage error.\n";

struct Options {
  std::string config_path;
  std::string plugin_dir;
  bool check_only = false;
  bool list_plugins = false;
  bool version = false;
};

std::optional<Options> parseOptions(int argc, char** argv, std::string& error) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char* name) -> std::optional<std::string> {
      if (i + 1 >= argc) {
        error = std::string(name) + " needs a value";
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (arg == "--config" || arg == "-c") {
      auto v = value("--config");
      if (!v) return std::nullopt;
      options.config_path = *v;
    } else if (arg == "--plugin-dir") {
      auto v = value("--plugin-dir");
      if (!v) return std::nullopt;
      options.plugin_dir = *v;
    } else if (arg == "--check") {
      options.check_only = true;
    } else if (arg == "--list-plugins") {
      options.list_plugins = true;
    } else if (arg == "--version") {
      options.version = true;
    } else if (arg == "--help" || arg == "-h") {
      error.clear();
      return std::nullopt;
    } else if (!arg.empty() && arg[0] != '-' && options.config_path.empty()) {
      options.config_path = arg;
    } else {
      error = "unknown argument '" + arg + "'";
      return std::nullopt;
    }
  }
  if (!options.version && !options.list_plugins && options.config_path.empty()) {
    error = "no config file given";
    return std::nullopt;
  }
  return options;
}

std::vector<std::filesystem::path> searchDirs(const std::string& configured) {
  std::vector<std::filesystem::path> dirs;
  if (!configured.empty()) dirs.emplace_back(configured);
  auto builtin = loader::defaultPluginDir();
  if (!builtin.empty()) dirs.push_back(builtin);
  return dirs;
}

int listPlugins(const std::string& plugin_dir) {
  loader::PluginLoader loader(searchDirs(plugin_dir));
  for (const auto& dir : loader.searchDirs()) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      auto name = entry.path().filename().string();
      if (name.rfind("libcorral_", 0) == 0 && entry.path().extension() == ".so") {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      loader::LoadedPlugin plugin;
      if (auto error = loader.inspect(file, plugin)) {
        std::cout << file.string() << "  ERROR " << error.message << "\n";
      } else {
        std::cout << plugin.descriptor->name << " " << plugin.descriptor->version << "  "
                  << file.string() << "  " << plugin.descriptor->summary << "\n";
      }
    }
  }
  return 0;
}

// Whether the object a factory made implements the interface of its declared kind.
bool implementsKind(sdk::Plugin* plugin, sdk::PluginKind kind) {
  switch (kind) {
    case sdk::PluginKind::kStorage: return dynamic_cast<sdk::Storage*>(plugin) != nullptr;
    case sdk::PluginKind::kConsensus: return dynamic_cast<sdk::Consensus*>(plugin) != nullptr;
    case sdk::PluginKind::kAcl: return dynamic_cast<sdk::AclProvider*>(plugin) != nullptr;
    case sdk::PluginKind::kFrontend: return dynamic_cast<sdk::Frontend*>(plugin) != nullptr;
    case sdk::PluginKind::kAdmin: return true;
  }
  return false;
}

int fail(loader::LoadError error) {
  runtime::kernelLog().error("{}", error.message);
  return static_cast<int>(error.failure);
}

int failConfig(const sdk::Status& status) {
  runtime::kernelLog().error("{}", status.message().empty() ? status.toString() : status.message());
  return static_cast<int>(ExitCode::kConfigError);
}

// A few words for an exit status (README "Exit codes"), for the service manager's status line.
const char* exitMeaning(int code) {
  switch (code) {
    case static_cast<int>(ExitCode::kRuntimeError): return "runtime error";
    case static_cast<int>(ExitCode::kConfigError): return "config error";
    case static_cast<int>(ExitCode::kAdminServerFailed): return "AdminServer could not start";
    case static_cast<int>(ExitCode::kUsage): return "usage error";
    case static_cast<int>(loader::LoadFailure::kStartFailed): return "a plugin could not start";
    default: return code >= 10 && code < 19 ? "plugin could not be loaded" : "error";
  }
}

// Blocks SIGTERM and SIGINT in every thread (threads inherit the mask), so that the main
// thread alone receives them through sigwait.
sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Everything after the command line: config, plugins, start, serve until a stop signal.
int serve(const Options& options, service::SystemdNotifier& notifier);

}  // namespace

int runServer(int argc, char** argv) {
  std::string usage_error;
  auto options = parseOptions(argc, argv, usage_error);
  if (!options) {
    if (usage_error.empty()) {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "corral-server: " << usage_error << "\n" << kUsage;
    return static_cast<int>(ExitCode::kUsage);
  }
  if (options->version) {
    std::cout << "corral-server " << CORRAL_VERSION << " (SDK ABI " << sdk::kAbiVersion << ")\n";
    return 0;
  }
  if (options->list_plugins) return listPlugins(options->plugin_dir);

  // The service manager (a Type=notify unit) hears of progress; outside systemd, nothing.
  service::SystemdNotifier notifier;
  const int code = serve(*options, notifier);
  // systemctl status shows why a unit failed next to its exit code.
  if (code != 0) notifier.status(fmt::format("failed: exit status {} ({}); see the log", code, exitMeaning(code)));
  return code;
}

namespace {

int serve(const Options& command_line, service::SystemdNotifier& notifier) {
  const Options* options = &command_line;
  auto& log = runtime::kernelLog();
  auto started_at = std::chrono::steady_clock::now();

  // 1. Config: syntax and ZooKeeper/kernel keys.
  auto parsed = config::Config::load(options->config_path);
  if (!parsed.isOk()) return failConfig(parsed.status());
  config::Config& cfg = parsed.value();
  if (auto status = runtime::configureLogging(cfg.getString("log.file", ""),
                                              cfg.getString("log.level", "info"));
      !status.isOk()) {
    return failConfig(status);
  }

  // 2. Plugins: which, where, and whether each one is sound (before calling into it).
  auto requests = pluginRequests(cfg);
  if (!requests.isOk()) return failConfig(requests.status());
  std::string plugin_dir = options->plugin_dir.empty() ? cfg.getString("plugin.dir", "")
                                                       : options->plugin_dir;
  loader::PluginLoader loader(searchDirs(plugin_dir));
  std::vector<loader::LoadedPlugin> loaded;
  if (auto error = loader.loadAll(*requests, loaded)) return fail(error);

  // 3. Every key must now belong to ZooKeeper, the kernel or a loaded plugin.
  for (const auto& plugin : loaded) {
    for (auto key = plugin.descriptor->keys; key != nullptr && *key != nullptr; ++key) {
      cfg.addPluginKey(*key, plugin.descriptor->name);
    }
  }
  if (auto status = cfg.validate(); !status.isOk()) return failConfig(status);
  for (const auto& warning : cfg.warnings()) log.warn("{}", warning);
  for (const auto& key : cfg.notImplementedKeys()) {
    log.warn("{}: '{}' is accepted but not implemented yet; it has no effect", cfg.where(key), key);
  }
  config::PluginConfigView plugin_config(cfg);
  for (const auto& plugin : loaded) {
    if (auto status = plugin.descriptor->validate(plugin_config); !status.isOk()) {
      return fail({loader::LoadFailure::kInvalidConfig,
                   fmt::format("plugin '{}' rejected its settings: {}", plugin.name(),
                               status.message().empty() ? status.toString() : status.message())});
    }
  }
  // Client admission (limits, TLS settings) shared by every front end.
  auto admission_settings = admission::parseAdmissionSettings(plugin_config);
  if (!admission_settings.isOk()) return failConfig(admission_settings.status());
  if (options->check_only) {
    log.info("{}: config and plugin settings are valid", options->config_path);
    return 0;
  }

  // 4. Create every component; nothing has opened a port or a file yet.
  sigset_t stop_signals = blockStopSignals();
  // One event-loop thread by default: on 2 cores it halves the CPU per request at low load
  // (no cross-thread wake-ups between front end and pipeline) and saturates as well as two.
  auto io_threads = cfg.getInt("threads");
  runtime::ServerContext context(static_cast<int>(io_threads), 2, cfg.serverId());
  // Before any plugin registers its own: mntr lists ZooKeeper's full ServerMetrics set.
  runtime::registerZooKeeperServerMetrics(context.metrics());
  // Declared before the components, so it outlives every plugin that uses it.
  runtime::SpdLogger admission_log(runtime::namedLog("admission"));
  admission::ClientAdmissionService client_admission(std::move(admission_settings).value(),
                                                     admission_log, context.metrics());
  context.setAdmission(client_admission);
  runtime::ComponentSet components;
  for (const auto& plugin : loaded) {
    const auto& descriptor = *plugin.descriptor;
    auto host = std::make_unique<runtime::PluginHost>(context, descriptor.name);
    sdk::Status error(sdk::Code::kPluginError, "create() returned no object and no reason");
    std::unique_ptr<sdk::Plugin> object(descriptor.create(*host, plugin_config, &error));
    if (!object) {
      return fail({loader::LoadFailure::kFactoryFailed,
                   fmt::format("plugin '{}' ({}) could not be created: {}", descriptor.name,
                               plugin.file.string(), error.toString())});
    }
    if (!implementsKind(object.get(), descriptor.kind)) {
      return fail({loader::LoadFailure::kWrongKind,
                   fmt::format("plugin '{}' ({}) created an object that is not a {} plugin",
                               descriptor.name, plugin.file.string(), sdk::kindName(descriptor.kind))});
    }
    log.info("loaded plugin {} {} from {}", descriptor.name, descriptor.version,
             plugin.file.string());
    components.add({descriptor.name, descriptor.kind, std::move(host), std::move(object)});
  }

  // 5. Wire the parts to each other through the SDK interfaces.
  sdk::Storage* storage = nullptr;
  sdk::Consensus* consensus = nullptr;
  std::vector<sdk::Frontend*> frontends;
  pipeline::AclChecker acl_checker(cfg.getBool("skipACL", false));
  for (const auto& component : components.components()) {
    auto* object = component.plugin.get();
    switch (component.kind) {
      case sdk::PluginKind::kStorage: storage = dynamic_cast<sdk::Storage*>(object); break;
      case sdk::PluginKind::kConsensus: consensus = dynamic_cast<sdk::Consensus*>(object); break;
      case sdk::PluginKind::kAcl: acl_checker.addProvider(dynamic_cast<sdk::AclProvider*>(object)); break;
      case sdk::PluginKind::kFrontend: frontends.push_back(dynamic_cast<sdk::Frontend*>(object)); break;
      case sdk::PluginKind::kAdmin: break;
    }
  }
  pipeline::RoleSettings settings;
  settings.pipeline.min_session_timeout_ms = static_cast<int32_t>(cfg.getInt("minSessionTimeout"));
  settings.pipeline.max_session_timeout_ms = static_cast<int32_t>(cfg.getInt("maxSessionTimeout"));
  settings.pipeline.server_id = cfg.serverId();
  settings.pipeline.enforce_auth = cfg.getBool("enforce.auth.enabled", false);
  settings.pipeline.enforce_auth_schemes = cfg.getList("enforce.auth.schemes");
  settings.leader_serves = cfg.getBool("leaderServes", true);
  settings.sequencer.tick_ms = static_cast<int32_t>(cfg.getInt("tickTime"));
  settings.read_only_mode = cfg.getBool("readonlymode.enabled", false);
  settings.read_only_delay_ms = std::max<int32_t>(2000, settings.sequencer.tick_ms);
  settings.sequencer.extended_types = cfg.getBool("zookeeper.extendedTypesEnabled", false);
  settings.sequencer.reconfig_enabled = cfg.getBool("reconfigEnabled", false);
  settings.sequencer.container_check_ms = cfg.getInt("znode.container.checkIntervalMs", 60000);
  settings.sequencer.container_max_per_minute = cfg.getInt("znode.container.maxPerMinute", 10000);
  if (settings.pipeline.enforce_auth) {
    // As ZooKeeper's AuthenticationHelper: the schemes must be set and available.
    if (settings.pipeline.enforce_auth_schemes.empty()) {
      return failConfig({sdk::Code::kInvalidConfig,
                         cfg.where("enforce.auth.enabled") +
                             ": enforce.auth.enabled is true, enforce.auth.schemes must be configured"});
    }
    for (const auto& scheme : settings.pipeline.enforce_auth_schemes) {
      if (!acl_checker.hasScheme(scheme)) {
        return failConfig({sdk::Code::kInvalidConfig,
                           cfg.where("enforce.auth.schemes") + ": authentication scheme " + scheme +
                               " is not available (add it to acl.schemes)"});
      }
    }
  }
  runtime::SpdLogger pipeline_log(runtime::namedLog("pipeline"));
  pipeline::RoleWiring processor(context.io(), *storage, *consensus, acl_checker, settings, pipeline_log,
                                 context.metrics());
  const sdk::Ensemble ensemble = config::ensembleOf(cfg);
  consensus->attach(*storage, processor, ensemble);
  for (auto* frontend : frontends) frontend->attach(processor.clientService());
  admin::ServerInfo server_info{&cfg, &context.metrics(), &processor, storage, consensus, started_at};
  if (auto status = admin::registerCoreCommands(context.commands(), server_info); !status.isOk()) {
    log.error("cannot register admin commands: {}", status.toString());
    return static_cast<int>(ExitCode::kRuntimeError);
  }

  // The TLS context of secureClientPort: a bad key store stops the start before anything runs.
  if (auto status = client_admission.start(); !status.isOk()) {
    log.error("{}", status.message().empty() ? status.toString() : status.message());
    return static_cast<int>(loader::LoadFailure::kStartFailed);
  }

  service::ServiceMonitor service_monitor(context.io(), notifier, [&processor] {
    return service::ServiceState{sdk::roleName(processor.role()), processor.serving(), processor.readOnly(),
                                 static_cast<int64_t>(processor.lastProcessedZxid()),
                                 processor.sessionCount()};
  });
  notifier.status(fmt::format("starting: loading data, {} plugins", components.components().size()));

  // 6. Start in dependency order (the pipeline once storage has started and recovered, before
  // the consensus and the front ends), serve, stop in reverse.
  context.startThreads();
  bool pipeline_started = false;
  auto startPipeline = [&]() -> sdk::Status {
    if (pipeline_started) return sdk::Status::ok();
    std::vector<sdk::RecoveredSession> sessions;
    auto recovery_started = std::chrono::steady_clock::now();
    if (auto status = storage->recover(sessions); !status.isOk()) return status;
    // ZooKeeper's dbinittime: loading the database at start, in ms.
    context.metrics()
        .summary("dbinittime", "", sdk::SummaryDetail::kBasic)
        .add(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                   recovery_started)
                 .count());
    processor.start(sessions);
    pipeline_started = true;
    return sdk::Status::ok();
  };
  auto status = components.startAll([&](sdk::PluginKind kind) {
    // Recovery runs before the consensus starts: an ensemble member reports its recovered
    // last zxid in its first election.
    return runtime::ComponentSet::startRank(kind) >= runtime::ComponentSet::startRank(sdk::PluginKind::kConsensus)
               ? startPipeline()
               : sdk::Status::ok();
  });
  if (status.isOk()) status = startPipeline();
  if (!status.isOk()) {
    const std::string reason = status.message().empty() ? status.toString() : status.message();
    components.stopAll();
    context.stopThreads();
    // The AdminServer and the metrics provider end the process as ZooKeeper's do.
    if (auto zookeeper = zooKeeperStartFailure(components.failedComponent())) {
      log.error("{}: {}", zookeeper->text, reason);
      return static_cast<int>(zookeeper->code);
    }
    log.error("{}", reason);
    return static_cast<int>(loader::LoadFailure::kStartFailed);
  }
  auto ready_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - started_at).count();
  log.info("corral-server {} started in {} ms with {} plugins", CORRAL_VERSION, ready_ms,
           components.components().size());
  // READY=1 once the role serves clients: at once when standalone, once a quorum formed in an
  // ensemble.
  service_monitor.start();

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  log.info("received {}, stopping", strsignal(signal_number));
  service_monitor.stop();
  bool pipeline_stopped = false;
  components.stopAll([&](sdk::PluginKind kind) {
    // The pipeline stops once the front ends have closed their connections.
    if (!pipeline_stopped && runtime::ComponentSet::startRank(kind) <
                                 runtime::ComponentSet::startRank(sdk::PluginKind::kFrontend)) {
      processor.stop();
      pipeline_stopped = true;
    }
  });
  if (!pipeline_stopped) processor.stop();
  context.stopThreads();
  log.info("stopped cleanly");
  return 0;
}

}  // namespace

}  // namespace corral::kernel::server
