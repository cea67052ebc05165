#include "snapshot_out.h"

#include <map>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/iterator.h>

#include "corral/formats/digest.h"
#include "corral/jute.h"
#include "corral/records.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

sdk::Result<StreamedState> streamState(RocksStore& store, const rocksdb::Snapshot* snapshot,
                                       const formats::ByteSink& sink) {
  auto& db = store.db();
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  options.fill_cache = false;  // a whole-tree scan must not evict what clients read
  options.readahead_size = 2 << 20;
  StreamedState state;

  std::string applied_bytes;
  TreeCounters counters;
  if (auto status = db.Get(options, store.cf(Cf::kMeta), kMetaApplied, &applied_bytes); !status.ok()) {
    return toStatus(status, "snapshot: reading the applied zxid");
  }
  if (!decodeApplied(applied_bytes, state.zxid, counters)) return Status(Code::kCorruptData, "snapshot: bad applied record");

  formats::SnapshotBodyEncoder encoder(sink);
  std::map<sdk::SessionId, int32_t> sessions;
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store.cf(Cf::kSessions)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8 || it->value().size() != 4) return Status(Code::kCorruptData, "snapshot: bad session record");
      sessions[static_cast<sdk::SessionId>(getBe64(it->key().data()))] = static_cast<int32_t>(getBe32(it->value().data()));
    }
    if (!it->status().ok()) return toStatus(it->status(), "snapshot: reading sessions");
  }
  encoder.sessions(sessions);
  {
    std::vector<std::pair<int64_t, sdk::AclList>> acls;
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store.cf(Cf::kAcls)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      sdk::AclList list;
      sdk::JuteReader r(std::string_view(it->value().data(), it->value().size()));
      if (it->key().size() != 8 || !sdk::decode(r, list)) return Status(Code::kCorruptData, "snapshot: bad ACL record");
      acls.emplace_back(static_cast<int64_t>(getBe64(it->key().data())), std::move(list));
    }
    if (!it->status().ok()) return toStatus(it->status(), "snapshot: reading ACLs");
    encoder.aclCount(static_cast<int32_t>(acls.size()));
    for (const auto& [key, list] : acls) encoder.acl(key, list);
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(options, store.cf(Cf::kNodes)));
    NodeValue node;
    uint64_t digest = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key(it->key().data(), it->key().size());
      if (!decodeNode(std::string_view(it->value().data(), it->value().size()), node)) {
        return Status(Code::kCorruptData, fmt::format("snapshot: undecodable node record {}", pathOfNodeKey(key)));
      }
      const std::string_view path = pathOfNodeKey(key) == "/" ? std::string_view() : pathOfNodeKey(key);
      const std::optional<std::string_view> data = node.data ? std::optional<std::string_view>(*node.data) : std::nullopt;
      encoder.node(path, data, node.acl_key, node.stat);
      digest += formats::znodeDigest(path, data.value_or(std::string_view()), node.stat);
      if (encoder.wantsFlush()) (void)encoder.flush();
      if (!encoder.status().isOk()) return encoder.status();
    }
    if (!it->status().ok()) return toStatus(it->status(), "snapshot: reading nodes");
    state.digest = static_cast<int64_t>(digest);
  }
  encoder.endOfNodes();
  if (auto status = encoder.flush(); !status.isOk()) return status;
  state.nodes = encoder.nodes();
  state.bytes = encoder.bytes();
  return state;
}

}  // namespace corral::plugins::rocks
