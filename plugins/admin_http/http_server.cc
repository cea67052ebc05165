// The only translation unit that includes Boost.Beast (about 14 s to compile): everything
// else talks to it through http_server.h.
#include "http_server.h"

#include <utility>  // before asio/awaitable.hpp on g++ 12 (toolchain.md)

#include <condition_variable>
#include <map>
#include <mutex>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace corral::plugins::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using Strand = asio::strand<asio::io_context::executor_type>;
using Stream = beast::basic_stream<tcp, Strand>;

constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kStopWait = std::chrono::seconds(10);

struct Connection {
  explicit Connection(Stream s) : stream(std::move(s)) {}
  Stream stream;
};

// Everything the coroutines use; shared so that it outlives the server object if a
// coroutine frame is destroyed late (e.g. with the io_context).
struct Shared {
  Shared(asio::io_context& io_context, asio::thread_pool& thread_pool, sdk::Logger& log,
         HttpServerOptions opts, HttpHandler fn)
      : io(io_context), pool(thread_pool), logger(log), options(std::move(opts)),
        handler(std::move(fn)), strand(asio::make_strand(io_context)), acceptor(strand) {}

  asio::io_context& io;
  asio::thread_pool& pool;
  sdk::Logger& logger;
  const HttpServerOptions options;
  const HttpHandler handler;
  Strand strand;  // the acceptor's
  tcp::acceptor acceptor;

  std::mutex mutex;
  std::condition_variable idle;
  int active = 0;  // running coroutines (accept loop + connections)
  bool stopping = false;
  uint64_t next_id = 0;
  std::map<uint64_t, std::weak_ptr<Connection>> connections;

  void enter() {
    std::lock_guard lock(mutex);
    ++active;
  }
  void leave() {
    std::lock_guard lock(mutex);
    if (--active == 0) idle.notify_all();
  }
  bool isStopping() {
    std::lock_guard lock(mutex);
    return stopping;
  }
};

// Decrements Shared::active when the coroutine frame goes away, however it ends.
class ActiveGuard {
 public:
  explicit ActiveGuard(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  ActiveGuard(const ActiveGuard&) = delete;
  ActiveGuard& operator=(const ActiveGuard&) = delete;
  ~ActiveGuard() { shared_->leave(); }

 private:
  std::shared_ptr<Shared> shared_;
};

HttpResponse callHandler(const Shared& shared, const HttpRequest& request) noexcept {
  try {
    return shared.handler(request);
  } catch (const std::exception& e) {
    shared.logger.error("{}: handler failed on {}: {}", shared.options.name, request.target, e.what());
  } catch (...) {
    shared.logger.error("{}: handler failed on {}", shared.options.name, request.target);
  }
  HttpResponse response;
  response.status = 500;
  response.content_type = "text/plain; charset=utf-8";
  response.body = "Internal Server Error\n";
  return response;
}

// Runs the handler on the blocking pool and resumes the caller on its own executor.
template <typename Token>
auto asyncHandle(std::shared_ptr<Shared> shared, HttpRequest request, Token&& token) {
  return asio::async_initiate<Token, void(HttpResponse)>(
      [](auto completion, std::shared_ptr<Shared> shared, HttpRequest request) {
        auto executor = asio::get_associated_executor(completion);
        asio::post(shared->pool, [shared, request = std::move(request), completion = std::move(completion),
                                  executor]() mutable {
          HttpResponse response = callHandler(*shared, request);
          asio::post(executor, [completion = std::move(completion), response = std::move(response)]() mutable {
            completion(std::move(response));
          });
        });
      },
      token, std::move(shared), std::move(request));
}

bhttp::response<bhttp::string_body> makeResponse(HttpResponse out, unsigned version, bool head) {
  bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(out.status), version};
  response.set(bhttp::field::server, "Corral");
  if (!out.content_type.empty()) response.set(bhttp::field::content_type, out.content_type);
  for (const auto& [name, value] : out.headers) response.set(name, value);
  size_t length = out.body.size();
  if (!head) response.body() = std::move(out.body);
  response.content_length(length);
  return response;
}

asio::awaitable<void> serve(std::shared_ptr<Shared> shared, std::shared_ptr<Connection> connection,
                            uint64_t id) {
  ActiveGuard guard(shared);
  auto& stream = connection->stream;
  beast::error_code ec;
  HttpRequest base;
  {
    auto endpoint = stream.socket().remote_endpoint(ec);
    if (!ec) {
      base.remote_address = endpoint.address().to_string();
      base.remote_port = endpoint.port();
    }
  }
  beast::flat_buffer buffer;
  for (;;) {
    if (shared->options.idle_timeout.count() > 0) {
      stream.expires_after(shared->options.idle_timeout);
    } else {
      stream.expires_never();
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(shared->options.max_body_bytes);
    ec = {};
    co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // Malformed requests get an answer; closed, timed-out or cancelled connections do not.
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        HttpResponse bad;
        bad.status = ec == bhttp::error::body_limit || ec == bhttp::error::header_limit ? 413 : 400;
        bad.content_type = "text/plain; charset=utf-8";
        bad.body = fmt::format("Bad Request: {}\n", ec.message());
        auto response = makeResponse(std::move(bad), 11, false);
        response.keep_alive(false);
        stream.expires_after(kWriteTimeout);
        beast::error_code write_error;
        co_await bhttp::async_write(stream, response, asio::redirect_error(asio::use_awaitable, write_error));
      }
      break;
    }
    auto& message = parser.get();
    HttpRequest request = base;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    bool head = message.method() == bhttp::verb::head;
    stream.expires_never();  // the handler may take a while; stop() closes us if needed
    HttpResponse out = co_await asyncHandle(shared, std::move(request), asio::use_awaitable);
    bool keep_alive = message.keep_alive() && !shared->isStopping();
    auto response = makeResponse(std::move(out), message.version(), head);
    response.keep_alive(keep_alive);
    stream.expires_after(kWriteTimeout);
    ec = {};
    co_await bhttp::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !keep_alive) break;
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  std::lock_guard lock(shared->mutex);
  shared->connections.erase(id);
}

asio::awaitable<void> acceptLoop(std::shared_ptr<Shared> shared) {
  ActiveGuard guard(shared);
  asio::steady_timer backoff(shared->strand);
  for (;;) {
    beast::error_code ec;
    auto socket = co_await shared->acceptor.async_accept(asio::make_strand(shared->io),
                                                         asio::redirect_error(asio::use_awaitable, ec));
    if (shared->isStopping() || ec == asio::error::operation_aborted) break;
    if (ec) {
      // Out of descriptors or similar: do not spin.
      shared->logger.warn("{}: accept failed: {}", shared->options.name, ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto connection = std::make_shared<Connection>(Stream(std::move(socket)));
    uint64_t id = 0;
    {
      std::lock_guard lock(shared->mutex);
      if (shared->stopping) break;
      id = ++shared->next_id;
      shared->connections.emplace(id, connection);
      ++shared->active;
    }
    asio::co_spawn(connection->stream.get_executor(), serve(shared, connection, id), asio::detached);
  }
}

class BeastHttpServer final : public HttpServer {
 public:
  BeastHttpServer(asio::io_context& io, asio::thread_pool& pool, sdk::Logger& logger,
                  HttpServerOptions options, HttpHandler handler)
      : shared_(std::make_shared<Shared>(io, pool, logger, std::move(options), std::move(handler))) {}

  ~BeastHttpServer() override { stop(); }

  sdk::Status start() noexcept override {
    try {
      const auto& options = shared_->options;
      beast::error_code ec;
      tcp::resolver resolver(shared_->io);
      auto results = resolver.resolve(options.address, std::to_string(options.port),
                                      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
      if (ec || results.empty()) {
        return sdk::Status(sdk::Code::kIoError, fmt::format("{}: cannot resolve {}: {}", options.name,
                                                            options.address, ec.message()));
      }
      tcp::endpoint endpoint = results.begin()->endpoint();
      auto& acceptor = shared_->acceptor;
      acceptor.open(endpoint.protocol(), ec);
      if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
      if (!ec) acceptor.bind(endpoint, ec);
      if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
      if (ec) {
        beast::error_code ignored;
        acceptor.close(ignored);
        return sdk::Status(sdk::Code::kIoError, fmt::format("{}: cannot listen on {}:{}: {}", options.name,
                                                            options.address, options.port, ec.message()));
      }
      port_ = acceptor.local_endpoint(ec).port();
      shared_->enter();
      started_ = true;
      asio::co_spawn(shared_->strand, acceptLoop(shared_), asio::detached);
      return sdk::Status::ok();
    } catch (const std::exception& e) {
      return sdk::Status(sdk::Code::kIoError, fmt::format("{}: {}", shared_->options.name, e.what()));
    }
  }

  void stop() noexcept override {
    std::vector<std::shared_ptr<Connection>> open;
    {
      std::lock_guard lock(shared_->mutex);
      if (shared_->stopping) return;
      shared_->stopping = true;
      for (auto& [id, weak] : shared_->connections) {
        if (auto connection = weak.lock()) open.push_back(std::move(connection));
      }
    }
    if (!started_) return;
    try {
      auto shared = shared_;
      asio::post(shared->strand, [shared] {
        beast::error_code ignored;
        shared->acceptor.close(ignored);
      });
      for (auto& connection : open) {
        asio::post(connection->stream.get_executor(), [connection] { connection->stream.close(); });
      }
      open.clear();
      std::unique_lock lock(shared->mutex);
      if (!shared->idle.wait_for(lock, kStopWait, [&] { return shared->active == 0; })) {
        shared->logger.error("{}: {} connection(s) still open after {} s", shared->options.name,
                             shared->active, kStopWait.count());
      }
    } catch (...) {
    }
  }

  int port() const noexcept override { return port_; }

 private:
  std::shared_ptr<Shared> shared_;
  bool started_ = false;
  int port_ = 0;
};

}  // namespace

std::unique_ptr<HttpServer> makeHttpServer(boost::asio::io_context& io, boost::asio::thread_pool& pool,
                                           sdk::Logger& logger, HttpServerOptions options,
                                           HttpHandler handler) {
  return std::make_unique<BeastHttpServer>(io, pool, logger, std::move(options), std::move(handler));
}

}  // namespace corral::plugins::http
