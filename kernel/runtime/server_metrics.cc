#include "kernel/runtime/server_metrics.h"

#include <array>

namespace corral::kernel::runtime {
namespace {

using sdk::MetricKind;
using sdk::SummaryDetail;

// Names, kinds and detail levels read off ZooKeeper 3.8.0's ServerMetrics.
constexpr ServerMetricSpec kCatalog[] = {
    {"fsynctime", MetricKind::kSummary, SummaryDetail::kBasic},
    {"snapshottime", MetricKind::kSummary, SummaryDetail::kBasic},
    {"dbinittime", MetricKind::kSummary, SummaryDetail::kBasic},
    {"readlatency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"updatelatency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"propagation_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"follower_sync_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"observer_sync_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"election_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"looking_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"diff_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"snap_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"commit_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"connection_request_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"connection_token_deficit", MetricKind::kSummary, SummaryDetail::kBasic},
    {"connection_rejected", MetricKind::kCounter, SummaryDetail::kBasic},
    {"inflight_snap_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"inflight_diff_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"write_per_namespace", MetricKind::kSummarySet, SummaryDetail::kBasic},
    {"read_per_namespace", MetricKind::kSummarySet, SummaryDetail::kBasic},
    {"bytes_received_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"unrecoverable_error_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"node_created_watch_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"node_deleted_watch_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"node_changed_watch_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"node_children_watch_count", MetricKind::kSummary, SummaryDetail::kBasic},
    {"add_dead_watcher_stall_time", MetricKind::kCounter, SummaryDetail::kBasic},
    {"dead_watchers_queued", MetricKind::kCounter, SummaryDetail::kBasic},
    {"dead_watchers_cleared", MetricKind::kCounter, SummaryDetail::kBasic},
    {"dead_watchers_cleaner_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"response_packet_cache_hits", MetricKind::kCounter, SummaryDetail::kBasic},
    {"response_packet_cache_misses", MetricKind::kCounter, SummaryDetail::kBasic},
    {"response_packet_get_children_cache_hits", MetricKind::kCounter, SummaryDetail::kBasic},
    {"response_packet_get_children_cache_misses", MetricKind::kCounter, SummaryDetail::kBasic},
    {"ensemble_auth_success", MetricKind::kCounter, SummaryDetail::kBasic},
    {"ensemble_auth_fail", MetricKind::kCounter, SummaryDetail::kBasic},
    {"ensemble_auth_skip", MetricKind::kCounter, SummaryDetail::kBasic},
    {"prep_processor_queue_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"prep_processor_queue_size", MetricKind::kSummary, SummaryDetail::kBasic},
    {"prep_processor_request_queued", MetricKind::kCounter, SummaryDetail::kBasic},
    {"outstanding_changes_queued", MetricKind::kCounter, SummaryDetail::kBasic},
    {"outstanding_changes_removed", MetricKind::kCounter, SummaryDetail::kBasic},
    {"prep_process_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"proposal_process_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"close_session_prep_time", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"revalidate_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"connection_drop_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"connection_revalidate_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"sessionless_connections_expired", MetricKind::kCounter, SummaryDetail::kBasic},
    {"stale_sessions_expired", MetricKind::kCounter, SummaryDetail::kBasic},
    {"unavailable_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"leader_unavailable_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"requests_in_session_queue", MetricKind::kSummary, SummaryDetail::kBasic},
    {"pending_session_queue_size", MetricKind::kSummary, SummaryDetail::kBasic},
    {"reads_after_write_in_session_queue", MetricKind::kSummary, SummaryDetail::kBasic},
    {"reads_issued_from_session_queue", MetricKind::kSummary, SummaryDetail::kBasic},
    {"session_queues_drained", MetricKind::kSummary, SummaryDetail::kBasic},
    {"time_waiting_empty_pool_in_commit_processor_read_ms", MetricKind::kSummary, SummaryDetail::kBasic},
    {"write_batch_time_in_commit_processor", MetricKind::kSummary, SummaryDetail::kBasic},
    {"concurrent_request_processing_in_commit_processor", MetricKind::kSummary, SummaryDetail::kBasic},
    {"read_commit_proc_req_queued", MetricKind::kSummary, SummaryDetail::kBasic},
    {"write_commit_proc_req_queued", MetricKind::kSummary, SummaryDetail::kBasic},
    {"commit_commit_proc_req_queued", MetricKind::kSummary, SummaryDetail::kBasic},
    {"request_commit_queued", MetricKind::kCounter, SummaryDetail::kBasic},
    {"requests_not_forwarded_to_commit_processor", MetricKind::kCounter, SummaryDetail::kBasic},
    {"read_commit_proc_issued", MetricKind::kSummary, SummaryDetail::kBasic},
    {"write_commit_proc_issued", MetricKind::kSummary, SummaryDetail::kBasic},
    {"throttled_ops", MetricKind::kCounter, SummaryDetail::kBasic},
    {"read_commitproc_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"write_commitproc_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"local_write_committed_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"server_write_committed_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"commit_process_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"om_proposal_process_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"om_commit_process_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"read_final_proc_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"write_final_proc_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"proposal_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"proposal_ack_creation_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"commit_propagation_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"learner_proposal_received_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"learner_commit_received_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"learner_handler_qp_size", MetricKind::kSummarySet, SummaryDetail::kBasic},
    {"learner_handler_qp_time_ms", MetricKind::kSummarySet, SummaryDetail::kAdvanced},
    {"startup_txns_loaded", MetricKind::kSummary, SummaryDetail::kBasic},
    {"startup_txns_load_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"startup_snap_load_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"sync_processor_queue_and_flush_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"sync_processor_queue_size", MetricKind::kSummary, SummaryDetail::kBasic},
    {"sync_processor_request_queued", MetricKind::kCounter, SummaryDetail::kBasic},
    {"sync_processor_queue_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"sync_processor_queue_flush_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"sync_process_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"sync_processor_batch_size", MetricKind::kSummary, SummaryDetail::kBasic},
    {"quorum_ack_latency", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"ack_latency", MetricKind::kSummarySet, SummaryDetail::kAdvanced},
    {"proposal_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"quit_leading_due_to_disloyal_voter", MetricKind::kCounter, SummaryDetail::kBasic},
    {"stale_requests", MetricKind::kCounter, SummaryDetail::kBasic},
    {"stale_requests_dropped", MetricKind::kCounter, SummaryDetail::kBasic},
    {"stale_replies", MetricKind::kCounter, SummaryDetail::kBasic},
    {"request_throttle_queue_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
    {"request_throttle_wait_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"large_requests_rejected", MetricKind::kCounter, SummaryDetail::kBasic},
    {"netty_queued_buffer_capacity", MetricKind::kSummary, SummaryDetail::kBasic},
    {"digest_mismatches_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"learner_request_processor_queue_size", MetricKind::kSummary, SummaryDetail::kBasic},
    {"unsuccessful_handshake", MetricKind::kCounter, SummaryDetail::kBasic},
    {"insecure_admin_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"tls_handshake_exceeded", MetricKind::kCounter, SummaryDetail::kBasic},
    {"cnxn_closed_without_zk_server_running", MetricKind::kCounter, SummaryDetail::kBasic},
    {"skip_learner_request_to_next_processor_count", MetricKind::kCounter, SummaryDetail::kBasic},
    {"socket_closing_time", MetricKind::kSummary, SummaryDetail::kBasic},
    {"response_bytes", MetricKind::kCounter, SummaryDetail::kBasic},
    {"watch_bytes", MetricKind::kCounter, SummaryDetail::kBasic},
    {"jvm_pause_time_ms", MetricKind::kSummary, SummaryDetail::kAdvanced},
};

}  // namespace

std::span<const ServerMetricSpec> zooKeeperServerMetrics() { return kCatalog; }

void registerZooKeeperServerMetrics(sdk::MetricsRegistry& registry) {
  for (const auto& spec : kCatalog) {
    switch (spec.kind) {
      case MetricKind::kCounter:
        registry.counter(spec.name, "ZooKeeper ServerMetrics counter");
        break;
      case MetricKind::kSummary:
        registry.summary(spec.name, "ZooKeeper ServerMetrics summary", spec.detail);
        break;
      case MetricKind::kSummarySet:
        registry.summarySet(spec.name, "ZooKeeper ServerMetrics summary set", spec.detail);
        break;
      case MetricKind::kGauge:
        break;
    }
  }
}

namespace {
sdk::Summary& summaryOf(sdk::MetricsRegistry& registry, std::string_view name, SummaryDetail detail) {
  return registry.summary(name, "ZooKeeper ServerMetrics summary", detail);
}
sdk::Counter& counterOf(sdk::MetricsRegistry& registry, std::string_view name) {
  return registry.counter(name, "ZooKeeper ServerMetrics counter");
}
}  // namespace

KernelMetrics::KernelMetrics(sdk::MetricsRegistry& r)
    : read_latency(summaryOf(r, "readlatency", SummaryDetail::kAdvanced)),
      update_latency(summaryOf(r, "updatelatency", SummaryDetail::kAdvanced)),
      propagation_latency(summaryOf(r, "propagation_latency", SummaryDetail::kAdvanced)),
      read_per_namespace(
          r.summarySet("read_per_namespace", "ZooKeeper ServerMetrics summary set", SummaryDetail::kBasic)),
      write_per_namespace(
          r.summarySet("write_per_namespace", "ZooKeeper ServerMetrics summary set", SummaryDetail::kBasic)),
      prep_processor_request_queued(counterOf(r, "prep_processor_request_queued")),
      prep_processor_queue_time(summaryOf(r, "prep_processor_queue_time_ms", SummaryDetail::kAdvanced)),
      prep_process_time(summaryOf(r, "prep_process_time", SummaryDetail::kBasic)),
      close_session_prep_time(summaryOf(r, "close_session_prep_time", SummaryDetail::kAdvanced)),
      outstanding_changes_queued(counterOf(r, "outstanding_changes_queued")),
      outstanding_changes_removed(counterOf(r, "outstanding_changes_removed")),
      node_created_watch_count(summaryOf(r, "node_created_watch_count", SummaryDetail::kBasic)),
      node_deleted_watch_count(summaryOf(r, "node_deleted_watch_count", SummaryDetail::kBasic)),
      node_changed_watch_count(summaryOf(r, "node_changed_watch_count", SummaryDetail::kBasic)),
      node_children_watch_count(summaryOf(r, "node_children_watch_count", SummaryDetail::kBasic)),
      stale_sessions_expired(counterOf(r, "stale_sessions_expired")),
      db_init_time(summaryOf(r, "dbinittime", SummaryDetail::kBasic)) {}

std::string_view topNamespace(std::string_view path) {
  if (path.size() < 2 || path.front() != '/') return {};
  std::string_view rest = path.substr(1);
  return rest.substr(0, rest.find('/'));
}

}  // namespace corral::kernel::runtime
