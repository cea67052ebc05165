#include "raw_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace corral::plugins::jute::testing {

RawClient::RawClient(uint16_t port, int receive_buffer_bytes) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer_bytes > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;  // the server closed; tests notice on read
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void RawClient::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

long RawClient::readSome(char* data, size_t size, std::chrono::steady_clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return -1;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return -1;
    const ssize_t n = ::recv(fd_, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;  // EOF or reset
    return n;
  }
}

bool RawClient::readExactly(char* data, size_t size, std::chrono::steady_clock::time_point deadline) {
  while (size > 0) {
    const long n = readSome(data, size, deadline);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string> RawClient::readFrame(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char length_bytes[4];
  if (!readExactly(length_bytes, 4, deadline)) return std::nullopt;
  const int32_t length = static_cast<int32_t>(sdk::jute_detail::loadBe32(length_bytes));
  if (length < 0) return std::nullopt;
  std::string payload(static_cast<size_t>(length), '\0');
  if (!readExactly(payload.data(), payload.size(), deadline)) return std::nullopt;
  return payload;
}

std::string RawClient::readUntilClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  char buffer[4096];
  while (true) {
    const long n = readSome(buffer, sizeof buffer, deadline);
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

bool RawClient::drainUntilClosed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[65536];
  while (true) {
    const long n = readSome(buffer, sizeof buffer, deadline);
    if (n == 0) return true;
    if (n < 0) return false;
  }
}

bool RawClient::closedWithoutData(std::chrono::milliseconds timeout) {
  char byte;
  return readSome(&byte, 1, std::chrono::steady_clock::now() + timeout) == 0;
}

bool RawClient::silentFor(std::chrono::milliseconds wait) {
  char byte;
  return readSome(&byte, 1, std::chrono::steady_clock::now() + wait) == -1;
}

std::optional<sdk::ConnectResponse> RawClient::handshake(int32_t timeout_ms) {
  send(connectFrame(timeout_ms));
  auto payload = readFrame();
  if (!payload) return std::nullopt;
  sdk::ConnectResponse response;
  sdk::JuteReader reader(*payload);
  if (!decode(reader, response)) return std::nullopt;
  return response;
}

std::string connectFrame(const sdk::ConnectRequest& request) {
  std::string out;
  sdk::JuteWriter writer(out);
  const size_t frame = writer.beginFrame();
  encode(writer, request);
  writer.endFrame(frame);
  return out;
}

std::string connectFrame(int32_t timeout_ms, bool with_read_only) {
  sdk::ConnectRequest request;
  request.timeout = timeout_ms;
  request.passwd = std::string(16, '\0');
  if (with_read_only) request.read_only = false;
  return connectFrame(request);
}

std::string requestFrame(int32_t xid, sdk::OpCode op) {
  std::string out;
  sdk::encodeRequestFrame(out, sdk::RequestHeader{xid, op});
  return out;
}

std::string rawFrame(std::string_view payload) {
  std::string out = lengthOnly(static_cast<int32_t>(payload.size()));
  out.append(payload);
  return out;
}

std::string lengthOnly(int32_t length) {
  std::string out(4, '\0');
  sdk::jute_detail::storeBe32(out.data(), static_cast<uint32_t>(length));
  return out;
}

}  // namespace corral::plugins::jute::testing
