// corral-rocksdb: operator tool for storage.rocksdb's database (read-only: it also works while
// the server runs, on the state of the moment it opens).
//
//   corral-rocksdb export DATADIR OUTDIR [--data-log-dir DIR]
//       writes OUTDIR/version-2/snapshot.<zxid> (ZooKeeper 3.8's format, with its digest) and
//       OUTDIR/version-2/log.<zxid> (the txns the database still keeps): a data dir Apache
//       ZooKeeper and storage.memlog start on, and corral-logtool dumps.
//   corral-rocksdb stats DATADIR [--data-log-dir DIR]
//       applied zxid, node/ephemeral/session counts, log and undo retention, RocksDB's sizes.
//
// Exit status: 0 on success, 1 when the database cannot be read, 2 on usage errors.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <rocksdb/iterator.h>

#include "corral/formats/data_files.h"
#include "corral/formats/snapshot_stream.h"
#include "corral/formats/txn_log.h"
#include "encoding.h"
#include "rocks_store.h"
#include "snapshot_out.h"

namespace rocks = corral::plugins::rocks;
namespace formats = corral::formats;
namespace sdk = corral::sdk;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  corral-rocksdb export DATADIR OUTDIR [--data-log-dir DIR]\n"
    "  corral-rocksdb stats DATADIR [--data-log-dir DIR]\n"
    "  corral-rocksdb --version | --help\n";

int usage() {
  std::fputs(kUsage, stderr);
  return 2;
}

int fail(const sdk::Status& status) {
  std::fprintf(stderr, "error: %s\n", status.toString().c_str());
  return 1;
}

sdk::Result<std::unique_ptr<rocks::RocksStore>> openReadOnly(const std::string& data_dir, const std::string& log_dir) {
  rocks::RocksSettings settings;
  settings.data_dir = data_dir;
  settings.log_dir = log_dir.empty() ? data_dir : log_dir;
  settings.max_open_files = 256;
  bool created = false;
  return rocks::RocksStore::open(settings, created, rocks::RocksStore::Mode::kReadOnly);
}

// The retained txns as one ZooKeeper txn log file named after the first.
sdk::Status exportLog(rocks::RocksStore& store, const rocksdb::Snapshot* snapshot, const std::filesystem::path& dir,
                      int64_t& count) {
  rocksdb::ReadOptions options;
  options.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> it(store.db().NewIterator(options, store.cf(rocks::Cf::kLog)));
  it->SeekToFirst();
  if (!it->Valid()) return rocks::toStatus(it->status(), "reading the log");
  const auto first = static_cast<sdk::Zxid>(rocks::getBe64(it->key().data()));
  std::string bytes;
  formats::appendLogFileHeader(bytes);
  for (; it->Valid(); it->Next()) {
    formats::appendLogRecord(bytes, std::string_view(it->value().data(), it->value().size()));
    ++count;
  }
  if (!it->status().ok()) return rocks::toStatus(it->status(), "reading the log");
  const auto file = dir / formats::logFileName(first);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return sdk::Status(sdk::Code::kIoError, "cannot write " + file.string());
  return sdk::Status::ok();
}

int exportDataDir(const std::string& data_dir, const std::string& log_dir, const std::filesystem::path& out_dir) {
  auto store = openReadOnly(data_dir, log_dir);
  if (!store.isOk()) return fail(store.status());
  const auto dir = out_dir / "version-2";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(sdk::Status(sdk::Code::kIoError, fmt::format("cannot create {}: {}", dir.string(), ec.message())));
  rocks::ScopedSnapshot snapshot((*store)->db());
  // The file is named by the zxid, known only once the stream has read it: write to a
  // provisional name and let the writer publish under the right one.
  std::string applied;
  sdk::Zxid zxid = 0;
  rocks::TreeCounters counters;
  rocksdb::ReadOptions options;
  options.snapshot = snapshot.get();
  auto status = (*store)->db().Get(options, (*store)->cf(rocks::Cf::kMeta), rocks::kMetaApplied, &applied);
  if (!status.ok() || !rocks::decodeApplied(applied, zxid, counters)) {
    return fail(status.ok() ? sdk::Status(sdk::Code::kCorruptData, "bad applied record") : rocks::toStatus(status, "meta"));
  }
  const auto file = dir / formats::snapshotFileName(zxid, formats::Compression::kNone);
  auto writer = formats::SnapshotFileWriter::create(file, formats::Compression::kNone, true);
  if (!writer.isOk()) return fail(writer.status());
  auto streamed = rocks::streamState(**store, snapshot.get(), [&](std::string_view bytes) { return (*writer)->write(bytes); });
  if (!streamed.isOk()) return fail(streamed.status());
  auto size = (*writer)->finish(std::make_pair(streamed->zxid, streamed->digest));
  if (!size.isOk()) return fail(size.status());
  int64_t txns = 0;
  if (auto logged = exportLog(**store, snapshot.get(), dir, txns); !logged.isOk()) {
    return fail(logged);
  }
  std::printf("exported zxid 0x%llx: %lld nodes to %s (%llu bytes), %lld logged txns\n",
              static_cast<unsigned long long>(streamed->zxid), static_cast<long long>(streamed->nodes), file.c_str(),
              static_cast<unsigned long long>(*size), static_cast<long long>(txns));
  return 0;
}

int stats(const std::string& data_dir, const std::string& log_dir) {
  auto store = openReadOnly(data_dir, log_dir);
  if (!store.isOk()) return fail(store.status());
  auto& db = (*store)->db();
  std::string applied;
  sdk::Zxid zxid = 0;
  rocks::TreeCounters counters;
  auto status = db.Get(rocksdb::ReadOptions(), (*store)->cf(rocks::Cf::kMeta), rocks::kMetaApplied, &applied);
  if (!status.ok() || !rocks::decodeApplied(applied, zxid, counters)) {
    return fail(status.ok() ? sdk::Status(sdk::Code::kCorruptData, "bad applied record") : rocks::toStatus(status, "meta"));
  }
  nlohmann::json out;
  out["applied_zxid"] = fmt::format("0x{:x}", zxid);
  out["nodes"] = counters.nodes;
  out["ephemerals"] = counters.ephemerals;
  out["approximate_data_size"] = counters.data_size;
  for (size_t i = 0; i < static_cast<size_t>(rocks::Cf::kCount); ++i) {
    const auto cf = static_cast<rocks::Cf>(i);
    uint64_t keys = 0, sst = 0;
    db.GetIntProperty((*store)->cf(cf), "rocksdb.estimate-num-keys", &keys);
    db.GetIntProperty((*store)->cf(cf), "rocksdb.total-sst-files-size", &sst);
    out["column_families"][rocks::cfName(cf)] = {{"estimated_keys", keys}, {"sst_bytes", sst}};
  }
  std::cout << out.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args[0] == "--version") {
    std::printf("%s %s\n", "corral-rocksdb", CORRAL_VERSION);
    return 0;
  }
  const std::string command = args[0];
  std::vector<std::string> positional;
  std::string log_dir;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--data-log-dir" && i + 1 < args.size()) {
      log_dir = args[++i];
    } else if (args[i].starts_with("--")) {
      return usage();
    } else {
      positional.push_back(args[i]);
    }
  }
  try {
    if (command == "export" && positional.size() == 2) return exportDataDir(positional[0], log_dir, positional[1]);
    if (command == "stats" && positional.size() == 1) return stats(positional[0], log_dir);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return usage();
}
