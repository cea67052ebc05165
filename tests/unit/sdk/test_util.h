// Helpers shared by the SDK unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "corral/records.h"

namespace corral::sdk::testing {

inline std::string unhex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  int high = -1;
  for (char c : hex) {
    int n = nibble(c);
    if (n < 0) continue;  // allow spaces as separators
    if (high < 0) {
      high = n;
    } else {
      out.push_back(static_cast<char>(high << 4 | n));
      high = -1;
    }
  }
  EXPECT_EQ(high, -1) << "odd number of hex digits";
  return out;
}

inline std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// encode -> decode gives the same value and consumes exactly the encoding.
template <typename T>
void expectRoundTrip(const T& value) {
  std::string bytes = encodeToString(value);
  T decoded{};
  JuteReader r(bytes);
  ASSERT_TRUE(decode(r, decoded)) << hex(bytes);
  EXPECT_TRUE(r.atEnd()) << "left " << r.remaining();
  EXPECT_TRUE(decoded == value) << hex(bytes);
  EXPECT_EQ(encodeToString(decoded), bytes);
}

// Every strict prefix of a valid encoding fails to decode (for records without optional tails).
template <typename T>
void expectTruncationFails(const T& value) {
  std::string bytes = encodeToString(value);
  for (size_t n = 0; n < bytes.size(); ++n) {
    T decoded{};
    JuteReader r(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(decode(r, decoded)) << "prefix of " << n << " bytes decoded";
    EXPECT_FALSE(r.ok());
  }
}

}  // namespace corral::sdk::testing
