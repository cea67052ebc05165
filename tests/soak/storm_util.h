// corral-storm's small helpers: clocks, a latency histogram, /proc readings, a JSON writer.
#pragma once

#include <dirent.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace storm {

inline uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

inline double selfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6 +
         double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6;
}

// utime+stime of a process in seconds (/proc/PID/stat fields 14, 15); -1 if unreadable.
inline double procCpuSeconds(long pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!std::getline(f, s)) return -1;
  const auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream is(s.substr(rp + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && (is >> field); ++i) {
    if (i == 14) ut = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) st = std::strtoull(field.c_str(), nullptr, 10);
  }
  return double(ut + st) / double(sysconf(_SC_CLK_TCK));
}

// VmRSS in KiB; -1 when the process is gone.
inline long procRssKb(long pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// Seconds the process's threads spent running and waiting on a run queue (runnable but not
// on a CPU): /proc/PID/task/*/schedstat summed over the threads alive now. False if unreadable.
inline bool procSched(long pid, double& run, double& wait) {
  run = wait = 0;
  if (pid <= 0) return false;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d) return false;
  bool any = false;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(dir + "/" + e->d_name + "/schedstat");
    unsigned long long r = 0, w = 0;
    if (f >> r >> w) {
      run += double(r) / 1e9;
      wait += double(w) / 1e9;
      any = true;
    }
  }
  closedir(d);
  return any;
}

// HdrHistogram-like log-linear buckets (values < 128 exact, then 64 sub-buckets per power of
// two: < 1.6 % error). Values in nanoseconds; max exact.
struct Histogram {
  static constexpr int kSub = 64;
  static constexpr int kBuckets = 128 + 58 * kSub;
  std::vector<uint64_t> counts;
  uint64_t total = 0, maxV = 0;
  long double sum = 0;

  static int index(uint64_t v) {
    if (v < 128) return int(v);
    const int e = 63 - std::countl_zero(v);
    const int sub = int(v >> (e - 6));
    return std::min(128 + (e - 7) * kSub + (sub - 64), kBuckets - 1);
  }
  static uint64_t midpoint(int idx) {
    if (idx < 128) return uint64_t(idx);
    const int e = (idx - 128) / kSub + 7;
    const int sub = (idx - 128) % kSub + 64;
    return (uint64_t(sub) << (e - 6)) + ((uint64_t(1) << (e - 6)) >> 1);
  }
  void record(uint64_t v) {
    if (counts.empty()) counts.assign(kBuckets, 0);
    ++counts[size_t(index(v))];
    ++total;
    sum += v;
    maxV = std::max(maxV, v);
  }
  void merge(const Histogram& o) {
    if (o.counts.empty()) return;
    if (counts.empty()) counts.assign(kBuckets, 0);
    for (int i = 0; i < kBuckets; ++i) counts[size_t(i)] += o.counts[size_t(i)];
    total += o.total;
    sum += o.sum;
    maxV = std::max(maxV, o.maxV);
  }
  uint64_t percentile(double p) const {
    if (!total) return 0;
    uint64_t want = uint64_t(std::ceil(p / 100.0 * double(total)));
    if (want == 0) want = 1;
    uint64_t acc = 0;
    for (int i = 0; i < kBuckets; ++i) {
      acc += counts[size_t(i)];
      if (acc >= want) return std::min(midpoint(i), maxV);
    }
    return maxV;
  }
  double meanNs() const { return total ? double(sum / total) : 0.0; }
};

// A JSON text built in order; commas are placed by the writer.
class Json {
 public:
  Json& beginObject() { return open('{'); }
  Json& endObject() { return close('}'); }
  Json& beginArray() { return open('['); }
  Json& endArray() { return close(']'); }
  Json& key(std::string_view k) {
    comma();
    quote(k);
    out_ += ':';
    afterKey_ = true;
    return *this;
  }
  Json& str(std::string_view v) {
    comma();
    quote(v);
    return *this;
  }
  Json& num(double v, int decimals = 3) {
    comma();
    if (!std::isfinite(v)) {
      out_ += "null";
      return *this;
    }
    char b[64];
    std::snprintf(b, sizeof b, "%.*f", decimals, v);
    out_ += b;
    return *this;
  }
  Json& integer(long long v) {
    comma();
    out_ += std::to_string(v);
    return *this;
  }
  Json& boolean(bool v) {
    comma();
    out_ += v ? "true" : "false";
    return *this;
  }
  Json& null() {
    comma();
    out_ += "null";
    return *this;
  }
  // key + value shorthands
  Json& kv(std::string_view k, std::string_view v) { return key(k).str(v); }
  Json& kv(std::string_view k, const char* v) { return key(k).str(v); }
  Json& kv(std::string_view k, double v, int decimals = 3) { return key(k).num(v, decimals); }
  Json& kv(std::string_view k, int v) { return key(k).integer(v); }
  Json& kv(std::string_view k, long v) { return key(k).integer(v); }
  Json& kv(std::string_view k, long long v) { return key(k).integer(v); }
  Json& kv(std::string_view k, unsigned v) { return key(k).integer(v); }
  Json& kv(std::string_view k, unsigned long v) { return key(k).integer((long long)v); }
  Json& kv(std::string_view k, unsigned long long v) { return key(k).integer((long long)v); }
  Json& kvb(std::string_view k, bool v) { return key(k).boolean(v); }
  // Latency summary of a histogram of nanoseconds, in milliseconds.
  Json& latency(std::string_view k, const Histogram& h) {
    key(k).beginObject();
    kv("count", (unsigned long long)h.total);
    kv("mean_ms", h.meanNs() / 1e6);
    kv("p50_ms", double(h.percentile(50)) / 1e6);
    kv("p90_ms", double(h.percentile(90)) / 1e6);
    kv("p99_ms", double(h.percentile(99)) / 1e6);
    kv("p99_9_ms", double(h.percentile(99.9)) / 1e6);
    kv("max_ms", double(h.maxV) / 1e6);
    return endObject();
  }
  const std::string& text() const { return out_; }

 private:
  Json& open(char c) {
    comma();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  Json& close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  void comma() {
    if (afterKey_) {
      afterKey_ = false;
      return;
    }
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
    }
  }
  void quote(std::string_view s) {
    out_ += '"';
    for (char c : s) {
      if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", c);
        out_ += b;
      } else {
        out_ += c;
      }
    }
    out_ += '"';
  }
  std::string out_;
  std::vector<bool> first_;
  bool afterKey_ = false;
};

// Least-squares slope of y over x (per unit of x); 0 with fewer than 2 points.
inline double slope(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= double(n);
  my /= double(n);
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (x[i] - mx) * (y[i] - my);
    den += (x[i] - mx) * (x[i] - mx);
  }
  return den > 0 ? num / den : 0;
}

}  // namespace storm
