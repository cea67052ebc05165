// Metrics: counters, gauges and summaries a plugin registers once and updates
// lock-free.
//
// Names follow ZooKeeper 3.8's ServerMetrics (the mntr keys without `zk_`), so
// the kernel's `monitor` command and admin.metrics show a plugin's figures
// under the names operators' dashboards already use. A summary appears in mntr
// as avg_X, min_X, max_X, cnt_X, sum_X and, when detailed, p50_X, p95_X, p99_X,
// p999_X (ZooKeeper's DetailLevel BASIC / ADVANCED).
//
// Threading: every update is a handful of relaxed atomic operations, safe from
// any thread and cheap enough for per-request paths; readers see each field
// atomically but not a consistent snapshot of all fields together (monitoring
// figures, like ZooKeeper's).
#pragma once

#include <algorithm>
#include <cmath>
#include <array>
#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace corral::sdk {

class Counter {
 public:
  void add(int64_t delta = 1) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }
  void reset() noexcept { value_.store(0, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t value) noexcept { value_.store(value, std::memory_order_relaxed); }
  void add(int64_t delta) noexcept { value_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// ZooKeeper's DetailLevel: kBasic = count/sum/min/max; kAdvanced adds
// percentiles.
enum class SummaryDetail { kBasic, kAdvanced };

struct SummaryValues {
  int64_t count = 0;
  int64_t sum = 0;
  int64_t min = 0;  // 0 while empty, as ZooKeeper prints it
  int64_t max = 0;
  bool has_percentiles = false;
  int64_t p50 = 0, p95 = 0, p99 = 0, p999 = 0;
  double average() const noexcept { return count == 0 ? 0.0 : static_cast<double>(sum) / count; }
};

// A distribution of non-negative values (latencies in ms, sizes, counts).
// Percentiles come from a log-linear histogram instead of ZooKeeper's sampled
// reservoir: fixed memory, no locks, exact below 16 and within 1/16 (6%) above;
// values are clamped to [0, 2^40).
class Summary {
 public:
  explicit Summary(SummaryDetail detail = SummaryDetail::kBasic) : detail_(detail) {
    if (detail_ == SummaryDetail::kAdvanced) buckets_ = std::make_unique<std::atomic<int64_t>[]>(kBuckets);
  }

  void add(int64_t value) noexcept {
    value = std::clamp<int64_t>(value, 0, kMaxValue);
    count_.fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
    int64_t seen = min_.load(std::memory_order_relaxed);
    while (value < seen && !min_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
    seen = max_.load(std::memory_order_relaxed);
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
    if (buckets_) buckets_[bucketOf(value)].fetch_add(1, std::memory_order_relaxed);
  }

  SummaryDetail detail() const noexcept { return detail_; }

  SummaryValues values() const noexcept {
    SummaryValues v;
    v.count = count_.load(std::memory_order_relaxed);
    v.sum = sum_.load(std::memory_order_relaxed);
    if (v.count > 0) {
      v.min = min_.load(std::memory_order_relaxed);
      v.max = max_.load(std::memory_order_relaxed);
    }
    if (buckets_) {
      v.has_percentiles = true;
      std::array<int64_t, 4> ranks{};
      const std::array<double, 4> quantiles{0.5, 0.95, 0.99, 0.999};
      std::array<int64_t, 4> results{};
      int64_t total = 0;
      for (int i = 0; i < kBuckets; ++i) total += buckets_[i].load(std::memory_order_relaxed);
      for (size_t q = 0; q < quantiles.size(); ++q) {
        ranks[q] =
            std::max<int64_t>(1, static_cast<int64_t>(quantiles[q] * static_cast<double>(total) + 0.5));
      }
      int64_t seen = 0;
      size_t next = 0;
      for (int i = 0; i < kBuckets && next < ranks.size() && total > 0; ++i) {
        seen += buckets_[i].load(std::memory_order_relaxed);
        while (next < ranks.size() && seen >= ranks[next]) {
          results[next++] = std::clamp(representativeOf(i), v.min, v.max);
        }
      }
      v.p50 = results[0];
      v.p95 = results[1];
      v.p99 = results[2];
      v.p999 = results[3];
    }
    return v;
  }

  void reset() noexcept {
    count_.store(0, std::memory_order_relaxed);
    sum_.store(0, std::memory_order_relaxed);
    min_.store(std::numeric_limits<int64_t>::max(), std::memory_order_relaxed);
    max_.store(0, std::memory_order_relaxed);
    if (buckets_) {
      for (int i = 0; i < kBuckets; ++i) buckets_[i].store(0, std::memory_order_relaxed);
    }
  }

  // Histogram layout, public for tests: values below 16 have a bucket each;
  // above, every power of two [2^e, 2^(e+1)) is split into 16 equal
  // sub-buckets.
  static constexpr int kExactBelow = 16;
  static constexpr int kSubBuckets = 16;
  static constexpr int kMaxExponent = 40;
  static constexpr int64_t kMaxValue = (int64_t{1} << kMaxExponent) - 1;
  static constexpr int kBuckets = kExactBelow + (kMaxExponent - 4) * kSubBuckets;

  static int bucketOf(int64_t value) noexcept {
    if (value < kExactBelow) return static_cast<int>(value);
    int exponent = std::bit_width(static_cast<uint64_t>(value)) - 1;  // >= 4
    int sub = static_cast<int>((value >> (exponent - 4)) & (kSubBuckets - 1));
    return kExactBelow + (exponent - 4) * kSubBuckets + sub;
  }
  // The middle of the bucket's range (its only value below 16).
  static int64_t representativeOf(int bucket) noexcept {
    if (bucket < kExactBelow) return bucket;
    int exponent = (bucket - kExactBelow) / kSubBuckets + 4;
    int64_t sub = (bucket - kExactBelow) % kSubBuckets;
    int64_t width = int64_t{1} << (exponent - 4);
    int64_t low = (int64_t{1} << exponent) + sub * width;
    return low + width / 2;
  }

 private:
  SummaryDetail detail_;
  std::atomic<int64_t> count_{0};
  std::atomic<int64_t> sum_{0};
  std::atomic<int64_t> min_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> max_{0};
  std::unique_ptr<std::atomic<int64_t>[]> buckets_;
};

// One field of a summary as mntr prints it: avg_X is a double, the others integers.
struct SummaryField {
  std::string key;
  bool is_average = false;
  double average = 0.0;
  int64_t value = 0;
};

// The mntr fields of the summary `name`, in ZooKeeper's order: avg_, min_, max_, cnt_, sum_
// and, with percentiles, p50_, p95_, p99_, p999_. The average is rounded to 4 decimals as
// ZooKeeper's Java prints it (Math.round(x * 10000) / 10000.0).
inline std::vector<SummaryField> mntrFields(std::string_view name, const SummaryValues& v) {
  auto key = [name](std::string_view prefix) {
    std::string k(prefix);
    k += '_';
    k += name;
    return k;
  };
  std::vector<SummaryField> fields;
  fields.push_back({key("avg"), true, std::round(v.average() * 10000.0) / 10000.0, 0});
  fields.push_back({key("min"), false, 0.0, v.min});
  fields.push_back({key("max"), false, 0.0, v.max});
  fields.push_back({key("cnt"), false, 0.0, v.count});
  fields.push_back({key("sum"), false, 0.0, v.sum});
  if (v.has_percentiles) {
    fields.push_back({key("p50"), false, 0.0, v.p50});
    fields.push_back({key("p95"), false, 0.0, v.p95});
    fields.push_back({key("p99"), false, 0.0, v.p99});
    fields.push_back({key("p999"), false, 0.0, v.p999});
  }
  return fields;
}

// One summary per key (ZooKeeper's SummarySet, e.g. read_per_namespace keyed by
// the top-level znode). A key is created on first use under a write lock; later
// adds take a shared lock.
class SummarySet {
 public:
  explicit SummarySet(SummaryDetail detail = SummaryDetail::kBasic) : detail_(detail) {}

  void add(std::string_view key, int64_t value) {
    {
      std::shared_lock lock(mutex_);
      if (auto it = members_.find(key); it != members_.end()) {
        it->second->add(value);
        return;
      }
    }
    std::unique_lock lock(mutex_);
    auto it = members_.find(key);
    if (it == members_.end())
      it = members_.emplace(std::string(key), std::make_unique<Summary>(detail_)).first;
    it->second->add(value);
  }

  SummaryDetail detail() const noexcept { return detail_; }

  void forEach(const std::function<void(std::string_view key, const Summary&)>& visit) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, summary] : members_) visit(key, *summary);
  }

 private:
  SummaryDetail detail_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::unique_ptr<Summary>, std::less<>> members_;
};

enum class MetricKind { kCounter, kGauge, kSummary, kSummarySet };

// One metric as forEach() shows it. For kSummarySet, `set` is the whole set.
struct MetricSample {
  std::string_view name;
  std::string_view help;
  MetricKind kind = MetricKind::kGauge;
  int64_t value = 0;                 // counters and gauges
  const Summary* summary = nullptr;  // kSummary
  const SummarySet* set = nullptr;   // kSummarySet
};

class MetricsRegistry {
 public:
  virtual ~MetricsRegistry() = default;
  // Same name twice returns the same object (the first registration's help and
  // detail win).
  virtual Counter& counter(std::string_view name, std::string_view help) noexcept = 0;
  virtual Gauge& gauge(std::string_view name, std::string_view help) noexcept = 0;
  // A gauge computed on read (e.g. a table size); `read` must be thread-safe.
  virtual void gaugeFunction(std::string_view name, std::string_view help,
                             std::function<int64_t()> read) noexcept = 0;
  virtual Summary& summary(std::string_view name, std::string_view help, SummaryDetail detail) noexcept = 0;
  virtual SummarySet& summarySet(std::string_view name, std::string_view help,
                                 SummaryDetail detail) noexcept = 0;
  // Visit every metric, in name order (admin plugins).
  virtual void forEach(const std::function<void(const MetricSample&)>& visit) const = 0;
};

}  // namespace corral::sdk
