// What every connection of one frontend.jute instance shares. Connections and the listener
// hold it by shared_ptr, so it outlives the plugin object if the kernel keeps a connection
// (it drops them after close()) or a late completion handler runs after stop().
// Connection limits, globalOutstandingLimit, the output limits and TLS are the server's,
// shared with every other front end: `admission` (Host::admission()).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "corral/admin.h"
#include "corral/admission.h"
#include "corral/frontend.h"
#include "corral/host.h"
#include "frontend_settings.h"

namespace boost::asio {
class thread_pool;
}

namespace corral::plugins::jute {

class JuteConnection;

struct FrontendMetrics {
  explicit FrontendMetrics(sdk::MetricsRegistry& registry);
  sdk::Counter& packets_received;
  sdk::Counter& packets_sent;
  sdk::Gauge& alive_connections;
  sdk::Gauge& outstanding_tls_handshake;  // TLS handshakes under way (ZooKeeper's mntr name)
  sdk::Counter& unsuccessful_handshake;   // failed TLS handshakes (ZooKeeper's metric name)
  // ZooKeeper's ServerMetrics / ServerStats names for the same figures.
  sdk::Counter& connection_request_count;          // ConnectRequests read
  sdk::Summary& connection_token_deficit;          // ZooKeeper's connection throttle; always 0 here
  sdk::Counter& sessionless_connections_expired;   // no ConnectRequest within the timeout
  sdk::Counter& bytes_received_count;
  sdk::Counter& response_bytes;                    // replies, without the length prefix
  sdk::Counter& watch_bytes;                       // watch events, without the length prefix
  sdk::Gauge& last_client_response_size;           // -1 until the first reply
  sdk::Gauge& min_client_response_size;
  sdk::Gauge& max_client_response_size;

  void recordResponseSize(int64_t bytes) noexcept;

 private:
  std::atomic<int64_t> min_response_{-1};
  std::atomic<int64_t> max_response_{-1};
};

class FrontendContext {
 public:
  FrontendContext(FrontendSettings settings, sdk::Host& host);

  const FrontendSettings settings;
  sdk::Logger& logger;
  sdk::CommandRegistry& commands;
  boost::asio::thread_pool& blocking_pool;
  FrontendMetrics metrics;
  sdk::ClientAdmission& admission;
  const sdk::OutputLimits output_limits;  // admission.outputLimits(), read once
  std::atomic<sdk::ClientService*> service{nullptr};

  // Live connections and other pending work (the accept loop), so stop() can wait for both.
  // track() refuses once stopping() began: the caller closes the socket.
  bool track(std::shared_ptr<JuteConnection> connection);
  void untrack(const JuteConnection* connection);
  bool beginWork();  // false once stopping
  void endWork();
  // Marks the context stopping and returns the connections to close.
  std::vector<std::shared_ptr<JuteConnection>> beginStop();
  // Waits until no connection and no work is left; false on timeout.
  bool waitIdle(std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  bool stopping_ = false;
  int work_ = 0;
  std::unordered_map<const JuteConnection*, std::shared_ptr<JuteConnection>> connections_;
};

}  // namespace corral::plugins::jute
