// ZooKeeper 3.8 on-disk formats (disk-formats.md §1-§8): file names, txn log records, snapshot
// streams, snapshot compression. Pure codecs and small file helpers; no threads, no plugin state,
// so the storage, the unit tests and corral-logtool all share them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::plugins::memlog::disk {

namespace fs = std::filesystem;

// ---- checksums --------------------------------------------------------------------------------

// java.util.zip.Adler32 over `bytes`, continuing from `running` (1 = a fresh checksum).
uint32_t adler32Of(std::string_view bytes, uint32_t running = 1);

// ---- names ------------------------------------------------------------------------------------

enum class Compression { kNone, kGzip, kSnappy };

// ZooKeeper's zookeeper.snapshot.compression.method values: "" none, "gz", "snappy"; anything
// else selects no compression (SnapStream.getStreamMode).
Compression compressionFromSetting(std::string_view value);
std::string_view compressionName(Compression c);
// By file suffix (.gz / .snappy), as SnapStream.getStreamMode(fileName) does.
Compression compressionOfFile(const fs::path& file);

std::string logFileName(sdk::Zxid zxid);                          // "log.<hex>"
std::string snapshotFileName(sdk::Zxid zxid, Compression c);      // "snapshot.<hex>[.gz|.snappy]"

struct DataFile {
  fs::path path;
  sdk::Zxid zxid = 0;
};
// Files named "<prefix>.<hex>[.*]" in `dir`, ascending by zxid (Util.sortDataDir); names whose
// second part is not hex are ignored. A missing dir lists nothing.
std::vector<DataFile> listDataFiles(const fs::path& dir, std::string_view prefix);

// Util.getLogFiles: the logs that may hold txns after `snapshot_zxid`: the newest log starting at
// or before it, and every later one.
std::vector<DataFile> logsAfter(const std::vector<DataFile>& logs, sdk::Zxid snapshot_zxid);

// ---- txn log ----------------------------------------------------------------------------------

inline constexpr size_t kFileHeaderSize = 16;
inline constexpr char kEndOfRecord = 0x42;

void appendLogFileHeader(std::string& out);
// checksum (8) + len (4) + entry + 0x42.
void appendLogRecord(std::string& out, std::string_view entry);
// FilePadding.calculateFileSizeWithPadding.
int64_t paddedFileSize(int64_t position, int64_t file_size, int64_t prealloc);

struct LogRecord {
  uint64_t offset = 0;  // of the record (its checksum field) in the file
  std::string_view entry;
};

enum class LogEnd {
  kClean,     // preallocated zeros or the exact end of the file
  kPartial,   // a short record or a missing 0x42: ZooKeeper's "Last transaction was partial"
  kCrcError,  // a complete record whose Adler32 does not match: ZooKeeper's "CRC check failed"
  kBadHeader, // not a txn log (wrong magic)
  kEmpty,     // shorter than a file header (created, never written)
  kStopped,   // the callback asked to stop
};

struct LogScan {
  LogEnd end = LogEnd::kClean;
  uint64_t offset = 0;       // where reading ended (the bad record's offset for kPartial/kCrcError)
  uint64_t records = 0;
  sdk::FileHeader header;
  std::string detail;
};

// Walks the records of one txn log held in memory, as FileTxnIterator does.
LogScan scanLog(std::string_view file, const std::function<bool(const LogRecord&)>& on_record);

// Decodes a record's entry bytes into a TxnEntry (TxnHeader + body + optional digest).
sdk::Status decodeEntry(std::string_view entry, sdk::TxnEntry& out);

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

// The bytes of a file held for parsing. An uncompressed file is mapped read-only instead of
// being read into a fresh buffer: at 200 MB a zero-filled buffer costs ~50,000 page faults plus a
// copy, while a populated mapping shares the page cache. Decompressed snapshots are owned
// strings. Move-only; the view lives as long as the object.
class FileBytes {
 public:
  FileBytes() = default;
  explicit FileBytes(std::string owned) : owned_(std::move(owned)) {}
  FileBytes(FileBytes&& other) noexcept;
  FileBytes& operator=(FileBytes&& other) noexcept;
  FileBytes(const FileBytes&) = delete;
  FileBytes& operator=(const FileBytes&) = delete;
  ~FileBytes();

  std::string_view view() const {
    return map_ != nullptr ? std::string_view(static_cast<const char*>(map_), map_length_) : owned_;
  }
  size_t size() const { return view().size(); }
  bool isMapped() const { return map_ != nullptr; }

  // Maps all of `file` read-only. `populate_bytes` of it (from the start) are faulted in at once
  // and read ahead sequentially; the rest stays lazy (a log's sparse preallocated tail).
  static sdk::Result<FileBytes> map(const fs::path& file, std::optional<size_t> populate_bytes = {});

 private:
  void release();
  void* map_ = nullptr;
  size_t map_length_ = 0;
  std::string owned_;
};

// A snapshot's uncompressed stream: mapped when the file is uncompressed, else decompressed by
// its suffix.
sdk::Result<FileBytes> loadSnapshotBytes(const fs::path& file);
// A txn log mapped whole; only its written part (up to the first hole) is populated. Reads the
// same bytes as readLogFile: holes read as zeros, which end the log cleanly.
sdk::Result<FileBytes> mapLogFile(const fs::path& file);

// The whole file, decompressed by its suffix.
sdk::Result<std::string> readSnapshotFile(const fs::path& file);
sdk::Result<std::string> readWholeFile(const fs::path& file);
// A txn log up to its first hole (the sparse preallocated tail), then up to 4 KiB of zeros.
sdk::Result<std::string> readLogFile(const fs::path& file);

// ---- compression codecs (exposed for tests and the tool) --------------------------------------

sdk::Result<std::string> gunzip(std::string_view compressed);
// snappy-java's framed stream (SnappyOutputStream): magic + versions, then int32-length blocks.
sdk::Result<std::string> unsnappyStream(std::string_view compressed);
std::string snappyStreamHeader();
// One raw snappy block (libsnappy when available, else an all-literal encoding).
std::string snappyCompressBlock(std::string_view block);
sdk::Result<std::string> snappyUncompressBlock(std::string_view block);

// ---- purge (PurgeTxnLog) ----------------------------------------------------------------------

struct PurgeResult {
  std::vector<fs::path> removed;
  std::vector<fs::path> kept_snapshots;
};
// Keeps the `retain` newest valid snapshots and the logs needed after the oldest of them; deletes
// older snapshot.* and log.* files (retain is raised to 3 like ZooKeeper).
sdk::Result<PurgeResult> purge(const fs::path& snap_dir, const fs::path& log_dir, int retain);

// ---- text ---------------------------------------------------------------------------------------

std::string opName(sdk::OpCode type);
std::string hex(int64_t v);

}  // namespace corral::plugins::memlog::disk
