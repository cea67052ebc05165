#include "kernel/runtime/metrics_registry.h"

namespace corral::kernel::runtime {

sdk::Counter& MetricsRegistryImpl::counter(std::string_view name, std::string_view help) noexcept {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second.counter != nullptr) return *it->second.counter;
  auto& counter = counters_.emplace_back();
  entries_[std::string(name)] = Entry{std::string(help), &counter, nullptr, {}};
  return counter;
}

sdk::Gauge& MetricsRegistryImpl::gauge(std::string_view name, std::string_view help) noexcept {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second.gauge != nullptr) return *it->second.gauge;
  auto& gauge = gauges_.emplace_back();
  entries_[std::string(name)] = Entry{std::string(help), nullptr, &gauge, {}};
  return gauge;
}

void MetricsRegistryImpl::gaugeFunction(std::string_view name, std::string_view help,
                                        std::function<int64_t()> read) noexcept {
  std::lock_guard lock(mutex_);
  entries_[std::string(name)] = Entry{std::string(help), nullptr, nullptr, std::move(read)};
}

void MetricsRegistryImpl::forEach(
    const std::function<void(std::string_view, std::string_view, int64_t)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : entries_) {
    int64_t value = entry.counter ? entry.counter->value()
                    : entry.gauge ? entry.gauge->value()
                    : entry.read  ? entry.read()
                                  : 0;
    visit(name, entry.help, value);
  }
}

}  // namespace corral::kernel::runtime
