// zoo.cfg settings from a map, and a logger that keeps its lines: what admission tests need
// of a host.
#pragma once

#include <initializer_list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "corral/host.h"

namespace corral::kernel::admission::testing {

class MapConfig final : public sdk::PluginConfig {
 public:
  explicit MapConfig(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values.begin(), values.end()) {}
  explicit MapConfig(const std::vector<std::pair<std::string, std::string>>& values)
      : values_(values.begin(), values.end()) {}
  std::optional<std::string> get(std::string_view key) const override {
    auto it = values_.find(key);
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  std::string where(std::string_view key) const override {
    return values_.count(key) ? "zoo.cfg:1" : "default";
  }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

class CapturingLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  bool enabled(sdk::LogLevel) const noexcept override { return true; }
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

}  // namespace corral::kernel::admission::testing
