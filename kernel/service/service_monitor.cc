#include "kernel/service/service_monitor.h"

#include <fmt/format.h>

#include <algorithm>

namespace corral::kernel::service {

std::string describe(const ServiceState& state) {
  const std::string zxid = fmt::format("last zxid 0x{:x}", static_cast<uint64_t>(state.last_zxid));
  if (state.read_only) {
    return fmt::format("read-only (no quorum), {}, {} sessions", zxid, state.sessions);
  }
  if (state.role == "looking") return fmt::format("looking: waiting for a quorum, {}", zxid);
  // A leader with leaderServes=no is a working member that takes no client connections.
  const char* clients = state.serving ? "" : " (not serving clients)";
  return fmt::format("{}{}, {}, {} sessions", state.role, clients, zxid, state.sessions);
}

bool isReady(const ServiceState& state) { return state.role != "looking" && !state.read_only; }

ServiceMonitor::ServiceMonitor(boost::asio::io_context& io, SystemdNotifier& notifier, Sampler sample)
    : notifier_(notifier), sample_(std::move(sample)), timer_(io) {}

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
  notifier_.stopping("stopping: closing connections");
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
  } else if (status != last_status_) {
    notifier_.status(status);
    last_status_ = status;
  }
  if (notifier_.watchdogTimeout()) notifier_.watchdogPing();
  arm();
}

void ServiceMonitor::arm() {
  timer_.expires_after(period());
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) tick();
  });
}

}  // namespace corral::kernel::service
