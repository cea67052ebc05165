// StreamConnection<Stream>: the one class template behind JuteConnection, instantiated for a
// plain tcp::socket and for ssl::stream<tcp::socket> (secureClientPort), so the plaintext path
// has no indirection. Its members are defined in stream_connection_read.h (socket input,
// handshake, four-letter words, requests, throttling) and stream_connection_write.h (output,
// its limits, closing). Only jute_connection.cc includes these three headers: together they
// are the connection's translation unit.
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

#include "frontend_context.h"
#include "jute_connection.h"
#include "output_buffer.h"

namespace corral::plugins::jute {
namespace asio = boost::asio;

using PlainStream = asio::ip::tcp::socket;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

namespace connection_detail {

constexpr size_t kInitialInput = 16 * 1024;
// Buffers grown past this (a big request or reply) are given back once empty, so idle
// connections do not each keep a megabyte.
constexpr size_t kKeepCapacity = 256 * 1024;
// "telnet close" (IAC IP IAC DO): a known word without a command (client-protocol.md §14).
constexpr uint32_t kTelnetCloseWord = 0xfff4fffd;

inline bool isWordByte(char c) { return c > ' ' && c < 0x7f; }

}  // namespace connection_detail

template <typename Stream>
class StreamConnection final : public JuteConnection,
                               public std::enable_shared_from_this<StreamConnection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  StreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                   std::shared_ptr<asio::ssl::context> tls,
                   std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info);
  ~StreamConnection() override = default;

  void start() override;
  void abort() override;

  void sendResponse(sdk::ClientResponse response) noexcept override;
  void sendEvent(const sdk::WatcherEvent& event) noexcept override;
  void close() noexcept override;
  // Written once on the strand when the TLS handshake ends, before the ConnectRequest is read
  // (so before the kernel can see this connection); constant afterwards.
  const sdk::ConnectionInfo& info() const noexcept override { return info_; }

 private:
  enum class Phase {
    kHandshake,    // waiting for the first frame: a ConnectRequest or a four-letter word
    kConnecting,   // ConnectRequest given to the kernel; later frames wait in the buffer
    kEstablished,  // requests flow to the session
    kDraining,     // nothing more is read; the last output is flushed, then the socket closes
    kClosed,
  };

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

  // --- Read side (strand only): stream_connection_read.h
  void startTimer();
  void onTlsHandshake(const boost::system::error_code& error);
  void readMore();
  void onRead(const boost::system::error_code& error, size_t bytes);
  void processInput();
  void processThenRead();
  bool tryFourLetterWord();
  void runCommand(const sdk::Command* command, std::string word, std::string body);
  void handleConnectRequest(std::string_view payload);
  void onConnected(sdk::ConnectOutcome outcome);
  void handleRequest(std::string_view payload);
  bool shouldThrottle() const noexcept;
  void resumeReading();
  void compactInput();

  // --- Write side: stream_connection_write.h
  // Any thread. Appends one frame; its size without the length prefix, or -1 when nothing was
  // queued (output closed, or over the hard limit: then the connection is being closed).
  template <typename Encode>
  int64_t queueFrame(Encode&& encode, bool close_after) noexcept;
  void scheduleFlush();
  void releaseOutstanding() noexcept;
  void closeForOutputOverflow() noexcept;
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
  void closeNow();
  void maybeFinish();

  std::shared_ptr<asio::ssl::context> tls_;  // keeps the SSL_CTX alive (TLS only)
  Stream stream_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer stall_timer_;  // closes a connection whose output stops moving
  std::shared_ptr<FrontendContext> context_;
  sdk::ConnectionInfo info_;

  // Strand only.
  Phase phase_ = Phase::kHandshake;
  bool tls_ready_ = !kTls;  // the TLS handshake finished (always true for plain sockets)
  std::vector<char> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  bool reading_ = false;
  bool processing_input_ = false;  // inside processInput(): replies queued now flush after it
  bool flush_deferred_ = false;    // a reply was queued during processInput(); start writing after
  int pending_ops_ = 0;  // reads, writes, timers, the connect call, a running 4lw command
  bool finished_ = false;
  std::shared_ptr<sdk::ClientSession> session_;
  std::string writing_;        // the batch being written
  size_t written_ = 0;         // bytes of writing_ already on the socket
  bool write_in_flight_ = false;    // an async write (or TLS shutdown) is pending
  bool paused_for_output_ = false;  // unsent output over the soft limit: not reading
  bool stall_timer_armed_ = false;
  std::chrono::steady_clock::time_point last_progress_;  // the running write last moved
  // How long a write may make no progress before the connection is closed: the session
  // timeout once negotiated, nio.sessionlessCnxnTimeout before.
  std::chrono::milliseconds stall_timeout_;

  OutputBuffer output_;  // replies and events, from any thread

  std::atomic<bool> paused_{false};       // stopped reading for globalOutstandingLimit
  std::atomic<int64_t> outstanding_{0};  // own requests (xid > 0) not answered yet
};

template <typename Stream>
StreamConnection<Stream>::StreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                           std::shared_ptr<asio::ssl::context> tls,
                                           std::shared_ptr<FrontendContext> context,
                                           sdk::ConnectionInfo info)
    : tls_(std::move(tls)),
      stream_(openStream(std::move(socket), tls_.get())),
      strand_(asio::make_strand(io)),
      handshake_timer_(strand_),
      stall_timer_(strand_),
      context_(std::move(context)),
      info_(std::move(info)),
      stall_timeout_(context_->settings.handshake_timeout_ms),
      output_(context_->output_limits) {
  context_->metrics.alive_connections.add(1);
}

}  // namespace corral::plugins::jute
