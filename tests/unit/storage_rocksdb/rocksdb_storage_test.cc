// storage.rocksdb beyond the SDK's conformance suite: log and undo retention, what a TRUNC can
// and cannot undo, an interrupted snapshot load, restarts keeping counters and history.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>

#include "rocksdb_storage.h"
#include "testing/storage_conformance.h"

GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(StorageConformance);

namespace corral::plugins::rocks {
namespace {

namespace txns = corral::testing::txns;
using corral::testing::imageOf;
using corral::testing::TreeImage;

class RocksdbStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/corral-rocksdb-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    storage_.reset();
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }

  RocksdbStorage& open(std::map<std::string, std::string> values = {}) {
    storage_.reset();
    values["dataDir"] = root_.string();
    values.emplace("rocksdb.cacheSizeMb", "8");
    values.emplace("rocksdb.writeBufferMb", "2");
    corral::testing::MapConfig config(values);
    auto settings = RocksSettings::fromConfig(config);
    EXPECT_TRUE(settings.isOk()) << settings.status().toString();
    storage_ = std::make_unique<RocksdbStorage>(host_, *settings);
    EXPECT_TRUE(storage_->start().isOk());
    std::vector<sdk::RecoveredSession> sessions;
    auto recovered = storage_->recover(sessions);
    EXPECT_TRUE(recovered.isOk()) << recovered.toString();
    return *storage_;
  }

  static void commit(sdk::Storage& storage, const sdk::TxnEntry& txn) {
    std::promise<sdk::Status> appended;
    storage.append(std::span<const sdk::TxnEntry>(&txn, 1), [&](sdk::Status st) { appended.set_value(std::move(st)); });
    ASSERT_TRUE(appended.get_future().get().isOk());
    std::vector<sdk::OpOutcome> outcomes;
    ASSERT_TRUE(storage.apply(txn, sdk::ApplyMode::kLive, outcomes).isOk()) << txn.header.zxid;
  }

  // /d, then `count` children of it, then setData on each: zxids 1..(2 * count + 1).
  static sdk::Zxid fill(sdk::Storage& storage, int count) {
    sdk::Zxid zxid = 0;
    commit(storage, txns::create(++zxid, "/d", std::string("dir"), 1));
    for (int i = 0; i < count; ++i) commit(storage, txns::create(++zxid, "/d/" + std::to_string(i), std::string("v"), i + 1));
    for (int i = 0; i < count; ++i) commit(storage, txns::setData(++zxid, "/d/" + std::to_string(i), "w", 1));
    return zxid;
  }

  static int64_t logged(sdk::Storage& storage, sdk::Zxid after) {
    int64_t n = 0;
    auto status = storage.readLog(after, [&](const sdk::TxnEntry&) {
      ++n;
      return true;
    });
    return status.isOk() ? n : -1;
  }

  std::filesystem::path root_;
  corral::testing::MinimalHost host_;
  std::unique_ptr<RocksdbStorage> storage_;
};

TEST_F(RocksdbStorageTest, LogRetentionKeepsTheNewestTxnsAcrossRestarts) {
  auto& first = open({{"rocksdb.logRetainTxns", "1000"}});
  sdk::Zxid last = fill(first, 1500);
  EXPECT_EQ(logged(first, 0), static_cast<int64_t>(last))
      << "nothing is dropped that the files' state has not applied (a crash would replay it)";
  // A restart flushes the state; the next writes trim the log to its retention.
  auto& storage = open({{"rocksdb.logRetainTxns", "1000"}});
  for (int i = 0; i < 200; ++i) commit(storage, txns::setData(++last, "/d/" + std::to_string(i), "x", 2));
  EXPECT_EQ(logged(storage, 0), -1) << "the oldest txns were dropped: a follower that far behind gets a SNAP";
  EXPECT_EQ(logged(storage, last - 500), 500);
  auto& again = open({{"rocksdb.logRetainTxns", "1000"}});
  EXPECT_EQ(logged(again, last - 900), 900) << "the retained log survives a restart";
  EXPECT_EQ(again.lastLoggedZxid(), last);
}

TEST_F(RocksdbStorageTest, TruncateUndoesWithinUndoRetentionOnly) {
  auto& storage = open({{"rocksdb.undoRetainTxns", "100"}});
  sdk::Zxid zxid = fill(storage, 150);
  const TreeImage at = imageOf(storage);
  const sdk::Zxid mark = zxid;
  for (int i = 0; i < 60; ++i) commit(storage, txns::remove(++zxid, "/d/" + std::to_string(i)));
  EXPECT_EQ(storage.truncateLog(10).code(), sdk::Code::kNotFound) << "txns after 10 can no longer be undone";
  EXPECT_EQ(storage.stats().last_applied_zxid, zxid) << "a refused TRUNC changes nothing";
  ASSERT_TRUE(storage.truncateLog(mark).isOk());
  EXPECT_EQ(imageOf(storage), at);
  EXPECT_EQ(storage.stats().node_count, 4 + 1 + 150);
  auto& again = open({{"rocksdb.undoRetainTxns", "100"}});
  EXPECT_EQ(imageOf(again), at) << "the undone state is durable";
  EXPECT_EQ(again.stats().last_applied_zxid, mark);
}

TEST_F(RocksdbStorageTest, InterruptedSnapshotLoadStartsEmptyNotHalfLoaded) {
  auto& storage = open();
  fill(storage, 20);
  // A SNAP that breaks off mid-stream (the leader went away).
  std::string body;
  sdk::JuteWriter w(body);
  w.writeInt(0);
  w.writeInt(0);
  w.writeString("");
  size_t position = 0;
  auto source = [&](char* dst, size_t n) -> sdk::Status {
    if (body.size() - position < n) return sdk::Status(sdk::Code::kIoError, "connection lost");
    std::memcpy(dst, body.data() + position, n);
    position += n;
    return sdk::Status::ok();
  };
  EXPECT_FALSE(storage.loadSnapshot(500, source).isOk());
  auto& again = open();
  EXPECT_EQ(again.stats().node_count, 4) << "the fresh tree: the learner needs a snapshot again";
  EXPECT_EQ(again.stats().last_applied_zxid, 0);
  sdk::NodeRead node;
  EXPECT_EQ(again.read("/d", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
}

TEST_F(RocksdbStorageTest, CountersAndTheConfigNodeSurviveRestarts) {
  auto& storage = open();
  sdk::Zxid zxid = fill(storage, 30);
  commit(storage, txns::session(++zxid, 0x55, 8000));
  commit(storage, txns::create(++zxid, "/e", std::string("eph"), 31, 0x55));
  ASSERT_TRUE(storage.setConfigNode("server.1=127.0.0.1:2888:3888:participant\nversion=100000000", 0x100000000).isOk());
  const auto before = storage.stats();
  const TreeImage image = imageOf(storage);
  auto& again = open();
  const auto after = again.stats();
  EXPECT_EQ(after.node_count, before.node_count);
  EXPECT_EQ(after.ephemeral_count, 1);
  EXPECT_EQ(after.approximate_data_size, before.approximate_data_size);
  EXPECT_EQ(imageOf(again), image);
  EXPECT_EQ(again.countDescendants("/d"), 30);
  EXPECT_EQ(again.countDescendants("/"), before.node_count - 1);
  ASSERT_EQ(again.sessions().size(), 1u);
  EXPECT_EQ(again.ephemeralsOf(0x55), std::vector<std::string>{"/e"});
}

TEST_F(RocksdbStorageTest, AnExistingFolderWithoutADatabaseIsRefused) {
  std::filesystem::create_directories(root_ / "rocksdb");
  { std::ofstream(root_ / "rocksdb" / "000001.log") << "x"; }
  corral::testing::MapConfig config({{"dataDir", root_.string()}});
  auto settings = RocksSettings::fromConfig(config);
  ASSERT_TRUE(settings.isOk());
  RocksdbStorage storage(host_, *settings);
  auto started = storage.start();
  EXPECT_EQ(started.code(), sdk::Code::kCorruptData);
  EXPECT_NE(started.message().find("no CURRENT"), std::string::npos) << started.message();
}

TEST_F(RocksdbStorageTest, SettingsAreCheckedWithTheirKeys) {
  auto check = [](std::map<std::string, std::string> values) {
    values["dataDir"] = "/tmp/x";
    corral::testing::MapConfig config(values);
    return RocksSettings::fromConfig(config).status();
  };
  EXPECT_TRUE(check({}).isOk());
  EXPECT_NE(check({{"rocksdb.cacheSizeMb", "2"}}).message().find("rocksdb.cacheSizeMb"), std::string::npos);
  EXPECT_NE(check({{"rocksdb.cacheSizeMb", "lots"}}).message().find("rocksdb.cacheSizeMb"), std::string::npos);
  EXPECT_NE(check({{"rocksdb.writeBufferMb", "32"}}).message().find("quarter"), std::string::npos);
  EXPECT_NE(check({{"rocksdb.compression", "brotli"}}).message().find("rocksdb.compression"), std::string::npos);
}

}  // namespace
}  // namespace corral::plugins::rocks
