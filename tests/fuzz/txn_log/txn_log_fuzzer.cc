// libFuzzer target: a ZooKeeper txn log file (log.<zxid>), read the two ways Corral reads one.
//
// 1. storage.memlog's recovery (MemlogStorage::recoverLocked): formats::scanLog over the
//    file's bytes, formats::decodeEntry on every record, each txn applied with
//    formats::applyTxn in replay mode to a memlog DataTree (common/memlog_tree.h). Checked: a
//    decoded entry encodes back to an entry that decodes to the same txn; the records the scan
//    reports lie inside the file; the log rebuilt from the records with the writer's framing
//    (appendLogFileHeader, appendLogRecord) scans to the same entries and ends clean; the tree
//    answers reads afterwards. This runs on the input as it is, and again on a copy whose
//    records carry their right Adler32 (the framing walked as scanLog walks it), so that a
//    mutated entry reaches decodeEntry and applyTxn instead of stopping at the CRC check.
// 2. corral-logtool's `log` command (plugins/storage_memlog/tools/corral_logtool.cc, compiled
//    in here with its main() renamed) on the checksum-fixed bytes written to a file, as text and
//    as JSON:
//    exit status 0 (readable) or 1 (damaged), never 2 (usage error, or an exception).
// Also: readLogFile and mapLogFile on that file return exactly its bytes (it has no holes).
// Part 2 works on files and costs many times part 1: under libFuzzer it runs for one input in 4
// (common/sampling.h), in the replay for every input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/check.h"
#include "common/memlog_tree.h"
#include "common/sampling.h"
#include "common/scratch_dir.h"
#include "corral/formats/checksum.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "corral/txn_records.h"

#define main corral_logtool_main
#include "tools/corral_logtool.cc"
#undef main

namespace {

using corral::formats::LogEnd;
using corral::formats::LogRecord;


std::string encodeEntry(const corral::sdk::TxnEntry& txn) {
  std::string out;
  corral::sdk::JuteWriter writer(out);
  corral::sdk::encode(writer, txn);
  return out;
}

int logtool(const std::string& file, bool json) {
  std::string program = "corral-logtool";
  std::string command = "log";
  std::string path = file;
  std::string flag = "--json";
  std::vector<char*> argv{program.data(), command.data(), path.data()};
  if (json) argv.push_back(flag.data());
  argv.push_back(nullptr);
  return corral_logtool_main(static_cast<int>(argv.size() - 1), argv.data());
}

// The file with each record's stored Adler32 replaced by the right one.
std::string withFixedChecksums(std::string_view file) {
  std::string fixed(file);
  size_t pos = corral::formats::kFileHeaderSize;
  while (fixed.size() >= pos + 12) {
    const auto* p = reinterpret_cast<const unsigned char*>(fixed.data() + pos + 8);
    const uint32_t len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
    if (len == 0 || len > INT32_MAX || uint64_t{len} + 1 > fixed.size() - pos - 12) break;
    const uint32_t adler = corral::formats::adler32Of(std::string_view(fixed).substr(pos + 12, len));
    for (int i = 0; i < 8; ++i) fixed[pos + i] = static_cast<char>(i < 4 ? 0 : adler >> (8 * (7 - i)));
    pos += 12 + len + 1;
  }
  return fixed;
}

// MemlogStorage::recoverLocked's reading of one log file into a tree.
void recover(std::string_view file) {
  corral::plugins::memlog::DataTree tree;
  std::map<corral::sdk::SessionId, int32_t> sessions;
  corral::fuzz::MemlogMutations mutations(tree, sessions);
  std::vector<corral::sdk::OpOutcome> outcomes;
  std::vector<std::string_view> entries;
  bool undecodable = false;
  const auto scan = corral::formats::scanLog(file, [&](const LogRecord& record) {
    CHECK(record.entry.data() == file.data() + record.offset + 12);
    CHECK(record.offset + 12 + record.entry.size() + 1 <= file.size());
    corral::sdk::TxnEntry txn;
    if (!corral::formats::decodeEntry(record.entry, txn).isOk()) {
      undecodable = true;
      return false;  // recovery stops at an undecodable txn
    }
    corral::sdk::TxnEntry again;
    CHECK(corral::formats::decodeEntry(encodeEntry(txn), again).isOk());
    CHECK(again == txn);
    (void)corral::formats::opName(txn.header.type);
    outcomes.clear();
    (void)corral::formats::applyTxn(mutations, txn, corral::sdk::ApplyMode::kReplay, outcomes);
    (void)tree.digest();
    entries.push_back(record.entry);
    return true;
  });
  CHECK(scan.offset <= file.size());
  CHECK(scan.records == entries.size() + (undecodable ? 1 : 0));
  CHECK(scan.end != LogEnd::kStopped || undecodable);
  {
    // The writer's framing of the entries read reads back the same, and ends clean.
    std::string rebuilt;
    corral::formats::appendLogFileHeader(rebuilt);
    for (auto entry : entries) corral::formats::appendLogRecord(rebuilt, entry);
    size_t index = 0;
    const auto again = corral::formats::scanLog(rebuilt, [&](const LogRecord& record) {
      CHECK(index < entries.size() && record.entry == entries[index]);
      ++index;
      return true;
    });
    CHECK(again.end == LogEnd::kClean && index == entries.size() && again.offset == rebuilt.size());
  }
  corral::fuzz::readBack(tree);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  corral::fuzz::silenceStdout();
  (void)corral::fuzz::scratchDir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view file(reinterpret_cast<const char*>(data), size);

  // 1. Recovery, on the bytes as they are and with right checksums.
  recover(file);
  const std::string fixed = withFixedChecksums(file);
  if (fixed != file) recover(fixed);

  // 2. corral-logtool, on the fixed bytes as a file (one input in 4 under libFuzzer, see
  // common/sampling.h; every input in the replay).
  if (!corral::fuzz::takesCostlyPath(file)) return 0;
  const auto path = corral::fuzz::scratchDir() / "log.1";
  corral::fuzz::writeFile(path, fixed);
  auto read = corral::formats::readLogFile(path);
  CHECK(read.isOk() && *read == fixed);
  auto mapped = corral::formats::mapLogFile(path);
  CHECK(mapped.isOk() && mapped->view() == fixed);
  for (bool json : {false, true}) {
    const int rc = logtool(path.string(), json);
    CHECK(rc == 0 || rc == 1);
  }
  return 0;
}
