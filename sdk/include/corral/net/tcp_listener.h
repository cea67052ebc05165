// TcpListener: the accept loop of a stream front end (part of the SDK's connection kit,
// corral/net/). It binds (an address or a host name, SO_REUSEADDR as ZooKeeper), admits each
// socket through Host::admission() (maxClientCnxns/maxCnxns over every front end; a refused
// socket is reset at once), sets TCP_NODELAY, builds the connection with the front end's
// factory, tracks it in the StreamContext and starts it. An accept error such as EMFILE is
// retried after a short pause instead of spinning.
//
// Threading: the loop runs on its own strand of the io_context; close() may be called from
// any thread. Shared, so its handlers stay valid whatever happens to the plugin object.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "corral/net/stream_context.h"
#include "corral/status.h"

namespace corral::sdk::net {

// "1.2.3.4" for an IPv4-mapped IPv6 address, as Java prints a v4 peer.
inline std::string addressText(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

class TcpListener : public std::enable_shared_from_this<TcpListener> {
 public:
  // Builds one connection for an admitted socket; `tls` is the listener's TLS context (null
  // for plaintext).
  using Factory = std::function<std::shared_ptr<StreamClientConnection>(
      boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
      ConnectionInfo info)>;

  // Opens, binds and listens; nothing is accepted before accept(). `what` names the listener
  // in the log ("plaintext clients", "Thrift clients", ...). backlog <= 0: the OS default.
  static Result<std::shared_ptr<TcpListener>> open(boost::asio::io_context& io,
                                                   std::shared_ptr<StreamContext> context,
                                                   const std::string& host, uint16_t port, int backlog,
                                                   std::shared_ptr<boost::asio::ssl::context> tls,
                                                   Factory factory, const std::string& what);

  TcpListener(boost::asio::io_context& io, std::shared_ptr<StreamContext> context,
              std::shared_ptr<boost::asio::ssl::context> tls, Factory factory)
      : io_(io), strand_(boost::asio::make_strand(io)), acceptor_(strand_), retry_(strand_),
        context_(std::move(context)), tls_(std::move(tls)), factory_(std::move(factory)) {}

  uint16_t localPort() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }

  void accept() {
    if (!context_->beginWork()) return;
    acceptor_.async_accept(
        io_, boost::asio::bind_executor(strand_, [self = shared_from_this()](
                                                     const boost::system::error_code& ec,
                                                     boost::asio::ip::tcp::socket socket) {
          self->onAccept(ec, std::move(socket));
          self->context_->endWork();
        }));
  }

  void close() {
    boost::asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  static constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

  void onAccept(const boost::system::error_code& error, boost::asio::ip::tcp::socket socket) {
    if (error == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) {
      context_->logger.warn("accept failed: {}", error.message());
      if (!context_->beginWork()) return;
      retry_.expires_after(kAcceptRetryDelay);
      retry_.async_wait(boost::asio::bind_executor(
          strand_, [self = shared_from_this()](const boost::system::error_code& ec) {
            if (!ec) self->accept();
            self->context_->endWork();
          }));
      return;
    }
    try {
      admit(std::move(socket));
    } catch (const std::exception& e) {
      context_->logger.warn("dropping a new connection: {}", e.what());
    }
    accept();
  }

  void admit(boost::asio::ip::tcp::socket socket) {
    boost::system::error_code ec;
    const boost::asio::ip::tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    ConnectionInfo info;
    info.remote_address = addressText(remote.address());
    info.remote_port = remote.port();
    const int64_t most = context_->limits.max_connections;
    if (most > 0 && context_->connectionCount() >= most) {
      context_->logger.warn("refusing a connection from {}: {} connections open, the most this port takes",
                            info.remote_address, most);
      return reset(socket);
    }
    // The kernel counts the connection against maxClientCnxns/maxCnxns (over every front
    // end), and on refusal has already logged ZooKeeper's line and counted it.
    if (context_->admission.admitConnection(info.remote_address) != Admission::kAdmitted) {
      return reset(socket);
    }
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    std::shared_ptr<StreamClientConnection> connection;
    try {
      connection = factory_(std::move(socket), tls_, info);
    } catch (...) {
      context_->admission.releaseConnection(info.remote_address);
      throw;
    }
    if (!context_->track(connection)) {
      connection->abort();  // stopping: closes and releases through the normal path
      return;
    }
    connection->start();
  }

  static void reset(boost::asio::ip::tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);  // RST, as ZooKeeper
    socket.close(ignored);
  }

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::shared_ptr<StreamContext> context_;
  std::shared_ptr<boost::asio::ssl::context> tls_;
  Factory factory_;
};

inline Result<std::shared_ptr<TcpListener>> TcpListener::open(
    boost::asio::io_context& io, std::shared_ptr<StreamContext> context, const std::string& host,
    uint16_t port, int backlog, std::shared_ptr<boost::asio::ssl::context> tls, Factory factory,
    const std::string& what) {
  using tcp = boost::asio::ip::tcp;
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    // A host name, as ZooKeeper's InetAddress.getByName accepts: bind its first address.
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      return Status(Code::kIoError, "cannot listen on " + host + ":" + std::to_string(port) + ": " +
                                        (ec ? ec.message() : std::string("no address")));
    }
    endpoint = results.begin()->endpoint();
  }
  Logger& logger = context->logger;
  auto listener = std::make_shared<TcpListener>(io, std::move(context), std::move(tls), std::move(factory));
  tcp::acceptor& acceptor = listener->acceptor_;
  const auto fail = [&](const char* step) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    return Status(Code::kIoError, "cannot listen on " + addressText(endpoint.address()) + ":" +
                                      std::to_string(endpoint.port()) + ": " + ec.message() +
                                      (step[0] != '\0' ? std::string(" (") + step + ")" : std::string()));
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);  // as ZooKeeper does
  acceptor.bind(endpoint, ec);
  if (ec) return fail("");
  acceptor.listen(backlog > 0 ? backlog : tcp::acceptor::max_listen_connections, ec);
  if (ec) return fail("listen");
  logger.info("listening for {} on {}:{}", what, addressText(endpoint.address()), listener->localPort());
  return listener;
}

// A front end's stop(): closes its listeners and every connection (dropping unsent output),
// then waits (up to `timeout`) until no handler, connect call or command is pending. Call it
// from a thread that does not run the io_context.
inline void stopServing(StreamContext& context, std::initializer_list<TcpListener*> listeners,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  for (TcpListener* listener : listeners) {
    if (listener != nullptr) listener->close();
  }
  for (auto& connection : context.beginStop()) connection->abort();
  if (!context.waitIdle(timeout)) {
    context.logger.warn("stop: client connections still closing after {} ms", timeout.count());
  }
}

}  // namespace corral::sdk::net
