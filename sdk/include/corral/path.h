// ZooKeeper path rules: PathUtils.validatePath (3.8) reproduced exactly, plus the small path
// helpers every part of Corral needs (parent, last segment, built-in nodes, sequential suffix).
//
// Java validates the *decoded* string one UTF-16 code unit at a time. Paths reach us as UTF-8
// bytes, so the check below decodes UTF-8 the way the server's reader does (malformed input
// becomes U+FFFD) and applies Java's per-code-unit rules; positions in messages ("@3") are
// UTF-16 indices like Java's. Consequences that matter for compatibility: every supplementary
// character (4-byte UTF-8, i.e. a surrogate pair in UTF-16) and every malformed byte sequence
// (U+FFFD lies in the forbidden U+FFF0..U+FFFF range) is rejected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "corral/status.h"

namespace corral::sdk {

inline constexpr std::string_view kRootPath = "/";
inline constexpr std::string_view kZookeeperPath = "/zookeeper";
inline constexpr std::string_view kQuotaPath = "/zookeeper/quota";
inline constexpr std::string_view kConfigPath = "/zookeeper/config";

namespace path_detail {

// One decoded UTF-8 step: the UTF-16 code units it yields (1 or 2) and the bytes it consumed.
struct Decoded {
  char16_t first;
  int units;
  int bytes;
};

constexpr bool isContinuation(unsigned char b) noexcept { return (b & 0xC0) == 0x80; }

// Decodes one code point at `pos`. Malformed input yields U+FFFD for a maximal invalid
// subpart (what Java's UTF-8 decoder does); the exact number of replacement characters never
// matters here because the first one already makes the path invalid.
constexpr Decoded decodeAt(std::string_view s, size_t pos) noexcept {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  const size_t left = s.size() - pos;
  auto at = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]); };
  if (b0 < 0x80) return {static_cast<char16_t>(b0), 1, 1};
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (left >= 2 && isContinuation(at(1))) {
      return {static_cast<char16_t>(((b0 & 0x1F) << 6) | (at(1) & 0x3F)), 1, 2};
    }
    return {char16_t{0xFFFD}, 1, 1};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    // Second-byte ranges exclude overlongs (E0) and UTF-8-encoded surrogates (ED).
    const unsigned char lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const unsigned char hi = b0 == 0xED ? 0x9F : 0xBF;
    if (left >= 2 && at(1) >= lo && at(1) <= hi) {
      if (left >= 3 && isContinuation(at(2))) {
        return {static_cast<char16_t>(((b0 & 0x0F) << 12) | ((at(1) & 0x3F) << 6) | (at(2) & 0x3F)),
                1, 3};
      }
      return {char16_t{0xFFFD}, 1, 2};
    }
    return {char16_t{0xFFFD}, 1, 1};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    const unsigned char lo = b0 == 0xF0 ? 0x90 : 0x80;
    const unsigned char hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (left >= 2 && at(1) >= lo && at(1) <= hi) {
      if (left >= 3 && isContinuation(at(2))) {
        if (left >= 4 && isContinuation(at(3))) {
          const uint32_t cp = ((b0 & 0x07u) << 18) | ((at(1) & 0x3Fu) << 12) |
                              ((at(2) & 0x3Fu) << 6) | (at(3) & 0x3Fu);
          // Only the high surrogate matters: it is already in the forbidden range.
          return {static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)), 2, 4};
        }
        return {char16_t{0xFFFD}, 1, 3};
      }
      return {char16_t{0xFFFD}, 1, 2};
    }
    return {char16_t{0xFFFD}, 1, 1};
  }
  return {char16_t{0xFFFD}, 1, 1};  // stray continuation byte, C0/C1, F5..FF
}

// Java's ranges: U+0001-U+001F, U+007F-U+009F, U+D800-U+F8FF (surrogates and private use),
// U+FFF0-U+FFFF. (Numeric literals: C++ forbids surrogate code points in u'' literals.)
constexpr bool isForbiddenUnit(char16_t c) noexcept {
  return (c >= 0x0001 && c <= 0x001F) || (c >= 0x007F && c <= 0x009F) ||
         (c >= 0xD800 && c <= 0xF8FF) || c >= 0xFFF0;
}

inline Status invalid(std::string_view path, std::string_view reason, size_t index) {
  std::string msg = "Invalid path string \"";
  msg.append(path);
  msg += "\" caused by ";
  msg.append(reason);
  msg += " @";
  msg += std::to_string(index);
  return Status(Code::kBadArguments, std::move(msg));
}

}  // namespace path_detail

// PathUtils.validatePath(String): kBadArguments with ZooKeeper's reason text, or ok.
inline Status validatePath(std::string_view path) {
  using namespace path_detail;
  if (path.empty()) return Status(Code::kBadArguments, "Path length must be > 0");
  if (path[0] != '/') return Status(Code::kBadArguments, "Path must start with / character");
  if (path.size() == 1) return Status::ok();  // the root
  if (path.back() == '/') return Status(Code::kBadArguments, "Path must not end with / character");

  // Bytes and UTF-16 units coincide for ASCII, and '/' and '.' are ASCII and never part of a
  // multi-byte sequence, so the neighbour checks can look at bytes; `index` counts UTF-16
  // units for the message.
  char16_t last = u'/';
  size_t index = 1;
  size_t pos = 1;
  while (pos < path.size()) {
    const Decoded d = decodeAt(path, pos);
    const char16_t c = d.first;
    const bool at_end = pos + d.bytes == path.size();
    const bool next_is_slash = !at_end && path[pos + d.bytes] == '/';
    if (c == 0) return invalid(path, "null character not allowed", index);
    if (c == u'/' && last == u'/') return invalid(path, "empty node name specified", index);
    if (c == u'.' && last == u'.') {
      if (path[pos - 2] == '/' && (at_end || next_is_slash)) {
        return invalid(path, "relative paths not allowed", index);
      }
    } else if (c == u'.') {
      if (path[pos - 1] == '/' && (at_end || next_is_slash)) {
        return invalid(path, "relative paths not allowed", index);
      }
    } else if (isForbiddenUnit(c)) {
      return invalid(path, "invalid character", index);
    }
    // A surrogate pair's second unit is never inspected: its first unit is always rejected.
    last = c;
    index += static_cast<size_t>(d.units);
    pos += static_cast<size_t>(d.bytes);
  }
  return Status::ok();
}

// PathUtils.validatePath(path, isSequential): a sequential create validates `path + "1"`, so
// prefixes like "/a/" or "/a/." are legal there. Messages quote the string actually checked.
inline Status validatePath(std::string_view path, bool is_sequential) {
  if (!is_sequential) return validatePath(path);
  std::string with_digit(path);
  with_digit += '1';
  return validatePath(with_digit);
}

inline Status validateSequentialPath(std::string_view path) { return validatePath(path, true); }

// "/a/b" -> "/a", "/a" -> "/", "/" -> "" (the root has no parent). Text without a '/' -> "".
constexpr std::string_view parentOf(std::string_view path) noexcept {
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {};
  if (slash == 0) return path.size() == 1 ? std::string_view{} : path.substr(0, 1);
  return path.substr(0, slash);
}

// "/a/b" -> "b", "/a" -> "a", "/" -> "". ZooKeeper's childName = substring after the last '/'.
constexpr std::string_view lastSegment(std::string_view path) noexcept {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The built-in nodes that can never be deleted: /, /zookeeper, /zookeeper/quota, /zookeeper/config.
constexpr bool isReservedPath(std::string_view path) noexcept {
  return path == kRootPath || path == kZookeeperPath || path == kQuotaPath || path == kConfigPath;
}

// Java's String.format("%010d", n): zero-padded to width 10 *including* the sign, so -5 ->
// "-000000005" and INT32_MIN -> "-2147483648" (wider than 10, never truncated).
inline std::string sequentialSuffix(int32_t counter) {
  const bool negative = counter < 0;
  uint64_t magnitude = negative ? static_cast<uint64_t>(-static_cast<int64_t>(counter))
                                : static_cast<uint64_t>(counter);
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  std::string out;
  out.reserve(11);
  if (negative) out += '-';
  const int width = negative ? 9 : 10;
  for (int i = n; i < width; ++i) out += '0';
  while (n > 0) out += digits[--n];
  return out;
}

// The final path of a sequential create: prefix + sequentialSuffix(parent's stored cversion).
inline std::string sequentialPath(std::string_view prefix, int32_t parent_stored_cversion) {
  std::string out(prefix);
  out += sequentialSuffix(parent_stored_cversion);
  return out;
}

}  // namespace corral::sdk
