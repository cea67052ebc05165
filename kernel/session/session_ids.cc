#include "kernel/session/session_ids.h"

#include <time.h>

namespace corral::kernel::session {

sdk::SessionId initialSessionId(int64_t server_id, int64_t monotonic_ms) {
  // ((ms << 24) >>> 8): keep 40 bits of the clock at bits 16..55.
  uint64_t base = (static_cast<uint64_t>(monotonic_ms) << 24) >> 8;
  base |= static_cast<uint64_t>(server_id) << 56;
  if (base == 0x8000000000000000ULL) ++base;  // never Long.MIN_VALUE
  return static_cast<sdk::SessionId>(base);
}

std::string sessionPassword(sdk::SessionId id) {
  // java.util.Random: 48-bit LCG; nextBytes takes 4 bytes per nextInt, low byte first.
  constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
  constexpr uint64_t kMask = (1ULL << 48) - 1;
  uint64_t seed = (static_cast<uint64_t>(id) ^ 0xB3415C00ULL ^ kMultiplier) & kMask;
  std::string password(16, '\0');
  for (size_t i = 0; i < password.size();) {
    seed = (seed * kMultiplier + 0xB) & kMask;
    auto random = static_cast<uint32_t>(seed >> 16);
    for (int n = 0; n < 4 && i < password.size(); ++n, ++i) {
      password[i] = static_cast<char>(random & 0xff);
      random >>= 8;
    }
  }
  return password;
}

int64_t monotonicMs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

int64_t wallMs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace corral::kernel::session
