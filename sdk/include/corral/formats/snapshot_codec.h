// ZooKeeper 3.8's snapshot format (disk-formats.md §5-§8): the body (sessions, ACL map, nodes),
// its seals (Adler32 + "/") and the ZxidDigest section; encoding into memory and parsing.
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

// A fixed-capacity byte buffer in its own anonymous mapping. Snapshot bodies are ~200 MB at 1M
// znodes and live for a second or two: mapped directly, they are faulted in with one call and
// go back to the OS the moment they are unmapped, instead of lingering in the allocator as
// dirty pages that count in RSS until it decays them. Move-only; throws std::bad_alloc.
class MappedChunk {
 public:
  MappedChunk() = default;
  explicit MappedChunk(size_t capacity);
  MappedChunk(MappedChunk&& other) noexcept;
  MappedChunk& operator=(MappedChunk&& other) noexcept;
  MappedChunk(const MappedChunk&) = delete;
  MappedChunk& operator=(const MappedChunk&) = delete;
  ~MappedChunk();

  // Faults every page in now (huge pages where the kernel allows them).
  void populate();
  // Caller checks room() first.
  void append(std::string_view bytes);
  char* data() { return data_; }
  size_t size() const { return size_; }
  size_t room() const { return capacity_ - size_; }
  std::string_view view() const { return {data_, size_}; }

 private:
  void release();
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

// The serialized (uncompressed) body of a snapshot: FileHeader .. end-of-nodes marker "/".
// Chunked so that a big tree is copied once, without reallocation, while the tree is locked.
class SnapshotBody {
 public:
  SnapshotBody();
  // Maps and faults in room for about `expected_bytes`, before the tree is locked.
  void prepare(size_t expected_bytes);
  // FileHeader + session table; then beginAcls(), acl()*, nodes, end().
  void sessions(const std::map<sdk::SessionId, int32_t>& sessions);
  void beginAcls();
  void acl(int64_t key, const sdk::AclList& acl);
  void node(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
            const sdk::StatPersisted& stat);
  void end();

  size_t size() const { return size_; }
  // The body's bytes in order, the trailer last once sealed.
  std::vector<std::string_view> chunks() const;
  int64_t nodeCount() const { return nodes_; }

  // Appends the trailer (checksum1, "/", [ZxidDigest, checksum2, "/"]) as a final chunk.
  void seal(std::optional<std::pair<sdk::Zxid, int64_t>> zxid_digest);
  // Hands the chunks to `consume` in order and unmaps each one it accepted; false as soon as
  // `consume` fails. The body is empty afterwards (size() and nodeCount() keep their values).
  bool drain(const std::function<bool(std::string_view)>& consume);

 private:
  static constexpr size_t kChunkSize = 4 << 20;
  MappedChunk& chunkWithRoom(size_t bytes);
  void appendRecord();  // moves record_ into the chunks
  std::vector<MappedChunk> chunks_;
  std::vector<MappedChunk> spare_;
  std::string record_;   // the record being encoded (JuteWriter writes into a std::string)
  std::string trailer_;
  size_t size_ = 0;
  size_t acl_chunk_ = 0;      // chunk and offset of the ACL map count
  size_t acl_count_pos_ = 0;
  int32_t acl_count_ = 0;
  int64_t nodes_ = 0;
};

// Writes the sealed body to `file` (compressed as asked), fsyncs it when `fsync`. The file is
// first written as "<dir>/tmp.<name>" and renamed, so a crash never leaves a half snapshot
// under a snapshot name. The body's memory is released as it is written (drain). Returns the
// bytes written.
sdk::Result<uint64_t> writeSnapshotFile(SnapshotBody& body, const fs::path& file,
                                        Compression compression, bool fsync);

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
