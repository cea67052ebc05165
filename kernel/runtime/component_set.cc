#include "kernel/runtime/component_set.h"

#include <algorithm>

#include "kernel/runtime/logging.h"

namespace corral::kernel::runtime {

int ComponentSet::startRank(sdk::PluginKind kind) {
  switch (kind) {
    case sdk::PluginKind::kStorage: return 0;
    case sdk::PluginKind::kConsensus: return 1;
    case sdk::PluginKind::kAcl: return 2;
    case sdk::PluginKind::kFrontend: return 3;
    case sdk::PluginKind::kAdmin: return 4;
  }
  return 5;
}

ComponentSet::~ComponentSet() {
  stopAll();
  // Plugin objects go before their hosts (member order inside Component handles that).
  for (auto it = components_.rbegin(); it != components_.rend(); ++it) it->plugin.reset();
}

void ComponentSet::add(Component component) { components_.push_back(std::move(component)); }

sdk::Plugin* ComponentSet::find(std::string_view name) const {
  for (const auto& component : components_) {
    if (component.name == name) return component.plugin.get();
  }
  return nullptr;
}

sdk::Status ComponentSet::startAll(const std::function<sdk::Status(sdk::PluginKind)>& before_kind) {
  std::stable_sort(components_.begin(), components_.end(), [](const auto& a, const auto& b) {
    return startRank(a.kind) < startRank(b.kind);
  });
  int last_rank = -1;
  failed_.clear();
  for (started_ = 0; started_ < components_.size(); ++started_) {
    auto& component = components_[started_];
    if (before_kind && startRank(component.kind) != last_rank) {
      last_rank = startRank(component.kind);
      if (auto status = before_kind(component.kind); !status.isOk()) {
        stopAll();
        return status;
      }
    }
    kernelLog().debug("starting {}", component.name);
    auto status = component.plugin->start();
    if (!status.isOk()) {
      // Stop the failed component too: stop() must be safe after a failed start.
      component.plugin->stop();
      stopAll();
      failed_ = component.name;
      return {status.code(), failed_ + " failed to start: " + status.toString()};
    }
  }
  return sdk::Status::ok();
}

void ComponentSet::stopAll(const std::function<void(sdk::PluginKind)>& before_kind) {
  int last_rank = -1;
  while (started_ > 0) {
    auto& component = components_[--started_];
    if (before_kind && startRank(component.kind) != last_rank) {
      last_rank = startRank(component.kind);
      before_kind(component.kind);
    }
    kernelLog().debug("stopping {}", component.name);
    component.plugin->stop();
  }
}

}  // namespace corral::kernel::runtime
