// ZooKeeper snapshots as streams: a body encoder that hands its bytes on in pieces (so a
// snapshot of a live tree never needs the whole image in memory), a snapshot file writer
// (compression, Adler32 seals, ZxidDigest, tmp file + rename) and a body parser that pulls
// exactly the body's bytes from a source (the SNAP payload inside a quorum stream).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "corral/formats/data_files.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::formats {

// Takes the next bytes of a stream; an error stops it (sdk::SnapshotSink has this shape).
using ByteSink = std::function<sdk::Status(std::string_view bytes)>;
// Fills `dst` with exactly `n` more bytes, or fails (sdk::SnapshotSource has this shape).
using ByteSource = std::function<sdk::Status(char* dst, size_t n)>;

// Encodes a snapshot body record by record (disk-formats.md §6): sessions, the ACL map, nodes
// (parents before children, the root as ""), then the "/" end marker. Bytes collect in a buffer
// that goes to the sink whenever it holds `flush_bytes`; the first sink error sticks and every
// later call is a no-op.
class SnapshotBodyEncoder {
 public:
  explicit SnapshotBodyEncoder(ByteSink sink, size_t flush_bytes = 256 * 1024);

  void sessions(const std::map<sdk::SessionId, int32_t>& sessions);
  void aclCount(int32_t count);
  void acl(int64_t key, const sdk::AclList& acl);
  void node(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
            const sdk::StatPersisted& stat);
  void endOfNodes();
  // Hands what is buffered to the sink; the sticky status.
  sdk::Status flush();

  bool wantsFlush() const { return buffer_.size() >= flush_bytes_; }
  const sdk::Status& status() const { return status_; }
  int64_t nodes() const { return nodes_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void maybeFlush();
  ByteSink sink_;
  size_t flush_bytes_;
  std::string buffer_;
  sdk::Status status_;
  int64_t nodes_ = 0;
  uint64_t bytes_ = 0;
};

// One snapshot file being written: "<dir>/tmp.<name>" first, compressed by `compression`, the
// Adler32 of the uncompressed stream kept as it goes. finish() writes the seals (and the
// ZxidDigest when given), fsyncs when asked, renames the file into place and fsyncs the
// directory, so a crash never leaves a half snapshot under a snapshot name. An unfinished
// writer removes its tmp file when destroyed.
class SnapshotFileWriter {
 public:
  // Creates the tmp file and writes the FileHeader (ZKSN, version 2, dbid -1).
  static sdk::Result<std::unique_ptr<SnapshotFileWriter>> create(const std::filesystem::path& file,
                                                                 Compression compression, bool fsync);
  ~SnapshotFileWriter();
  SnapshotFileWriter(const SnapshotFileWriter&) = delete;
  SnapshotFileWriter& operator=(const SnapshotFileWriter&) = delete;

  // Body bytes, uncompressed (a SnapshotBodyEncoder's sink).
  sdk::Status write(std::string_view bytes);
  // Seals and publishes the file; returns its size on disk.
  sdk::Result<uint64_t> finish(std::optional<std::pair<sdk::Zxid, int64_t>> zxid_digest);

  const std::filesystem::path& file() const { return file_; }

  class Compressor;  // per compression method, in the .cc

 private:
  SnapshotFileWriter(std::filesystem::path file, std::filesystem::path tmp, int fd, bool fsync,
                     std::unique_ptr<Compressor> compressor);
  sdk::Status put(std::string_view bytes);  // checksummed, compressed, written
  void trickle();                           // writeback of full ranges as they are written

  std::filesystem::path file_;
  std::filesystem::path tmp_;
  int fd_ = -1;
  bool fsync_ = false;
  bool finished_ = false;
  bool compressed_ = false;
  std::string compressed_out_;  // reused between writes
  uint32_t adler_ = 1;
  uint64_t written_ = 0;  // bytes in the file
  uint64_t started_ = 0;  // bytes whose writeback was started
  std::unique_ptr<Compressor> compressor_;
};

// Parses a snapshot body (no FileHeader, seals or digest) pulled from `source`, reading exactly
// its bytes: the caller's stream continues right after the "/" end marker. Visitor callbacks as
// parseSnapshot's (on_progress gets the bytes read so far and 0 for the unknown total). A
// decode error is kCorruptData naming the body offset; a source error is returned as it is.
sdk::Status parseSnapshotBody(const ByteSource& source, const SnapshotVisitor& visitor, SnapshotInfo& info);

}  // namespace corral::formats
