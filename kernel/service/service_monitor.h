// ServiceMonitor: tells the service manager what the server is doing, from the event loop.
//
//  - READY=1 once the server serves clients: every component has started (ports open, data
//    loaded) and it has a role, so an ensemble member is ready only after it has joined a
//    quorum (as leader, follower or observer; read-only mode is not ready).
//  - STATUS= at once when the role changes; a new last zxid or session count at most every
//    kDetailPeriod (each STATUS= is a D-Bus signal, and a busy server's zxid always moves).
//  - WATCHDOG=1 every tick (a second, or half of WatchdogSec= if that is shorter). The pings
//    come from an event-loop timer: when the loop stalls, they stop and the manager restarts
//    the server.
//  - STOPPING=1 when the server begins to stop (after start() only).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

#include "kernel/service/systemd_notifier.h"

namespace corral::kernel::service {

// What the monitor samples each tick (any thread; views of atomics).
struct ServiceState {
  std::string role;         // "standalone", "leader", "follower", "observer", "looking"
  bool serving = false;     // the role serves clients (not a leader with leaderServes=no)
  bool read_only = false;   // serving read-only clients without a quorum
  int64_t last_zxid = 0;
  size_t sessions = 0;
};

// The one-line STATUS= text of a state ("leader, last zxid 0x100000003, 2 sessions").
std::string describe(const ServiceState& state);
// The part of it that is sent at once when it changes: the role and how it serves.
std::string headline(const ServiceState& state);
// Ready for the service manager: standalone, or a member of a quorum (leader, follower,
// observer). A leader with leaderServes=no is ready too: it serves the ensemble, not clients.
bool isReady(const ServiceState& state);

class ServiceMonitor {
 public:
  using Sampler = std::function<ServiceState()>;

  ServiceMonitor(boost::asio::io_context& io, SystemdNotifier& notifier, Sampler sample,
                 std::chrono::milliseconds detail_period = kDetailPeriod);
  ~ServiceMonitor();

  // Starts the ticks (after every component has started). Returns at once.
  void start();
  // STOPPING=1 and no tick afterwards; safe to call from any thread, more than once.
  void stop();

  // Tick periods: quick until ready (READY=1 soon after the quorum forms), then at most once a
  // second, or half the watchdog timeout if that is shorter.
  static constexpr std::chrono::milliseconds kUntilReadyPeriod{100};
  static constexpr std::chrono::milliseconds kStatusPeriod{1000};
  static constexpr std::chrono::milliseconds kDetailPeriod{5000};

 private:
  void tick();
  void arm();  // under mutex_
  std::chrono::microseconds period() const;

  void sendStatus(const ServiceState& state, std::string status);  // under mutex_

  SystemdNotifier& notifier_;
  Sampler sample_;
  const std::chrono::milliseconds detail_period_;
  std::mutex mutex_;  // timer_, the flags and last_status_ (handlers run on any io thread)
  boost::asio::steady_timer timer_;
  bool started_ = false;
  bool stopped_ = false;
  bool ready_sent_ = false;
  std::string last_status_;
  std::string last_headline_;
  std::chrono::steady_clock::time_point last_sent_{};
};

}  // namespace corral::kernel::service
