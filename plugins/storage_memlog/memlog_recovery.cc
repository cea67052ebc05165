// Recovery at start (FileTxnSnapLog.restore): the newest valid snapshot, then every logged txn
// after it, replayed with ZooKeeper's tolerance for what a fuzzy snapshot already holds.

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <future>

#include <fmt/format.h>

#include "corral/formats/file_bytes.h"
#include "corral/formats/txn_log.h"
#include "memlog_storage.h"
#include "progress.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;

namespace {

int64_t allocatedBytes(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return 0;
  return std::min<int64_t>(st.st_size, static_cast<int64_t>(st.st_blocks) * 512);
}

// The second half of a snapshot load: the tree digest summed from the snapshot's records
// themselves, on another core while the loading thread builds the tree and checks the seals
// (crc32 over every node was a sixth of a single-threaded load, adler32 over the file a tenth).
struct SnapshotDigest {
  Status status;
  uint64_t digest = 0;
};

SnapshotDigest sumSnapshotDigest(std::string_view bytes, bool read_digest, std::atomic<uint64_t>* position) {
  SnapshotDigest sum;
  formats::SnapshotVisitor visitor;
  visitor.on_progress = [position](uint64_t done, uint64_t) { position->store(done); };
  visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t /*acl_key*/,
                        const sdk::StatPersisted& stat) {
    sum.digest += znodeDigest(path, data.value_or(std::string_view()), stat);
    return Status::ok();
  };
  formats::SnapshotInfo info;
  sum.status = formats::parseSnapshot(bytes, read_digest, visitor, info, formats::Checksums::kSkip);
  position->store(bytes.size());
  return sum;
}

Status zeroRange(const std::filesystem::path& file, uint64_t offset, size_t length) {
  FILE* f = std::fopen(file.c_str(), "r+b");
  if (f == nullptr) return Status(Code::kIoError, fmt::format("cannot open {}: {}", file.string(), std::strerror(errno)));
  std::string zeros(length, '\0');
  bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 &&
            std::fwrite(zeros.data(), 1, zeros.size(), f) == zeros.size() && std::fflush(f) == 0 &&
            ::fsync(fileno(f)) == 0;
  std::fclose(f);
  if (!ok) return Status(Code::kIoError, fmt::format("cannot write {}", file.string()));
  return Status::ok();
}

}  // namespace

void MemlogStorage::resetTree() {
  // In place: readers on other threads hold no lock of ours, only the tree's.
  tree_->reset();
  sessions_.clear();
}

Status MemlogStorage::loadSnapshotFile(const formats::DataFile& file, formats::SnapshotInfo& info) {
  auto& log = host_.logger();
  const auto start = Clock::now();
  auto bytes = formats::loadSnapshotBytes(file.path);
  if (!bytes.isOk()) return bytes.status();
  std::atomic<uint64_t> digest_position{0};
  auto digest = std::async(std::launch::async, sumSnapshotDigest, bytes->view(), settings_.digest_enabled,
                           &digest_position);
  sessions_.clear();
  tree_->clearForLoad(DataTree::DigestSource::kSuppliedByCaller);
  Progress progress(log, "loading snapshot " + file.path.filename().string(), "bytes");
  formats::SnapshotVisitor visitor;
  visitor.on_session = [&](sdk::SessionId id, int32_t timeout) { sessions_[id] = timeout; };
  visitor.on_acl = [&](int64_t key, sdk::AclList acl) { return tree_->loadAcl(key, std::move(acl)); };
  visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                        const sdk::StatPersisted& stat) { return tree_->loadNode(path, data, acl_key, stat); };
  visitor.on_progress = [&](uint64_t done, uint64_t total) {
    progress.update(static_cast<double>(done), static_cast<double>(total));
    // What both this parse and the digest thread have passed leaves the process's RSS (a
    // populated 200 MB mapping on top of the tree was the restart's peak: 1.7x the steady RSS).
    const uint64_t both = std::min<uint64_t>(done, digest_position.load());
    if (both > (16u << 20)) bytes->releaseBefore(both - (8u << 20));
  };
  info = formats::SnapshotInfo{};
  const Status parsed = formats::parseSnapshot(bytes->view(), settings_.digest_enabled, visitor, info);
  const SnapshotDigest summed = digest.get();  // joined before `bytes` is unmapped
  if (!parsed.isOk()) return parsed;
  if (!summed.status.isOk()) return summed.status;
  if (auto st = tree_->finishLoad(summed.digest); !st.isOk()) return st;
  if (tree_->unknownAclKeys() > 0) {
    log.warn("snapshot {}: {} nodes refer to ACL keys its ACL map lacks (a fuzzy snapshot); their ACLs "
             "come from the replayed txns", file.path.string(), tree_->unknownAclKeys());
  }
  log.info("loaded snapshot {}: {} nodes, {} sessions, {} in {:.3f} s", file.path.string(), info.nodes,
           info.sessions, mib(static_cast<double>(bytes->size())), secondsSince(start));
  return Status::ok();
}

std::vector<sdk::RecoveredSession> MemlogStorage::sessions() const {
  std::lock_guard lock(apply_mutex_);
  std::vector<sdk::RecoveredSession> out;
  out.reserve(sessions_.size());
  for (const auto& [id, timeout] : sessions_) out.push_back({id, timeout});
  return out;
}

Status MemlogStorage::recover(std::vector<sdk::RecoveredSession>& sessions) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    auto status = recoverLocked(sessions);
    if (status.isOk() && settings_.durable) {
      // As ZooKeeper's FileTxnSnapLog.restore: the snapshot load always, the txns when any.
      metrics_.startup_snap_load_time.add(report_.snapshot_load_ms);
      if (report_.replayed > 0) {
        metrics_.startup_txns_load_time.add(report_.replay_ms);
        metrics_.startup_txns_loaded.add(report_.replayed);
      }
    }
    return status;
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("recovery failed: {}", error.what()));
  }
}

Status MemlogStorage::recoverLocked(std::vector<sdk::RecoveredSession>& sessions) {
  sessions.clear();
  report_ = RecoveryReport{};
  if (!settings_.durable) return Status::ok();
  auto& log = host_.logger();
  const auto start = Clock::now();
  // Leftovers of snapshots interrupted by a crash (never renamed into place).
  {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(settings_.snapDir(), ec), end; !ec && it != end; it.increment(ec)) {
      if (it->path().filename().string().starts_with("tmp.snapshot.")) {
        log.info("removing unfinished snapshot {}", it->path().string());
        std::filesystem::remove(it->path(), ec);
      }
    }
  }
  const auto snaps = formats::listDataFiles(settings_.snapDir(), "snapshot");
  const auto logs = formats::listDataFiles(settings_.logDir(), "log");

  // 1. The newest valid snapshot (FileSnap.deserialize: up to 100, newest first).
  const auto snapshot_started = Clock::now();
  bool loaded = false;
  sdk::Zxid snap_zxid = 0;
  formats::SnapshotInfo info;
  formats::DataFile loaded_file;
  int tried = 0;
  for (auto it = snaps.rbegin(); it != snaps.rend() && tried < 100; ++it) {
    if (!formats::looksLikeValidSnapshot(it->path)) {
      log.warn("skipping invalid snapshot {} (incomplete: no seal at its end)", it->path.string());
      continue;
    }
    ++tried;
    if (auto st = loadSnapshotFile(*it, info); !st.isOk()) {
      log.error("problem reading snapshot {}: {}; trying an older one", it->path.string(), st.message());
      continue;
    }
    loaded = true;
    snap_zxid = it->zxid;
    loaded_file = *it;
    break;
  }
  if (!loaded) {
    resetTree();
    if (!logs.empty() && !settings_.trust_empty_snapshot) {
      return Status(Code::kCorruptData,
                    fmt::format("No valid snapshot found in {} ({} snapshot files), but there are {} txn "
                                "logs in {}. Something is broken! Set zookeeper.snapshot.trust.empty=true "
                                "to rebuild the tree from the logs alone",
                                settings_.snapDir().string(), snaps.size(), logs.size(),
                                settings_.logDir().string()));
    }
    if (!logs.empty()) log.warn("no valid snapshot; snapshot.trust.empty is set, replaying the logs onto an empty tree");
  }
  last_applied_ = snap_zxid;
  const auto replay_started = Clock::now();
  report_.snapshot_load_ms = millisBetween(snapshot_started, replay_started);

  // Digest bookkeeping (DataTree.compareSnapshotDigests / compareDigest): mismatches are
  // reported, as ZooKeeper does, not fatal.
  std::optional<std::pair<sdk::Zxid, int64_t>> snapshot_digest;
  if (loaded && info.has_digest && info.digest_zxid > 0 && info.digest_zxid >= snap_zxid) {
    snapshot_digest = std::make_pair(info.digest_zxid, info.digest);
  }
  int64_t digest_checks = 0;
  int64_t digest_mismatches = 0;
  auto checkDigest = [&](sdk::Zxid zxid, int64_t expected, std::string_view what) {
    ++digest_checks;
    const int64_t actual = tree_->digest();
    if (actual != expected) {
      if (++digest_mismatches <= 5) {
        log.warn("digest mismatch at zxid 0x{:x} ({}): expected {}, tree has {}", zxid, what, expected, actual);
      }
    }
  };
  // A digest recorded at the snapshot's own zxid is not checked (ZooKeeper never does either):
  // a fuzzy ZooKeeper snapshot may already hold changes of later txns.
  if (snapshot_digest && snapshot_digest->first == snap_zxid) snapshot_digest.reset();

  // 2. Replay the logs after it (FileTxnSnapLog.fastForwardFromEdits).
  const auto files = formats::logsAfter(logs, loaded ? snap_zxid : 0);
  double total_bytes = 0;
  for (const auto& f : files) total_bytes += static_cast<double>(allocatedBytes(f.path));
  Progress progress(log, "replaying txn logs", "bytes");
  double done_bytes = 0;
  int64_t replayed = 0;
  std::vector<sdk::OpOutcome> outcomes;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& file = files[i];
    const bool last_file = i + 1 == files.size();
    auto bytes = formats::mapLogFile(file.path);
    if (!bytes.isOk()) return bytes.status();
    Status failure;
    auto scan = formats::scanLog(bytes->view(), [&](const formats::LogRecord& record) {
      sdk::TxnEntry txn;
      if (auto st = formats::decodeEntry(record.entry, txn); !st.isOk()) {
        failure = Status(Code::kCorruptData, fmt::format("{}: undecodable txn at offset {} (checksum is valid)",
                                                         file.path.string(), record.offset));
        return false;
      }
      const sdk::Zxid zxid = txn.header.zxid;
      const sdk::Zxid last = last_applied_.load();
      if (zxid <= last) {
        if (zxid < snap_zxid || !loaded) return true;
        if (zxid != snap_zxid) log.warn("{}: txn 0x{:x} is not after 0x{:x}; skipped", file.path.string(), zxid, last);
        return true;
      }
      // ZooKeeper does not notice a missing log; Corral refuses to start with a hole (DESIGN §6).
      if (last > 0 && (zxid >> 32) == (last >> 32) && zxid != last + 1) {
        failure = Status(Code::kCorruptData,
                         fmt::format("txns 0x{:x}..0x{:x} are missing: {} offset {} continues at 0x{:x} "
                                     "(a txn log file is missing or damaged)",
                                     last + 1, zxid - 1, file.path.string(), record.offset, zxid));
        return false;
      }
      auto st = applyLocked(txn, sdk::ApplyMode::kReplay, outcomes);
      if (!st.isOk()) {
        log.debug("replay of 0x{:x} ({}): {}", zxid, formats::opName(txn.header.type), st.toString());
      }
      ++replayed;
      if (settings_.digest_enabled && txn.digest && txn.digest->version == sdk::kTxnDigestVersion) {
        checkDigest(zxid, txn.digest->tree_digest, formats::opName(txn.header.type));
      }
      if (snapshot_digest && snapshot_digest->first == zxid) {
        checkDigest(zxid, snapshot_digest->second, "snapshot digest");
        snapshot_digest.reset();
      }
      progress.update(done_bytes + static_cast<double>(record.offset), total_bytes,
                      fmt::format(", {} txns", replayed));
      return true;
    });
    if (!failure.isOk()) return failure;
    switch (scan.end) {
      case formats::LogEnd::kClean:
      case formats::LogEnd::kStopped:
        break;
      case formats::LogEnd::kEmpty:
        log.warn("txn log {} is empty ({}); ignored", file.path.string(), scan.detail);
        break;
      case formats::LogEnd::kBadHeader:
        return Status(Code::kCorruptData, fmt::format("txn log {}: {}", file.path.string(), scan.detail));
      case formats::LogEnd::kCrcError:
        return Status(Code::kCorruptData, fmt::format("txn log {} offset {}: {}", file.path.string(),
                                                      scan.offset, scan.detail));
      case formats::LogEnd::kPartial:
        ++report_.partial_records;
        log.warn("Last transaction was partial: {} offset {} ({}); the {} complete txns before it are kept{}",
                 file.path.string(), scan.offset, scan.detail, scan.records,
                 last_file ? ", the torn tail is cut" : "");
        if (last_file) {
          // Zero the torn record's checksum and length so every later reader (Corral or
          // ZooKeeper) sees a clean end of log here.
          const size_t length = std::min<size_t>(12, bytes->size() - scan.offset);
          if (auto st = zeroRange(file.path, scan.offset, length); !st.isOk()) {
            log.warn("cannot cut the torn tail of {}: {}", file.path.string(), st.toString());
          }
        }
        break;
    }
    done_bytes += static_cast<double>(allocatedBytes(file.path));
  }
  if (snapshot_digest) {
    log.info("snapshot digest zxid 0x{:x} was never reached by the logs", snapshot_digest->first);
  }
  const sdk::Zxid last = last_applied_.load();
  report_.replay_ms = millisBetween(replay_started, Clock::now());
  log.info("recovered zxid 0x{:x}: snapshot {} + {} txns from {} log files, {} nodes, {} sessions in {:.3f} s "
           "(digest checks {}, mismatches {})",
           last, loaded ? loaded_file.path.filename().string() : std::string("(none)"), replayed, files.size(),
           tree_->nodeCount(), sessions_.size(), secondsSince(start), digest_checks, digest_mismatches);

  // 3. A clean snapshot of the recovered state, as a standalone ZooKeeper takes at start
  // (ZooKeeperServer.loadData). Skipped when it would be identical to the one just loaded.
  const bool same = loaded && replayed == 0 && snap_zxid == last &&
                    formats::compressionOfFile(loaded_file.path) == settings_.compression;
  if (!same) {
    if (!loaded && replayed == 0) {
      // A brand-new data dir: snapshot.0 at once, as ZooKeeper writes it before serving.
      apply_mutex_.unlock();
      auto written = snapshotNow();
      apply_mutex_.lock();
      if (!written.isOk()) return written.status();
    } else {
      // The same snapshot ZooKeeper takes before serving, but written by the snapshot thread
      // so clients are served meanwhile (the logs it supersedes stay until it is on disk).
      std::lock_guard snap_lock(snap_mutex_);
      snap_requested_ = true;
      snap_cv_.notify_one();
    }
  }
  for (const auto& [id, timeout] : sessions_) sessions.push_back({id, timeout});
  report_.snapshot_loaded = loaded;
  report_.snapshot = loaded ? loaded_file.path : std::filesystem::path();
  if (loaded) {
    struct stat file_stat {};
    if (::stat(loaded_file.path.c_str(), &file_stat) == 0) {
      last_snapshot_time_ms_ = static_cast<int64_t>(file_stat.st_mtim.tv_sec) * 1000 + file_stat.st_mtim.tv_nsec / 1000000;
    }
    last_snapshot_zxid_ = snap_zxid;
  }
  report_.snapshot_zxid = snap_zxid;
  report_.last_zxid = last;
  last_logged_ = last;
  log_base_ = snap_zxid;
  report_.replayed = replayed;
  report_.log_files = static_cast<int64_t>(files.size());
  report_.digest_checks = digest_checks;
  report_.digest_mismatches = digest_mismatches;
  recovered_ = true;
  return Status::ok();
}

}  // namespace corral::plugins::memlog

