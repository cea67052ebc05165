// Writes a whole tree into an empty database from a snapshot's records (a leader's SNAP, or
// the import of a ZooKeeper/memlog data dir): sessions, the ACL map and nodes in any order
// that has parents before children. Batches skip the WAL (the caller flushes at the end and
// marks the database as loading until then); child counts, which snapshots do not carry, are
// summed per parent and written at the end, where a missing parent is reported.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <rocksdb/write_batch.h>

#include "acl_table.h"
#include "corral/host.h"
#include "corral/status.h"
#include "encoding.h"
#include "rocks_store.h"

namespace corral::plugins::rocks {

class BulkLoader {
 public:
  BulkLoader(RocksStore& store, AclTable& acls, sdk::Logger& logger, std::string what)
      : store_(store), acls_(acls), logger_(logger), what_(std::move(what)) {}

  sdk::Status session(sdk::SessionId id, int32_t timeout);
  sdk::Status acl(int64_t key, const sdk::AclList& acl);
  // `path` as snapshots name it ("" for the root).
  sdk::Status node(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                   const sdk::StatPersisted& stat);
  // A txn of the history that led to the tree (an imported data dir's logs): readLog serves it.
  sdk::Status logEntry(sdk::Zxid zxid, std::string_view encoded);
  // Writes what is buffered and the child counts; the counters and sessions are then final.
  sdk::Status finish();

  const TreeCounters& counters() const { return counters_; }
  const std::map<sdk::SessionId, int32_t>& sessions() const { return sessions_; }
  int64_t nodes() const { return counters_.nodes; }
  int64_t logEntries() const { return log_entries_; }

 private:
  sdk::Status put(Cf cf, std::string_view key, std::string_view value);
  sdk::Status flushBatch();

  RocksStore& store_;
  AclTable& acls_;
  sdk::Logger& logger_;
  std::string what_;
  rocksdb::WriteBatch batch_;
  TreeCounters counters_;
  std::map<sdk::SessionId, int32_t> sessions_;
  std::unordered_map<std::string, int32_t> child_counts_;
  std::optional<int64_t> placeholder_key_;
  int64_t unknown_acl_nodes_ = 0;
  int64_t log_entries_ = 0;
  int64_t next_progress_ = 1000000;
};

}  // namespace corral::plugins::rocks
