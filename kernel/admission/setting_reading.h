// Small helpers to read ZooKeeper's keys through sdk::PluginConfig with ZooKeeper's rules and
// messages that name file:line and key (shared by the admission settings and ssl.* parsing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::kernel::admission {

// `key` if set, else `zookeeper.<key>` (ZooKeeper turns an unknown zoo.cfg key K into the
// JVM property zookeeper.K, so property-style settings come in both spellings).
std::string settingKey(const sdk::PluginConfig& config, std::string_view key);

// An integer setting within [low, high]; `fallback` when unset. `range` describes the bounds
// in the message ("0 (unlimited) or more").
sdk::Result<int64_t> intSetting(const sdk::PluginConfig& config, std::string_view key,
                                int64_t fallback, int64_t low, int64_t high,
                                std::string_view range);

// "file:line: what" as an InvalidConfig status.
sdk::Status invalidSetting(const sdk::PluginConfig& config, std::string_view key,
                           std::string_view what);

std::string lowerCase(std::string_view text);
// Comma list: elements trimmed, empty ones dropped.
std::vector<std::string> splitList(std::string_view text);

}  // namespace corral::kernel::admission
