#include "txn_log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "corral/formats/data_files.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/txn_log.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;

namespace {

Status ioError(std::string_view what, const std::filesystem::path& file) {
  return Status(Code::kIoError, fmt::format("{} {}: {}", what, file.string(), std::strerror(errno)));
}

}  // namespace

TxnLogFile::~TxnLogFile() { close(); }

Status TxnLogFile::open(const std::filesystem::path& dir, sdk::Zxid first_zxid, int64_t prealloc) {
  close();
  path_ = dir / formats::logFileName(first_zxid);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return ioError("cannot create txn log", path_);
  prealloc_ = prealloc;
  std::string header;
  formats::appendLogFileHeader(header);
  position_ = 0;
  if (auto st = writeAt(header); !st.isOk()) return st;
  // FileTxnLog: the padding's current size starts at the header's end, so the first padFile
  // makes a fresh log 16 + preAllocSize bytes long.
  file_size_ = position_;
  // The new directory entry must survive a crash once a txn in it is acknowledged.
  // A failure is the append's failure: acknowledging txns in a file whose name may vanish
  // with a crash would lose them.
  return formats::fsyncDir(dir);
}

Status TxnLogFile::writeAt(std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd_, p, left, position_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ioError("cannot write txn log", path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
    position_ += n;
  }
  return Status::ok();
}

Status TxnLogFile::write(std::string_view records) {
  if (fd_ < 0) return Status(Code::kIoError, "txn log not open");
  // FilePadding.padFile before the append: sparse zeros up to the next preallocation step.
  const int64_t padded = formats::paddedFileSize(position_, file_size_, prealloc_);
  if (padded != file_size_) {
    if (::ftruncate(fd_, padded) != 0) return ioError("cannot preallocate", path_);
    file_size_ = padded;
  }
  if (auto st = writeAt(records); !st.isOk()) return st;
  return Status::ok();
}

Status TxnLogFile::sync() {
  if (fd_ < 0) return Status::ok();
  if (::fdatasync(fd_) != 0) return ioError("cannot fsync txn log", path_);
  return Status::ok();
}

void TxnLogFile::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace corral::plugins::memlog
