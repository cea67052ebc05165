#include "kernel/admission/admission_settings.h"

#include <limits>
#include <utility>

#include <fmt/format.h>

#include "kernel/admission/setting_reading.h"

namespace corral::kernel::admission {
namespace {

constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();
constexpr int64_t kIntMin = std::numeric_limits<int32_t>::min();

}  // namespace

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
