#include "kernel/runtime/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include "kernel/runtime/journal_stream.h"

#include <mutex>
#include <tuple>
#include <utility>

namespace corral::kernel::runtime {
namespace {

std::mutex sink_mutex;
std::mutex registry_mutex;  // get-or-create of named loggers
spdlog::sink_ptr shared_sink;
spdlog::level::level_enum shared_level = spdlog::level::info;
bool shared_sink_is_journal = false;

// The journal stamps time, priority and process itself: a line there needs only its source.
constexpr const char* kStreamPattern = "%Y-%m-%d %H:%M:%S.%e [%l] [%n] %v";
constexpr const char* kJournalPattern = "[%n] %v";

// Standard error, or the journal natively when standard error is the journal (a systemd
// unit): each line then keeps its priority (journalctl -p warning) and the identifier
// corral-server.
std::pair<spdlog::sink_ptr, bool> consoleSink() {
  if (stderrIsJournal()) {
    return {std::make_shared<spdlog::sinks::systemd_sink_mt>("corral-server", true), true};
  }
  return {std::make_shared<spdlog::sinks::stderr_sink_mt>(), false};
}

// The shared sink and the line pattern that goes with it, taken together: a logger made while
// configureLogging() switches sinks gets a matching pair.
std::pair<spdlog::sink_ptr, const char*> sinkAndPattern() {
  std::lock_guard lock(sink_mutex);
  if (!shared_sink) std::tie(shared_sink, shared_sink_is_journal) = consoleSink();
  return {shared_sink, shared_sink_is_journal ? kJournalPattern : kStreamPattern};
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
  bool journal = false;
  if (file.empty()) {
    std::tie(new_sink, journal) = consoleSink();
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
    shared_sink_is_journal = journal;
    shared_level = parsed;
  }
  const char* line_pattern = journal ? kJournalPattern : kStreamPattern;
  // Loggers created before this point (the kernel's) move to the new sink.
  spdlog::apply_all([&](const std::shared_ptr<spdlog::logger>& logger) {
    logger->sinks().clear();
    logger->sinks().push_back(new_sink);
    logger->set_pattern(line_pattern);
    logger->set_level(parsed);
  });
  return sdk::Status::ok();
}

std::shared_ptr<spdlog::logger> namedLog(const std::string& name) {
  std::lock_guard registry_lock(registry_mutex);
  if (auto existing = spdlog::get(name)) return existing;
  auto [shared, line_pattern] = sinkAndPattern();
  auto logger = std::make_shared<spdlog::logger>(name, shared);
  logger->set_pattern(line_pattern);
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
