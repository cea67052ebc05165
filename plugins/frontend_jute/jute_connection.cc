// The connection's translation unit: JuteStreamConnection<Stream> for plain sockets and for
// TLS, and the two factories the listener calls.
#include "jute_connection.h"

#include "jute_stream_connection.h"

namespace corral::plugins::jute {

std::shared_ptr<sdk::net::StreamClientConnection> makePlainConnection(
    asio::io_context& io, asio::ip::tcp::socket socket, std::shared_ptr<FrontendContext> context,
    sdk::ConnectionInfo info) {
  return std::make_shared<JuteStreamConnection<sdk::net::PlainStream>>(
      io, std::move(socket), nullptr, std::move(context), std::move(info));
}

std::shared_ptr<sdk::net::StreamClientConnection> makeTlsConnection(
    asio::io_context& io, asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
    std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info) {
  return std::make_shared<JuteStreamConnection<sdk::net::TlsStream>>(
      io, std::move(socket), std::move(tls), std::move(context), std::move(info));
}

}  // namespace corral::plugins::jute
