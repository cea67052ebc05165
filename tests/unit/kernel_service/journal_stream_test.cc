#include "kernel/runtime/journal_stream.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace corral::kernel::runtime {
namespace {

TEST(JournalStream, ParsesDeviceAndInode) {
  auto id = parseJournalStream("8:123456");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->device, 8u);
  EXPECT_EQ(id->inode, 123456u);
}

TEST(JournalStream, RejectsMalformedValues) {
  for (const char* value : {"", ":", "8:", ":9", "8", "a:1", "1:b", "1:2:3", "-1:2", "1:2 "}) {
    EXPECT_FALSE(parseJournalStream(value)) << value;
  }
}

TEST(JournalStream, MatchesOnlyTheStreamOpenAsStderr) {
  struct stat info {};
  ASSERT_EQ(fstat(STDERR_FILENO, &info), 0);
  const std::string same = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino);
  setenv("JOURNAL_STREAM", same.c_str(), 1);
  EXPECT_TRUE(stderrIsJournal());
  // Inherited by a process whose stderr was redirected: no longer the journal.
  const std::string other = std::to_string(info.st_dev) + ":" + std::to_string(info.st_ino + 1);
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_FALSE(stderrIsJournal());
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderrIsJournal());
}

}  // namespace
}  // namespace corral::kernel::runtime
