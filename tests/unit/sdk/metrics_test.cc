// sdk/metrics.h and the BasicMetricsRegistry: summary arithmetic, the histogram's percentile
// error bound, summary sets, and the registry's same-name-same-object rule.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "corral/basic_metrics_registry.h"
#include "corral/metrics.h"

namespace corral::sdk {
namespace {

TEST(Summary, EmptyReportsZerosLikeZooKeeper) {
  Summary summary(SummaryDetail::kAdvanced);
  auto v = summary.values();
  EXPECT_EQ(v.count, 0);
  EXPECT_EQ(v.min, 0);
  EXPECT_EQ(v.max, 0);
  EXPECT_EQ(v.average(), 0.0);
  EXPECT_TRUE(v.has_percentiles);
  EXPECT_EQ(v.p50, 0);
  EXPECT_EQ(v.p999, 0);
}

TEST(Summary, CountSumMinMaxAverage) {
  Summary summary;
  for (int64_t x : {5, 1, 9, 3}) summary.add(x);
  auto v = summary.values();
  EXPECT_EQ(v.count, 4);
  EXPECT_EQ(v.sum, 18);
  EXPECT_EQ(v.min, 1);
  EXPECT_EQ(v.max, 9);
  EXPECT_DOUBLE_EQ(v.average(), 4.5);
  EXPECT_FALSE(v.has_percentiles);
}

TEST(Summary, NegativeValuesClampToZero) {
  Summary summary(SummaryDetail::kAdvanced);
  summary.add(-7);
  auto v = summary.values();
  EXPECT_EQ(v.min, 0);
  EXPECT_EQ(v.sum, 0);
  EXPECT_EQ(v.p50, 0);
}

TEST(Summary, SmallValuesHaveExactPercentiles) {
  // The mntr sample from a 3.8 server: readlatency 0, 1, 1 -> p50 1.
  Summary summary(SummaryDetail::kAdvanced);
  for (int64_t x : {0, 1, 1}) summary.add(x);
  EXPECT_EQ(summary.values().p50, 1);
  Summary hundred(SummaryDetail::kAdvanced);
  for (int64_t x = 1; x <= 10; ++x) {
    for (int i = 0; i < 10; ++i) hundred.add(x);
  }
  auto v = hundred.values();
  EXPECT_EQ(v.p50, 5);
  EXPECT_EQ(v.p95, 10);
  EXPECT_EQ(v.p99, 10);
}

TEST(Summary, LargeValuePercentilesWithinOneSixteenth) {
  std::mt19937_64 rng(42);
  std::lognormal_distribution<double> dist(8.0, 2.0);
  std::vector<int64_t> values;
  Summary summary(SummaryDetail::kAdvanced);
  for (int i = 0; i < 100000; ++i) {
    auto x = static_cast<int64_t>(dist(rng));
    values.push_back(x);
    summary.add(x);
  }
  std::sort(values.begin(), values.end());
  auto v = summary.values();
  auto exact = [&](double q) { return values[static_cast<size_t>(q * values.size()) - 1]; };
  for (auto [got, want] : {std::pair{v.p50, exact(0.5)}, {v.p95, exact(0.95)}, {v.p99, exact(0.99)}}) {
    EXPECT_NEAR(static_cast<double>(got), static_cast<double>(want), want / 16.0 + 1) << want;
  }
  EXPECT_LE(v.p999, v.max);
  EXPECT_GE(v.p50, v.min);
}

TEST(Summary, BucketsCoverTheRangeMonotonically) {
  int previous = -1;
  for (int64_t x : {int64_t{0}, int64_t{15}, int64_t{16}, int64_t{17}, int64_t{1000}, int64_t{1} << 20,
                    Summary::kMaxValue}) {
    int bucket = Summary::bucketOf(x);
    EXPECT_GT(bucket, previous) << x;
    EXPECT_LT(bucket, Summary::kBuckets) << x;
    previous = bucket;
  }
  for (int b = 0; b < Summary::kBuckets; ++b) EXPECT_EQ(Summary::bucketOf(Summary::representativeOf(b)), b) << b;
}

TEST(Summary, ConcurrentAddsAreAllCounted) {
  Summary summary(SummaryDetail::kAdvanced);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&summary, t] {
      for (int i = 0; i < 10000; ++i) summary.add(t);
    });
  }
  for (auto& thread : threads) thread.join();
  auto v = summary.values();
  EXPECT_EQ(v.count, 40000);
  EXPECT_EQ(v.sum, 10000 * (0 + 1 + 2 + 3));
  EXPECT_EQ(v.min, 0);
  EXPECT_EQ(v.max, 3);
}

TEST(MntrFields, ZooKeepersKeysOrderAndRounding) {
  Summary basic;
  for (int64_t x : {0, 1, 1}) basic.add(x);
  auto fields = mntrFields("readlatency", basic.values());
  std::vector<std::string> keys;
  for (const auto& f : fields) keys.push_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"avg_readlatency", "min_readlatency", "max_readlatency",
                                            "cnt_readlatency", "sum_readlatency"}));
  ASSERT_TRUE(fields[0].is_average);
  EXPECT_DOUBLE_EQ(fields[0].average, 0.6667);  // the value a 3.8 server printed for 0, 1, 1
  EXPECT_EQ(fields[3].value, 3);
  Summary advanced(SummaryDetail::kAdvanced);
  advanced.add(5);
  auto detailed = mntrFields("x", advanced.values());
  ASSERT_EQ(detailed.size(), 9u);
  EXPECT_EQ(detailed[8].key, "p999_x");
  EXPECT_EQ(detailed[8].value, 5);
}

TEST(SummarySet, OneSummaryPerKey) {
  SummarySet set(SummaryDetail::kBasic);
  set.add("a", 12);
  set.add("a", 3);
  set.add("b", 80);
  std::map<std::string, SummaryValues> seen;
  set.forEach([&](std::string_view key, const Summary& s) { seen[std::string(key)] = s.values(); });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen["a"].count, 2);
  EXPECT_EQ(seen["a"].sum, 15);
  EXPECT_EQ(seen["b"].max, 80);
  EXPECT_FALSE(seen["b"].has_percentiles);
}

TEST(BasicMetricsRegistry, SameNameSameObjectAndKindsInForEach) {
  BasicMetricsRegistry registry;
  auto& counter = registry.counter("c", "help");
  EXPECT_EQ(&counter, &registry.counter("c", "other help"));
  auto& summary = registry.summary("s", "", SummaryDetail::kAdvanced);
  EXPECT_EQ(&summary, &registry.summary("s", "", SummaryDetail::kBasic));
  EXPECT_EQ(registry.summary("s", "", SummaryDetail::kBasic).detail(), SummaryDetail::kAdvanced);
  auto& set = registry.summarySet("set", "", SummaryDetail::kBasic);
  EXPECT_EQ(&set, &registry.summarySet("set", "", SummaryDetail::kBasic));
  registry.gauge("g", "").set(-1);
  registry.gaugeFunction("f", "", [] { return int64_t{7}; });
  counter.add(3);
  summary.add(2);
  std::map<std::string, MetricSample> samples;
  std::vector<std::string> order;
  registry.forEach([&](const MetricSample& m) {
    samples[std::string(m.name)] = m;
    order.emplace_back(m.name);
  });
  EXPECT_EQ(order, (std::vector<std::string>{"c", "f", "g", "s", "set"}));
  EXPECT_EQ(samples["c"].kind, MetricKind::kCounter);
  EXPECT_EQ(samples["c"].value, 3);
  EXPECT_EQ(samples["c"].help, "help");
  EXPECT_EQ(samples["g"].value, -1);
  EXPECT_EQ(samples["f"].value, 7);
  EXPECT_EQ(samples["s"].kind, MetricKind::kSummary);
  ASSERT_NE(samples["s"].summary, nullptr);
  EXPECT_EQ(samples["s"].summary->values().sum, 2);
  EXPECT_EQ(samples["set"].kind, MetricKind::kSummarySet);
  EXPECT_EQ(samples["set"].set, &set);
}

}  // namespace
}  // namespace corral::sdk
