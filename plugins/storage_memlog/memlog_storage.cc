#include "memlog_storage.h"

#include <algorithm>

#include <fmt/format.h>

#include "corral/admin.h"
#include "corral/formats/file_bytes.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::Status;

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
    // Durably: a version-2/ that a power cut takes away would take every file in it along.
    for (const auto& dir : {settings_.snapDir(), settings_.logDir()}) {
      if (auto made = formats::createDirectoriesDurably(dir); !made.isOk()) return made;
    }
    {
      std::lock_guard lock(snap_mutex_);
      snap_stopping_ = false;
    }
    startWriter();
    snapshotter_ = std::thread([this] { snapshotLoop(); });
    return Status::ok();
  } catch (const std::exception& error) {
    return Status(Code::kInternal, error.what());
  }
}

void MemlogStorage::stop() noexcept {
  stopWriter();
  {
    std::lock_guard lock(snap_mutex_);
    snap_stopping_ = true;
  }
  snap_cv_.notify_all();
  if (snapshotter_.joinable()) snapshotter_.join();
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

Code MemlogStorage::read(std::string_view path, uint32_t fields, sdk::NodeRead& out) const noexcept {
  // The tree is in memory: a read fails only when it is absent, or when memory runs out while
  // copying it out (not an absent node: the kernel answers with a system error).
  try {
    auto node = tree_->getNode(path);
    if (!node.isOk()) return node.status().code();
    out.stat = node->stat;
    out.stored_cversion = node->persisted.cversion;
    out.raw_owner = node->persisted.ephemeral_owner;
    if (fields & sdk::NodeRead::kAcl) out.acl = node->acl ? *node->acl : sdk::AclList{};
    if (fields & sdk::NodeRead::kData) {
      auto data = tree_->getData(path);
      if (!data.isOk()) return data.status().code();
      out.data = std::move(data->data);
      out.stat = data->stat;
    }
    if (fields & sdk::NodeRead::kChildren) {
      auto children = tree_->getChildren(path);
      if (!children.isOk()) return children.status().code();
      out.children = std::move(children->names);
      out.stat = children->stat;
    }
    return Code::kOk;
  } catch (...) {
    return Code::kSystemError;
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

}  // namespace corral::plugins::memlog
