#include "exposition.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

namespace corral::plugins::metrics {
namespace {

// ServerMetrics counters of ZooKeeper 3.8 (mntr on a standalone 3.8.0 server); every other
// plain mntr number is a gauge there.
constexpr std::array<std::string_view, 47> kCounters = {
    "add_dead_watcher_stall_time", "bytes_received_count", "cnxn_closed_without_zk_server_running",
    "commit_count", "connection_drop_count", "connection_rejected", "connection_request_count",
    "connection_revalidate_count", "dead_watchers_cleared", "dead_watchers_queued", "diff_count",
    "digest_mismatches_count", "ensemble_auth_fail", "ensemble_auth_skip", "ensemble_auth_success",
    "insecure_admin_count", "large_requests_rejected", "learner_commit_received_count",
    "learner_proposal_received_count", "looking_count", "outstanding_changes_queued",
    "outstanding_changes_removed", "prep_processor_request_queued", "proposal_count",
    "quit_leading_due_to_disloyal_voter", "request_commit_queued", "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor", "response_bytes", "response_packet_cache_hits",
    "response_packet_cache_misses", "response_packet_get_children_cache_hits",
    "response_packet_get_children_cache_misses", "revalidate_count", "sessionless_connections_expired",
    "skip_learner_request_to_next_processor_count", "snap_count", "stale_replies", "stale_requests",
    "stale_requests_dropped", "stale_sessions_expired", "sync_processor_request_queued", "throttled_ops",
    "tls_handshake_exceeded", "unrecoverable_error_count", "unsuccessful_handshake", "watch_bytes"};

// mntr percentile keys of a summary and the quantile each one is.
constexpr std::array<std::pair<std::string_view, std::string_view>, 4> kQuantiles = {
    {{"p50_", "0.5"}, {"p95_", "0.95"}, {"p99_", "0.99"}, {"p999_", "0.999"}}};

// Per-namespace sets: mntr writes <ns>_<suffix>; Prometheus has <suffix>{key="<ns>"}.
constexpr std::array<std::string_view, 2> kSummarySetSuffixes = {"_read_per_namespace", "_write_per_namespace"};
constexpr std::array<std::string_view, 4> kGaugeSetSuffixes = {
    "_quota_count_limit_per_namespace", "_quota_bytes_limit_per_namespace",
    "_quota_count_usage_per_namespace", "_quota_bytes_usage_per_namespace"};

struct Sample {
  std::string name;    // full sample name (family name plus _count/_sum)
  std::string labels;  // rendered, without braces: key="a",quantile="0.5"
  std::string value;
};

struct Family {
  std::string type;  // gauge, counter, summary
  std::string help;
  std::vector<Sample> samples;
};

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

std::string escapeLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string escapeHelp(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string formatDouble(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

bool isNumber(const nlohmann::json& value) { return value.is_number() || value.is_boolean(); }

std::string formatJson(const nlohmann::json& value) {
  if (value.is_boolean()) return value.get<bool>() ? "1" : "0";
  if (value.is_number_integer()) return value.dump();
  return formatDouble(value.get<double>());
}

std::string label(std::string_view name, std::string_view value) {
  return fmt::format("{}=\"{}\"", name, escapeLabel(value));
}

std::string joinLabels(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "," + b;
}

class Builder {
 public:
  // Adds a sample; the first family to claim a name fixes its type and help.
  bool add(const std::string& family, std::string_view type, std::string_view help, Sample sample) {
    if (family.empty()) return false;
    auto [it, inserted] = families_.try_emplace(family);
    if (inserted) {
      it->second.type = std::string(type);
      it->second.help = std::string(help.empty() ? std::string_view(family) : help);
    } else if (it->second.type != type) {
      return false;  // a name collision: keep the first meaning
    }
    it->second.samples.push_back(std::move(sample));
    return true;
  }
  bool has(const std::string& family) const { return families_.count(family) != 0; }

  std::string render() const {
    std::string out;
    for (const auto& [name, family] : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escapeHelp(family.help), name, family.type);
      for (const auto& sample : family.samples) {
        out += sample.name;
        if (!sample.labels.empty()) out += "{" + sample.labels + "}";
        out += " ";
        out += sample.value;
        out += "\n";
      }
    }
    return out;
  }

 private:
  std::map<std::string, Family> families_;
};

// Splits a summary or gauge-set base name into (family, key label).
std::pair<std::string, std::string> splitNamespace(const std::string& base, const auto& suffixes) {
  for (std::string_view suffix : suffixes) {
    if (endsWith(base, suffix) && base.size() > suffix.size()) {
      std::string ns = base.substr(0, base.size() - suffix.size());
      return {std::string(suffix.substr(1)), label("key", ns)};
    }
  }
  return {sanitizeName(base), ""};
}

void addMonitor(Builder& builder, const nlohmann::json& monitor, std::set<std::string>& covered) {
  if (!monitor.is_object()) return;
  std::map<std::string, const nlohmann::json*> numbers;
  for (auto it = monitor.begin(); it != monitor.end(); ++it) {
    if (isNumber(it.value())) numbers.emplace(it.key(), &it.value());
    covered.insert(it.key());
  }
  std::set<std::string> consumed;
  // Summaries first: every X with cnt_X and sum_X.
  for (const auto& [key, value] : numbers) {
    if (key.rfind("cnt_", 0) != 0) continue;
    std::string base = key.substr(4);
    auto sum = numbers.find("sum_" + base);
    if (base.empty() || sum == numbers.end()) continue;
    auto [family, key_label] = splitNamespace(base, kSummarySetSuffixes);
    for (const auto& [prefix, quantile] : kQuantiles) {
      auto found = numbers.find(std::string(prefix) + base);
      if (found == numbers.end()) continue;
      builder.add(family, "summary", family,
                  {family, joinLabels(key_label, label("quantile", quantile)), formatJson(*found->second)});
      consumed.insert(found->first);
    }
    builder.add(family, "summary", family, {family + "_count", key_label, formatJson(*value)});
    builder.add(family, "summary", family, {family + "_sum", key_label, formatJson(*sum->second)});
    for (std::string_view prefix : {"avg_", "min_", "max_", "cnt_", "sum_"}) {
      consumed.insert(std::string(prefix) + base);
    }
  }
  for (const auto& [key, value] : numbers) {
    if (consumed.count(key) != 0) continue;
    auto [family, key_label] = splitNamespace(key, kGaugeSetSuffixes);
    if (!key_label.empty()) {
      builder.add(family, "gauge", family, {family, key_label, formatJson(*value)});
      continue;
    }
    std::string name = sanitizeName(key);
    const char* type = isZooKeeperCounter(name) ? "counter" : "gauge";
    builder.add(name, type, name, {name, "", formatJson(*value)});
  }
}

void addRegistry(Builder& builder, const std::vector<RegistryValue>& registry, const std::set<std::string>& covered) {
  for (const auto& entry : registry) {
    if (covered.count(entry.name) != 0) continue;  // the monitor view wins
    std::string name = sanitizeName(entry.name);
    if (name.empty() || builder.has(name)) continue;
    const char* type = entry.counter || isZooKeeperCounter(name) ? "counter" : "gauge";
    builder.add(name, type, entry.help, {name, "", std::to_string(entry.value)});
  }
}

void addProcess(Builder& builder, const ProcessStats& process) {
  auto gauge = [&](const char* name, const char* help, const auto& value) {
    if (value) builder.add(name, "gauge", help, {name, "", fmt::format("{}", *value)});
  };
  if (process.cpu_seconds) {
    builder.add("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.",
                {"process_cpu_seconds_total", "", formatDouble(*process.cpu_seconds)});
  }
  if (process.start_time_seconds) {
    builder.add("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.",
                {"process_start_time_seconds", "", formatDouble(*process.start_time_seconds)});
  }
  gauge("process_open_fds", "Number of open file descriptors.", process.open_fds);
  gauge("process_max_fds", "Maximum number of open file descriptors.", process.max_fds);
  gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", process.virtual_memory_bytes);
  gauge("process_resident_memory_bytes", "Resident memory size in bytes.", process.resident_memory_bytes);
  for (const auto& [stat, value] : process.jemalloc) {
    std::string name = sanitizeName("jemalloc_" + stat + "_bytes");
    builder.add(name, "gauge", fmt::format("jemalloc stats.{} in bytes.", stat), {name, "", std::to_string(value)});
  }
}

}  // namespace

std::string sanitizeName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':';
    out += ok ? c : '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

bool isZooKeeperCounter(std::string_view name) {
  return std::find(kCounters.begin(), kCounters.end(), name) != kCounters.end();
}

std::string renderExposition(const nlohmann::json& monitor, const std::vector<RegistryValue>& registry,
                             const ProcessStats* process) {
  Builder builder;
  std::set<std::string> covered;
  addMonitor(builder, monitor, covered);
  addRegistry(builder, registry, covered);
  if (process != nullptr) addProcess(builder, *process);
  return builder.render();
}

}  // namespace corral::plugins::metrics
