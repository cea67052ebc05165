#include "kernel/service/service_monitor.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::kernel::service {

namespace {

std::string sessions(size_t count) { return fmt::format("{} session{}", count, count == 1 ? "" : "s"); }

}  // namespace

std::string headline(const ServiceState& state) {
  if (state.read_only) return "read-only (no quorum)";
  if (state.role == "looking") return "looking: waiting for a quorum";
  // A leader with leaderServes=no is a working member that takes no client connections.
  return state.serving ? state.role : state.role + " (not serving clients)";
}

std::string describe(const ServiceState& state) {
  const std::string zxid = fmt::format("last zxid 0x{:x}", static_cast<uint64_t>(state.last_zxid));
  if (state.role == "looking" && !state.read_only) return fmt::format("{}, {}", headline(state), zxid);
  return fmt::format("{}, {}, {}", headline(state), zxid, sessions(state.sessions));
}

bool isReady(const ServiceState& state) { return state.role != "looking" && !state.read_only; }

ServiceMonitor::ServiceMonitor(boost::asio::io_context& io, SystemdNotifier& notifier, Sampler sample,
                               std::chrono::milliseconds detail_period)
    : notifier_(notifier), sample_(std::move(sample)), detail_period_(detail_period), timer_(io) {}

ServiceMonitor::~ServiceMonitor() { stop(); }

void ServiceMonitor::start() {
  std::lock_guard lock(mutex_);
  if (started_ || stopped_ || !notifier_.active()) return;
  started_ = true;
  // The first tick right away: a standalone server is ready as soon as its ports are open.
  timer_.expires_after(std::chrono::milliseconds(0));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) tick();
  });
}

void ServiceMonitor::stop() {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  timer_.cancel();
  // Only a server that started stops; a failed start reports its failure instead.
  if (started_) notifier_.stopping("stopping: closing connections");
}

std::chrono::microseconds ServiceMonitor::period() const {
  std::chrono::microseconds period = ready_sent_ ? kStatusPeriod : kUntilReadyPeriod;
  if (auto timeout = notifier_.watchdogTimeout()) period = std::min(period, *timeout / 2);
  return std::max(period, std::chrono::microseconds(1000));
}

void ServiceMonitor::tick() {
  ServiceState state = sample_();
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  std::string status = describe(state);
  if (!ready_sent_ && isReady(state)) {
    notifier_.ready(status);
    ready_sent_ = true;
    last_status_ = status;
    last_headline_ = headline(state);
    last_sent_ = std::chrono::steady_clock::now();
  } else if (status != last_status_) {
    sendStatus(state, std::move(status));
  }
  if (notifier_.watchdogTimeout()) notifier_.watchdogPing();
  arm();
}

void ServiceMonitor::sendStatus(const ServiceState& state, std::string status) {
  const auto now = std::chrono::steady_clock::now();
  std::string role_line = headline(state);
  if (role_line == last_headline_ && now - last_sent_ < detail_period_) return;
  notifier_.status(status);
  last_status_ = std::move(status);
  last_headline_ = std::move(role_line);
  last_sent_ = now;
}

void ServiceMonitor::arm() {
  timer_.expires_after(period());
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) tick();
  });
}

}  // namespace corral::kernel::service
