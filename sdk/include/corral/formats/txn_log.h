// ZooKeeper 3.8's txn log format (disk-formats.md §2-§4): file header, record framing with Adler32,
// preallocation padding, a scanner with ZooKeeper's end-of-log rules, and entry decoding.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "corral/status.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::formats {

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

// ---- text ---------------------------------------------------------------------------------------

std::string opName(sdk::OpCode type);
std::string hex(int64_t v);

}  // namespace corral::formats
