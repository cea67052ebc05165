// server.N lines: the parser lives in the SDK (corral/formats/server_spec.h) so that consensus
// plugins read reconfig requests and /zookeeper/config with the same code.
#pragma once

#include "corral/formats/server_spec.h"

namespace corral::kernel::config {

using formats::LearnerRole;
using formats::parseServerSpec;
using formats::QuorumAddress;
using formats::ServerSpec;

}  // namespace corral::kernel::config
