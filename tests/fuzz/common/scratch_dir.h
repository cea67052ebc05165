// A per-process scratch folder for fuzz targets whose decoder reads files (corral-logtool,
// config files): under /dev/shm when it exists (no disk I/O per input), removed at exit.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace corral::fuzz {

inline const std::filesystem::path& scratchDir() {
  // Never destroyed: the atexit handler below still needs it after static destructors ran.
  static const std::filesystem::path* const dir = [] {
    std::error_code error;
    std::filesystem::path base = "/dev/shm";
    if (!std::filesystem::is_directory(base, error)) base = std::filesystem::temp_directory_path();
    auto* made = new std::filesystem::path(base / ("corral-fuzz-" + std::to_string(::getpid())));
    std::filesystem::remove_all(*made, error);
    std::filesystem::create_directories(*made);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(scratchDir(), ignored);
    });
    return made;
  }();
  return *dir;
}

inline void writeFile(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "fuzz: cannot write %s\n", path.c_str());
    std::abort();
  }
}

// What a decoder prints on stdout is not what is checked; keep it out of the fuzzer's output.
inline void silenceStdout() {
  if (std::freopen("/dev/null", "w", stdout) == nullptr) std::abort();
}

}  // namespace corral::fuzz
