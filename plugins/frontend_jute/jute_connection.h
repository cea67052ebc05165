// One client connection of frontend.jute: the socket (plain or TLS), its strand, framing, the handshake,
// four-letter words, and the sdk::ClientConnection the kernel answers through.
//
// Threading
// - Everything on the read side (framing, decoding, submitting, the session pointer, closing
//   the socket) runs on the connection's strand.
// - sendResponse/sendEvent/close come from kernel threads. They encode straight into
//   `pending_` under a mutex (held for the encode only) and post one flush to the strand when
//   no write chain is running. The strand swaps `pending_` with `writing_` and writes the
//   whole batch with one async_write, so frames queued while a write is in flight go out
//   together in the next one. Both buffers keep their capacity: no allocation per frame in
//   the steady state. Frames leave in call order (FIFO).
// - The connection tells the kernel it is gone (ClientSession::connectionClosed) exactly once,
//   when the socket is closed and no operation of its own is pending, whatever the reason.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "corral/frontend.h"
#include "frontend_context.h"

namespace boost::asio::ssl {
class context;
}

namespace corral::plugins::jute {

// What the listener and FrontendContext see of a connection. The code is one template over the
// stream type (jute_connection.cc): a plain tcp::socket, or an ssl::stream<tcp::socket> on
// secureClientPort, so the plaintext path has no indirection it did not have before.
class JuteConnection : public sdk::ClientConnection {
 public:
  // Starts reading (any thread); a TLS connection first runs its handshake.
  virtual void start() = 0;
  // Closes at once, dropping what is queued (server stop). Any thread.
  virtual void abort() = 0;
};

// `socket` is connected and already admitted by Host::admission() (released on finish).
std::shared_ptr<JuteConnection> makePlainConnection(boost::asio::io_context& io,
                                                    boost::asio::ip::tcp::socket socket,
                                                    std::shared_ptr<FrontendContext> context,
                                                    sdk::ConnectionInfo info);
// The same over TLS: the server handshake runs first (bounded by nio.sessionlessCnxnTimeout);
// a failed handshake closes the socket without a byte of the client protocol. After it,
// info().tls_peer_subject holds the verified client certificate's subject (RFC 2253), if any.
std::shared_ptr<JuteConnection> makeTlsConnection(boost::asio::io_context& io,
                                                  boost::asio::ip::tcp::socket socket,
                                                  std::shared_ptr<boost::asio::ssl::context> tls,
                                                  std::shared_ptr<FrontendContext> context,
                                                  sdk::ConnectionInfo info);

}  // namespace corral::plugins::jute
