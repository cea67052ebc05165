// Session ids and passwords against values the real ZooKeeper 3.8 handed out
// (client-protocol.md §4 and §15).
#include "kernel/session/session_ids.h"

#include <gtest/gtest.h>

namespace corral::kernel::session {
namespace {

std::string hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string text;
  for (unsigned char c : bytes) {
    text += kDigits[c >> 4];
    text += kDigits[c & 15];
  }
  return text;
}

TEST(SessionPassword, MatchesZooKeeper) {
  EXPECT_EQ(hex(sessionPassword(0x100003ef6e00000LL)), "12585cde37dd9e3d40661840d851e38e");
  EXPECT_EQ(hex(sessionPassword(0x1000012345LL)), "f7a45e0ff4dcbcb829885747f0b3eb9e");
}

TEST(SessionPassword, IsSixteenBytesAndDiffersPerSession) {
  EXPECT_EQ(sessionPassword(1).size(), 16u);
  EXPECT_NE(sessionPassword(1), sessionPassword(2));
}

TEST(InitialSessionId, ServerIdInTopByteClockBelowCounterZero) {
  // 0x3ef6e0 ms of uptime on server 1 → 0x0100003ef6e00000, as the real server produced.
  EXPECT_EQ(initialSessionId(1, 0x3ef6e0), 0x0100003ef6e00000LL);
  EXPECT_EQ(initialSessionId(3, 0x3ef6e0) >> 56, 3);
  // Only the low 40 bits of the clock are kept.
  EXPECT_EQ(initialSessionId(1, (1LL << 40) | 5), 0x0100000000050000LL);
}

}  // namespace
}  // namespace corral::kernel::session
