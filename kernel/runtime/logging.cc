#include "kernel/runtime/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace corral::kernel::runtime {
namespace {

std::mutex sink_mutex;
std::mutex registry_mutex;  // get-or-create of named loggers
spdlog::sink_ptr shared_sink;
spdlog::level::level_enum shared_level = spdlog::level::info;

spdlog::sink_ptr sink() {
  std::lock_guard lock(sink_mutex);
  if (!shared_sink) shared_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  return shared_sink;
}

spdlog::level::level_enum toSpd(sdk::LogLevel level) {
  switch (level) {
    case sdk::LogLevel::kTrace: return spdlog::level::trace;
    case sdk::LogLevel::kDebug: return spdlog::level::debug;
    case sdk::LogLevel::kInfo: return spdlog::level::info;
    case sdk::LogLevel::kWarn: return spdlog::level::warn;
    case sdk::LogLevel::kError: return spdlog::level::err;
    case sdk::LogLevel::kCritical: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

sdk::Status configureLogging(const std::string& file, const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") {
    return {sdk::Code::kInvalidConfig,
            "log.level=" + level + ": expected trace, debug, info, warn or error"};
  }
  spdlog::sink_ptr new_sink;
  if (file.empty()) {
    new_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    try {
      new_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false);
    } catch (const std::exception& error) {
      return {sdk::Code::kInvalidConfig, "log.file=" + file + ": " + error.what()};
    }
  }
  {
    std::lock_guard lock(sink_mutex);
    shared_sink = new_sink;
    shared_level = parsed;
  }
  // Loggers created before this point (the kernel's) move to the new sink.
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks().clear();
    logger->sinks().push_back(new_sink);
    logger->set_level(parsed);
  });
  return sdk::Status::ok();
}

std::shared_ptr<spdlog::logger> namedLog(const std::string& name) {
  std::lock_guard registry_lock(registry_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, sink());
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] [%n] %v");
  {
    std::lock_guard lock(sink_mutex);
    logger->set_level(shared_level);
  }
  logger->flush_on(spdlog::level::info);
  spdlog::register_logger(logger);
  return logger;
}

spdlog::logger& kernelLog() {
  static std::shared_ptr<spdlog::logger> logger = namedLog("kernel");
  return *logger;
}

void SpdLogger::log(sdk::LogLevel level, std::string_view message) noexcept {
  try {
    logger_->log(toSpd(level), message);
  } catch (...) {
    // Logging must never take the server down.
  }
}

bool SpdLogger::enabled(sdk::LogLevel level) const noexcept {
  return logger_->should_log(toSpd(level));
}

}  // namespace corral::kernel::runtime
