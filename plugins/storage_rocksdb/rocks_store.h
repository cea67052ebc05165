// The RocksDB database behind storage.rocksdb: its options (one block cache that also carries
// the memtables and the index/filter blocks, so rocksdb.cacheSizeMb bounds the footprint),
// its column families (encoding.h) and the mapping of RocksDB's errors to Corral's codes.
#pragma once

#include <array>
#include <filesystem>
#include <memory>
#include <string>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include "corral/status.h"
#include "encoding.h"
#include "settings.h"

namespace corral::plugins::rocks {

// kCorruptData for corruption, kIoError otherwise; the message keeps RocksDB's (it names the
// file) behind `what`.
sdk::Status toStatus(const rocksdb::Status& status, std::string_view what);
// The write failed for lack of disk space (RocksDB reports some as plain IO errors).
bool isNoSpace(const rocksdb::Status& status);

// A RocksDB snapshot released when the scope ends.
class ScopedSnapshot {
 public:
  explicit ScopedSnapshot(rocksdb::DB& db) : db_(db), snapshot_(db.GetSnapshot()) {}
  ~ScopedSnapshot() { db_.ReleaseSnapshot(snapshot_); }
  ScopedSnapshot(const ScopedSnapshot&) = delete;
  ScopedSnapshot& operator=(const ScopedSnapshot&) = delete;
  const rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  rocksdb::DB& db_;
  const rocksdb::Snapshot* snapshot_;
};

class RocksStore {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  ~RocksStore();
  // Opens (or, when the folder is absent or empty, creates) the database of `settings`. An
  // existing folder without a database is an error, never a silently new empty tree.
  // kReadOnly (tools): never creates, takes no lock, so it also opens a database a running
  // server holds (as of the moment it opens).
  // `info_log`: where RocksDB's own messages go (null: its LOG file in the folder).
  static sdk::Result<std::unique_ptr<RocksStore>> open(const RocksSettings& settings, bool& created,
                                                       Mode mode = Mode::kReadWrite,
                                                       std::shared_ptr<rocksdb::Logger> info_log = nullptr);

  rocksdb::DB& db() { return *db_; }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<size_t>(which)]; }
  rocksdb::Statistics* statistics() const { return statistics_.get(); }
  rocksdb::Cache* cache() const { return cache_.get(); }
  // Flushes every memtable (atomically across column families) and syncs the WAL.
  sdk::Status flushAll();

 private:
  RocksStore() = default;
  std::shared_ptr<rocksdb::Cache> cache_;
  std::shared_ptr<rocksdb::Statistics> statistics_;
  std::unique_ptr<rocksdb::DB> db_;
  std::array<rocksdb::ColumnFamilyHandle*, static_cast<size_t>(Cf::kCount)> handles_{};
};

}  // namespace corral::plugins::rocks
