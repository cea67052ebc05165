// PurgeTxnLog: which snapshots and logs a data directory keeps (autopurge and "purge").
#pragma once

#include <filesystem>
#include <vector>

#include "corral/status.h"

namespace corral::plugins::memlog {

struct PurgeResult {
  std::vector<std::filesystem::path> removed;
  std::vector<std::filesystem::path> kept_snapshots;
};

// Keeps the `retain` newest valid snapshots and the logs needed after the oldest of them; deletes
// older snapshot.* and log.* files (retain is raised to 3 like ZooKeeper).
sdk::Result<PurgeResult> purge(const std::filesystem::path& snap_dir, const std::filesystem::path& log_dir,
                               int retain);

}  // namespace corral::plugins::memlog
