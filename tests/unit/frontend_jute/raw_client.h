// A blocking loopback client for frontend.jute tests (plain POSIX sockets, with timeouts).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "corral/client_records.h"

namespace corral::plugins::jute::testing {

using namespace std::chrono_literals;

class RawClient {
 public:
  // `receive_buffer_bytes` > 0 sets SO_RCVBUF before connecting: a client that does not read
  // then holds little in the kernel, so the server's own output buffer fills sooner.
  explicit RawClient(uint16_t port, int receive_buffer_bytes = 0);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send(std::string_view bytes);
  // One frame's payload (without the length); nullopt on EOF, reset or timeout.
  std::optional<std::string> readFrame(std::chrono::milliseconds timeout = 3s);
  // Everything until the server closes (or the timeout).
  std::string readUntilClosed(std::chrono::milliseconds timeout = 3s);
  // Reads and discards until the server closes (true) or the timeout passes (false).
  bool drainUntilClosed(std::chrono::milliseconds timeout = 3s);
  // True when the server closed (EOF or RST) with no data before it.
  bool closedWithoutData(std::chrono::milliseconds timeout = 3s);
  // True when nothing at all arrives within `wait` and the socket is still open.
  bool silentFor(std::chrono::milliseconds wait);
  void shutdownWrite();

  // Sends a ConnectRequest and reads the ConnectResponse.
  std::optional<sdk::ConnectResponse> handshake(int32_t timeout_ms = 10000);

 private:
  // >0 bytes read, 0 on EOF/reset, -1 on timeout.
  long readSome(char* data, size_t size, std::chrono::steady_clock::time_point deadline);
  bool readExactly(char* data, size_t size, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
};

// Frame builders.
std::string connectFrame(const sdk::ConnectRequest& request);
std::string connectFrame(int32_t timeout_ms = 10000, bool with_read_only = true);
template <typename Body>
std::string requestFrame(int32_t xid, sdk::OpCode op, const Body& body) {
  std::string out;
  sdk::encodeRequestFrame(out, sdk::RequestHeader{xid, op}, body);
  return out;
}
std::string requestFrame(int32_t xid, sdk::OpCode op);  // header only
// A frame with the given payload bytes.
std::string rawFrame(std::string_view payload);
std::string lengthOnly(int32_t length);

}  // namespace corral::plugins::jute::testing
