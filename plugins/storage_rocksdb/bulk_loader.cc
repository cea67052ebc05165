#include "bulk_loader.h"

#include <fmt/format.h>

#include "corral/jute.h"
#include "corral/records.h"
#include "tree_ops.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

Status BulkLoader::put(Cf cf, std::string_view key, std::string_view value) {
  if (auto st = batch_.Put(store_.cf(cf), rocksdb::Slice(key.data(), key.size()), rocksdb::Slice(value.data(), value.size()));
      !st.ok()) {
    return toStatus(st, what_);
  }
  if (batch_.GetDataSize() >= (4u << 20)) return flushBatch();
  return Status::ok();
}

Status BulkLoader::flushBatch() {
  if (batch_.Count() == 0) return Status::ok();
  rocksdb::WriteOptions options;
  options.disableWAL = true;  // made durable by the caller's flush at the end
  auto status = store_.db().Write(options, &batch_);
  batch_.Clear();
  return toStatus(status, what_);
}

Status BulkLoader::session(sdk::SessionId id, int32_t timeout) {
  sessions_[id] = timeout;
  std::string value;
  putBe32(value, static_cast<uint32_t>(timeout));
  return put(Cf::kSessions, be64Key(static_cast<uint64_t>(id)), value);
}

Status BulkLoader::acl(int64_t key, const sdk::AclList& acl) {
  acls_.load(key, acl);
  std::string bytes;
  sdk::JuteWriter w(bytes);
  sdk::encode(w, acl);
  return put(Cf::kAcls, be64Key(static_cast<uint64_t>(key)), bytes);
}

Status BulkLoader::node(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                        const sdk::StatPersisted& stat) {
  const std::string_view node_path = path.empty() ? std::string_view("/") : path;
  if (node_path != "/" && (node_path.front() != '/' || node_path.back() == '/')) {
    return Status(Code::kCorruptData, fmt::format("{}: invalid node path '{}'", what_, path));
  }
  NodeValue value;
  value.stat = stat;
  value.acl_key = acl_key;
  if (acl_key != AclTable::kOpenAclUnsafeKey && acls_.find(acl_key) == nullptr) {
    // A fuzzy snapshot may name an ACL key its map does not list yet; the create's replay sets
    // the real list (TreeOps::restorePlaceholderAcl).
    if (!placeholder_key_) {
      bool is_new = false;
      placeholder_key_ = acls_.stage(TreeOps::placeholderAcl(), is_new);
      acls_.commitStaged();
      if (is_new) {
        if (auto st = acl(*placeholder_key_, TreeOps::placeholderAcl()); !st.isOk()) return st;
      }
    }
    value.acl_key = *placeholder_key_;
    ++unknown_acl_nodes_;
  }
  value.assignData(data);
  if (auto st = put(Cf::kNodes, nodeKey(node_path), encodeNode(value)); !st.isOk()) return st;
  if (stat.ephemeral_owner != 0) {
    if (auto st = put(Cf::kEphemerals, ephemeralKey(stat.ephemeral_owner, node_path), ""); !st.isOk()) return st;
    if (isSessionOwner(stat.ephemeral_owner)) ++counters_.ephemerals;
  }
  if (node_path != "/") {
    const size_t slash = node_path.rfind('/');
    ++child_counts_[std::string(slash == 0 ? std::string_view("/") : node_path.substr(0, slash))];
  }
  ++counters_.nodes;
  counters_.data_size += nodeSize(node_path, value.data_length);
  if (counters_.nodes >= next_progress_) {
    logger_.info("{}: {} nodes", what_, counters_.nodes);
    next_progress_ += 1000000;
  }
  return Status::ok();
}

Status BulkLoader::logEntry(sdk::Zxid zxid, std::string_view encoded) {
  ++log_entries_;
  return put(Cf::kLog, be64Key(static_cast<uint64_t>(zxid)), encoded);
}

Status BulkLoader::finish() {
  if (auto st = flushBatch(); !st.isOk()) return st;
  for (const auto& [parent, count] : child_counts_) {
    std::string bytes;
    auto status = store_.db().Get(rocksdb::ReadOptions(), store_.cf(Cf::kNodes), nodeKey(parent), &bytes);
    if (status.IsNotFound()) {
      return Status(Code::kCorruptData, fmt::format("{}: invalid tree: node {} has children but is not in the snapshot",
                                                    what_, parent));
    }
    if (!status.ok()) return toStatus(status, what_);
    NodeValue value;
    if (!decodeNode(bytes, value)) return Status(Code::kCorruptData, what_ + ": undecodable node record");
    value.num_children = count;
    if (auto st = put(Cf::kNodes, nodeKey(parent), encodeNode(value)); !st.isOk()) return st;
  }
  child_counts_.clear();
  if (unknown_acl_nodes_ > 0) {
    logger_.info("{}: {} nodes name an ACL key the snapshot's map lacks (fuzzy snapshot)", what_,
                 unknown_acl_nodes_);
  }
  return flushBatch();
}

}  // namespace corral::plugins::rocks
