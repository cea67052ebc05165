#include "corral/formats/compression.h"

#include <zlib.h>
#include <snappy.h>

#include <algorithm>

#include <fmt/format.h>

#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using namespace internal;

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
  snappy::Compress(block.data(), block.size(), &out);
  return out;
}

Result<std::string> snappyUncompressBlock(std::string_view block) {
  // libsnappy validates offsets and lengths itself; a corrupt block fails here, never overreads.
  size_t length = 0;
  if (!snappy::GetUncompressedLength(block.data(), block.size(), &length)) {
    return Status(Code::kCorruptData, "snappy block: bad length varint");
  }
  if (length > (1u << 30)) return Status(Code::kCorruptData, "snappy block: block too large");
  std::string out;
  if (!snappy::Uncompress(block.data(), block.size(), &out)) {
    return Status(Code::kCorruptData, "snappy block: corrupt compressed data");
  }
  return out;
}

}  // namespace corral::formats
