// Cost control for targets that also run a file-based path (corral-logtool on a file, a
// snapshot file written and read back): that path costs many times the in-memory decoding, so
// under libFuzzer it runs for one input in `every`, chosen by a hash of the input's bytes (the
// same input always takes the same path, so coverage feedback and reproduction are stable).
// The replay binaries (CORRAL_FUZZ_REPLAY, set by corral_add_fuzzer) run it for every input, and
// so does a libFuzzer binary with CORRAL_FUZZ_EVERY_INPUT=1 in its environment (to reproduce).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace corral::fuzz {

inline bool takesCostlyPath(std::string_view input, uint32_t every = 4) {
#ifdef CORRAL_FUZZ_REPLAY
  (void)input;
  (void)every;
  return true;
#else
  static const bool always = [] {
    const char* value = std::getenv("CORRAL_FUZZ_EVERY_INPUT");
    return value != nullptr && value[0] == '1';
  }();
  if (always) return true;
  uint32_t hash = 2166136261u;  // FNV-1a
  for (unsigned char c : input) hash = (hash ^ c) * 16777619u;
  return hash % every == 0;
#endif
}

}  // namespace corral::fuzz
