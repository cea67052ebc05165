// The connection's translation unit: StreamConnection<Stream> (stream_connection*.h) for plain
// sockets and for TLS, and the two factories the listener calls.
#include "jute_connection.h"

#include "stream_connection.h"
#include "stream_connection_read.h"
#include "stream_connection_write.h"

namespace corral::plugins::jute {

std::shared_ptr<JuteConnection> makePlainConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                                    std::shared_ptr<FrontendContext> context,
                                                    sdk::ConnectionInfo info) {
  return std::make_shared<StreamConnection<PlainStream>>(io, std::move(socket), nullptr,
                                                         std::move(context), std::move(info));
}

std::shared_ptr<JuteConnection> makeTlsConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                                  std::shared_ptr<asio::ssl::context> tls,
                                                  std::shared_ptr<FrontendContext> context,
                                                  sdk::ConnectionInfo info) {
  return std::make_shared<StreamConnection<TlsStream>>(io, std::move(socket), std::move(tls),
                                                       std::move(context), std::move(info));
}

}  // namespace corral::plugins::jute
