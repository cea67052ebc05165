// The writes of one txn before they reach the database: reads see the txn's own earlier
// writes (a multi's later ops see its earlier ones), and each key's value from before the
// txn is kept, so the batch that applies the txn can carry its undo record (encoding.h).
// Apply-strand only.
#pragma once

#include <map>
#include <vector>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <rocksdb/write_batch.h>

#include "corral/status.h"
#include "apply_writer.h"
#include "encoding.h"
#include "node_cache.h"
#include "rocks_store.h"

namespace corral::plugins::rocks {

class StagedWrites {
 public:
  // `cache` (may be null) serves node reads and learns the written nodes in publish();
  // `pending` (may be null) holds earlier txns' changes not yet in the database.
  explicit StagedWrites(RocksStore& store, NodeCache* cache = nullptr, const ApplyWriter* pending = nullptr)
      : store_(store), cache_(cache), pending_(pending) {}

  // What the key holds as the txn sees it (nullopt: absent); kIoError/kCorruptData when the
  // database cannot be read.
  sdk::Result<std::optional<std::string>> get(Cf cf, std::string_view key);
  // `known_absent`: the caller knows the key does not exist yet (no read for the undo record).
  void put(Cf cf, std::string_view key, std::string value, bool known_absent = false);
  // `known_present`: the caller knows the key exists with an empty value (index entries).
  void erase(Cf cf, std::string_view key, bool known_present = false);

  // Adds every change to `batch` and their old values to `undo` (and, when given, the new
  // values to `changes`).
  sdk::Status build(rocksdb::WriteBatch& batch, UndoRecord& undo, std::vector<ApplyWriter::Change>* changes = nullptr);
  void clear() { slots_.clear(); }
  // After the batch is in the database: the node cache takes the new records.
  void publish();

 private:
  struct Slot {
    std::optional<std::string> original;
    std::optional<std::string> current;
  };
  sdk::Result<Slot*> slot(Cf cf, std::string_view key);
  RocksStore& store_;
  NodeCache* cache_;
  const ApplyWriter* pending_;
  std::map<std::pair<Cf, std::string>, Slot, std::less<>> slots_;
};

}  // namespace corral::plugins::rocks
