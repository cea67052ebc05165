#include "kernel/runtime/command_registry.h"

#include <mutex>

namespace corral::kernel::runtime {

sdk::Status CommandRegistryImpl::add(sdk::Command command) noexcept {
  try {
    std::unique_lock lock(mutex_);
    if (command.name.empty() || !command.run) {
      return {sdk::Code::kInternal, "a command needs a name and a run function"};
    }
    std::vector<std::string> keys{command.name};
    keys.insert(keys.end(), command.aliases.begin(), command.aliases.end());
    for (const auto& key : keys) {
      if (by_name_.count(key) != 0) {
        return {sdk::Code::kAlreadyExists, "command name or alias '" + key + "' is already registered"};
      }
    }
    const auto& stored = commands_.emplace_back(std::move(command));
    for (const auto& key : keys) by_name_.emplace(key, &stored);
    return sdk::Status::ok();
  } catch (const std::exception& error) {
    return {sdk::Code::kInternal, error.what()};
  }
}

const sdk::Command* CommandRegistryImpl::find(std::string_view name_or_alias) const noexcept {
  std::shared_lock lock(mutex_);
  auto it = by_name_.find(name_or_alias);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<const sdk::Command*> CommandRegistryImpl::all() const {
  std::shared_lock lock(mutex_);
  std::vector<const sdk::Command*> result;
  for (const auto& command : commands_) result.push_back(&command);
  return result;
}

}  // namespace corral::kernel::runtime
