#include "rocksdb_storage.h"

#include <set>

#include <fmt/format.h>

#include <rocksdb/iterator.h>

#include "rocks_logger.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

// ---- life cycle -----------------------------------------------------------------------------

RocksdbStorage::RocksdbStorage(sdk::Host& host, RocksSettings settings)
    : host_(host), settings_(std::move(settings)), node_cache_(settings_.nodeCacheBytes()), metrics_(host.metrics()) {}

RocksdbStorage::~RocksdbStorage() { stop(); }

Status RocksdbStorage::start() noexcept {
  try {
    std::error_code ec;
    if (!std::filesystem::exists(settings_.data_dir, ec) && !settings_.autocreate) {
      return Status(Code::kIoError, fmt::format("data directory {} does not exist and datadir.autocreate is false",
                                                settings_.data_dir.string()));
    }
    auto store = RocksStore::open(settings_, created_, RocksStore::Mode::kReadWrite,
                                  std::make_shared<RocksLogger>(host_.logger()));
    if (!store.isOk()) return store.status();
    store_ = std::move(*store);
    metrics_.attach(store_.get());
    std::vector<std::filesystem::path> dirs{settings_.dbDir()};
    if (!settings_.walDir().empty()) dirs.push_back(settings_.walDir());
    disk_ = std::make_unique<DiskGuard>(std::move(dirs), settings_.min_free_disk_mb, host_.logger());
    disk_->check();
    {
      std::lock_guard lock(queue_mutex_);
      writer_stopping_ = false;
    }
    writer_ = std::thread([this] { writerLoop(); });
    stopping_ = false;
    apply_writer_ = std::make_unique<ApplyWriter>(
        [this](rocksdb::WriteBatch& batch) { return writeApplied(batch); },
        [this](int64_t txns) { afterAppliedWrite(txns); },
        [this](rocksdb::WriteBatch& batch, const std::string& record) {
          (void)batch.Put(store_->cf(Cf::kMeta), kMetaApplied, record);
        });
    apply_writer_->start();
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

void RocksdbStorage::stop() noexcept {
  {
    std::lock_guard lock(queue_mutex_);
    writer_stopping_ = true;
  }
  stopping_ = true;  // writes stalled by RocksDB (a flush that cannot run) give up
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (apply_writer_) apply_writer_->stop();
  metrics_.attach(nullptr);
  if (store_) {
    // Memtables to SST files: the next start opens them instead of reading the WAL back.
    if (auto status = store_->flushAll(); !status.isOk()) host_.logger().warn("flush at stop: {}", status.toString());
  }
  store_.reset();
}

Status RocksdbStorage::writable() const noexcept {
  return disk_ ? disk_->writable() : Status::ok();
}

// ---- reads ----------------------------------------------------------------------------------

Code RocksdbStorage::read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept {
  try {
    if (!store_) return Code::kSystemError;
    auto& db = store_->db();
    // A listing scans the database: the txns applied so far must be in it. When the apply
    // writer is held up (a full disk), the listing merges its pending changes instead.
    const bool listing = (fields & sdk::NodeRead::kChildren) != 0;
    const bool merge_pending = listing && apply_writer_ && !apply_writer_->drainFor(kListingDrainWait);
    rocksdb::ReadOptions options;
    // The node and its children from one point in time: never a count that the list disagrees with.
    std::optional<ScopedSnapshot> snapshot;
    if (listing && !merge_pending) options.snapshot = snapshot.emplace(db).get();
    const std::string key = nodeKey(path);
    NodeCache::Value cached;
    NodeCache::Miss miss;
    // A listing comes from the snapshot with its node; other reads may come from the cache.
    if (!snapshot) cached = node_cache_.find(key, miss);
    rocksdb::PinnableSlice bytes;
    if (!cached && !snapshot && apply_writer_) {
      // Applied, not yet written by the apply writer.
      if (auto pending = apply_writer_->pending(Cf::kNodes, key)) {
        if (!*pending) return Code::kNoNode;
        cached = std::make_shared<const std::string>(std::move(**pending));
      }
    }
    if (!cached) {
      auto status = db.Get(options, store_->cf(Cf::kNodes), key, &bytes);
      if (status.IsNotFound()) return Code::kNoNode;
      if (!status.ok()) {
        host_.logger().error("reading {}: {}", path, status.ToString());
        return status.IsCorruption() ? Code::kCorruptData : Code::kIoError;
      }
      if (!snapshot) node_cache_.fill(key, bytes.ToString(), miss);
    }
    const std::string_view record = cached ? std::string_view(*cached) : std::string_view(bytes.data(), bytes.size());
    NodeValue node;
    if (!decodeNode(record, node, (fields & sdk::NodeRead::kData) != 0)) {
      host_.logger().error("the record of {} does not decode", path);
      return Code::kCorruptData;
    }
    out.stat = exposedStat(node);
    out.stored_cversion = node.stat.cversion;
    out.raw_owner = node.stat.ephemeral_owner;
    if (fields & sdk::NodeRead::kData) out.data = std::move(node.data);
    if (fields & sdk::NodeRead::kAcl) {
      auto acl = acls_.find(node.acl_key);
      out.acl = acl ? *acl : sdk::AclList{};
    }
    if (fields & sdk::NodeRead::kChildren) {
      out.children.clear();
      out.children.reserve(static_cast<size_t>(std::max(node.num_children, 0)));
      const std::string prefix = childPrefix(path);
      std::string upper = prefix;
      upper.back() = static_cast<char>('/' + 1);
      rocksdb::Slice upper_slice(upper);
      options.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store_->cf(Cf::kNodes)));
      for (it->Seek(prefix); it->Valid(); it->Next()) {
        const auto key = it->key();
        out.children.emplace_back(key.data() + prefix.size(), key.size() - prefix.size());
      }
      if (!it->status().ok()) return it->status().IsCorruption() ? Code::kCorruptData : Code::kIoError;
      if (merge_pending) mergePendingChildren(prefix, out.children);
    }
    return Code::kOk;
  } catch (...) {
    return Code::kSystemError;
  }
}

int64_t RocksdbStorage::countDescendants(std::string_view path) const noexcept {
  try {
    sdk::NodeRead node;
    if (read(path, 0, node) != Code::kOk) return -1;
    // ZooKeeper: "/" -> every node but the root; "" -> every key starting with "/", which
    // includes the root's "/" alias.
    if (path == "/") return node_count_.load() - 1;
    if (path.empty()) return node_count_.load();
    if (node.stat.num_children == 0) return 0;
    if (!drainApplied().isOk()) return -1;
    // Descendants live one key range per depth below the node: walk the depths until one is empty.
    auto& db = store_->db();
    rocksdb::ReadOptions options;
    ScopedSnapshot snapshot(db);
    options.snapshot = snapshot.get();
    options.fill_cache = false;
    int64_t count = 0;
    for (uint32_t depth = depthOf(path) + 1;; ++depth) {
      std::string prefix;
      putBe32(prefix, depth);
      prefix.append(path);
      prefix.push_back('/');
      std::string upper = prefix;
      upper.back() = static_cast<char>('/' + 1);
      rocksdb::Slice upper_slice(upper);
      options.iterate_upper_bound = &upper_slice;
      std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store_->cf(Cf::kNodes)));
      int64_t at_depth = 0;
      for (it->Seek(prefix); it->Valid(); it->Next()) ++at_depth;
      if (at_depth == 0) break;
      count += at_depth;
    }
    return count;
  } catch (...) {
    return -1;
  }
}

std::vector<std::string> RocksdbStorage::ephemeralsOf(sdk::SessionId session) const {
  std::vector<std::string> paths;
  if (!store_) return paths;
  if (auto drained = drainApplied(); !drained.isOk()) {
    host_.logger().error("listing the ephemerals of session {:#x}: {}", session, drained.toString());
    return paths;
  }
  const std::string prefix = be64Key(static_cast<uint64_t>(session));
  std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kEphemerals)));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    paths.emplace_back(it->key().data() + 8, it->key().size() - 8);
  }
  return paths;
}

std::vector<sdk::ReapCandidate> RocksdbStorage::reapCandidates() const {
  std::vector<sdk::ReapCandidate> candidates;
  if (!store_) return candidates;
  if (!drainApplied().isOk()) return candidates;
  std::unique_ptr<rocksdb::Iterator> it(store_->db().NewIterator(rocksdb::ReadOptions(), store_->cf(Cf::kEphemerals)));
  auto visit = [&](const std::string& from, auto keep) {
    for (it->Seek(from); it->Valid(); it->Next()) {
      const int64_t owner = static_cast<int64_t>(getBe64(it->key().data()));
      if (!keep(owner)) break;
      std::string path(it->key().data() + 8, it->key().size() - 8);
      sdk::NodeRead node;
      if (read(path, 0, node) != Code::kOk) continue;
      candidates.push_back({std::move(path), owner, node.stored_cversion, node.stat.num_children, node.stat.mtime});
    }
  };
  visit(be64Key(static_cast<uint64_t>(sdk::owner::kContainer)), [](int64_t owner) { return sdk::owner::isContainer(owner); });
  visit(be64Key(static_cast<uint64_t>(sdk::owner::kTtlMask)), [](int64_t owner) { return sdk::owner::isTtl(owner); });
  return candidates;
}

void RocksdbStorage::mergePendingChildren(const std::string& prefix, std::vector<std::string>& children) const {
  std::set<std::string> names(children.begin(), children.end());
  apply_writer_->visitPending(Cf::kNodes, prefix, [&](std::string_view key, const std::optional<std::string>& value) {
    std::string name(key.substr(prefix.size()));
    if (value) names.insert(std::move(name));
    else names.erase(name);
  });
  children.assign(names.begin(), names.end());
}

Status RocksdbStorage::drainApplied() const {
  return apply_writer_ ? apply_writer_->drain() : Status::ok();
}

sdk::TreeStats RocksdbStorage::stats() const noexcept {
  sdk::TreeStats stats;
  stats.node_count = node_count_.load();
  stats.ephemeral_count = ephemeral_count_.load();
  stats.approximate_data_size = data_size_.load();
  stats.last_applied_zxid = last_applied_.load();
  stats.last_snapshot_zxid = last_snapshot_zxid_.load();
  stats.last_snapshot_time_ms = last_snapshot_time_ms_.load();
  return stats;
}

std::vector<sdk::RecoveredSession> RocksdbStorage::sessions() const {
  std::lock_guard lock(sessions_mutex_);
  std::vector<sdk::RecoveredSession> out;
  out.reserve(sessions_.size());
  for (const auto& [id, timeout] : sessions_) out.push_back({id, timeout});
  return out;
}

}  // namespace corral::plugins::rocks
