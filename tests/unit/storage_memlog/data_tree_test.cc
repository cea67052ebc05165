// DataTree: ZooKeeper 3.8 Stat rules (client-protocol.md §7, §11), built-in nodes as a real
// 3.8.0 server shows them, indexes, ACL keys, snapshot visit/load, digest.
#include "data_tree.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "corral/path.h"

namespace corral::plugins::memlog {
namespace {

using sdk::Acl;
using sdk::AclList;
using sdk::Code;
using sdk::Id;
using sdk::Stat;
using sdk::StatPersisted;
using sdk::Status;
namespace owner = sdk::owner;

const AclList kOpen = sdk::openAclUnsafe();

// Creates with the txn's parentCVersion = parent's stored cversion + 1, as the prepare stage does.
Stat create(DataTree& t, std::string_view path, sdk::Zxid zxid, std::optional<std::string_view> data = "",
            int64_t eph_owner = 0, const AclList& acl = kOpen, sdk::TimeMs time = 1000) {
  auto parent = t.storedCVersion(sdk::parentOf(path));
  EXPECT_TRUE(parent.isOk()) << path;
  Stat out;
  Status s = t.createNode(path, data, acl, eph_owner, parent.isOk() ? *parent + 1 : -1, zxid, time, &out);
  EXPECT_TRUE(s.isOk()) << path << " " << s.toString();
  return out;
}

// Sequential create the way the prepare stage does it: suffix = parent's stored cversion.
std::string createSeq(DataTree& t, std::string_view prefix, sdk::Zxid zxid, int64_t eph_owner = 0) {
  const int32_t cv = *t.storedCVersion(sdk::parentOf(std::string(prefix) + "x"));
  std::string path = sdk::sequentialPath(prefix, cv);
  EXPECT_TRUE(t.createNode(path, "", kOpen, eph_owner, cv + 1, zxid, 1000).isOk());
  return path;
}

Stat statOf(const DataTree& t, std::string_view path) {
  auto r = t.exists(path);
  EXPECT_TRUE(r.isOk()) << path;
  return r.isOk() ? *r : Stat{};
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(DataTreeBuiltins, MatchRealServer) {
  DataTree t;
  // Verified on the Debian 3.8.0 server: root cversion -1 (stored 0, 1 child), /zookeeper -2.
  Stat root = statOf(t, "/");
  EXPECT_EQ(root, (Stat{0, 0, 0, 0, 0, -1, 0, 0, 0, 1, 0}));
  EXPECT_EQ(statOf(t, ""), root);
  EXPECT_EQ(statOf(t, "/zookeeper"), (Stat{0, 0, 0, 0, 0, -2, 0, 0, 0, 2, 0}));
  EXPECT_EQ(statOf(t, "/zookeeper/quota"), (Stat{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(statOf(t, "/zookeeper/config"), (Stat{0, 0, 0, 0, 0, 0, -1, 0, 0, 0, 0}));
  for (auto p : {"/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"}) {
    auto d = t.getData(p);
    ASSERT_TRUE(d.isOk());
    EXPECT_EQ(d->data, std::optional<std::string>(""));  // empty, not null
  }
  auto config = t.getNode("/zookeeper/config");
  EXPECT_EQ(*config->acl, sdk::readAclUnsafe());
  EXPECT_EQ(config->acl_key, 1);
  auto zk = t.getNode("/zookeeper");
  EXPECT_EQ(*zk->acl, kOpen);
  EXPECT_EQ(zk->acl_key, -1);
  EXPECT_EQ(t.getNode("/")->acl_key, -1);
  EXPECT_EQ(t.getNode("/zookeeper/quota")->acl_key, -1);
  EXPECT_EQ(sorted(t.getChildren("/")->names), std::vector<std::string>{"zookeeper"});
  EXPECT_EQ(sorted(t.getChildren("/zookeeper")->names), (std::vector<std::string>{"config", "quota"}));
  EXPECT_EQ(t.nodeCount(), 4u);             // mntr zk_znode_count 5 = this + 1
  EXPECT_EQ(t.approximateDataSize(), 44);   // mntr zk_approximate_data_size on a fresh server
  EXPECT_EQ(*t.getAllChildrenNumber("/"), 3);
  EXPECT_EQ(*t.getAllChildrenNumber(""), 4);  // real server answers 4 for ""
  EXPECT_EQ(*t.getAllChildrenNumber("/zookeeper"), 2);
  EXPECT_EQ(*t.getAllChildrenNumber("/zookeeper/quota"), 0);
  EXPECT_EQ(t.getAllChildrenNumber("/nope").status().code(), Code::kNoNode);
  EXPECT_EQ(t.digest(), 1371985504);  // disk-formats.md §8 check value for the empty tree
  auto acls = t.aclEntries();
  ASSERT_EQ(acls.size(), 1u);
  EXPECT_EQ(acls[0].first, 1);
}

TEST(DataTreeLookup, PathsAreTakenVerbatim) {
  DataTree t;
  create(t, "/a", 2);
  create(t, "/a/b", 3);
  EXPECT_TRUE(t.exists("/a/b").isOk());
  for (auto p : {"/a/", "a", "//a", "/a//b", "/a/b/", "a/b", "/A", "/a/b/c", "/zookeeper/"}) {
    EXPECT_EQ(t.exists(p).status().code(), Code::kNoNode) << p;
  }
}

TEST(DataTreeCreate, StatsOfNodeAndParent) {
  DataTree t;
  Stat s = create(t, "/a", 5, "hello", 0, kOpen, 1234);
  EXPECT_EQ(s, (Stat{5, 5, 1234, 1234, 0, 0, 0, 0, 5, 0, 5}));
  EXPECT_EQ(statOf(t, "/a"), s);
  EXPECT_EQ(t.approximateDataSize(), 51);  // 44 + "/a" + "hello", as the real server
  Stat root = statOf(t, "/");
  EXPECT_EQ(root.cversion, 0);  // stored 1 * 2 - 2 children
  EXPECT_EQ(root.num_children, 2);
  EXPECT_EQ(root.pzxid, 5);
  EXPECT_EQ(root.mzxid, 0);
  EXPECT_EQ(root.version, 0);
  EXPECT_EQ(t.persistedStat("/a")->pzxid, 5);
  EXPECT_EQ(t.persistedStat("/")->cversion, 1);

  create(t, "/a/x", 6, "", 0, kOpen, 2000);
  Stat a = statOf(t, "/a");
  EXPECT_EQ(a.cversion, 1);
  EXPECT_EQ(a.num_children, 1);
  EXPECT_EQ(a.pzxid, 6);
  EXPECT_EQ(a.mzxid, 5);
  EXPECT_EQ(a.mtime, 1234);
  EXPECT_EQ(a.version, 0);
  EXPECT_EQ(*t.getAllChildrenNumber("/"), 5);
  EXPECT_EQ(*t.getAllChildrenNumber("/a"), 1);
  EXPECT_EQ(t.nodeCount(), 6u);
}

TEST(DataTreeCreate, Errors) {
  DataTree t;
  EXPECT_EQ(t.createNode("/a/b", "", kOpen, 0, -1, 2, 0).code(), Code::kNoNode);
  create(t, "/a", 2);
  EXPECT_EQ(t.createNode("/a", "", kOpen, 0, -1, 3, 0).code(), Code::kNodeExists);
  EXPECT_EQ(t.createNode("/zookeeper", "", kOpen, 0, -1, 3, 0).code(), Code::kNodeExists);
  EXPECT_EQ(t.createNode("/", "", kOpen, 0, -1, 3, 0).code(), Code::kBadArguments);
  EXPECT_EQ(t.createNode("", "", kOpen, 0, -1, 3, 0).code(), Code::kBadArguments);
  EXPECT_EQ(t.createNode("a", "", kOpen, 0, -1, 3, 0).code(), Code::kBadArguments);
  EXPECT_EQ(t.createNode("/a/", "", kOpen, 0, -1, 3, 0).code(), Code::kBadArguments);
  EXPECT_EQ(t.createNode("//a", "", kOpen, 0, -1, 3, 0).code(), Code::kBadArguments);
  EXPECT_EQ(t.createNode("/a//b", "", kOpen, 0, -1, 3, 0).code(), Code::kNoNode);  // parent "/a/"
  // Failed creates change nothing.
  EXPECT_EQ(statOf(t, "/a"), (Stat{2, 2, 1000, 1000, 0, 0, 0, 0, 0, 0, 2}));
  EXPECT_EQ(*t.storedCVersion("/"), 1);
  EXPECT_EQ(t.aclRefCount(2), 1);
}

TEST(DataTreeCreate, ParentCVersionRules) {
  DataTree t;
  create(t, "/p", 2);
  // Legacy txn: -1 means parent's + 1.
  ASSERT_TRUE(t.createNode("/p/a", "", kOpen, 0, -1, 3, 0).isOk());
  EXPECT_EQ(*t.storedCVersion("/p"), 1);
  EXPECT_EQ(t.persistedStat("/p")->pzxid, 3);
  // Replay with a larger value jumps.
  ASSERT_TRUE(t.createNode("/p/b", "", kOpen, 0, 7, 4, 0).isOk());
  EXPECT_EQ(*t.storedCVersion("/p"), 7);
  EXPECT_EQ(t.persistedStat("/p")->pzxid, 4);
  // Replay with a smaller or equal value: neither cversion nor pzxid move, the node is created.
  ASSERT_TRUE(t.createNode("/p/c", "", kOpen, 0, 7, 9, 0).isOk());
  ASSERT_TRUE(t.createNode("/p/d", "", kOpen, 0, 3, 10, 0).isOk());
  EXPECT_EQ(*t.storedCVersion("/p"), 7);
  EXPECT_EQ(t.persistedStat("/p")->pzxid, 4);
  EXPECT_EQ(statOf(t, "/p").num_children, 4);
  EXPECT_EQ(statOf(t, "/p").cversion, 10);
  // setCversionPzxid (create hit NodeExists on replay).
  EXPECT_TRUE(t.setCversionPzxid("/p", 5, 20).isOk());
  EXPECT_EQ(*t.storedCVersion("/p"), 7);
  EXPECT_TRUE(t.setCversionPzxid("/p/", 8, 21).isOk());  // trailing '/' stripped like ZooKeeper
  EXPECT_EQ(*t.storedCVersion("/p"), 8);
  EXPECT_EQ(t.persistedStat("/p")->pzxid, 21);
  EXPECT_TRUE(t.setCversionPzxid("/p", -1, 22).isOk());
  EXPECT_EQ(*t.storedCVersion("/p"), 9);
  EXPECT_EQ(t.setCversionPzxid("/q", 1, 1).code(), Code::kNoNode);
}

TEST(DataTreeDelete, ParentStats) {
  DataTree t;
  create(t, "/a", 2);
  create(t, "/a/x", 3);
  create(t, "/a/y", 4);
  ASSERT_TRUE(t.deleteNode("/a/x", 5).isOk());
  Stat a = statOf(t, "/a");
  EXPECT_EQ(*t.storedCVersion("/a"), 2);  // unchanged by delete
  EXPECT_EQ(a.cversion, 3);               // exposed: +1 because numChildren dropped
  EXPECT_EQ(a.num_children, 1);
  EXPECT_EQ(a.pzxid, 5);
  EXPECT_EQ(a.mzxid, 2);
  EXPECT_EQ(t.exists("/a/x").status().code(), Code::kNoNode);
  // pzxid only rises.
  ASSERT_TRUE(t.deleteNode("/a/y", 3).isOk());
  EXPECT_EQ(statOf(t, "/a").pzxid, 5);
  // Missing child: parent's pzxid still raised, then NoNode.
  EXPECT_EQ(t.deleteNode("/a/zz", 9).code(), Code::kNoNode);
  EXPECT_EQ(statOf(t, "/a").pzxid, 9);
  EXPECT_EQ(t.deleteNode("/nope/zz", 10).code(), Code::kNoNode);
  EXPECT_EQ(t.deleteNode("/", 10).code(), Code::kBadArguments);
  EXPECT_EQ(t.deleteNode("", 10).code(), Code::kBadArguments);
  create(t, "/a/k", 11);
  EXPECT_EQ(t.deleteNode("/a", 12).code(), Code::kNotEmpty);
  EXPECT_EQ(statOf(t, "/").pzxid, 2);
  EXPECT_EQ(t.nodeCount(), 6u);
  EXPECT_EQ(t.approximateDataSize(), 44 + 2 + 4);
}

TEST(DataTreeSetData, Stats) {
  DataTree t;
  create(t, "/a", 2, "v0", 0, kOpen, 100);
  create(t, "/a/c", 3);
  Stat before_parent = statOf(t, "/a");
  auto s = t.setData("/a/c", "new data", 1, 4, 200);
  ASSERT_TRUE(s.isOk());
  EXPECT_EQ(*s, (Stat{3, 4, 1000, 200, 1, 0, 0, 0, 8, 0, 3}));
  EXPECT_EQ(statOf(t, "/a"), before_parent);  // a child's setData changes nothing on the parent
  // Identical data still bumps everything.
  s = t.setData("/a/c", "new data", 2, 5, 300);
  EXPECT_EQ(s->version, 2);
  EXPECT_EQ(s->mzxid, 5);
  EXPECT_EQ(s->pzxid, 3);
  // Version is what the txn says (quorum /zookeeper/config uses -1).
  s = t.setData("/zookeeper/config", "server.1=x", -1, 0, 77);
  EXPECT_EQ(s->version, -1);
  EXPECT_EQ(s->mtime, 77);
  EXPECT_EQ(t.setData("/nope", "x", 1, 6, 0).status().code(), Code::kNoNode);
}

TEST(DataTreeSetData, NullVersusEmptyAndRelocation) {
  DataTree t;
  ASSERT_TRUE(t.createNode("/n", std::nullopt, kOpen, 0, -1, 2, 0).isOk());
  EXPECT_FALSE(t.getData("/n")->data.has_value());
  EXPECT_EQ(statOf(t, "/n").data_length, 0);
  ASSERT_TRUE(t.createNode("/e", "", kOpen, 0, -1, 3, 0).isOk());
  EXPECT_EQ(t.getData("/e")->data, std::optional<std::string>(""));
  ASSERT_TRUE(t.setData("/e", std::nullopt, 1, 4, 0).isOk());
  EXPECT_FALSE(t.getData("/e")->data.has_value());
  ASSERT_TRUE(t.setData("/n", "", 1, 5, 0).isOk());
  EXPECT_EQ(t.getData("/n")->data, std::optional<std::string>(""));

  // A parent with children, an ephemeral and a container get bigger and smaller data: the
  // node block moves, but lookups, children and indexes must follow.
  create(t, "/p", 6);
  for (int i = 0; i < 50; ++i) create(t, "/p/c" + std::to_string(i), 7 + i);
  create(t, "/p/eph", 60, "x", 0x55);
  create(t, "/p/cont", 61, "x", owner::kContainer);
  const int64_t size_before = t.approximateDataSize();
  std::string big(100000, 'z');
  ASSERT_TRUE(t.setData("/p", big, 1, 70, 0).isOk());
  ASSERT_TRUE(t.setData("/p/eph", big, 1, 71, 0).isOk());
  ASSERT_TRUE(t.setData("/p/cont", big, 1, 72, 0).isOk());
  EXPECT_EQ(t.approximateDataSize(), size_before + 3 * 100000 - 2);
  EXPECT_EQ(t.getData("/p")->data->size(), 100000u);
  EXPECT_EQ(t.getChildren("/p")->names.size(), 52u);
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(t.exists("/p/c" + std::to_string(i)).isOk());
  EXPECT_EQ(t.ephemerals(0x55), std::vector<std::string>{"/p/eph"});
  ASSERT_TRUE(t.setData("/p/eph", "tiny", 2, 73, 0).isOk());
  ASSERT_TRUE(t.setData("/p", "tiny", 2, 74, 0).isOk());
  ASSERT_EQ(t.containers().size(), 1u);
  EXPECT_EQ(t.containers()[0].path, "/p/cont");
  EXPECT_EQ(*t.getData("/p/eph")->data, "tiny");
  EXPECT_EQ(t.ephemerals(0x55), std::vector<std::string>{"/p/eph"});
  ASSERT_TRUE(t.deleteNode("/p/eph", 75).isOk());
  EXPECT_TRUE(t.ephemerals(0x55).empty());
  EXPECT_TRUE(t.ephemeralSessions().empty());
  // The root can be moved too.
  ASSERT_TRUE(t.setData("/", big, 1, 76, 0).isOk());
  EXPECT_EQ(statOf(t, "/").data_length, 100000);
  EXPECT_TRUE(t.exists("/p/c3").isOk());
  ASSERT_TRUE(t.setData("/", "", 2, 77, 0).isOk());
  EXPECT_TRUE(t.exists("/zookeeper/config").isOk());
}

TEST(DataTreeSetAcl, AversionOnlyAndKeys) {
  DataTree t;
  const AclList digest{Acl{31, Id{"digest", "u:abc="}}};
  Stat created = create(t, "/a", 2, "d", 0, kOpen, 10);
  create(t, "/b", 3);
  EXPECT_EQ(t.getNode("/a")->acl_key, 2);  // key 1 is /zookeeper/config's READ_ACL_UNSAFE
  EXPECT_EQ(t.getNode("/b")->acl_key, 2);
  EXPECT_EQ(t.aclRefCount(2), 2);
  auto s = t.setAcl("/a", digest, 1);
  ASSERT_TRUE(s.isOk());
  Stat expected = created;
  expected.aversion = 1;
  EXPECT_EQ(*s, expected);  // mzxid, mtime, version untouched
  EXPECT_EQ(*t.getAcl("/a")->acl, digest);
  EXPECT_EQ(t.getNode("/a")->acl_key, 3);
  EXPECT_EQ(t.aclRefCount(2), 1);
  // Same list again on its only user: released first, so a new key (ZooKeeper does the same).
  ASSERT_TRUE(t.setAcl("/a", digest, 2).isOk());
  EXPECT_EQ(t.getNode("/a")->acl_key, 4);
  EXPECT_EQ(t.aclRefCount(3), 0);
  ASSERT_TRUE(t.deleteNode("/b", 5).isOk());
  EXPECT_EQ(t.aclRefCount(2), 0);
  auto entries = t.aclEntries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first, 1);
  EXPECT_EQ(entries[1].first, 4);
  EXPECT_EQ(t.setAcl("/zz", digest, 1).status().code(), Code::kNoNode);
  // Perms are stored verbatim.
  ASSERT_TRUE(t.setAcl("/a", {Acl{99, Id{"world", "anyone"}}}, 3).isOk());
  EXPECT_EQ(t.getAcl("/a")->acl->at(0).perms, 99);
}

// client-protocol.md §11, reproduced exactly (and checked against the real server).
TEST(DataTreeSequential, CounterExample) {
  DataTree t;
  create(t, "/a", 2);
  sdk::Zxid z = 3;
  EXPECT_EQ(createSeq(t, "/a/s-", z++), "/a/s-0000000000");
  EXPECT_EQ(createSeq(t, "/a/s-", z++), "/a/s-0000000001");
  EXPECT_EQ(createSeq(t, "/a/", z++), "/a/0000000002");
  create(t, "/a/x", z++);
  EXPECT_EQ(createSeq(t, "/a/s-", z++, 0x1234), "/a/s-0000000004");
  ASSERT_TRUE(t.deleteNode("/a/x", z++).isOk());
  EXPECT_EQ(createSeq(t, "/a/s-", z), "/a/s-0000000005");
  Stat a = statOf(t, "/a");
  EXPECT_EQ(a.cversion, 7);  // 2 * 6 - 5
  EXPECT_EQ(a.num_children, 5);
  EXPECT_EQ(a.pzxid, z);
  // Collision: the create fails NodeExists and the counter does not move.
  create(t, "/b", 20);
  create(t, "/b/q0000000001", 21);
  const int32_t cv = *t.storedCVersion("/b");
  ASSERT_EQ(cv, 1);
  EXPECT_EQ(t.createNode(sdk::sequentialPath("/b/q", cv), "", kOpen, 0, cv + 1, 22, 0).code(),
            Code::kNodeExists);
  EXPECT_EQ(*t.storedCVersion("/b"), 1);
  EXPECT_EQ(statOf(t, "/b").pzxid, 21);
}

TEST(DataTreeSequential, TwoCreatesTwoDeletes) {
  DataTree t;
  create(t, "/b", 2);
  create(t, "/b/1", 3);
  create(t, "/b/2", 4);
  ASSERT_TRUE(t.deleteNode("/b/1", 5).isOk());
  ASSERT_TRUE(t.deleteNode("/b/2", 6).isOk());
  Stat b = statOf(t, "/b");
  EXPECT_EQ(b.cversion, 4);
  EXPECT_EQ(b.num_children, 0);
  EXPECT_EQ(b.pzxid, 6);
  EXPECT_EQ(*t.storedCVersion("/b"), 2);
  EXPECT_EQ(createSeq(t, "/b/q", 7), "/b/q0000000002");
}

TEST(DataTreeIndexes, EphemeralsContainersTtl) {
  DataTree t;
  const int64_t s1 = 0x0100001270670000, s2 = 0x0100001270670001;
  create(t, "/e", 2);
  Stat e1 = create(t, "/e/1", 3, "", s1);
  create(t, "/e/2", 4, "", s1);
  create(t, "/e/3", 5, "", s2);
  EXPECT_EQ(e1.ephemeral_owner, s1);  // ephemerals expose their session
  EXPECT_EQ(sorted(t.ephemerals(s1)), (std::vector<std::string>{"/e/1", "/e/2"}));
  EXPECT_EQ(t.ephemerals(s2), std::vector<std::string>{"/e/3"});
  EXPECT_TRUE(t.ephemerals(42).empty());
  auto sessions = t.ephemeralSessions();
  EXPECT_EQ(std::set<int64_t>(sessions.begin(), sessions.end()), (std::set<int64_t>{s1, s2}));
  EXPECT_EQ(t.ephemeralsCount(), 3u);
  EXPECT_EQ(t.allEphemerals().size(), 2u);
  ASSERT_TRUE(t.deleteNode("/e/1", 6).isOk());
  EXPECT_EQ(t.ephemerals(s1), std::vector<std::string>{"/e/2"});
  EXPECT_EQ(t.ephemeralsCount(), 2u);

  // Containers and TTL nodes expose ephemeralOwner 0 but keep the raw owner.
  Stat c = create(t, "/c", 10, "", owner::kContainer, kOpen, 5000);
  EXPECT_EQ(c.ephemeral_owner, 0);
  EXPECT_EQ(t.persistedStat("/c")->ephemeral_owner, owner::kContainer);
  Stat ttl = create(t, "/ttl", 11, "", owner::ttlOwner(600000), kOpen, 5000);
  EXPECT_EQ(ttl.ephemeral_owner, 0);
  EXPECT_EQ(t.persistedStat("/ttl")->ephemeral_owner, static_cast<int64_t>(0xFF000000000927C0ULL));
  EXPECT_EQ(t.ephemeralsCount(), 2u);
  auto containers = t.containers();
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_EQ(containers[0].path, "/c");
  EXPECT_EQ(containers[0].stored_cversion, 0);
  EXPECT_EQ(containers[0].mtime, 5000);
  auto ttls = t.ttlNodes();
  ASSERT_EQ(ttls.size(), 1u);
  EXPECT_EQ(ttls[0].path, "/ttl");
  EXPECT_EQ(owner::ttlOf(ttls[0].ephemeral_owner), 600000);

  // ContainerManager.getCandidates.
  EXPECT_TRUE(t.reapCandidates(5000 + 600000, 0).empty());          // new container, ttl not over
  EXPECT_EQ(t.reapCandidates(5000 + 600001, 0), std::vector<std::string>{"/ttl"});
  EXPECT_EQ(t.reapCandidates(5000 + 100, 100), std::vector<std::string>{"/c"});  // never used
  create(t, "/c/kid", 12);
  create(t, "/ttl/kid", 13);
  EXPECT_TRUE(t.reapCandidates(1LL << 40, 0).empty());  // both have children
  EXPECT_EQ(t.containers()[0].num_children, 1);
  ASSERT_TRUE(t.deleteNode("/c/kid", 14).isOk());
  ASSERT_TRUE(t.deleteNode("/ttl/kid", 15).isOk());
  EXPECT_EQ(sorted(t.reapCandidates(1LL << 40, 0)), (std::vector<std::string>{"/c", "/ttl"}));
  EXPECT_EQ(t.reapCandidates(5001, 0), std::vector<std::string>{"/c"});  // used container
  ASSERT_TRUE(t.deleteNode("/c", 16).isOk());
  ASSERT_TRUE(t.deleteNode("/ttl", 17).isOk());
  EXPECT_TRUE(t.containers().empty());
  EXPECT_TRUE(t.ttlNodes().empty());
}

TEST(DataTreeCounts, ApproximateSizeLikeRealServer) {
  DataTree t;
  create(t, "/a", 2, "hello");
  EXPECT_EQ(t.approximateDataSize(), 51);
  sdk::Zxid z = 3;
  createSeq(t, "/a/s-", z++);
  createSeq(t, "/a/s-", z++);
  createSeq(t, "/a/", z++);
  create(t, "/a/x", z++);
  createSeq(t, "/a/s-", z++, 0x77);
  ASSERT_TRUE(t.deleteNode("/a/x", z++).isOk());
  createSeq(t, "/a/s-", z++);
  EXPECT_EQ(t.approximateDataSize(), 124);  // mntr showed 124 at this point
  EXPECT_EQ(t.nodeCount(), 10u);            // mntr zk_znode_count 11
  ASSERT_TRUE(t.setData("/a", "xy", 1, z++, 0).isOk());
  EXPECT_EQ(t.approximateDataSize(), 121);
  // Non-ASCII paths count UTF-16 units, like Java's String.length().
  create(t, "/\xC3\xA9", z++, "abc");
  EXPECT_EQ(t.approximateDataSize(), 121 + 2 + 3);
}

TEST(DataTreeCounts, GetAllChildrenNumberRecursive) {
  DataTree t;
  create(t, "/a", 2);
  create(t, "/a/b", 3);
  create(t, "/a/b/c", 4);
  create(t, "/a/d", 5);
  create(t, "/x", 6);
  EXPECT_EQ(*t.getAllChildrenNumber("/a"), 3);
  EXPECT_EQ(*t.getAllChildrenNumber("/a/b"), 1);
  EXPECT_EQ(*t.getAllChildrenNumber("/a/b/c"), 0);
  EXPECT_EQ(*t.getAllChildrenNumber("/"), 8);  // 5 user nodes + the 3 built-ins
  EXPECT_EQ(*t.getAllChildrenNumber(""), 9);
}

TEST(DataTreeTables, ManyChildrenInsertDeleteLookup) {
  DataTree t;
  t.setDigestEnabled(false);
  create(t, "/p", 2);
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(t.createNode("/p/n" + std::to_string(i), "", kOpen, 0, -1, 10 + i, 0).isOk());
  }
  EXPECT_EQ(statOf(t, "/p").num_children, n);
  for (int i = 0; i < n; i += 2) ASSERT_TRUE(t.deleteNode("/p/n" + std::to_string(i), 100000 + i).isOk());
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(t.exists("/p/n" + std::to_string(i)).isOk(), i % 2 == 1) << i;
  }
  EXPECT_EQ(t.getChildren("/p")->names.size(), static_cast<size_t>(n / 2));
  for (int i = 1; i < n; i += 2) ASSERT_TRUE(t.deleteNode("/p/n" + std::to_string(i), 200000 + i).isOk());
  EXPECT_TRUE(t.getChildren("/p")->names.empty());
  EXPECT_EQ(statOf(t, "/p").cversion, 2 * n);
  EXPECT_EQ(t.nodeCount(), 5u);
  ASSERT_TRUE(t.createNode("/p/again", "", kOpen, 0, -1, 300000, 0).isOk());
  EXPECT_TRUE(t.exists("/p/again").isOk());
}

TEST(DataTreeTables, TablesAboveTheTagHomedSizeGrowAndShrink) {
  // Tables up to 65536 slots place children by the hash tag in their slots, bigger ones by the
  // full name hash: grow one across that size and shrink it back, checking every lookup.
  DataTree t;
  t.setDigestEnabled(false);
  create(t, "/p", 2);
  const int n = 70000;
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(t.createNode("/p/n" + std::to_string(i), "", kOpen, 0, -1, 10 + i, 0).isOk());
  }
  for (int i = 0; i < n; ++i) ASSERT_TRUE(t.exists("/p/n" + std::to_string(i)).isOk()) << i;
  EXPECT_FALSE(t.exists("/p/n" + std::to_string(n)).isOk());
  for (int i = 0; i < n; ++i) {
    if (i % 100 != 0) ASSERT_TRUE(t.deleteNode("/p/n" + std::to_string(i), 100000 + i).isOk());
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_EQ(t.exists("/p/n" + std::to_string(i)).isOk(), i % 100 == 0) << i;
  }
  EXPECT_EQ(t.getChildren("/p")->names.size(), static_cast<size_t>(n / 100));
}

TEST(DataTreeDigest, NodeDigestIsCrc32OfPathDataAndStat) {
  // DigestCalculator v2: crc32 over path, data and the big-endian stat fields. Small nodes are
  // digested from one contiguous copy, big ones piecewise: both must give the definition.
  StatPersisted stat;
  stat.czxid = 0x0102030405060708;
  stat.mzxid = 2;
  stat.pzxid = 3;
  stat.ctime = 4;
  stat.mtime = 5;
  stat.version = 6;
  stat.cversion = 7;
  stat.aversion = 8;
  stat.ephemeral_owner = -9;
  auto be = [](std::string& out, uint64_t v, int bytes) {
    for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  };
  for (size_t size : {size_t{0}, size_t{100}, size_t{440}, size_t{600}, size_t{70000}}) {
    const std::string path = "/some/node";
    const std::string data(size, 'q');
    std::string all = path + data;
    be(all, stat.czxid, 8);
    be(all, stat.mzxid, 8);
    be(all, stat.pzxid, 8);
    be(all, stat.ctime, 8);
    be(all, stat.mtime, 8);
    be(all, static_cast<uint32_t>(stat.version), 4);
    be(all, static_cast<uint32_t>(stat.cversion), 4);
    be(all, static_cast<uint32_t>(stat.aversion), 4);
    be(all, static_cast<uint64_t>(stat.ephemeral_owner), 8);
    const uint64_t expected = crc32(0L, reinterpret_cast<const Bytef*>(all.data()), static_cast<uInt>(all.size()));
    EXPECT_EQ(znodeDigest(path, data, stat), expected) << size;
  }
  EXPECT_EQ(znodeDigest("/zookeeper/quota", "x", stat), 0u);
}

TEST(DataTreeDigest, IncrementalMatchesRecomputed) {
  DataTree t;
  create(t, "/a", 2, "data");
  create(t, "/a/b", 3, std::nullopt, 0x99);
  createSeq(t, "/a/s", 4);
  ASSERT_TRUE(t.setData("/a/b", "more", 1, 5, 77).isOk());
  ASSERT_TRUE(t.setAcl("/a", sdk::readAclUnsafe(), 1).isOk());
  ASSERT_TRUE(t.deleteNode("/a/b", 6).isOk());
  create(t, "/zookeeper/quota/x", 7, "excluded");
  ASSERT_TRUE(t.setCversionPzxid("/a", 10, 8).isOk());
  const int64_t incremental = t.digest();
  EXPECT_NE(incremental, 0);
  t.setDigestEnabled(false);
  EXPECT_EQ(t.digest(), 0);
  t.setDigestEnabled(true);
  EXPECT_EQ(t.digest(), incremental);
  // /zookeeper/... nodes do not contribute.
  const int64_t before = t.digest();
  ASSERT_TRUE(t.setData("/zookeeper/quota/x", "changed", 1, 9, 0).isOk());
  EXPECT_EQ(t.digest(), before);
}

TEST(DataTreeSnapshot, VisitAndLoadRoundTrip) {
  DataTree t;
  const AclList digest{Acl{31, Id{"digest", "u:abc="}}};
  create(t, "/a", 2, "data", 0, kOpen, 10);
  create(t, "/a/b", 3, std::nullopt, 0x55, digest, 11);
  create(t, "/a/b/c", 4, "", 0, digest, 12);
  create(t, "/c", 5, "", owner::kContainer);
  create(t, "/t", 6, "", owner::ttlOwner(1000));
  ASSERT_TRUE(t.setData("/a", "data2", 1, 7, 13).isOk());
  create(t, "/gone", 8, "", 0, {Acl{1, Id{"digest", "u:zzz="}}});
  ASSERT_TRUE(t.deleteNode("/gone", 9).isOk());

  struct Rec {
    std::string path;
    std::optional<std::string> data;
    int64_t acl_key;
    StatPersisted stat;
  };
  std::vector<std::pair<int64_t, AclList>> acls;
  std::vector<Rec> nodes;
  t.visitSnapshot([&](int64_t key, const AclList& acl) { acls.emplace_back(key, acl); },
                  [&](const NodeRecord& r) {
                    nodes.push_back({std::string(r.path),
                                     r.data ? std::optional<std::string>(std::string(*r.data)) : std::nullopt,
                                     r.acl_key, r.stat});
                  });
  ASSERT_EQ(nodes.size(), 9u);
  EXPECT_EQ(nodes[0].path, "");  // root first, written as ""
  std::set<std::string> seen;
  for (const auto& r : nodes) {
    if (!r.path.empty()) {
      std::string parent(sdk::parentOf(r.path));
      if (parent == "/") parent.clear();
      EXPECT_TRUE(seen.count(parent)) << r.path;  // pre-order: parent already visited
    }
    seen.insert(r.path);
  }
  ASSERT_EQ(acls.size(), 3u);  // 1 READ_ACL_UNSAFE, 2 open, 3 digest (4 was dropped)
  EXPECT_EQ(acls[0].first, 1);
  EXPECT_EQ(acls[1].first, 2);
  EXPECT_EQ(acls[2].first, 3);

  DataTree loaded;
  loaded.clearForLoad();
  // An extra unreferenced ACL entry is purged by finishLoad.
  ASSERT_TRUE(loaded.loadAcl(77, {Acl{1, Id{"digest", "u:unused="}}}).isOk());
  for (auto& [key, acl] : acls) ASSERT_TRUE(loaded.loadAcl(key, acl).isOk());
  for (const auto& r : nodes) {
    ASSERT_TRUE(loaded.loadNode(r.path, r.data ? std::optional<std::string_view>(*r.data) : std::nullopt,
                                r.acl_key, r.stat).isOk()) << r.path;
  }
  ASSERT_TRUE(loaded.finishLoad().isOk());
  EXPECT_EQ(loaded.aclEntries().size(), 3u);
  EXPECT_EQ(loaded.aclRefCount(77), 0);
  EXPECT_EQ(loaded.nodeCount(), t.nodeCount());
  EXPECT_EQ(loaded.approximateDataSize(), t.approximateDataSize());
  EXPECT_EQ(loaded.digest(), t.digest());
  for (const auto& r : nodes) {
    auto a = t.getNode(r.path);
    auto b = loaded.getNode(r.path);
    ASSERT_TRUE(b.isOk()) << r.path;
    EXPECT_EQ(a->stat, b->stat) << r.path;
    EXPECT_EQ(a->persisted, b->persisted) << r.path;
    EXPECT_EQ(*a->acl, *b->acl) << r.path;
    EXPECT_EQ(a->acl_key, b->acl_key) << r.path;
    EXPECT_EQ(t.getData(r.path)->data, loaded.getData(r.path)->data) << r.path;
  }
  EXPECT_EQ(loaded.ephemerals(0x55), std::vector<std::string>{"/a/b"});
  EXPECT_EQ(loaded.containers().size(), 1u);
  EXPECT_EQ(loaded.ttlNodes().size(), 1u);
  EXPECT_EQ(loaded.aclRefCount(3), 2);
  // Keys continue after the highest loaded one.
  ASSERT_TRUE(loaded.createNode("/new", "", {Acl{3, Id{"digest", "u:new="}}}, 0, -1, 20, 0).isOk());
  EXPECT_EQ(loaded.getNode("/new")->acl_key, 78);
}

TEST(DataTreeSnapshot, LoadInAnyParentFirstOrderWithSuppliedDigest) {
  DataTree source;
  create(source, "/a", 2, "one");
  create(source, "/b", 3, std::nullopt);
  create(source, "/a/x", 4, "two");
  create(source, "/b/y", 5, "three");
  create(source, "/b/y/z", 6, "four");
  std::vector<NodeRecord> records;
  std::vector<std::string> paths;
  std::vector<std::optional<std::string>> datas;
  source.visitSnapshot({}, [&](const NodeRecord& r) {
    paths.emplace_back(r.path);
    datas.emplace_back(r.data ? std::optional<std::string>(std::string(*r.data)) : std::nullopt);
    records.push_back(r);
  });
  // Parent before child but not depth first: /a/x after /b's subtree began, /b/y/z after /a/x.
  const std::vector<std::string> order = {"", "/zookeeper", "/zookeeper/quota", "/zookeeper/config",
                                          "/a", "/b", "/b/y", "/a/x", "/b/y/z"};
  uint64_t digest = 0;
  DataTree loaded;
  loaded.clearForLoad(DataTree::DigestSource::kSuppliedByCaller);
  for (auto& [key, acl] : source.aclEntries()) ASSERT_TRUE(loaded.loadAcl(key, *acl).isOk());
  for (const auto& path : order) {
    const size_t i = static_cast<size_t>(std::find(paths.begin(), paths.end(), path) - paths.begin());
    ASSERT_LT(i, paths.size()) << path;
    const std::optional<std::string_view> data = datas[i] ? std::optional<std::string_view>(*datas[i]) : std::nullopt;
    ASSERT_TRUE(loaded.loadNode(path, data, records[i].acl_key, records[i].stat).isOk()) << path;
    digest += znodeDigest(path, data.value_or(""), records[i].stat);
  }
  ASSERT_TRUE(loaded.finishLoad(digest).isOk());
  EXPECT_EQ(loaded.digest(), source.digest());
  EXPECT_EQ(loaded.nodeCount(), source.nodeCount());
  EXPECT_EQ(loaded.approximateDataSize(), source.approximateDataSize());
  for (const auto& path : order) {
    if (path.empty()) continue;
    EXPECT_EQ(loaded.getData(path)->data, source.getData(path)->data) << path;
    EXPECT_EQ(loaded.getNode(path)->stat, source.getNode(path)->stat) << path;
  }
  // A load that promised a digest must get one.
  DataTree missing;
  missing.clearForLoad(DataTree::DigestSource::kSuppliedByCaller);
  ASSERT_TRUE(missing.loadNode("", "", -1, {}).isOk());
  EXPECT_EQ(missing.finishLoad().code(), Code::kInternal);
}

TEST(DataTreeSnapshot, LoadErrors) {
  DataTree t;
  t.clearForLoad();
  EXPECT_EQ(t.finishLoad().code(), Code::kCorruptData);
  EXPECT_EQ(t.loadNode("/a", "", -1, {}).code(), Code::kCorruptData);  // no root yet
  ASSERT_TRUE(t.loadNode("", "", -1, {}).isOk());
  EXPECT_EQ(t.loadNode("", "", -1, {}).code(), Code::kCorruptData);
  EXPECT_EQ(t.loadNode("/x/y", "", -1, {}).code(), Code::kCorruptData);  // parent missing
  // An aclKey the ACL map lacks (a fuzzy snapshot) loads, as in ZooKeeper, with a placeholder
  // ACL that lets nobody but super in (an empty list would be open to all).
  ASSERT_TRUE(t.loadNode("/u", "", 5, {}).isOk());
  EXPECT_EQ(t.unknownAclKeys(), 1);
  ASSERT_TRUE(t.loadNode("/x", "", -1, {}).isOk());
  EXPECT_EQ(t.loadNode("/x", "", -1, {}).code(), Code::kCorruptData);    // twice
  EXPECT_EQ(t.loadNode("nope", "", -1, {}).code(), Code::kCorruptData);
  ASSERT_TRUE(t.finishLoad().isOk());
  EXPECT_EQ(t.nodeCount(), 3u);
  EXPECT_EQ(t.approximateDataSize(), 1 + 2 + 2);
  EXPECT_EQ(*t.getAcl("/u")->acl, unknownAclPlaceholder());
}

TEST(DataTreeSnapshot, LoadAfterALoadThatFailedBeforeItsRoot) {
  // Recovery loads an older snapshot into the same tree after a newer one failed. A load that
  // failed after its ACL map but before its root node left the ACL cache filled, and the older
  // snapshot's keys were then refused as duplicates (found by the snapshot fuzzer).
  const sdk::AclList digest_acl{{31, {"digest", "u:x"}}};
  DataTree t;
  t.clearForLoad();
  ASSERT_TRUE(t.loadAcl(1, digest_acl).isOk());  // ... and the newer snapshot ends here
  t.clearForLoad();
  ASSERT_TRUE(t.loadAcl(1, digest_acl).isOk());
  ASSERT_TRUE(t.loadNode("", "", -1, {}).isOk());
  ASSERT_TRUE(t.loadNode("/a", "", 1, {}).isOk());
  ASSERT_TRUE(t.finishLoad().isOk());
  EXPECT_EQ(*t.getAcl("/a")->acl, digest_acl);
  // With no older snapshot left, recovery resets the tree: the fresh tree's ACL cache only.
  t.clearForLoad();
  ASSERT_TRUE(t.loadAcl(7, digest_acl).isOk());
  t.reset();
  DataTree fresh;
  ASSERT_EQ(t.aclEntries().size(), fresh.aclEntries().size());
  for (const auto& [key, list] : t.aclEntries()) EXPECT_NE(key, 7);
}

TEST(DataTreeThreads, ReadersDuringWrites) {
  DataTree t;
  create(t, "/r", 2);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto c = t.getChildren("/r");
        if (c.isOk()) ++reads;
        (void)t.getData("/r/n5");
        (void)t.getAllChildrenNumber("/");
      }
    });
  }
  // The writes start once every reader has read (seen in CI: on a busy machine the writes could
  // all be done before a reader ran, and the test checked nothing).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reads.load() < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  for (int i = 0; i < 5000; ++i) {
    const std::string p = "/r/n" + std::to_string(i % 100);
    if (t.exists(p).isOk()) {
      ASSERT_TRUE(t.setData(p, std::string(static_cast<size_t>(i % 300), 'x'), 1, 10 + i, 0).isOk());
      if (i % 3 == 0) {
        ASSERT_TRUE(t.deleteNode(p, 10 + i).isOk());
      }
    } else {
      ASSERT_TRUE(t.createNode(p, "", kOpen, 0, -1, 10 + i, 0).isOk());
    }
  }
  stop = true;
  for (auto& th : readers) th.join();
  EXPECT_GT(reads.load(), 0);
}

// The fuzzy walk behind snapshots: while another thread creates, deletes and grows nodes (a
// larger setData moves a node to a new block; children tables rehash), every node that exists
// from the walk's start to its end is visited exactly once, after its parent.
TEST(DataTreeWalk, FuzzyWalkUnderConcurrentWritesVisitsStableNodesOnce) {
  DataTree t;
  sdk::Zxid zxid = 0;
  for (int d = 0; d < 20; ++d) {
    const std::string dir = "/d" + std::to_string(d);
    create(t, dir, ++zxid);
    for (int i = 0; i < 300; ++i) create(t, dir + "/s" + std::to_string(i), ++zxid, "x");
    for (int i = 0; i < 100; ++i) create(t, dir + "/v" + std::to_string(i), ++zxid, "x");
  }
  std::atomic<bool> walking{true};
  std::atomic<int> writes{0};
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    sdk::Zxid z = 100000;
    for (int round = 0; walking.load() || round < 50; ++round) {
      const std::string dir = "/d" + std::to_string(round % 20);
      // volatile nodes: deleted, recreated, grown; new nodes appear
      const std::string v = dir + "/v" + std::to_string(round % 100);
      if (t.exists(v).isOk()) {
        (void)t.deleteNode(v, ++z);
      } else {
        (void)t.createNode(v, "y", kOpen, 0, -1, ++z, 1000);
      }
      (void)t.setData(dir + "/s" + std::to_string(round % 300), std::string(200 + round % 50, 'g'), round, ++z, 1000);
      (void)t.createNode(dir + "/new" + std::to_string(round), "n", kOpen, 0, -1, ++z, 1000);
      ++writes;
      if (round > 20000) break;
    }
    writer_done = true;
  });
  std::vector<std::string> visited;
  std::set<std::string> seen;
  auto walk = t.beginWalk({});
  int steps = 0;
  while (walk->step(64, 1 << 20, [&](const NodeRecord& node) {
    const std::string path(node.path);
    if (!path.empty()) {
      const std::string parent(sdk::parentOf(path));
      EXPECT_TRUE(parent == "/" ? true : seen.count(parent) == 1) << path << " before its parent";
    }
    EXPECT_TRUE(seen.insert(path.empty() ? "/" : path).second) << "visited twice: " << path;
    visited.push_back(path);
  })) {
    ++steps;
    const int before = writes.load();
    // A write between every two steps (while the writer runs).
    while (writes.load() == before && !writer_done.load()) std::this_thread::yield();
  }
  walk.reset();
  walking = false;
  writer.join();
  EXPECT_GT(steps, 50);
  for (int d = 0; d < 20; ++d) {
    const std::string dir = "/d" + std::to_string(d);
    EXPECT_EQ(seen.count(dir), 1u);
    for (int i = 0; i < 300; ++i) EXPECT_EQ(seen.count(dir + "/s" + std::to_string(i)), 1u) << dir << "/s" << i;
  }
  EXPECT_EQ(seen.count("/zookeeper/quota"), 1u);
}

}  // namespace
}  // namespace corral::plugins::memlog
