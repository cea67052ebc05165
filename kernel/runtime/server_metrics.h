// ZooKeeper 3.8's ServerMetrics: the counters, summaries and summary sets every 3.8 server
// shows in mntr / the AdminServer's monitor command / Prometheus, by name and detail level.
//
// The kernel registers the whole catalog at start, so `monitor` has ZooKeeper's key set even
// for figures nothing in Corral feeds (they stay 0, as they do on a standalone ZooKeeper:
// election, learner and commit-processor metrics). Plugins feed theirs through
// sdk::MetricsRegistry under the same names (storage: fsynctime, snapshottime, sync_*;
// front ends: bytes_received_count, response_bytes, connection_*); registering a name twice
// returns the same object, so registration order does not matter.
#pragma once

#include <span>
#include <string_view>

#include "corral/metrics.h"

namespace corral::kernel::runtime {

struct ServerMetricSpec {
  std::string_view name;
  sdk::MetricKind kind;  // kCounter, kSummary or kSummarySet
  sdk::SummaryDetail detail;
};

// In ZooKeeper's declaration order.
std::span<const ServerMetricSpec> zooKeeperServerMetrics();

// The metrics the kernel's own pipeline feeds, looked up once so hot paths hold references.
struct KernelMetrics {
  explicit KernelMetrics(sdk::MetricsRegistry& registry);

  sdk::Summary& read_latency;            // ms from receipt to reply, requests without a txn
  sdk::Summary& update_latency;          // ms from receipt to reply, requests with a txn
  sdk::Summary& propagation_latency;     // ms from the txn's header time to its apply
  sdk::SummarySet& read_per_namespace;   // bytes read, by top-level znode
  sdk::SummarySet& write_per_namespace;  // bytes written, by top-level znode
  sdk::Counter& prep_processor_request_queued;
  sdk::Summary& prep_processor_queue_time;  // ms a request waited before its turn
  sdk::Summary& prep_process_time;          // ms to prepare a write into a txn
  sdk::Summary& close_session_prep_time;
  sdk::Counter& outstanding_changes_queued;
  sdk::Counter& outstanding_changes_removed;
  sdk::Summary& node_created_watch_count;  // watchers fired per event, when any fired
  sdk::Summary& node_deleted_watch_count;
  sdk::Summary& node_changed_watch_count;
  sdk::Summary& node_children_watch_count;
  sdk::Counter& stale_sessions_expired;
  sdk::Summary& db_init_time;  // ms the storage took to recover at start
};

// Registers every catalog metric (idempotent).
void registerZooKeeperServerMetrics(sdk::MetricsRegistry& registry);

// ZooKeeper's PathUtils.getTopNamespace: "a" for "/a/b", nothing for "/" or "".
std::string_view topNamespace(std::string_view path);

// DataTree.STAT_OVERHEAD_BYTES: what ZooKeeper adds to every read's byte count.
inline constexpr int64_t kStatOverheadBytes = 6 * 8 + 5 * 4;

}  // namespace corral::kernel::runtime
