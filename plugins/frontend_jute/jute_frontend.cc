// The listener and the plugin object of frontend.jute.
//
// Threading: each accept loop (sdk::net::TcpListener) runs on its own strand of
// host.ioContext(); each accepted socket gets a connection with its own strand. start()/stop() are called by the kernel from one
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

#include "corral/net/tcp_listener.h"
#include "frontend_context.h"
#include "jute_connection.h"

namespace corral::plugins::jute {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

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
      sdk::net::stopServing(*context_, {listener_.get(), secure_listener_.get()});
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
      port_ = listener_->localPort();
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
      secure_port_ = secure_listener_->localPort();
    }
    if (listener_) listener_->accept();
    if (secure_listener_) secure_listener_->accept();
    return sdk::Status::ok();
  }

  sdk::Result<std::shared_ptr<sdk::net::TcpListener>> openListener(
      const std::string& host, uint16_t port, std::shared_ptr<asio::ssl::context> tls) {
    const bool secure = tls != nullptr;
    // Captures no `this`: the listener may outlive the plugin object.
    auto factory = [&io = io_, context = context_](tcp::socket socket,
                                                   std::shared_ptr<asio::ssl::context> tls_context,
                                                   sdk::ConnectionInfo info) {
      return tls_context ? makeTlsConnection(io, std::move(socket), std::move(tls_context), context,
                                             std::move(info))
                         : makePlainConnection(io, std::move(socket), context, std::move(info));
    };
    return sdk::net::TcpListener::open(io_, context_, host, port, context_->settings.listen_backlog,
                                       std::move(tls), factory,
                                       secure ? "TLS clients" : "plaintext clients");
  }

  asio::io_context& io_;
  std::shared_ptr<FrontendContext> context_;
  std::shared_ptr<sdk::net::TcpListener> listener_;
  std::shared_ptr<sdk::net::TcpListener> secure_listener_;  // secureClientPort (TLS)
  uint16_t port_ = 0;
  uint16_t secure_port_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<JuteFrontend> makeJuteFrontend(sdk::Host& host, FrontendSettings settings) {
  return std::make_unique<JuteFrontendImpl>(host, std::move(settings));
}

}  // namespace corral::plugins::jute
