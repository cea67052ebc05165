// ReferenceCountedACLCache semantics (disk-formats.md §6).
#include "acl_cache.h"

#include <gtest/gtest.h>

#include <limits>

namespace corral::plugins::memlog {
namespace {

using sdk::Acl;
using sdk::AclList;
using sdk::Id;

AclList digestAcl(const std::string& id) { return {Acl{31, Id{"digest", id}}}; }

TEST(AclCache, KeysAllocatedInOrderAndShared) {
  AclCache cache;
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.keyOf(AclCache::kOpenAclUnsafeSlot), -1);
  EXPECT_EQ(*cache.aclsOf(AclCache::kOpenAclUnsafeSlot), sdk::openAclUnsafe());
  const uint32_t a = cache.acquire(sdk::readAclUnsafe());
  const uint32_t b = cache.acquire(sdk::openAclUnsafe());  // real key even for the open ACL
  const uint32_t c = cache.acquire(sdk::openAclUnsafe());
  EXPECT_EQ(cache.keyOf(a), 1);
  EXPECT_EQ(cache.keyOf(b), 2);
  EXPECT_EQ(b, c);
  EXPECT_EQ(cache.refCount(2), 2);
  EXPECT_EQ(cache.refCount(1), 1);
  EXPECT_EQ(cache.refCount(-1), -1);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(AclCache, ReleaseDropsAtZeroAndKeysNeverReused) {
  AclCache cache;
  const uint32_t a = cache.acquire(digestAcl("u:x"));
  cache.acquire(digestAcl("u:x"));
  cache.release(a);
  EXPECT_EQ(cache.refCount(1), 1);
  cache.release(a);
  EXPECT_EQ(cache.refCount(1), 0);
  EXPECT_EQ(cache.size(), 0u);
  const uint32_t again = cache.acquire(digestAcl("u:x"));
  EXPECT_EQ(cache.keyOf(again), 2);  // aclIndex only grows
  cache.release(AclCache::kOpenAclUnsafeSlot);  // no-op
  EXPECT_EQ(cache.size(), 1u);
}

TEST(AclCache, OrderMattersForEquality) {
  AclCache cache;
  AclList ab{Acl{1, Id{"world", "anyone"}}, Acl{31, Id{"digest", "u:x"}}};
  AclList ba{ab[1], ab[0]};
  EXPECT_NE(cache.keyOf(cache.acquire(ab)), cache.keyOf(cache.acquire(ba)));
}

TEST(AclCache, LoadAddUsagePurge) {
  AclCache cache;
  cache.acquire(digestAcl("u:old"));
  cache.clear();
  ASSERT_TRUE(cache.insertLoaded(5, digestAcl("u:a")).isOk());
  ASSERT_TRUE(cache.insertLoaded(9, digestAcl("u:b")).isOk());
  EXPECT_EQ(cache.insertLoaded(5, digestAcl("u:c")).code(), sdk::Code::kCorruptData);
  EXPECT_EQ(cache.lastKey(), 9);
  EXPECT_EQ(cache.refCount(5), 0);
  auto slot = cache.addUsage(5);
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(cache.keyOf(*slot), 5);
  EXPECT_FALSE(cache.addUsage(7).has_value());
  EXPECT_EQ(cache.addUsage(-1), std::optional<uint32_t>(AclCache::kOpenAclUnsafeSlot));
  cache.purgeUnused();
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.refCount(9), 0);
  // An existing list is found again; a new one continues after the highest loaded key.
  EXPECT_EQ(cache.keyOf(cache.acquire(digestAcl("u:a"))), 5);
  EXPECT_EQ(cache.keyOf(cache.acquire(digestAcl("u:new"))), 10);
  auto entries = cache.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, 5);
  EXPECT_EQ(entries[1].first, 10);
}

TEST(AclCache, DuplicateListsInSnapshotKeepLaterKey) {
  AclCache cache;
  ASSERT_TRUE(cache.insertLoaded(1, digestAcl("u:a")).isOk());
  ASSERT_TRUE(cache.insertLoaded(2, digestAcl("u:a")).isOk());
  auto s1 = cache.addUsage(1);
  auto s2 = cache.addUsage(2);
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ(cache.keyOf(cache.acquire(digestAcl("u:a"))), 2);
  cache.release(*s1);  // key 1 gone; the list still maps to key 2
  EXPECT_EQ(cache.keyOf(cache.acquire(digestAcl("u:a"))), 2);
  EXPECT_EQ(cache.refCount(2), 3);
}

TEST(AclCache, NewKeyAfterLongMaxWrapsAndSkipsTakenKeys) {
  // ZooKeeper's aclIndex is a Java long: after a snapshot's Long.MAX_VALUE key, ++ wraps to
  // Long.MIN_VALUE (a signed overflow here, which UBSan reported from the quorum fuzzer).
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  AclCache cache;
  ASSERT_TRUE(cache.insertLoaded(kMax, digestAcl("u:a")).isOk());
  EXPECT_EQ(cache.keyOf(cache.acquire(digestAcl("u:b"))), kMin);
  // After a restart the map holds MAX and MIN, and aclIndex is MAX again: the wrapped key is
  // taken (ZooKeeper would give it a second list), so the next free one is used.
  AclCache reloaded;
  ASSERT_TRUE(reloaded.insertLoaded(kMax, digestAcl("u:a")).isOk());
  ASSERT_TRUE(reloaded.insertLoaded(kMin, digestAcl("u:b")).isOk());
  EXPECT_EQ(reloaded.keyOf(reloaded.acquire(digestAcl("u:c"))), kMin + 1);
  EXPECT_EQ(*reloaded.aclsOf(*reloaded.addUsage(kMin)), digestAcl("u:b"));
}

}  // namespace
}  // namespace corral::plugins::memlog
