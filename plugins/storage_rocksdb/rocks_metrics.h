// storage.rocksdb's figures under mntr and Prometheus: ZooKeeper 3.8's names for what its
// SyncRequestProcessor reports (fsync_count, fsynctime, sync_processor_*), and RocksDB's own
// statistics as rocksdb_* gauges read when the metrics are (cache hits and misses, compaction
// bytes, write stalls, memtable, cache and SST sizes).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "corral/metrics.h"

namespace corral::plugins::rocks {

class RocksStore;

class RocksMetrics {
 public:
  explicit RocksMetrics(sdk::MetricsRegistry& registry);
  // The gauges read `store` from now on; nullptr (at stop) makes them read 0.
  void attach(RocksStore* store);

  sdk::Counter& fsync_count;
  sdk::Summary& fsync_time;
  sdk::Counter& request_queued;
  sdk::Summary& batch_size;
  sdk::Summary& queue_and_flush_time;
  sdk::Summary& startup_load_time;
  sdk::Summary& startup_txns_loaded;
  sdk::Summary& startup_txns_load_time;

 private:
  struct Source {
    std::mutex mutex;
    RocksStore* store = nullptr;
  };
  std::shared_ptr<Source> source_ = std::make_shared<Source>();
};

}  // namespace corral::plugins::rocks
