// The txn log for replication: reading it from a zxid (a leader's DIFF from disk) and truncating
// it to a zxid (a learner's TRUNC: FileTxnLog.truncate, then the database reloaded).

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "corral/formats/file_bytes.h"
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
  auto bytes = formats::loadSnapshotBytes(file.path);
  if (!bytes.isOk()) return file.zxid;
  const std::string_view v = bytes->view();
  // ... ZxidDigest{long zxid, int 2, long digest}, long checksum, ustring "/"
  constexpr size_t kTail = 8 + 4 + 8 + 8 + 4 + 1;
  if (v.size() < kTail + 13) return file.zxid;
  sdk::JuteReader r(v.substr(v.size() - kTail));
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

Status MemlogStorage::truncateLog(Zxid zxid) noexcept {
  try {
    std::lock_guard one_at_a_time(snapshot_write_mutex_);
    std::lock_guard lock(apply_mutex_);
    if (!settings_.durable) {
      if (zxid == last_applied_.load()) return Status::ok();
      return Status(Code::kNotFound, "storage.memlog keeps no log without a dataDir");
    }
    stopWriter();
    Status status = cutLogsAfter(zxid);
    // Snapshots that may hold txns after `zxid` (named after it, or fuzzy past it) go too.
    if (status.isOk()) {
      for (const auto& snap : formats::listDataFiles(settings_.snapDir(), "snapshot")) {
        if (snapshotEndZxid(snap) <= zxid) continue;
        std::error_code ec;
        std::filesystem::remove(snap.path, ec);
        if (ec) {
          status = Status(Code::kIoError, fmt::format("cannot remove {}: {}", snap.path.string(), ec.message()));
          break;
        }
        host_.logger().info("truncate: removed {} (it may hold txns after 0x{:x})", snap.path.string(), zxid);
      }
    }
    if (status.isOk()) status = formats::fsyncDir(settings_.snapDir());
    std::vector<sdk::RecoveredSession> sessions;
    if (status.isOk()) status = recoverLocked(sessions);
    if (status.isOk() && last_applied_.load() != zxid) {
      status = Status(Code::kNotFound, fmt::format("truncate to 0x{:x}: the retained snapshots and logs reach 0x{:x}",
                                                   zxid, last_applied_.load()));
    }
    startWriter();
    if (status.isOk()) host_.logger().info("truncated the log to 0x{:x}", zxid);
    return status;
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("truncating the log failed: {}", error.what()));
  }
}

}  // namespace corral::plugins::memlog
