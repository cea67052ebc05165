// admin.metrics: Prometheus text from monitor data, registry and process statistics.
#include "exposition.h"
#include "process_stats.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <sstream>

namespace corral::plugins::metrics {
namespace {

// A strict reader of the 0.0.4 text format: every sample belongs to the family announced by
// the HELP/TYPE lines before it, names and labels are well formed, values parse, and no
// family appears twice. Returns sample "name{labels}" -> value.
std::map<std::string, double> parseStrict(const std::string& text) {
  static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|summary|histogram|untyped))");
  static const std::regex sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (\S+))");
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::string family;
  std::string family_type;
  std::istringstream lines(text);
  std::string line;
  std::smatch match;
  while (std::getline(lines, line)) {
    if (std::regex_match(line, match, help)) {
      family = match[1];
      EXPECT_EQ(types.count(family), 0u) << "family twice: " << family;
      continue;
    }
    if (std::regex_match(line, match, type)) {
      EXPECT_EQ(match[1], family) << line;
      family_type = match[2];
      types[family] = family_type;
      continue;
    }
    EXPECT_TRUE(std::regex_match(line, match, sample)) << "bad line: " << line;
    if (match.empty()) continue;
    std::string name = match[1];
    bool belongs = name == family ||
                   (family_type == "summary" && (name == family + "_count" || name == family + "_sum"));
    EXPECT_TRUE(belongs) << name << " outside family " << family;
    std::string value = match[match.size() - 1];
    double number = value == "NaN" ? 0 : value == "+Inf" ? 1e308 : std::stod(value);
    std::string key = name + std::string(match[2]);
    EXPECT_EQ(samples.count(key), 0u) << "sample twice: " << key;
    samples[key] = number;
  }
  return samples;
}

TEST(ExpositionTest, GaugesCountersAndStringsSkipped) {
  nlohmann::json monitor = {{"version", "3.8.0"},      {"server_state", "standalone"}, {"znode_count", 5},
                            {"avg_latency", 1.5},      {"min_latency", 0},             {"max_latency", 3},
                            {"commit_count", 12},      {"watch_count", 4}};
  std::string text = renderExposition(monitor, {}, nullptr);
  auto samples = parseStrict(text);
  EXPECT_EQ(samples.at("znode_count"), 5);
  EXPECT_EQ(samples.at("avg_latency"), 1.5);
  EXPECT_EQ(samples.at("min_latency"), 0);
  EXPECT_EQ(samples.count("version"), 0u);
  EXPECT_NE(text.find("# TYPE commit_count counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE znode_count gauge\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP znode_count znode_count\n"), std::string::npos);
}

TEST(ExpositionTest, SummariesAndNamespaceSets) {
  nlohmann::json monitor = {{"avg_readlatency", 2.0}, {"min_readlatency", 1}, {"max_readlatency", 4},
                            {"cnt_readlatency", 3},   {"sum_readlatency", 6}, {"p50_readlatency", 2},
                            {"p99_readlatency", 4},   {"avg_fsynctime", 0.0}, {"min_fsynctime", 0},
                            {"max_fsynctime", 0},     {"cnt_fsynctime", 0},   {"sum_fsynctime", 0},
                            {"avg_a b_write_per_namespace", 1.0}, {"cnt_a b_write_per_namespace", 2},
                            {"sum_a b_write_per_namespace", 2},  {"min_a b_write_per_namespace", 1},
                            {"max_a b_write_per_namespace", 1},  {"qq_quota_count_limit_per_namespace", 5}};
  std::string text = renderExposition(monitor, {}, nullptr);
  auto samples = parseStrict(text);
  EXPECT_EQ(samples.at("readlatency{quantile=\"0.5\"}"), 2);
  EXPECT_EQ(samples.at("readlatency{quantile=\"0.99\"}"), 4);
  EXPECT_EQ(samples.at("readlatency_count"), 3);
  EXPECT_EQ(samples.at("readlatency_sum"), 6);
  EXPECT_EQ(samples.count("avg_readlatency"), 0u);
  EXPECT_EQ(samples.at("fsynctime_count"), 0);
  EXPECT_EQ(samples.at("write_per_namespace_count{key=\"a b\"}"), 2);
  EXPECT_EQ(samples.at("quota_count_limit_per_namespace{key=\"qq\"}"), 5);
  EXPECT_NE(text.find("# TYPE readlatency summary\n"), std::string::npos);
}

TEST(ExpositionTest, RegistryFillsGapsAndNamesAreSanitized) {
  nlohmann::json monitor = {{"num_alive_connections", 2}};
  std::vector<RegistryValue> registry = {{"num_alive_connections", "help", 99},
                                         {"storage.fsync-count", "fsyncs\nmade", 7},
                                         {"9lives", "", 1}};
  std::string text = renderExposition(monitor, registry, nullptr);
  auto samples = parseStrict(text);
  EXPECT_EQ(samples.at("num_alive_connections"), 2);  // the monitor view wins
  EXPECT_EQ(samples.at("storage_fsync_count"), 7);
  EXPECT_EQ(samples.at("_9lives"), 1);
  EXPECT_NE(text.find("# HELP storage_fsync_count fsyncs\\nmade\n"), std::string::npos);
}

TEST(ExpositionTest, ProcessMetrics) {
  ProcessStats process = readProcessStats();
  ASSERT_TRUE(process.resident_memory_bytes.has_value());
  EXPECT_GT(*process.resident_memory_bytes, 0);
  ASSERT_TRUE(process.open_fds.has_value());
  EXPECT_GE(*process.open_fds, 3);
  ASSERT_TRUE(process.cpu_seconds.has_value());
  ASSERT_TRUE(process.start_time_seconds.has_value());
  EXPECT_GT(*process.start_time_seconds, 1.6e9);
  process.jemalloc = {{"allocated", 1024}};
  auto samples = parseStrict(renderExposition(nlohmann::json::object(), {}, &process));
  EXPECT_GT(samples.at("process_resident_memory_bytes"), 0);
  EXPECT_GE(samples.at("process_cpu_seconds_total"), 0);
  EXPECT_EQ(samples.at("jemalloc_allocated_bytes"), 1024);
  EXPECT_EQ(samples.count("process_open_fds"), 1u);
}

TEST(ExpositionTest, NonObjectMonitorIsIgnored) {
  EXPECT_EQ(renderExposition(nlohmann::json::array({1}), {}, nullptr), "");
  EXPECT_EQ(sanitizeName("a-b.c:d"), "a_b_c:d");
  EXPECT_TRUE(isZooKeeperCounter("snap_count"));
  EXPECT_FALSE(isZooKeeperCounter("znode_count"));
}

}  // namespace
}  // namespace corral::plugins::metrics
