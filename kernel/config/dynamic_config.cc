#include "kernel/config/dynamic_config.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>

namespace corral::kernel::config {
namespace {

using sdk::Code;
using sdk::Status;

Status invalid(std::string message) { return Status(Code::kInvalidConfig, std::move(message)); }

bool isMembershipKey(const std::string& key) {
  return key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight");
}

const ConfigEntry* lastEntry(const ConfigFile& file, std::string_view key) {
  const ConfigEntry* found = nullptr;
  for (const auto& entry : file.entries) {
    if (entry.key == key) found = &entry;
  }
  return found;
}

// `<dataDir>/<zoo.cfg's name>.dynamic.<hex>` with the highest version, if any.
std::optional<DynamicConfigSource> newestInDataDir(const ConfigFile& file) {
  const ConfigEntry* data_dir = lastEntry(file, "dataDir");
  if (data_dir == nullptr || file.name.empty()) return std::nullopt;
  const std::string prefix = std::filesystem::path(file.name).filename().string() + ".dynamic.";
  std::error_code error;
  std::optional<DynamicConfigSource> best;
  for (const auto& item : std::filesystem::directory_iterator(data_dir->value, error)) {
    const std::string name = item.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    auto version = versionFromFileName(name);
    if (!version || (best && best->version >= *version)) continue;
    best = DynamicConfigSource{item.path().string(), *version};
  }
  return best;
}

}  // namespace

std::optional<int64_t> versionFromFileName(const std::string& path) {
  const auto dot = path.rfind('.');
  if (dot == std::string::npos || dot + 1 >= path.size() || path.size() - dot - 1 > 16) return std::nullopt;
  uint64_t value = 0;
  for (char c : path.substr(dot + 1)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    if (digit < 0) return std::nullopt;
    value = value * 16 + static_cast<uint64_t>(digit);
  }
  return static_cast<int64_t>(value);
}

sdk::Result<DynamicConfigSource> mergeDynamicConfig(ConfigFile& file) {
  DynamicConfigSource source;
  if (const ConfigEntry* named = lastEntry(file, "dynamicConfigFile")) {
    for (const auto& entry : file.entries) {
      if (isMembershipKey(entry.key)) {
        return invalid(fmt::format("{}:{}: {} must be in the dynamic config file ({}), not in {}", file.name,
                                   entry.line, entry.key, named->value, file.name));
      }
    }
    source.path = named->value;
    source.version = versionFromFileName(named->value).value_or(0);
  }
  if (auto newer = newestInDataDir(file); newer && (source.path.empty() || newer->version > source.version)) {
    // Only a file written because zoo.cfg's folder was read-only is found here, so it is
    // newer than the static membership too.
    bool static_members = false;
    for (const auto& entry : file.entries) static_members |= isMembershipKey(entry.key);
    if (!source.path.empty() || static_members) source = *newer;
  }
  if (source.path.empty()) return source;

  auto dynamic = parseConfigFile(source.path);
  if (!dynamic.isOk()) {
    return invalid(fmt::format("{}: dynamicConfigFile: {}", file.name, dynamic.status().message()));
  }
  std::vector<ConfigEntry> members;
  for (auto& entry : dynamic->entries) {
    if (entry.key == "version") {
      return invalid(fmt::format("{}:{}: a dynamic config file holds no version (its name does)", source.path,
                                 entry.line));
    }
    if (!isMembershipKey(entry.key)) {
      return invalid(fmt::format("{}:{}: {}: only server.N, group.N and weight.N lines belong in a dynamic "
                                 "config file",
                                 source.path, entry.line, entry.key));
    }
    entry.file = source.path;
    members.push_back(std::move(entry));
  }
  // A dataDir copy replaces the static members it is newer than.
  std::erase_if(file.entries, [](const ConfigEntry& entry) { return isMembershipKey(entry.key); });
  for (auto& entry : members) file.entries.push_back(std::move(entry));
  return source;
}

}  // namespace corral::kernel::config
