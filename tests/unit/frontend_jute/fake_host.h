// A minimal sdk::Host for frontend.jute tests: an io_context run on two threads, a one-thread
// blocking pool, a capturing logger, plain metrics and command registries, and the kernel's
// own client admission (kernel/admission) so limits behave exactly as in the server.
#pragma once

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "corral/basic_metrics_registry.h"
#include "corral/admin.h"
#include "corral/host.h"
#include "kernel/admission/client_admission_service.h"

namespace corral::plugins::jute::testing {

class CapturingLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel level, std::string_view message) noexcept override;
  bool enabled(sdk::LogLevel) const noexcept override { return true; }
  bool contains(std::string_view text) const;
  // Waits until a line containing `text` is logged; false on timeout.
  bool waitFor(std::string_view text, std::chrono::milliseconds timeout);
  std::vector<std::string> lines() const;

 private:
  bool containsLocked(std::string_view text) const;

  mutable std::mutex mutex_;
  std::condition_variable logged_;
  std::vector<std::string> lines_;
};

using SimpleMetrics = sdk::BasicMetricsRegistry;

class SimpleCommands final : public sdk::CommandRegistry {
 public:
  sdk::Status add(sdk::Command command) noexcept override;
  const sdk::Command* find(std::string_view name_or_alias) const noexcept override;
  std::vector<const sdk::Command*> all() const override;

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<sdk::Command>> commands_;
};

class FakeHost final : public sdk::Host {
 public:
  FakeHost();
  ~FakeHost() override;

  sdk::Logger& logger() noexcept override { return logger_; }
  sdk::MetricsRegistry& metrics() noexcept override { return metrics_; }
  boost::asio::io_context& ioContext() noexcept override;
  boost::asio::thread_pool& blockingPool() noexcept override;
  sdk::CommandRegistry& commands() noexcept override { return commands_; }
  int64_t serverId() const noexcept override { return 0; }
  sdk::ClientAdmission& admission() noexcept override { return *admission_; }

  // Replaces the admission with one built from `settings`; only before a front end is made.
  // A TLS context is built when settings.tls is set (start() must succeed).
  void setAdmissionSettings(kernel::admission::AdmissionSettings settings);
  kernel::admission::ClientAdmissionService& admissionService() { return *admission_; }

  CapturingLogger& log() { return logger_; }
  SimpleMetrics& simpleMetrics() { return metrics_; }

 private:
  struct Loop;
  CapturingLogger logger_;
  SimpleMetrics metrics_;
  SimpleCommands commands_;
  std::unique_ptr<kernel::admission::ClientAdmissionService> admission_;
  std::unique_ptr<Loop> loop_;
};

// zoo.cfg settings from a map.
class MapConfig final : public sdk::PluginConfig {
 public:
  MapConfig() = default;
  explicit MapConfig(std::initializer_list<std::pair<const std::string, std::string>> values)
      : values_(values.begin(), values.end()) {}
  explicit MapConfig(const std::vector<std::pair<std::string, std::string>>& values)
      : values_(values.begin(), values.end()) {}
  std::optional<std::string> get(std::string_view key) const override;
  std::string where(std::string_view key) const override;

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace corral::plugins::jute::testing
