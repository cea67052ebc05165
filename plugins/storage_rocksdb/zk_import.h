// The first start of storage.rocksdb on a data dir that Apache ZooKeeper or storage.memlog
// wrote (version-2/snapshot.* and log.*): the files are recovered with storage.memlog's own
// recovery (the newest valid snapshot plus the logs, ZooKeeper's replay rules, errors naming
// file and offset) and the resulting tree is bulk-loaded. The files are left where they are.
#pragma once

#include "bulk_loader.h"
#include "corral/host.h"
#include "corral/status.h"
#include "settings.h"

namespace corral::plugins::rocks {

// Whether dataDir/dataLogDir hold ZooKeeper-format snapshots or txn logs.
bool hasZooKeeperFiles(const RocksSettings& settings);

// Loads them into `loader` (then finished): the tree, sessions and ACLs at `zxid` (the last txn
// the files hold), and the logged txns after the snapshot they start from (`log_base`), so a
// leader can still send followers a DIFF from there.
sdk::Status importZooKeeperFiles(sdk::Host& host, const RocksSettings& settings, BulkLoader& loader, sdk::Zxid& zxid,
                                 sdk::Zxid& log_base);

}  // namespace corral::plugins::rocks
