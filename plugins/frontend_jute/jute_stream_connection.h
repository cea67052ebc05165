// JuteStreamConnection<Stream>: one ZooKeeper client connection, on the SDK's FramedConnection
// (corral/net/framed_connection.h: TLS, framing, limits, the kernel's connect, closing). What
// is jute's own is here: four-letter words before the handshake, the ConnectRequest and
// ConnectResponse, request decoding, and reply and event encoding. Instantiated for a plain
// tcp::socket and for ssl::stream<tcp::socket> (secureClientPort), so the plaintext path has
// no indirection. Only jute_connection.cc includes it.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "corral/client_records.h"
#include "corral/jute.h"
#include "corral/net/framed_connection.h"
#include "corral/net/framed_connection_read.h"
#include "corral/net/framed_connection_write.h"
#include "four_letter_whitelist.h"
#include "frontend_context.h"
#include "jute_connection.h"
#include "reply_encoder.h"
#include "request_decoder.h"

namespace corral::plugins::jute {
namespace asio = boost::asio;

namespace connection_detail {
// "telnet close" (IAC IP IAC DO): a known word without a command (client-protocol.md §14).
constexpr uint32_t kTelnetCloseWord = 0xfff4fffd;

inline bool isWordByte(char c) { return c > ' ' && c < 0x7f; }
}  // namespace connection_detail

template <typename Stream>
class JuteStreamConnection final
    : public sdk::net::FramedConnection<Stream, JuteStreamConnection<Stream>> {
  using Base = sdk::net::FramedConnection<Stream, JuteStreamConnection<Stream>>;
  friend Base;

 public:
  JuteStreamConnection(asio::io_context& io, asio::ip::tcp::socket socket,
                       std::shared_ptr<asio::ssl::context> tls, std::shared_ptr<FrontendContext> context,
                       sdk::ConnectionInfo info)
      : Base(io, std::move(socket), std::move(tls), context, std::move(info)), jute_(std::move(context)) {}

  void sendResponse(sdk::ClientResponse response) noexcept override {
    if (response.silent) {
      if (response.xid > 0) this->releaseOutstanding();
      return;
    }
    const int64_t size = this->queueFrame(
        [&response](std::string& out) { appendResponseFrame(out, response); }, response.close_after);
    if (size >= 0) {
      jute_->metrics.packets_sent.add();
      jute_->metrics.recordResponseSize(size);
    }
    if (response.xid > 0) this->releaseOutstanding();
  }

  void sendEvent(const sdk::WatcherEvent& event) noexcept override {
    // Events count against the same limits as replies: a client that never reads cannot make
    // the server keep its watch notifications without bound either.
    const int64_t size =
        this->queueFrame([&event](std::string& out) { appendEventFrame(out, event); }, false);
    if (size >= 0) {
      jute_->metrics.packets_sent.add();
      jute_->metrics.watch_bytes.add(size);
    }
  }

 private:
  // --- FramedConnection hooks (strand)

  // A four-letter word instead of a ConnectRequest: its answer, then close.
  bool onHandshakeBytes(std::string_view available) {
    const char* first = available.data();
    const uint32_t value = sdk::jute_detail::loadBe32(first);
    std::string word;
    const sdk::Command* command = nullptr;
    if (value == connection_detail::kTelnetCloseWord) {
      word = "telnet close";
    } else {
      for (int i = 0; i < 4; ++i) {
        if (!connection_detail::isWordByte(first[i])) return false;
      }
      word.assign(first, 4);
      command = jute_->commands.find(word);
      // Only words the admin commands serve on the client port; anything else is a length.
      if (command == nullptr || !command->four_letter) return false;
    }
    // Bytes after the word are the command's argument (stmk's 8-byte mask); the rest is ignored.
    std::string body(available.substr(4));
    this->beginDraining();
    if (!jute_->settings.whitelist.allows(word)) {
      const std::string text = notWhitelistedText(word);
      this->queueFrame([&text](std::string& out) { out += text; }, true);
      return true;
    }
    if (command == nullptr) {  // telnet close: no output
      this->close();
      return true;
    }
    runCommand(command, std::move(word), std::move(body));
    return true;
  }

  void onFrame(std::string_view payload) {
    if (this->phase() == Base::Phase::kHandshake) return handleConnectRequest(payload);
    sdk::ClientRequest request;
    if (!decodeRequestFrame(payload, jute_->settings.max_buffer, request)) {
      jute_->logger.debug("closing {}:{}: request shorter than its header", this->info_.remote_address,
                          this->info_.remote_port);
      return this->closeNow();
    }
    jute_->metrics.packets_received.add();
    this->submitRequest(std::move(request));
  }

  void handleConnectRequest(std::string_view payload) {
    sdk::ConnectRequest request;
    sdk::JuteReader reader(payload, jute_->settings.max_buffer);
    if (!decode(reader, request)) {
      jute_->logger.debug("closing {}:{}: first frame is not a ConnectRequest",
                          this->info_.remote_address, this->info_.remote_port);
      return this->closeNow();
    }
    jute_->metrics.packets_received.add();
    this->connectSession(request, [](std::string& out, const sdk::ConnectOutcome& outcome) {
      appendConnectResponseFrame(out, *outcome.response);
    });
  }

  void runCommand(const sdk::Command* command, std::string word, std::string body) {
    // Commands read server state (and dirs walks the disk): keep them off the event loop.
    ++this->pending_ops_;
    asio::post(jute_->blocking_pool, [self = this->shared_from_this(), command, word = std::move(word),
                                      body = std::move(body)]() mutable {
      std::string text;
      try {
        sdk::CommandArgs args;
        args.body = std::move(body);
        args.remote_address = self->info_.remote_address;
        args.remote_port = self->info_.remote_port;
        text = command->run(args).text;
      } catch (const std::exception& e) {
        self->jute_->logger.warn("four-letter word {} failed: {}", word, e.what());
      } catch (...) {
        self->jute_->logger.warn("four-letter word {} failed", word);
      }
      asio::post(self->strand_, [self, text = std::move(text)] {
        --self->pending_ops_;
        self->queueFrame([&text](std::string& out) { out += text; }, true);
        self->maybeFinish();
      });
    });
  }

  std::shared_ptr<FrontendContext> jute_;
};

}  // namespace corral::plugins::jute
