#include "rocks_store.h"

#include <fmt/format.h>

#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include "corral/formats/file_bytes.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

Status toStatus(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return Status::ok();
  const Code code = status.IsCorruption() ? Code::kCorruptData : Code::kIoError;
  return Status(code, fmt::format("{}: {}", what, status.ToString()));
}

bool isNoSpace(const rocksdb::Status& status) {
  return status.IsNoSpace() || status.ToString().find("No space left") != std::string::npos;
}

namespace {

rocksdb::CompressionType compressionOf(const std::string& name) {
  if (name == "none") return rocksdb::kNoCompression;
  if (name == "zlib") return rocksdb::kZlibCompression;
  if (name == "lz4") return rocksdb::kLZ4Compression;
  if (name == "zstd") return rocksdb::kZSTD;
  return rocksdb::kSnappyCompression;
}

bool folderHasFiles(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) return false;
  return std::filesystem::directory_iterator(dir, ec) != std::filesystem::directory_iterator();
}

}  // namespace

RocksStore::~RocksStore() {
  if (!db_) return;
  for (auto* handle : handles_) {
    if (handle != nullptr) (void)db_->DestroyColumnFamilyHandle(handle);
  }
  (void)db_->Close();
}

sdk::Result<std::unique_ptr<RocksStore>> RocksStore::open(const RocksSettings& settings, bool& created, Mode mode,
                                                          std::shared_ptr<rocksdb::Logger> info_log) {
  std::unique_ptr<RocksStore> store(new RocksStore());
  const auto dir = settings.dbDir();
  const bool has_files = folderHasFiles(dir);
  std::error_code ec;
  if (has_files && !std::filesystem::exists(dir / "CURRENT", ec)) {
    return Status(Code::kCorruptData,
                  fmt::format("{} holds files but no CURRENT file: refusing to start on a damaged database "
                              "(restore it, or move the folder away to start empty)",
                              dir.string()));
  }
  if (mode == Mode::kReadOnly && !has_files) {
    return Status(Code::kNotFound, fmt::format("{} holds no storage.rocksdb database", dir.string()));
  }
  created = !has_files;
  // Durably: RocksDB fsyncs its own folder for the files it makes, not that folder's parent.
  if (auto made = formats::createDirectoriesDurably(dir); !made.isOk()) return made;
  const auto wal = settings.walDir();
  if (!wal.empty()) {
    if (auto made = formats::createDirectoriesDurably(wal); !made.isOk()) return made;
  }

  const size_t cache_bytes = settings.blockCacheBytes();
  // 16 shards: with RocksDB's default of up to 64, a shard of a small cache is smaller than
  // one filter or index block of a large SST file, which then never stays cached.
  store->cache_ = rocksdb::NewLRUCache(cache_bytes, /*num_shard_bits=*/4, /*strict_capacity_limit=*/false,
                                       /*high_pri_pool_ratio=*/0.2);
  store->statistics_ = rocksdb::CreateDBStatistics();
  store->statistics_->set_stats_level(rocksdb::StatsLevel::kExceptTimeForMutex);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = created;
  db_options.create_missing_column_families = created;
  db_options.paranoid_checks = true;
  db_options.atomic_flush = true;  // column families are flushed together: one consistent state on disk
  db_options.max_background_jobs = static_cast<int>(settings.background_jobs);
  db_options.max_open_files = static_cast<int>(settings.max_open_files);
  db_options.statistics = store->statistics_;
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_total_wal_size = static_cast<uint64_t>(settings.write_buffer_mb) * 4 << 20;
  db_options.keep_log_file_num = 4;
  if (info_log) db_options.info_log = std::move(info_log);
  db_options.max_log_file_size = 16 << 20;
  if (!wal.empty()) db_options.wal_dir = wal.string();
  // Memtables count against the block cache: one budget for both (rocksdb.cacheSizeMb).
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(cache_bytes / 2, store->cache_, /*allow_stall=*/true);

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = store->cache_;
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Partitioned index and filters: the cache holds the small top level and the partitions in
  // use, not a whole SST's index and filter at once (trees larger than the cache).
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.metadata_block_size = 4096;
  table.pin_top_level_index_and_filter = true;
  table.format_version = 5;
  table.block_size = 16 * 1024;
  auto point_table = table;
  point_table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Point lookups (every read, every apply) find their key inside a block by hash.
  point_table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  point_table.block_size = 4 * 1024;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) {
    const auto which = static_cast<Cf>(i);
    rocksdb::ColumnFamilyOptions cf;
    cf.compression = compressionOf(settings.compression);
    cf.bottommost_compression = cf.compression;
    const bool big = which == Cf::kNodes || which == Cf::kLog || which == Cf::kUndo;
    cf.write_buffer_size = static_cast<size_t>(big ? settings.write_buffer_mb : std::max<int64_t>(1, settings.write_buffer_mb / 4)) << 20;
    cf.max_write_buffer_number = 3;
    cf.level_compaction_dynamic_level_bytes = true;
    const bool point = which == Cf::kNodes || which == Cf::kSessions || which == Cf::kMeta;
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(point ? point_table : table));
    if (point) {
      // A bloom filter in front of each memtable: a lookup of a key it lacks skips the skiplist.
      cf.memtable_whole_key_filtering = true;
      cf.memtable_prefix_bloom_size_ratio = 0.05;
    }
    families.emplace_back(cfName(which), cf);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto status = mode == Mode::kReadOnly
                    ? rocksdb::DB::OpenForReadOnly(db_options, dir.string(), families, &handles, &raw)
                    : rocksdb::DB::Open(db_options, dir.string(), families, &handles, &raw);
  if (!status.ok()) return toStatus(status, fmt::format("cannot open the database in {}", dir.string()));
  store->db_.reset(raw);
  for (size_t i = 0; i < handles.size() && i < store->handles_.size(); ++i) store->handles_[i] = handles[i];
  return store;
}

Status RocksStore::flushAll() {
  rocksdb::FlushOptions options;
  options.wait = true;
  options.allow_write_stall = true;
  std::vector<rocksdb::ColumnFamilyHandle*> all(handles_.begin(), handles_.end());
  if (auto status = db_->Flush(options, all); !status.ok()) return toStatus(status, "flush");
  return toStatus(db_->SyncWAL(), "WAL sync");
}

}  // namespace corral::plugins::rocks
