// The write side of FramedConnection (see framed_connection.h): frames into the bounded
// OutputBuffer, batches onto the socket, the output limits (soft: stop reading; hard: close; no
// progress for the session timeout: close), and closing.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include "corral/net/framed_connection.h"

namespace corral::sdk::net {

// ---------------------------------------------------------------------------------------------
// Queueing (any thread)

template <typename Stream, typename Derived>
template <typename Encode>
int64_t FramedConnection<Stream, Derived>::queueFrame(Encode&& encode, bool close_after) noexcept {
  const OutputBuffer::Appended appended = output_.append(std::forward<Encode>(encode), close_after);
  if (appended.over_hard_limit) {
    closeForOutputOverflow();
    return -1;
  }
  if (appended.encode_failed) {
    context_->logger.error("closing {}:{}: out of memory encoding a reply", info_.remote_address,
                           info_.remote_port);
  }
  if (appended.start_flush) {
    // On this connection's strand while it decodes input (the kernel answered inline): the
    // write starts when decoding ends. Anywhere else: post it to the strand.
    if (strand_.running_in_this_thread() && processing_input_) {
      flush_deferred_ = true;
    } else {
      scheduleFlush();
    }
  }
  return appended.frame_bytes;
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::scheduleFlush() {
  try {
    asio::post(strand_, [self = this->shared_from_this()] { self->startWrite(); });
  } catch (...) {
    // Cannot post (out of memory): the flush stays marked running; the connection is lost anyway.
  }
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::close() noexcept {
  if (output_.requestClose()) scheduleFlush();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::releaseOutstanding() noexcept {
  int64_t own = outstanding_.load();
  while (own > 0 && !outstanding_.compare_exchange_weak(own, own - 1)) {
  }
  if (own <= 0) return;  // not one of ours (or already released when the socket closed)
  context_->admission.requestsAnswered(1);
  if (paused_.load() && !shouldThrottle()) {
    try {
      asio::post(strand_, [self = this->shared_from_this()] { self->resumeReading(); });
    } catch (...) {
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Writing (strand)

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::startWrite() {
  for (;;) {
    if (phase_ == Phase::kClosed || write_in_flight_) return;
    switch (output_.take(writing_)) {
      case OutputBuffer::Next::kIdle:
        // Everything is on the socket. A connection that stopped reading for its output reads
        // again; posted, because startWrite() may run inside processThenRead().
        if (paused_for_output_) postResumeCheck();
        return;
      case OutputBuffer::Next::kClose: return closeGracefully();
      case OutputBuffer::Next::kAbort: return closeNow();
      case OutputBuffer::Next::kWrite: break;
    }
    written_ = 0;
    if constexpr (!kTls) {
      // Try the send right away (the socket is non-blocking): a reply usually fits the
      // socket buffer, and then no async operation or completion handler is needed.
      boost::system::error_code ec;
      const size_t sent = stream_.write_some(asio::buffer(writing_), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return closeNow();
      if (!ec) {
        output_.written(static_cast<int64_t>(sent));
        written_ = sent;
      }
      if (written_ == writing_.size()) {
        releaseBatch();
        continue;  // whatever was queued meanwhile, or the end of the flush
      }
    }
    return writeRest();
  }
}

// Writes what is left of the batch, one write_some at a time, so each step that moves bytes
// counts as progress for the stall timer.
template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::writeRest() {
  write_in_flight_ = true;
  last_progress_ = std::chrono::steady_clock::now();
  armStallTimer();
  ++pending_ops_;
  stream_.async_write_some(
      asio::buffer(writing_.data() + written_, writing_.size() - written_),
      asio::bind_executor(strand_, [self = this->shared_from_this()](
                                       const boost::system::error_code& ec, size_t bytes) {
        self->onWritten(ec, bytes);
      }));
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::onWritten(const boost::system::error_code& error, size_t bytes) {
  --pending_ops_;
  write_in_flight_ = false;
  if (phase_ == Phase::kClosed) {
    releaseBatch();
    return maybeFinish();
  }
  if (error) return closeNow();
  output_.written(static_cast<int64_t>(bytes));
  written_ += bytes;
  if (written_ < writing_.size()) {
    writeRest();
  } else {
    releaseBatch();
    startWrite();
  }
  resumeReadingIfDrained();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::releaseBatch() {
  writing_.clear();
  written_ = 0;
  if (writing_.capacity() > connection_detail::kKeepCapacity) std::string().swap(writing_);
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::postResumeCheck() {
  try {
    asio::post(strand_, [self = this->shared_from_this()] { self->resumeReadingIfDrained(); });
  } catch (...) {
    // Out of memory: the connection stays paused until its stall timer or the client ends it.
  }
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::resumeReadingIfDrained() {
  if (!paused_for_output_ || !output_.canResumeReading() || phase_ != Phase::kEstablished) return;
  paused_for_output_ = false;
  processThenRead();
}

// ---------------------------------------------------------------------------------------------
// Output limits (strand)

// One timer per connection, armed while a write is pending: it looks at the time of the last
// progress rather than being re-armed on every completed write.
template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::armStallTimer() {
  if (stall_timer_armed_) return;
  stall_timer_armed_ = true;
  ++pending_ops_;
  stall_timer_.expires_at(last_progress_ + stall_timeout_);
  stall_timer_.async_wait(asio::bind_executor(
      strand_, [self = this->shared_from_this()](const boost::system::error_code& ec) {
        self->onStallTimer(ec);
      }));
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::onStallTimer(const boost::system::error_code& error) {
  --pending_ops_;
  stall_timer_armed_ = false;
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error || !write_in_flight_) return;  // the next write arms it again
  if (std::chrono::steady_clock::now() - last_progress_ < stall_timeout_) return armStallTimer();
  // ZooKeeper keeps such a connection (and everything queued for it) until its heap runs out.
  context_->logger.warn("closing {}:{}: the client read nothing for {} ms ({} bytes unsent)",
                        info_.remote_address, info_.remote_port, stall_timeout_.count(),
                        output_.unsentBytes());
  closeNow();
}

// Any thread: the frame that went past the hard limit was dropped with everything queued, and
// the output refuses every later frame; the strand closes the socket at once.
template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::closeForOutputOverflow() noexcept {
  try {
    context_->logger.warn("closing {}:{}: more than {} bytes of replies and events unsent "
                          "(clientOutput.hardLimitBytes)",
                          info_.remote_address, info_.remote_port, output_.limits().hard_bytes);
    asio::post(strand_, [self = this->shared_from_this()] { self->closeNow(); });
  } catch (...) {
    // Out of memory: the output is closed already; a running flush or stop() closes the socket.
  }
}

// ---------------------------------------------------------------------------------------------
// Closing (strand)

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::closeGracefully() {
  if constexpr (kTls) {
    if (tls_ready_ && phase_ != Phase::kClosed) {
      // Everything queued is written: send close_notify, without waiting for the client's
      // (marking it received makes SSL_shutdown complete once ours is out), then close. The
      // stall timer bounds it: close_notify waits for room in the socket like any write.
      SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
      write_in_flight_ = true;
      last_progress_ = std::chrono::steady_clock::now();
      armStallTimer();
      ++pending_ops_;
      stream_.async_shutdown(asio::bind_executor(
          strand_, [self = this->shared_from_this()](const boost::system::error_code&) {
            --self->pending_ops_;
            self->write_in_flight_ = false;
            self->closeNow();
          }));
      return;
    }
  }
  closeNow();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::closeNow() {
  if (phase_ == Phase::kClosed) return maybeFinish();
  phase_ = Phase::kClosed;
  output_.shutDown();
  boost::system::error_code ignored;
  asio::ip::tcp::socket& socket = tcpSocket();
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  if (!reading_) {
    // Unread input makes close() send RST, which can destroy the reply still in flight (a
    // 4lw answer, a ConnectResponse for an expired session): take a bounded look first.
    socket.non_blocking(true, ignored);
    char sink[4096];
    for (int i = 0; i < 16; ++i) {
      boost::system::error_code ec;
      if (socket.read_some(asio::buffer(sink), ec) == 0 || ec) break;
    }
  }
  socket.close(ignored);
  handshake_timer_.cancel();
  stall_timer_.cancel();
  derived().onClose();
  std::vector<char>().swap(in_);
  in_begin_ = in_end_ = 0;
  if (!write_in_flight_) releaseBatch();  // else the pending write still points into it
  maybeFinish();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::maybeFinish() {
  if (phase_ != Phase::kClosed || pending_ops_ > 0 || finished_) return;
  finished_ = true;
  context_->metrics.alive_connections.add(-1);
  const int64_t own = outstanding_.exchange(0);
  if (own > 0) context_->admission.requestsAnswered(own);
  context_->admission.releaseConnection(info_.remote_address);
  if (auto session = std::move(session_)) session->connectionClosed();
  context_->untrack(this);  // may drop the context's reference; handlers still hold one
}

}  // namespace corral::sdk::net
