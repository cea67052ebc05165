#include "kernel/service/systemd_notifier.h"

#include <gtest/gtest.h>

#include "notify_socket.h"

namespace corral::kernel::service {
namespace {

TEST(SystemdNotifier, InactiveWithoutNotifySocket) {
  unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  EXPECT_FALSE(notifier.active());
  EXPECT_FALSE(notifier.watchdogTimeout());
  notifier.ready("nobody listens");  // no effect, no failure
}

TEST(SystemdNotifier, SendsReadyStatusStoppingAndPings) {
  testing::NotifySocket manager;
  SystemdNotifier notifier;
  ASSERT_TRUE(notifier.active());
  notifier.status("starting");
  EXPECT_EQ(manager.next(), "STATUS=starting");
  notifier.ready("standalone, last zxid 0x5, 1 sessions");
  EXPECT_EQ(manager.next(), "READY=1\nSTATUS=standalone, last zxid 0x5, 1 sessions");
  notifier.watchdogPing();
  EXPECT_EQ(manager.next(), "WATCHDOG=1");
  notifier.stopping("stopping");
  EXPECT_EQ(manager.next(), "STOPPING=1\nSTATUS=stopping");
}

TEST(SystemdNotifier, StatusStaysOneLine) {
  testing::NotifySocket manager;
  SystemdNotifier notifier;
  // A second line would be read by the manager as another assignment (READY=1, say).
  notifier.status("bad\nREADY=1");
  EXPECT_EQ(manager.next(), "STATUS=bad READY=1");
}

TEST(SystemdNotifier, WatchdogTimeoutForThisProcessOnly) {
  testing::NotifySocket manager;
  setenv("WATCHDOG_USEC", "3000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  {
    SystemdNotifier notifier;
    ASSERT_TRUE(notifier.watchdogTimeout());
    EXPECT_EQ(*notifier.watchdogTimeout(), std::chrono::seconds(3));
  }
  // The variables were meant for another process (a parent that did not unset them).
  setenv("WATCHDOG_PID", std::to_string(getpid() + 1).c_str(), 1);
  SystemdNotifier other;
  EXPECT_FALSE(other.watchdogTimeout());
}

}  // namespace
}  // namespace corral::kernel::service
