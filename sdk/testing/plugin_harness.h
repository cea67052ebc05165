// What every conformance suite needs to run a plugin as corral-server does: a minimal host
// (logs to stderr, metrics, commands, an io_context and a blocking pool) and a config map.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/admin.h"
#include "corral/basic_metrics_registry.h"
#include "corral/host.h"

namespace corral::testing {

// A host with just enough for a plugin to be created: logs go to stderr.
class MinimalHost final : public sdk::Host {
 public:
  class StderrLogger final : public sdk::Logger {
   public:
    void log(sdk::LogLevel, std::string_view message) noexcept override {
      fprintf(stderr, "[plugin] %.*s\n", static_cast<int>(message.size()), message.data());
    }
    bool enabled(sdk::LogLevel level) const noexcept override { return level >= sdk::LogLevel::kInfo; }
  };
  class Commands final : public sdk::CommandRegistry {
   public:
    sdk::Status add(sdk::Command command) noexcept override {
      commands_.push_back(std::make_unique<sdk::Command>(std::move(command)));
      return sdk::Status::ok();
    }
    const sdk::Command* find(std::string_view name) const noexcept override {
      for (const auto& command : commands_) {
        if (command->name == name) return command.get();
      }
      return nullptr;
    }
    std::vector<const sdk::Command*> all() const override {
      std::vector<const sdk::Command*> result;
      for (const auto& command : commands_) result.push_back(command.get());
      return result;
    }

   private:
    std::vector<std::unique_ptr<sdk::Command>> commands_;
  };

  sdk::Logger& logger() noexcept override { return logger_; }
  sdk::MetricsRegistry& metrics() noexcept override { return metrics_; }
  boost::asio::io_context& ioContext() noexcept override { return io_; }
  boost::asio::thread_pool& blockingPool() noexcept override { return pool_; }
  sdk::CommandRegistry& commands() noexcept override { return commands_; }
  int64_t serverId() const noexcept override { return 0; }

 private:
  StderrLogger logger_;
  sdk::BasicMetricsRegistry metrics_;
  Commands commands_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{1};
};

class MapConfig final : public sdk::PluginConfig {
 public:
  explicit MapConfig(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  std::optional<std::string> get(std::string_view key) const override {
    auto it = values_.find(std::string(key));
    if (it == values_.end()) return std::nullopt;
    return it->second;
  }
  std::string where(std::string_view key) const override {
    return values_.count(std::string(key)) ? "test.cfg" : "default";
  }

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace corral::testing
