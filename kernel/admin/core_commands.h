// The kernel's own admin commands: the views of server state that clients and scripts rely
// on (ruok, srvr, stat, conf, envi, mntr, isro). Each is written once and served by every
// admin transport: the four-letter-word text on the client port, JSON over HTTP.
#pragma once

#include <chrono>

#include "corral/admin.h"
#include "corral/consensus.h"
#include "corral/storage.h"
#include "kernel/config/config.h"
#include "kernel/pipeline/request_processor.h"

namespace corral::kernel::admin {

struct ServerInfo {
  const config::Config* config = nullptr;
  pipeline::RequestProcessor* processor = nullptr;
  sdk::Storage* storage = nullptr;
  sdk::Consensus* consensus = nullptr;
  std::chrono::steady_clock::time_point started_at;
};

// "3.8.0-corral-<version>, built on <date>": clients (kazoo's server_version) parse the
// leading ZooKeeper version, so it names the protocol level Corral speaks.
std::string fullVersion();

sdk::Status registerCoreCommands(sdk::CommandRegistry& registry, ServerInfo info);

}  // namespace corral::kernel::admin
