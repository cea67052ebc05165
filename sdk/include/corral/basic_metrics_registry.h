// BasicMetricsRegistry: a complete sdk::MetricsRegistry. The kernel serves it
// to plugins; plugin tests use it as their host's registry. Metrics are created
// once (under a mutex) and updated lock-free; std::deque keeps their addresses
// stable.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "corral/metrics.h"

namespace corral::sdk {

class BasicMetricsRegistry final : public MetricsRegistry {
 public:
  Counter& counter(std::string_view name, std::string_view help) noexcept override;
  Gauge& gauge(std::string_view name, std::string_view help) noexcept override;
  void gaugeFunction(std::string_view name, std::string_view help,
                     std::function<int64_t()> read) noexcept override;
  Summary& summary(std::string_view name, std::string_view help, SummaryDetail detail) noexcept override;
  SummarySet& summarySet(std::string_view name, std::string_view help,
                         SummaryDetail detail) noexcept override;
  void forEach(const std::function<void(const MetricSample&)>& visit) const override;

 private:
  struct Entry {
    std::string help;
    MetricKind kind = MetricKind::kGauge;
    Counter* counter = nullptr;
    Gauge* gauge = nullptr;
    Summary* summary = nullptr;
    SummarySet* set = nullptr;
    std::function<int64_t()> read;
  };
  // The entry called `name`, created by `make` when there is none. A name
  // registered as a different kind is replaced (the newer registration wins,
  // like gaugeFunction always did).
  template <typename T, typename Make>
  T& findOrCreate(std::string_view name, std::string_view help, T* Entry::*slot, Make make);

  mutable std::mutex mutex_;
  std::deque<Counter> counters_;
  std::deque<Gauge> gauges_;
  std::deque<Summary> summaries_;
  std::deque<SummarySet> sets_;
  std::map<std::string, Entry, std::less<>> entries_;
};

template <typename T, typename Make>
inline T& BasicMetricsRegistry::findOrCreate(std::string_view name, std::string_view help, T* Entry::*slot,
                                             Make make) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(name);
  if (it != entries_.end() && it->second.*slot != nullptr) return *(it->second.*slot);
  Entry entry;
  entry.help = std::string(help);
  T& created = make(entry);
  entry.*slot = &created;
  entries_.insert_or_assign(std::string(name), std::move(entry));
  return created;
}

inline Counter& BasicMetricsRegistry::counter(std::string_view name, std::string_view help) noexcept {
  return findOrCreate(name, help, &Entry::counter, [this](Entry& e) -> Counter& {
    e.kind = MetricKind::kCounter;
    return counters_.emplace_back();
  });
}

inline Gauge& BasicMetricsRegistry::gauge(std::string_view name, std::string_view help) noexcept {
  return findOrCreate(name, help, &Entry::gauge, [this](Entry& e) -> Gauge& {
    e.kind = MetricKind::kGauge;
    return gauges_.emplace_back();
  });
}

inline Summary& BasicMetricsRegistry::summary(std::string_view name, std::string_view help,
                                              SummaryDetail detail) noexcept {
  return findOrCreate(name, help, &Entry::summary, [this, detail](Entry& e) -> Summary& {
    e.kind = MetricKind::kSummary;
    return summaries_.emplace_back(detail);
  });
}

inline SummarySet& BasicMetricsRegistry::summarySet(std::string_view name, std::string_view help,
                                                    SummaryDetail detail) noexcept {
  return findOrCreate(name, help, &Entry::set, [this, detail](Entry& e) -> SummarySet& {
    e.kind = MetricKind::kSummarySet;
    return sets_.emplace_back(detail);
  });
}

inline void BasicMetricsRegistry::gaugeFunction(std::string_view name, std::string_view help,
                                                std::function<int64_t()> read) noexcept {
  std::lock_guard lock(mutex_);
  Entry entry;
  entry.help = std::string(help);
  entry.kind = MetricKind::kGauge;
  entry.read = std::move(read);
  entries_.insert_or_assign(std::string(name), std::move(entry));
}

inline void BasicMetricsRegistry::forEach(const std::function<void(const MetricSample&)>& visit) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, entry] : entries_) {
    MetricSample sample;
    sample.name = name;
    sample.help = entry.help;
    sample.kind = entry.kind;
    sample.value = entry.counter ? entry.counter->value()
                   : entry.gauge ? entry.gauge->value()
                   : entry.read  ? entry.read()
                                 : 0;
    sample.summary = entry.summary;
    sample.set = entry.set;
    visit(sample);
  }
}

}  // namespace corral::sdk
