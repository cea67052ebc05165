#include "corral/formats/digest.h"

#include <libdeflate.h>

#include <cstring>

namespace corral::formats {

using sdk::StatPersisted;

namespace {

void putLong(unsigned char*& p, int64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) *p++ = static_cast<unsigned char>(v >> shift);
}
void putInt(unsigned char*& p, int32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) *p++ = static_cast<unsigned char>(v >> shift);
}

}  // namespace

uint64_t znodeDigest(std::string_view path, std::string_view data, const StatPersisted& stat) {
  // DigestCalculator.calculateDigest (v2): nodes under "/zookeeper/" are excluded.
  if (path.size() > 11 && path.substr(0, 11) == "/zookeeper/") return 0;
  unsigned char blob[60];
  unsigned char* p = blob;
  putLong(p, stat.czxid);
  putLong(p, stat.mzxid);
  putLong(p, stat.pzxid);
  putLong(p, stat.ctime);
  putLong(p, stat.mtime);
  putInt(p, stat.version);
  putInt(p, stat.cversion);
  putInt(p, stat.aversion);
  putLong(p, stat.ephemeral_owner);
  // crc32(path + data + blob), with libdeflate's CRC-32 (carry-less multiply where the CPU has
  // it; the same polynomial as java.util.zip.CRC32). A typical znode fits a stack buffer and
  // one call over it beats three; the digest is computed for every node loaded and three
  // times per create.
  constexpr size_t kContiguousDigest = 512;
  if (path.size() + data.size() + sizeof(blob) <= kContiguousDigest) {
    unsigned char buffer[kContiguousDigest];
    if (!path.empty()) std::memcpy(buffer, path.data(), path.size());  // memcpy(nullptr, 0) is UB
    if (!data.empty()) std::memcpy(buffer + path.size(), data.data(), data.size());
    std::memcpy(buffer + path.size() + data.size(), blob, sizeof(blob));
    return libdeflate_crc32(0, buffer, path.size() + data.size() + sizeof(blob));
  }
  uint32_t crc = libdeflate_crc32(0, path.data(), path.size());
  if (!data.empty()) crc = libdeflate_crc32(crc, data.data(), data.size());
  crc = libdeflate_crc32(crc, blob, sizeof(blob));
  return static_cast<uint64_t>(crc);
}

}  // namespace corral::formats
