#include "failpoints.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace corral::plugins::zab {
namespace {

struct Armed {
  std::mutex mutex;
  std::map<std::string, int> remaining;  // hits left before the crash
};

Armed* load() {
  const char* spec = std::getenv("CORRAL_ZAB_FAILPOINTS");
  if (spec == nullptr || *spec == '\0') return nullptr;
  auto* armed = new Armed();
  std::string text(spec);
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    if (!item.empty()) {
      int count = 1;
      if (auto at = item.find('@'); at != std::string::npos) {
        count = std::max(1, std::atoi(item.c_str() + at + 1));
        item.resize(at);
      }
      armed->remaining[item] = count;
    }
    start = end + 1;
  }
  return armed;
}

Armed* armed() {
  static Armed* instance = load();
  return instance;
}

}  // namespace

bool failpointHit(const char* name) noexcept {
  Armed* points = armed();
  if (points == nullptr) return false;
  std::lock_guard lock(points->mutex);
  auto it = points->remaining.find(name);
  if (it == points->remaining.end() || it->second <= 0) return false;
  return --it->second == 0;
}

void crashAt(const char* name) noexcept {
  const std::string line = std::string("failpoint ") + name + ": killing the process\n";
  (void)!::write(2, line.data(), line.size());
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);
}

}  // namespace corral::plugins::zab
