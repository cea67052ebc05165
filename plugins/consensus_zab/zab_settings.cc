#include "zab_settings.h"

#include <fmt/format.h>

namespace corral::plugins::zab {

sdk::Result<ZabSettings> readZabSettings(const sdk::PluginConfig& config) {
  ZabSettings s;
  auto dir = config.get("dataDir");
  if (!dir) return sdk::Status(sdk::Code::kInvalidConfig, "consensus.zab: dataDir is not set");
  s.data_dir = *dir;
  struct IntKey {
    const char* key;
    int64_t* target;
    int64_t min;
  };
  int64_t max_buffer = 1048575;
  int64_t extra = 1024;
  for (auto [key, target, min] : {IntKey{"tickTime", &s.tick_ms, 1}, IntKey{"initLimit", &s.init_limit, 1},
                                  IntKey{"syncLimit", &s.sync_limit, 1},
                                  IntKey{"connectToLearnerMasterLimit", &s.connect_limit, 0},
                                  IntKey{"cnxTimeout", &s.cnx_timeout_ms, 1},
                                  IntKey{"commitLogCount", &s.commit_log_count, 0},
                                  IntKey{"fastleader.minNotificationInterval", &s.min_notification_ms, 1},
                                  IntKey{"fastleader.maxNotificationInterval", &s.max_notification_ms, 1},
                                  IntKey{"observerMasterPort", &s.observer_master_port, 0},
                                  IntKey{"observer.reconnectDelayMs", &s.observer_reconnect_delay_ms, 0},
                                  IntKey{"observer.election.DelayMs", &s.observer_election_delay_ms, 0},
                                  IntKey{"jute.maxbuffer", &max_buffer, 1},
                                  IntKey{"jute.maxbuffer.extrasize", &extra, 0}}) {
    auto value = config.getInt(key, *target);
    if (!value) return value.status();
    if (*value < min) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         fmt::format("{}: {}={} must be at least {}", config.where(key), key, *value, min));
    }
    *target = *value;
  }
  if (s.connect_limit == 0) s.connect_limit = s.init_limit;
  if (s.max_notification_ms < s.min_notification_ms) s.max_notification_ms = s.min_notification_ms;
  s.max_packet_data = static_cast<size_t>(max_buffer + extra);
  auto client_port = config.getInt("clientPort", 0);
  if (client_port && *client_port > 0) {
    const std::string host = config.getOr("clientPortAddress", "0.0.0.0");
    s.client_address = host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, *client_port)
                                                            : fmt::format("{}:{}", host, *client_port);
  }
  if (auto factor = config.get("snapshotSizeFactor")) {
    try {
      size_t used = 0;
      s.snapshot_size_factor = std::stod(*factor, &used);
      if (used != factor->size()) throw std::invalid_argument("trailing");
    } catch (...) {
      return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: snapshotSizeFactor={} is not a number",
                                                                config.where("snapshotSizeFactor"), *factor));
    }
  }
  for (auto [key, target] : {std::pair{"leaderServes", &s.leader_serves},
                             std::pair{"quorumListenOnAllIPs", &s.listen_on_all_ips},
                             std::pair{"forceSnapshotSync", &s.force_snapshot_sync},
                             std::pair{"syncEnabled", &s.sync_enabled},
                             std::pair{"standaloneEnabled", &s.standalone_enabled}}) {
    auto value = config.getBool(key, *target);
    if (!value) return value.status();
    *target = *value;
  }
  return s;
}

}  // namespace corral::plugins::zab
