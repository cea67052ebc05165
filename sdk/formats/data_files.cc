#include "corral/formats/data_files.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;

Compression compressionFromSetting(std::string_view value) {
  if (value == "gz") return Compression::kGzip;
  if (value == "snappy") return Compression::kSnappy;
  return Compression::kNone;
}

std::string_view compressionName(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gz";
    case Compression::kSnappy: return "snappy";
    case Compression::kNone: break;
  }
  return "";
}

Compression compressionOfFile(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".gz") return Compression::kGzip;
  if (ext == ".snappy") return Compression::kSnappy;
  return Compression::kNone;
}

std::string logFileName(Zxid zxid) { return fmt::format("log.{:x}", static_cast<uint64_t>(zxid)); }

std::string snapshotFileName(Zxid zxid, Compression c) {
  std::string name = fmt::format("snapshot.{:x}", static_cast<uint64_t>(zxid));
  if (c != Compression::kNone) {
    name += '.';
    name += compressionName(c);
  }
  return name;
}

std::vector<DataFile> listDataFiles(const fs::path& dir, std::string_view prefix) {
  std::vector<DataFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Util.getZxidFromName: split on '.', part 0 must be the prefix, part 1 a hex long.
    const size_t dot = name.find('.');
    if (dot == std::string::npos || std::string_view(name).substr(0, dot) != prefix) continue;
    const size_t next = name.find('.', dot + 1);
    const std::string_view hexpart =
        std::string_view(name).substr(dot + 1, next == std::string::npos ? std::string::npos : next - dot - 1);
    uint64_t zxid = 0;
    auto [ptr, err] = std::from_chars(hexpart.data(), hexpart.data() + hexpart.size(), zxid, 16);
    if (err != std::errc() || ptr != hexpart.data() + hexpart.size() || hexpart.empty()) continue;
    if (!it->is_regular_file(ec)) continue;
    out.push_back({it->path(), static_cast<Zxid>(zxid)});
  }
  std::sort(out.begin(), out.end(), [](const DataFile& a, const DataFile& b) {
    return a.zxid != b.zxid ? a.zxid < b.zxid : a.path < b.path;
  });
  return out;
}

std::vector<DataFile> logsAfter(const std::vector<DataFile>& logs, Zxid snapshot_zxid) {
  Zxid start = 0;
  for (const auto& log : logs) {
    if (log.zxid > snapshot_zxid) break;
    if (log.zxid > start) start = log.zxid;
  }
  std::vector<DataFile> out;
  for (const auto& log : logs) {
    if (log.zxid >= start) out.push_back(log);
  }
  return out;
}

}  // namespace corral::formats
