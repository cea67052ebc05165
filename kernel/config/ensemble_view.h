// The ensemble as plugins see it (sdk::Ensemble), from the parsed server.N lines: consensus
// plugins get it at attach() instead of parsing the config again.
#pragma once

#include "corral/consensus.h"
#include "kernel/config/config.h"

namespace corral::kernel::config {

// Empty members for a standalone server (no server.N lines, or one participant with
// standaloneEnabled=true, as ZooKeeper's QuorumPeerConfig.isDistributed decides).
sdk::Ensemble ensembleOf(const Config& config);

}  // namespace corral::kernel::config
