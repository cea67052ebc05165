#include "kernel/admission/admission_settings.h"

#include <algorithm>
#include <limits>
#include <utility>

#include <fmt/format.h>

#include "corral/jute.h"
#include "kernel/admission/setting_reading.h"

namespace corral::kernel::admission {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kIntMin = std::numeric_limits<int32_t>::min();
constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();

sdk::Status parseOutputLimits(const sdk::PluginConfig& config, sdk::OutputLimits& output) {
  auto max_buffer = config.getInt(settingKey(config, "jute.maxbuffer"), sdk::kJuteMaxBufferDefault);
  if (!max_buffer) return max_buffer.status();
  auto soft = intSetting(config, "clientOutput.softLimitBytes", sdk::OutputLimits{}.soft_bytes, 1,
                         kLongMax, "1 or more (bytes)");
  if (!soft) return soft.status();
  auto hard = intSetting(config, "clientOutput.hardLimitBytes", defaultOutputHardLimit(*max_buffer),
                         1, kLongMax, "1 or more (bytes)");
  if (!hard) return hard.status();
  if (*hard < *soft) {
    return invalidSetting(config, "clientOutput.hardLimitBytes",
                          fmt::format("clientOutput.hardLimitBytes ({}) must not be smaller than "
                                      "clientOutput.softLimitBytes ({})", *hard, *soft));
  }
  output.soft_bytes = *soft;
  output.hard_bytes = *hard;
  return sdk::Status::ok();
}

}  // namespace

int64_t defaultOutputHardLimit(int64_t jute_max_buffer) noexcept {
  return std::max<int64_t>(sdk::OutputLimits{}.hard_bytes, 4 * std::max<int64_t>(jute_max_buffer, 0));
}

sdk::Result<AdmissionSettings> parseAdmissionSettings(const sdk::PluginConfig& config) {
  AdmissionSettings settings;
  auto per_ip = intSetting(config, "maxClientCnxns", 60, 0, kIntMax, "0 (unlimited) or more");
  if (!per_ip) return per_ip.status();
  settings.max_client_cnxns = *per_ip;

  auto total = intSetting(config, settingKey(config, "maxCnxns"), 0, 0, kIntMax,
                          "0 (unlimited) or more");
  if (!total) return total.status();
  settings.max_cnxns = *total;

  // Any int is meaningful, as in ZooKeeper: with a limit <= 0 a connection is throttled as soon
  // as it has one request outstanding.
  auto outstanding = intSetting(config, settingKey(config, "globalOutstandingLimit"), 1000,
                                kIntMin, kIntMax, "an int");
  if (!outstanding) return outstanding.status();
  settings.global_outstanding_limit = *outstanding;

  if (auto status = parseOutputLimits(config, settings.output); !status.isOk()) return status;

  // ZooKeeper: secureClientPort 0 or unset means no secure port, and ssl.* are not read.
  auto secure = intSetting(config, "secureClientPort", 0, 0, 65535, "1..65535, or 0 for none");
  if (!secure) return secure.status();
  if (*secure != 0) {
    auto tls = parseTlsSettings(config);
    if (!tls) return tls.status();
    settings.tls = std::move(tls).value();
  }
  return settings;
}

}  // namespace corral::kernel::admission
