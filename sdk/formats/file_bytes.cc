#include "corral/formats/file_bytes.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <utility>
#include <vector>

#include "corral/formats/compression.h"
#include "corral/formats/data_files.h"
#include "corral/formats/failpoints.h"
#include <fmt/format.h>

#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;
using namespace internal;

// Fills `out` from offset 0 until it is full or the file ends; the byte count read.
static Result<size_t> readFromStart(int fd, std::string& out, const fs::path& file) {
  size_t have = 0;
  while (have < out.size()) {
    ssize_t n = ::pread(fd, out.data() + have, out.size() - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("cannot read", file);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

namespace {

// The file's bytes; with `to_first_hole`, only up to the first hole of a sparse file, then up to
// 4 KiB of the zeros a hole reads as (a preallocated log's records end before its hole, so that
// reads the same as the whole file).
Result<std::string> readFile(const fs::path& file, bool to_first_hole) {
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errnoStatus("cannot stat", file);
    ::close(fd);
    return status;
  }
  off_t end = st.st_size;
  if (to_first_hole) {
    const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
    if (hole >= 0 && hole < end) end = hole;
  }
  std::string out;
  out.resize(static_cast<size_t>(end));
  auto read = readFromStart(fd, out, file);
  ::close(fd);
  if (!read.isOk()) return read.status();
  out.resize(*read);
  if (to_first_hole && static_cast<off_t>(*read) < st.st_size) {
    out.append(static_cast<size_t>(std::min<off_t>(st.st_size - static_cast<off_t>(*read), 4096)), '\0');
  }
  return out;
}

}  // namespace

Result<std::string> readWholeFile(const fs::path& file) { return readFile(file, false); }

Result<std::string> readLogFile(const fs::path& file) { return readFile(file, true); }

// ---- mapped files ---------------------------------------------------------------------------

FileBytes::FileBytes(FileBytes&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_length_(std::exchange(other.map_length_, 0)),
      owned_(std::move(other.owned_)) {}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    map_length_ = std::exchange(other.map_length_, 0);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

FileBytes::~FileBytes() { release(); }

void FileBytes::release() {
  if (map_ != nullptr) ::munmap(map_, map_length_);
  map_ = nullptr;
  map_length_ = 0;
}

void FileBytes::releaseBefore(size_t up_to) {
  if (map_ == nullptr) return;
  const auto page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  const size_t length = std::min(up_to, map_length_) / page * page;
  if (length != 0) (void)::madvise(map_, length, MADV_DONTNEED);
}

Result<FileBytes> FileBytes::map(const fs::path& file, std::optional<size_t> populate_bytes) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errnoStatus("cannot stat", file);
    ::close(fd);
    return status;
  }
  const auto length = static_cast<size_t>(st.st_size);
  if (length == 0) {  // mmap refuses empty ranges; an empty file is an empty view
    ::close(fd);
    return FileBytes();
  }
  const size_t populate = std::min(populate_bytes.value_or(length), length);
  // MAP_POPULATE maps every page-cache page in one pass instead of one fault per 64 KiB; it
  // is skipped when part of the file (a sparse log tail) should stay unmapped.
  const int flags = MAP_PRIVATE | (populate == length ? MAP_POPULATE : 0);
  void* mem = ::mmap(nullptr, length, PROT_READ, flags, fd, 0);
  if (mem == MAP_FAILED) {
    Status status = errnoStatus("cannot map", file);
    ::close(fd);
    return status;
  }
  ::close(fd);  // the mapping keeps the file open
  // Hints only: a kernel that ignores them just reads more slowly.
  (void)::madvise(mem, length, MADV_SEQUENTIAL);
  if (populate != 0 && populate < length) (void)::madvise(mem, populate, MADV_WILLNEED);
  FileBytes bytes;
  bytes.map_ = mem;
  bytes.map_length_ = length;
  return bytes;
}

Result<FileBytes> loadSnapshotBytes(const fs::path& file) {
  if (compressionOfFile(file) == Compression::kNone) return FileBytes::map(file);
  auto inflated = readSnapshotFile(file);
  if (!inflated.isOk()) return inflated.status();
  return FileBytes(std::move(*inflated));
}

Result<FileBytes> mapLogFile(const fs::path& file) {
  // Preallocated logs are sparse: the records end before the first hole.
  std::optional<size_t> written;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
    if (hole >= 0) written = static_cast<size_t>(hole);
    ::close(fd);
  }
  return FileBytes::map(file, written);
}

Result<std::string> readSnapshotFile(const fs::path& file) {
  auto raw = readWholeFile(file);
  if (!raw.isOk()) return raw.status();
  switch (compressionOfFile(file)) {
    case Compression::kNone: return raw;
    case Compression::kGzip: return gunzip(*raw);
    case Compression::kSnappy: return unsnappyStream(*raw);
  }
  return raw;
}

namespace {
std::atomic<int> dir_fsync_failures{0};
std::atomic<int> dir_fsync_errno{0};
}  // namespace

namespace failpoints {
void failDirectoryFsync(int error, int count) {
  dir_fsync_errno = error;
  dir_fsync_failures = count;
}
void clear() { dir_fsync_failures = 0; }
}  // namespace failpoints

Status fsyncDir(const fs::path& dir) {
  if (dir_fsync_failures.load(std::memory_order_relaxed) > 0 && dir_fsync_failures.fetch_sub(1) > 0) {
    errno = dir_fsync_errno.load();
    return errnoStatus("cannot fsync directory", dir);
  }
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open directory", dir);
  const int rc = ::fsync(fd);
  Status status = rc == 0 ? Status::ok() : errnoStatus("cannot fsync directory", dir);
  ::close(fd);
  return status;
}

Status createDirectoriesDurably(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::ok();
  const fs::path absolute = fs::absolute(dir, ec);
  if (ec) return Status(sdk::Code::kIoError, fmt::format("cannot resolve {}: {}", dir.string(), ec.message()));
  // The missing folders, outermost first.
  std::vector<fs::path> missing;
  for (fs::path at = absolute.lexically_normal(); !at.empty() && !fs::exists(at, ec); at = at.parent_path()) {
    missing.push_back(at);
    if (at == at.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) return errnoStatus("cannot create directory", *it);
    if (auto st = fsyncDir(it->parent_path()); !st.isOk()) return st;
  }
  if (!fs::is_directory(absolute, ec)) {
    return Status(sdk::Code::kIoError, fmt::format("{} exists and is not a directory", dir.string()));
  }
  return Status::ok();
}

}  // namespace corral::formats
