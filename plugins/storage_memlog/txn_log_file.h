// One txn log file being written: FileTxnLog's append side (header, FilePadding preallocation,
// batched writes, fsync). Not thread-safe: the storage's writer thread owns it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::memlog {

class TxnLogFile {
 public:
  TxnLogFile() = default;
  ~TxnLogFile();
  TxnLogFile(const TxnLogFile&) = delete;
  TxnLogFile& operator=(const TxnLogFile&) = delete;

  // Creates (or truncates, like FileOutputStream) `dir`/log.<hex first_zxid>, writes the file
  // header and preallocates `prealloc` bytes of zeros (sparse, like FilePadding).
  sdk::Status open(const std::filesystem::path& dir, sdk::Zxid first_zxid, int64_t prealloc);
  bool isOpen() const { return fd_ >= 0; }
  // Appends framed records; grows the preallocation first when needed.
  sdk::Status write(std::string_view records);
  // fdatasync (the data and the size, not the timestamps).
  sdk::Status sync();
  void close();

  const std::filesystem::path& path() const { return path_; }
  int64_t position() const { return position_; }   // bytes of header + records
  int64_t fileSize() const { return file_size_; }  // preallocated size

 private:
  sdk::Status writeAt(std::string_view bytes);

  int fd_ = -1;
  std::filesystem::path path_;
  int64_t position_ = 0;
  int64_t file_size_ = 0;
  int64_t prealloc_ = 0;
};

}  // namespace corral::plugins::memlog
