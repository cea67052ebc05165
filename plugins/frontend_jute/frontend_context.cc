#include "frontend_context.h"

#include <utility>

namespace corral::plugins::jute {

FrontendMetrics::FrontendMetrics(sdk::MetricsRegistry& registry)
    : packets_received(registry.counter("packets_received", "client packets received")),
      packets_sent(registry.counter("packets_sent", "client packets sent")),
      alive_connections(registry.gauge("num_alive_connections", "open client connections")),
      outstanding_tls_handshake(
          registry.gauge("outstanding_tls_handshake", "TLS handshakes in progress on secureClientPort")),
      unsuccessful_handshake(
          registry.counter("unsuccessful_handshake", "failed TLS handshakes on secureClientPort")),
      connection_request_count(registry.counter("connection_request_count", "ConnectRequests read")),
      connection_token_deficit(registry.summary("connection_token_deficit", "connection throttle deficit",
                                                sdk::SummaryDetail::kBasic)),
      sessionless_connections_expired(registry.counter(
          "sessionless_connections_expired", "connections closed for sending no ConnectRequest in time")),
      bytes_received_count(registry.counter("bytes_received_count", "bytes read from clients")),
      response_bytes(registry.counter("response_bytes", "bytes of replies sent to clients")),
      watch_bytes(registry.counter("watch_bytes", "bytes of watch events sent to clients")),
      last_client_response_size(registry.gauge("last_client_response_size", "size of the last reply")),
      min_client_response_size(registry.gauge("min_client_response_size", "smallest reply")),
      max_client_response_size(registry.gauge("max_client_response_size", "largest reply")) {
  last_client_response_size.set(-1);
  min_client_response_size.set(-1);
  max_client_response_size.set(-1);
}

void FrontendMetrics::recordResponseSize(int64_t bytes) noexcept {
  response_bytes.add(bytes);
  last_client_response_size.set(bytes);
  int64_t seen = min_response_.load(std::memory_order_relaxed);
  while ((seen < 0 || bytes < seen) && !min_response_.compare_exchange_weak(seen, bytes)) {
  }
  if (seen < 0 || bytes < seen) min_client_response_size.set(bytes);
  seen = max_response_.load(std::memory_order_relaxed);
  while (bytes > seen && !max_response_.compare_exchange_weak(seen, bytes)) {
  }
  if (bytes > seen) max_client_response_size.set(bytes);
}

FrontendContext::FrontendContext(FrontendSettings settings_in, sdk::Host& host)
    : settings(std::move(settings_in)),
      logger(host.logger()),
      commands(host.commands()),
      blocking_pool(host.blockingPool()),
      metrics(host.metrics()),
      admission(host.admission()),
      output_limits(admission.outputLimits()) {}

bool FrontendContext::track(std::shared_ptr<JuteConnection> connection) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  const JuteConnection* key = connection.get();
  connections_.emplace(key, std::move(connection));
  return true;
}

void FrontendContext::untrack(const JuteConnection* connection) {
  std::shared_ptr<JuteConnection> last;  // destroyed outside the lock
  {
    std::lock_guard lock(mutex_);
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    last = std::move(it->second);
    connections_.erase(it);
    if (connections_.empty() && work_ == 0) idle_.notify_all();
  }
}

bool FrontendContext::beginWork() {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  ++work_;
  return true;
}

void FrontendContext::endWork() {
  std::lock_guard lock(mutex_);
  if (--work_ == 0 && connections_.empty()) idle_.notify_all();
}

std::vector<std::shared_ptr<JuteConnection>> FrontendContext::beginStop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  std::vector<std::shared_ptr<JuteConnection>> open;
  open.reserve(connections_.size());
  for (auto& [key, connection] : connections_) open.push_back(connection);
  return open;
}

bool FrontendContext::waitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [this] { return connections_.empty() && work_ == 0; });
}

}  // namespace corral::plugins::jute
