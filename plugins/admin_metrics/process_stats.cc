#include "process_stats.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace corral::plugins::metrics {
namespace {

using MallctlFn = int (*)(const char*, void*, size_t*, void*, size_t);

MallctlFn findMallctl() {
  // The host links jemalloc (plugins never do): look it up in the global scope.
  static MallctlFn fn = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

void readJemalloc(ProcessStats& stats) {
  MallctlFn mallctl = findMallctl();
  if (mallctl == nullptr) return;
  static std::mutex mutex;  // "epoch" refreshes a process-wide snapshot
  std::lock_guard lock(mutex);
  uint64_t epoch = 1;
  size_t epoch_size = sizeof(epoch);
  if (mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size) != 0) return;
  for (const char* name : {"allocated", "active", "metadata", "resident", "mapped", "retained"}) {
    size_t value = 0;
    size_t size = sizeof(value);
    std::string key = std::string("stats.") + name;
    if (mallctl(key.c_str(), &value, &size, nullptr, 0) == 0) {
      stats.jemalloc.emplace_back(name, static_cast<int64_t>(value));
    }
  }
}

void readStatm(ProcessStats& stats) {
  std::ifstream file("/proc/self/statm");
  int64_t size = 0;
  int64_t resident = 0;
  if (file >> size >> resident) {
    long page = sysconf(_SC_PAGESIZE);
    stats.virtual_memory_bytes = size * page;
    stats.resident_memory_bytes = resident * page;
  }
}

void readFds(ProcessStats& stats) {
  if (DIR* dir = opendir("/proc/self/fd")) {
    int64_t count = 0;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] != '.') ++count;
    }
    closedir(dir);
    stats.open_fds = count - 1;  // the descriptor of this listing
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) stats.max_fds = static_cast<int64_t>(limit.rlim_cur);
}

void readCpu(ProcessStats& stats) {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return;
  auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  stats.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void readStartTime(ProcessStats& stats) {
  // /proc/self/stat field 22 (starttime, clock ticks since boot) plus /proc/stat btime.
  std::ifstream stat_file("/proc/self/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return;
  auto close = line.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  // Fields after "(comm)" start at field 3 (state); starttime is field 22.
  for (int index = 3; index <= 22 && (fields >> field); ++index) {
    if (index != 22) continue;
    std::ifstream proc_stat("/proc/stat");
    std::string key;
    int64_t boot = -1;
    while (proc_stat >> key) {
      if (key == "btime") {
        proc_stat >> boot;
        break;
      }
    }
    long ticks = sysconf(_SC_CLK_TCK);
    if (boot < 0 || ticks <= 0) return;
    try {
      stats.start_time_seconds = static_cast<double>(boot) + std::stod(field) / static_cast<double>(ticks);
    } catch (...) {
    }
  }
}

}  // namespace

ProcessStats readProcessStats() {
  ProcessStats stats;
  readCpu(stats);
  readStartTime(stats);
  readFds(stats);
  readStatm(stats);
  readJemalloc(stats);
  return stats;
}

}  // namespace corral::plugins::metrics
