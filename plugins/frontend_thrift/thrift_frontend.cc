// The listener and the plugin object of frontend.thrift.
//
// Threading: the accept loop (sdk::net::TcpListener) runs on its own strand of
// host.ioContext(); each accepted socket gets a connection with its own strand. start()/stop()
// are called by the kernel from one control thread; stop() must not be called from an
// ioContext() thread (it waits for them).
#include "thrift_frontend.h"

#include <exception>
#include <string>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "corral/net/tcp_listener.h"
#include "thrift_connection.h"
#include "thrift_context.h"

namespace corral::plugins::thrift {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

class ThriftFrontendImpl final : public ThriftFrontend {
 public:
  ThriftFrontendImpl(sdk::Host& host, ThriftSettings settings)
      : io_(host.ioContext()), context_(std::make_shared<ThriftContext>(std::move(settings), host)) {}

  ~ThriftFrontendImpl() override { stop(); }

  void attach(sdk::ClientService& service) noexcept override { context_->service.store(&service); }

  sdk::Status start() noexcept override {
    try {
      return listen();
    } catch (const std::exception& e) {
      return sdk::Status(sdk::Code::kIoError, std::string("frontend.thrift: ") + e.what());
    }
  }

  void stop() noexcept override {
    if (stopped_) return;
    stopped_ = true;
    try {
      sdk::net::stopServing(*context_, {listener_.get()});
      listener_.reset();
      port_ = 0;
    } catch (const std::exception& e) {
      context_->logger.error("stop: {}", e.what());
    }
  }

  uint16_t localPort() const noexcept override { return port_; }

 private:
  sdk::Status listen() {
    const ThriftSettings& settings = context_->settings;
    if (!settings.port) {
      return sdk::Status(sdk::Code::kInvalidConfig,
                         "frontend.thrift: thrift.port is not set (frontends lists thrift)");
    }
    if (context_->service.load() == nullptr) {
      return sdk::Status(sdk::Code::kInternal, "frontend.thrift: started before attach()");
    }
    std::shared_ptr<asio::ssl::context> tls;
    if (settings.secure) {
      // The kernel built the TLS context from ssl.* before any front end started: the same
      // certificates, trust store and x509 identities as secureClientPort.
      tls = context_->admission.tlsContext();
      if (!tls) {
        return sdk::Status(sdk::Code::kInvalidConfig,
                           "frontend.thrift: thrift.secure=true but the server has no TLS context "
                           "(set ssl.keyStore.location)");
      }
    }
    // Captures no `this`: the listener may outlive the plugin object.
    auto factory = [&io = io_, context = context_](tcp::socket socket, std::shared_ptr<asio::ssl::context> tls_context,
                                                   sdk::ConnectionInfo info) {
      return makeConnection(io, std::move(socket), std::move(tls_context), context, std::move(info));
    };
    const char* protocol = settings.protocol == WireProtocol::kCompact ? "compact" : "binary";
    auto opened = sdk::net::TcpListener::open(
        io_, context_, settings.address, *settings.port, settings.listen_backlog, std::move(tls), factory,
        std::string("Thrift clients (framed, ") + protocol + (settings.secure ? ", TLS)" : ")"));
    if (!opened) return opened.status();
    listener_ = std::move(opened).value();
    port_ = listener_->localPort();
    listener_->accept();
    return sdk::Status::ok();
  }

  asio::io_context& io_;
  std::shared_ptr<ThriftContext> context_;
  std::shared_ptr<sdk::net::TcpListener> listener_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace

std::unique_ptr<ThriftFrontend> makeThriftFrontend(sdk::Host& host, ThriftSettings settings) {
  return std::make_unique<ThriftFrontendImpl>(host, std::move(settings));
}

}  // namespace corral::plugins::thrift
