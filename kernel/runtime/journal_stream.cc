#include "kernel/runtime/journal_stream.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

namespace corral::kernel::runtime {

std::optional<StreamId> parseJournalStream(std::string_view value) {
  auto colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == value.size()) return std::nullopt;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  auto device_text = value.substr(0, colon);
  auto inode_text = value.substr(colon + 1);
  auto [device_end, device_error] = std::from_chars(device_text.data(), device_text.data() + device_text.size(), device);
  auto [inode_end, inode_error] = std::from_chars(inode_text.data(), inode_text.data() + inode_text.size(), inode);
  if (device_error != std::errc() || device_end != device_text.data() + device_text.size() ||
      inode_error != std::errc() || inode_end != inode_text.data() + inode_text.size()) {
    return std::nullopt;
  }
  return StreamId{static_cast<dev_t>(device), static_cast<ino_t>(inode)};
}

bool stderrIsJournal() {
  const char* value = std::getenv("JOURNAL_STREAM");
  if (value == nullptr) return false;
  auto expected = parseJournalStream(value);
  if (!expected) return false;
  struct stat info {};
  if (fstat(STDERR_FILENO, &info) != 0) return false;
  return info.st_dev == expected->device && info.st_ino == expected->inode;
}

}  // namespace corral::kernel::runtime
