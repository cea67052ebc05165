// storage.rocksdb's ACL map: keys handed out per txn, as ZooKeeper's aclIndex.
#include <gtest/gtest.h>

#include <limits>

#include "acl_table.h"

namespace corral::plugins::rocks {
namespace {

sdk::AclList digestAcl(const std::string& id) { return {sdk::Acl{31, sdk::Id{"digest", id}}}; }

TEST(AclTable, KeysFollowTheHighestLoadedKeyAndAreSharedPerList) {
  AclTable table;
  table.load(5, digestAcl("u:a"));
  bool is_new = false;
  EXPECT_EQ(table.stage(digestAcl("u:a"), is_new), 5);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(table.stage(digestAcl("u:b"), is_new), 6);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(table.stage(digestAcl("u:b"), is_new), 6);  // staged in the same txn
  EXPECT_EQ(table.stage(digestAcl("u:c"), is_new), 7);
  table.dropStaged();
  EXPECT_EQ(table.find(6), nullptr);
  EXPECT_EQ(table.stage(digestAcl("u:c"), is_new), 6);
  table.commitStaged();
  EXPECT_EQ(*table.find(6), digestAcl("u:c"));
}

TEST(AclTable, NewKeyAfterLongMaxWrapsAndSkipsTakenKeys) {
  // ZooKeeper's aclIndex is a Java long: after a snapshot's Long.MAX_VALUE key, ++ wraps to
  // Long.MIN_VALUE. The key was a signed overflow here, and after the wrap max() kept the
  // index at MAX, so every later list got key MIN again and replaced the one before.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  AclTable table;
  table.load(kMax, digestAcl("u:a"));
  bool is_new = false;
  EXPECT_EQ(table.stage(digestAcl("u:b"), is_new), kMin);
  table.commitStaged();
  EXPECT_EQ(table.stage(digestAcl("u:c"), is_new), kMin + 1);
  table.commitStaged();
  EXPECT_EQ(*table.find(kMin), digestAcl("u:b"));
  EXPECT_EQ(*table.find(kMin + 1), digestAcl("u:c"));
  // After a restart the index is MAX again, and the wrapped keys are taken: skipped.
  AclTable reloaded;
  for (const auto& [key, list] : table.entries()) reloaded.load(key, *list);
  EXPECT_EQ(reloaded.stage(digestAcl("u:d"), is_new), kMin + 2);
}

}  // namespace
}  // namespace corral::plugins::rocks
