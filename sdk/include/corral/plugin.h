// The plugin descriptor: the one symbol a Corral plugin exports.
//
// Contract
// - A plugin is a shared library named libcorral_<kind>_<name>.so that exports exactly one
//   PluginDescriptor through CORRAL_PLUGIN(...) (a BOOST_DLL_ALIAS named "corral_plugin").
// - The loader reads `abi_version` before it touches anything else in the descriptor; a
//   plugin built against another SDK ABI is refused without calling into it.
// - `validate` is called for every plugin before any plugin is created; `create` after all
//   validations passed. Both are noexcept: exceptions never cross the plugin boundary.
// - Libraries stay loaded until the process exits, so objects created by a plugin never
//   outlive their code.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include <boost/config.hpp>
#include <boost/dll/alias.hpp>

#include "corral/status.h"

namespace corral::sdk {

// Bump on any change to a type or virtual interface a plugin sees.
constexpr uint32_t kAbiVersion = 7;  // 7: Storage::writable(); 6: reconfig (Consensus::prepareReconfig, ConsensusHost::configActivated, Storage::setConfigNode); 5: Storage::sessions(), ConsensusHost::stateReplaced() (4: storage v2)

enum class PluginKind : uint32_t {
  kStorage = 1,
  kConsensus = 2,
  kFrontend = 3,
  kAcl = 4,
  kAdmin = 5,
};

constexpr std::string_view kindName(PluginKind kind) noexcept {
  switch (kind) {
    case PluginKind::kStorage: return "storage";
    case PluginKind::kConsensus: return "consensus";
    case PluginKind::kFrontend: return "frontend";
    case PluginKind::kAcl: return "acl";
    case PluginKind::kAdmin: return "admin";
  }
  return "unknown";
}

class Host;
class PluginConfig;

// Base of every plugin object. The kernel calls start() in dependency order (storage,
// consensus, pipeline, acl, frontends, admin) and stop() in reverse, from one thread.
class BOOST_SYMBOL_VISIBLE Plugin {
 public:
  virtual ~Plugin() = default;
  // Open ports, files, threads. A failed start stops the server before any port opens
  // (front ends and admin start last).
  virtual Status start() noexcept { return Status::ok(); }
  // Release everything start() took; must be safe after a failed or absent start().
  virtual void stop() noexcept {}
};

// Validate the plugin's settings; do not open anything. Message names the key.
using ValidateFn = Status (*)(const PluginConfig& config) noexcept;
// Create the plugin object (not started). On failure return nullptr and set *error.
using CreateFn = Plugin* (*)(Host& host, const PluginConfig& config, Status* error) noexcept;

// The exported descriptor. Field order is part of the ABI: abi_version stays first.
struct PluginDescriptor {
  uint32_t abi_version;
  PluginKind kind;
  const char* name;         // "<kind>.<name>", e.g. "storage.memlog"
  const char* version;      // the plugin's own version, e.g. "0.1.0"
  const char* summary;      // one line for logs and `corral-server --list-plugins`
  const char* const* keys;  // config keys the plugin owns (nullptr-terminated), beyond ZooKeeper's
  ValidateFn validate;
  CreateFn create;
};

inline constexpr const char* kDescriptorSymbol = "corral_plugin";

}  // namespace corral::sdk

// Export `descriptor` (a namespace-scope corral::sdk::PluginDescriptor) from this library.
#define CORRAL_PLUGIN(descriptor) BOOST_DLL_ALIAS(descriptor, corral_plugin)
