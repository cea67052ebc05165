// What every connection of one stream front end shares: the host's logger, admission and
// metrics, the kernel's ClientService, the framing limits, and the set of live connections
// that stop() closes and waits for. Connections and listeners hold it by shared_ptr, so it
// outlives the plugin object if the kernel keeps a connection (it drops them after close()) or
// a late completion handler runs after stop().
//
// Part of the SDK's connection kit (corral/net/): a front end derives its own context from it
// when it needs more (frontend.jute adds its four-letter-word settings).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "corral/admission.h"
#include "corral/frontend.h"
#include "corral/host.h"
#include "corral/metrics.h"

namespace corral::sdk::net {

// A client connection as its listener and context see it: the kernel's ClientConnection plus
// start and abort.
class StreamClientConnection : public ClientConnection {
 public:
  // Starts reading (any thread); a TLS connection first runs its handshake.
  virtual void start() = 0;
  // Closes at once, dropping what is queued (server stop). Any thread.
  virtual void abort() = 0;
};

// Registered under ZooKeeper 3.8's names (a registry hands every front end the same series,
// so mntr shows server-wide figures, as ZooKeeper's do).
struct StreamMetrics {
  explicit StreamMetrics(MetricsRegistry& registry)
      : packets_received(registry.counter("packets_received", "client packets received")),
        packets_sent(registry.counter("packets_sent", "client packets sent")),
        alive_connections(registry.gauge("num_alive_connections", "open client connections")),
        outstanding_tls_handshake(registry.gauge("outstanding_tls_handshake",
                                                 "TLS handshakes in progress on secureClientPort")),
        unsuccessful_handshake(
            registry.counter("unsuccessful_handshake", "failed TLS handshakes on secureClientPort")),
        connection_request_count(registry.counter("connection_request_count", "ConnectRequests read")),
        connection_token_deficit(registry.summary("connection_token_deficit",
                                                  "connection throttle deficit", SummaryDetail::kBasic)),
        sessionless_connections_expired(
            registry.counter("sessionless_connections_expired",
                             "connections closed for sending no ConnectRequest in time")),
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

  Counter& packets_received;
  Counter& packets_sent;
  Gauge& alive_connections;
  Gauge& outstanding_tls_handshake;  // TLS handshakes under way (ZooKeeper's mntr name)
  Counter& unsuccessful_handshake;   // failed TLS handshakes (ZooKeeper's metric name)
  Counter& connection_request_count;         // session handshakes read
  Summary& connection_token_deficit;         // ZooKeeper's connection throttle; always 0 here
  Counter& sessionless_connections_expired;  // no session handshake within the timeout
  Counter& bytes_received_count;
  Counter& response_bytes;  // replies, without framing
  Counter& watch_bytes;     // watch events, without framing
  Gauge& last_client_response_size;  // -1 until the first reply
  Gauge& min_client_response_size;
  Gauge& max_client_response_size;

  void recordResponseSize(int64_t bytes) noexcept {
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

 private:
  std::atomic<int64_t> min_response_{-1};
  std::atomic<int64_t> max_response_{-1};
};

// The framing rules of one front end.
struct StreamLimits {
  int32_t max_frame = 1048575;  // largest frame payload accepted; larger closes the connection
  // A connection that has not finished its session handshake by then is closed, so idle
  // sockets cannot hold connection slots (nio.sessionlessCnxnTimeout for jute).
  int64_t handshake_timeout_ms = 10000;
  // Open connections this front end takes (on top of the server-wide maxClientCnxns and
  // maxCnxns); 0 = no limit of its own.
  int64_t max_connections = 0;
};

class StreamContext {
 public:
  StreamContext(Host& host, StreamLimits limits_in)
      : limits(limits_in),
        logger(host.logger()),
        metrics(host.metrics()),
        admission(host.admission()),
        output_limits(admission.outputLimits()) {}
  virtual ~StreamContext() = default;

  const StreamLimits limits;
  Logger& logger;
  StreamMetrics metrics;
  ClientAdmission& admission;
  const OutputLimits output_limits;  // admission.outputLimits(), read once
  std::atomic<ClientService*> service{nullptr};

  // Live connections and other pending work (accept loops), so stop() can wait for both.
  // track() refuses once beginStop() ran: the caller closes the socket.
  bool track(std::shared_ptr<StreamClientConnection> connection) {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    const StreamClientConnection* key = connection.get();
    connections_.emplace(key, std::move(connection));
    return true;
  }

  void untrack(const StreamClientConnection* connection) {
    std::shared_ptr<StreamClientConnection> last;  // destroyed outside the lock
    std::lock_guard lock(mutex_);
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    last = std::move(it->second);
    connections_.erase(it);
    if (connections_.empty() && work_ == 0) idle_.notify_all();
  }

  bool beginWork() {  // false once stopping
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    ++work_;
    return true;
  }

  void endWork() {
    std::lock_guard lock(mutex_);
    if (--work_ == 0 && connections_.empty()) idle_.notify_all();
  }

  int64_t connectionCount() {
    std::lock_guard lock(mutex_);
    return static_cast<int64_t>(connections_.size());
  }

  // Marks the context stopping and returns the connections to close.
  std::vector<std::shared_ptr<StreamClientConnection>> beginStop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    std::vector<std::shared_ptr<StreamClientConnection>> open;
    open.reserve(connections_.size());
    for (auto& [key, connection] : connections_) open.push_back(connection);
    return open;
  }

  // Waits until no connection and no work is left; false on timeout.
  bool waitIdle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return idle_.wait_for(lock, timeout, [this] { return connections_.empty() && work_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  bool stopping_ = false;
  int work_ = 0;
  std::unordered_map<const StreamClientConnection*, std::shared_ptr<StreamClientConnection>> connections_;
};

}  // namespace corral::sdk::net
