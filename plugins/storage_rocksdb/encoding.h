// storage.rocksdb's on-disk encoding: the keys of each column family and the values it stores.
//
// Keys
// - nodes:      be32(depth) + path, depth = number of '/' ("/" is depth 0). The children of a
//               node are then one contiguous key range (be32(depth + 1) + path + "/"), and a
//               scan in key order meets every parent before its children (what a ZooKeeper
//               snapshot needs), without any index beside the nodes themselves.
// - ephemerals: be64(owner) + path -> "" (sessions, containers and TTL nodes by owner).
// - sessions:   be64(session id) -> be32(timeout ms).
// - acls:       be64(ACL key) -> the jute-encoded ACL list (ZooKeeper's ACL map).
// - log:        be64(zxid) -> the jute-encoded txn (header + body), as in a ZooKeeper txn log.
// - undo:       be64(zxid) -> what that txn's apply overwrote (UndoRecord), so a TRUNC can
//               return the tree to an earlier zxid without a snapshot.
// - default:    meta keys (kMetaApplied, kMetaLogBase, kMetaLoading, kMetaFormat).
// Values are little-endian, versioned by their first byte.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/types.h"

namespace corral::plugins::rocks {

// Column families, in the order the store opens them (index = handle index).
enum class Cf : uint8_t { kMeta = 0, kNodes, kEphemerals, kSessions, kAcls, kLog, kUndo, kCount };
const char* cfName(Cf cf);

inline constexpr std::string_view kMetaApplied = "applied";
inline constexpr std::string_view kMetaLogBase = "log_base";
inline constexpr std::string_view kMetaUndoFloor = "undo_floor";
inline constexpr std::string_view kMetaLogCount = "log_count";    // entries in the log column family
inline constexpr std::string_view kMetaUndoCount = "undo_count";  // entries in the undo column family
inline constexpr std::string_view kMetaLoading = "loading";
inline constexpr std::string_view kMetaFormat = "format";
inline constexpr std::string_view kFormatVersion = "corral-rocksdb-1";
// Above every key this plugin writes (for DeleteRange over a whole column family).
std::string endOfKeys();

void putBe32(std::string& out, uint32_t v);
void putBe64(std::string& out, uint64_t v);
uint32_t getBe32(const char* p);
uint64_t getBe64(const char* p);
std::string be64Key(uint64_t v);

// ---- node keys ------------------------------------------------------------------------------
uint32_t depthOf(std::string_view path);
std::string nodeKey(std::string_view path);
// The key prefix shared by exactly the children of `parent`.
std::string childPrefix(std::string_view parent);
// The path a node key names ("/" for the root).
std::string_view pathOfNodeKey(std::string_view key);
std::string ephemeralKey(int64_t owner, std::string_view path);

// Java's String.length() of a UTF-8 path (ZooKeeper's approximateDataSize counts it).
int64_t javaLength(std::string_view s);
// ZooKeeper's getNodeSize: the root counts as "/" (1).
inline int64_t nodeSize(std::string_view path, size_t data_size) {
  return (path == "/" ? 1 : javaLength(path)) + static_cast<int64_t>(data_size);
}

// ---- node values ----------------------------------------------------------------------------
struct NodeValue {
  sdk::StatPersisted stat;
  int64_t acl_key = -1;
  int32_t num_children = 0;
  std::optional<std::string> data;  // left empty by decodeNode(with_data = false)
  int32_t data_length = 0;          // always set; use assignData() to change the data
  void assignData(std::optional<std::string_view> bytes) {
    data = bytes ? std::optional<std::string>(*bytes) : std::nullopt;
    data_length = bytes ? static_cast<int32_t>(bytes->size()) : 0;
  }
};
std::string encodeNode(const NodeValue& node);
// false when the bytes are not a node value of this format.
bool decodeNode(std::string_view bytes, NodeValue& out, bool with_data = true);
// The Stat a client sees (DataNode.copyStat).
sdk::Stat exposedStat(const NodeValue& node);

// ---- the applied zxid and the tree's counters (kMetaApplied) ---------------------------------
struct TreeCounters {
  int64_t nodes = 0;
  int64_t ephemerals = 0;
  int64_t data_size = 0;
  friend bool operator==(const TreeCounters&, const TreeCounters&) = default;
};
std::string encodeApplied(sdk::Zxid zxid, const TreeCounters& counters);
bool decodeApplied(std::string_view bytes, sdk::Zxid& zxid, TreeCounters& counters);

// ---- undo records ---------------------------------------------------------------------------
struct UndoEntry {
  Cf cf = Cf::kNodes;
  std::string key;
  std::optional<std::string> old_value;  // nullopt: the key did not exist
};
struct UndoRecord {
  TreeCounters counters;  // before the txn
  std::vector<UndoEntry> entries;
};
std::string encodeUndo(const UndoRecord& record);
bool decodeUndo(std::string_view bytes, UndoRecord& out);

}  // namespace corral::plugins::rocks
