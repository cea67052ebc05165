#include "disk_format.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <set>
#include <utility>

#include <fmt/format.h>

#ifdef CORRAL_HAVE_SNAPPY
#include <snappy.h>
#endif

namespace corral::plugins::memlog::disk {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;

namespace {

constexpr size_t kSnappyBlock = 32 * 1024;  // SnappyOutputStream.DEFAULT_BLOCK_SIZE
constexpr unsigned char kSnappyMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

void putBe32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (24 - 8 * i));
  out.append(b, 4);
}

uint32_t getBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

uint64_t getBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

Status errnoStatus(std::string_view what, const fs::path& file) {
  return Status(Code::kIoError, fmt::format("{} {}: {}", what, file.string(), std::strerror(errno)));
}

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

uint32_t adler32Of(std::string_view bytes, uint32_t running) {
  uLong a = running;
  const char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const uInt step = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    a = adler32(a, reinterpret_cast<const Bytef*>(p), step);
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(a);
}

// ---- names ----------------------------------------------------------------------------------

Compression compressionFromSetting(std::string_view value) {
  if (value == "gz") return Compression::kGzip;
  if (value == "snappy") return Compression::kSnappy;
  return Compression::kNone;
}

std::string_view compressionName(Compression c) {
  switch (c) {
    case Compression::kGzip: return "gz";
    case Compression::kSnappy: return "snappy";
    case Compression::kNone: break;
  }
  return "";
}

Compression compressionOfFile(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".gz") return Compression::kGzip;
  if (ext == ".snappy") return Compression::kSnappy;
  return Compression::kNone;
}

std::string logFileName(Zxid zxid) { return fmt::format("log.{:x}", static_cast<uint64_t>(zxid)); }

std::string snapshotFileName(Zxid zxid, Compression c) {
  std::string name = fmt::format("snapshot.{:x}", static_cast<uint64_t>(zxid));
  if (c != Compression::kNone) {
    name += '.';
    name += compressionName(c);
  }
  return name;
}

std::vector<DataFile> listDataFiles(const fs::path& dir, std::string_view prefix) {
  std::vector<DataFile> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // Util.getZxidFromName: split on '.', part 0 must be the prefix, part 1 a hex long.
    const size_t dot = name.find('.');
    if (dot == std::string::npos || std::string_view(name).substr(0, dot) != prefix) continue;
    const size_t next = name.find('.', dot + 1);
    const std::string_view hexpart =
        std::string_view(name).substr(dot + 1, next == std::string::npos ? std::string::npos : next - dot - 1);
    uint64_t zxid = 0;
    auto [ptr, err] = std::from_chars(hexpart.data(), hexpart.data() + hexpart.size(), zxid, 16);
    if (err != std::errc() || ptr != hexpart.data() + hexpart.size() || hexpart.empty()) continue;
    if (!it->is_regular_file(ec)) continue;
    out.push_back({it->path(), static_cast<Zxid>(zxid)});
  }
  std::sort(out.begin(), out.end(), [](const DataFile& a, const DataFile& b) {
    return a.zxid != b.zxid ? a.zxid < b.zxid : a.path < b.path;
  });
  return out;
}

std::vector<DataFile> logsAfter(const std::vector<DataFile>& logs, Zxid snapshot_zxid) {
  Zxid start = 0;
  for (const auto& log : logs) {
    if (log.zxid > snapshot_zxid) break;
    if (log.zxid > start) start = log.zxid;
  }
  std::vector<DataFile> out;
  for (const auto& log : logs) {
    if (log.zxid >= start) out.push_back(log);
  }
  return out;
}

// ---- txn log --------------------------------------------------------------------------------

void appendLogFileHeader(std::string& out) {
  sdk::JuteWriter w(out);
  sdk::encode(w, sdk::FileHeader{sdk::kTxnLogMagic, sdk::kFileFormatVersion, 0});
}

void appendLogRecord(std::string& out, std::string_view entry) {
  sdk::JuteWriter w(out);
  w.writeLong(static_cast<int64_t>(adler32Of(entry)));
  w.writeInt(static_cast<int32_t>(entry.size()));
  w.writeRaw(entry);
  out.push_back(kEndOfRecord);
}

int64_t paddedFileSize(int64_t position, int64_t file_size, int64_t prealloc) {
  if (prealloc > 0 && position + 4096 >= file_size) {
    if (position > file_size) {
      file_size = position + prealloc;
      file_size -= file_size % prealloc;
    } else {
      file_size += prealloc;
    }
  }
  return file_size;
}

LogScan scanLog(std::string_view file, const std::function<bool(const LogRecord&)>& on_record) {
  LogScan scan;
  if (file.size() < kFileHeaderSize) {
    scan.end = LogEnd::kEmpty;
    scan.detail = fmt::format("only {} bytes, no file header", file.size());
    return scan;
  }
  sdk::JuteReader header_reader(file.substr(0, kFileHeaderSize));
  sdk::decode(header_reader, scan.header);
  if (scan.header.magic != sdk::kTxnLogMagic) {
    scan.end = LogEnd::kBadHeader;
    scan.detail = fmt::format("invalid magic number 0x{:08x} (expected ZKLG)",
                              static_cast<uint32_t>(scan.header.magic));
    return scan;
  }
  uint64_t pos = kFileHeaderSize;
  for (;;) {
    scan.offset = pos;
    if (file.size() - pos < 12) {
      // Not even a checksum + length: the end (all zeros) or a torn record header.
      bool zeros = std::all_of(file.begin() + static_cast<ptrdiff_t>(pos), file.end(),
                               [](char c) { return c == 0; });
      scan.end = zeros ? LogEnd::kClean : LogEnd::kPartial;
      if (!zeros) scan.detail = "record header cut short";
      return scan;
    }
    const uint64_t checksum = getBe64(file.data() + pos);
    const int32_t len = static_cast<int32_t>(getBe32(file.data() + pos + 8));
    if (len == 0) {
      // Util.readTxnBytes: an empty entry is the preallocated end of the log.
      scan.end = LogEnd::kClean;
      return scan;
    }
    if (len < 0 || static_cast<uint64_t>(len) + 1 > file.size() - pos - 12) {
      scan.end = LogEnd::kPartial;
      scan.detail = fmt::format("record length {} runs past the end of the file", len);
      return scan;
    }
    const std::string_view entry = file.substr(pos + 12, static_cast<size_t>(len));
    if (file[pos + 12 + static_cast<size_t>(len)] != kEndOfRecord) {
      scan.end = LogEnd::kPartial;
      scan.detail = "end-of-record byte 0x42 missing";
      return scan;
    }
    if (checksum != adler32Of(entry)) {
      scan.end = LogEnd::kCrcError;
      scan.detail = fmt::format("CRC check failed: stored 0x{:x}, computed 0x{:x}", checksum,
                                adler32Of(entry));
      return scan;
    }
    ++scan.records;
    if (!on_record(LogRecord{pos, entry})) {
      scan.end = LogEnd::kStopped;
      return scan;
    }
    pos += 12 + static_cast<uint64_t>(len) + 1;
  }
}

Status decodeEntry(std::string_view entry, sdk::TxnEntry& out) {
  sdk::JuteReader r(entry, INT32_MAX);
  if (!sdk::decode(r, out)) {
    return Status(Code::kCorruptData, "undecodable txn entry");
  }
  return Status::ok();
}

// ---- snapshot body --------------------------------------------------------------------------

MappedChunk::MappedChunk(size_t capacity) : capacity_(capacity) {
  void* mem = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<char*>(mem);
}

MappedChunk::MappedChunk(MappedChunk&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

MappedChunk& MappedChunk::operator=(MappedChunk&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

MappedChunk::~MappedChunk() { release(); }

void MappedChunk::release() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
  data_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

void MappedChunk::populate() {
  // Huge pages where the kernel offers them on request (THP "madvise"), then every page
  // faulted in by one call: page by page, 200 MB is ~50,000 traps into the kernel.
  (void)::madvise(data_, capacity_, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
  if (::madvise(data_, capacity_, MADV_POPULATE_WRITE) == 0) return;
#endif
  for (size_t offset = 0; offset < capacity_; offset += 4096) data_[offset] = 0;
}

void MappedChunk::append(std::string_view bytes) {
  std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

SnapshotBody::SnapshotBody() {
  sdk::JuteWriter w(record_);
  sdk::encode(w, sdk::FileHeader{sdk::kSnapshotMagic, sdk::kFileFormatVersion, -1});
  appendRecord();
}

MappedChunk& SnapshotBody::chunkWithRoom(size_t bytes) {
  if (!chunks_.empty() && chunks_.back().room() >= bytes) return chunks_.back();
  if (!spare_.empty() && spare_.back().room() >= bytes) {
    chunks_.push_back(std::move(spare_.back()));
    spare_.pop_back();
  } else {
    // A record larger than a chunk (a node with megabytes of data) gets a chunk of its own.
    chunks_.emplace_back(std::max(kChunkSize, bytes));
  }
  return chunks_.back();
}

void SnapshotBody::appendRecord() {
  chunkWithRoom(record_.size()).append(record_);
  size_ += record_.size();
  record_.clear();
}

void SnapshotBody::prepare(size_t expected_bytes) {
  // Map and fault in the chunks now, so copying the tree under its lock is a plain memcpy.
  size_t have = spare_.size() * kChunkSize;
  while (have < expected_bytes) {
    spare_.emplace_back(kChunkSize);
    spare_.back().populate();
    have += kChunkSize;
  }
}

void SnapshotBody::sessions(const std::map<sdk::SessionId, int32_t>& sessions) {
  sdk::JuteWriter w(record_);
  w.writeInt(static_cast<int32_t>(sessions.size()));
  for (const auto& [id, timeout] : sessions) {
    w.writeLong(id);
    w.writeInt(timeout);
    if (record_.size() >= 64 * 1024) appendRecord();  // records may split anywhere
  }
  appendRecord();
}

void SnapshotBody::beginAcls() {
  // The count is patched in end(); four bytes of room keep it inside one chunk.
  MappedChunk& chunk = chunkWithRoom(4);
  acl_chunk_ = chunks_.size() - 1;
  acl_count_pos_ = chunk.size();
  chunk.append(std::string_view("\0\0\0\0", 4));
  size_ += 4;
}

void SnapshotBody::acl(int64_t key, const sdk::AclList& acl) {
  sdk::JuteWriter w(record_);
  w.writeLong(key);
  sdk::encode(w, acl);
  appendRecord();
  ++acl_count_;
}

void SnapshotBody::node(std::string_view path, std::optional<std::string_view> data,
                        int64_t acl_key, const sdk::StatPersisted& stat) {
  sdk::JuteWriter w(record_);
  w.writeString(path);
  if (data) {
    w.writeBuffer(*data);
  } else {
    w.writeNull();
  }
  w.writeLong(acl_key);
  sdk::encode(w, stat);
  appendRecord();
  ++nodes_;
}

void SnapshotBody::end() {
  sdk::JuteWriter w(record_);
  w.writeString("/");
  appendRecord();
  char* p = chunks_[acl_chunk_].data() + acl_count_pos_;
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(static_cast<uint32_t>(acl_count_) >> (24 - 8 * i));
}

void SnapshotBody::seal(std::optional<std::pair<Zxid, int64_t>> zxid_digest) {
  spare_.clear();
  spare_.shrink_to_fit();
  uint32_t sum = 1;
  for (const auto& chunk : chunks_) sum = adler32Of(chunk.view(), sum);
  trailer_.clear();
  sdk::JuteWriter w(trailer_);
  w.writeLong(sum);
  w.writeString("/");
  if (zxid_digest) {
    w.writeLong(zxid_digest->first);
    w.writeInt(sdk::kTxnDigestVersion);
    w.writeLong(zxid_digest->second);
    sum = adler32Of(trailer_, sum);
    w.writeLong(sum);
    w.writeString("/");
  }
  size_ += trailer_.size();
}

std::vector<std::string_view> SnapshotBody::chunks() const {
  std::vector<std::string_view> views;
  views.reserve(chunks_.size() + 1);
  for (const auto& chunk : chunks_) views.push_back(chunk.view());
  if (!trailer_.empty()) views.emplace_back(trailer_);
  return views;
}

bool SnapshotBody::drain(const std::function<bool(std::string_view)>& consume) {
  for (auto& chunk : chunks_) {
    if (!consume(chunk.view())) return false;
    chunk = MappedChunk();  // written: give the memory back now, not when the file is synced
  }
  return trailer_.empty() || consume(trailer_);
}

namespace {

class FileSink {
 public:
  explicit FileSink(int fd) : fd_(fd) {}
  bool write(std::string_view bytes) {
    written_ += bytes.size();
    return writeAll(fd_, bytes.data(), bytes.size());
  }
  uint64_t written() const { return written_; }

 private:
  int fd_;
  uint64_t written_ = 0;
};

bool writeGzip(SnapshotBody& body, FileSink& sink) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return false;
  }
  std::string out(256 * 1024, '\0');
  bool ok = true;
  auto pump = [&](std::string_view in, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    do {
      zs.next_out = reinterpret_cast<Bytef*>(out.data());
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR) return false;
      const size_t have = out.size() - zs.avail_out;
      if (have != 0 && !sink.write(std::string_view(out.data(), have))) return false;
    } while (zs.avail_out == 0);
    return true;
  };
  ok = body.drain([&](std::string_view chunk) { return pump(chunk, Z_NO_FLUSH); });
  if (ok) ok = pump({}, Z_FINISH);
  deflateEnd(&zs);
  return ok;
}

bool writeSnappy(SnapshotBody& body, FileSink& sink) {
  if (!sink.write(snappyStreamHeader())) return false;
  std::string block;
  block.reserve(kSnappyBlock);
  std::string framed;
  auto flush = [&]() {
    if (block.empty()) return true;
    std::string compressed = snappyCompressBlock(block);
    framed.clear();
    putBe32(framed, static_cast<uint32_t>(compressed.size()));
    framed += compressed;
    block.clear();
    return sink.write(framed);
  };
  const bool ok = body.drain([&](std::string_view rest) {
    while (!rest.empty()) {
      const size_t take = std::min(rest.size(), kSnappyBlock - block.size());
      block.append(rest.substr(0, take));
      rest.remove_prefix(take);
      if (block.size() == kSnappyBlock && !flush()) return false;
    }
    return true;
  });
  return ok && flush();
}

void fsyncDir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

Result<uint64_t> writeSnapshotFile(SnapshotBody& body, const fs::path& file,
                                   Compression compression, bool fsync) {
  const fs::path tmp = file.parent_path() / ("tmp." + file.filename().string());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errnoStatus("cannot create", tmp);
  FileSink sink(fd);
  bool ok = true;
  switch (compression) {
    case Compression::kNone:
      ok = body.drain([&](std::string_view chunk) { return sink.write(chunk); });
      break;
    case Compression::kGzip: ok = writeGzip(body, sink); break;
    case Compression::kSnappy: ok = writeSnappy(body, sink); break;
  }
  if (ok && fsync && ::fsync(fd) != 0) ok = false;
  if (!ok) {
    Status status = errnoStatus("cannot write", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return status;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    Status status = errnoStatus("cannot rename to", file);
    ::unlink(tmp.c_str());
    return status;
  }
  if (fsync) fsyncDir(file.parent_path());
  return sink.written();
}

// ---- snapshot parsing -----------------------------------------------------------------------

Status parseSnapshot(std::string_view bytes, bool read_digest, const SnapshotVisitor& visitor,
                     SnapshotInfo& info, Checksums checksums) {
  sdk::JuteReader r(bytes, INT32_MAX);
  auto corrupt = [&](std::string_view what) {
    return Status(Code::kCorruptData, fmt::format("{} at offset {}", what, r.position()));
  };
  if (!sdk::decode(r, info.header)) return corrupt("truncated file header");
  if (info.header.magic != sdk::kSnapshotMagic) {
    return Status(Code::kCorruptData, fmt::format("mismatching magic header 0x{:08x} (expected ZKSN)",
                                                  static_cast<uint32_t>(info.header.magic)));
  }
  int32_t count = r.readInt();
  if (!r.ok() || count < 0) return corrupt("bad session count");
  for (int32_t i = 0; i < count; ++i) {
    const int64_t id = r.readLong();
    const int32_t timeout = r.readInt();
    if (!r.ok()) return corrupt("truncated session table");
    if (visitor.on_session) visitor.on_session(id, timeout);
    ++info.sessions;
  }
  count = r.readInt();
  if (!r.ok()) return corrupt("bad ACL map count");
  for (int32_t i = 0; i < count; ++i) {
    const int64_t key = r.readLong();
    sdk::AclList acl;
    if (!sdk::decode(r, acl)) return corrupt("truncated ACL map");
    if (visitor.on_acl) {
      if (auto st = visitor.on_acl(key, std::move(acl)); !st.isOk()) return st;
    }
    ++info.acls;
  }
  uint64_t next_progress = 0;
  for (;;) {
    const std::string_view path = r.readBytesView();
    if (!r.ok()) return corrupt("truncated node path");
    if (path == "/") break;
    bool is_null = false;
    const std::string_view data = r.readBytesView(&is_null);
    const int64_t acl_key = r.readLong();
    sdk::StatPersisted stat;
    if (!sdk::decode(r, stat)) return corrupt(fmt::format("truncated node {}", path));
    if (visitor.on_node) {
      auto st = visitor.on_node(path, is_null ? std::nullopt : std::optional<std::string_view>(data),
                                acl_key, stat);
      if (!st.isOk()) {
        return Status(st.code(), fmt::format("{} (offset {})", st.message(), r.position()));
      }
    }
    ++info.nodes;
    if (visitor.on_progress && r.position() >= next_progress) {
      visitor.on_progress(r.position(), bytes.size());
      next_progress = r.position() + (8u << 20);
    }
  }
  auto checkSeal = [&](std::string_view which) -> Status {
    const size_t covered = r.position();
    const bool verify = checksums == Checksums::kVerify;
    const uint32_t expected = verify ? adler32Of(bytes.substr(0, covered)) : 0;
    const int64_t stored = r.readLong();
    const std::string_view seal = r.readBytesView();
    if (!r.ok()) return corrupt(fmt::format("truncated {}", which));
    if (verify && static_cast<uint64_t>(stored) != expected) {
      return Status(Code::kCorruptData,
                    fmt::format("CRC corruption in snapshot ({} at offset {}: stored 0x{:x}, computed 0x{:x})",
                                which, covered, stored, expected));
    }
    if (seal != "/") return corrupt(fmt::format("bad seal after {}", which));
    return Status::ok();
  };
  if (auto st = checkSeal("checksum"); !st.isOk()) return st;
  if (read_digest && r.remaining() >= 12) {
    info.digest_zxid = r.readLong();
    info.digest_version = r.readInt();
    if (info.digest_version < 2) {
      const std::string text = r.readString();
      uint64_t value = 0;
      std::from_chars(text.data(), text.data() + text.size(), value, 16);
      info.digest = static_cast<int64_t>(value);
    } else {
      info.digest = r.readLong();
    }
    if (!r.ok()) return corrupt("truncated snapshot digest");
    info.has_digest = true;
    if (auto st = checkSeal("digest checksum"); !st.isOk()) return st;
  }
  if (visitor.on_progress) visitor.on_progress(bytes.size(), bytes.size());
  return Status::ok();
}

// Fills `out` from offset 0 until it is full or the file ends; the byte count read.
static Result<size_t> readFromStart(int fd, std::string& out, const fs::path& file) {
  size_t have = 0;
  while (have < out.size()) {
    ssize_t n = ::pread(fd, out.data() + have, out.size() - have, static_cast<off_t>(have));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errnoStatus("cannot read", file);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  return have;
}

Result<std::string> readWholeFile(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errnoStatus("cannot stat", file);
    ::close(fd);
    return status;
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  auto read = readFromStart(fd, out, file);
  if (!read.isOk()) {
    ::close(fd);
    return read.status();
  }
  const size_t have = *read;
  out.resize(have);
  ::close(fd);
  return out;
}

Result<std::string> readLogFile(const fs::path& file) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errnoStatus("cannot stat", file);
    ::close(fd);
    return status;
  }
  // Preallocated logs are sparse: records end before the first hole, and a hole reads as
  // zeros, so reading up to it (plus a zero record header) is the same as reading it all.
  off_t end = st.st_size;
  const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
  if (hole >= 0 && hole < end) end = hole;
  std::string out;
  out.resize(static_cast<size_t>(end));
  auto read = readFromStart(fd, out, file);
  if (!read.isOk()) {
    ::close(fd);
    return read.status();
  }
  const size_t have = *read;
  out.resize(have);
  if (static_cast<off_t>(have) < st.st_size) {
    out.append(static_cast<size_t>(std::min<off_t>(st.st_size - static_cast<off_t>(have), 4096)), '\0');
  }
  ::close(fd);
  return out;
}

// ---- mapped files ---------------------------------------------------------------------------

FileBytes::FileBytes(FileBytes&& other) noexcept
    : map_(std::exchange(other.map_, nullptr)),
      map_length_(std::exchange(other.map_length_, 0)),
      owned_(std::move(other.owned_)) {}

FileBytes& FileBytes::operator=(FileBytes&& other) noexcept {
  if (this != &other) {
    release();
    map_ = std::exchange(other.map_, nullptr);
    map_length_ = std::exchange(other.map_length_, 0);
    owned_ = std::move(other.owned_);
  }
  return *this;
}

FileBytes::~FileBytes() { release(); }

void FileBytes::release() {
  if (map_ != nullptr) ::munmap(map_, map_length_);
  map_ = nullptr;
  map_length_ = 0;
}

Result<FileBytes> FileBytes::map(const fs::path& file, std::optional<size_t> populate_bytes) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errnoStatus("cannot open", file);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status status = errnoStatus("cannot stat", file);
    ::close(fd);
    return status;
  }
  const auto length = static_cast<size_t>(st.st_size);
  if (length == 0) {  // mmap refuses empty ranges; an empty file is an empty view
    ::close(fd);
    return FileBytes();
  }
  const size_t populate = std::min(populate_bytes.value_or(length), length);
  // MAP_POPULATE maps every page-cache page in one pass instead of one fault per 64 KiB; it
  // is skipped when part of the file (a sparse log tail) should stay unmapped.
  const int flags = MAP_PRIVATE | (populate == length ? MAP_POPULATE : 0);
  void* mem = ::mmap(nullptr, length, PROT_READ, flags, fd, 0);
  if (mem == MAP_FAILED) {
    Status status = errnoStatus("cannot map", file);
    ::close(fd);
    return status;
  }
  ::close(fd);  // the mapping keeps the file open
  // Hints only: a kernel that ignores them just reads more slowly.
  (void)::madvise(mem, length, MADV_SEQUENTIAL);
  if (populate != 0 && populate < length) (void)::madvise(mem, populate, MADV_WILLNEED);
  FileBytes bytes;
  bytes.map_ = mem;
  bytes.map_length_ = length;
  return bytes;
}

Result<FileBytes> loadSnapshotBytes(const fs::path& file) {
  if (compressionOfFile(file) == Compression::kNone) return FileBytes::map(file);
  auto inflated = readSnapshotFile(file);
  if (!inflated.isOk()) return inflated.status();
  return FileBytes(std::move(*inflated));
}

Result<FileBytes> mapLogFile(const fs::path& file) {
  // Preallocated logs are sparse: the records end before the first hole.
  std::optional<size_t> written;
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const off_t hole = ::lseek(fd, 0, SEEK_HOLE);
    if (hole >= 0) written = static_cast<size_t>(hole);
    ::close(fd);
  }
  return FileBytes::map(file, written);
}

bool looksLikeValidSnapshot(const fs::path& file) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return false;
  const Compression c = compressionOfFile(file);
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool valid = false;
  if (c == Compression::kNone) {
    // SnapStream.checkSnapshotTail: at least 10 bytes, ending in int 1 + "/".
    char tail[5];
    if (size >= 10 && ::pread(fd, tail, 5, static_cast<off_t>(size - 5)) == 5) {
      valid = std::memcmp(tail, "\0\0\0\x01/", 5) == 0;
    }
  } else if (c == Compression::kGzip) {
    unsigned char magic[2];
    valid = ::pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  } else {
    unsigned char magic[8];
    valid = ::pread(fd, magic, 8, 0) == 8 && std::memcmp(magic, kSnappyMagic, 8) == 0;
  }
  ::close(fd);
  return valid;
}

Result<std::string> readSnapshotFile(const fs::path& file) {
  auto raw = readWholeFile(file);
  if (!raw.isOk()) return raw.status();
  switch (compressionOfFile(file)) {
    case Compression::kNone: return raw;
    case Compression::kGzip: return gunzip(*raw);
    case Compression::kSnappy: return unsnappyStream(*raw);
  }
  return raw;
}

// ---- compression codecs ---------------------------------------------------------------------

Result<std::string> gunzip(std::string_view compressed) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status(Code::kInternal, "inflateInit2 failed");
  std::string out;
  out.resize(std::max<size_t>(compressed.size() * 4, 64 * 1024));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  size_t have = 0;
  int rc = Z_OK;
  for (;;) {
    if (have == out.size()) out.resize(out.size() * 2);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - have, 1u << 30));
    const uInt before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    have += before - zs.avail_out;
    if (rc == Z_STREAM_END) {
      // GZIPInputStream reads concatenated members too.
      if (zs.avail_in == 0) break;
      inflateReset(&zs);
      continue;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    return Status(Code::kCorruptData, fmt::format("gzip stream is corrupt or truncated (after {} input bytes)",
                                                  zs.total_in));
  }
  out.resize(have);
  return out;
}

std::string snappyStreamHeader() {
  std::string h(reinterpret_cast<const char*>(kSnappyMagic), 8);
  putBe32(h, 1);  // SnappyCodec.DEFAULT_VERSION
  putBe32(h, 1);  // MINIMUM_COMPATIBLE_VERSION
  return h;
}

Result<std::string> unsnappyStream(std::string_view in) {
  if (in.size() < 16 || std::memcmp(in.data(), kSnappyMagic, 8) != 0) {
    return Status(Code::kCorruptData, "not a snappy-java stream (bad magic header)");
  }
  std::string out;
  size_t pos = 16;
  while (pos < in.size()) {
    // SnappyInputStream accepts a further stream header (concatenated streams).
    if (in.size() - pos >= 16 && std::memcmp(in.data() + pos, kSnappyMagic, 8) == 0) {
      pos += 16;
      continue;
    }
    if (in.size() - pos < 4) return Status(Code::kCorruptData, "snappy stream: truncated block length");
    const uint32_t len = getBe32(in.data() + pos);
    pos += 4;
    if (len > in.size() - pos) return Status(Code::kCorruptData, "snappy stream: truncated block");
    auto block = snappyUncompressBlock(in.substr(pos, len));
    if (!block.isOk()) return block.status();
    out += *block;
    pos += len;
  }
  return out;
}

std::string snappyCompressBlock(std::string_view block) {
  std::string out;
#ifdef CORRAL_HAVE_SNAPPY
  snappy::Compress(block.data(), block.size(), &out);
#else
  // A valid snappy block made of literals only (no matches): varint length, then literal runs.
  uint64_t n = block.size();
  while (n >= 0x80) {
    out.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<char>(n));
  size_t pos = 0;
  while (pos < block.size()) {
    const size_t take = std::min<size_t>(block.size() - pos, 65536);
    const size_t m = take - 1;
    if (m < 60) {
      out.push_back(static_cast<char>(m << 2));
    } else if (m < 256) {
      out.push_back(static_cast<char>(60 << 2));
      out.push_back(static_cast<char>(m));
    } else {
      out.push_back(static_cast<char>(61 << 2));
      out.push_back(static_cast<char>(m & 0xff));
      out.push_back(static_cast<char>(m >> 8));
    }
    out.append(block.substr(pos, take));
    pos += take;
  }
#endif
  return out;
}

Result<std::string> snappyUncompressBlock(std::string_view in) {
  auto bad = [](std::string_view what) {
    return Status(Code::kCorruptData, fmt::format("snappy block: {}", what));
  };
  size_t pos = 0;
  uint64_t length = 0;
  for (int shift = 0;; shift += 7) {
    if (pos >= in.size() || shift > 32) return bad("bad length varint");
    const auto b = static_cast<unsigned char>(in[pos++]);
    length |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (length > (1u << 30)) return bad("block too large");
  std::string out;
  out.reserve(length);
  while (pos < in.size()) {
    const auto tag = static_cast<unsigned char>(in[pos++]);
    size_t len = 0;
    size_t offset = 0;
    switch (tag & 3) {
      case 0: {
        len = (tag >> 2) + 1;
        if (len > 60) {
          const size_t extra = len - 60;
          if (in.size() - pos < extra) return bad("truncated literal length");
          len = 0;
          for (size_t i = 0; i < extra; ++i) len |= static_cast<size_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
          len += 1;
          pos += extra;
        }
        if (in.size() - pos < len) return bad("truncated literal");
        out.append(in.substr(pos, len));
        pos += len;
        continue;
      }
      case 1:
        if (pos >= in.size()) return bad("truncated copy");
        len = ((tag >> 2) & 7) + 4;
        offset = (static_cast<size_t>(tag >> 5) << 8) | static_cast<unsigned char>(in[pos++]);
        break;
      case 2:
        if (in.size() - pos < 2) return bad("truncated copy");
        len = (tag >> 2) + 1;
        offset = static_cast<unsigned char>(in[pos]) | (static_cast<size_t>(static_cast<unsigned char>(in[pos + 1])) << 8);
        pos += 2;
        break;
      default:
        if (in.size() - pos < 4) return bad("truncated copy");
        len = (tag >> 2) + 1;
        offset = 0;
        for (int i = 0; i < 4; ++i) offset |= static_cast<size_t>(static_cast<unsigned char>(in[pos + i])) << (8 * i);
        pos += 4;
        break;
    }
    if (offset == 0 || offset > out.size()) return bad("copy offset out of range");
    if (out.size() + len > length) return bad("output longer than declared");
    const size_t from = out.size() - offset;
    for (size_t i = 0; i < len; ++i) out.push_back(out[from + i]);
  }
  if (out.size() != length) return bad("output shorter than declared");
  return out;
}

// ---- purge ----------------------------------------------------------------------------------

Result<PurgeResult> purge(const fs::path& snap_dir, const fs::path& log_dir, int retain) {
  retain = std::max(retain, 3);
  PurgeResult result;
  auto snaps = listDataFiles(snap_dir, "snapshot");
  // FileTxnSnapLog.findNValidSnapshots: newest first, valid ones only.
  std::vector<DataFile> valid;
  for (auto it = snaps.rbegin(); it != snaps.rend() && static_cast<int>(valid.size()) < retain; ++it) {
    if (looksLikeValidSnapshot(it->path)) valid.push_back(*it);
  }
  if (valid.empty()) return result;
  for (const auto& v : valid) result.kept_snapshots.push_back(v.path);
  const Zxid least = valid.back().zxid;
  auto logs = listDataFiles(log_dir, "log");
  std::set<fs::path> retained_logs;
  for (const auto& log : logsAfter(logs, least)) retained_logs.insert(log.path);
  auto remove = [&](const DataFile& f) {
    std::error_code ec;
    if (fs::remove(f.path, ec)) result.removed.push_back(f.path);
  };
  for (const auto& log : logs) {
    if (log.zxid < least && !retained_logs.count(log.path)) remove(log);
  }
  for (const auto& snap : snaps) {
    if (snap.zxid < least) remove(snap);
  }
  return result;
}

// ---- text -----------------------------------------------------------------------------------

std::string opName(sdk::OpCode type) {
  using sdk::OpCode;
  switch (type) {
    case OpCode::kCreate: return "create";
    case OpCode::kDelete: return "delete";
    case OpCode::kSetData: return "setData";
    case OpCode::kSetAcl: return "setACL";
    case OpCode::kCheck: return "check";
    case OpCode::kMulti: return "multi";
    case OpCode::kCreate2: return "create2";
    case OpCode::kReconfig: return "reconfig";
    case OpCode::kCreateContainer: return "createContainer";
    case OpCode::kDeleteContainer: return "deleteContainer";
    case OpCode::kCreateTtl: return "createTTL";
    case OpCode::kCreateSession: return "createSession";
    case OpCode::kCloseSession: return "closeSession";
    case OpCode::kError: return "error";
    default: return fmt::format("unknown({})", static_cast<int32_t>(type));
  }
}

std::string hex(int64_t v) { return fmt::format("0x{:x}", static_cast<uint64_t>(v)); }

}  // namespace corral::plugins::memlog::disk
