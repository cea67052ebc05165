// The kernel's command registry: admin commands by name and alias (sdk/admin.h).
#pragma once

#include <deque>
#include <map>
#include <shared_mutex>
#include <string>

#include "corral/admin.h"

namespace corral::kernel::runtime {

class CommandRegistryImpl final : public sdk::CommandRegistry {
 public:
  sdk::Status add(sdk::Command command) noexcept override;
  const sdk::Command* find(std::string_view name_or_alias) const noexcept override;
  std::vector<const sdk::Command*> all() const override;

 private:
  mutable std::shared_mutex mutex_;
  std::deque<sdk::Command> commands_;  // stable addresses
  std::map<std::string, const sdk::Command*, std::less<>> by_name_;
};

}  // namespace corral::kernel::runtime
