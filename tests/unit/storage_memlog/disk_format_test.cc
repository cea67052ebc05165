// Txn log and snapshot codecs against golden files written by Apache ZooKeeper 3.8.0
// (golden/README.md), plus Corral's own writer, group commit, recovery and purge.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "corral/basic_metrics_registry.h"
#include "corral/admin.h"
#include "corral/host.h"
#include "corral/formats/checksum.h"
#include "corral/formats/failpoints.h"
#include "corral/formats/compression.h"
#include "corral/formats/data_files.h"
#include "corral/formats/file_bytes.h"
#include "corral/formats/snapshot_codec.h"
#include "corral/formats/txn_log.h"
#include "purge.h"
#include "memlog_storage.h"
#include "txn_log_file.h"

namespace corral::plugins::memlog {
namespace {

namespace fs = std::filesystem;
using sdk::OpCode;

const fs::path kGolden = fs::path(CORRAL_GOLDEN_DIR) / "zk38";

// ---- a minimal Host ---------------------------------------------------------------------------

class TestLogger final : public sdk::Logger {
 public:
  void log(sdk::LogLevel, std::string_view message) noexcept override {
    std::lock_guard lock(mutex_);
    lines_.emplace_back(message);
  }
  bool enabled(sdk::LogLevel) const noexcept override { return true; }
  bool contains(std::string_view text) const {
    std::lock_guard lock(mutex_);
    for (const auto& line : lines_) {
      if (line.find(text) != std::string::npos) return true;
    }
    return false;
  }
  std::string all() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& line : lines_) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

using TestMetrics = sdk::BasicMetricsRegistry;

class TestCommands final : public sdk::CommandRegistry {
 public:
  sdk::Status add(sdk::Command command) noexcept override {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::make_unique<sdk::Command>(std::move(command)));
    return sdk::Status::ok();
  }
  const sdk::Command* find(std::string_view name) const noexcept override {
    std::lock_guard lock(mutex_);
    for (const auto& c : commands_) {
      if (c->name == name) return c.get();
    }
    return nullptr;
  }
  std::vector<const sdk::Command*> all() const override { return {}; }

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<sdk::Command>> commands_;
};

class TestHost final : public sdk::Host {
 public:
  sdk::Logger& logger() noexcept override { return logger_; }
  sdk::MetricsRegistry& metrics() noexcept override { return metrics_; }
  boost::asio::io_context& ioContext() noexcept override { return io_; }
  boost::asio::thread_pool& blockingPool() noexcept override { return pool_; }
  sdk::CommandRegistry& commands() noexcept override { return commands_; }
  int64_t serverId() const noexcept override { return 0; }
  TestLogger logger_;
  TestMetrics metrics_;
  TestCommands commands_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{1};
};

// ---- helpers ----------------------------------------------------------------------------------

std::string readFile(const fs::path& p) {
  auto bytes = formats::readWholeFile(p);
  EXPECT_TRUE(bytes.isOk()) << p;
  return bytes.isOk() ? *bytes : std::string();
}

void writeFile(const fs::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/corral-memlog-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

struct ParsedSnapshot {
  std::map<sdk::SessionId, int32_t> sessions;
  std::map<int64_t, sdk::AclList> acls;
  struct Node {
    sdk::OptionalBytes data;
    sdk::AclList acl;
    sdk::StatPersisted stat;
    bool operator==(const Node&) const = default;
  };
  std::map<std::string, Node> nodes;
  std::vector<std::string> order;
  formats::SnapshotInfo info;
  sdk::Status status;
};

ParsedSnapshot parse(std::string_view bytes, bool digest = true) {
  ParsedSnapshot out;
  std::map<std::string, int64_t> keys;
  formats::SnapshotVisitor v;
  v.on_session = [&](sdk::SessionId id, int32_t t) { out.sessions[id] = t; };
  v.on_acl = [&](int64_t key, sdk::AclList acl) {
    out.acls[key] = std::move(acl);
    return sdk::Status::ok();
  };
  v.on_node = [&](std::string_view path, std::optional<std::string_view> data, int64_t key,
                  const sdk::StatPersisted& stat) {
    auto& n = out.nodes[std::string(path)];
    n.data = data ? sdk::OptionalBytes(std::string(*data)) : std::nullopt;
    n.stat = stat;
    keys[std::string(path)] = key;
    out.order.emplace_back(path);
    return sdk::Status::ok();
  };
  out.status = formats::parseSnapshot(bytes, digest, v, out.info);
  for (auto& [path, node] : out.nodes) {
    const int64_t key = keys[path];
    node.acl = key == -1 ? sdk::AclList{{31, {"world", "anyone"}}} : out.acls[key];
  }
  return out;
}

std::vector<std::pair<formats::LogRecord, sdk::TxnEntry>> readLog(std::string_view bytes, formats::LogScan* scan_out = nullptr) {
  std::vector<std::pair<formats::LogRecord, sdk::TxnEntry>> out;
  auto scan = formats::scanLog(bytes, [&](const formats::LogRecord& r) {
    sdk::TxnEntry txn;
    EXPECT_TRUE(formats::decodeEntry(r.entry, txn).isOk()) << "offset " << r.offset;
    out.emplace_back(r, std::move(txn));
    return true;
  });
  if (scan_out) *scan_out = scan;
  return out;
}

DurabilitySettings durableIn(const fs::path& dir) {
  DurabilitySettings s;
  s.durable = true;
  s.data_dir = dir;
  s.log_dir = dir;
  s.prealloc_kb = 64;
  return s;
}

sdk::TxnEntry createTxn(sdk::Zxid zxid, const std::string& path, const std::string& data,
                        int32_t parent_cversion, sdk::SessionId owner = 0) {
  sdk::TxnEntry txn;
  txn.header = {owner == 0 ? 0x100 : owner, static_cast<int32_t>(zxid), zxid, 1700000000000 + zxid, OpCode::kCreate};
  sdk::CreateTxn create;
  create.path = path;
  create.data = data;
  create.acl = {{31, {"world", "anyone"}}};
  create.ephemeral = owner != 0;
  create.parent_cversion = parent_cversion;
  txn.body = create;
  return txn;
}

sdk::TxnEntry sessionTxn(sdk::Zxid zxid, sdk::SessionId id, int32_t timeout) {
  sdk::TxnEntry txn;
  txn.header = {id, 0, zxid, 1700000000000 + zxid, OpCode::kCreateSession};
  txn.body = sdk::CreateSessionTxn{timeout};
  return txn;
}

// Appends and waits for the done callback.
sdk::Status appendSync(MemlogStorage& storage, const sdk::TxnEntry& txn) {
  std::promise<sdk::Status> done;
  storage.append(std::span<const sdk::TxnEntry>(&txn, 1), [&](sdk::Status st) { done.set_value(st); });
  return done.get_future().get();
}

void appendApply(MemlogStorage& storage, const sdk::TxnEntry& txn) {
  ASSERT_TRUE(appendSync(storage, txn).isOk());
  std::vector<sdk::OpOutcome> outcomes;
  ASSERT_TRUE(storage.apply(txn, sdk::ApplyMode::kLive, outcomes).isOk());
}

// ---- golden: txn log --------------------------------------------------------------------------

TEST(GoldenLog, EveryZooKeeperRecordDecodesAndReencodesByteForByte) {
  const std::string bytes = readFile(kGolden / "log.1");
  formats::LogScan scan;
  auto records = readLog(bytes, &scan);
  EXPECT_EQ(scan.end, formats::LogEnd::kClean);
  EXPECT_EQ(scan.header, (sdk::FileHeader{sdk::kTxnLogMagic, 2, 0}));
  ASSERT_GE(records.size(), 30u);
  std::set<OpCode> types;
  sdk::Zxid expected_zxid = 1;
  for (const auto& [record, txn] : records) {
    EXPECT_EQ(txn.header.zxid, expected_zxid++);
    types.insert(txn.header.type);
    // Error txns carry no digest, every other txn does (digest.enabled default).
    EXPECT_EQ(txn.digest.has_value(), txn.header.type != OpCode::kError) << formats::opName(txn.header.type);
    std::string reencoded = sdk::encodeToString(txn);
    EXPECT_EQ(reencoded, record.entry) << "zxid " << txn.header.zxid;
    std::string framed;
    formats::appendLogRecord(framed, record.entry);
    EXPECT_EQ(framed, bytes.substr(record.offset, framed.size()));
  }
  for (OpCode t : {OpCode::kCreateSession, OpCode::kCloseSession, OpCode::kCreate, OpCode::kCreate2,
                   OpCode::kCreateContainer, OpCode::kCreateTtl, OpCode::kDelete, OpCode::kSetData,
                   OpCode::kSetAcl, OpCode::kMulti, OpCode::kError}) {
    EXPECT_TRUE(types.count(t)) << formats::opName(t);
  }
}

TEST(GoldenLog, LogNamesAndSelection) {
  auto logs = formats::listDataFiles(kGolden, "log");
  ASSERT_EQ(logs.size(), 4u);
  EXPECT_EQ(logs[0].zxid, 1);
  EXPECT_EQ(logs[1].zxid, 0x29);
  auto snaps = formats::listDataFiles(kGolden, "snapshot");
  ASSERT_EQ(snaps.size(), 4u);
  EXPECT_EQ(snaps.back().path.filename(), "snapshot.2c.snappy");
  // Util.getLogFiles: the newest log starting at or before the snapshot, and every later one.
  auto after = formats::logsAfter(logs, 0x28);
  ASSERT_EQ(after.size(), 4u);
  after = formats::logsAfter(logs, 0x2a);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[0].zxid, 0x29);
  EXPECT_EQ(formats::logFileName(0x100000001), "log.100000001");
  EXPECT_EQ(formats::snapshotFileName(0, formats::Compression::kGzip), "snapshot.0.gz");
}

TEST(GoldenLog, CorruptionIsFoundWhereZooKeeperFindsIt) {
  const std::string bytes = readFile(kGolden / "log.1");
  auto records = readLog(bytes);
  ASSERT_GE(records.size(), 3u);
  const auto& third = records[2].first;
  {  // a flipped entry byte: CRC error at that record
    std::string bad = bytes;
    bad[third.offset + 12 + 5] ^= 0x01;
    formats::LogScan scan;
    auto got = readLog(bad, &scan);
    EXPECT_EQ(scan.end, formats::LogEnd::kCrcError);
    EXPECT_EQ(scan.offset, third.offset);
    EXPECT_EQ(got.size(), 2u);
  }
  {  // the end-of-record byte missing: partial, the records before it are kept
    std::string bad = bytes;
    bad[third.offset + 12 + third.entry.size()] = 0;
    formats::LogScan scan;
    auto got = readLog(bad, &scan);
    EXPECT_EQ(scan.end, formats::LogEnd::kPartial);
    EXPECT_EQ(got.size(), 2u);
  }
  {  // torn in the middle of a record
    std::string bad = bytes.substr(0, third.offset + 20);
    formats::LogScan scan;
    auto got = readLog(bad, &scan);
    EXPECT_EQ(scan.end, formats::LogEnd::kPartial);
    EXPECT_EQ(got.size(), 2u);
  }
  {  // wrong magic
    std::string bad = bytes;
    bad[0] = 'X';
    formats::LogScan scan;
    readLog(bad, &scan);
    EXPECT_EQ(scan.end, formats::LogEnd::kBadHeader);
  }
}

// ---- golden: snapshots ------------------------------------------------------------------------

TEST(GoldenSnapshot, FreshSnapshotMatchesZooKeepers) {
  const std::string golden = readFile(kGolden / "snapshot.0");
  ASSERT_EQ(golden.size(), 457u);
  auto zk = parse(golden);
  ASSERT_TRUE(zk.status.isOk()) << zk.status.toString();
  EXPECT_TRUE(zk.info.has_digest);
  EXPECT_EQ(zk.info.digest_zxid, 0);
  EXPECT_EQ(zk.info.digest, 0);

  TestHost host;
  TempDir dir;
  MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk()) << host.logger_.all();
  storage.stop();
  const std::string ours = readFile(dir.path / "version-2" / "snapshot.0");
  auto mine = parse(ours);
  ASSERT_TRUE(mine.status.isOk());
  EXPECT_EQ(mine.nodes, zk.nodes);
  EXPECT_EQ(mine.acls, zk.acls);
  EXPECT_EQ(mine.sessions, zk.sessions);
  EXPECT_EQ(ours.size(), golden.size());
  if (mine.order == zk.order) {
    EXPECT_EQ(ours, golden);  // byte-identical when the order agrees
  }
  // The empty tree's digest (disk-formats.md §8).
  EXPECT_EQ(storage.tree().digest(), 1371985504);
}

TEST(GoldenSnapshot, PlainGzipAndSnappyHoldTheSameTree) {
  auto plain = parse(readFile(kGolden / "snapshot.28"));
  ASSERT_TRUE(plain.status.isOk()) << plain.status.toString();
  EXPECT_GE(plain.nodes.size(), 20u);
  EXPECT_FALSE(plain.sessions.empty());
  EXPECT_TRUE(plain.info.has_digest);
  EXPECT_EQ(plain.info.digest_zxid, 0x28);
  for (const char* name : {"snapshot.2a.gz", "snapshot.2c.snappy"}) {
    EXPECT_TRUE(formats::looksLikeValidSnapshot(kGolden / name)) << name;
    auto bytes = formats::readSnapshotFile(kGolden / name);
    ASSERT_TRUE(bytes.isOk()) << name << ": " << bytes.status().toString();
    auto other = parse(*bytes);
    ASSERT_TRUE(other.status.isOk()) << name;
    EXPECT_EQ(other.nodes, plain.nodes) << name;
    EXPECT_EQ(other.sessions, plain.sessions) << name;
    EXPECT_EQ(other.info.digest, plain.info.digest) << name;
  }
  // A reader with digests off stops after the first seal.
  auto no_digest = parse(readFile(kGolden / "snapshot.28"), false);
  ASSERT_TRUE(no_digest.status.isOk());
  EXPECT_FALSE(no_digest.info.has_digest);
}

TEST(GoldenSnapshot, DamageIsReportedWithOffset) {
  std::string bytes = readFile(kGolden / "snapshot.28");
  bytes[200] ^= 0x20;
  auto bad = parse(bytes);
  EXPECT_FALSE(bad.status.isOk());
  std::string cut = readFile(kGolden / "snapshot.28");
  cut.resize(cut.size() - 3);
  writeFile(fs::path(::testing::TempDir()) / "snapshot.1", cut);
  EXPECT_FALSE(formats::looksLikeValidSnapshot(fs::path(::testing::TempDir()) / "snapshot.1"));
}

TEST(GoldenSnapshot, NullNodePathIsCorrupt) {
  // A null path (length -1) is neither a node nor the end marker; ZooKeeper's load fails on it.
  // It was read as the root's empty path (found by the snapshot fuzzer).
  std::string bytes = readFile(kGolden / "snapshot.0");
  const size_t root = bytes.find("anyone") + 6;
  ASSERT_EQ(bytes.substr(root, 4), std::string(4, '\0'));  // the root's path ""
  bytes.replace(root, 4, std::string(4, '\xff'));
  // Sealed again, so that only the path is wrong.
  const size_t covered = bytes.find(std::string("\0\0\0\x01/", 5)) + 5;
  const uint32_t adler = formats::adler32Of(std::string_view(bytes).substr(0, covered));
  for (int i = 0; i < 8; ++i) bytes[covered + i] = static_cast<char>(i < 4 ? 0 : adler >> (8 * (7 - i)));
  auto bad = parse(bytes, false);
  EXPECT_EQ(bad.status.code(), sdk::Code::kCorruptData);
  EXPECT_NE(bad.status.message().find("null node path"), std::string::npos) << bad.status.toString();
}

// ---- golden: whole data dir recovery --------------------------------------------------------

TEST(GoldenRecovery, ZooKeeperDataDirRecoversWithEveryDigestMatching) {
  TestHost host;
  TempDir dir;
  fs::create_directories(dir.path / "version-2");
  // Only snapshot.0 and the logs: every txn of the workload is replayed and its TxnDigest
  // (ZooKeeper's tree digest after the txn) compared with Corral's tree.
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    const auto name = entry.path().filename().string();
    if (name.starts_with("log.") || name == "snapshot.0") fs::copy_file(entry.path(), dir.path / "version-2" / name);
  }
  MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk()) << host.logger_.all();
  const auto& report = storage.lastRecovery();
  EXPECT_GE(report.replayed, 40);
  EXPECT_GE(report.digest_checks, 30);
  EXPECT_EQ(report.digest_mismatches, 0) << host.logger_.all();
  EXPECT_EQ(report.last_zxid, 0x2e);
  // The tree equals ZooKeeper's own snapshot of the same state.
  auto zk = parse(*formats::readSnapshotFile(kGolden / "snapshot.2c.snappy"));
  storage.stop();
  auto ours = parse(readFile(dir.path / "version-2" / "snapshot.2e"));
  ASSERT_TRUE(ours.status.isOk());
  EXPECT_EQ(ours.nodes, zk.nodes);
  EXPECT_EQ(ours.sessions, zk.sessions);
  EXPECT_EQ(ours.info.digest, zk.info.digest);
  std::map<sdk::SessionId, int32_t> recovered;
  for (const auto& s : sessions) recovered[s.id] = s.timeout_ms;
  EXPECT_EQ(recovered, zk.sessions);
}

TEST(GoldenRecovery, NewestSnapshotIsUsedAndCompressedOnesAreRead) {
  TestHost host;
  TempDir dir;
  fs::create_directories(dir.path / "version-2");
  for (const auto& entry : fs::directory_iterator(kGolden)) {
    fs::copy_file(entry.path(), dir.path / "version-2" / entry.path().filename());
  }
  MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk()) << host.logger_.all();
  EXPECT_EQ(storage.lastRecovery().snapshot.filename(), "snapshot.2c.snappy");
  EXPECT_EQ(storage.lastRecovery().replayed, 2);
  EXPECT_EQ(storage.lastRecovery().digest_mismatches, 0);
  storage.stop();
}

// ---- Corral's writer --------------------------------------------------------------------------

TEST(TxnLogFile, FreshLogIsHeaderPlusPreallocation) {
  TempDir dir;
  TxnLogFile file;
  ASSERT_TRUE(file.open(dir.path, 0x100000001, 64 * 1024).isOk());
  std::string records;
  sdk::TxnEntry txn = createTxn(0x100000001, "/a", "x", 1);
  formats::appendLogRecord(records, sdk::encodeToString(txn));
  ASSERT_TRUE(file.write(records).isOk());
  ASSERT_TRUE(file.sync().isOk());
  file.close();
  const auto path = dir.path / "log.100000001";
  EXPECT_EQ(fs::file_size(path), 16u + 64 * 1024);
  auto got = readLog(readFile(path));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].second, txn);
  EXPECT_EQ(formats::paddedFileSize(16, 16, 65536), 16 + 65536);
  EXPECT_EQ(formats::paddedFileSize(70000, 65552, 65536), 131072);
}

// Regression (#12): a failed fsync of the log directory was ignored, so txns were acknowledged
// in a file whose directory entry might not survive a crash. Now the open, and with it the
// append, fails.
TEST(TxnLogFile, DirectoryFsyncFailureFailsTheOpen) {
  TempDir dir;
  TxnLogFile file;
  formats::failpoints::failDirectoryFsync(EIO);
  const sdk::Status st = file.open(dir.path, 0x100000001, 4096);
  formats::failpoints::clear();
  EXPECT_EQ(st.code(), sdk::Code::kIoError) << st.toString();
  EXPECT_NE(st.message().find("fsync directory"), std::string::npos) << st.message();
  ASSERT_TRUE(file.open(dir.path, 0x100000001, 4096).isOk());
}

TEST(Storage, DirectoryFsyncFailureFailsTheAppend) {
  TestHost host;
  TempDir dir;
  MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  formats::failpoints::failDirectoryFsync(EIO);
  const sdk::TxnEntry txn = createTxn(1, "/a", "x", 1);
  std::promise<sdk::Status> done;
  storage.append(std::span<const sdk::TxnEntry>(&txn, 1), [&](sdk::Status st) { done.set_value(st); });
  const sdk::Status st = done.get_future().get();
  formats::failpoints::clear();
  EXPECT_EQ(st.code(), sdk::Code::kIoError) << st.toString();
  storage.stop();
}

// Regression: lsnp / last_snapshot reported zxid 0 because the storage never said which
// snapshot it had. Now: the one it wrote last, or the one it loaded at recovery.
TEST(Snapshot, StatsNameTheNewestSnapshotWrittenOrLoaded) {
  TestHost host;
  TempDir dir;
  const int64_t before_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch()).count();
  {
    MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    appendApply(storage, createTxn(1, "/a", "x", 1));
    appendApply(storage, createTxn(2, "/b", "y", 2));
    ASSERT_TRUE(storage.snapshotNow().isOk());
    EXPECT_EQ(storage.stats().last_snapshot_zxid, 2);
    EXPECT_GE(storage.stats().last_snapshot_time_ms, before_ms - 1000);
    storage.stop();
  }
  MemlogStorage restarted(host, durableIn(dir.path));
  ASSERT_TRUE(restarted.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(restarted.recover(sessions).isOk());
  EXPECT_EQ(restarted.stats().last_snapshot_zxid, 2);
  EXPECT_GE(restarted.stats().last_snapshot_time_ms, before_ms - 1000);  // the file's mtime
  restarted.stop();
}

TEST(Snapshot, RoundTripEveryCompression) {
  TestHost host;
  TempDir dir;
  for (auto c : {formats::Compression::kNone, formats::Compression::kGzip, formats::Compression::kSnappy}) {
    auto settings = durableIn(dir.path / std::string(formats::compressionName(c)));
    settings.compression = c;
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    appendApply(storage, sessionTxn(1, 0x77, 30000));
    appendApply(storage, createTxn(2, "/a", std::string(5000, 'a'), 1));
    appendApply(storage, createTxn(3, "/a/e", "eph", 1, 0x77));
    auto file = storage.snapshotNow();
    ASSERT_TRUE(file.isOk());
    EXPECT_EQ(formats::compressionOfFile(*file), c);
    EXPECT_TRUE(formats::looksLikeValidSnapshot(*file));
    auto bytes = formats::readSnapshotFile(*file);
    ASSERT_TRUE(bytes.isOk());
    auto parsed = parse(*bytes);
    ASSERT_TRUE(parsed.status.isOk());
    EXPECT_EQ(parsed.sessions.at(0x77), 30000);
    EXPECT_EQ(parsed.nodes.at("/a/e").stat.ephemeral_owner, 0x77);
    EXPECT_EQ(parsed.info.digest_zxid, 3);
    EXPECT_EQ(parsed.info.digest, storage.tree().digest());
    storage.stop();
  }
}

TEST(Snapshot, NodeLargerThanABodyChunkRoundTrips) {
  // Snapshot bodies are built in 4 MiB mapped chunks; a record that does not fit in one gets a
  // chunk of its own. Recovery then maps the file and checks it on two threads.
  TestHost host;
  TempDir dir;
  auto settings = durableIn(dir.path);
  const std::string big(9 << 20, 'b');
  int64_t digest = 0;
  {
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    appendApply(storage, createTxn(1, "/small", "s", 1));
    appendApply(storage, createTxn(2, "/big", big, 2));
    appendApply(storage, createTxn(3, "/big/after", "a", 1));
    ASSERT_TRUE(storage.snapshotNow().isOk());
    digest = storage.tree().digest();
    storage.stop();
  }
  MemlogStorage again(host, settings);
  ASSERT_TRUE(again.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(again.recover(sessions).isOk()) << host.logger_.all();
  EXPECT_EQ(again.lastRecovery().replayed, 0);
  EXPECT_EQ(again.tree().getData("/big")->data, big);
  EXPECT_TRUE(again.tree().exists("/big/after").isOk());
  EXPECT_EQ(again.tree().digest(), digest);
  again.stop();
}

TEST(Snapshot, DamagedNewestSnapshotFallsBackToAnOlderOne) {
  // The seals are checked on the loading thread while a second one sums the digest; a damaged
  // node must still reject the snapshot, and recovery then replays from the older one.
  TestHost host;
  TempDir dir;
  auto settings = durableIn(dir.path);
  fs::path newest;
  {
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    appendApply(storage, createTxn(1, "/a", "first", 1));
    ASSERT_TRUE(storage.snapshotNow().isOk());
    appendApply(storage, createTxn(2, "/b", "second-node-data", 2));
    auto file = storage.snapshotNow();
    ASSERT_TRUE(file.isOk());
    newest = *file;
    storage.stop();
  }
  std::string bytes = readFile(newest);
  const size_t at = bytes.find("second-node-data");
  ASSERT_NE(at, std::string::npos);
  bytes[at] = 'S';
  writeFile(newest, bytes);
  MemlogStorage again(host, settings);
  ASSERT_TRUE(again.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(again.recover(sessions).isOk()) << host.logger_.all();
  EXPECT_TRUE(host.logger_.contains("CRC corruption in snapshot")) << host.logger_.all();
  EXPECT_NE(again.lastRecovery().snapshot, newest);
  EXPECT_EQ(again.lastRecovery().replayed, 1);
  EXPECT_EQ(again.tree().getData("/b")->data, "second-node-data");
  again.stop();
}

TEST(FileBytes, MappedFilesReadLikeCopiedOnes) {
  TempDir dir;
  writeFile(dir.path / "empty", "");
  auto empty = formats::FileBytes::map(dir.path / "empty");
  ASSERT_TRUE(empty.isOk());
  EXPECT_TRUE(empty->view().empty());
  EXPECT_FALSE(formats::FileBytes::map(dir.path / "missing").isOk());
  // A preallocated log: header and records, then a sparse zero tail.
  TxnLogFile log;
  ASSERT_TRUE(log.open(dir.path, 1, 64 * 1024).isOk());
  std::string records;
  for (int i = 1; i <= 3; ++i) {
    std::string entry;
    sdk::JuteWriter w(entry);
    sdk::encode(w, createTxn(i, "/n" + std::to_string(i), "d", i));
    formats::appendLogRecord(records, entry);
  }
  ASSERT_TRUE(log.write(records).isOk());
  log.close();
  const fs::path file = dir.path / formats::logFileName(1);
  auto mapped = formats::mapLogFile(file);
  ASSERT_TRUE(mapped.isOk());
  EXPECT_TRUE(mapped->isMapped());
  EXPECT_EQ(mapped->size(), fs::file_size(file));
  auto copied = formats::readLogFile(file);
  ASSERT_TRUE(copied.isOk());
  EXPECT_EQ(mapped->view().substr(0, copied->size()), *copied);
  formats::LogScan scan;
  EXPECT_EQ(readLog(mapped->view(), &scan).size(), 3u);
  EXPECT_EQ(scan.end, formats::LogEnd::kClean);
  // Moving keeps the mapping valid.
  formats::FileBytes moved = std::move(*mapped);
  EXPECT_EQ(moved.view().substr(0, copied->size()), *copied);
  // Released pages leave the process but read the same when touched again.
  const std::string big(3 * 4096 + 100, 'z');
  writeFile(dir.path / "big", big);
  auto whole = formats::FileBytes::map(dir.path / "big");
  ASSERT_TRUE(whole.isOk());
  whole->releaseBefore(2 * 4096 + 7);
  EXPECT_EQ(whole->view(), big);
}

TEST(Snappy, BlockCodecInteroperates) {
  std::string input;
  for (int i = 0; i < 10000; ++i) input += "abcabcabc" + std::to_string(i % 17);
  auto back = formats::snappyUncompressBlock(formats::snappyCompressBlock(input));
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(*back, input);
  EXPECT_FALSE(formats::snappyUncompressBlock("\x05\x10").isOk());
}

// ---- storage: group commit, recovery, crash cases ------------------------------------------

TEST(Storage, GroupCommitAcknowledgesInOrderAndSurvivesRestart) {
  TestHost host;
  TempDir dir;
  {
    MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    std::mutex mutex;
    std::vector<sdk::Zxid> acked;
    std::vector<sdk::TxnEntry> txns;
    for (int i = 1; i <= 500; ++i) txns.push_back(createTxn(i, "/n" + std::to_string(i), "d", i));
    std::atomic<int> remaining{500};
    std::promise<void> all;
    for (const auto& txn : txns) {
      storage.append(std::span<const sdk::TxnEntry>(&txn, 1), [&, zxid = txn.header.zxid](sdk::Status st) {
        EXPECT_TRUE(st.isOk());
        {
          std::lock_guard lock(mutex);
          acked.push_back(zxid);
        }
        if (--remaining == 0) all.set_value();
      });
    }
    all.get_future().wait();
    for (size_t i = 0; i < acked.size(); ++i) EXPECT_EQ(acked[i], static_cast<sdk::Zxid>(i + 1));
    std::vector<sdk::OpOutcome> outcomes;
    for (const auto& txn : txns) ASSERT_TRUE(storage.apply(txn, sdk::ApplyMode::kLive, outcomes).isOk());
    // fewer fsyncs than txns: they were grouped
    storage.stop();
  }
  MemlogStorage again(host, durableIn(dir.path));
  ASSERT_TRUE(again.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(again.recover(sessions).isOk()) << host.logger_.all();
  EXPECT_EQ(again.lastRecovery().replayed, 500);
  EXPECT_EQ(again.stats().last_applied_zxid, 500);
  EXPECT_EQ(again.tree().nodeCount(), 4u + 500u);
  // A restarted server never appends to an old file: the next txn opens log.1f5.
  appendApply(again, createTxn(501, "/n501", "d", 501));
  again.stop();
  EXPECT_TRUE(fs::exists(dir.path / "version-2" / "log.1f5"));
}

TEST(Storage, SnapshotEverySnapCountAndPurge) {
  TestHost host;
  TempDir dir;
  auto settings = durableIn(dir.path);
  settings.snap_count = 10;
  MemlogStorage storage(host, settings);
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  // A roll every 6..10 txns, with a snapshot unless the previous one is still being written
  // ("Too busy to snap"). Waiting for each window's snapshot keeps the count independent of
  // how busy the machine is.
  auto snapshotCount = [&] { return formats::listDataFiles(dir.path / "version-2", "snapshot").size(); };
  size_t window_start = snapshotCount();
  for (int i = 1; i <= 100; ++i) {
    appendApply(storage, createTxn(i, "/n" + std::to_string(i), "d", i));
    if (i % 10 == 0) {
      // Every window of 10 txns rolls the log at least once.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (snapshotCount() <= window_start && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      window_start = snapshotCount();
    }
  }
  storage.stop();
  auto snaps = formats::listDataFiles(dir.path / "version-2", "snapshot");
  auto logs = formats::listDataFiles(dir.path / "version-2", "log");
  EXPECT_GE(logs.size(), 10u);
  EXPECT_GE(snaps.size(), 4u);
  auto purged = purge(dir.path / "version-2", dir.path / "version-2", 3);
  ASSERT_TRUE(purged.isOk());
  EXPECT_EQ(purged->kept_snapshots.size(), 3u);
  MemlogStorage again(host, settings);
  ASSERT_TRUE(again.start().isOk());
  ASSERT_TRUE(again.recover(sessions).isOk()) << host.logger_.all();
  EXPECT_EQ(again.stats().last_applied_zxid, 100);
  EXPECT_EQ(again.tree().nodeCount(), 104u);
  again.stop();
}

TEST(Storage, TornTailIsCutAndBadChecksumIsAnError) {
  TestHost host;
  TempDir dir;
  {
    MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    for (int i = 1; i <= 5; ++i) appendApply(storage, createTxn(i, "/n" + std::to_string(i), "d", i));
    storage.stop();
  }
  const auto log = dir.path / "version-2" / "log.1";
  std::string bytes = readFile(log);
  auto records = readLog(bytes);
  ASSERT_EQ(records.size(), 5u);
  {  // torn: the last record loses its 0x42 and half its bytes
    std::string torn = bytes;
    const auto& last = records.back().first;
    std::fill(torn.begin() + static_cast<ptrdiff_t>(last.offset + 12 + last.entry.size() / 2), torn.end(), '\0');
    writeFile(log, torn);
    MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    EXPECT_EQ(storage.stats().last_applied_zxid, 4);
    EXPECT_EQ(storage.lastRecovery().partial_records, 1);
    EXPECT_TRUE(host.logger_.contains("Last transaction was partial"));
    storage.stop();
    // the cut is on disk: the next reader sees a clean end
    formats::LogScan scan;
    readLog(readFile(log), &scan);
    EXPECT_EQ(scan.end, formats::LogEnd::kClean);
  }
  {  // a flipped byte in the 2nd record: an error naming file and offset
    std::string bad = readFile(log);
    bad[records[1].first.offset + 20] ^= 0x40;
    writeFile(log, bad);
    // drop the snapshots written by the restarts, so the log is needed
    for (const auto& s : formats::listDataFiles(dir.path / "version-2", "snapshot")) {
      if (s.zxid != 0) fs::remove(s.path);
    }
    MemlogStorage storage(host, durableIn(dir.path));
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    auto st = storage.recover(sessions);
    EXPECT_FALSE(st.isOk());
    EXPECT_NE(st.message().find("log.1"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("offset " + std::to_string(records[1].first.offset)), std::string::npos)
        << st.message();
    storage.stop();
  }
}

TEST(Storage, MissingLogIsAnErrorNotSilentLoss) {
  TestHost host;
  TempDir dir;
  auto settings = durableIn(dir.path);
  settings.txn_log_size_limit_kb = 1;  // a new log file every ~1 KiB
  {
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    for (int i = 1; i <= 60; ++i) appendApply(storage, createTxn(i, "/n" + std::to_string(i), std::string(40, 'x'), i));
    storage.stop();
  }
  auto logs = formats::listDataFiles(dir.path / "version-2", "log");
  ASSERT_GE(logs.size(), 3u);
  fs::remove(logs[1].path);
  MemlogStorage storage(host, settings);
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  auto st = storage.recover(sessions);
  EXPECT_FALSE(st.isOk());
  EXPECT_NE(st.message().find("missing"), std::string::npos) << st.message();
  storage.stop();
}

TEST(Storage, NoSnapshotButLogsIsRefusedUnlessTrusted) {
  TestHost host;
  TempDir dir;
  auto settings = durableIn(dir.path);
  {
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    ASSERT_TRUE(storage.recover(sessions).isOk());
    appendApply(storage, createTxn(1, "/a", "x", 1));
    storage.stop();
  }
  for (const auto& s : formats::listDataFiles(dir.path / "version-2", "snapshot")) fs::remove(s.path);
  std::vector<sdk::RecoveredSession> sessions;
  {
    MemlogStorage storage(host, settings);
    ASSERT_TRUE(storage.start().isOk());
    EXPECT_FALSE(storage.recover(sessions).isOk());
    storage.stop();
  }
  settings.trust_empty_snapshot = true;
  MemlogStorage storage(host, settings);
  ASSERT_TRUE(storage.start().isOk());
  ASSERT_TRUE(storage.recover(sessions).isOk());
  EXPECT_EQ(storage.stats().last_applied_zxid, 1);
  storage.stop();
}

TEST(Storage, FailedWriteFailsTheAppend) {
  TestHost host;
  TempDir dir;
  MemlogStorage storage(host, durableIn(dir.path));
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  // The log dir vanishes: opening log.1 fails, so does everything after it.
  fs::remove_all(dir.path / "version-2");
  EXPECT_FALSE(appendSync(storage, createTxn(1, "/a", "x", 1)).isOk());
  EXPECT_FALSE(appendSync(storage, createTxn(2, "/b", "x", 2)).isOk());
  storage.stop();
}

TEST(Storage, PurgeCommandIsRegistered) {
  TestHost host;
  TempDir dir;
  MemlogStorage storage(host, durableIn(dir.path));
  const sdk::Command* purge = host.commands_.find("purge");
  ASSERT_NE(purge, nullptr);
  EXPECT_FALSE(purge->four_letter);
  ASSERT_TRUE(storage.start().isOk());
  std::vector<sdk::RecoveredSession> sessions;
  ASSERT_TRUE(storage.recover(sessions).isOk());
  auto out = purge->run(sdk::CommandArgs{});
  EXPECT_TRUE(out.status.isOk());
  EXPECT_EQ(out.data["kept_snapshots"].size(), 1u);
  storage.stop();
}

// The data dir layout must survive a power cut like the files in it: every folder created is
// fsynced into its parent (tests/integration/test_power_loss.py found version-2/ vanishing).
TEST(DurableDirectories, CreatesEveryMissingFolderAndKeepsExistingOnes) {
  TempDir dir;
  const fs::path deep = dir.path / "a" / "b" / "version-2";
  ASSERT_TRUE(formats::createDirectoriesDurably(deep).isOk());
  EXPECT_TRUE(fs::is_directory(deep));
  writeFile(deep / "kept", "x");
  ASSERT_TRUE(formats::createDirectoriesDurably(deep).isOk());
  EXPECT_TRUE(fs::exists(deep / "kept"));
}

TEST(DurableDirectories, AFileInTheWayOrAFailedFsyncIsAnError) {
  TempDir dir;
  writeFile(dir.path / "file", "x");
  const auto blocked = formats::createDirectoriesDurably(dir.path / "file" / "version-2");
  EXPECT_EQ(blocked.code(), sdk::Code::kIoError);
  formats::failpoints::failDirectoryFsync(EIO, 1);
  const auto failed = formats::createDirectoriesDurably(dir.path / "new");
  formats::failpoints::clear();
  EXPECT_EQ(failed.code(), sdk::Code::kIoError);
  EXPECT_NE(failed.message().find("fsync"), std::string::npos) << failed.message();
}

}  // namespace
}  // namespace corral::plugins::memlog
