// Helpers shared by the formats library's sources; not installed, not part of the SDK.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "corral/status.h"

namespace corral::formats::internal {

inline constexpr size_t kSnappyBlock = 32 * 1024;  // SnappyOutputStream.DEFAULT_BLOCK_SIZE
inline constexpr unsigned char kSnappyMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

inline void putBe32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
  out.append(b, 4);
}

inline uint32_t getBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline uint64_t getBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

inline sdk::Status errnoStatus(std::string_view what, const std::filesystem::path& file) {
  return sdk::Status(sdk::Code::kIoError, fmt::format("{} {}: {}", what, file.string(), std::strerror(errno)));
}

// write() until done; false with errno set on failure.
inline bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace corral::formats::internal
