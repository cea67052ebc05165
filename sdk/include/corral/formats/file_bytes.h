// Reading data-directory files for parsing: mapped when plain, decompressed when not.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "corral/status.h"

namespace corral::formats {

namespace fs = std::filesystem;

// The bytes of a file held for parsing. An uncompressed file is mapped read-only instead of
// being read into a fresh buffer: at 200 MB a zero-filled buffer costs ~50,000 page faults plus a
// copy, while a populated mapping shares the page cache. Decompressed snapshots are owned
// strings. Move-only; the view lives as long as the object.
class FileBytes {
 public:
  FileBytes() = default;
  explicit FileBytes(std::string owned) : owned_(std::move(owned)) {}
  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  std::string_view view() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), map_length_) : owned_;
  }
  size_t size() const { return view().size(); }
  bool isMapped() const { return map_ != nullptr; }
  // Unmaps the pages of [0, up_to) (rounded down to pages) from this process: they stay in the
  // page cache, and a later read of them faults them back in. Keeps RSS to what is still being
  // parsed. No effect on owned (decompressed) bytes.
  void releaseBefore(size_t up_to);

  // Maps all of `file` read-only. `populate_bytes` of it (from the start) are faulted in at once
  // and read ahead sequentially; the rest stays lazy (a log's sparse preallocated tail).
  static sdk::Result<FileBytes> map(const fs::path& file, std::optional<size_t> populate_bytes = {});

 private:
  void release();
  void* map_ = nullptr;
  size_t map_length_ = 0;
  std::string owned_;
};

// A snapshot's uncompressed stream: mapped when the file is uncompressed, else decompressed by
// its suffix.
sdk::Result<FileBytes> loadSnapshotBytes(const fs::path& file);
// A txn log mapped whole; only its written part (up to the first hole) is populated. Reads the
// same bytes as readLogFile: holes read as zeros, which end the log cleanly.
sdk::Result<FileBytes> mapLogFile(const fs::path& file);

// The whole file, decompressed by its suffix.
sdk::Result<std::string> readSnapshotFile(const fs::path& file);
sdk::Result<std::string> readWholeFile(const fs::path& file);
// A txn log up to its first hole (the sparse preallocated tail), then up to 4 KiB of zeros.
sdk::Result<std::string> readLogFile(const fs::path& file);

// fsync of a directory, so a created, renamed or removed entry survives a crash.
sdk::Status fsyncDir(const fs::path& dir);

// create_directories, durably: every folder it creates is fsynced into its parent, so the
// data dir layout (version-2/, rocksdb/, ...) survives a power cut like the files in it. A
// folder that already exists is left as it is.
sdk::Status createDirectoriesDurably(const fs::path& dir);

}  // namespace corral::formats
