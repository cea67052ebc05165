#include "epoch_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "corral/formats/file_bytes.h"

namespace corral::plugins::zab {

using sdk::Code;
using sdk::Status;

namespace {
constexpr const char* kAccepted = "acceptedEpoch";
constexpr const char* kCurrent = "currentEpoch";
}  // namespace

sdk::Result<std::optional<int64_t>> EpochFiles::read(const char* name) const {
  const auto path = dir_ / name;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<int64_t>();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string value = text.str();
  try {
    size_t used = 0;
    int64_t epoch = std::stoll(value, &used);
    // ZooKeeper reads one line; a trailing newline written by hand is fine.
    if (used == value.size() || value.substr(used) == "\n") return std::optional<int64_t>(epoch);
  } catch (...) {
  }
  return Status(Code::kCorruptData, fmt::format("{} does not hold an epoch: '{}'", path.string(), value));
}

Status EpochFiles::write(const char* name, int64_t value) const {
  const auto tmp = dir_ / (std::string(name) + ".tmp");
  const auto path = dir_ / name;
  const std::string text = std::to_string(value);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(Code::kIoError, fmt::format("open {}: {}", tmp.string(), std::strerror(errno)));
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return Status(Code::kIoError, fmt::format("write {}: {}", tmp.string(), std::strerror(err)));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status(Code::kIoError, fmt::format("rename {}: {}", tmp.string(), std::strerror(errno)));
  }
  return formats::fsyncDir(dir_);
}

Status EpochFiles::load(sdk::Zxid last_zxid) {
  if (auto made = formats::createDirectoriesDurably(dir_); !made.isOk()) return made;
  std::error_code ec;
  const int64_t log_epoch = sdk::epochOf(last_zxid);
  auto current = read(kCurrent);
  if (!current) return current.status();
  if (!*current) {
    current_ = log_epoch;
    if (auto written = write(kCurrent, current_); !written.isOk()) return written;
  } else {
    current_ = **current;
  }
  if (log_epoch > current_ && !std::filesystem::exists(dir_ / "currentEpoch.tmp", ec)) {
    return Status(Code::kCorruptData,
                  fmt::format("the last zxid 0x{:x} is in epoch {}, after currentEpoch {}", last_zxid, log_epoch, current_));
  }
  auto accepted = read(kAccepted);
  if (!accepted) return accepted.status();
  if (!*accepted) {
    accepted_ = log_epoch;
    if (auto written = write(kAccepted, accepted_); !written.isOk()) return written;
  } else {
    accepted_ = **accepted;
  }
  if (accepted_ < current_) {
    return Status(Code::kCorruptData,
                  fmt::format("acceptedEpoch {} is less than currentEpoch {}", accepted_, current_));
  }
  return Status::ok();
}

Status EpochFiles::setAccepted(int64_t epoch) {
  if (auto written = write(kAccepted, epoch); !written.isOk()) return written;
  accepted_ = epoch;
  return Status::ok();
}

Status EpochFiles::setCurrent(int64_t epoch) {
  if (auto written = write(kCurrent, epoch); !written.isOk()) return written;
  current_ = epoch;
  return Status::ok();
}

}  // namespace corral::plugins::zab
