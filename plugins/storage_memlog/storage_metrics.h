// The storage figures ZooKeeper's SyncRequestProcessor, FileTxnLog and snapshotting report,
// under ZooKeeper 3.8's ServerMetrics names (so mntr and Prometheus show them as a 3.8
// server does), plus two Corral counters.
#pragma once

#include "corral/metrics.h"

namespace corral::plugins::memlog {

struct StorageMetrics {
  explicit StorageMetrics(sdk::MetricsRegistry& registry)
      : fsync_count(registry.counter("fsync_count", "Txn log fsyncs (group commits)")),
        snapshot_count(registry.counter("snapshot_count", "Snapshots written")),
        fsync_time(registry.summary("fsynctime", "ms per txn log fsync", sdk::SummaryDetail::kBasic)),
        snapshot_time(registry.summary("snapshottime", "ms per snapshot", sdk::SummaryDetail::kBasic)),
        request_queued(registry.counter("sync_processor_request_queued", "txns queued for the log")),
        queue_size(registry.summary("sync_processor_queue_size", "txns waiting when a batch is taken",
                                    sdk::SummaryDetail::kBasic)),
        batch_size(registry.summary("sync_processor_batch_size", "txns per group commit",
                                    sdk::SummaryDetail::kBasic)),
        queue_time(registry.summary("sync_processor_queue_time_ms", "ms a txn waited for its batch",
                                    sdk::SummaryDetail::kAdvanced)),
        flush_time(registry.summary("sync_processor_queue_flush_time_ms", "ms per batch write + fsync",
                                    sdk::SummaryDetail::kAdvanced)),
        queue_and_flush_time(registry.summary("sync_processor_queue_and_flush_time_ms",
                                              "ms from queueing a txn to its batch being durable",
                                              sdk::SummaryDetail::kAdvanced)),
        process_time(registry.summary("sync_process_time", "ms from taking a batch to it being durable",
                                      sdk::SummaryDetail::kBasic)),
        startup_snap_load_time(registry.summary("startup_snap_load_time", "ms to load the snapshot at start",
                                                sdk::SummaryDetail::kBasic)),
        startup_txns_load_time(registry.summary("startup_txns_load_time", "ms to replay the txn logs at start",
                                                sdk::SummaryDetail::kBasic)),
        startup_txns_loaded(registry.summary("startup_txns_loaded", "txns replayed at start",
                                             sdk::SummaryDetail::kBasic)) {}

  sdk::Counter& fsync_count;
  sdk::Counter& snapshot_count;
  sdk::Summary& fsync_time;
  sdk::Summary& snapshot_time;
  sdk::Counter& request_queued;
  sdk::Summary& queue_size;
  sdk::Summary& batch_size;
  sdk::Summary& queue_time;
  sdk::Summary& flush_time;
  sdk::Summary& queue_and_flush_time;
  sdk::Summary& process_time;
  sdk::Summary& startup_snap_load_time;
  sdk::Summary& startup_txns_load_time;
  sdk::Summary& startup_txns_loaded;
};

}  // namespace corral::plugins::memlog
