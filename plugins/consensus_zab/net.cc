#include "net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace corral::plugins::zab {

using sdk::Code;
using sdk::Status;

namespace {

Status errnoStatus(Code code, std::string_view what, int err) {
  return Status(code, fmt::format("{}: {}", what, std::strerror(err)));
}

// getaddrinfo for TCP; the first address.
bool resolve(const std::string& host, int port, bool passive, sockaddr_storage& out, socklen_t& len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (passive) hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const char* node = host.empty() || host == "0.0.0.0" ? nullptr : host.c_str();
  if (node == nullptr) hints.ai_family = AF_INET;
  if (getaddrinfo(node, service.c_str(), &hints, &found) != 0 || found == nullptr) return false;
  std::memcpy(&out, found->ai_addr, found->ai_addrlen);
  len = found->ai_addrlen;
  freeaddrinfo(found);
  return true;
}

}  // namespace

std::string hostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void Socket::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Socket::shutdown() const noexcept {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

void Socket::setReadTimeout(int64_t ms) const noexcept {
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

std::string Socket::peerAddress() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char host[INET6_ADDRSTRLEN] = {0};
  int port = 0;
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    port = ntohs(in6->sin6_port);
  }
  return hostPort(host, port);
}

Status Socket::writeAll(std::string_view bytes) const noexcept {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus(Code::kConnectionLoss, "send", errno);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::ok();
}

sdk::Result<size_t> Socket::readSome(char* dst, size_t max) const noexcept {
  for (;;) {
    ssize_t n = ::recv(fd_, dst, max, 0);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Status(Code::kOperationTimeout, "read timed out");
    return errnoStatus(Code::kConnectionLoss, "recv", errno);
  }
}

sdk::Result<Socket> connectTo(const std::string& host, int port, int64_t timeout_ms) noexcept {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!resolve(host, port, false, addr, len)) {
    return Status(Code::kConnectionLoss, fmt::format("cannot resolve {}", hostPort(host, port)));
  }
  Socket socket(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.valid()) return errnoStatus(Code::kSystemError, "socket", errno);
  int rc = ::connect(socket.fd(), reinterpret_cast<sockaddr*>(&addr), len);
  if (rc != 0 && errno != EINPROGRESS) return errnoStatus(Code::kConnectionLoss, "connect", errno);
  if (rc != 0) {
    pollfd pfd{socket.fd(), POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&pfd, 1, static_cast<int>(timeout_ms));
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) return Status(Code::kOperationTimeout, "connect timed out");
    int err = 0;
    socklen_t err_len = sizeof err;
    getsockopt(socket.fd(), SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (ready < 0 || err != 0) return errnoStatus(Code::kConnectionLoss, "connect", ready < 0 ? errno : err);
  }
  int flags = fcntl(socket.fd(), F_GETFL);
  fcntl(socket.fd(), F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return socket;
}

sdk::Result<Listener> Listener::bind(const std::string& host, int port) noexcept {
  sockaddr_storage addr{};
  socklen_t len = 0;
  if (!resolve(host, port, true, addr, len)) {
    return Status(Code::kSystemError, fmt::format("cannot resolve {}", hostPort(host, port)));
  }
  Socket socket(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.valid()) return errnoStatus(Code::kSystemError, "socket", errno);
  int one = 1;
  setsockopt(socket.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(socket.fd(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return errnoStatus(Code::kSystemError, fmt::format("bind {}", hostPort(host, port)), errno);
  }
  if (::listen(socket.fd(), 64) != 0) return errnoStatus(Code::kSystemError, "listen", errno);
  Listener listener;
  listener.socket_ = std::move(socket);
  return listener;
}

sdk::Result<Socket> Listener::accept() noexcept {
  for (;;) {
    int fd = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      return Socket(fd);
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      ::usleep(100 * 1000);  // out of descriptors: back off rather than spin
      continue;
    }
    return errnoStatus(Code::kConnectionLoss, "accept", errno);
  }
}

void Listener::close() noexcept {
  socket_.shutdown();  // wakes accept()
}

Status PacketReader::fill() noexcept {
  if (pos_ > 0 && pos_ == buffer_.size()) {
    buffer_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 20)) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
  const size_t old = buffer_.size();
  try {
    buffer_.resize(old + 64 * 1024);
  } catch (...) {
    return Status(Code::kSystemError, "out of memory reading a peer");
  }
  auto got = socket_.readSome(buffer_.data() + old, 64 * 1024);
  if (!got) {
    buffer_.resize(old);
    return got.status();
  }
  buffer_.resize(old + *got);
  if (*got == 0) return Status(Code::kConnectionLoss, "peer closed the connection");
  return Status::ok();
}

sdk::Result<QuorumPacket> PacketReader::next() noexcept {
  for (;;) {
    size_t consumed = 0;
    auto decoded = decodePacket(std::string_view(buffer_).substr(pos_), consumed, max_data_);
    if (!decoded) return decoded.status();
    if (*decoded) {
      pos_ += consumed;
      return std::move(**decoded);
    }
    if (auto filled = fill(); !filled.isOk()) return filled;
  }
}

Status PacketReader::readExact(char* dst, size_t n) noexcept {
  while (n > 0) {
    if (pos_ == buffer_.size()) {
      if (auto filled = fill(); !filled.isOk()) return filled;
    }
    const size_t take = std::min(n, buffer_.size() - pos_);
    std::memcpy(dst, buffer_.data() + pos_, take);
    pos_ += take;
    dst += take;
    n -= take;
  }
  return Status::ok();
}

}  // namespace corral::plugins::zab
