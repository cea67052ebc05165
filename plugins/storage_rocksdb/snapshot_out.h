// ZooKeeper's snapshot body from a point-in-time view of the database (a RocksDB snapshot):
// sessions, the ACL map, every node with parents first (key order), the "/" end marker. Exact,
// not fuzzy: the body stands for the applied zxid recorded in the same view. Used by a
// leader's SNAP (RocksdbStorage::writeSnapshot) and by `corral-rocksdb export`.
#pragma once

#include <cstdint>

#include <rocksdb/snapshot.h>

#include "corral/formats/snapshot_stream.h"
#include "corral/status.h"
#include "rocks_store.h"

namespace corral::plugins::rocks {

struct StreamedState {
  sdk::Zxid zxid = 0;
  int64_t nodes = 0;
  uint64_t bytes = 0;
  int64_t digest = 0;  // ZooKeeper 3.8's tree digest of what was streamed
};

// `snapshot` may be nullptr for a database nothing else writes to (a read-only open).
sdk::Result<StreamedState> streamState(RocksStore& store, const rocksdb::Snapshot* snapshot,
                                       const formats::ByteSink& sink);

}  // namespace corral::plugins::rocks
