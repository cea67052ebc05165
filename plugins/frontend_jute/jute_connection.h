// One client connection of frontend.jute: JuteStreamConnection<Stream> (jute_stream_connection.h)
// over a plain socket or TLS, built on the SDK's FramedConnection. This header is Asio-light:
// the listener sees only the factories.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "corral/net/stream_context.h"
#include "frontend_context.h"

namespace boost::asio::ssl {
class context;
}

namespace corral::plugins::jute {

// `socket` is connected and already admitted by Host::admission() (released on finish).
std::shared_ptr<sdk::net::StreamClientConnection> makePlainConnection(
    boost::asio::io_context& io, boost::asio::ip::tcp::socket socket,
    std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info);
// The same over TLS: the server handshake runs first (bounded by nio.sessionlessCnxnTimeout);
// a failed handshake closes the socket without a byte of the client protocol. After it,
// info().tls_peer_subject holds the verified client certificate's subject (RFC 2253), if any.
std::shared_ptr<sdk::net::StreamClientConnection> makeTlsConnection(
    boost::asio::io_context& io, boost::asio::ip::tcp::socket socket,
    std::shared_ptr<boost::asio::ssl::context> tls, std::shared_ptr<FrontendContext> context,
    sdk::ConnectionInfo info);

}  // namespace corral::plugins::jute
