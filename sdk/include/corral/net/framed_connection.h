// FramedConnection<Stream, Derived>: one client connection of a stream front end whose frames
// are a 4-byte big-endian length and a payload (ZooKeeper's jute framing, Thrift's framed
// transport), over a plain tcp::socket or an ssl::stream<tcp::socket>. Part of the SDK's
// connection kit (corral/net/); frontend.jute and frontend.thrift are built on it.
//
// It owns everything that is not the protocol: the TLS handshake and the client's x509 subject,
// reading and framing (frames over StreamLimits::max_frame close the connection), the session
// handshake timeout, the kernel's connect call, submitting requests and the
// globalOutstandingLimit pause, the bounded output (OutputBuffer: soft limit pauses intake,
// hard limit closes, a write that makes no progress for the session timeout closes), and
// closing (ClientSession::connectionClosed exactly once, when nothing is pending).
//
// The protocol is Derived (CRTP), which calls the protected services below and provides, on
// the connection's strand:
//   bool onHandshakeBytes(std::string_view available);
//       before the session handshake, with at least 4 bytes buffered: true when it took all of
//       them itself (jute's four-letter words; it must then call beginDraining()).
//   void onFrame(std::string_view payload);
//       one whole frame: the session handshake while phase() is kHandshake (Derived calls
//       connectSession), a request once kEstablished (Derived calls submitRequest).
//   void onClose();  (optional)
//       the socket is closing: cancel Derived's own timers (counted in pending_ops_).
// and the kernel-facing ClientConnection methods sendResponse and sendEvent (any thread),
// which encode with queueFrame.
//
// Threading
// - Everything on the read side (framing, decoding, submitting, the session pointer, closing
//   the socket) runs on the connection's strand.
// - queueFrame, close and releaseOutstanding may come from any thread. Frames are encoded
//   straight into the OutputBuffer under its mutex; the strand takes them in batches. Frames
//   leave in call order (FIFO).
//
// The members are defined in framed_connection_read.h and framed_connection_write.h; include
// both in the one translation unit that instantiates the template.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "corral/net/output_buffer.h"
#include "corral/net/stream_context.h"

namespace corral::sdk::net {
namespace asio = boost::asio;

using PlainStream = asio::ip::tcp::socket;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

namespace connection_detail {

constexpr size_t kInitialInput = 16 * 1024;
// Buffers grown past this (a big request or reply) are given back once empty, so idle
// connections do not each keep a megabyte.
constexpr size_t kKeepCapacity = 256 * 1024;

inline uint32_t loadBe32(const char* p) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

}  // namespace connection_detail

template <typename Stream, typename Derived>
class FramedConnection : public StreamClientConnection, public std::enable_shared_from_this<Derived> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  FramedConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                   std::shared_ptr<asio::ssl::context> tls, std::shared_ptr<StreamContext> context,
                   ConnectionInfo info);
  ~FramedConnection() override = default;

  void start() override;
  void abort() override;
  void close() noexcept override;
  // Written once on the strand when the TLS handshake ends, before the first frame is read
  // (so before the kernel can see this connection); constant afterwards.
  const ConnectionInfo& info() const noexcept override { return info_; }

 protected:
  enum class Phase {
    kHandshake,    // waiting for the first frame: the session handshake (or a 4lw for jute)
    kConnecting,   // the handshake is with the kernel; later frames wait in the buffer
    kEstablished,  // requests flow to the session
    kDraining,     // nothing more is read; the last output is flushed, then the socket closes
    kClosed,
  };

  Derived& derived() noexcept { return static_cast<Derived&>(*this); }
  void onClose() {}  // the default hook: Derived has nothing of its own to cancel
  Phase phase() const noexcept { return phase_; }

  // --- Services for Derived
  // Any thread. Appends one frame (`encode(std::string&)` appends it, length prefix included);
  // its size without the 4-byte prefix, or -1 when nothing was queued (output closed, or over
  // the hard limit: then the connection is being closed). `close_after`: close once written.
  template <typename Encode>
  int64_t queueFrame(Encode&& encode, bool close_after) noexcept;
  // Strand. Hands the session handshake to the kernel. `reply(std::string& out,
  // const ConnectOutcome&)` runs on the kernel's thread inside its answer and appends the
  // handshake's reply frame (not called when the kernel refuses without a reply); frames behind
  // the handshake stay buffered until the session exists.
  template <typename Reply>
  void connectSession(const ConnectRequest& request, Reply reply);
  // Strand, established only: submits one request to the session (xid > 0 counts against
  // globalOutstandingLimit until its response).
  void submitRequest(ClientRequest request);
  // Any thread: a request with xid > 0 was answered (call from sendResponse).
  void releaseOutstanding() noexcept;
  // Strand: nothing more is read; what is queued is written, then the socket closes.
  void beginDraining() noexcept { phase_ = Phase::kDraining; }
  // Strand: closes at once, dropping unsent output.
  void closeNow();
  // Any thread: the output went past the hard limit (OutputBuffer::append or reserve said so):
  // logs it and closes the socket at once.
  void closeForOutputOverflow() noexcept;
  // Strand: ends the connection once nothing is pending (call after an operation of
  // Derived's own, counted in pending_ops_, completes).
  void maybeFinish();

  // Strand-only state Derived may use.
  asio::strand<asio::io_context::executor_type> strand_;
  std::shared_ptr<StreamContext> context_;
  ConnectionInfo info_;
  int pending_ops_ = 0;  // reads, writes, timers, the connect call, Derived's own operations
  std::vector<char> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  std::shared_ptr<ClientSession> session_;

 private:
  // Built in place (guaranteed elision): ssl::stream need not be movable.
  static Stream openStream(asio::ip::tcp::socket socket, asio::ssl::context* tls) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *tls);
    } else {
      return socket;
    }
  }

  asio::ip::tcp::socket& tcpSocket() noexcept {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  // --- Read side (strand only): framed_connection_read.h
  void startTimer();
  void onTlsHandshake(const boost::system::error_code& error);
  void readMore();
  void onRead(const boost::system::error_code& error, size_t bytes);
  void processInput();
  void processThenRead();
  void onConnected(ConnectOutcome outcome);
  bool shouldThrottle() const noexcept;
  void resumeReading();
  void compactInput();

  // --- Write side: framed_connection_write.h
  void scheduleFlush();
  // Strand only.
  void startWrite();
  void writeRest();
  void onWritten(const boost::system::error_code& error, size_t bytes);
  void releaseBatch();
  void postResumeCheck();
  void resumeReadingIfDrained();
  void armStallTimer();
  void onStallTimer(const boost::system::error_code& error);
  void closeGracefully();

  std::shared_ptr<asio::ssl::context> tls_;  // keeps the SSL_CTX alive (TLS only)
  Stream stream_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer stall_timer_;  // closes a connection whose output stops moving

  // Strand only.
  Phase phase_ = Phase::kHandshake;
  bool tls_ready_ = !kTls;  // the TLS handshake finished (always true for plain sockets)
  bool reading_ = false;
  bool processing_input_ = false;  // inside processInput(): replies queued now flush after it
  bool flush_deferred_ = false;    // a reply was queued during processInput(); start writing after
  bool finished_ = false;
  std::string writing_;        // the batch being written
  size_t written_ = 0;         // bytes of writing_ already on the socket
  bool write_in_flight_ = false;    // an async write (or TLS shutdown) is pending
  bool paused_for_output_ = false;  // unsent output over the soft limit: not reading
  bool stall_timer_armed_ = false;
  std::chrono::steady_clock::time_point last_progress_;  // the running write last moved
  // How long a write may make no progress before the connection is closed: the session
  // timeout once negotiated, the handshake timeout before.
  std::chrono::milliseconds stall_timeout_;

 protected:
  OutputBuffer output_;  // replies and events, from any thread

 private:
  std::atomic<bool> paused_{false};       // stopped reading for globalOutstandingLimit
  std::atomic<int64_t> outstanding_{0};  // own requests (xid > 0) not answered yet
};

template <typename Stream, typename Derived>
FramedConnection<Stream, Derived>::FramedConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                                    std::shared_ptr<asio::ssl::context> tls,
                                                    std::shared_ptr<StreamContext> context,
                                                    ConnectionInfo info)
    : strand_(asio::make_strand(io)),
      context_(std::move(context)),
      info_(std::move(info)),
      tls_(std::move(tls)),
      stream_(openStream(std::move(socket), tls_.get())),
      handshake_timer_(strand_),
      stall_timer_(strand_),
      stall_timeout_(context_->limits.handshake_timeout_ms),
      output_(context_->output_limits) {
  context_->metrics.alive_connections.add(1);
}

}  // namespace corral::sdk::net
