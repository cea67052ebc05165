// ZooKeeper 3.8's snapshot format (disk-formats.md §5-§8): parsing a whole snapshot file held in
// memory (FileHeader, body, seals, ZxidDigest). Writing and streaming: snapshot_stream.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corral/formats/data_files.h"
#include "corral/status.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::formats {

namespace fs = std::filesystem;

// ---- snapshots --------------------------------------------------------------------------------

struct SnapshotVisitor {
  std::function<void(sdk::SessionId, int32_t)> on_session;
  std::function<sdk::Status(int64_t key, sdk::AclList acl)> on_acl;
  std::function<sdk::Status(std::string_view path, std::optional<std::string_view> data,
                            int64_t acl_key, const sdk::StatPersisted& stat)>
      on_node;
  // Called now and then with (bytes consumed, total bytes).
  std::function<void(uint64_t, uint64_t)> on_progress;
};

struct SnapshotInfo {
  sdk::FileHeader header;
  int64_t sessions = 0;
  int64_t acls = 0;
  int64_t nodes = 0;
  bool has_digest = false;
  sdk::Zxid digest_zxid = 0;
  int32_t digest_version = 0;
  int64_t digest = 0;
};

// Parses an uncompressed snapshot stream (FileSnap.deserialize + both seals). `read_digest`
// mirrors zookeeper.digest.enabled (when false the ZxidDigest section is not read). A decode
// error or a checksum mismatch is kCorruptData naming the offset.
// kSkip leaves the Adler32 seals unchecked, for a caller that verifies them on another thread.
enum class Checksums { kVerify, kSkip };
sdk::Status parseSnapshot(std::string_view bytes, bool read_digest, const SnapshotVisitor& visitor,
                          SnapshotInfo& info, Checksums checksums = Checksums::kVerify);

// SnapStream.isValidSnapshot: plain files end with int 1 + "/", gz files start with 1f 8b,
// snappy files with snappy-java's magic.
bool looksLikeValidSnapshot(const fs::path& file);

}  // namespace corral::formats
