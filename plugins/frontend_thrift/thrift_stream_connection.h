// ThriftStreamConnection<Stream>: one Thrift client connection, on the SDK's FramedConnection
// (corral/net/framed_connection.h: TLS, framing, limits, the kernel's connect, closing). What is
// Thrift's own is here: openSession as the session handshake, calls decoded into the kernel's
// requests, replies kept in call order with the watch events they carry (ReplyQueue), and the
// ping that waits for events. Only thrift_connection.cc includes it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <thrift/TApplicationException.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "corral/net/framed_connection.h"
#include "corral/net/framed_connection_read.h"
#include "corral/net/framed_connection_write.h"
#include "reply_queue.h"
#include "thrift_context.h"
#include "thrift_decoder.h"
#include "thrift_encoder.h"

namespace corral::plugins::thrift {
namespace asio = boost::asio;

template <typename Stream>
class ThriftStreamConnection final
    : public sdk::net::FramedConnection<Stream, ThriftStreamConnection<Stream>> {
  using Base = sdk::net::FramedConnection<Stream, ThriftStreamConnection<Stream>>;
  friend Base;

 public:
  ThriftStreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                         std::shared_ptr<asio::ssl::context> tls, std::shared_ptr<ThriftContext> context,
                         sdk::ConnectionInfo info)
      : Base(io, std::move(socket), std::move(tls), context, std::move(info)),
        thrift_(std::move(context)),
        decoder_(makeDecoder(thrift_->settings.protocol, thrift_->settings.max_frame)),
        encoder_(makeEncoder(thrift_->settings.protocol)),
        park_timer_(this->strand_) {}

  void sendResponse(sdk::ClientResponse response) noexcept override {
    ReplyQueue::Parked parked;
    try {
      parked = queue_.answer(std::move(response), [this](ReplyQueue::Ready& ready) { emit(ready); });
    } catch (...) {
      // Out of memory moving the answer: the client times out and reconnects.
    }
    this->releaseOutstanding();
    if (parked.wait_ms > 0) armPark(parked);
  }

  void sendEvent(const sdk::WatcherEvent& event) noexcept override {
    // Held until the next reply, and counted against the output limits meanwhile: a client that
    // never calls cannot make the server keep its events without bound.
    const int64_t cost = eventCost(event);
    if (!this->output_.reserve(cost)) return this->closeForOutputOverflow();
    try {
      queue_.event(event, [this](ReplyQueue::Ready& ready) { emit(ready); });
    } catch (...) {
      this->output_.unreserve(cost);
    }
  }

 private:
  // --- FramedConnection hooks (strand)

  bool onHandshakeBytes(std::string_view) { return false; }

  void onClose() { park_timer_.cancel(); }

  void onFrame(std::string_view payload) {
    Decoded decoded = decoder_->decode(payload);
    if (decoded.kind == Decoded::Kind::kUnreadable) {
      thrift_->logger.info("closing {}:{}: {}", this->info_.remote_address, this->info_.remote_port,
                           decoded.error);
      return this->closeNow();
    }
    thrift_->metrics.packets_received.add();
    Call& call = decoded.call;
    if (decoded.kind == Decoded::Kind::kUnknownMethod) {
      call.application_error = apache::thrift::TApplicationException::UNKNOWN_METHOD;
      call.application_message = "Invalid method name: '" + decoded.name + "'";
      call.message_name = decoded.name;
    } else if (decoded.kind == Decoded::Kind::kBadArguments) {
      call.application_error = apache::thrift::TApplicationException::PROTOCOL_ERROR;
      call.application_message = "bad arguments for " + decoded.name + ": " + decoded.error;
      call.message_name = decoded.name;
      thrift_->logger.debug("{}:{}: {}", this->info_.remote_address, this->info_.remote_port,
                            call.application_message);
    }
    const bool open = decoded.kind == Decoded::Kind::kCall && call.method == Method::kOpenSession;
    if (this->phase() == Base::Phase::kHandshake) {
      if (open) return openSession(decoded);
      // Nothing else is in flight before the session: answered at once.
      if (!call.application_error) call.application_message = "openSession must be the first call";
      sdk::ClientResponse refusal;
      refusal.err = sdk::Code::kBadArguments;
      std::vector<sdk::WatcherEvent> none;
      ReplyQueue::Ready ready{call, refusal, none};
      queue_.locked([&] { emit(ready); });
      return;
    }
    if (decoded.kind != Decoded::Kind::kCall || open) {
      // Answered by the front end, in its place among the replies.
      if (open) call.application_message = "this connection has a session already";
      sdk::ClientResponse local;
      local.err = open ? sdk::Code::kBadArguments : sdk::Code::kOk;
      local.zxid = lastZxid();
      local.xid = queue_.add(std::move(call), [this](ReplyQueue::Ready& ready) { emit(ready); });
      const ReplyQueue::Parked parked =
          queue_.answer(std::move(local), [this](ReplyQueue::Ready& ready) { emit(ready); });
      if (parked.wait_ms > 0) armPark(parked);
      return;
    }
    decoded.request.xid = queue_.add(std::move(call), [this](ReplyQueue::Ready& ready) { emit(ready); });
    this->submitRequest(std::move(decoded.request));
  }

  void openSession(Decoded& decoded) {
    this->connectSession(decoded.connect, [self = this->shared_from_this(), call = decoded.call](
                                              std::string& out, const sdk::ConnectOutcome& outcome) {
      // Runs inside the kernel's answer, before it can send this session anything else; its
      // own encoder, as the output buffer's lock is held here (the queue's is not).
      self->session_timeout_ms_.store(outcome.response->timeout);
      makeEncoder(self->thrift_->settings.protocol)
          ->appendSession(out, call, *outcome.response, outcome.session == nullptr, self->lastZxid());
    });
  }

  // --- Replies (under the queue's lock, any thread)

  void emit(ReplyQueue::Ready& ready) noexcept {
    int64_t held = 0;
    for (const auto& event : ready.events) held += eventCost(event);
    if (held > 0) this->output_.unreserve(held);
    if (ready.response.silent) return;
    const Call& call = ready.call;
    int64_t size;
    if (call.application_error != 0) {
      size = this->queueFrame(
          [&](std::string& out) {
            encoder_->appendApplicationError(out, call.message_name, call.seqid, call.application_error,
                                             call.application_message);
          },
          false);
    } else if (ready.response.err != sdk::Code::kOk && !call.application_message.empty()) {
      size = this->queueFrame(
          [&](std::string& out) {
            encoder_->appendError(out, call, ready.response.err, call.application_message, ready.response.zxid,
                                  ready.events);
          },
          false);
    } else {
      size = this->queueFrame(
          [&](std::string& out) { encoder_->appendReply(out, call, ready.response, ready.events); },
          ready.response.close_after);
    }
    if (size >= 0) {
      thrift_->metrics.packets_sent.add();
      thrift_->metrics.recordResponseSize(size);
    }
  }

  sdk::Zxid lastZxid() const noexcept {
    sdk::ClientService* service = thrift_->service.load();
    return service != nullptr ? service->lastProcessedZxid() : 0;
  }

  // --- The waiting ping

  void armPark(ReplyQueue::Parked parked) noexcept {
    try {
      asio::post(this->strand_, [self = this->shared_from_this(), parked] { self->startParkTimer(parked); });
    } catch (...) {
      // Cannot post (out of memory): the ping is answered with the next call or event.
    }
  }

  void startParkTimer(ReplyQueue::Parked parked) {
    if (this->phase() == Base::Phase::kClosed) return;
    // At most the session timeout: the client expects some answer within it.
    const int32_t timeout = session_timeout_ms_.load();
    const int32_t wait = timeout > 0 ? std::min(parked.wait_ms, timeout) : parked.wait_ms;
    ++this->pending_ops_;
    park_timer_.expires_after(std::chrono::milliseconds(wait));
    park_timer_.async_wait(asio::bind_executor(
        this->strand_, [self = this->shared_from_this(), park = parked.park](const boost::system::error_code& ec) {
          --self->pending_ops_;
          if (self->phase() == Base::Phase::kClosed) return self->maybeFinish();
          if (ec) return;  // replaced by a newer park, or closing
          self->queue_.wake(park, [&self](ReplyQueue::Ready& ready) { self->emit(ready); });
        }));
  }

  std::shared_ptr<ThriftContext> thrift_;
  std::unique_ptr<ThriftDecoder> decoder_;  // strand only
  std::unique_ptr<ThriftEncoder> encoder_;  // under queue_'s lock
  ReplyQueue queue_;
  asio::steady_timer park_timer_;           // strand only
  std::atomic<int32_t> session_timeout_ms_{0};
};

}  // namespace corral::plugins::thrift
