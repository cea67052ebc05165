// The main() of every `<name>_replay` binary (tests/fuzz/CMakeLists.txt): the fuzz target's own
// source, built with the regular compiler and without libFuzzer, run over files.
//
//   <name>_replay PATH...
//
// Each PATH is a file or a directory (its regular files, not recursive, in name order). Calls
// LLVMFuzzerInitialize once if the target defines it, then LLVMFuzzerTestOneInput on every
// file, and prints how many inputs ran. Exits 1 when a PATH is missing, unreadable or a
// directory without files (a corpus that silently vanished must fail the test), 2 on usage
// errors. A crash or abort of the target names the input it was running on stderr.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) __attribute__((weak));

namespace {

// The input being run, for the signal handler (async-signal-safe: a fixed buffer and write()).
char current_input[4096];

void onFatalSignal(int signal_number) {
  static const char prefix[] = "replay: fatal signal while running ";
  ssize_t ignored = ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  ignored = ::write(STDERR_FILENO, current_input, std::strlen(current_input));
  ignored = ::write(STDERR_FILENO, "\n", 1);
  (void)ignored;
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

bool readFile(const std::filesystem::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
    return 2;
  }
  for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL}) ::signal(sig, onFatalSignal);
  if (LLVMFuzzerInitialize != nullptr) LLVMFuzzerInitialize(&argc, &argv);

  size_t ran = 0;
  size_t bytes = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path path(argv[i]);
    std::error_code error;
    std::vector<std::filesystem::path> files;
    if (std::filesystem::is_directory(path, error)) {
      for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      if (error || files.empty()) {
        std::fprintf(stderr, "replay: %s: no input files (%s)\n", argv[i],
                     error ? error.message().c_str() : "empty directory");
        return 1;
      }
      std::sort(files.begin(), files.end());
    } else if (std::filesystem::is_regular_file(path, error)) {
      files.push_back(path);
    } else {
      std::fprintf(stderr, "replay: %s: no such file or directory\n", argv[i]);
      return 1;
    }
    for (const auto& file : files) {
      std::string input;
      if (!readFile(file, input)) {
        std::fprintf(stderr, "replay: %s: cannot read\n", file.c_str());
        return 1;
      }
      std::snprintf(current_input, sizeof current_input, "%s", file.c_str());
      LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
      ++ran;
      bytes += input.size();
    }
  }
  std::fprintf(stderr, "replay: %s: ran %zu inputs (%zu bytes) from %d path(s)\n", argv[0], ran, bytes, argc - 1);
  return 0;
}
