// A datagram socket standing in for the service manager's $NOTIFY_SOCKET, as systemd's own
// (a real AF_UNIX socket that libsystemd sends to; nothing is mocked).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace corral::testing {

class NotifySocket {
 public:
  NotifySocket() {
    path_ = std::filesystem::temp_directory_path() /
            ("corral-notify-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::remove(path_);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.string().size() >= sizeof(address.sun_path)) {
      throw std::runtime_error("socket path too long for sun_path: " + path_.string());
    }
    std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", path_.c_str());
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
      throw std::runtime_error("cannot bind " + path_.string());
    }
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  ~NotifySocket() {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    std::filesystem::remove(path_);
  }

  // The next datagram, or nullopt when none arrives within `wait`.
  std::optional<std::string> next(std::chrono::milliseconds wait = std::chrono::seconds(5)) {
    pollfd ready{fd_, POLLIN, 0};
    if (poll(&ready, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    char buffer[4096];
    ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<size_t>(n));
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace corral::testing
