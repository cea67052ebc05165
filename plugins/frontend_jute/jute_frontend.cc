// The listener and the plugin object of frontend.jute.
//
// Threading: the accept loop runs on its own strand of host.ioContext(); each accepted socket
// gets a JuteConnection with its own strand. start()/stop() are called by the kernel from one
// control thread; stop() must not be called from an ioContext() thread (it waits for them).
#include "jute_frontend.h"

#include <chrono>
#include <exception>
#include <string>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>

#include <boost/asio/ssl/context.hpp>

#include "frontend_context.h"
#include "jute_connection.h"

namespace corral::plugins::jute {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kStopTimeout = std::chrono::seconds(10);
// After an accept error such as EMFILE, wait before the next try instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string addressText(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// The accept loop; shared so its handlers stay valid whatever happens to the plugin object.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `tls` set: every accepted socket speaks TLS (secureClientPort).
  Listener(asio::io_context& io, std::shared_ptr<FrontendContext> context,
           std::shared_ptr<asio::ssl::context> tls)
      : io_(io), strand_(asio::make_strand(io)), acceptor_(strand_), retry_(strand_),
        context_(std::move(context)), tls_(std::move(tls)) {}

  tcp::acceptor& acceptor() { return acceptor_; }

  void accept() {
    if (!context_->beginWork()) return;
    acceptor_.async_accept(
        io_, asio::bind_executor(strand_, [self = shared_from_this()](
                                              const boost::system::error_code& ec, tcp::socket socket) {
          self->onAccept(ec, std::move(socket));
          self->context_->endWork();
        }));
  }

  void close() {
    asio::post(strand_, [self = shared_from_this()] {
      boost::system::error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  void onAccept(const boost::system::error_code& error, tcp::socket socket) {
    if (error == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) {
      context_->logger.warn("accept failed: {}", error.message());
      if (!context_->beginWork()) return;
      retry_.expires_after(kAcceptRetryDelay);
      retry_.async_wait(asio::bind_executor(strand_, [self = shared_from_this()](
                                                         const boost::system::error_code& ec) {
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

  void admit(tcp::socket socket) {
    boost::system::error_code ec;
    const tcp::endpoint remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    sdk::ConnectionInfo info;
    info.remote_address = addressText(remote.address());
    info.remote_port = remote.port();

    // The kernel counts the connection against maxClientCnxns/maxCnxns (over every front
    // end), and on refusal has already logged ZooKeeper's line and counted it.
    if (context_->admission.admitConnection(info.remote_address) != sdk::Admission::kAdmitted) {
      return refuse(socket);  // a fast close (RST), as ZooKeeper
    }
    socket.set_option(tcp::no_delay(true), ec);
    std::shared_ptr<JuteConnection> connection;
    try {
      connection = tls_ ? makeTlsConnection(io_, std::move(socket), tls_, context_, info)
                        : makePlainConnection(io_, std::move(socket), context_, info);
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

  void refuse(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
  }

  asio::io_context& io_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  std::shared_ptr<FrontendContext> context_;
  std::shared_ptr<asio::ssl::context> tls_;
};

class JuteFrontendImpl final : public JuteFrontend {
 public:
  JuteFrontendImpl(sdk::Host& host, FrontendSettings settings)
      : io_(host.ioContext()), context_(std::make_shared<FrontendContext>(std::move(settings), host)) {}

  ~JuteFrontendImpl() override { stop(); }

  void attach(sdk::ClientService& service) noexcept override { context_->service.store(&service); }

  sdk::Status start() noexcept override {
    try {
      return listen();
    } catch (const std::exception& e) {
      return sdk::Status(sdk::Code::kIoError, std::string("frontend.jute: ") + e.what());
    }
  }

  void stop() noexcept override {
    if (stopped_) return;
    stopped_ = true;
    try {
      if (listener_) listener_->close();
      if (secure_listener_) secure_listener_->close();
      for (auto& connection : context_->beginStop()) connection->abort();
      if (!context_->waitIdle(kStopTimeout)) {
        context_->logger.warn("stop: client connections still closing after {} s",
                              std::chrono::seconds(kStopTimeout).count());
      }
      listener_.reset();
      secure_listener_.reset();
      port_ = 0;
      secure_port_ = 0;
    } catch (const std::exception& e) {
      context_->logger.error("stop: {}", e.what());
    }
  }

  uint16_t localPort() const noexcept override { return port_; }
  uint16_t localSecurePort() const noexcept override { return secure_port_; }

 private:
  sdk::Status listen() {
    const FrontendSettings& settings = context_->settings;
    if ((settings.client_port || settings.secure_client_port) && context_->service.load() == nullptr) {
      return sdk::Status(sdk::Code::kInternal, "frontend.jute: started before attach()");
    }
    // The kernel built the TLS context from ssl.* before any front end started (a bad key
    // store stopped the server there).
    std::shared_ptr<asio::ssl::context> tls;
    if (settings.secure_client_port) {
      tls = context_->admission.tlsContext();
      if (!tls) {
        return sdk::Status(sdk::Code::kInternal,
                           "frontend.jute: secureClientPort is set but the server has no TLS context");
      }
    }
    if (!settings.client_port) {
      // ZooKeeper's meaning of a missing clientPort: no plain client listener at all.
      context_->logger.info("clientPort is not set: not listening for plaintext clients");
    } else {
      auto opened = openListener(settings.client_port_address, *settings.client_port, nullptr);
      if (!opened) return opened.status();
      listener_ = std::move(opened).value();
      boost::system::error_code ec;
      port_ = listener_->acceptor().local_endpoint(ec).port();
    }
    if (tls) {
      auto opened =
          openListener(settings.secure_client_port_address, *settings.secure_client_port, tls);
      if (!opened) {
        if (listener_) listener_->close();
        listener_.reset();
        port_ = 0;
        return opened.status();
      }
      secure_listener_ = std::move(opened).value();
      boost::system::error_code ec;
      secure_port_ = secure_listener_->acceptor().local_endpoint(ec).port();
    }
    if (listener_) listener_->accept();
    if (secure_listener_) secure_listener_->accept();
    return sdk::Status::ok();
  }

  sdk::Result<std::shared_ptr<Listener>> openListener(const std::string& host, uint16_t port,
                                                      std::shared_ptr<asio::ssl::context> tls) {
    const FrontendSettings& settings = context_->settings;
    boost::system::error_code ec;
    tcp::endpoint endpoint;
    const asio::ip::address address = asio::ip::make_address(host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(address, port);
    } else {
      // A host name, as ZooKeeper's InetAddress.getByName accepts: bind its first address.
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(host, std::to_string(port), ec);
      if (ec || results.empty()) {
        return sdk::Status(sdk::Code::kIoError,
                           "cannot listen on " + host + ":" + std::to_string(port) + ": " +
                               (ec ? ec.message() : std::string("no address")));
      }
      endpoint = results.begin()->endpoint();
    }

    const bool secure = tls != nullptr;
    auto listener = std::make_shared<Listener>(io_, context_, std::move(tls));
    tcp::acceptor& acceptor = listener->acceptor();
    const auto fail = [&](const char* what) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
      return sdk::Status(sdk::Code::kIoError,
                         "cannot listen on " + addressText(endpoint.address()) + ":" +
                             std::to_string(endpoint.port()) + ": " + ec.message() +
                             (what[0] != '\0' ? std::string(" (") + what + ")" : std::string()));
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) return fail("socket");
    acceptor.set_option(tcp::acceptor::reuse_address(true), ec);  // as ZooKeeper does
    acceptor.bind(endpoint, ec);
    if (ec) return fail("");
    const int backlog =
        settings.listen_backlog > 0 ? settings.listen_backlog : tcp::acceptor::max_listen_connections;
    acceptor.listen(backlog, ec);
    if (ec) return fail("listen");
    const uint16_t bound = acceptor.local_endpoint(ec).port();
    context_->logger.info("listening for {} clients on {}:{}", secure ? "TLS" : "plaintext",
                          addressText(endpoint.address()), bound);
    return listener;
  }

  asio::io_context& io_;
  std::shared_ptr<FrontendContext> context_;
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<Listener> secure_listener_;  // secureClientPort (TLS)
  uint16_t port_ = 0;
  uint16_t secure_port_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<JuteFrontend> makeJuteFrontend(sdk::Host& host, FrontendSettings settings) {
  return std::make_unique<JuteFrontendImpl>(host, std::move(settings));
}

}  // namespace corral::plugins::jute
