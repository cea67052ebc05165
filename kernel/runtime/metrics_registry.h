// The process-wide metrics registry behind sdk::MetricsRegistry. Metrics are created once
// (under a mutex) and updated lock-free; std::deque keeps their addresses stable.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "corral/host.h"

namespace corral::kernel::runtime {

class MetricsRegistryImpl final : public sdk::MetricsRegistry {
 public:
  sdk::Counter& counter(std::string_view name, std::string_view help) noexcept override;
  sdk::Gauge& gauge(std::string_view name, std::string_view help) noexcept override;
  void gaugeFunction(std::string_view name, std::string_view help,
                     std::function<int64_t()> read) noexcept override;
  void forEach(const std::function<void(std::string_view, std::string_view, int64_t)>& visit)
      const override;

 private:
  struct Entry {
    std::string help;
    sdk::Counter* counter = nullptr;
    sdk::Gauge* gauge = nullptr;
    std::function<int64_t()> read;
  };
  mutable std::mutex mutex_;
  std::deque<sdk::Counter> counters_;
  std::deque<sdk::Gauge> gauges_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace corral::kernel::runtime
