// The read side of FramedConnection (see framed_connection.h): the socket's input, the TLS and
// session handshakes, framing, submitting requests, and the globalOutstandingLimit and
// output-limit pauses.
#pragma once

#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>

#include "corral/net/framed_connection.h"

namespace corral::sdk::net {

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::start() {
  asio::post(strand_, [self = this->shared_from_this()] {
    self->in_.resize(connection_detail::kInitialInput);
    self->startTimer();
    if constexpr (kTls) {
      ++self->pending_ops_;
      self->context_->metrics.outstanding_tls_handshake.add(1);
      self->stream_.async_handshake(
          asio::ssl::stream_base::server,
          asio::bind_executor(self->strand_, [self](const boost::system::error_code& ec) {
            self->onTlsHandshake(ec);
          }));
    } else {
      // Replies are sent with a direct non-blocking write first (startWrite).
      boost::system::error_code ignored;
      self->stream_.non_blocking(true, ignored);
      self->readMore();
    }
  });
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::startTimer() {
  // nio.sessionlessCnxnTimeout bounds the TLS handshake and the first frame together.
  handshake_timer_.expires_after(std::chrono::milliseconds(context_->limits.handshake_timeout_ms));
  ++pending_ops_;
  handshake_timer_.async_wait(
      asio::bind_executor(strand_, [self = this->shared_from_this()](const boost::system::error_code& ec) {
        --self->pending_ops_;
        // Only a connection still waiting for its first frame is cut; one whose
        // ConnectRequest is with the kernel waits for the kernel.
        if (!ec && self->phase_ == Phase::kHandshake) {
          self->context_->logger.debug("closing {}:{}: no handshake in time",
                                       self->info_.remote_address, self->info_.remote_port);
          self->context_->metrics.sessionless_connections_expired.add();
          return self->closeNow();
        }
        self->maybeFinish();
      }));
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::onTlsHandshake(const boost::system::error_code& error) {
  --pending_ops_;
  context_->metrics.outstanding_tls_handshake.add(-1);
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error) {
    // An untrusted or expired certificate, no certificate with ssl.clientAuth=need, a plaintext
    // client, no common protocol or cipher: closed without a byte of the client protocol.
    context_->metrics.unsuccessful_handshake.add();
    context_->logger.warn("TLS handshake with {}:{} failed: {}", info_.remote_address,
                          info_.remote_port, error.message());
    return closeNow();
  }
  if constexpr (kTls) {
    info_.tls_peer_subject = context_->admission.verifiedPeerSubject(stream_.native_handle());
  }
  tls_ready_ = true;
  try {
    readMore();
  } catch (const std::exception& e) {
    context_->logger.warn("closing {}:{}: {}", info_.remote_address, info_.remote_port, e.what());
    closeNow();
  }
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::abort() {
  asio::post(strand_, [self = this->shared_from_this()] { self->closeNow(); });
}

// ---------------------------------------------------------------------------------------------
// Read side (strand)

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::readMore() {
  if (!tls_ready_ || reading_ || (phase_ != Phase::kHandshake && phase_ != Phase::kEstablished)) {
    return;
  }
  if (paused_.load() || paused_for_output_ || output_.closeRequested()) return;
  if (in_end_ == in_.size()) in_.resize(in_.empty() ? connection_detail::kInitialInput : in_.size() * 2);
  reading_ = true;
  ++pending_ops_;
  stream_.async_read_some(
      asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      asio::bind_executor(strand_, [self = this->shared_from_this()](const boost::system::error_code& ec,
                                                               size_t bytes) {
        self->onRead(ec, bytes);
      }));
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::onRead(const boost::system::error_code& error, size_t bytes) {
  reading_ = false;
  --pending_ops_;
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error) {
    // EOF or a reset: the client is gone (ZooKeeper closes on EOF even with replies pending).
    return closeNow();
  }
  in_end_ += bytes;
  context_->metrics.bytes_received_count.add(static_cast<int64_t>(bytes));
  processThenRead();
}

// Decodes what is buffered, then reads more; a failure closes this connection only.
template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::processThenRead() {
  try {
    processing_input_ = true;
    processInput();
    processing_input_ = false;
    if (flush_deferred_) {
      // Replies to everything this read brought, written at once (often in one send) without
      // a trip through the scheduler.
      flush_deferred_ = false;
      startWrite();
    }
    readMore();
  } catch (const std::exception& e) {
    processing_input_ = false;
    flush_deferred_ = false;
    context_->logger.warn("closing {}:{}: {}", info_.remote_address, info_.remote_port, e.what());
    closeNow();
  }
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::processInput() {
  const int32_t max_frame = context_->limits.max_frame;
  while (phase_ == Phase::kHandshake || phase_ == Phase::kEstablished) {
    if (phase_ == Phase::kEstablished) {
      if (paused_.load() || output_.closeRequested()) break;
      if (output_.overSoftLimit()) {
        // Replies to what was taken already are more than the client reads: take nothing more
        // (frames stay in in_, the socket is not read) until half of it has drained.
        context_->logger.debug("not reading {}:{}: {} bytes of output unsent",
                               info_.remote_address, info_.remote_port, output_.unsentBytes());
        paused_for_output_ = true;
        break;
      }
    }
    const size_t available = in_end_ - in_begin_;
    if (available < 4) break;
    if (phase_ == Phase::kHandshake &&
        derived().onHandshakeBytes(std::string_view(in_.data() + in_begin_, available))) {
      in_begin_ = in_end_;
      break;
    }
    const int32_t length = static_cast<int32_t>(connection_detail::loadBe32(in_.data() + in_begin_));
    // Negative or over the limit closes without a reply; so does an empty request after the
    // handshake (it cannot hold a request).
    if (length < 0 || length > max_frame || (length == 0 && phase_ == Phase::kEstablished)) {
      context_->logger.debug("closing {}:{}: bad frame length {}", info_.remote_address,
                             info_.remote_port, length);
      return closeNow();
    }
    const size_t frame = 4 + static_cast<size_t>(length);
    if (available < frame) {
      if (in_.size() - in_begin_ < frame) {
        compactInput();
        if (in_.size() < frame) in_.resize(frame);
      }
      break;
    }
    const std::string_view payload(in_.data() + in_begin_ + 4, static_cast<size_t>(length));
    in_begin_ += frame;
    derived().onFrame(payload);
  }
  compactInput();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::compactInput() {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    if (in_.size() > connection_detail::kKeepCapacity) {
      std::vector<char>(connection_detail::kInitialInput).swap(in_);
    }
    return;
  }
  if (in_begin_ == 0) return;
  std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
  in_end_ -= in_begin_;
  in_begin_ = 0;
}

template <typename Stream, typename Derived>
template <typename Reply>
void FramedConnection<Stream, Derived>::connectSession(const ConnectRequest& request, Reply reply) {
  ClientService* service = context_->service.load();
  if (service == nullptr) return closeNow();
  context_->metrics.connection_request_count.add();
  context_->metrics.connection_token_deficit.add(0);  // no connection throttle: never short of tokens
  // Frames pipelined behind the handshake (auth, setWatches) stay in in_ until the session
  // exists, and the socket is not read meanwhile (as ZooKeeper does).
  phase_ = Phase::kConnecting;
  ++pending_ops_;
  service->connect(request, this->shared_from_this(),
                   [self = this->shared_from_this(), reply = std::move(reply)](ConnectOutcome outcome) mutable {
    // Queue the reply here, not on the strand: the kernel may send this session's first watch
    // events as soon as done() returns, and the handshake's reply must go out before them.
    if (outcome.response) {
      self->queueFrame([&reply, &outcome](std::string& out) { reply(out, outcome); },
                       /*close_after=*/outcome.session == nullptr);
    }
    try {
      asio::post(self->strand_, [self, outcome = std::move(outcome)]() mutable {
        self->onConnected(std::move(outcome));
      });
    } catch (...) {
      // Out of memory: nothing sensible is left; the connection closes when the client gives up.
    }
  });
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::onConnected(ConnectOutcome outcome) {
  --pending_ops_;
  if (phase_ == Phase::kClosed) {
    // The socket went away while the kernel was connecting: tell it once, here.
    if (outcome.session) outcome.session->connectionClosed();
    return maybeFinish();
  }
  if (!outcome.response) return closeNow();  // e.g. the client has seen a newer zxid
  if (!outcome.session) {
    phase_ = Phase::kDraining;  // expired/invalid session: the reply (queued), then close
    return;
  }
  session_ = std::move(outcome.session);
  phase_ = Phase::kEstablished;
  // A client that hears nothing for its session timeout gives the connection up (its read
  // timeout is 2/3 of it), so output that stops moving for that long is not waited for.
  if (outcome.response->timeout > 0) {
    stall_timeout_ = std::chrono::milliseconds(outcome.response->timeout);
  }
  handshake_timer_.cancel();
  processThenRead();
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::submitRequest(ClientRequest request) {
  if (request.xid > 0) {
    // Counted before submit: the reply may come back on another thread before submit returns.
    outstanding_.fetch_add(1);
    context_->admission.requestsSubmitted(1);
  }
  session_->submit(std::move(request));
  if (shouldThrottle()) {
    paused_.store(true);
    // A reply that arrived between the check and the store saw paused_ == false: look again.
    if (!shouldThrottle()) paused_.store(false);
  }
}

template <typename Stream, typename Derived>
bool FramedConnection<Stream, Derived>::shouldThrottle() const noexcept {
  return context_->admission.shouldThrottle(outstanding_.load());
}

template <typename Stream, typename Derived>
void FramedConnection<Stream, Derived>::resumeReading() {
  if (!paused_.load() || shouldThrottle()) return;
  paused_.store(false);
  processThenRead();
}

}  // namespace corral::sdk::net
