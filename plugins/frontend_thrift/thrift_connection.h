// One client connection of frontend.thrift (thrift_stream_connection.h, over the SDK's
// FramedConnection), plain or TLS. The listener sees only the factory.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "corral/net/stream_context.h"
#include "thrift_context.h"

namespace boost::asio::ssl {
class context;
}

namespace corral::plugins::thrift {

// `socket` is connected and already admitted by Host::admission() (released on finish).
// `tls` set: the TLS handshake runs first (thrift.secure).
std::shared_ptr<sdk::net::StreamClientConnection> makeConnection(
    boost::asio::io_context& io, boost::asio::ip::tcp::socket socket,
    std::shared_ptr<boost::asio::ssl::context> tls, std::shared_ptr<ThriftContext> context,
    sdk::ConnectionInfo info);

}  // namespace corral::plugins::thrift
