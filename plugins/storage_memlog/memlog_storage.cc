#include "memlog_storage.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>

#include <fmt/format.h>

#include "corral/admin.h"
#include "corral/path.h"

namespace corral::plugins::memlog {
namespace {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;
using Clock = std::chrono::steady_clock;

std::optional<std::string_view> view(const sdk::OptionalBytes& data) {
  if (!data) return std::nullopt;
  return std::string_view(*data);
}

int64_t millisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::string mib(double bytes) {
  if (bytes < 1024.0 * 1024.0) return fmt::format("{:.1f} KiB", bytes / 1024.0);
  return fmt::format("{:.1f} MiB", bytes / (1024.0 * 1024.0));
}

// Progress lines for long work: how much, how fast, how long left. Logs at most every 2 s and
// only once the work has run for 2 s, so small data dirs stay quiet.
class Progress {
 public:
  Progress(sdk::Logger& log, std::string what, std::string unit)
      : log_(log), what_(std::move(what)), unit_(std::move(unit)), start_(Clock::now()),
        next_(start_ + std::chrono::seconds(2)) {}

  void update(double done, double total, std::string_view extra = {}) {
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + std::chrono::seconds(2);
    const double elapsed = secondsSince(start_);
    const double rate = elapsed > 0 ? done / elapsed : 0;
    const double left = rate > 0 && total > done ? (total - done) / rate : 0;
    if (unit_ == "bytes") {
      log_.info("{}: {:.0f}% ({} of {}, {}/s){}, about {:.0f} s left", what_,
                total > 0 ? 100.0 * done / total : 100.0, mib(done), mib(total), mib(rate),
                extra, left);
    } else {
      log_.info("{}: {:.0f}% ({:.0f} of ~{:.0f} {}, {:.0f} {}/s){}, about {:.0f} s left", what_,
                total > 0 ? std::min(100.0, 100.0 * done / total) : 100.0, done, total, unit_,
                rate, unit_, extra, left);
    }
  }
  double elapsed() const { return secondsSince(start_); }

 private:
  sdk::Logger& log_;
  std::string what_;
  std::string unit_;
  Clock::time_point start_;
  Clock::time_point next_;
};

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

SnapshotDigest sumSnapshotDigest(std::string_view bytes, bool read_digest) {
  SnapshotDigest sum;
  formats::SnapshotVisitor visitor;
  visitor.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t /*acl_key*/,
                        const sdk::StatPersisted& stat) {
    sum.digest += znodeDigest(path, data.value_or(std::string_view()), stat);
    return Status::ok();
  };
  formats::SnapshotInfo info;
  sum.status = formats::parseSnapshot(bytes, read_digest, visitor, info, formats::Checksums::kSkip);
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

// ---- settings -------------------------------------------------------------------------------

sdk::Result<DurabilitySettings> DurabilitySettings::fromConfig(const sdk::PluginConfig& config) {
  DurabilitySettings s;
  auto data_dir = config.get("dataDir");
  if (!data_dir || data_dir->empty()) return Status(Code::kInvalidConfig, "storage.memlog needs dataDir");
  s.durable = true;
  s.data_dir = *data_dir;
  s.log_dir = config.getOr("dataLogDir", *data_dir);
  if (s.log_dir.empty()) s.log_dir = s.data_dir;
  auto integer = [&](std::string_view key, int64_t fallback, int64_t& out) -> Status {
    auto v = config.getInt(key, fallback);
    if (!v.isOk()) return v.status();
    out = *v;
    return Status::ok();
  };
  auto boolean = [&](std::string_view key, bool fallback, bool& out) -> Status {
    auto v = config.getBool(key, fallback);
    if (!v.isOk()) return v.status();
    out = *v;
    return Status::ok();
  };
  for (auto st : {integer("snapCount", 100000, s.snap_count),
                  integer("snapSizeLimitInKb", 4194304, s.snap_size_limit_kb),
                  integer("txnLogSizeLimitInKb", -1, s.txn_log_size_limit_kb),
                  integer("preAllocSize", 65536, s.prealloc_kb),
                  integer("autopurge.snapRetainCount", 3, s.snap_retain_count),
                  integer("autopurge.purgeInterval", 0, s.purge_interval_hours),
                  integer("maxBatchSize", 1000, s.max_batch),
                  integer("fsync.warningthresholdms", 1000, s.fsync_warn_ms),
                  boolean("forceSync", true, s.force_sync),
                  boolean("digest.enabled", true, s.digest_enabled),
                  boolean("snapshot.trust.empty", false, s.trust_empty_snapshot),
                  boolean("datadir.autocreate", true, s.autocreate)}) {
    if (!st.isOk()) return st;
  }
  s.snap_count = std::max<int64_t>(s.snap_count, 2);  // ZooKeeperServer.getSnapCount
  s.snap_retain_count = std::max<int64_t>(s.snap_retain_count, 3);
  s.max_batch = std::max<int64_t>(s.max_batch, 1);
  s.compression = formats::compressionFromSetting(config.getOr("snapshot.compression.method", ""));
  return s;
}

// ---- life cycle -----------------------------------------------------------------------------

MemlogStorage::MemlogStorage(sdk::Host& host, DurabilitySettings settings)
    : host_(host), settings_(std::move(settings)), tree_(std::make_unique<DataTree>()), metrics_(host.metrics()) {
  if (!settings_.digest_enabled) tree_->setDigestEnabled(false);
  if (settings_.durable) registerCommands();
  resetSnapshotStats();
}

MemlogStorage::~MemlogStorage() { stop(); }

Status MemlogStorage::start() noexcept {
  if (!settings_.durable) return Status::ok();
  try {
    for (const auto& dir : {settings_.data_dir, settings_.log_dir}) {
      std::error_code ec;
      if (!std::filesystem::exists(dir, ec) && !settings_.autocreate) {
        return Status(Code::kIoError,
                      fmt::format("data directory {} does not exist and datadir.autocreate is false", dir.string()));
      }
    }
    for (const auto& dir : {settings_.snapDir(), settings_.logDir()}) {
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return Status(Code::kIoError, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    {
      std::lock_guard lock(queue_mutex_);
      writer_stopping_ = false;
    }
    {
      std::lock_guard lock(snap_mutex_);
      snap_stopping_ = false;
    }
    writer_ = std::thread([this] { writerLoop(); });
    snapshotter_ = std::thread([this] { snapshotLoop(); });
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

void MemlogStorage::stop() noexcept {
  {
    std::lock_guard lock(queue_mutex_);
    writer_stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(snap_mutex_);
    snap_stopping_ = true;
  }
  snap_cv_.notify_all();
  if (snapshotter_.joinable()) snapshotter_.join();
  log_.close();
}

void MemlogStorage::registerCommands() {
  sdk::Command command;
  command.name = "purge";
  command.doc = "Delete old snapshots and txn logs (PurgeTxnLog): keeps the newest `count` valid "
                "snapshots (default autopurge.snapRetainCount, at least 3) and the logs they need.";
  command.four_letter = false;
  command.run = [this](const sdk::CommandArgs& args) {
    sdk::CommandOutput output;
    int64_t retain = settings_.snap_retain_count;
    if (auto it = args.params.find("count"); it != args.params.end()) {
      try {
        retain = std::stoll(it->second);
      } catch (...) {
        output.status = Status(Code::kBadArguments, "count must be an integer");
        return output;
      }
    }
    auto result = purgeNow(retain);
    if (!result.isOk()) {
      output.status = result.status();
      return output;
    }
    nlohmann::json removed = nlohmann::json::array();
    nlohmann::json kept = nlohmann::json::array();
    for (const auto& p : result->removed) {
      removed.push_back(p.string());
      output.text += "removed " + p.string() + "\n";
    }
    for (const auto& p : result->kept_snapshots) {
      kept.push_back(p.string());
      output.text += "kept " + p.string() + "\n";
    }
    output.data["removed"] = removed;
    output.data["kept_snapshots"] = kept;
    return output;
  };
  if (auto st = host_.commands().add(std::move(command)); !st.isOk()) {
    host_.logger().warn("cannot register the purge command: {}", st.toString());
  }
}

// ---- reads ----------------------------------------------------------------------------------

bool MemlogStorage::read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept {
  try {
    auto node = tree_->getNode(path);
    if (!node.isOk()) return false;
    out.stat = node->stat;
    out.stored_cversion = node->persisted.cversion;
    out.raw_owner = node->persisted.ephemeral_owner;
    if (fields & sdk::NodeRead::kAcl) out.acl = node->acl ? *node->acl : sdk::AclList{};
    if (fields & sdk::NodeRead::kData) {
      auto data = tree_->getData(path);
      if (!data.isOk()) return false;
      out.data = std::move(data->data);
      out.stat = data->stat;
    }
    if (fields & sdk::NodeRead::kChildren) {
      auto children = tree_->getChildren(path);
      if (!children.isOk()) return false;
      out.children = std::move(children->names);
      out.stat = children->stat;
    }
    return true;
  } catch (...) {
    return false;
  }
}

int64_t MemlogStorage::countDescendants(std::string_view path) const noexcept {
  auto count = tree_->getAllChildrenNumber(path);
  return count.isOk() ? *count : -1;
}

std::vector<std::string> MemlogStorage::ephemeralsOf(sdk::SessionId session) const {
  return tree_->ephemerals(session);
}

std::vector<sdk::ReapCandidate> MemlogStorage::reapCandidates() const {
  std::vector<sdk::ReapCandidate> candidates;
  auto add = [&](const std::vector<ReapInfo>& infos) {
    for (const auto& info : infos) {
      candidates.push_back({info.path, info.ephemeral_owner, info.stored_cversion, info.num_children, info.mtime});
    }
  };
  add(tree_->containers());
  add(tree_->ttlNodes());
  return candidates;
}

sdk::TreeStats MemlogStorage::stats() const noexcept {
  sdk::TreeStats stats;
  stats.node_count = static_cast<int64_t>(tree_->nodeCount());
  stats.ephemeral_count = static_cast<int64_t>(tree_->ephemeralsCount());
  stats.approximate_data_size = tree_->approximateDataSize();
  stats.last_applied_zxid = last_applied_.load();
  stats.last_snapshot_zxid = last_snapshot_zxid_.load();
  stats.last_snapshot_time_ms = last_snapshot_time_ms_.load();
  return stats;
}

// ---- apply ----------------------------------------------------------------------------------

Status MemlogStorage::applyOne(OpCode type, const sdk::TxnBody& body, const sdk::TxnHeader& header,
                               sdk::OpOutcome& outcome) {
  DataTree& tree = *tree_;
  outcome.type = type;
  outcome.err = Code::kOk;
  Status status;
  if (const auto* create = std::get_if<sdk::CreateTxn>(&body)) {
    outcome.path = create->path;
    status = tree.createNode(create->path, view(create->data), create->acl,
                             create->ephemeral ? header.client_id : 0, create->parent_cversion,
                             header.zxid, header.time, &outcome.stat);
  } else if (const auto* container = std::get_if<sdk::CreateContainerTxn>(&body)) {
    outcome.path = container->path;
    status = tree.createNode(container->path, view(container->data), container->acl,
                             sdk::owner::kContainer, container->parent_cversion, header.zxid,
                             header.time, &outcome.stat);
  } else if (const auto* ttl = std::get_if<sdk::CreateTtlTxn>(&body)) {
    outcome.path = ttl->path;
    status = tree.createNode(ttl->path, view(ttl->data), ttl->acl, sdk::owner::ttlOwner(ttl->ttl),
                             ttl->parent_cversion, header.zxid, header.time, &outcome.stat);
  } else if (const auto* remove = std::get_if<sdk::DeleteTxn>(&body)) {
    outcome.path = remove->path;
    status = tree.deleteNode(remove->path, header.zxid);
  } else if (const auto* set = std::get_if<sdk::SetDataTxn>(&body)) {
    outcome.path = set->path;
    auto stat = tree.setData(set->path, view(set->data), set->version, header.zxid, header.time);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* set_acl = std::get_if<sdk::SetAclTxn>(&body)) {
    outcome.path = set_acl->path;
    auto stat = tree.setAcl(set_acl->path, set_acl->acl, set_acl->version);
    if (stat.isOk()) outcome.stat = *stat;
    status = stat.status();
  } else if (const auto* check = std::get_if<sdk::CheckVersionTxn>(&body)) {
    outcome.path = check->path;
  } else if (const auto* error = std::get_if<sdk::ErrorTxn>(&body)) {
    outcome.type = OpCode::kError;
    outcome.err = error->err;
  }
  if (!status.isOk()) outcome.err = status.code();
  return status;
}

Status MemlogStorage::applyLocked(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes, bool replay) {
  outcomes.clear();
  const auto& header = txn.header;
  Status result;
  switch (header.type) {
    case OpCode::kCreateSession:
      if (const auto* create = std::get_if<sdk::CreateSessionTxn>(&txn.body)) {
        sessions_[header.client_id] = create->timeout;
      }
      break;
    case OpCode::kCloseSession: {
      sessions_.erase(header.client_id);
      const auto& close = std::get<sdk::CloseSessionTxn>(txn.body);
      std::vector<std::string> paths = close.no_body ? tree_->ephemerals(header.client_id) : close.paths_to_delete;
      for (const auto& path : paths) {
        auto status = tree_->deleteNode(path, header.zxid);
        if (!status.isOk() && status.code() != Code::kNoNode) result = status;
        outcomes.push_back({OpCode::kDelete, status.code(), path, {}});
      }
      break;
    }
    case OpCode::kMulti: {
      const auto& multi = std::get<sdk::MultiTxn>(txn.body);
      bool failed = false;
      for (const auto& sub : multi.txns) failed = failed || sub.type == OpCode::kError;
      bool past_failure = false;
      for (const auto& sub : multi.txns) {
        sdk::OpOutcome outcome;
        if (failed) {
          // A failed multi changes nothing: each op reports 0 before the failing one,
          // the failing op its code, and the ones after it RuntimeInconsistency.
          sdk::TxnBody body;
          Code code = past_failure ? Code::kRuntimeInconsistency : Code::kOk;
          if (sub.type == OpCode::kError && sdk::decodeSubTxn(sub, body)) {
            code = std::get<sdk::ErrorTxn>(body).err;
            past_failure = true;
          }
          outcomes.push_back({OpCode::kError, code, {}, {}});
          continue;
        }
        sdk::TxnBody body;
        if (!sdk::decodeSubTxn(sub, body)) {
          return Status(Code::kCorruptData, "undecodable op in multi txn");
        }
        auto status = applyOne(sub.type, body, header, outcome);
        if (!status.isOk() && result.isOk()) result = status;
        outcomes.push_back(std::move(outcome));
      }
      break;
    }
    default: {
      sdk::OpOutcome outcome;
      result = applyOne(header.type, txn.body, header, outcome);
      if (replay && header.type == OpCode::kCreate && result.code() == Code::kNodeExists) {
        // DataTree.processTxn: a create that meets an existing node during restore (fuzzy
        // snapshot) still advances the parent's cversion and pzxid.
        const auto& create = std::get<sdk::CreateTxn>(txn.body);
        (void)tree_->setCversionPzxid(sdk::parentOf(create.path), create.parent_cversion, header.zxid);
      }
      outcomes.push_back(std::move(outcome));
      break;
    }
  }
  last_applied_ = header.zxid;
  return result;
}

Status MemlogStorage::apply(const sdk::TxnEntry& txn, std::vector<sdk::OpOutcome>& outcomes) noexcept {
  try {
    std::lock_guard lock(apply_mutex_);
    return applyLocked(txn, outcomes, false);
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

// ---- append: group commit -------------------------------------------------------------------

void MemlogStorage::append(std::span<const sdk::TxnEntry> txns, std::function<void(Status)> done) noexcept {
  if (!settings_.durable) {
    done(Status::ok());
    return;
  }
  Status refused;
  try {
    Pending pending;
    std::string entry;
    for (const auto& txn : txns) {
      entry.clear();
      sdk::JuteWriter w(entry);
      sdk::encode(w, txn);
      formats::appendLogRecord(pending.records, entry);
    }
    pending.first_zxid = txns.empty() ? 0 : txns.front().header.zxid;
    pending.count = static_cast<int64_t>(txns.size());
    pending.done = std::move(done);
    pending.queued_at = Clock::now();
    {
      std::lock_guard lock(queue_mutex_);
      if (!failed_.isOk()) {
        refused = failed_;
      } else if (writer_stopping_ || !writer_.joinable()) {
        refused = Status(Code::kIoError, "txn log writer is not running");
      } else {
        metrics_.request_queued.add(pending.count);
        queue_.push_back(std::move(pending));
        queue_size_hint_.store(queue_.size(), std::memory_order_release);
      }
    }
    if (refused.isOk()) {
      queue_cv_.notify_one();
      return;
    }
    pending.done(refused);
  } catch (const std::exception& error) {
    if (done) done(Status(Code::kInternal, error.what()));
  }
}

// After a batch the next write of a 1-in-flight client arrives a round trip later (~100 us).
// Waiting for it awake, for a bounded time, spares the wake-up of a sleeping thread (tens of
// microseconds on a VM) on every write; a loaded server never gets here with an empty queue.
void MemlogStorage::awaitWorkBriefly() {
  constexpr auto kSpin = std::chrono::microseconds(150);
  const auto until = Clock::now() + kSpin;
  while (Clock::now() < until) {
    if (queue_size_hint_.load(std::memory_order_acquire) > 0) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void MemlogStorage::writerLoop() {
  for (;;) {
    std::vector<Pending> batch;
    awaitWorkBriefly();
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || writer_stopping_; });
      if (queue_.empty()) break;  // stopping and drained
      int64_t waiting = 0;
      for (const auto& pending : queue_) waiting += pending.count;
      metrics_.queue_size.add(waiting);
      int64_t txns = 0;
      while (!queue_.empty() && (batch.empty() || txns + queue_.front().count <= settings_.max_batch)) {
        txns += queue_.front().count;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_size_hint_.store(queue_.size(), std::memory_order_release);
    }
    const auto taken = Clock::now();
    int64_t batch_txns = 0;
    for (const auto& pending : batch) {
      batch_txns += pending.count;
      metrics_.queue_time.add(millisBetween(pending.queued_at, taken));
    }
    metrics_.batch_size.add(batch_txns);
    Status status;
    try {
      status = writeBatch(batch);
    } catch (const std::exception& error) {
      status = Status(Code::kIoError, error.what());
    }
    const auto durable = Clock::now();
    metrics_.flush_time.add(millisBetween(taken, durable));
    metrics_.process_time.add(millisBetween(taken, durable));
    for (const auto& pending : batch) metrics_.queue_and_flush_time.add(millisBetween(pending.queued_at, durable));
    if (!status.isOk()) {
      host_.logger().error("txn log write failed: {}; refusing further writes", status.toString());
    }
    for (auto& pending : batch) pending.done(status);
    if (!status.isOk()) {
      std::deque<Pending> rest;
      {
        std::lock_guard lock(queue_mutex_);
        failed_ = status;
        rest.swap(queue_);
      }
      for (auto& pending : rest) pending.done(status);
    }
  }
}

Status MemlogStorage::rollTo(sdk::Zxid first_zxid) {
  if (log_.isOpen()) {
    if (settings_.force_sync) {
      if (auto st = log_.sync(); !st.isOk()) return st;
    }
    log_.close();
  }
  roll_pending_ = false;
  return log_.open(settings_.logDir(), first_zxid, settings_.prealloc_kb * 1024);
}

bool MemlogStorage::shouldSnapshot() const {
  const int64_t snap_bytes = settings_.snap_size_limit_kb * 1024;
  return log_count_ > settings_.snap_count / 2 + rand_roll_ ||
         (snap_bytes > 0 && log_bytes_ > snap_bytes / 2 + rand_size_);
}

void MemlogStorage::resetSnapshotStats() {
  const int64_t half = std::max<int64_t>(settings_.snap_count / 2, 1);
  rand_roll_ = static_cast<int64_t>(rng_() % static_cast<uint64_t>(half));
  const int64_t half_bytes = settings_.snap_size_limit_kb * 1024 / 2;
  rand_size_ = half_bytes > 0 ? static_cast<int64_t>(rng_() % static_cast<uint64_t>(half_bytes)) : 0;
}

Status MemlogStorage::writeBatch(std::vector<Pending>& batch) {
  std::string buffer;
  auto flush = [&]() -> Status {
    if (buffer.empty()) return Status::ok();
    auto st = log_.write(buffer);
    buffer.clear();
    return st;
  };
  const int64_t size_limit = settings_.txn_log_size_limit_kb * 1024;
  for (auto& pending : batch) {
    const bool too_big = size_limit > 0 && log_.isOpen() &&
                         log_.position() + static_cast<int64_t>(buffer.size()) > size_limit;
    if (!log_.isOpen() || roll_pending_ || too_big) {
      if (auto st = flush(); !st.isOk()) return st;
      if (auto st = rollTo(pending.first_zxid); !st.isOk()) return st;
    }
    buffer += pending.records;
    log_count_ += pending.count;
    log_bytes_ += static_cast<int64_t>(pending.records.size());
    if (shouldSnapshot()) {
      // SyncRequestProcessor: reset the stats, roll the log, snapshot in the background.
      resetSnapshotStats();
      log_count_ = 0;
      log_bytes_ = 0;
      roll_pending_ = true;
      bool busy = false;
      {
        std::lock_guard lock(snap_mutex_);
        busy = snap_running_ || snap_requested_;
        if (!busy) snap_requested_ = true;
      }
      if (busy) {
        host_.logger().warn("Too busy to snap, skipping");
      } else {
        snap_cv_.notify_one();
      }
    }
  }
  if (auto st = flush(); !st.isOk()) return st;
  if (settings_.force_sync) {
    const auto start = Clock::now();
    if (auto st = log_.sync(); !st.isOk()) return st;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    metrics_.fsync_count.add();
    metrics_.fsync_time.add(us / 1000);
    if (us / 1000 > settings_.fsync_warn_ms) {
      host_.logger().warn("fsync-ing the write ahead log in SyncThread took {}ms which will adversely "
                          "effect operation latency. File size is {} bytes. See the ZooKeeper "
                          "troubleshooting guide", us / 1000, log_.fileSize());
    }
  }
  return Status::ok();
}

// ---- snapshots ------------------------------------------------------------------------------

sdk::Result<std::filesystem::path> MemlogStorage::snapshotNow() {
  std::lock_guard one_at_a_time(snapshot_write_mutex_);
  const auto start = Clock::now();
  formats::SnapshotBody body;
  {
    // path + data + 76 bytes of record per node, with 5% to spare.
    const double estimate = static_cast<double>(tree_->approximateDataSize()) +
                            static_cast<double>(tree_->nodeCount()) * 80.0;
    body.prepare(static_cast<size_t>(estimate * 1.05) + 4096);
  }
  const auto locked_at = Clock::now();
  sdk::Zxid zxid = 0;
  int64_t digest = 0;
  {
    std::lock_guard lock(apply_mutex_);
    zxid = last_applied_.load();
    digest = tree_->digest();
    body.sessions(sessions_);
    body.beginAcls();
    tree_->visitSnapshot([&](int64_t key, const sdk::AclList& acl) { body.acl(key, acl); },
                         [&](const NodeRecord& node) { body.node(node.path, node.data, node.acl_key, node.stat); });
    body.end();
  }
  const double copy_s = secondsSince(locked_at);
  std::optional<std::pair<sdk::Zxid, int64_t>> zxid_digest;
  if (settings_.digest_enabled) {
    // A tree never advanced by a txn is written as {0, 2, 0}, like ZooKeeper's empty ZxidDigest.
    zxid_digest = zxid == 0 ? std::make_pair<sdk::Zxid, int64_t>(0, 0) : std::make_pair(zxid, digest);
  }
  body.seal(zxid_digest);
  const auto file = settings_.snapDir() / formats::snapshotFileName(zxid, settings_.compression);
  auto written = formats::writeSnapshotFile(body, file, settings_.compression, settings_.force_sync);
  if (!written.isOk()) {
    host_.logger().error("snapshot {} failed: {}", file.string(), written.status().toString());
    return written.status();
  }
  const double total_s = secondsSince(start);
  last_snapshot_zxid_ = zxid;
  last_snapshot_time_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
  metrics_.snapshot_count.add();
  metrics_.snapshot_time.add(static_cast<int64_t>(total_s * 1000));
  host_.logger().info("Snapshot {} written: {} nodes, {} ({} on disk) in {:.3f} s (tree copied in {:.3f} s "
                      "while writes waited)",
                      file.string(), body.nodeCount(), mib(static_cast<double>(body.size())),
                      mib(static_cast<double>(*written)), total_s, copy_s);
  return file;
}

sdk::Result<PurgeResult> MemlogStorage::purgeNow(int64_t retain) {
  auto result = purge(settings_.snapDir(), settings_.logDir(), static_cast<int>(std::min<int64_t>(retain, INT32_MAX)));
  if (result.isOk()) {
    host_.logger().info("purge: kept {} snapshots, removed {} files", result->kept_snapshots.size(),
                        result->removed.size());
  }
  return result;
}

void MemlogStorage::snapshotLoop() {
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

// ---- recovery -------------------------------------------------------------------------------

Status MemlogStorage::loadSnapshot(const formats::DataFile& file, formats::SnapshotInfo& info) {
  auto& log = host_.logger();
  const auto start = Clock::now();
  auto bytes = formats::loadSnapshotBytes(file.path);
  if (!bytes.isOk()) return bytes.status();
  auto digest = std::async(std::launch::async, sumSnapshotDigest, bytes->view(), settings_.digest_enabled);
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
  };
  info = formats::SnapshotInfo{};
  const Status parsed = formats::parseSnapshot(bytes->view(), settings_.digest_enabled, visitor, info);
  const SnapshotDigest summed = digest.get();  // joined before `bytes` is unmapped
  if (!parsed.isOk()) return parsed;
  if (!summed.status.isOk()) return summed.status;
  if (auto st = tree_->finishLoad(summed.digest); !st.isOk()) return st;
  log.info("loaded snapshot {}: {} nodes, {} sessions, {} in {:.3f} s", file.path.string(), info.nodes,
           info.sessions, mib(static_cast<double>(bytes->size())), secondsSince(start));
  return Status::ok();
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
    if (auto st = loadSnapshot(*it, info); !st.isOk()) {
      log.error("problem reading snapshot {}: {}; trying an older one", it->path.string(), st.message());
      continue;
    }
    loaded = true;
    snap_zxid = it->zxid;
    loaded_file = *it;
    break;
  }
  if (!loaded) {
    tree_ = std::make_unique<DataTree>();
    if (!settings_.digest_enabled) tree_->setDigestEnabled(false);
    sessions_.clear();
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
      auto st = applyLocked(txn, outcomes, true);
      if (!st.isOk() && st.code() != Code::kNoNode && st.code() != Code::kNodeExists) {
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
  report_.replayed = replayed;
  report_.log_files = static_cast<int64_t>(files.size());
  report_.digest_checks = digest_checks;
  report_.digest_mismatches = digest_mismatches;
  recovered_ = true;
  return Status::ok();
}

}  // namespace corral::plugins::memlog
