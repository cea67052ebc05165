// An sdk::Host for unit tests of plugins and kernel parts: the kernel's own metrics and
// command registries, a logger that keeps nothing, an io_context nobody runs unless the test
// does, and a one-thread blocking pool. Header-only; link corral_kernel_runtime.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/host.h"
#include "kernel/runtime/command_registry.h"
#include "kernel/runtime/metrics_registry.h"

namespace corral::testing {

class QuietLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel, std::string_view) noexcept override {}
  bool enabled(sdk::LogLevel) const noexcept override { return false; }
};

class RuntimeTestHost final : public sdk::Host {
 public:
  sdk::Logger& logger() noexcept override { return logger_; }
  sdk::MetricsRegistry& metrics() noexcept override { return metrics_; }
  boost::asio::io_context& ioContext() noexcept override { return io_; }
  boost::asio::thread_pool& blockingPool() noexcept override { return pool_; }
  sdk::CommandRegistry& commands() noexcept override { return commands_; }
  int64_t serverId() const noexcept override { return 0; }
  kernel::runtime::MetricsRegistryImpl& registry() { return metrics_; }

 private:
  QuietLogger logger_;
  kernel::runtime::MetricsRegistryImpl metrics_;
  kernel::runtime::CommandRegistryImpl commands_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace corral::testing
