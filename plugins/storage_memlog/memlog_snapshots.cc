// Fuzzy snapshots streamed from the live tree (ZooKeeper's FileSnap.serialize): to a snapshot
// file in the background, to a replication stream (SNAP), and loading such a stream back.

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>

#include <fmt/format.h>

#include "corral/formats/file_bytes.h"
#include "memlog_storage.h"
#include "progress.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;
using sdk::Zxid;

namespace {

// Nodes (or bytes of paths and data) encoded per hold of the tree's lock: ~0.1 ms of writers
// waiting, then the buffer goes out (compressed, written) with no lock held.
constexpr size_t kNodesPerStep = 512;
constexpr size_t kBytesPerStep = 128 * 1024;
// The snapshot thread's nice value (Linux: per thread).
constexpr int kSnapshotNice = 19;

}  // namespace

sdk::Result<SnapshotReport> MemlogStorage::streamSnapshot(formats::SnapshotBodyEncoder& encoder,
                                                     const std::function<Status(Zxid)>& on_start) {
  const auto start = Clock::now();
  SnapshotReport report;
  std::map<sdk::SessionId, int32_t> sessions;
  {
    // Where the stream starts: every txn up to here is in it (ZooKeeper names the file by the
    // last processed zxid when serialization begins).
    std::lock_guard lock(apply_mutex_);
    report.zxid = last_applied_.load();
    sessions = sessions_;
  }
  if (on_start) {
    if (auto st = on_start(report.zxid); !st.isOk()) return st;
  }
  encoder.sessions(sessions);
  sessions.clear();
  std::vector<std::pair<int64_t, sdk::AclList>> acls;
  auto walk = tree_->beginWalk([&](int64_t key, const sdk::AclList& acl) { acls.emplace_back(key, acl); });
  encoder.aclCount(static_cast<int32_t>(acls.size()));
  for (const auto& [key, acl] : acls) encoder.acl(key, acl);
  acls.clear();
  auto encode = [&](const NodeRecord& node) { encoder.node(node.path, node.data, node.acl_key, node.stat); };
  for (;;) {
    const bool more = walk->step(kNodesPerStep, kBytesPerStep, encode);
    if (encoder.wantsFlush() || !more) {
      if (auto st = encoder.flush(); !st.isOk()) return st;
    }
    if (!more) break;
  }
  report.nodes = walk->visited();
  walk.reset();  // frees the blocks kept for the walk
  encoder.endOfNodes();
  if (auto st = encoder.flush(); !st.isOk()) return st;
  report.bytes = encoder.bytes();
  report.seconds = secondsSince(start);
  return report;
}

sdk::Result<std::filesystem::path> MemlogStorage::snapshotNow() {
  std::lock_guard one_at_a_time(snapshot_write_mutex_);
  const auto started = Clock::now();
  std::unique_ptr<formats::SnapshotFileWriter> file;
  formats::SnapshotBodyEncoder encoder([&](std::string_view bytes) { return file->write(bytes); });
  auto streamed = streamSnapshot(encoder, [&](Zxid zxid) -> Status {
    auto created = formats::SnapshotFileWriter::create(
        settings_.snapDir() / formats::snapshotFileName(zxid, settings_.compression), settings_.compression,
        settings_.force_sync);
    if (!created.isOk()) return created.status();
    file = std::move(*created);
    return Status::ok();
  });
  if (!streamed.isOk()) {
    host_.logger().error("snapshot failed: {}", streamed.status().toString());
    return streamed.status();
  }
  SnapshotReport report = *streamed;
  // The ZxidDigest: the zxid applied last when the stream ended and the tree's digest at it,
  // where a replay of the logs checks it (ZooKeeper writes lastProcessedZxidDigest likewise).
  std::optional<std::pair<Zxid, int64_t>> zxid_digest;
  {
    std::lock_guard lock(apply_mutex_);
    report.end_zxid = last_applied_.load();
    // A tree never advanced by a txn is written as {0, 2, 0}, like ZooKeeper's empty ZxidDigest.
    if (settings_.digest_enabled) zxid_digest = std::make_pair(report.end_zxid, report.end_zxid == 0 ? 0 : tree_->digest());
  }
  auto written = file->finish(zxid_digest);
  if (!written.isOk()) {
    host_.logger().error("snapshot {} failed: {}", file->file().string(), written.status().toString());
    return written.status();
  }
  report.seconds = secondsSince(started);
  last_snapshot_zxid_ = report.zxid;
  last_snapshot_time_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  metrics_.snapshot_count.add();
  metrics_.snapshot_time.add(static_cast<int64_t>(report.seconds * 1000));
  host_.logger().info("Snapshot {} written: {} nodes, {} ({} on disk) in {:.3f} s, fuzzy over zxids 0x{:x}..0x{:x}",
                      file->file().string(), report.nodes, mib(static_cast<double>(report.bytes)),
                      mib(static_cast<double>(*written)), report.seconds, report.zxid, report.end_zxid);
  return file->file();
}

sdk::Result<Zxid> MemlogStorage::writeSnapshot(const sdk::SnapshotSink& sink) noexcept {
  try {
    std::lock_guard one_at_a_time(snapshot_write_mutex_);
    formats::SnapshotBodyEncoder encoder(sink);
    auto streamed = streamSnapshot(encoder, {});
    if (!streamed.isOk()) return streamed.status();
    host_.logger().info("snapshot stream sent: {} nodes, {} from zxid 0x{:x} in {:.3f} s", streamed->nodes,
                        mib(static_cast<double>(streamed->bytes)), streamed->zxid, streamed->seconds);
    return streamed->zxid;
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("snapshot stream failed: {}", error.what()));
  }
}

Status MemlogStorage::loadSnapshot(Zxid zxid, const sdk::SnapshotSource& source) noexcept {
  try {
    std::lock_guard one_at_a_time(snapshot_write_mutex_);
    // Lock order: log files, then apply (snapshotNow below takes apply while the files stay
    // locked; TSan reported the opposite order here as a potential deadlock).
    std::unique_lock files(log_files_mutex_);
    std::unique_lock lock(apply_mutex_);
    const auto start = Clock::now();
    stopWriter();  // drains queued appends; the log restarts after `zxid`
    struct RestartWriter {
      MemlogStorage& self;
      ~RestartWriter() {
        if (self.settings_.durable) self.startWriter();
      }
    } restart_writer{*this};
    sessions_.clear();
    tree_->clearForLoad();
    formats::SnapshotVisitor visitor;
    visitor.on_session = [&](sdk::SessionId id, int32_t timeout) { sessions_[id] = timeout; };
    visitor.on_acl = [&](int64_t key, sdk::AclList acl) { return tree_->loadAcl(key, std::move(acl)); };
    visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                          const sdk::StatPersisted& stat) { return tree_->loadNode(path, data, acl_key, stat); };
    formats::SnapshotInfo info;
    Status loaded = formats::parseSnapshotBody(source, visitor, info);
    if (loaded.isOk()) loaded = tree_->finishLoad();
    if (!loaded.isOk()) {
      // Nothing of the old state is trustworthy any more: an empty tree that reports no history.
      (void)tree_->finishLoad();
      resetTree();
      last_applied_ = 0;
      last_logged_ = 0;
      log_base_ = 0;
      return loaded;
    }
    last_applied_ = zxid;
    last_logged_ = zxid;
    log_base_ = zxid;
    if (tree_->unknownAclKeys() > 0) {
      host_.logger().warn("snapshot stream: {} nodes refer to ACL keys its ACL map lacks (fuzzy); their ACLs "
                          "come from the txns replayed after it", tree_->unknownAclKeys());
    }
    host_.logger().info("snapshot stream loaded: {} nodes, {} sessions, zxid 0x{:x} in {:.3f} s", info.nodes,
                        info.sessions, zxid, secondsSince(start));
    if (!settings_.durable) return Status::ok();
    // Make it the data dir's history, in an order where a crash at any point recovers either a
    // state of the old history cut at `zxid` or exactly this one: no log txn after `zxid` and no
    // snapshot named after it survives; then the snapshot; then the superseded logs go.
    if (auto st = cutLogsAfter(zxid); !st.isOk()) return st;
    if (auto st = removeSnapshotsAfter(zxid, false); !st.isOk()) return st;
    lock.unlock();
    auto written = snapshotNow();
    lock.lock();
    if (!written.isOk()) return written.status();
    for (const auto& log : formats::listDataFiles(settings_.logDir(), "log")) {
      std::error_code ec;
      std::filesystem::remove(log.path, ec);
      if (ec) return Status(Code::kIoError, fmt::format("cannot remove {}: {}", log.path.string(), ec.message()));
    }
    return formats::fsyncDir(settings_.logDir());
  } catch (const std::exception& error) {
    return Status(Code::kInternal, fmt::format("loading a snapshot stream failed: {}", error.what()));
  }
}

sdk::Result<PurgeResult> MemlogStorage::purgeNow(int64_t retain) {
  std::unique_lock files(log_files_mutex_);  // not while the log is being read or cut
  auto result = purge(settings_.snapDir(), settings_.logDir(), static_cast<int>(std::min<int64_t>(retain, INT32_MAX)));
  if (result.isOk()) {
    host_.logger().info("purge: kept {} snapshots, removed {} files", result->kept_snapshots.size(),
                        result->removed.size());
  }
  return result;
}

void MemlogStorage::snapshotLoop() {
  // Background work: on a saturated box the request path wins the CPU, and a snapshot that
  // falls behind is skipped ("Too busy to snap") rather than slowing every write.
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kSnapshotNice) != 0) {
    host_.logger().debug("cannot lower the snapshot thread's priority: {}", std::strerror(errno));
  }
  const auto interval = std::chrono::hours(std::max<int64_t>(settings_.purge_interval_hours, 0));
  auto next_purge = Clock::now() + interval;
  std::unique_lock lock(snap_mutex_);
  for (;;) {
    auto wake = [&] { return snap_stopping_ || snap_requested_; };
    if (settings_.purge_interval_hours > 0) {
      snap_cv_.wait_until(lock, next_purge, wake);
    } else {
      snap_cv_.wait(lock, wake);
    }
    if (snap_stopping_ && !snap_requested_) break;
    if (snap_requested_) {
      snap_requested_ = false;
      snap_running_ = true;
      lock.unlock();
      try {
        (void)snapshotNow();
      } catch (const std::exception& error) {
        host_.logger().error("snapshot failed: {}", error.what());
      }
      lock.lock();
      snap_running_ = false;
    }
    if (settings_.purge_interval_hours > 0 && Clock::now() >= next_purge) {
      lock.unlock();
      auto result = purgeNow(settings_.snap_retain_count);
      if (!result.isOk()) host_.logger().warn("autopurge failed: {}", result.status().toString());
      lock.lock();
      next_purge = Clock::now() + interval;
    }
  }
}

}  // namespace corral::plugins::memlog
