// The txn log for replication: reading it from a zxid (a leader's DIFF from disk) and truncating
// it to a zxid (a learner's TRUNC: FileTxnLog.truncate, then the database reloaded).

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/txn_log.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;
using sdk::Zxid;

namespace {

// The last zxid a snapshot may hold: the ZxidDigest's zxid when the file has one (a fuzzy
// snapshot holds txns up to it at most), else the zxid in its name.
Zxid snapshotEndZxid(const formats::DataFile& file) {
  // ... ZxidDigest{long zxid, int 2, long digest}, long checksum, ustring "/"
  constexpr size_t kTail = 8 + 4 + 8 + 8 + 4 + 1;
  std::string tail;
  if (formats::compressionOfFile(file.path) == formats::Compression::kNone) {
    const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return file.zxid;
    const off_t size = ::lseek(fd, 0, SEEK_END);
    tail.resize(kTail);
    const bool ok = size >= static_cast<off_t>(kTail + 16) &&
                    ::pread(fd, tail.data(), kTail, size - static_cast<off_t>(kTail)) == static_cast<ssize_t>(kTail);
    ::close(fd);
    if (!ok) return file.zxid;
  } else {
    auto bytes = formats::loadSnapshotBytes(file.path);  // compressed: no way but through it
    if (!bytes.isOk() || bytes->size() < kTail + 16) return file.zxid;
    tail.assign(bytes->view().substr(bytes->size() - kTail));
  }
  sdk::JuteReader r(tail);
  const Zxid zxid = r.readLong();
  const int32_t version = r.readInt();
  r.readLong();
  r.readLong();
  const std::string seal = r.readString();
  if (!r.ok() || version != sdk::kTxnDigestVersion || seal != "/") return file.zxid;
  return std::max(zxid, file.zxid);
}

Status truncateFile(const std::filesystem::path& file, uint64_t length) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kIoError, fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  const bool ok = ::ftruncate(fd, static_cast<off_t>(length)) == 0 && ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) return Status(Code::kIoError, fmt::format("cannot truncate {}: {}", file.string(), std::strerror(error)));
  return Status::ok();
}

}  // namespace

Status MemlogStorage::readLog(Zxid after_zxid, const std::function<bool(const sdk::TxnEntry&)>& visit) noexcept {
  try {
    std::shared_lock reading(log_files_mutex_);
    const Zxid last = last_logged_.load();
    if (after_zxid >= last) return after_zxid == last ? Status::ok()
                                                      : Status(Code::kNotFound, fmt::format(
                                                            "zxid 0x{:x} is past the last logged 0x{:x}", after_zxid, last));
    if (!settings_.durable) return Status(Code::kNotFound, "storage.memlog keeps no log without a dataDir");
    const auto files = formats::logsAfter(formats::listDataFiles(settings_.logDir(), "log"), after_zxid);
    // The log must show it continues from `after_zxid`: a record of it, or the snapshot the log
    // was restarted from. Otherwise the caller's history may differ from ours (or was purged).
    bool anchored = after_zxid == log_base_.load();
    Zxid delivered = after_zxid;
    bool stopped = false;
    Status failure;
    for (const auto& file : files) {
      if (stopped) break;
      auto bytes = formats::mapLogFile(file.path);
      if (!bytes.isOk()) return bytes.status();
      auto scan = formats::scanLog(bytes->view(), [&](const formats::LogRecord& record) {
        sdk::TxnEntry txn;
        if (auto st = formats::decodeEntry(record.entry, txn); !st.isOk()) {
          failure = Status(Code::kCorruptData, fmt::format("{} offset {}: {}", file.path.string(), record.offset, st.message()));
          return false;
        }
        const Zxid zxid = txn.header.zxid;
        if (zxid <= after_zxid) {
          if (zxid == after_zxid) anchored = true;
          return true;
        }
        if (zxid > last) {
          stopped = true;
          return false;
        }
        if (!anchored) {
          failure = Status(Code::kNotFound, fmt::format("the log does not hold zxid 0x{:x} (it continues at 0x{:x})",
                                                        after_zxid, zxid));
          return false;
        }
        if (zxid <= delivered) return true;  // a txn logged twice (a log restarted behind)
        if ((zxid >> 32) == (delivered >> 32) && zxid != delivered + 1) {
          failure = Status(Code::kCorruptData, fmt::format("{} offset {}: txns 0x{:x}..0x{:x} are missing from the log",
                                                           file.path.string(), record.offset, delivered + 1, zxid - 1));
          return false;
        }
        delivered = zxid;
        if (!visit(txn)) {
          stopped = true;
          return false;
        }
        return true;
      });
      if (!failure.isOk()) return failure;
      if (scan.end == formats::LogEnd::kCrcError || scan.end == formats::LogEnd::kBadHeader) {
        return Status(Code::kCorruptData, fmt::format("txn log {} offset {}: {}", file.path.string(), scan.offset, scan.detail));
      }
    }
    if (!anchored) return Status(Code::kNotFound, fmt::format("the log does not hold zxid 0x{:x}", after_zxid));
    if (!stopped && delivered < last) {
      return Status(Code::kNotFound, fmt::format("the log ends at 0x{:x}, before the last logged 0x{:x}", delivered, last));
    }
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("reading the log failed: {}", error.what()));
  }
}

// Every log record after `zxid` goes: later files are removed, the file holding the boundary is
// cut right after it. Writer stopped by the caller.
Status MemlogStorage::cutLogsAfter(Zxid zxid) {
  if (!settings_.durable) return Status::ok();
  for (const auto& file : formats::listDataFiles(settings_.logDir(), "log")) {
    if (file.zxid > zxid) {
      std::error_code ec;
      std::filesystem::remove(file.path, ec);
      if (ec) return Status(Code::kIoError, fmt::format("cannot remove {}: {}", file.path.string(), ec.message()));
      host_.logger().info("truncate: removed {}", file.path.string());
      continue;
    }
    auto bytes = formats::mapLogFile(file.path);
    if (!bytes.isOk()) return bytes.status();
    std::optional<uint64_t> cut;
    formats::scanLog(bytes->view(), [&](const formats::LogRecord& record) {
      sdk::TxnEntry txn;
      if (!formats::decodeEntry(record.entry, txn).isOk() || txn.header.zxid > zxid) {
        cut = record.offset;
        return false;
      }
      return true;
    });
    if (cut) {
      bytes = formats::FileBytes();  // unmapped before the file shrinks
      if (auto st = truncateFile(file.path, *cut); !st.isOk()) return st;
      host_.logger().info("truncate: {} cut at offset {}", file.path.string(), *cut);
    }
  }
  return formats::fsyncDir(settings_.logDir());
}

Status MemlogStorage::removeSnapshotsAfter(Zxid zxid, bool fuzzy_past) {
  for (const auto& snap : formats::listDataFiles(settings_.snapDir(), "snapshot")) {
    if (snap.zxid <= zxid && (!fuzzy_past || snapshotEndZxid(snap) <= zxid)) continue;
    std::error_code ec;
    std::filesystem::remove(snap.path, ec);
    if (ec) return Status(Code::kIoError, fmt::format("cannot remove {}: {}", snap.path.string(), ec.message()));
    host_.logger().info("removed {} (it may hold txns after 0x{:x})", snap.path.string(), zxid);
  }
  return formats::fsyncDir(settings_.snapDir());
}

Status MemlogStorage::checkReachable(Zxid zxid) {
  // The newest valid snapshot that holds nothing after `zxid`, then a log record of `zxid`.
  std::optional<formats::DataFile> base;
  for (const auto& snap : formats::listDataFiles(settings_.snapDir(), "snapshot")) {
    if (formats::looksLikeValidSnapshot(snap.path) && snapshotEndZxid(snap) <= zxid) base = snap;
  }
  if (!base && zxid != 0) {
    return Status(Code::kNotFound, fmt::format("no retained snapshot holds only txns up to 0x{:x}", zxid));
  }
  if (!base || base->zxid == zxid) return Status::ok();
  bool found = false;
  for (const auto& file : formats::logsAfter(formats::listDataFiles(settings_.logDir(), "log"), base->zxid)) {
    auto bytes = formats::mapLogFile(file.path);
    if (!bytes.isOk()) return bytes.status();
    formats::scanLog(bytes->view(), [&](const formats::LogRecord& record) {
      sdk::TxnEntry txn;
      if (formats::decodeEntry(record.entry, txn).isOk() && txn.header.zxid == zxid) found = true;
      return !found;
    });
    if (found) return Status::ok();
  }
  return Status(Code::kNotFound, fmt::format("the retained logs do not hold zxid 0x{:x}", zxid));
}

Status MemlogStorage::truncateLog(Zxid zxid) noexcept {
  try {
    std::lock_guard one_at_a_time(snapshot_write_mutex_);
    std::unique_lock files(log_files_mutex_);  // lock order: log files, then apply (loadSnapshot)
    std::lock_guard lock(apply_mutex_);
    if (zxid == last_applied_.load() && zxid == last_logged_.load()) return Status::ok();
    if (!settings_.durable) return Status(Code::kNotFound, "storage.memlog keeps no log without a dataDir");
    stopWriter();
    struct RestartWriter {
      MemlogStorage& self;
      ~RestartWriter() { self.startWriter(); }
    } restart_writer{*this};
    // Nothing is touched unless the state at `zxid` can be rebuilt (FileTxnLog.truncate refuses
    // likewise). Then snapshots that may hold later txns go before the log is cut, so a crash in
    // between never pairs such a snapshot with a log that lacks what it holds.
    if (auto st = checkReachable(zxid); !st.isOk()) return st;
    if (auto st = removeSnapshotsAfter(zxid, true); !st.isOk()) return st;
    if (auto st = cutLogsAfter(zxid); !st.isOk()) return st;
    std::vector<sdk::RecoveredSession> sessions;
    if (auto st = recoverLocked(sessions); !st.isOk()) return st;
    if (last_applied_.load() != zxid) {
      return Status(Code::kCorruptData, fmt::format("truncate to 0x{:x}: recovery reached 0x{:x}", zxid,
                                                    last_applied_.load()));
    }
    host_.logger().info("truncated the log to 0x{:x}", zxid);
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("truncating the log failed: {}", error.what()));
  }
}

}  // namespace corral::plugins::memlog
