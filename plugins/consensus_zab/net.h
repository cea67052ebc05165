// Blocking TCP for the two peer ports. ZooKeeper runs each peer connection on its own threads
// with blocking sockets (QuorumCnxManager's SendWorker/RecvWorker, LearnerHandler, Learner);
// Corral does the same: the protocol is a sequence of steps with timeouts, which reads best
// as straight-line code, and an ensemble has a handful of peers, not thousands.
//
// Every call takes an explicit timeout; none throws. A Socket is closed by its destructor;
// shutdown() from another thread wakes a thread blocked on it (how connections are stopped).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "corral/status.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  int fd() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  void close() noexcept;
  // Wakes any thread blocked reading or writing it; the fd stays open until close().
  void shutdown() const noexcept;
  // 0: block forever.
  void setReadTimeout(int64_t ms) const noexcept;
  std::string peerAddress() const;

  sdk::Status writeAll(std::string_view bytes) const noexcept;
  // Some bytes (at most `max`), 0 at end of stream; kTimeout after the read timeout.
  sdk::Result<size_t> readSome(char* dst, size_t max) const noexcept;

 private:
  int fd_ = -1;
};

// Connects to host:port within `timeout_ms` (TCP_NODELAY on).
sdk::Result<Socket> connectTo(const std::string& host, int port, int64_t timeout_ms) noexcept;

class Listener {
 public:
  // Binds host:port ("" or "0.0.0.0": every address), SO_REUSEADDR.
  static sdk::Result<Listener> bind(const std::string& host, int port) noexcept;
  Listener() = default;
  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;
  // Blocks until a connection comes or close() is called from another thread (then an error).
  sdk::Result<Socket> accept() noexcept;
  void close() noexcept;

 private:
  Socket socket_;
};

// Reads back-to-back QuorumPackets (and, for SNAP, raw bytes) from a socket, buffering.
class PacketReader {
 public:
  PacketReader(const Socket& socket, size_t max_data) : socket_(socket), max_data_(max_data) {}
  // The next packet; kTimeout, kConnectionLoss (peer closed) or kCorruptData (garbage).
  sdk::Result<QuorumPacket> next() noexcept;
  // Exactly `n` raw bytes (the inline snapshot after SNAP).
  sdk::Status readExact(char* dst, size_t n) noexcept;

 private:
  sdk::Status fill() noexcept;

  const Socket& socket_;
  size_t max_data_;
  std::string buffer_;
  size_t pos_ = 0;
};

// "host:port" for logs (IPv6 hosts in brackets).
std::string hostPort(const std::string& host, int port);

}  // namespace corral::plugins::zab
