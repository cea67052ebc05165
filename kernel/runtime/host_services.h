// ServerContext owns what every component shares (event loop, blocking pool, metrics,
// commands) and points at the server's client admission; PluginHost is one plugin's
// sdk::Host view of it, with its own named logger.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/host.h"
#include "kernel/runtime/command_registry.h"
#include "kernel/runtime/logging.h"
#include "kernel/runtime/metrics_registry.h"

namespace corral::kernel::runtime {

class ServerContext {
 public:
  ServerContext(int io_threads, int blocking_threads, int64_t server_id);
  ~ServerContext();

  // Runs the event loop on `io_threads` threads until stopThreads().
  void startThreads();
  void stopThreads();

  boost::asio::io_context& io() { return io_; }
  boost::asio::thread_pool& blockingPool() { return blocking_pool_; }
  MetricsRegistryImpl& metrics() { return metrics_; }
  CommandRegistryImpl& commands() { return commands_; }
  int64_t serverId() const { return server_id_; }
  // The server's client admission (kernel/admission), owned by the caller and set before any
  // plugin is created; it must outlive every plugin.
  void setAdmission(sdk::ClientAdmission& admission) { admission_ = &admission; }
  sdk::ClientAdmission* admission() const { return admission_; }

 private:
  int io_threads_;
  int64_t server_id_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::thread_pool blocking_pool_;
  MetricsRegistryImpl metrics_;
  CommandRegistryImpl commands_;
  sdk::ClientAdmission* admission_ = nullptr;
  std::vector<std::thread> threads_;
};

class PluginHost final : public sdk::Host {
 public:
  PluginHost(ServerContext& context, const std::string& plugin_name);

  sdk::Logger& logger() noexcept override { return logger_; }
  sdk::MetricsRegistry& metrics() noexcept override { return context_.metrics(); }
  boost::asio::io_context& ioContext() noexcept override { return context_.io(); }
  boost::asio::thread_pool& blockingPool() noexcept override { return context_.blockingPool(); }
  sdk::CommandRegistry& commands() noexcept override { return context_.commands(); }
  int64_t serverId() const noexcept override { return context_.serverId(); }
  sdk::ClientAdmission& admission() noexcept override {
    sdk::ClientAdmission* admission = context_.admission();
    return admission != nullptr ? *admission : sdk::Host::admission();
  }

 private:
  ServerContext& context_;
  SpdLogger logger_;
};

}  // namespace corral::kernel::runtime
