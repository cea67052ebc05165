// Every file of a fuzz target's kept corpus (CORRAL_FUZZ_CORPUS), run through that target
// (linked in); CORRAL_FUZZ_SUITE names the test suite, one per target.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#ifndef CORRAL_FUZZ_SUITE
#define CORRAL_FUZZ_SUITE FuzzCorpusReplay
#endif

TEST(CORRAL_FUZZ_SUITE, EveryInputDecodesWithoutCrashing) {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CORRAL_FUZZ_CORPUS)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0)
        << entry.path();
    ++files;
  }
  EXPECT_GT(files, 0u);
}
