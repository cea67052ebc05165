// Process logging: one spdlog sink (stderr or a file) shared by the kernel and every plugin.
// Plugins see it through sdk::Logger, one named logger each.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::kernel::runtime {

// Sets up the process-wide sink. `file` empty = stderr. `level` is trace|debug|info|warn|error.
sdk::Status configureLogging(const std::string& file, const std::string& level);

// The kernel's own logger.
spdlog::logger& kernelLog();

// A logger named `name` writing to the shared sink.
std::shared_ptr<spdlog::logger> namedLog(const std::string& name);

// sdk::Logger backed by a named spdlog logger.
class SpdLogger final : public sdk::Logger {
 public:
  explicit SpdLogger(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}
  void log(sdk::LogLevel level, std::string_view message) noexcept override;
  bool enabled(sdk::LogLevel level) const noexcept override;

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace corral::kernel::runtime
