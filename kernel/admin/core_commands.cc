#include "kernel/admin/core_commands.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <dirent.h>
#include <filesystem>
#include <fmt/format.h>

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
  view.connections = stats.connections.load();
  view.outstanding = stats.outstanding.load();
  view.zxid = info.processor->lastProcessedZxid();
  view.mode = sdk::roleName(info.consensus->role());
  // ZooKeeper's node map holds the root twice ("" and "/"), and srvr reports the map size.
  view.node_count = info.storage->stats().node_count + 1;
  return view;
}

// Java prints doubles with at least one decimal ("0.0", "1.5").
std::string javaDouble(double value) {
  std::string text = fmt::format("{}", value);
  if (text.find('.') == std::string::npos && text.find('e') == std::string::npos) text += ".0";
  return text;
}

std::string statsBlock(const StatsView& view) {
  return fmt::format(
      "Latency min/avg/max: {}/{}/{}\nReceived: {}\nSent: {}\nConnections: {}\nOutstanding: {}\n"
      "Zxid: 0x{:x}\nMode: {}\nNode count: {}\n",
      view.min_latency, javaDouble(view.avg_latency), view.max_latency, view.received, view.sent,
      view.connections, view.outstanding, view.zxid, view.mode, view.node_count);
}

nlohmann::json statsJson(const StatsView& view) {
  return {{"version", fullVersion()},
          {"read_only", false},
          {"server_stats",
           {{"packets_sent", view.sent},
            {"packets_received", view.received},
            {"max_latency", view.max_latency},
            {"min_latency", view.min_latency},
            {"avg_latency", view.avg_latency},
            {"outstanding_requests", view.outstanding},
            {"server_state", view.mode},
            {"num_alive_client_connections", view.connections},
            {"last_processed_zxid", view.zxid},
            {"data_dir_size", 0},
            {"log_dir_size", 0}}},
          {"client_response", {{"last_buffer_size", -1}, {"min_buffer_size", -1}, {"max_buffer_size", -1}}},
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

int64_t watchCount(const ServerInfo& info) {
  int64_t count = 0;
  info.processor->inspect([&] {
    count = static_cast<int64_t>(info.processor->dataWatches().watchCount() +
                                 info.processor->childWatches().watchCount());
  });
  return count;
}

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
                        output.data = statsJson(view);
                        output.text = "Zookeeper version: " + fullVersion() + "\n" + statsBlock(view);
                        return output;
                      }});
  commands.push_back({"stat", {}, "Server statistics and connected clients.", true,
                      [info](const sdk::CommandArgs&) {
                        auto view = statsOf(info);
                        sdk::CommandOutput output;
                        output.data = statsJson(view);
                        std::string text = "Zookeeper version: " + fullVersion() + "\nClients:\n";
                        for (const auto& connection : info.processor->connections()) {
                          text += fmt::format(" /{}:{}[1](queued={},recved=0,sent=0)\n", connection.remote_address,
                                              connection.remote_port, connection.queued);
                        }
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
                            {"secure_client_port", cfg.getInt("secureClientPort", -1)},
                            {"data_dir", abs(cfg.getString("dataDir"))},
                            {"data_dir_size", 0},
                            {"data_log_dir", abs(cfg.getString("dataLogDir"))},
                            {"data_log_size", 0},
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
                            data["client_port"].get<int64_t>(), data["secure_client_port"].get<int64_t>(),
                            data["data_dir"].get<std::string>(), data["data_log_dir"].get<std::string>(),
                            data["tick_time"].get<int64_t>(), data["max_client_cnxns"].get<int64_t>(),
                            data["min_session_timeout"].get<int64_t>(), data["max_session_timeout"].get<int64_t>(),
                            data["server_id"].get<int64_t>());
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
                        auto& stats = info.processor->stats();
                        rlimit limit{};
                        getrlimit(RLIMIT_NOFILE, &limit);
                        auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - info.started_at).count();
                        std::vector<std::pair<std::string, nlohmann::json>> metrics = {
                            {"version", fullVersion()},
                            {"server_state", view.mode},
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
                            {"global_sessions", stats.session_count.load()},
                            {"local_sessions", 0},
                            {"open_file_descriptor_count", openFileCount()},
                            {"max_file_descriptor_count", static_cast<int64_t>(limit.rlim_cur)},
                            {"connection_drop_probability", 0.0},
                            {"last_client_response_size", -1},
                            {"max_client_response_size", -1},
                            {"min_client_response_size", -1},
                            {"outstanding_tls_handshake", 0},
                            {"auth_failed_count", 0},
                            {"non_mtls_remote_conn_count", 0},
                            {"non_mtls_local_conn_count", 0}};
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
                      [](const sdk::CommandArgs&) {
                        sdk::CommandOutput output;
                        output.data["read_only"] = false;
                        output.text = "rw";
                        return output;
                      }});
  for (auto& command : commands) {
    if (auto status = registry.add(std::move(command)); !status.isOk()) return status;
  }
  return sdk::Status::ok();
}

}  // namespace corral::kernel::admin
