// SystemdNotifier: the service manager's notification protocol (sd_notify(3)) through
// libsystemd. Outside systemd ($NOTIFY_SOCKET unset) every call does nothing, so the same
// binary runs by hand, under a test harness or as a Type=notify unit.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace corral::kernel::service {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID once.
  SystemdNotifier();

  // Whether a service manager listens ($NOTIFY_SOCKET is set).
  bool active() const { return active_; }
  // The watchdog timeout the manager set for this process (WatchdogSec=), if any.
  std::optional<std::chrono::microseconds> watchdogTimeout() const { return watchdog_timeout_; }

  // READY=1 with a STATUS= line in the same datagram, so the manager never shows a stale one.
  void ready(std::string_view status);
  void status(std::string_view status);
  // STOPPING=1: the manager shows "deactivating" while connections close and data syncs.
  void stopping(std::string_view status);
  void watchdogPing();

 private:
  void send(const std::string& state);

  bool active_ = false;
  std::optional<std::chrono::microseconds> watchdog_timeout_;
};

// A STATUS= value must stay one line: newlines (a path or message from a config) become spaces.
std::string statusLine(std::string_view text);

}  // namespace corral::kernel::service
