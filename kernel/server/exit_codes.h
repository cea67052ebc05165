// Process exit codes of corral-server. Load failures use the loader's codes (10-19).
#pragma once

namespace corral::kernel::server {

enum class ExitCode : int {
  kOk = 0,
  kRuntimeError = 1,   // a fatal error while serving (failed fsync, diverged state)
  kConfigError = 2,    // the config file is missing, unreadable or wrong
  kUsage = 64,         // bad command line (EX_USAGE)
};

}  // namespace corral::kernel::server
