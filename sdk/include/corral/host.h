// Host services: what the kernel hands to every plugin at creation.
//
// Threading: every Host method is thread-safe. References returned by Host live until the
// process exits. A plugin keeps no global state of its own beyond what Host gives it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "corral/admission.h"
#include "corral/metrics.h"
#include "corral/status.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace corral::sdk {

enum class LogLevel : int { kTrace = 0, kDebug, kInfo, kWarn, kError, kCritical };

// A named logger (the plugin's name); the kernel routes it to stderr or the log file.
class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) noexcept = 0;
  virtual bool enabled(LogLevel level) const noexcept = 0;

  template <typename... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kInfo, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kWarn, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kError, format, std::forward<Args>(args)...);
  }
  template <typename... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    write(LogLevel::kDebug, format, std::forward<Args>(args)...);
  }

 private:
  template <typename... Args>
  void write(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) log(level, fmt::format(format, std::forward<Args>(args)...));
  }
};

// The plugin's view of the config file: ZooKeeper's keys and its own, with file:line.
class PluginConfig {
 public:
  virtual ~PluginConfig() = default;
  virtual std::optional<std::string> get(std::string_view key) const = 0;
  // "file:line" where the key was set, or "default" when it was not.
  virtual std::string where(std::string_view key) const = 0;

  std::string getOr(std::string_view key, std::string fallback) const {
    auto value = get(key);
    return value ? *value : std::move(fallback);
  }
  // Integer setting; a bad number is an InvalidConfig status naming file:line and key.
  Result<int64_t> getInt(std::string_view key, int64_t fallback) const;
  Result<bool> getBool(std::string_view key, bool fallback) const;
  // Integer setting within [low, high]; out of range is an InvalidConfig status naming
  // file:line, key, value and `range` (e.g. "1..65535").
  Result<int64_t> getIntIn(std::string_view key, int64_t fallback, int64_t low, int64_t high,
                           std::string_view range) const;
  // `key` when set, else `zookeeper.<key>` when that is set (ZooKeeper turns an unknown
  // zoo.cfg key K into the JVM property zookeeper.K, so both spellings are accepted), else `key`.
  std::string propertyKey(std::string_view key) const {
    if (get(key)) return std::string(key);
    std::string property = "zookeeper." + std::string(key);
    if (get(property)) return property;
    return std::string(key);
  }
};

class CommandRegistry;  // corral/admin.h
class Kernel;           // corral/kernel_services.h (request pipeline, sessions, watches)

class Host {
 public:
  virtual ~Host() = default;
  // A logger named after the plugin.
  virtual Logger& logger() noexcept = 0;
  virtual MetricsRegistry& metrics() noexcept = 0;
  // The shared event loop (run by the kernel on a few threads); use strands for order.
  virtual boost::asio::io_context& ioContext() noexcept = 0;
  // A small pool for blocking work (disk, DNS); never block ioContext() threads.
  virtual boost::asio::thread_pool& blockingPool() noexcept = 0;
  // Commands served by the admin plugins; any plugin may add its own.
  virtual CommandRegistry& commands() noexcept = 0;
  // The server id (myid); 0 for a standalone server.
  virtual int64_t serverId() const noexcept = 0;
  // Connection limits, globalOutstandingLimit, output limits and TLS shared by every front
  // end (admission.h). The kernel's host always provides the server's one; the default is
  // for hosts that serve no clients (tests of storage or ACL plugins).
  virtual ClientAdmission& admission() noexcept {
    static UnlimitedAdmission unlimited;
    return unlimited;
  }
};

inline Result<int64_t> PluginConfig::getInt(std::string_view key, int64_t fallback) const {
  auto value = get(key);
  if (!value) return fallback;
  try {
    size_t used = 0;
    int64_t parsed = std::stoll(*value, &used, 10);
    if (used == value->size()) return parsed;
  } catch (...) {
  }
  return Status(Code::kInvalidConfig,
                fmt::format("{}: {}={} is not an integer", where(key), key, *value));
}

inline Result<int64_t> PluginConfig::getIntIn(std::string_view key, int64_t fallback, int64_t low,
                                              int64_t high, std::string_view range) const {
  auto value = getInt(key, fallback);
  if (!value) return value;
  if (*value < low || *value > high) {
    return Status(Code::kInvalidConfig,
                  fmt::format("{}: {}={} is out of range ({})", where(key), key, *value, range));
  }
  return value;
}

inline Result<bool> PluginConfig::getBool(std::string_view key, bool fallback) const {
  auto value = get(key);
  if (!value) return fallback;
  if (*value == "true" || *value == "yes") return true;
  if (*value == "false" || *value == "no") return false;
  return Status(Code::kInvalidConfig,
                fmt::format("{}: {}={} is not a boolean (true/false/yes/no)", where(key), key,
                            *value));
}

}  // namespace corral::sdk
