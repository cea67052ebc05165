// One client connection of frontend.jute: the socket, its strand, framing, the handshake,
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

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "corral/frontend.h"
#include "frontend_context.h"

namespace corral::plugins::jute {

class JuteConnection final : public sdk::ClientConnection,
                             public std::enable_shared_from_this<JuteConnection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // `socket` is connected and already admitted by the ConnectionLimiter (released on finish).
  JuteConnection(boost::asio::io_context& io, Socket socket,
                 std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info);
  ~JuteConnection() override;

  // Starts reading (any thread).
  void start();
  // Closes at once, dropping what is queued (server stop). Any thread.
  void abort();

  void sendResponse(sdk::ClientResponse response) noexcept override;
  void sendEvent(const sdk::WatcherEvent& event) noexcept override;
  void close() noexcept override;
  const sdk::ConnectionInfo& info() const noexcept override { return info_; }

 private:
  enum class Phase {
    kHandshake,    // waiting for the first frame: a ConnectRequest or a four-letter word
    kConnecting,   // ConnectRequest given to the kernel; later frames wait in the buffer
    kEstablished,  // requests flow to the session
    kDraining,     // nothing more is read; the last output is flushed, then the socket closes
    kClosed,
  };

  // Strand only.
  void readMore();
  void onRead(const boost::system::error_code& error, size_t bytes);
  void processInput();
  bool tryFourLetterWord();
  void runCommand(const sdk::Command* command, std::string word, std::string body);
  void handleConnectRequest(std::string_view payload);
  void onConnected(sdk::ConnectOutcome outcome);
  void handleRequest(std::string_view payload);
  bool shouldThrottle() const noexcept;
  void resumeReading();
  void startWrite();
  void onWritten(const boost::system::error_code& error);
  void closeNow();
  void maybeFinish();
  void compactInput();

  // Any thread.
  // Appends one frame to pending_ unless output is closed; false if nothing was queued.
  template <typename Encode>
  bool queueFrame(Encode&& encode, bool close_after) noexcept;
  void scheduleFlush();
  void releaseOutstanding() noexcept;

  Socket socket_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer handshake_timer_;
  std::shared_ptr<FrontendContext> context_;
  const sdk::ConnectionInfo info_;

  // Strand only.
  Phase phase_ = Phase::kHandshake;
  std::vector<char> in_;
  size_t in_begin_ = 0;
  size_t in_end_ = 0;
  bool reading_ = false;
  int pending_ops_ = 0;  // reads, writes, the timer, the connect call, a running 4lw command
  bool finished_ = false;
  std::shared_ptr<sdk::ClientSession> session_;
  std::string writing_;

  // Written under out_mutex_.
  std::mutex out_mutex_;
  std::string pending_;
  bool write_scheduled_ = false;
  bool output_closed_ = false;
  std::atomic<bool> close_requested_{false};

  std::atomic<bool> paused_{false};        // stopped reading for globalOutstandingLimit
  std::atomic<int64_t> outstanding_{0};   // own requests (xid > 0) not answered yet
};

}  // namespace corral::plugins::jute
