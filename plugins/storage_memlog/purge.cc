#include "purge.h"

#include <algorithm>
#include <set>

#include "corral/formats/data_files.h"
#include "corral/formats/snapshot_codec.h"

namespace corral::plugins::memlog {

namespace fs = std::filesystem;
using formats::DataFile;
using sdk::Result;
using sdk::Zxid;

Result<PurgeResult> purge(const fs::path& snap_dir, const fs::path& log_dir, int retain) {
  retain = std::max(retain, 3);
  PurgeResult result;
  auto snaps = formats::listDataFiles(snap_dir, "snapshot");
  // FileTxnSnapLog.findNValidSnapshots: newest first, valid ones only.
  std::vector<DataFile> valid;
  for (auto it = snaps.rbegin(); it != snaps.rend() && static_cast<int>(valid.size()) < retain; ++it) {
    if (formats::looksLikeValidSnapshot(it->path)) valid.push_back(*it);
  }
  if (valid.empty()) return result;
  for (const auto& v : valid) result.kept_snapshots.push_back(v.path);
  const Zxid least = valid.back().zxid;
  auto logs = formats::listDataFiles(log_dir, "log");
  std::set<fs::path> retained_logs;
  for (const auto& log : formats::logsAfter(logs, least)) retained_logs.insert(log.path);
  auto remove = [&](const DataFile& f) {
    std::error_code ec;
    if (fs::remove(f.path, ec)) result.removed.push_back(f.path);
  };
  for (const auto& log : logs) {
    if (log.zxid < least && !retained_logs.count(log.path)) remove(log);
  }
  for (const auto& snap : snaps) {
    if (snap.zxid < least) remove(snap);
  }
  return result;
}

}  // namespace corral::plugins::memlog
