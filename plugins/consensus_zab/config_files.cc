#include "config_files.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace corral::plugins::zab {
namespace {

namespace fs = std::filesystem;

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The key of a java.util.Properties line (up to the first unescaped '=', ':' or blank), or
// "" for a comment or blank line.
std::string propertyKey(const std::string& line) {
  size_t begin = line.find_first_not_of(" \t\f");
  if (begin == std::string::npos || line[begin] == '#' || line[begin] == '!') return {};
  std::string key;
  for (size_t i = begin; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      key += line[++i];
      continue;
    }
    if (c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f') break;
    key += c;
  }
  return key;
}

bool dropFromStatic(const std::string& key, bool erase_client) {
  return key.starts_with("server.") || key.starts_with("group") || key.starts_with("weight") ||
         key.starts_with("dynamicConfigFile") || key.starts_with("peerType") ||
         (erase_client && key.starts_with("clientPort"));
}

}  // namespace

ConfigFiles::ConfigFiles(std::string static_file, std::string data_dir, sdk::Logger& log)
    : static_file_(std::move(static_file)), log_(log) {
  std::error_code error;
  fs::path folder = fs::absolute(fs::path(static_file_), error).parent_path();
  if (folder.empty()) folder = ".";
  if (::access(folder.c_str(), W_OK) == 0) {
    folder_ = folder.string();
  } else {
    beside_static_ = false;
    folder_ = data_dir;
    log_.info("zab: {} is not writable: dynamic config files go to {}", folder.string(), data_dir);
  }
}

std::string ConfigFiles::pathFor(const std::string& suffix) const {
  if (beside_static_) return static_file_ + suffix;
  return (fs::path(folder_) / (fs::path(static_file_).filename().string() + suffix)).string();
}

bool ConfigFiles::writeAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      log_.error("zab: cannot write {}", temporary);
      return false;
    }
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    log_.error("zab: cannot rename {} to {}: {}", temporary, path, error.message());
    return false;
  }
  return true;
}

void ConfigFiles::backupStatic() {
  if (!beside_static_) return;
  if (auto text = readFile(static_file_)) writeAtomically(static_file_ + ".bak", *text);
}

void ConfigFiles::writeNext(const QuorumConfig& config) { writeAtomically(pathFor(".dynamic.next"), config.dynamicFileText(true)); }

void ConfigFiles::removeNext() {
  std::error_code error;
  fs::remove(pathFor(".dynamic.next"), error);
}

std::optional<QuorumConfig> ConfigFiles::readNext() const {
  auto text = readFile(pathFor(".dynamic.next"));
  if (!text) return std::nullopt;
  auto parsed = QuorumConfig::parse(*text);
  if (!parsed.isOk()) {
    log_.warn("zab: ignoring {}: {}", pathFor(".dynamic.next"), parsed.status().message());
    return std::nullopt;
  }
  return std::move(parsed).value();
}

void ConfigFiles::writeActive(const QuorumConfig& config, bool erase_client) {
  const std::string dynamic = pathFor(fmt::format(".dynamic.{:x}", config.version()));
  if (!writeAtomically(dynamic, config.dynamicFileText(false))) return;
  if (beside_static_) editStatic(dynamic, erase_client);
  log_.info("zab: config version {:x} written to {}", config.version(), dynamic);
}

// QuorumPeerConfig.editStaticConfig, keeping the file's order and comments (ZooKeeper
// rewrites it in hash order and drops them).
void ConfigFiles::editStatic(const std::string& dynamic_path, bool erase_client) {
  auto text = readFile(static_file_);
  if (!text) {
    log_.error("zab: cannot read {} to point it at {}", static_file_, dynamic_path);
    return;
  }
  std::istringstream lines(*text);
  std::string out;
  std::string line;
  while (std::getline(lines, line)) {
    if (dropFromStatic(propertyKey(line), erase_client)) continue;
    out += line + "\n";
  }
  std::error_code error;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(dynamic_path, error), error);
  out += "dynamicConfigFile=" + canonical.string() + "\n";
  writeAtomically(static_file_, out);
}

}  // namespace corral::plugins::zab
