#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "corral/formats/checksum.h"
#include "corral/formats/compression.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include <fmt/format.h>

#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;
using namespace internal;

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
  if (fsync) {
    if (auto st = fsyncDir(file.parent_path()); !st.isOk()) return st;
  }
  return sink.written();
}

}  // namespace corral::formats
