// The fuzz targets' invariant check: a failed one names itself on stderr and aborts, which
// libFuzzer reports as a crash (and the replay binaries as a failed test).
#pragma once

#include <cstdio>
#include <cstdlib>

namespace corral::fuzz {

[[noreturn]] inline void checkFailed(const char* condition, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, condition);
  std::abort();
}

}  // namespace corral::fuzz

#define CHECK(condition) \
  ((condition) ? static_cast<void>(0) : ::corral::fuzz::checkFailed(#condition, __FILE__, __LINE__))
