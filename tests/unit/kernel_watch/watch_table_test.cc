// WatchTable triggering rules (ZooKeeper's WatchManager, client-protocol.md §10).
#include "kernel/watch/watch_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace corral::kernel::watch {
namespace {

using sdk::EventType;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

TEST(WatchTable, StandardWatchFiresOnceAndIsRemoved) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kStandard);
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), ElementsAre(1u));
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), IsEmpty());
  EXPECT_EQ(table.watchCount(), 0u);
}

TEST(WatchTable, PersistentWatchStays) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kPersistent);
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), ElementsAre(1u));
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDeleted), ElementsAre(1u));
  EXPECT_EQ(table.watchCount(), 1u);
}

TEST(WatchTable, RecursiveWatchSeesDescendantsButNotChildEvents) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kPersistentRecursive);
  EXPECT_THAT(table.trigger("/a/b/c", EventType::kNodeCreated), ElementsAre(1u));
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), ElementsAre(1u));
  EXPECT_THAT(table.trigger("/a", EventType::kNodeChildrenChanged), IsEmpty());
  EXPECT_THAT(table.trigger("/ab", EventType::kNodeCreated), IsEmpty());
}

TEST(WatchTable, RecursiveOnRootSeesEverything) {
  WatchTable table;
  table.add("/", 4, WatchMode::kPersistentRecursive);
  EXPECT_THAT(table.trigger("/x/y", EventType::kNodeDeleted), ElementsAre(4u));
}

TEST(WatchTable, StandardWatchOnAncestorDoesNotFire) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kStandard);
  table.add("/a", 2, WatchMode::kPersistentRecursive);
  EXPECT_THAT(table.trigger("/a/b", EventType::kNodeCreated), ElementsAre(2u));
  EXPECT_TRUE(table.contains("/a", 1));
}

TEST(WatchTable, OneEventPerWatcherAndSuppression) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kStandard);
  table.add("/a", 2, WatchMode::kStandard);
  auto first = table.trigger("/a", EventType::kNodeDeleted);
  EXPECT_THAT(first, UnorderedElementsAre(1u, 2u));
  WatchTable children;
  children.add("/a", 1, WatchMode::kStandard);
  children.add("/a", 3, WatchMode::kStandard);
  std::unordered_set<WatcherId> seen(first.begin(), first.end());
  EXPECT_THAT(children.trigger("/a", EventType::kNodeDeleted, &seen), ElementsAre(3u));
  EXPECT_EQ(children.watchCount(), 0u);  // suppressed watchers' one-shot watches are consumed too
}

TEST(WatchTable, LatestModeWinsAsInZooKeeper38) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kPersistent);
  table.add("/a", 1, WatchMode::kStandard);
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), ElementsAre(1u));
  EXPECT_THAT(table.trigger("/a", EventType::kNodeDataChanged), IsEmpty());
}

TEST(WatchTable, RemoveWatcherDropsEverything) {
  WatchTable table;
  table.add("/a", 1, WatchMode::kStandard);
  table.add("/b", 1, WatchMode::kPersistentRecursive);
  table.add("/b", 2, WatchMode::kStandard);
  table.removeWatcher(1);
  EXPECT_EQ(table.watchCount(), 1u);
  EXPECT_THAT(table.trigger("/b/c", EventType::kNodeCreated), IsEmpty());
  EXPECT_TRUE(table.remove("/b", 2));
  EXPECT_FALSE(table.remove("/b", 2));
  EXPECT_EQ(table.pathCount(), 0u);
}

}  // namespace
}  // namespace corral::kernel::watch
