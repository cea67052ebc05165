// A small HTTP/1.1 server on the host's event loop: the one place Boost.Beast is compiled
// (http_server.cc), shared by admin.http (the AdminServer) and admin.metrics (Prometheus).
//
// Contract
// - start() resolves and binds synchronously (errors come back as a Status naming the
//   address); connections are then served by coroutines on `io`, one strand each.
// - The handler runs on `pool` (never on an event-loop thread: commands may block), may be
//   called concurrently, and must not throw (an exception becomes a 500).
// - stop() closes the listener and every open connection and waits (bounded) until no
//   connection coroutine and no handler call is left; the handler is never called after
//   stop() returned. Safe to call twice, or without start().
// - Keep-alive is honoured; a connection idle for `idle_timeout` (0 = never) is closed.
//   HEAD is answered like GET without the body.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::plugins::http {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", ...
  std::string target;  // as sent: path and query, still percent-encoded
  std::string remote_address;
  int remote_port = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // no Content-Type header when empty
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string address = "0.0.0.0";
  int port = 0;  // 0: an ephemeral port (see HttpServer::port())
  std::chrono::milliseconds idle_timeout{30000};
  std::string name = "http";   // for log lines
  size_t max_body_bytes = 64 * 1024;
};

class HttpServer {
 public:
  virtual ~HttpServer() = default;
  virtual sdk::Status start() noexcept = 0;
  virtual void stop() noexcept = 0;
  // The bound port (after a successful start()), 0 otherwise.
  virtual int port() const noexcept = 0;
};

std::unique_ptr<HttpServer> makeHttpServer(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                                           sdk::Logger& logger, HttpServerOptions options,
                                           HttpHandler handler);

}  // namespace corral::plugins::http
