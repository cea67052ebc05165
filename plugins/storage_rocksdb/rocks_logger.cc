#include "rocks_logger.h"

#include <cstdio>
#include <string>

namespace corral::plugins::rocks {

namespace {

sdk::LogLevel levelOf(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL: return sdk::LogLevel::kTrace;
    case rocksdb::InfoLogLevel::INFO_LEVEL: return sdk::LogLevel::kDebug;
    case rocksdb::InfoLogLevel::WARN_LEVEL: return sdk::LogLevel::kWarn;
    case rocksdb::InfoLogLevel::HEADER_LEVEL: return sdk::LogLevel::kDebug;
    default: return sdk::LogLevel::kError;  // ERROR, FATAL
  }
}

}  // namespace

RocksLogger::RocksLogger(sdk::Logger& out) : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), out_(out) {}

void RocksLogger::Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) {
  const auto mapped = levelOf(level);
  if (!out_.enabled(mapped)) return;
  char stack[1024];
  va_list copy;
  va_copy(copy, ap);
  const int needed = std::vsnprintf(stack, sizeof stack, format, copy);
  va_end(copy);
  if (needed < 0) return;
  if (static_cast<size_t>(needed) < sizeof stack) {
    out_.log(mapped, "rocksdb: " + std::string(stack, static_cast<size_t>(needed)));
    return;
  }
  std::string message(static_cast<size_t>(needed) + 1, '\0');
  std::vsnprintf(message.data(), message.size(), format, ap);
  message.pop_back();
  out_.log(mapped, "rocksdb: " + message);
}

}  // namespace corral::plugins::rocks
