#include "kernel/service/service_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <thread>

#include "notify_socket.h"

namespace corral::kernel::service {
namespace {

TEST(ServiceState, DescribesRoleZxidAndSessions) {
  EXPECT_EQ(describe({"leader", true, false, 0x100000003, 2}), "leader, last zxid 0x100000003, 2 sessions");
  EXPECT_EQ(describe({"looking", false, false, 0x200000000, 0}), "looking: waiting for a quorum, last zxid 0x200000000");
  EXPECT_EQ(describe({"leader", false, false, 0x100000000, 0}),
            "leader (not serving clients), last zxid 0x100000000, 0 sessions");
  EXPECT_EQ(describe({"looking", true, true, 7, 1}), "read-only (no quorum), last zxid 0x7, 1 session");
}

TEST(ServiceState, ReadyOnlyWhenServingWithAQuorum) {
  EXPECT_TRUE(isReady({"standalone", true, false, 0, 0}));
  EXPECT_TRUE(isReady({"follower", true, false, 0, 0}));
  EXPECT_TRUE(isReady({"observer", true, false, 0, 0}));
  EXPECT_FALSE(isReady({"looking", false, false, 0, 0}));
  EXPECT_FALSE(isReady({"looking", true, true, 0, 0}));  // read-only mode
  // leaderServes=no: the leader takes no clients but the ensemble is up.
  EXPECT_TRUE(isReady({"leader", false, false, 0, 0}));
}

// An event loop on its own thread, as the server runs one.
class EventLoop {
 public:
  EventLoop() : guard_(io_.get_executor()), thread_([this] { io_.run(); }) {}
  ~EventLoop() {
    guard_.reset();
    io_.stop();
    thread_.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

class SharedState {
 public:
  void set(ServiceState state) {
    std::lock_guard lock(mutex_);
    state_ = std::move(state);
  }
  ServiceState get() {
    std::lock_guard lock(mutex_);
    return state_;
  }

 private:
  std::mutex mutex_;
  ServiceState state_;
};

TEST(ServiceMonitor, ReadyOnlyOnceAQuorumFormsThenStatusOnChange) {
  testing::NotifySocket manager;
  SystemdNotifier notifier;
  SharedState state;
  state.set({"looking", false, false, 0x100000004, 0});
  EventLoop loop;
  constexpr auto kDetail = std::chrono::milliseconds(3000);
  ServiceMonitor monitor(loop.io(), notifier, [&] { return state.get(); }, kDetail);
  monitor.start();
  EXPECT_EQ(manager.next(), "STATUS=looking: waiting for a quorum, last zxid 0x100000004");
  // Several ticks pass while looking: nothing new to say, and never READY.
  EXPECT_EQ(manager.next(ServiceMonitor::kUntilReadyPeriod * 5), std::nullopt);
  state.set({"follower", true, false, 0x200000000, 0});
  EXPECT_EQ(manager.next(), "READY=1\nSTATUS=follower, last zxid 0x200000000, 0 sessions");
  auto ready_at = std::chrono::steady_clock::now();
  // The same role with a new zxid: told, but not sooner than the detail period.
  state.set({"follower", true, false, 0x200000001, 1});
  EXPECT_EQ(manager.next(), "STATUS=follower, last zxid 0x200000001, 1 session");
  EXPECT_GE(std::chrono::steady_clock::now() - ready_at, kDetail - std::chrono::milliseconds(50));
  // Quorum lost: told at the next tick, whatever the detail period; READY is not repeated
  // when it comes back.
  auto changed_at = std::chrono::steady_clock::now();
  state.set({"looking", false, false, 0x200000001, 0});
  EXPECT_EQ(manager.next(), "STATUS=looking: waiting for a quorum, last zxid 0x200000001");
  // Within a tick (1 s), not after the 3 s detail period.
  EXPECT_LT(std::chrono::steady_clock::now() - changed_at, ServiceMonitor::kStatusPeriod + std::chrono::milliseconds(500));
  state.set({"leader", true, false, 0x300000000, 0});
  EXPECT_EQ(manager.next(), "STATUS=leader, last zxid 0x300000000, 0 sessions");
  monitor.stop();
  EXPECT_EQ(manager.next(), "STOPPING=1\nSTATUS=stopping: closing connections");
  EXPECT_EQ(manager.next(ServiceMonitor::kStatusPeriod * 2), std::nullopt);
}

TEST(ServiceMonitor, PingsTheWatchdogAtHalfItsTimeout) {
  testing::NotifySocket manager;
  setenv("WATCHDOG_USEC", "200000", 1);  // 200 ms: a ping every 100 ms
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  SystemdNotifier notifier;
  EventLoop loop;
  ServiceMonitor monitor(loop.io(), notifier, [] { return ServiceState{"standalone", true, false, 1, 0}; });
  auto started = std::chrono::steady_clock::now();
  monitor.start();
  EXPECT_EQ(manager.next(), "READY=1\nSTATUS=standalone, last zxid 0x1, 0 sessions");
  int pings = 0;
  while (pings < 5) {
    auto message = manager.next(std::chrono::milliseconds(200));
    ASSERT_TRUE(message) << "no watchdog ping within 200 ms after " << pings;
    EXPECT_EQ(*message, "WATCHDOG=1");
    ++pings;
  }
  // Five pings at 100 ms apart (the first with READY): not faster than the period allows.
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(350));
  monitor.stop();
}

TEST(ServiceMonitor, WatchdogPingsStopWhileTheEventLoopIsBlocked) {
  testing::NotifySocket manager;
  setenv("WATCHDOG_USEC", "100000", 1);  // a ping every 50 ms
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  SystemdNotifier notifier;
  EventLoop loop;  // one thread, as the server's default
  ServiceMonitor monitor(loop.io(), notifier, [] { return ServiceState{"standalone", true, false, 1, 0}; });
  monitor.start();
  ASSERT_EQ(manager.next(), "READY=1\nSTATUS=standalone, last zxid 0x1, 0 sessions");
  ASSERT_EQ(manager.next(std::chrono::milliseconds(500)), "WATCHDOG=1");
  // A handler that hogs the loop (a wedged request, a deadlock): the pings stop with it, as a
  // ping thread of its own would not.
  std::atomic<bool> release{false};
  boost::asio::post(loop.io(), [&] {
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  while (manager.next(std::chrono::milliseconds(100))) {
  }  // what was sent before the handler ran
  EXPECT_EQ(manager.next(std::chrono::milliseconds(400)), std::nullopt);
  release = true;
  EXPECT_EQ(manager.next(std::chrono::milliseconds(500)), "WATCHDOG=1");
  monitor.stop();
}

TEST(ServiceMonitor, NoStoppingWithoutAStart) {
  testing::NotifySocket manager;
  SystemdNotifier notifier;
  EventLoop loop;
  {
    ServiceMonitor monitor(loop.io(), notifier, [] { return ServiceState{}; });
    monitor.stop();  // a server whose start failed reports the failure, not a stop
  }
  EXPECT_EQ(manager.next(std::chrono::milliseconds(300)), std::nullopt);
}

TEST(ServiceMonitor, DoesNothingOutsideAServiceManager) {
  unsetenv("NOTIFY_SOCKET");
  SystemdNotifier notifier;
  std::atomic<int> samples{0};
  EventLoop loop;
  {
    ServiceMonitor monitor(loop.io(), notifier, [&] {
      ++samples;
      return ServiceState{};
    });
    monitor.start();
  }
  EXPECT_EQ(samples.load(), 0);
}

}  // namespace
}  // namespace corral::kernel::service
