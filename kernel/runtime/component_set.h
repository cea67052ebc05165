// ComponentSet starts plugins in dependency order and stops them in reverse.
//
// The order is fixed by kind (storage, consensus, acl, frontend, admin): what serves clients
// starts only after what it depends on, and stops first. A failed start stops what already
// started, in reverse, and reports which component failed.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "corral/plugin.h"

namespace corral::kernel::runtime {

struct Component {
  std::string name;   // "storage.memlog"
  sdk::PluginKind kind;
  std::unique_ptr<sdk::Host> host;      // outlives the plugin object
  std::unique_ptr<sdk::Plugin> plugin;  // destroyed before its host
};

class ComponentSet {
 public:
  ~ComponentSet();
  void add(Component component);
  // Sorts by kind order and starts each; on failure stops the started ones. `before_kind`
  // runs once before the first component of each kind starts (the kernel wires its own
  // parts in there, e.g. the request pipeline before the front ends open their ports).
  sdk::Status startAll(const std::function<sdk::Status(sdk::PluginKind)>& before_kind = {});
  // Stops in reverse start order; idempotent. `before_kind` runs before the first component
  // of each kind stops.
  void stopAll(const std::function<void(sdk::PluginKind)>& before_kind = {});
  const std::vector<Component>& components() const { return components_; }
  // The component whose start() failed in the last startAll(), or empty (the kernel maps
  // some plugins' failures to ZooKeeper's exit codes).
  const std::string& failedComponent() const noexcept { return failed_; }
  sdk::Plugin* find(std::string_view name) const;

  static int startRank(sdk::PluginKind kind);

 private:
  std::vector<Component> components_;
  size_t started_ = 0;
  std::string failed_;
};

}  // namespace corral::kernel::runtime
