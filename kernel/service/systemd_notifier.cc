#include "kernel/service/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace corral::kernel::service {

SystemdNotifier::SystemdNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  active_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID (if set) names this process.
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_timeout_ = std::chrono::microseconds(usec);
  }
}

std::string statusLine(std::string_view text) {
  std::string line(text);
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

void SystemdNotifier::ready(std::string_view status) { send("READY=1\nSTATUS=" + statusLine(status)); }

void SystemdNotifier::status(std::string_view status) { send("STATUS=" + statusLine(status)); }

void SystemdNotifier::stopping(std::string_view status) {
  send("STOPPING=1\nSTATUS=" + statusLine(status));
}

void SystemdNotifier::watchdogPing() { send("WATCHDOG=1"); }

void SystemdNotifier::send(const std::string& state) {
  if (!active_) return;
  // A failed send (the manager went away) is not the server's problem: nothing to report to.
  (void)sd_notify(0, state.c_str());
}

}  // namespace corral::kernel::service
