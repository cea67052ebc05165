#include "corral/formats/snapshot_stream.h"

#include <fcntl.h>
#include <snappy.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "corral/formats/checksum.h"
#include "corral/formats/compression.h"
#include "corral/formats/file_bytes.h"
#include "corral/jute.h"
#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using namespace internal;

// ---- body encoder -----------------------------------------------------------------------------

SnapshotBodyEncoder::SnapshotBodyEncoder(ByteSink sink, size_t flush_bytes)
    : sink_(std::move(sink)), flush_bytes_(std::max<size_t>(flush_bytes, 4096)) {
  // Room for what a caller adds between flushes (a batch of nodes after the buffer filled), so
  // the buffer is not reallocated and copied in the middle of a snapshot.
  buffer_.reserve(2 * flush_bytes_ + 4096);
}

void SnapshotBodyEncoder::maybeFlush() {
  if (buffer_.size() >= flush_bytes_) (void)flush();
}

Status SnapshotBodyEncoder::flush() {
  if (!status_.isOk() || buffer_.empty()) {
    buffer_.clear();
    return status_;
  }
  bytes_ += buffer_.size();
  status_ = sink_(buffer_);
  buffer_.clear();
  return status_;
}

void SnapshotBodyEncoder::sessions(const std::map<sdk::SessionId, int32_t>& sessions) {
  sdk::JuteWriter w(buffer_);
  w.writeInt(static_cast<int32_t>(sessions.size()));
  for (const auto& [id, timeout] : sessions) {
    w.writeLong(id);
    w.writeInt(timeout);
    maybeFlush();
  }
}

void SnapshotBodyEncoder::aclCount(int32_t count) {
  sdk::JuteWriter w(buffer_);
  w.writeInt(count);
}

void SnapshotBodyEncoder::acl(int64_t key, const sdk::AclList& acl) {
  sdk::JuteWriter w(buffer_);
  w.writeLong(key);
  sdk::encode(w, acl);
  maybeFlush();
}

namespace {

inline char* storeBe32(char* p, uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
  return p + 4;
}

inline char* storeBe64(char* p, uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
  return p + 8;
}

}  // namespace

void SnapshotBodyEncoder::node(std::string_view path, std::optional<std::string_view> data, int64_t acl_key,
                               const sdk::StatPersisted& stat) {
  // The hot loop of every snapshot (one call per znode, under the tree's lock): the record's
  // size is known up front, so it is stored in place instead of field by field appends.
  // ustring path, buffer data (-1 = null), long acl, StatPersisted (6 longs, 3 ints).
  const size_t data_size = data ? data->size() : 0;
  const size_t at = buffer_.size();
  buffer_.resize(at + 4 + path.size() + 4 + data_size + 8 + 60);
  char* p = buffer_.data() + at;
  p = storeBe32(p, static_cast<uint32_t>(path.size()));
  if (!path.empty()) std::memcpy(p, path.data(), path.size());  // the root's "" may have no data()
  p += path.size();
  p = storeBe32(p, data ? static_cast<uint32_t>(data_size) : UINT32_MAX);
  if (data_size != 0) std::memcpy(p, data->data(), data_size);
  p += data_size;
  p = storeBe64(p, static_cast<uint64_t>(acl_key));
  p = storeBe64(p, static_cast<uint64_t>(stat.czxid));
  p = storeBe64(p, static_cast<uint64_t>(stat.mzxid));
  p = storeBe64(p, static_cast<uint64_t>(stat.ctime));
  p = storeBe64(p, static_cast<uint64_t>(stat.mtime));
  p = storeBe32(p, static_cast<uint32_t>(stat.version));
  p = storeBe32(p, static_cast<uint32_t>(stat.cversion));
  p = storeBe32(p, static_cast<uint32_t>(stat.aversion));
  p = storeBe64(p, static_cast<uint64_t>(stat.ephemeral_owner));
  storeBe64(p, static_cast<uint64_t>(stat.pzxid));
  ++nodes_;
  // No flush here: the caller walks the tree under its lock and flushes between batches.
}

void SnapshotBodyEncoder::endOfNodes() {
  sdk::JuteWriter w(buffer_);
  w.writeString("/");
}

// ---- file writer ------------------------------------------------------------------------------

// Turns uncompressed bytes into the file's bytes (SnapStream's output streams).
class SnapshotFileWriter::Compressor {
 public:
  virtual ~Compressor() = default;
  // Appends to `out` whatever output `in` produces now.
  virtual bool compress(std::string_view in, std::string& out) = 0;
  virtual bool finish(std::string& out) = 0;
};

namespace {

class Uncompressed final : public SnapshotFileWriter::Compressor {
 public:
  bool compress(std::string_view in, std::string& out) override {
    out.append(in);
    return true;
  }
  bool finish(std::string&) override { return true; }
};

// GZIPOutputStream: one gzip member.
class Gzip final : public SnapshotFileWriter::Compressor {
 public:
  Gzip() { ok_ = deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK; }
  ~Gzip() override {
    if (ok_) deflateEnd(&zs_);
  }
  bool compress(std::string_view in, std::string& out) override { return pump(in, Z_NO_FLUSH, out); }
  bool finish(std::string& out) override { return pump({}, Z_FINISH, out); }

 private:
  bool pump(std::string_view in, int flush, std::string& out) {
    if (!ok_) return false;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    char chunk[64 * 1024];
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(chunk);
      zs_.avail_out = sizeof(chunk);
      if (deflate(&zs_, flush) == Z_STREAM_ERROR) return false;
      out.append(chunk, sizeof(chunk) - zs_.avail_out);
    } while (zs_.avail_out == 0);
    return true;
  }
  z_stream zs_{};
  bool ok_ = false;
};

// snappy-java's SnappyOutputStream: magic + versions, then (int32 length, raw snappy block) per
// 32 KiB of input.
class Snappy final : public SnapshotFileWriter::Compressor {
 public:
  bool compress(std::string_view in, std::string& out) override {
    if (!header_written_) {
      out += snappyStreamHeader();
      header_written_ = true;
    }
    while (!in.empty()) {
      const size_t take = std::min(in.size(), kSnappyBlock - block_.size());
      block_.append(in.substr(0, take));
      in.remove_prefix(take);
      if (block_.size() == kSnappyBlock) emit(out);
    }
    return true;
  }
  bool finish(std::string& out) override {
    if (!header_written_) compress({}, out);
    if (!block_.empty()) emit(out);
    return true;
  }

 private:
  void emit(std::string& out) {
    compressed_.clear();
    snappy::Compress(block_.data(), block_.size(), &compressed_);
    putBe32(out, static_cast<uint32_t>(compressed_.size()));
    out += compressed_;
    block_.clear();
  }
  bool header_written_ = false;
  std::string block_;
  std::string compressed_;
};

}  // namespace

Result<std::unique_ptr<SnapshotFileWriter>> SnapshotFileWriter::create(const std::filesystem::path& file,
                                                                      Compression compression, bool fsync) {
  const std::filesystem::path tmp = file.parent_path() / ("tmp." + file.filename().string());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoStatus("cannot create", tmp);
  std::unique_ptr<Compressor> compressor;
  switch (compression) {
    case Compression::kNone: compressor = std::make_unique<Uncompressed>(); break;
    case Compression::kGzip: compressor = std::make_unique<Gzip>(); break;
    case Compression::kSnappy: compressor = std::make_unique<Snappy>(); break;
  }
  std::unique_ptr<SnapshotFileWriter> writer(
      new SnapshotFileWriter(file, tmp, fd, fsync, std::move(compressor)));
  std::string header;
  sdk::JuteWriter w(header);
  sdk::encode(w, sdk::FileHeader{sdk::kSnapshotMagic, sdk::kFileFormatVersion, -1});
  if (auto st = writer->put(header); !st.isOk()) return st;
  return writer;
}

SnapshotFileWriter::SnapshotFileWriter(std::filesystem::path file, std::filesystem::path tmp, int fd, bool fsync,
                                       std::unique_ptr<Compressor> compressor)
    : file_(std::move(file)),
      tmp_(std::move(tmp)),
      fd_(fd),
      fsync_(fsync),
      compressed_(dynamic_cast<Uncompressed*>(compressor.get()) == nullptr),
      compressor_(std::move(compressor)) {}

SnapshotFileWriter::~SnapshotFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!finished_) ::unlink(tmp_.c_str());
}

Status SnapshotFileWriter::put(std::string_view bytes) {
  adler_ = adler32Of(bytes, adler_);
  std::string_view out = bytes;  // uncompressed: written as it is, no copy
  if (compressed_) {
    compressed_out_.clear();
    if (!compressor_->compress(bytes, compressed_out_)) return Status(Code::kInternal, "snapshot compression failed");
    out = compressed_out_;
  }
  if (!out.empty() && !writeAll(fd_, out.data(), out.size())) return errnoStatus("cannot write", tmp_);
  written_ += out.size();
  trickle();
  return Status::ok();
}

// A snapshot is hundreds of MB of dirty pages; flushed at once by the final fsync they hold the
// disk for a long moment, and the txn log's fdatasync waits behind them (every write's latency).
// Written back as they are produced instead, a range at a time, the final fsync has little left.
void SnapshotFileWriter::trickle() {
  constexpr uint64_t kRange = 8u << 20;
  if (!fsync_) return;
  while (written_ - started_ >= kRange) {
    // Start writing the newest full range; wait for the one before it (bounded dirty data, and
    // this thread, not the request path, is the one that waits).
    (void)::sync_file_range(fd_, static_cast<off_t>(started_), kRange, SYNC_FILE_RANGE_WRITE);
    if (started_ >= kRange) {
      (void)::sync_file_range(fd_, static_cast<off_t>(started_ - kRange), kRange,
                              SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    }
    started_ += kRange;
  }
}

Status SnapshotFileWriter::write(std::string_view bytes) {
  if (finished_ || fd_ < 0) return Status(Code::kInternal, "snapshot file already finished");
  return put(bytes);
}

Result<uint64_t> SnapshotFileWriter::finish(std::optional<std::pair<sdk::Zxid, int64_t>> zxid_digest) {
  if (finished_ || fd_ < 0) return Status(Code::kInternal, "snapshot file already finished");
  // FileSnap.serialize: checksum of everything so far + "/", then the ZxidDigest and a
  // checksum of everything including it + "/".
  std::string seal;
  sdk::JuteWriter w(seal);
  w.writeLong(adler_);
  w.writeString("/");
  if (auto st = put(seal); !st.isOk()) return st;
  if (zxid_digest) {
    seal.clear();
    sdk::JuteWriter d(seal);
    d.writeLong(zxid_digest->first);
    d.writeInt(sdk::kTxnDigestVersion);
    d.writeLong(zxid_digest->second);
    const uint32_t covered = adler32Of(seal, adler_);
    d.writeLong(covered);
    d.writeString("/");
    if (auto st = put(seal); !st.isOk()) return st;
  }
  std::string tail;
  if (!compressor_->finish(tail)) return Status(Code::kInternal, "snapshot compression failed");
  if (!tail.empty() && !writeAll(fd_, tail.data(), tail.size())) return errnoStatus("cannot write", tmp_);
  written_ += tail.size();
  if (fsync_ && ::fsync(fd_) != 0) return errnoStatus("cannot fsync", tmp_);
  const off_t size = ::lseek(fd_, 0, SEEK_CUR);
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_.c_str(), file_.c_str()) != 0) return errnoStatus("cannot rename to", file_);
  finished_ = true;
  if (fsync_) {
    if (auto st = fsyncDir(file_.parent_path()); !st.isOk()) return st;
  }
  return static_cast<uint64_t>(size < 0 ? 0 : size);
}

// ---- body parser ------------------------------------------------------------------------------

namespace {

// Pulls exact byte counts from the source and tracks the body offset for error messages.
class BodyReader {
 public:
  explicit BodyReader(const ByteSource& source) : source_(source) {}

  Status bytes(char* dst, size_t n) {
    if (n == 0) return Status::ok();
    Status st = source_(dst, n);
    if (st.isOk()) offset_ += n;
    return st;
  }
  Status readInt(int32_t& out) {
    char b[4];
    if (auto st = bytes(b, 4); !st.isOk()) return st;
    out = static_cast<int32_t>(getBe32(b));
    return Status::ok();
  }
  Status readLong(int64_t& out) {
    char b[8];
    if (auto st = bytes(b, 8); !st.isOk()) return st;
    out = static_cast<int64_t>(getBe64(b));
    return Status::ok();
  }
  // A jute buffer/ustring: int length (-1 = null) then the bytes.
  Status readBuffer(std::string& out, bool& is_null, std::string_view what) {
    int32_t length = 0;
    if (auto st = readInt(length); !st.isOk()) return st;
    is_null = length < 0;
    if (length < -1 || length > sdk::kJuteMaxLengthDefault * 64) {
      return corrupt(fmt::format("bad {} length {}", what, length));
    }
    // Grown as the bytes arrive, so a garbage length costs what the stream really holds.
    const size_t total = length < 0 ? 0 : static_cast<size_t>(length);
    out.clear();
    while (out.size() < total) {
      const size_t have = out.size();
      out.resize(have + std::min<size_t>(total - have, 1 << 20));
      if (auto st = bytes(out.data() + have, out.size() - have); !st.isOk()) return st;
    }
    return Status::ok();
  }
  Status corrupt(std::string_view what) const {
    return Status(Code::kCorruptData, fmt::format("snapshot stream: {} at body offset {}", what, offset_));
  }
  uint64_t offset() const { return offset_; }

 private:
  const ByteSource& source_;
  uint64_t offset_ = 0;
};

}  // namespace

Status parseSnapshotBody(const ByteSource& source, const SnapshotVisitor& visitor, SnapshotInfo& info) {
  BodyReader r(source);
  bool is_null = false;
  int32_t count = 0;
  if (auto st = r.readInt(count); !st.isOk()) return st;
  if (count < 0) return r.corrupt("bad session count");
  for (int32_t i = 0; i < count; ++i) {
    int64_t id = 0;
    int32_t timeout = 0;
    if (auto st = r.readLong(id); !st.isOk()) return st;
    if (auto st = r.readInt(timeout); !st.isOk()) return st;
    if (visitor.on_session) visitor.on_session(id, timeout);
    ++info.sessions;
  }
  if (auto st = r.readInt(count); !st.isOk()) return st;
  if (count < 0) return r.corrupt("bad ACL map count");
  std::string scheme;
  std::string id;
  for (int32_t i = 0; i < count; ++i) {
    int64_t key = 0;
    int32_t entries = 0;
    if (auto st = r.readLong(key); !st.isOk()) return st;
    if (auto st = r.readInt(entries); !st.isOk()) return st;
    if (entries < -1 || entries > 1 << 20) return r.corrupt("bad ACL list length");
    sdk::AclList acl;
    for (int32_t e = 0; e < entries; ++e) {
      int32_t perms = 0;
      if (auto st = r.readInt(perms); !st.isOk()) return st;
      if (auto st = r.readBuffer(scheme, is_null, "ACL scheme"); !st.isOk()) return st;
      if (auto st = r.readBuffer(id, is_null, "ACL id"); !st.isOk()) return st;
      acl.push_back(sdk::Acl{perms, sdk::Id{scheme, id}});
    }
    if (visitor.on_acl) {
      if (auto st = visitor.on_acl(key, std::move(acl)); !st.isOk()) return st;
    }
    ++info.acls;
  }
  std::string path;
  std::string data;
  // acl key (8) + StatPersisted (6 longs, 3 ints = 60).
  char fixed[68];
  uint64_t next_progress = 0;
  for (;;) {
    if (auto st = r.readBuffer(path, is_null, "node path"); !st.isOk()) return st;
    if (is_null) return r.corrupt("null node path");
    if (path == "/") break;
    bool data_null = false;
    if (auto st = r.readBuffer(data, data_null, "node data"); !st.isOk()) return st;
    if (auto st = r.bytes(fixed, sizeof(fixed)); !st.isOk()) return st;
    sdk::JuteReader jr(std::string_view(fixed, sizeof(fixed)));
    const int64_t acl_key = jr.readLong();
    sdk::StatPersisted stat;
    if (!sdk::decode(jr, stat)) return r.corrupt("bad node stat");
    if (visitor.on_node) {
      auto st = visitor.on_node(path, data_null ? std::nullopt : std::optional<std::string_view>(data), acl_key, stat);
      if (!st.isOk()) return Status(st.code(), fmt::format("{} (body offset {})", st.message(), r.offset()));
    }
    ++info.nodes;
    if (visitor.on_progress && r.offset() >= next_progress) {
      visitor.on_progress(r.offset(), 0);
      next_progress = r.offset() + (8u << 20);
    }
  }
  return Status::ok();
}

}  // namespace corral::formats
