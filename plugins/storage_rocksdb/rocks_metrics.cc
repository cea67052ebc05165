#include "rocks_metrics.h"

#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include "rocks_store.h"

namespace corral::plugins::rocks {

RocksMetrics::RocksMetrics(sdk::MetricsRegistry& registry)
    : fsync_count(registry.counter("fsync_count", "Txn log fsyncs (group commits)")),
      fsync_time(registry.summary("fsynctime", "ms per txn log fsync", sdk::SummaryDetail::kBasic)),
      request_queued(registry.counter("sync_processor_request_queued", "txns queued for the log")),
      batch_size(registry.summary("sync_processor_batch_size", "txns per group commit", sdk::SummaryDetail::kBasic)),
      queue_and_flush_time(registry.summary("sync_processor_queue_and_flush_time_ms",
                                            "ms from queueing a txn to its batch being durable",
                                            sdk::SummaryDetail::kAdvanced)),
      startup_load_time(registry.summary("startup_snap_load_time", "ms to open the database at start",
                                         sdk::SummaryDetail::kBasic)),
      startup_txns_loaded(registry.summary("startup_txns_loaded", "txns replayed at start", sdk::SummaryDetail::kBasic)),
      startup_txns_load_time(registry.summary("startup_txns_load_time", "ms to apply the logged txns at start",
                                              sdk::SummaryDetail::kBasic)) {
  auto source = source_;
  auto ticker = [source](uint32_t ticker_type) {
    return [source, ticker_type]() -> int64_t {
      std::lock_guard lock(source->mutex);
      if (source->store == nullptr || source->store->statistics() == nullptr) return 0;
      return static_cast<int64_t>(source->store->statistics()->getTickerCount(ticker_type));
    };
  };
  auto property = [source](std::string name) {
    return [source, name]() -> int64_t {
      std::lock_guard lock(source->mutex);
      if (source->store == nullptr) return 0;
      uint64_t total = 0;
      for (size_t i = 0; i < static_cast<size_t>(Cf::kCount); ++i) {
        uint64_t value = 0;
        if (source->store->db().GetIntProperty(source->store->cf(static_cast<Cf>(i)), name, &value)) total += value;
      }
      return static_cast<int64_t>(total);
    };
  };
  registry.gaugeFunction("rocksdb_block_cache_hit", "block cache hits", ticker(rocksdb::BLOCK_CACHE_HIT));
  registry.gaugeFunction("rocksdb_block_cache_miss", "block cache misses", ticker(rocksdb::BLOCK_CACHE_MISS));
  registry.gaugeFunction("rocksdb_block_cache_hit_ratio_permille", "hits per 1000 block cache lookups",
                         [source]() -> int64_t {
                           std::lock_guard lock(source->mutex);
                           if (source->store == nullptr || source->store->statistics() == nullptr) return 0;
                           const auto hit = source->store->statistics()->getTickerCount(rocksdb::BLOCK_CACHE_HIT);
                           const auto miss = source->store->statistics()->getTickerCount(rocksdb::BLOCK_CACHE_MISS);
                           return hit + miss == 0 ? 0 : static_cast<int64_t>(hit * 1000 / (hit + miss));
                         });
  registry.gaugeFunction("rocksdb_compaction_read_bytes", "bytes read by compactions", ticker(rocksdb::COMPACT_READ_BYTES));
  registry.gaugeFunction("rocksdb_compaction_write_bytes", "bytes written by compactions", ticker(rocksdb::COMPACT_WRITE_BYTES));
  registry.gaugeFunction("rocksdb_flush_write_bytes", "bytes written by memtable flushes", ticker(rocksdb::FLUSH_WRITE_BYTES));
  registry.gaugeFunction("rocksdb_wal_bytes", "bytes written to the WAL", ticker(rocksdb::WAL_FILE_BYTES));
  registry.gaugeFunction("rocksdb_bytes_written", "bytes written by the storage (user data)", ticker(rocksdb::BYTES_WRITTEN));
  registry.gaugeFunction("rocksdb_stall_micros", "microseconds writes were stalled", ticker(rocksdb::STALL_MICROS));
  registry.gaugeFunction("rocksdb_memtable_bytes", "bytes in memtables", property("rocksdb.cur-size-all-mem-tables"));
  registry.gaugeFunction("rocksdb_sst_bytes", "bytes of SST files", property("rocksdb.total-sst-files-size"));
  registry.gaugeFunction("rocksdb_pending_compaction_bytes", "estimated bytes compaction has to rewrite",
                         property("rocksdb.estimate-pending-compaction-bytes"));
  registry.gaugeFunction("rocksdb_block_cache_usage_bytes", "block cache bytes in use (memtables included)",
                         [source]() -> int64_t {
                           std::lock_guard lock(source->mutex);
                           if (source->store == nullptr || source->store->cache() == nullptr) return 0;
                           return static_cast<int64_t>(source->store->cache()->GetUsage());
                         });
}

void RocksMetrics::attach(RocksStore* store) {
  std::lock_guard lock(source_->mutex);
  source_->store = store;
}

}  // namespace corral::plugins::rocks
