// Failure injection for tests: makes the formats library's file operations fail on purpose, so
// a caller's handling of errors the real disk rarely produces (a directory fsync failing) is
// tested. Process-wide; off unless a test arms it.
#pragma once

namespace corral::formats::failpoints {

// The next `count` calls of fsyncDir fail with errno `error` (e.g. EIO), without touching disk.
void failDirectoryFsync(int error, int count = 1);
// Disarms every failpoint.
void clear();

}  // namespace corral::formats::failpoints
