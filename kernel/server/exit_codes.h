// Process exit codes of corral-server. Load failures use the loader's codes (10-19).
#pragma once

namespace corral::kernel::server {

enum class ExitCode : int {
  kOk = 0,
  kRuntimeError = 1,   // a fatal error while serving (failed fsync, diverged state)
  kConfigError = 2,    // the config file is missing, unreadable or wrong
  // ZooKeeper 3.8's own codes where Corral stands in for the same part (admin_plugins.h):
  kMetricsProviderFailed = 1,  // UNEXPECTED_ERROR after "Cannot boot MetricsProvider"
  kAdminServerFailed = 4,      // ERROR_STARTING_ADMIN_SERVER
  kUsage = 64,         // bad command line (EX_USAGE)
};

}  // namespace corral::kernel::server
