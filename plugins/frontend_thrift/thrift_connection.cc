// The connection's translation unit: ThriftStreamConnection<Stream> for plain sockets and for
// TLS (thrift.secure), and the factory the listener calls.
#include "thrift_connection.h"

#include "thrift_stream_connection.h"

namespace corral::plugins::thrift {

std::shared_ptr<sdk::net::StreamClientConnection> makeConnection(
    asio::io_context& io, asio::ip::tcp::socket socket, std::shared_ptr<asio::ssl::context> tls,
    std::shared_ptr<ThriftContext> context, sdk::ConnectionInfo info) {
  if (tls) {
    return std::make_shared<ThriftStreamConnection<sdk::net::TlsStream>>(
        io, std::move(socket), std::move(tls), std::move(context), std::move(info));
  }
  return std::make_shared<ThriftStreamConnection<sdk::net::PlainStream>>(
      io, std::move(socket), nullptr, std::move(context), std::move(info));
}

}  // namespace corral::plugins::thrift
