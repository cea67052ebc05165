// The read side of StreamConnection (see stream_connection.h): the socket's input, the TLS and
// session handshakes, four-letter words, request frames, and the globalOutstandingLimit and
// output-limit pauses. Included only by jute_connection.cc.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/client_records.h"
#include "corral/jute.h"
#include "four_letter_whitelist.h"
#include "reply_encoder.h"
#include "request_decoder.h"
#include "stream_connection.h"

namespace corral::plugins::jute {

template <typename Stream>
void StreamConnection<Stream>::start() {
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

template <typename Stream>
void StreamConnection<Stream>::startTimer() {
  // nio.sessionlessCnxnTimeout bounds the TLS handshake and the first frame together.
  handshake_timer_.expires_after(std::chrono::milliseconds(context_->settings.handshake_timeout_ms));
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

template <typename Stream>
void StreamConnection<Stream>::onTlsHandshake(const boost::system::error_code& error) {
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

template <typename Stream>
void StreamConnection<Stream>::abort() {
  asio::post(strand_, [self = this->shared_from_this()] { self->closeNow(); });
}

// ---------------------------------------------------------------------------------------------
// Read side (strand)

template <typename Stream>
void StreamConnection<Stream>::readMore() {
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

template <typename Stream>
void StreamConnection<Stream>::onRead(const boost::system::error_code& error, size_t bytes) {
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
template <typename Stream>
void StreamConnection<Stream>::processThenRead() {
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

template <typename Stream>
void StreamConnection<Stream>::processInput() {
  const int32_t max_buffer = context_->settings.max_buffer;
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
    if (phase_ == Phase::kHandshake && tryFourLetterWord()) break;
    const int32_t length = static_cast<int32_t>(sdk::jute_detail::loadBe32(in_.data() + in_begin_));
    // §1: negative or > jute.maxbuffer closes without a reply; so does an empty request after
    // the handshake (it cannot hold a RequestHeader).
    if (length < 0 || length > max_buffer || (length == 0 && phase_ == Phase::kEstablished)) {
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
    if (phase_ == Phase::kHandshake) {
      handleConnectRequest(payload);
    } else {
      handleRequest(payload);
    }
  }
  compactInput();
}

template <typename Stream>
void StreamConnection<Stream>::compactInput() {
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

template <typename Stream>
bool StreamConnection<Stream>::tryFourLetterWord() {
  const char* first = in_.data() + in_begin_;
  const uint32_t value = sdk::jute_detail::loadBe32(first);
  std::string word;
  const sdk::Command* command = nullptr;
  if (value == connection_detail::kTelnetCloseWord) {
    word = "telnet close";
  } else {
    if (!connection_detail::isWordByte(first[0]) || !connection_detail::isWordByte(first[1]) || !connection_detail::isWordByte(first[2]) ||
        !connection_detail::isWordByte(first[3])) {
      return false;
    }
    word.assign(first, 4);
    command = context_->commands.find(word);
    // Only words the admin commands serve on the client port; anything else is a length.
    if (command == nullptr || !command->four_letter) return false;
  }
  // Bytes after the word are the command's argument (stmk's 8-byte mask); the rest is ignored.
  std::string body(first + 4, in_end_ - in_begin_ - 4);
  in_begin_ = in_end_;
  phase_ = Phase::kDraining;
  if (!context_->settings.whitelist.allows(word)) {
    const std::string text = notWhitelistedText(word);
    queueFrame([&text](std::string& out) { out += text; }, true);
    return true;
  }
  if (command == nullptr) {  // telnet close: no output
    close();
    return true;
  }
  runCommand(command, std::move(word), std::move(body));
  return true;
}

template <typename Stream>
void StreamConnection<Stream>::runCommand(const sdk::Command* command, std::string word, std::string body) {
  // Commands read server state (and dirs walks the disk): keep them off the event loop.
  ++pending_ops_;
  asio::post(context_->blocking_pool, [self = this->shared_from_this(), command, word = std::move(word),
                                       body = std::move(body)]() mutable {
    std::string text;
    try {
      sdk::CommandArgs args;
      args.body = std::move(body);
      args.remote_address = self->info_.remote_address;
      args.remote_port = self->info_.remote_port;
      text = command->run(args).text;
    } catch (const std::exception& e) {
      self->context_->logger.warn("four-letter word {} failed: {}", word, e.what());
    } catch (...) {
      self->context_->logger.warn("four-letter word {} failed", word);
    }
    asio::post(self->strand_, [self, text = std::move(text)] {
      --self->pending_ops_;
      self->queueFrame([&text](std::string& out) { out += text; }, true);
      self->maybeFinish();
    });
  });
}

template <typename Stream>
void StreamConnection<Stream>::handleConnectRequest(std::string_view payload) {
  sdk::ConnectRequest request;
  sdk::JuteReader reader(payload, context_->settings.max_buffer);
  sdk::ClientService* service = context_->service.load();
  if (!decode(reader, request) || service == nullptr) {
    context_->logger.debug("closing {}:{}: first frame is not a ConnectRequest",
                           info_.remote_address, info_.remote_port);
    return closeNow();
  }
  context_->metrics.packets_received.add();
  context_->metrics.connection_request_count.add();
  context_->metrics.connection_token_deficit.add(0);  // no connection throttle: never short of tokens
  // Frames pipelined behind the ConnectRequest (auth, setWatches) stay in in_ until the
  // session exists, and the socket is not read meanwhile (as ZooKeeper does).
  phase_ = Phase::kConnecting;
  ++pending_ops_;
  service->connect(request, this->shared_from_this(), [self = this->shared_from_this()](sdk::ConnectOutcome outcome) {
    // Queue the reply here, not on the strand: the kernel may send this session's first watch
    // events as soon as done() returns, and the ConnectResponse must go out before them.
    if (outcome.response) {
      const sdk::ConnectResponse& response = *outcome.response;
      self->queueFrame([&response](std::string& out) { appendConnectResponseFrame(out, response); },
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

template <typename Stream>
void StreamConnection<Stream>::onConnected(sdk::ConnectOutcome outcome) {
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

template <typename Stream>
void StreamConnection<Stream>::handleRequest(std::string_view payload) {
  sdk::ClientRequest request;
  if (!decodeRequestFrame(payload, context_->settings.max_buffer, request)) {
    context_->logger.debug("closing {}:{}: request shorter than its header",
                           info_.remote_address, info_.remote_port);
    return closeNow();
  }
  context_->metrics.packets_received.add();
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

template <typename Stream>
bool StreamConnection<Stream>::shouldThrottle() const noexcept {
  return context_->admission.shouldThrottle(outstanding_.load());
}

template <typename Stream>
void StreamConnection<Stream>::resumeReading() {
  if (!paused_.load() || shouldThrottle()) return;
  paused_.store(false);
  processThenRead();
}

}  // namespace corral::plugins::jute
