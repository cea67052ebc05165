// The files of a ZooKeeper 3.8 data directory (disk-formats.md §1): snapshot and txn log names,
// compression by name, listing and choosing the logs a recovery needs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"
#include "corral/types.h"

namespace corral::formats {

namespace fs = std::filesystem;

// ---- names ------------------------------------------------------------------------------------

enum class Compression { kNone, kGzip, kSnappy };

// ZooKeeper's zookeeper.snapshot.compression.method values: "" none, "gz", "snappy"; anything
// else selects no compression (SnapStream.getStreamMode).
Compression compressionFromSetting(std::string_view value);
std::string_view compressionName(Compression c);
// By file suffix (.gz / .snappy), as SnapStream.getStreamMode(fileName) does.
Compression compressionOfFile(const fs::path& file);

std::string logFileName(sdk::Zxid zxid);                          // "log.<hex>"
std::string snapshotFileName(sdk::Zxid zxid, Compression c);      // "snapshot.<hex>[.gz|.snappy]"

struct DataFile {
  fs::path path;
  sdk::Zxid zxid = 0;
};
// Files named "<prefix>.<hex>[.*]" in `dir`, ascending by zxid (Util.sortDataDir); names whose
// second part is not hex are ignored. A missing dir lists nothing.
std::vector<DataFile> listDataFiles(const fs::path& dir, std::string_view prefix);

// Util.getLogFiles: the logs that may hold txns after `snapshot_zxid`: the newest log starting at
// or before it, and every later one.
std::vector<DataFile> logsAfter(const std::vector<DataFile>& logs, sdk::Zxid snapshot_zxid);

}  // namespace corral::formats
