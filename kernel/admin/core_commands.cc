#include "kernel/admin/core_commands.h"

#include <set>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <dirent.h>
#include <charconv>
#include <filesystem>
#include <set>
#include <fmt/format.h>
#include <ctime>

#include "kernel/runtime/server_metrics.h"
#include "kernel/session/session_ids.h"

namespace corral::kernel::admin {
namespace {

struct StatsView {
  int64_t min_latency = 0;
  double avg_latency = 0;
  int64_t max_latency = 0;
  int64_t received = 0;
  int64_t sent = 0;
  int64_t connections = 0;
  int64_t outstanding = 0;
  sdk::Zxid zxid = 0;
  std::string mode;
  int64_t node_count = 0;
  sdk::ConsensusReport ensemble;  // peer state, a leader's proposal sizes, conf lines
};

StatsView statsOf(const ServerInfo& info) {
  auto& stats = info.processor->stats();
  StatsView view;
  int64_t count = stats.latency_count.load();
  int64_t min = stats.latency_min_ms.load();
  view.min_latency = min == INT64_MAX ? 0 : min;
  view.max_latency = stats.latency_max_ms.load();
  view.avg_latency = count == 0 ? 0.0 : static_cast<double>(stats.latency_total_ms.load()) / count;
  view.received = stats.packets_received.load();
  view.sent = stats.packets_sent.load();
  // Every open client connection, as the front ends count them (4lw connections included).
  view.connections = 0;
  if (info.metrics != nullptr) {
    info.metrics->forEach([&](const sdk::MetricSample& metric) {
      if (metric.name == "num_alive_connections") view.connections += metric.value;
    });
  }
  view.outstanding = stats.outstanding.load();
  view.zxid = info.processor->lastProcessedZxid();
  // ZooKeeper's ReadOnlyZooKeeperServer.getState() is "read-only".
  view.mode = info.processor->readOnly() ? "read-only" : sdk::roleName(info.consensus->role());
  // ZooKeeper's node map holds the root twice ("" and "/"), and srvr reports the map size.
  view.node_count = info.storage->stats().node_count + 1;
  // A read-only server is a plain ZooKeeperServer in ZooKeeper: no peer state, no quorum size.
  if (!info.processor->readOnly()) view.ensemble = info.consensus->report();
  return view;
}

// Java prints doubles with at least one decimal ("0.0", "1.5").
std::string javaDouble(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find('.') == std::string::npos && text.find('e') == std::string::npos) text += ".0";
  return text;
}

// ZooKeeper's StatCommand prints this under the version line while read-only.
std::string readOnlyLine(const ServerInfo& info) {
  return info.processor->readOnly() ? "READ-ONLY mode; serving only read-only clients\n" : "";
}

std::string statsBlock(const StatsView& view) {
  return fmt::format(
      "Latency min/avg/max: {}/{}/{}\nReceived: {}\nSent: {}\nConnections: {}\nOutstanding: {}\n"
      "Zxid: 0x{:x}\nMode: {}\nNode count: {}\n",
      view.min_latency, javaDouble(view.avg_latency), view.max_latency, view.received, view.sent,
      view.connections, view.outstanding, view.zxid, view.mode, view.node_count) + view.ensemble.stats_lines;
}

int64_t directorySize(const std::string& dir);
int64_t registryValue(const ServerInfo& info, std::string_view wanted, int64_t absent = 0);

// ServerStats' client response sizes ("last", "min", "max"): -1 until a front end sent a reply
// (the front end starts its gauges at -1; without a front end there is no gauge at all).
int64_t responseSize(const ServerInfo& info, std::string_view which) {
  return registryValue(info, fmt::format("{}_client_response_size", which), -1);
}

int64_t uptimeMs(const ServerInfo& info) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               info.started_at).count();
}

// AdminServer's server_stats data (ZooKeeper's StatCommand/ServerStats fields).
nlohmann::json statsJson(const StatsView& view, const ServerInfo& info) {
  nlohmann::json buffers = {{"last_buffer_size", responseSize(info, "last")},
                            {"min_buffer_size", responseSize(info, "min")},
                            {"max_buffer_size", responseSize(info, "max")}};
  return {{"version", fullVersion()},
          {"read_only", info.processor->readOnly()},
          {"server_stats",
           {{"packets_sent", view.sent},
            {"packets_received", view.received},
            {"fsync_threshold_exceed_count", 0},
            {"client_response_stats", buffers},
            {"data_dir_size", directorySize(info.config->getString("dataDir"))},
            {"log_dir_size", directorySize(info.config->getString("dataLogDir"))},
            {"provider_null", false},
            {"server_state", view.mode},
            {"last_processed_zxid", view.zxid},
            {"outstanding_requests", view.outstanding},
            {"avg_latency", view.avg_latency},
            {"max_latency", view.max_latency},
            {"min_latency", view.min_latency},
            {"num_alive_client_connections", view.connections},
            {"auth_failed_count", registryValue(info, "unsuccessful_handshake")},
            {"non_mtlsremote_conn_count", 0},
            {"non_mtlslocal_conn_count", 0},
            {"uptime", uptimeMs(info)}}},
          {"client_response", buffers},
          {"node_count", view.node_count}};
}

int64_t openFileCount() {
  int64_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++count;
    closedir(dir);
    count -= 2;  // "." and ".."
  }
  return count;
}

// A counter or gauge the plugins keep in the registry (one object per name, shared by every
// front end that registers it); `absent` when nothing registered it.
int64_t registryValue(const ServerInfo& info, std::string_view wanted, int64_t absent) {
  int64_t value = absent;
  if (info.metrics != nullptr) {
    info.metrics->forEach([&](const sdk::MetricSample& metric) {
      if (metric.name == wanted) value = metric.value;
    });
  }
  return value;
}

void appendSummary(std::string_view name, const sdk::Summary& summary,
                   std::vector<std::pair<std::string, nlohmann::json>>& out) {
  for (auto& field : sdk::mntrFields(name, summary.values())) {
    if (field.is_average) {
      out.emplace_back(std::move(field.key), field.average);
    } else {
      out.emplace_back(std::move(field.key), field.value);
    }
  }
}

// ZooKeeper's ServerMetrics after the gauges: counters, then summaries, then each summary
// set's members as <key>_<name> ("a_read_per_namespace").
void appendServerMetrics(const ServerInfo& info, std::vector<std::pair<std::string, nlohmann::json>>& out) {
  if (info.metrics == nullptr) return;
  auto& registry = *info.metrics;
  for (const auto& spec : runtime::zooKeeperServerMetrics()) {
    if (spec.kind == sdk::MetricKind::kCounter) {
      out.emplace_back(std::string(spec.name), registry.counter(spec.name, "").value());
    }
  }
  for (const auto& spec : runtime::zooKeeperServerMetrics()) {
    if (spec.kind == sdk::MetricKind::kSummary) {
      appendSummary(spec.name, registry.summary(spec.name, "", spec.detail), out);
    } else if (spec.kind == sdk::MetricKind::kSummarySet) {
      registry.summarySet(spec.name, "", spec.detail).forEach([&](std::string_view key, const sdk::Summary& member) {
        appendSummary(fmt::format("{}_{}", key, spec.name), member, out);
      });
    }
  }
  // Then the storage plugin's own figures, named after it ("rocksdb_block_cache_hit" for
  // storage=rocksdb): ZooKeeper has no such lines, so a memlog server prints none.
  if (info.config == nullptr) return;
  const std::string prefix = info.config->getString("storage") + "_";
  registry.forEach([&](const sdk::MetricSample& metric) {
    if (!metric.name.starts_with(prefix)) return;
    if (metric.kind == sdk::MetricKind::kCounter || metric.kind == sdk::MetricKind::kGauge) {
      out.emplace_back(std::string(metric.name), metric.value);
    } else if (metric.kind == sdk::MetricKind::kSummary && metric.summary != nullptr) {
      appendSummary(metric.name, *metric.summary, out);
    }
  });
}

int64_t watchCount(const ServerInfo& info) {
  int64_t count = 0;
  info.processor->inspect([&] { count = static_cast<int64_t>(info.processor->watchCount()); });
  return count;
}

const std::set<std::string> kEnsembleViews = {"leader", "voting_view", "zabstate", "observers",
                                                "observer_connection_stat_reset"};

// The commands ZooKeeper 3.8 answers with ZK_NOT_SERVING while no role serves (its
// isZKServerRunning() checks; ruok, envi, isro, gtmk and stmk answer in every state).
bool needsServingRole(const std::string& name) {
  static const std::set<std::string> kNames = {
      "server_stats", "stats",   "configuration",   "monitor", "connections", "connection_stat_reset",
      "stat_reset",   "dirs",    "watch_summary",   "watches", "watches_by_path", "dump", "hash"};
  return kNames.count(name) != 0;
}

// Checked against a 3.8.0 member stuck in LOOKING: every one of these prints the line, `hash`
// without its newline (DigestCommand uses print, the others println).
std::function<sdk::CommandOutput(const sdk::CommandArgs&)> unlessNotServing(
    const ServerInfo& info, const std::string& name,
    std::function<sdk::CommandOutput(const sdk::CommandArgs&)> run) {
  const bool newline = name != "hash";
  return [info, newline, run = std::move(run)](const sdk::CommandArgs& args) {
    if (info.processor->serving()) return run(args);
    static constexpr const char* kNotServing = "This ZooKeeper instance is not currently serving requests";
    sdk::CommandOutput output;
    output.text = std::string(kNotServing) + (newline ? "\n" : "");
    output.status = sdk::Status(sdk::Code::kUnimplemented, kNotServing);
    return output;
  };
}

std::string briefConnection(const pipeline::ConnectionView& c) {
  return fmt::format(" /{}:{}[1](queued={},recved={},sent={})", c.remote_address, c.remote_port, c.queued,
                     c.received, c.sent);
}

std::string fullConnection(const pipeline::ConnectionView& c) {
  std::string text = fmt::format(" /{}:{}[1](queued={},recved={},sent={},sid=0x{:x},lop={},est={},to={}",
                                 c.remote_address, c.remote_port, c.queued, c.received, c.sent, c.session,
                                 c.last_op, c.established_ms, c.timeout_ms);
  if (c.last_cxid >= 0) text += fmt::format(",lcxid=0x{:x}", c.last_cxid);
  text += fmt::format(",lzxid=0x{:x},lresp={},llat={},minlat={},avglat={},maxlat={})", c.last_zxid,
                      c.last_response_ms, c.last_latency, c.min_latency, c.avg_latency, c.max_latency);
  return text;
}

// The connection asking (a 4lw connection has no session yet).
std::string callerConnection(const sdk::CommandArgs& args) {
  return fmt::format(" /{}:{}[0](queued=0,recved=1,sent=0)", args.remote_address, args.remote_port);
}

int64_t directorySize(const std::string& dir) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::directory_iterator(std::filesystem::path(dir) / "version-2", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    std::error_code size_error;
    auto size = it->file_size(size_error);
    if (!size_error) total += static_cast<int64_t>(size);
  }
  return total;
}

// java.util.Date.toString(), e.g. "Sun Nov 22 04:15:00 UTC 2026".
std::string javaDate(int64_t wall_ms) {
  time_t seconds = static_cast<time_t>(wall_ms / 1000);
  tm parts{};
  gmtime_r(&seconds, &parts);
  char text[64];
  strftime(text, sizeof(text), "%a %b %d %H:%M:%S UTC %Y", &parts);
  return text;
}

std::atomic<int64_t> trace_mask{306};  // ZooTrace's default: request, packet, session, warning

}  // namespace

std::string fullVersion() { return std::string("3.8.0-corral-") + CORRAL_VERSION + ", built on " __DATE__; }

sdk::Status registerCoreCommands(sdk::CommandRegistry& registry, ServerInfo info) {
  std::vector<sdk::Command> commands;
  commands.push_back({"ruok", {}, "Tests if the server is running in a non-error state.", true,
                      [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.text = "imok";
                        return output;
                      }});
  commands.push_back({"server_stats", {"srvr"}, "Server statistics.", true, [info](const sdk::CommandArgs&) {
                        auto view = statsOf(info);
                        sdk::CommandOutput output;
                        output.data = statsJson(view, info);
                        output.text = "Zookeeper version: " + fullVersion() + "\n" + readOnlyLine(info) + statsBlock(view);
                        return output;
                      }});
  commands.push_back({"stats", {"stat"}, "Server statistics and connected clients.", true,
                      [info](const sdk::CommandArgs& args) {
                        auto view = statsOf(info);
                        sdk::CommandOutput output;
                        output.data = statsJson(view, info);
                        std::string text = "Zookeeper version: " + fullVersion() + "\n" + readOnlyLine(info) + "Clients:\n";
                        output.data["connections"] = nlohmann::json::array();
                        output.data["secure_connections"] = nlohmann::json::array();
                        for (const auto& connection : info.processor->connections()) {
                          text += briefConnection(connection) + "\n";
                          output.data["connections"].push_back(
                              {{"remote_socket_address", fmt::format("{}:{}", connection.remote_address, connection.remote_port)},
                               {"interest_ops", 1},
                               {"outstanding_requests", connection.queued},
                               {"packets_received", connection.received},
                               {"packets_sent", connection.sent}});
                        }
                        if (!args.remote_address.empty()) text += callerConnection(args) + "\n";
                        output.text = text + "\n" + statsBlock(view);
                        return output;
                      }});
  commands.push_back({"configuration", {"conf", "config"}, "Server configuration.", true,
                      [info](const sdk::CommandArgs&) {
                        const auto& cfg = *info.config;
                        auto abs = [](const std::string& dir) {
                          std::error_code ec;
                          auto path = std::filesystem::absolute(dir, ec);
                          return (path / "version-2").string();
                        };
                        nlohmann::json data = {
                            {"client_port", cfg.getInt("clientPort", 0)},
                            {"data_dir", abs(cfg.getString("dataDir"))},
                            {"data_log_dir", abs(cfg.getString("dataLogDir"))},
                            {"tick_time", cfg.getInt("tickTime")},
                            {"max_client_cnxns", cfg.getInt("maxClientCnxns")},
                            {"min_session_timeout", cfg.getInt("minSessionTimeout")},
                            {"max_session_timeout", cfg.getInt("maxSessionTimeout")},
                            {"client_port_listen_backlog", -1},
                            {"server_id", cfg.serverId()}};
                        sdk::CommandOutput output;
                        output.data = data;
                        output.text = fmt::format(
                            "clientPort={}\nsecureClientPort={}\ndataDir={}\ndataDirSize=0\ndataLogDir={}\n"
                            "dataLogSize=0\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\n"
                            "maxSessionTimeout={}\nclientPortListenBacklog=-1\nserverId={}\n",
                            data["client_port"].get<int64_t>(), cfg.getInt("secureClientPort", -1),
                            data["data_dir"].get<std::string>(), data["data_log_dir"].get<std::string>(),
                            data["tick_time"].get<int64_t>(), data["max_client_cnxns"].get<int64_t>(),
                            data["min_session_timeout"].get<int64_t>(), data["max_session_timeout"].get<int64_t>(),
                            data["server_id"].get<int64_t>());
                        output.text += info.consensus->report().conf_text;
                        return output;
                      }});
  commands.push_back({"environment", {"envi", "env"}, "All defined environment variables.", true,
                      [](const sdk::CommandArgs&) {
                        char host[256] = {0};
                        gethostname(host, sizeof(host) - 1);
                        char cwd[4096] = {0};
                        if (getcwd(cwd, sizeof(cwd) - 1) == nullptr) cwd[0] = '\0';
                        const char* user = std::getenv("USER");
                        const char* home = std::getenv("HOME");
                        std::vector<std::pair<std::string, std::string>> entries = {
                            {"zookeeper.version", fullVersion()},
                            {"host.name", host},
                            {"java.version", "n/a"},
                            {"java.vendor", "n/a"},
                            {"java.home", "n/a"},
                            {"java.class.path", "n/a"},
                            {"java.library.path", "n/a"},
                            {"java.io.tmpdir", "/tmp"},
                            {"java.compiler", "<NA>"},
                            {"os.name", "Linux"},
                            {"os.arch", "amd64"},
                            {"os.version", ""},
                            {"user.name", user ? user : ""},
                            {"user.home", home ? home : ""},
                            {"user.dir", cwd},
                            {"os.memory.free", "0MB"},
                            {"os.memory.max", "0MB"},
                            {"os.memory.total", "0MB"}};
                        sdk::CommandOutput output;
                        output.text = "Environment:\n";
                        for (const auto& [key, value] : entries) {
                          output.text += key + "=" + value + "\n";
                          output.data[key] = value;
                        }
                        return output;
                      }});
  commands.push_back({"monitor", {"mntr"}, "Metrics for monitoring.", true, [info](const sdk::CommandArgs&) {
                        auto view = statsOf(info);
                        auto tree = info.storage->stats();
                        rlimit limit{};
                        getrlimit(RLIMIT_NOFILE, &limit);
                        auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - info.started_at).count();
                        std::vector<std::pair<std::string, nlohmann::json>> metrics = {
                            {"version", fullVersion()},
                            {"server_state", view.mode},
                            {"peer_state", view.ensemble.peer_state},
                            {"avg_latency", view.avg_latency},
                            {"max_latency", view.max_latency},
                            {"min_latency", view.min_latency},
                            {"packets_received", view.received},
                            {"packets_sent", view.sent},
                            {"num_alive_connections", view.connections},
                            {"outstanding_requests", view.outstanding},
                            {"uptime", uptime},
                            {"znode_count", view.node_count},
                            {"watch_count", watchCount(info)},
                            {"ephemerals_count", tree.ephemeral_count},
                            {"approximate_data_size", tree.approximate_data_size},
                            {"global_sessions", static_cast<int64_t>(info.processor->sessionCount())},
                            {"local_sessions", static_cast<int64_t>(info.processor->localSessionCount())},
                            {"open_file_descriptor_count", openFileCount()},
                            {"max_file_descriptor_count", static_cast<int64_t>(limit.rlim_cur)},
                            {"connection_drop_probability", 0.0},
                            {"last_client_response_size", responseSize(info, "last")},
                            {"max_client_response_size", responseSize(info, "max")},
                            {"min_client_response_size", responseSize(info, "min")},
                            {"outstanding_tls_handshake", registryValue(info, "outstanding_tls_handshake")},
                            {"auth_failed_count", registryValue(info, "unsuccessful_handshake")},
                            {"non_mtls_remote_conn_count", 0},
                            {"non_mtls_local_conn_count", 0}};
                        // Role-specific figures (leader: learners, synced followers, pending
                        // syncs...) come from the consensus, where ZooKeeper prints them.
                        // zk_peer_state exists in an ensemble only.
                        if (view.ensemble.peer_state.empty()) metrics.erase(metrics.begin() + 2);
                        for (const auto& [key, value] : view.ensemble.fields) {
                          int64_t number = 0;
                          auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
                          if (error == std::errc() && end == value.data() + value.size()) {
                            metrics.emplace_back(key, number);
                          } else {
                            metrics.emplace_back(key, value);
                          }
                        }
                        appendServerMetrics(info, metrics);
                        sdk::CommandOutput output;
                        for (const auto& [key, value] : metrics) {
                          output.data[key] = value;
                          std::string text = value.is_string() ? value.get<std::string>()
                                             : value.is_number_float() ? javaDouble(value.get<double>())
                                                                       : value.dump();
                          output.text += "zk_" + key + "\t" + text + "\n";
                        }
                        return output;
                      }});
  commands.push_back({"is_read_only", {"isro"}, "Whether the server is in read-only mode.", true,
                      [info](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        const bool read_only = info.processor->readOnly();
                        output.data["read_only"] = read_only;
                        // ZooKeeper's IsroCommand prints "null" while no role serves.
                        output.text = !info.processor->serving() ? "null" : read_only ? "ro" : "rw";
                        return output;
                      }});
  commands.push_back({"connections", {"cons"}, "Connections and their statistics.", true,
                      [info](const sdk::CommandArgs& args) {
                        sdk::CommandOutput output;
                        output.data["connections"] = nlohmann::json::array();
                        for (const auto& connection : info.processor->connections()) {
                          output.text += fullConnection(connection) + "\n";
                          output.data["connections"].push_back(
                              {{"remote_socket_address", fmt::format("{}:{}", connection.remote_address, connection.remote_port)},
                               {"interest_ops", 1},
                               {"outstanding_requests", connection.queued},
                               {"packets_received", connection.received},
                               {"packets_sent", connection.sent},
                               {"session_id", connection.session},
                               {"last_operation", connection.last_op},
                               {"established", connection.established_ms},
                               {"session_timeout", connection.timeout_ms},
                               {"last_cxid", connection.last_cxid},
                               {"last_zxid", connection.last_zxid},
                               {"last_response_time", connection.last_response_ms},
                               {"last_latency", connection.last_latency},
                               {"min_latency", connection.min_latency},
                               {"avg_latency", connection.avg_latency},
                               {"max_latency", connection.max_latency}});
                        }
                        if (!args.remote_address.empty()) output.text += callerConnection(args) + "\n";
                        output.text += "\n";
                        output.data["secure_connections"] = nlohmann::json::array();
                        return output;
                      }});
  commands.push_back({"connection_stat_reset", {"crst"}, "Reset all connection statistics.", true,
                      [info](const sdk::CommandArgs&) {
                        info.processor->resetConnectionStats();
                        sdk::CommandOutput output;
                        output.text = "Connection stats reset.\n";
                        return output;
                      }});
  commands.push_back({"stat_reset", {"srst"}, "Reset server statistics.", true, [info](const sdk::CommandArgs&) {
                        info.processor->stats().reset();
                        sdk::CommandOutput output;
                        output.text = "Server stats reset.\n";
                        return output;
                      }});
  commands.push_back({"dirs", {}, "Size of the snapshot and log directories.", true,
                      [info](const sdk::CommandArgs&) {
                        int64_t data = directorySize(info.config->getString("dataDir"));
                        int64_t log = directorySize(info.config->getString("dataLogDir"));
                        sdk::CommandOutput output;
                        output.data = {{"datadir_size", data}, {"logdir_size", log}};
                        output.text = fmt::format("datadir_size: {}\nlogdir_size: {}\n", data, log);
                        return output;
                      }});
  commands.push_back({"get_trace_mask", {"gtmk"}, "Current trace mask.", true, [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data["tracemask"] = trace_mask.load();
                        output.text = std::to_string(trace_mask.load());
                        return output;
                      }});
  commands.push_back({"set_trace_mask", {"stmk"}, "Sets the trace mask.", true, [](const sdk::CommandArgs& args) {
                        sdk::CommandOutput output;
                        if (args.body.size() >= 8) {
                          uint64_t mask = 0;
                          for (int i = 0; i < 8; ++i) mask = (mask << 8) | static_cast<unsigned char>(args.body[i]);
                          trace_mask = static_cast<int64_t>(mask);
                        } else if (auto it = args.params.find("traceMask"); it != args.params.end()) {
                          char* end = nullptr;
                          long long mask = std::strtoll(it->second.c_str(), &end, 10);
                          if (it->second.empty() || end == nullptr || *end != '\0') {
                            output.status = sdk::Status(sdk::Code::kBadArguments,
                                                        "setTraceMask requires long traceMask argument, got " + it->second);
                            output.data = nlohmann::json::object();
                            return output;
                          }
                          trace_mask = mask;
                        } else {
                          output.status = sdk::Status(sdk::Code::kBadArguments, "setTraceMask requires long traceMask argument");
                          output.data = nlohmann::json::object();
                          return output;
                        }
                        output.data["tracemask"] = trace_mask.load();
                        output.text = std::to_string(trace_mask.load());
                        return output;
                      }});
  commands.push_back({"watch_summary", {"wchs"}, "Summary of watches.", true, [info](const sdk::CommandArgs&) {
                        auto report = info.processor->watchReport();
                        sdk::CommandOutput output;
                        output.data = {{"num_connections", report.connections},
                                       {"num_paths", report.by_path.size()},
                                       {"num_total_watches", report.total}};
                        output.text = fmt::format("{} connections watching {} paths\nTotal watches:{}\n",
                                                  report.connections, report.by_path.size(), report.total);
                        return output;
                      }});
  commands.push_back({"watches", {"wchc"}, "Watches by session.", true, [info](const sdk::CommandArgs&) {
                        auto report = info.processor->watchReport();
                        sdk::CommandOutput output;
                        output.data["session_id_to_watched_paths"] = nlohmann::json::object();
                        for (const auto& [session, paths] : report.by_session) {
                          output.text += fmt::format("0x{:x}\n", session);
                          for (const auto& path : paths) output.text += "\t" + path + "\n";
                          output.data["session_id_to_watched_paths"][std::to_string(session)] = paths;
                        }
                        output.text += "\n";
                        return output;
                      }});
  commands.push_back({"watches_by_path", {"wchp"}, "Watches by path.", true, [info](const sdk::CommandArgs&) {
                        auto report = info.processor->watchReport();
                        sdk::CommandOutput output;
                        output.data["path_to_session_ids"] = nlohmann::json::object();
                        for (const auto& [path, sessions] : report.by_path) {
                          output.text += path + "\n";
                          for (auto session : sessions) output.text += fmt::format("\t0x{:x}\n", session);
                          output.data["path_to_session_ids"][path] = sessions;
                        }
                        output.text += "\n";
                        return output;
                      }});
  commands.push_back({"dump", {}, "Sessions, their expiry and ephemeral nodes.", true, [info](const sdk::CommandArgs&) {
                        auto report = info.processor->sessionReport();
                        int64_t mono_now = session::monotonicMs();
                        int64_t wall_now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                               std::chrono::system_clock::now().time_since_epoch()).count();
                        std::string text = "SessionTracker dump:\n";
                        text += fmt::format("Session Sets ({})/({}):\n", report.buckets.size(), report.session_count);
                        for (const auto& [expiry, ids] : report.buckets) {
                          text += fmt::format("{} expire at {}:\n", ids.size(), javaDate(wall_now + expiry - mono_now));
                          for (auto id : ids) text += fmt::format("\t0x{:x}\n", id);
                        }
                        text += "ephemeral nodes dump:\n";
                        text += fmt::format("Sessions with Ephemerals ({}):\n", report.ephemerals.size());
                        sdk::CommandOutput output;
                        output.data["expiry_time_to_session_ids"] = nlohmann::json::object();
                        output.data["session_id_to_ephemeral_paths"] = nlohmann::json::object();
                        for (const auto& [expiry, ids] : report.buckets) {
                          output.data["expiry_time_to_session_ids"][std::to_string(wall_now + expiry - mono_now)] = ids;
                        }
                        for (const auto& [id, paths] : report.ephemerals) {
                          text += fmt::format("0x{:x}:\n", id);
                          for (const auto& path : paths) text += "\t" + path + "\n";
                          output.data["session_id_to_ephemeral_paths"][std::to_string(id)] = paths;
                        }
                        auto connections = info.processor->connections();
                        text += "Connections dump:\n";
                        text += fmt::format("Connections Sets (1)/({}):\n", connections.size());
                        text += fmt::format("{} expire at {}:\n", connections.size(), javaDate(wall_now));
                        for (const auto& connection : connections) {
                          text += fmt::format("\tip: /{}:{} sessionId: 0x{:x}\n", connection.remote_address,
                                              connection.remote_port, connection.session);
                        }
                        output.text = text;
                        return output;
                      }});
  commands.push_back({"initial_configuration", {"icfg"}, "The configuration the server started with.", false,
                      [info](const sdk::CommandArgs&) {
                        std::string text;
                        for (const auto& entry : info.config->file().entries) text += entry.key + "=" + entry.value + "\n";
                        sdk::CommandOutput output;
                        output.data["initial_configuration"] = text;
                        return output;
                      }});
  commands.push_back({"last_snapshot", {"lsnp"}, "Zxid and time of the last snapshot.", false,
                      [info](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = {{"zxid", fmt::format("{:x}", info.storage->stats().last_snapshot_zxid)},
                                       {"timestamp", info.storage->stats().last_snapshot_time_ms / 1000}};
                        return output;
                      }});
  commands.push_back({"leader", {"lead"}, "The current leader.", false, [info](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = nlohmann::json::object();
                        if (info.consensus->role() == sdk::Role::kStandalone) {
                          output.status = sdk::Status(sdk::Code::kUnimplemented, "server is not initialized");
                        }
                        return output;
                      }});
  commands.push_back({"observer_connection_stat_reset", {"orst"}, "Reset observer connection statistics.", false,
                      [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = nlohmann::json::object();
                        return output;
                      }});
  commands.push_back({"observers", {"obsr"}, "Connected observers.", false, [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = {{"synced_observers", 0}, {"observers", nlohmann::json::array()}};
                        return output;
                      }});
  commands.push_back({"system_properties", {"sysp"}, "Server settings from the config file.", false,
                      [info](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = nlohmann::json::object();
                        for (const auto& entry : info.config->file().entries) output.data[entry.key] = entry.value;
                        output.data["zookeeper.version"] = fullVersion();
                        return output;
                      }});
  commands.push_back({"voting_view", {}, "The voting members.", false, [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data["current_config"] = nlohmann::json::object();
                        return output;
                      }});
  commands.push_back({"zabstate", {}, "ZAB state of this server.", false, [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data = {{"voting", false}, {"zabstate", ""}};
                        return output;
                      }});
  commands.push_back({"hash", {}, "Tree digests of recent txns (digest log not kept yet).", true,
                      [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data["digests"] = nlohmann::json::array();
                        return output;
                      }});
  for (auto& command : commands) {
    if (needsServingRole(command.name)) command.run = unlessNotServing(info, command.name, std::move(command.run));
    // The ensemble views (leader, voting_view, zabstate, observers) below are a standalone
    // server's answers; a consensus plugin that registered its own serves them instead.
    if (kEnsembleViews.count(command.name) != 0 && registry.find(command.name) != nullptr) continue;
    if (auto status = registry.add(std::move(command)); !status.isOk()) return status;
  }
  return sdk::Status::ok();
}

}  // namespace corral::kernel::admin
