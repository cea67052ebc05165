// Counters behind srvr/stat/mntr: requests in and out, latency, outstanding requests.
// Updated on the pipeline strand; read from any thread (relaxed atomics are enough for
// monitoring figures).
#pragma once

#include <atomic>
#include <cstdint>

namespace corral::kernel::pipeline {

struct ServerStats {
  std::atomic<int64_t> packets_received{0};
  std::atomic<int64_t> packets_sent{0};
  std::atomic<int64_t> outstanding{0};
  std::atomic<int64_t> latency_total_ms{0};
  std::atomic<int64_t> latency_count{0};
  std::atomic<int64_t> latency_min_ms{INT64_MAX};
  std::atomic<int64_t> latency_max_ms{0};
  std::atomic<int64_t> connections{0};
  std::atomic<int64_t> watch_count{0};

  void recordLatency(int64_t ms) {
    latency_total_ms.fetch_add(ms, std::memory_order_relaxed);
    latency_count.fetch_add(1, std::memory_order_relaxed);
    int64_t min = latency_min_ms.load(std::memory_order_relaxed);
    while (ms < min && !latency_min_ms.compare_exchange_weak(min, ms)) {
    }
    int64_t max = latency_max_ms.load(std::memory_order_relaxed);
    while (ms > max && !latency_max_ms.compare_exchange_weak(max, ms)) {
    }
  }
  void reset() {
    packets_received = 0;
    packets_sent = 0;
    latency_total_ms = 0;
    latency_count = 0;
    latency_min_ms = INT64_MAX;
    latency_max_ms = 0;
  }
};

}  // namespace corral::kernel::pipeline
