#include "jute_connection.h"

#include <chrono>
#include <cstring>
#include <exception>
#include <utility>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>

#include "corral/client_records.h"
#include "corral/jute.h"
#include "four_letter_whitelist.h"
#include "reply_encoder.h"
#include "request_decoder.h"

namespace corral::plugins::jute {
namespace asio = boost::asio;

namespace {

constexpr size_t kInitialInput = 16 * 1024;
// Buffers grown past this (a big request or reply) are given back once empty, so idle
// connections do not each keep a megabyte.
constexpr size_t kKeepCapacity = 256 * 1024;
// "telnet close" (IAC IP IAC DO): a known word without a command (client-protocol.md §14).
constexpr uint32_t kTelnetCloseWord = 0xfff4fffd;

bool isWordByte(char c) { return c > ' ' && c < 0x7f; }

}  // namespace

JuteConnection::JuteConnection(asio::io_context& io, Socket socket,
                               std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info)
    : socket_(std::move(socket)),
      strand_(asio::make_strand(io)),
      handshake_timer_(strand_),
      context_(std::move(context)),
      info_(std::move(info)) {
  context_->metrics.alive_connections.add(1);
}

JuteConnection::~JuteConnection() = default;

void JuteConnection::start() {
  asio::post(strand_, [self = shared_from_this()] {
    self->in_.resize(kInitialInput);
    self->readMore();
    self->handshake_timer_.expires_after(
        std::chrono::milliseconds(self->context_->settings.handshake_timeout_ms));
    ++self->pending_ops_;
    self->handshake_timer_.async_wait(
        asio::bind_executor(self->strand_, [self](const boost::system::error_code& ec) {
          --self->pending_ops_;
          // Only a connection still waiting for its first frame is cut; one whose
          // ConnectRequest is with the kernel waits for the kernel.
          if (!ec && self->phase_ == Phase::kHandshake) {
            self->context_->logger.debug("closing {}:{}: no handshake in time",
                                         self->info_.remote_address, self->info_.remote_port);
            return self->closeNow();
          }
          self->maybeFinish();
        }));
  });
}

void JuteConnection::abort() {
  asio::post(strand_, [self = shared_from_this()] { self->closeNow(); });
}

// ---------------------------------------------------------------------------------------------
// Read side (strand)

void JuteConnection::readMore() {
  if (reading_ || (phase_ != Phase::kHandshake && phase_ != Phase::kEstablished)) return;
  if (paused_.load() || close_requested_.load()) return;
  if (in_end_ == in_.size()) in_.resize(in_.empty() ? kInitialInput : in_.size() * 2);
  reading_ = true;
  ++pending_ops_;
  socket_.async_read_some(
      asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
      asio::bind_executor(strand_, [self = shared_from_this()](const boost::system::error_code& ec,
                                                               size_t bytes) {
        self->onRead(ec, bytes);
      }));
}

void JuteConnection::onRead(const boost::system::error_code& error, size_t bytes) {
  reading_ = false;
  --pending_ops_;
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error) {
    // EOF or a reset: the client is gone (ZooKeeper closes on EOF even with replies pending).
    return closeNow();
  }
  in_end_ += bytes;
  try {
    processInput();
    readMore();
  } catch (const std::exception& e) {
    context_->logger.warn("closing {}:{}: {}", info_.remote_address, info_.remote_port, e.what());
    closeNow();
  }
}

void JuteConnection::processInput() {
  const int32_t max_buffer = context_->settings.max_buffer;
  while (phase_ == Phase::kHandshake || phase_ == Phase::kEstablished) {
    if (phase_ == Phase::kEstablished && (paused_.load() || close_requested_.load())) break;
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

void JuteConnection::compactInput() {
  if (in_begin_ == in_end_) {
    in_begin_ = in_end_ = 0;
    if (in_.size() > kKeepCapacity) {
      std::vector<char>(kInitialInput).swap(in_);
    }
    return;
  }
  if (in_begin_ == 0) return;
  std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
  in_end_ -= in_begin_;
  in_begin_ = 0;
}

bool JuteConnection::tryFourLetterWord() {
  const char* first = in_.data() + in_begin_;
  const uint32_t value = sdk::jute_detail::loadBe32(first);
  std::string word;
  const sdk::Command* command = nullptr;
  if (value == kTelnetCloseWord) {
    word = "telnet close";
  } else {
    if (!isWordByte(first[0]) || !isWordByte(first[1]) || !isWordByte(first[2]) ||
        !isWordByte(first[3])) {
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

void JuteConnection::runCommand(const sdk::Command* command, std::string word, std::string body) {
  // Commands read server state (and dirs walks the disk): keep them off the event loop.
  ++pending_ops_;
  asio::post(context_->blocking_pool, [self = shared_from_this(), command, word = std::move(word),
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

void JuteConnection::handleConnectRequest(std::string_view payload) {
  sdk::ConnectRequest request;
  sdk::JuteReader reader(payload, context_->settings.max_buffer);
  sdk::ClientService* service = context_->service.load();
  if (!decode(reader, request) || service == nullptr) {
    context_->logger.debug("closing {}:{}: first frame is not a ConnectRequest",
                           info_.remote_address, info_.remote_port);
    return closeNow();
  }
  context_->metrics.packets_received.add();
  // Frames pipelined behind the ConnectRequest (auth, setWatches) stay in in_ until the
  // session exists, and the socket is not read meanwhile (as ZooKeeper does).
  phase_ = Phase::kConnecting;
  ++pending_ops_;
  service->connect(request, shared_from_this(), [self = shared_from_this()](sdk::ConnectOutcome outcome) {
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

void JuteConnection::onConnected(sdk::ConnectOutcome outcome) {
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
  handshake_timer_.cancel();
  try {
    processInput();
    readMore();
  } catch (const std::exception& e) {
    context_->logger.warn("closing {}:{}: {}", info_.remote_address, info_.remote_port, e.what());
    closeNow();
  }
}

void JuteConnection::handleRequest(std::string_view payload) {
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
    context_->outstanding.add();
  }
  session_->submit(std::move(request));
  if (shouldThrottle()) {
    paused_.store(true);
    // A reply that arrived between the check and the store saw paused_ == false: look again.
    if (!shouldThrottle()) paused_.store(false);
  }
}

bool JuteConnection::shouldThrottle() const noexcept {
  return context_->outstanding.overLimit() && outstanding_.load() > 0;
}

void JuteConnection::resumeReading() {
  if (!paused_.load() || shouldThrottle()) return;
  paused_.store(false);
  try {
    processInput();
    readMore();
  } catch (const std::exception& e) {
    context_->logger.warn("closing {}:{}: {}", info_.remote_address, info_.remote_port, e.what());
    closeNow();
  }
}

// ---------------------------------------------------------------------------------------------
// Write side

template <typename Encode>
bool JuteConnection::queueFrame(Encode&& encode, bool close_after) noexcept {
  bool schedule = false;
  bool failed = false;
  {
    std::lock_guard lock(out_mutex_);
    if (output_closed_ || close_requested_.load()) return false;
    const size_t before = pending_.size();
    try {
      encode(pending_);
    } catch (...) {
      pending_.resize(before);  // never leave half a frame behind
      failed = true;
    }
    if (close_after || failed) close_requested_.store(true);
    schedule = !write_scheduled_;
    write_scheduled_ = true;
  }
  if (failed) context_->logger.error("closing {}:{}: out of memory encoding a reply",
                                     info_.remote_address, info_.remote_port);
  if (schedule) scheduleFlush();
  return !failed;
}

void JuteConnection::scheduleFlush() {
  try {
    asio::post(strand_, [self = shared_from_this()] { self->startWrite(); });
  } catch (...) {
    // Cannot post (out of memory): leave write_scheduled_ set; the connection is lost anyway.
  }
}

void JuteConnection::sendResponse(sdk::ClientResponse response) noexcept {
  if (queueFrame([&response](std::string& out) { appendResponseFrame(out, response); },
                 response.close_after)) {
    context_->metrics.packets_sent.add();
  }
  if (response.xid > 0) releaseOutstanding();
}

void JuteConnection::sendEvent(const sdk::WatcherEvent& event) noexcept {
  if (queueFrame([&event](std::string& out) { appendEventFrame(out, event); }, false)) {
    context_->metrics.packets_sent.add();
  }
}

void JuteConnection::close() noexcept {
  bool schedule = false;
  {
    std::lock_guard lock(out_mutex_);
    if (output_closed_ || close_requested_.load()) return;
    close_requested_.store(true);
    schedule = !write_scheduled_;
    write_scheduled_ = true;
  }
  if (schedule) scheduleFlush();
}

void JuteConnection::releaseOutstanding() noexcept {
  int64_t own = outstanding_.load();
  while (own > 0 && !outstanding_.compare_exchange_weak(own, own - 1)) {
  }
  if (own <= 0) return;  // not one of ours (or already released when the socket closed)
  context_->outstanding.remove();
  if (paused_.load() && !shouldThrottle()) {
    try {
      asio::post(strand_, [self = shared_from_this()] { self->resumeReading(); });
    } catch (...) {
    }
  }
}

void JuteConnection::startWrite() {
  if (phase_ == Phase::kClosed) return;
  bool close_now = false;
  {
    std::lock_guard lock(out_mutex_);
    if (pending_.empty()) {
      write_scheduled_ = false;
      close_now = close_requested_.load();
      if (close_now) write_scheduled_ = true;  // nothing else may start a write
    } else {
      writing_.swap(pending_);
    }
  }
  if (close_now) return closeNow();
  if (writing_.empty()) return;
  ++pending_ops_;
  asio::async_write(socket_, asio::buffer(writing_),
                    asio::bind_executor(strand_, [self = shared_from_this()](
                                                     const boost::system::error_code& ec, size_t) {
                      self->onWritten(ec);
                    }));
}

void JuteConnection::onWritten(const boost::system::error_code& error) {
  --pending_ops_;
  writing_.clear();
  if (writing_.capacity() > kKeepCapacity) std::string().swap(writing_);
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error) return closeNow();
  startWrite();
}

// ---------------------------------------------------------------------------------------------
// Closing (strand)

void JuteConnection::closeNow() {
  if (phase_ == Phase::kClosed) return maybeFinish();
  phase_ = Phase::kClosed;
  {
    std::lock_guard lock(out_mutex_);
    output_closed_ = true;
    std::string().swap(pending_);
  }
  boost::system::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
  if (!reading_) {
    // Unread input makes close() send RST, which can destroy the reply still in flight (a
    // 4lw answer, a ConnectResponse for an expired session): take a bounded look first.
    socket_.non_blocking(true, ignored);
    char sink[4096];
    for (int i = 0; i < 16; ++i) {
      boost::system::error_code ec;
      if (socket_.read_some(asio::buffer(sink), ec) == 0 || ec) break;
    }
  }
  socket_.close(ignored);
  handshake_timer_.cancel();
  std::vector<char>().swap(in_);
  in_begin_ = in_end_ = 0;
  maybeFinish();
}

void JuteConnection::maybeFinish() {
  if (phase_ != Phase::kClosed || pending_ops_ > 0 || finished_) return;
  finished_ = true;
  context_->metrics.alive_connections.add(-1);
  const int64_t own = outstanding_.exchange(0);
  if (own > 0) context_->outstanding.remove(own);
  context_->limiter.release(info_.remote_address);
  if (auto session = std::move(session_)) session->connectionClosed();
  context_->untrack(this);  // may drop the context's reference; handlers still hold one
}

}  // namespace corral::plugins::jute
