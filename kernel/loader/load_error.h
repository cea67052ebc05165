// Why a plugin could not be loaded. Each failure has its own process exit code so scripts
// and service managers can tell them apart; the message names the file and the cause.
#pragma once

#include <string>

namespace corral::kernel::loader {

enum class LoadFailure : int {
  kNone = 0,
  kFileMissing = 10,        // no libcorral_<kind>_<name>.so in any plugin folder
  kNotLoadable = 11,        // dlopen refused it (bad ELF, missing dependency, undefined symbol)
  kNoDescriptor = 12,       // a shared library without the corral_plugin symbol
  kAbiMismatch = 13,        // built against another SDK ABI version
  kBadDescriptor = 14,      // descriptor fields missing or malformed (no name, no factory)
  kWrongKind = 15,          // descriptor kind or name is not what the config asked for
  kDuplicateName = 16,      // two plugins with the same name
  kInvalidConfig = 17,      // the plugin's validate() refused its settings
  kFactoryFailed = 18,      // create() returned nothing
  kStartFailed = 19,        // start() failed
};

struct LoadError {
  LoadFailure failure = LoadFailure::kNone;
  std::string message;
  explicit operator bool() const noexcept { return failure != LoadFailure::kNone; }
};

}  // namespace corral::kernel::loader
