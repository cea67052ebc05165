// acceptedEpoch and currentEpoch in <dataDir>/version-2 (quorum-protocol.md §2), in
// ZooKeeper's format (ASCII decimal, no newline) so a data dir moves between Corral and
// ZooKeeper in either direction. Written to "<name>.tmp", fsynced, renamed, directory fsynced:
// a crash leaves the old value or the new one, never a torn file.
#pragma once

#include <cstdint>
#include <filesystem>

#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::zab {

class EpochFiles {
 public:
  explicit EpochFiles(std::filesystem::path version_dir) : dir_(std::move(version_dir)) {}

  // Reads both files; a missing one defaults to epoch(last_zxid) (and is written), as
  // QuorumPeer.loadDataBase does. Fails on unreadable contents, acceptedEpoch < currentEpoch,
  // or a log ahead of currentEpoch (unless an update was interrupted: currentEpoch.tmp exists).
  sdk::Status load(sdk::Zxid last_zxid);
  int64_t accepted() const { return accepted_; }
  int64_t current() const { return current_; }
  sdk::Status setAccepted(int64_t epoch);
  sdk::Status setCurrent(int64_t epoch);

 private:
  sdk::Result<std::optional<int64_t>> read(const char* name) const;
  sdk::Status write(const char* name, int64_t value) const;

  std::filesystem::path dir_;
  int64_t accepted_ = 0;
  int64_t current_ = 0;
};

}  // namespace corral::plugins::zab
