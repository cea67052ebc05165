// The ServerMetrics catalog (kernel/runtime/server_metrics): ZooKeeper 3.8's names and kinds,
// registration, and the namespace rule behind read/write_per_namespace.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "corral/basic_metrics_registry.h"
#include "kernel/runtime/server_metrics.h"

namespace corral::kernel::runtime {
namespace {

TEST(ServerMetrics, CatalogHasZooKeepersCountsAndNoDuplicates) {
  std::set<std::string_view> names;
  int counters = 0, summaries = 0, advanced = 0, sets = 0;
  for (const auto& spec : zooKeeperServerMetrics()) {
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    if (spec.kind == sdk::MetricKind::kCounter) ++counters;
    if (spec.kind == sdk::MetricKind::kSummary) ++summaries;
    if (spec.kind == sdk::MetricKind::kSummary && spec.detail == sdk::SummaryDetail::kAdvanced) ++advanced;
    if (spec.kind == sdk::MetricKind::kSummarySet) ++sets;
  }
  // 3.8.0's ServerMetrics: 47 counters, 64 summaries (23 with percentiles), 5 summary sets.
  EXPECT_EQ(counters, 47);
  EXPECT_EQ(summaries, 64);
  EXPECT_EQ(advanced, 23);
  EXPECT_EQ(sets, 5);
  for (auto name : {"readlatency", "updatelatency", "fsynctime", "commit_count", "read_per_namespace",
                    "requests_not_forwarded_to_commit_processor", "watch_bytes"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
}

TEST(ServerMetrics, RegistrationIsIdempotentAndSharedWithKernelHandles) {
  sdk::BasicMetricsRegistry registry;
  registerZooKeeperServerMetrics(registry);
  registerZooKeeperServerMetrics(registry);
  int visited = 0;
  registry.forEach([&](const sdk::MetricSample&) { ++visited; });
  EXPECT_EQ(visited, static_cast<int>(zooKeeperServerMetrics().size()));
  KernelMetrics kernel(registry);
  kernel.read_latency.add(4);
  EXPECT_EQ(registry.summary("readlatency", "", sdk::SummaryDetail::kBasic).values().count, 1);
  EXPECT_EQ(registry.summary("readlatency", "", sdk::SummaryDetail::kBasic).detail(),
            sdk::SummaryDetail::kAdvanced);
}

TEST(ServerMetrics, TopNamespaceFollowsPathUtils) {
  EXPECT_EQ(topNamespace("/a"), "a");
  EXPECT_EQ(topNamespace("/a/b/c"), "a");
  EXPECT_EQ(topNamespace("/zookeeper/quota"), "zookeeper");
  EXPECT_EQ(topNamespace("/"), "");
  EXPECT_EQ(topNamespace(""), "");
  EXPECT_EQ(kStatOverheadBytes, 68);
}

}  // namespace
}  // namespace corral::kernel::runtime
