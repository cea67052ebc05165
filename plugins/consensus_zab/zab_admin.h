// The AdminServer commands ZooKeeper 3.8 has for an ensemble member, in its JSON shapes:
// `leader` (`lead`), `voting_view`, `zabstate`, `observers` (`obsr`). Registered by the peer at
// creation; each reads the peer's state on the calling thread.
#pragma once

#include "corral/admin.h"

namespace corral::plugins::zab {

class ZabPeer;

sdk::Status registerZabCommands(sdk::CommandRegistry& registry, const ZabPeer& peer);

}  // namespace corral::plugins::zab
