// The kernel's own admin commands: every view of server state ZooKeeper 3.8 offers as a
// four-letter word (ruok srvr stat conf envi mntr isro cons crst srst dirs gtmk stmk wchs
// wchc wchp dump hash), with ZooKeeper's output shapes. Each is written once and served by every
// admin transport: the four-letter-word text on the client port, JSON over HTTP.
#pragma once

#include <chrono>

#include "corral/admin.h"
#include "corral/consensus.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/config/config.h"
#include "kernel/pipeline/role_wiring.h"

namespace corral::kernel::admin {

struct ServerInfo {
  const config::Config* config = nullptr;
  sdk::MetricsRegistry* metrics = nullptr;
  pipeline::RoleWiring* processor = nullptr;
  sdk::Storage* storage = nullptr;
  sdk::Consensus* consensus = nullptr;
  std::chrono::steady_clock::time_point started_at;
};

// "3.8.0-corral-<version>, built on <date>": clients (kazoo's server_version) parse the
// leading ZooKeeper version, so it names the protocol level Corral speaks.
std::string fullVersion();

sdk::Status registerCoreCommands(sdk::CommandRegistry& registry, ServerInfo info);

}  // namespace corral::kernel::admin
