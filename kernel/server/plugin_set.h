// Which plugins a config asks for: one storage, one consensus, the front ends, the ACL
// schemes and the admin surfaces (DESIGN.md §4; admin_plugins.h). Missing keys take the
// standard assembly.
#pragma once

#include <vector>

#include "kernel/config/config.h"
#include "kernel/loader/plugin_loader.h"

namespace corral::kernel::server {

// The plugin requests named by `config`, or an InvalidConfig status naming file:line.
sdk::Result<std::vector<loader::PluginRequest>> pluginRequests(const config::Config& config);

}  // namespace corral::kernel::server
