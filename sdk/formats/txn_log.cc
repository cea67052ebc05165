#include "corral/formats/txn_log.h"

#include <algorithm>

#include "corral/formats/checksum.h"
#include <fmt/format.h>

#include "internal.h"

namespace corral::formats {

using sdk::Code;
using sdk::Result;
using sdk::Status;
using sdk::Zxid;
using namespace internal;

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

}  // namespace corral::formats
