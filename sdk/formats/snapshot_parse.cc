#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "corral/formats/checksum.h"
#include "corral/formats/snapshot_codec.h"
#include <fmt/format.h>

#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;
using namespace internal;

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
  uint32_t running = 1;  // Adler-32 of bytes[0, summed)
  size_t summed = 0;
  for (;;) {
    bool path_null = false;
    const std::string_view path = r.readBytesView(&path_null);
    if (!r.ok()) return corrupt("truncated node path");
    // As parseSnapshotBody (and ZooKeeper, whose load fails on it): not a node, not the end.
    if (path_null) return corrupt("null node path");
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
    if (r.position() >= next_progress) {
      // The checksum keeps up with the parse, so the caller may let go of what both have read
      // (on_progress) instead of the whole file being read again for the seal.
      if (checksums == Checksums::kVerify) {
        running = adler32Of(bytes.substr(summed, r.position() - summed), running);
        summed = r.position();
      }
      if (visitor.on_progress) visitor.on_progress(r.position(), bytes.size());
      next_progress = r.position() + (8u << 20);
    }
  }
  auto checkSeal = [&](std::string_view which) -> Status {
    const size_t covered = r.position();
    const bool verify = checksums == Checksums::kVerify;
    if (verify) {
      running = adler32Of(bytes.substr(summed, covered - summed), running);
      summed = covered;
    }
    const uint32_t expected = verify ? running : 0;
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

}  // namespace corral::formats
