// The crash model of corral-crashfs: what survives a power cut under each policy.
#include "durable_tree.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace corral::crashfs {
namespace {

namespace fs = std::filesystem;

class DurableTreeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crashfs-model-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<Node> file(DurableTree& tree, const std::string& path, const std::string& data) {
    std::shared_ptr<Node> node;
    EXPECT_EQ(tree.makeFile(path, 0644, &node), 0);
    node->write(data.data(), data.size(), 0);
    return node;
  }

  // Dumps the durable state and reads it back, as a restart would.
  DurableTree crashAndReload(const DurableTree& tree, SyncPolicy policy = {}) {
    const fs::path out = dir_ / ("state" + std::to_string(dumps_++));
    tree.dumpDurable(out);
    DurableTree again(policy);
    again.load(out);
    return again;
  }

  fs::path dir_;
  int dumps_ = 0;
};

TEST_F(DurableTreeTest, UnsyncedDataIsLostAndSyncedDataKept) {
  DurableTree tree({});
  auto node = file(tree, "/f", "hello");
  tree.syncDir(*tree.root(), "");
  DurableTree lost = crashAndReload(tree);
  ASSERT_NE(lost.lookup("/f"), nullptr);
  EXPECT_EQ(lost.lookup("/f")->volatileBytes(), "");  // the name is durable, the data is not

  tree.syncFile(*node, "f");
  node->write(" world", 6, 5);  // after the sync: lost
  DurableTree kept = crashAndReload(tree);
  EXPECT_EQ(kept.lookup("/f")->volatileBytes(), "hello");
}

TEST_F(DurableTreeTest, StrictModelLosesACreateWhoseDirectoryWasNotSynced) {
  DurableTree tree({});
  ASSERT_EQ(tree.makeDir("/d", 0755), 0);
  tree.syncDir(*tree.root(), "");
  auto node = file(tree, "/d/f", "data");
  tree.syncFile(*node, "f");  // the data, not the name
  EXPECT_EQ(crashAndReload(tree).lookup("/d/f"), nullptr);
  tree.syncDir(*tree.lookup("/d"), "d");
  auto again = crashAndReload(tree);
  ASSERT_NE(again.lookup("/d/f"), nullptr);
  EXPECT_EQ(again.lookup("/d/f")->volatileBytes(), "data");
}

TEST_F(DurableTreeTest, JournalModelCommitsEveryNameOnAnyFsync) {
  DurableTree tree({.metadata = MetadataModel::kJournal, .ignore_file_fsync = {}, .ignore_dir_fsync = {}});
  ASSERT_EQ(tree.makeDir("/d", 0755), 0);
  auto node = file(tree, "/d/f", "data");
  auto other = file(tree, "/other", "x");
  tree.syncFile(*node, "f");
  auto again = crashAndReload(tree);
  ASSERT_NE(again.lookup("/d/f"), nullptr);
  EXPECT_EQ(again.lookup("/d/f")->volatileBytes(), "data");
  ASSERT_NE(again.lookup("/other"), nullptr);
  EXPECT_EQ(again.lookup("/other")->volatileBytes(), "");  // its name, not its data
}

TEST_F(DurableTreeTest, RenameIsDurableOnlyWithItsDirectory) {
  DurableTree tree({});
  auto node = file(tree, "/tmp", "new");
  tree.syncFile(*node, "tmp");
  tree.syncDir(*tree.root(), "");
  auto old_file = file(tree, "/cur", "old");
  tree.syncFile(*old_file, "cur");
  tree.syncDir(*tree.root(), "");
  ASSERT_EQ(tree.rename("/tmp", "/cur", false), 0);
  EXPECT_EQ(tree.lookup("/cur")->volatileBytes(), "new");
  auto before = crashAndReload(tree);
  EXPECT_EQ(before.lookup("/cur")->volatileBytes(), "old");
  EXPECT_NE(before.lookup("/tmp"), nullptr);
  tree.syncDir(*tree.root(), "");
  auto after = crashAndReload(tree);
  EXPECT_EQ(after.lookup("/cur")->volatileBytes(), "new");
  EXPECT_EQ(after.lookup("/tmp"), nullptr);
}

TEST_F(DurableTreeTest, TruncateAndRegrowReadsZerosAndIsDurableOnlyAfterSync) {
  DurableTree tree({});
  const std::string big(3 * Node::kBlockSize + 100, 'a');
  auto node = file(tree, "/f", big);
  tree.syncFile(*node, "f");
  tree.syncDir(*tree.root(), "");
  node->truncate(10);
  node->truncate(2 * Node::kBlockSize);
  const std::string now = node->volatileBytes();
  EXPECT_EQ(now.substr(0, 10), std::string(10, 'a'));
  EXPECT_EQ(now.substr(10), std::string(2 * Node::kBlockSize - 10, '\0'));
  EXPECT_EQ(crashAndReload(tree).lookup("/f")->volatileBytes(), big);
  tree.syncFile(*node, "f");
  EXPECT_EQ(crashAndReload(tree).lookup("/f")->volatileBytes(), now);
}

TEST_F(DurableTreeTest, WriteAfterSyncDoesNotChangeTheDurableBlock) {
  DurableTree tree({});
  auto node = file(tree, "/f", std::string(Node::kBlockSize, 'a'));
  tree.syncFile(*node, "f");
  node->write("b", 1, 0);
  EXPECT_EQ(node->durableBytes(), std::string(Node::kBlockSize, 'a'));
  EXPECT_EQ(node->volatileBytes(), "b" + std::string(Node::kBlockSize - 1, 'a'));
}

TEST_F(DurableTreeTest, IgnoredSyncsKeepNothing) {
  DurableTree tree({.metadata = MetadataModel::kStrict, .ignore_file_fsync = {"log.*"}, .ignore_dir_fsync = {"*"}});
  auto log = file(tree, "/log.1", "txn");
  auto snap = file(tree, "/snapshot.1", "snap");
  tree.syncFile(*log, "log.1");
  tree.syncFile(*snap, "snapshot.1");
  tree.syncDir(*tree.root(), "");
  EXPECT_EQ(log->durableBytes(), "");
  EXPECT_EQ(snap->durableBytes(), "snap");
  EXPECT_TRUE(tree.root()->durable_entries.empty());
  EXPECT_EQ(tree.counts().ignored_file_syncs, 1u);
  EXPECT_EQ(tree.counts().ignored_dir_syncs, 1u);
  EXPECT_EQ(tree.counts().file_syncs, 1u);
}

TEST_F(DurableTreeTest, AFailedFsyncNeverMakesTheDataDurableLater) {
  DurableTree tree({});
  auto node = file(tree, "/f", "aaaa");
  ASSERT_EQ(tree.syncFile(*node, "f"), 0);
  tree.syncDir(*tree.root(), "");
  node->write("bbbb", 4, 4);
  tree.setSyncsFail(true);
  EXPECT_EQ(tree.syncFile(*node, "f"), -EIO);
  EXPECT_EQ(tree.syncDir(*tree.root(), ""), -EIO);
  EXPECT_EQ(node->durableBytes(), "aaaa");
  EXPECT_EQ(node->volatileBytes(), "aaaabbbb");  // reads still see it
  tree.setSyncsFail(false);
  ASSERT_EQ(tree.syncFile(*node, "f"), 0);
  // Like Linux after a writeback error: the failed pages were marked clean, so the retried
  // fsync succeeds without writing them (the "fsyncgate" behaviour a server must not trust).
  EXPECT_EQ(node->durableBytes(), std::string("aaaa") + std::string(4, '\0'));
  EXPECT_EQ(tree.counts().failed_syncs, 2u);
}

TEST_F(DurableTreeTest, SparseFilesLoadAndDumpAsHoles) {
  const fs::path src = dir_ / "src";
  fs::create_directories(src / "d");
  {
    std::ofstream out(src / "d" / "sparse", std::ios::binary);
    out.seekp(64 * 1024 * 1024 - 1);
    out.put('z');
  }
  DurableTree tree({});
  tree.load(src);
  auto node = tree.lookup("/d/sparse");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->size(), 64u * 1024 * 1024);
  auto again = crashAndReload(tree);
  const std::string bytes = again.lookup("/d/sparse")->volatileBytes();
  ASSERT_EQ(bytes.size(), 64u * 1024 * 1024);
  EXPECT_EQ(bytes.back(), 'z');
}

TEST_F(DurableTreeTest, RenameErrorsMatchPosix) {
  DurableTree tree({});
  ASSERT_EQ(tree.makeDir("/d", 0755), 0);
  ASSERT_EQ(tree.makeDir("/d/e", 0755), 0);
  file(tree, "/f", "x");
  EXPECT_EQ(tree.rename("/d", "/d/e/x", false), -EINVAL);
  EXPECT_EQ(tree.rename("/f", "/d", false), -EISDIR);
  EXPECT_EQ(tree.rename("/d", "/f", false), -ENOTDIR);
  EXPECT_EQ(tree.rename("/missing", "/g", false), -ENOENT);
  file(tree, "/g", "y");
  EXPECT_EQ(tree.rename("/f", "/g", true), -EEXIST);
  EXPECT_EQ(tree.removeDir("/d"), -ENOTEMPTY);
}

}  // namespace
}  // namespace corral::crashfs
