#include "kernel/admission/setting_reading.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace corral::kernel::admission {

std::string settingKey(const sdk::PluginConfig& config, std::string_view key) {
  if (config.get(key)) return std::string(key);
  std::string property = fmt::format("zookeeper.{}", key);
  if (config.get(property)) return property;
  return std::string(key);
}

sdk::Result<int64_t> intSetting(const sdk::PluginConfig& config, std::string_view key,
                                int64_t fallback, int64_t low, int64_t high,
                                std::string_view range) {
  auto value = config.getInt(key, fallback);
  if (!value) return value.status();
  if (*value < low || *value > high) {
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: {}={} is out of range ({})", config.where(key), key,
                                   *value, range));
  }
  return value;
}

sdk::Status invalidSetting(const sdk::PluginConfig& config, std::string_view key,
                           std::string_view what) {
  return sdk::Status(sdk::Code::kInvalidConfig, fmt::format("{}: {}", config.where(key), what));
}

std::string lowerCase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(begin, end - begin);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.front()))) item.remove_prefix(1);
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    begin = end + 1;
  }
  return out;
}

}  // namespace corral::kernel::admission
