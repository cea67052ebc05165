#include "jute_connection.h"

#include <openssl/ssl.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>

#include "corral/client_records.h"
#include "corral/jute.h"
#include "four_letter_whitelist.h"
#include "reply_encoder.h"
#include "request_decoder.h"
#include "tls_context.h"

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

using PlainStream = asio::ip::tcp::socket;
using TlsStream = asio::ssl::stream<asio::ip::tcp::socket>;

template <typename Stream>
class StreamConnection final : public JuteConnection,
                               public std::enable_shared_from_this<StreamConnection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  StreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                   std::shared_ptr<asio::ssl::context> tls,
                   std::shared_ptr<FrontendContext> context, sdk::ConnectionInfo info);
  ~StreamConnection() override;

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

  // Strand only.
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
  void startWrite();
  void onWritten(const boost::system::error_code& error);
  void closeGracefully();
  void closeNow();
  void maybeFinish();
  void compactInput();

  // Any thread.
  // Appends one frame to pending_ unless output is closed; false if nothing was queued.
  template <typename Encode>
  // Appends one frame; its size without the length prefix, or -1 when nothing was queued.
  int64_t queueFrame(Encode&& encode, bool close_after) noexcept;
  void scheduleFlush();
  void releaseOutstanding() noexcept;

  std::shared_ptr<asio::ssl::context> tls_;  // keeps the SSL_CTX alive (TLS only)
  Stream stream_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer handshake_timer_;
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


template <typename Stream>
StreamConnection<Stream>::StreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                           std::shared_ptr<asio::ssl::context> tls,
                                           std::shared_ptr<FrontendContext> context,
                                           sdk::ConnectionInfo info)
    : tls_(std::move(tls)),
      stream_(openStream(std::move(socket), tls_.get())),
      strand_(asio::make_strand(io)),
      handshake_timer_(strand_),
      context_(std::move(context)),
      info_(std::move(info)) {
  context_->metrics.alive_connections.add(1);
}

template <typename Stream>
StreamConnection<Stream>::~StreamConnection() = default;

template <typename Stream>
void StreamConnection<Stream>::start() {
  asio::post(strand_, [self = this->shared_from_this()] {
    self->in_.resize(kInitialInput);
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
  if constexpr (kTls) info_.tls_peer_subject = verifiedPeerSubject(stream_.native_handle());
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
  if (paused_.load() || close_requested_.load()) return;
  if (in_end_ == in_.size()) in_.resize(in_.empty() ? kInitialInput : in_.size() * 2);
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

template <typename Stream>
void StreamConnection<Stream>::compactInput() {
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

template <typename Stream>
bool StreamConnection<Stream>::tryFourLetterWord() {
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
    context_->outstanding.add();
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
  return context_->outstanding.overLimit() && outstanding_.load() > 0;
}

template <typename Stream>
void StreamConnection<Stream>::resumeReading() {
  if (!paused_.load() || shouldThrottle()) return;
  paused_.store(false);
  processThenRead();
}

// ---------------------------------------------------------------------------------------------
// Write side

template <typename Stream>
template <typename Encode>
int64_t StreamConnection<Stream>::queueFrame(Encode&& encode, bool close_after) noexcept {
  bool schedule = false;
  bool failed = false;
  int64_t size = -1;
  {
    std::lock_guard lock(out_mutex_);
    if (output_closed_ || close_requested_.load()) return -1;
    const size_t before = pending_.size();
    try {
      encode(pending_);
      size = static_cast<int64_t>(pending_.size() - before) - 4;
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
  if (schedule) {
    // On this connection's strand while it decodes input (the kernel answered inline): the
    // write starts when decoding ends. Anywhere else: post it to the strand.
    if (strand_.running_in_this_thread() && processing_input_) {
      flush_deferred_ = true;
    } else {
      scheduleFlush();
    }
  }
  return failed ? -1 : size;
}

template <typename Stream>
void StreamConnection<Stream>::scheduleFlush() {
  try {
    asio::post(strand_, [self = this->shared_from_this()] { self->startWrite(); });
  } catch (...) {
    // Cannot post (out of memory): leave write_scheduled_ set; the connection is lost anyway.
  }
}

template <typename Stream>
void StreamConnection<Stream>::sendResponse(sdk::ClientResponse response) noexcept {
  if (response.silent) {
    if (response.xid > 0) releaseOutstanding();
    return;
  }
  int64_t size = queueFrame([&response](std::string& out) { appendResponseFrame(out, response); },
                            response.close_after);
  if (size >= 0) {
    context_->metrics.packets_sent.add();
    context_->metrics.recordResponseSize(size);
  }
  if (response.xid > 0) releaseOutstanding();
}

template <typename Stream>
void StreamConnection<Stream>::sendEvent(const sdk::WatcherEvent& event) noexcept {
  int64_t size = queueFrame([&event](std::string& out) { appendEventFrame(out, event); }, false);
  if (size >= 0) {
    context_->metrics.packets_sent.add();
    context_->metrics.watch_bytes.add(size);
  }
}

template <typename Stream>
void StreamConnection<Stream>::close() noexcept {
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

template <typename Stream>
void StreamConnection<Stream>::releaseOutstanding() noexcept {
  int64_t own = outstanding_.load();
  while (own > 0 && !outstanding_.compare_exchange_weak(own, own - 1)) {
  }
  if (own <= 0) return;  // not one of ours (or already released when the socket closed)
  context_->outstanding.remove();
  if (paused_.load() && !shouldThrottle()) {
    try {
      asio::post(strand_, [self = this->shared_from_this()] { self->resumeReading(); });
    } catch (...) {
    }
  }
}

template <typename Stream>
void StreamConnection<Stream>::startWrite() {
  for (;;) {
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
    if (close_now) return closeGracefully();
    if (writing_.empty()) return;
    if constexpr (!kTls) {
      // Try the send right away (the socket is non-blocking): a reply usually fits the
      // socket buffer, and then no async operation or completion handler is needed.
      boost::system::error_code ec;
      const size_t sent = stream_.write_some(asio::buffer(writing_), ec);
      if (ec && ec != asio::error::would_block && ec != asio::error::try_again) return closeNow();
      if (!ec && sent == writing_.size()) {
        writing_.clear();
        if (writing_.capacity() > kKeepCapacity) std::string().swap(writing_);
        continue;  // whatever was queued meanwhile, or clear write_scheduled_
      }
      writing_.erase(0, ec ? 0 : sent);
    }
    ++pending_ops_;
    asio::async_write(stream_, asio::buffer(writing_),
                      asio::bind_executor(strand_, [self = this->shared_from_this()](
                                                       const boost::system::error_code& ec, size_t) {
                        self->onWritten(ec);
                      }));
    return;
  }
}

template <typename Stream>
void StreamConnection<Stream>::onWritten(const boost::system::error_code& error) {
  --pending_ops_;
  writing_.clear();
  if (writing_.capacity() > kKeepCapacity) std::string().swap(writing_);
  if (phase_ == Phase::kClosed) return maybeFinish();
  if (error) return closeNow();
  startWrite();
}

// ---------------------------------------------------------------------------------------------
// Closing (strand)

template <typename Stream>
void StreamConnection<Stream>::closeGracefully() {
  if constexpr (kTls) {
    if (tls_ready_ && phase_ != Phase::kClosed) {
      // Everything queued is written: send close_notify, without waiting for the client's
      // (marking it received makes SSL_shutdown complete once ours is out), then close.
      SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
      ++pending_ops_;
      stream_.async_shutdown(asio::bind_executor(
          strand_, [self = this->shared_from_this()](const boost::system::error_code&) {
            --self->pending_ops_;
            self->closeNow();
          }));
      return;
    }
  }
  closeNow();
}

template <typename Stream>
void StreamConnection<Stream>::closeNow() {
  if (phase_ == Phase::kClosed) return maybeFinish();
  phase_ = Phase::kClosed;
  {
    std::lock_guard lock(out_mutex_);
    output_closed_ = true;
    std::string().swap(pending_);
  }
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
  std::vector<char>().swap(in_);
  in_begin_ = in_end_ = 0;
  maybeFinish();
}

template <typename Stream>
void StreamConnection<Stream>::maybeFinish() {
  if (phase_ != Phase::kClosed || pending_ops_ > 0 || finished_) return;
  finished_ = true;
  context_->metrics.alive_connections.add(-1);
  const int64_t own = outstanding_.exchange(0);
  if (own > 0) context_->outstanding.remove(own);
  context_->limiter.release(info_.remote_address);
  if (auto session = std::move(session_)) session->connectionClosed();
  context_->untrack(this);  // may drop the context's reference; handlers still hold one
}

// ---------------------------------------------------------------------------------------------
// Factories

std::shared_ptr<JuteConnection> makePlainConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                                    std::shared_ptr<FrontendContext> context,
                                                    sdk::ConnectionInfo info) {
  return std::make_shared<StreamConnection<PlainStream>>(io, std::move(socket), nullptr,
                                                         std::move(context), std::move(info));
}

std::shared_ptr<JuteConnection> makeTlsConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                                                  std::shared_ptr<asio::ssl::context> tls,
                                                  std::shared_ptr<FrontendContext> context,
                                                  sdk::ConnectionInfo info) {
  return std::make_shared<StreamConnection<TlsStream>>(io, std::move(socket), std::move(tls),
                                                       std::move(context), std::move(info));
}

}  // namespace corral::plugins::jute
