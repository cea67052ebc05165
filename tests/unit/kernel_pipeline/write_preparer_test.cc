// The prepare stage (ZooKeeper's PrepRequestProcessor rules) against a real memlog tree:
// each write becomes the txn ZooKeeper would log, errors in ZooKeeper's check order,
// pipelined writes see each other through the pending changes.
#include "kernel/pipeline/write_preparer.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "digest_scheme.h"
#include "memlog_storage.h"
#include "tests/support/runtime_test_host.h"

namespace corral::kernel::pipeline {
namespace {

using TestHost = corral::testing::RuntimeTestHost;
using sdk::Code;
using sdk::OpCode;

class WritePreparerTest : public ::testing::Test {
 protected:
  WritePreparerTest() : storage_(host_), pending_(storage_), preparer_(pending_, acl_, true) {
    acl_.addProvider(&digest_);
  }

  // Prepares and (unless told not to) applies, like the pipeline with instant durability.
  sdk::TxnEntry write(OpCode op, sdk::RequestBody body, bool apply = true) {
    PrepareContext context{session_, 1, &ids_, ++zxid_, 1000 + zxid_};
    sdk::ClientRequest request{1, op, std::move(body), Code::kOk};
    auto txn = preparer_.prepare(context, request);
    if (apply) applyTxn(txn);
    return txn;
  }
  void applyTxn(const sdk::TxnEntry& txn) {
    std::vector<sdk::OpOutcome> outcomes;
    ASSERT_TRUE(storage_.apply(txn, sdk::ApplyMode::kLive, outcomes).isOk());
    pending_.applied(txn.header.zxid);
  }
  sdk::TxnEntry create(const std::string& path, int32_t flags = 0, bool apply = true,
                       sdk::AclList acl = sdk::openAclUnsafe()) {
    return write(OpCode::kCreate, sdk::CreateRequest{path, std::string("d"), acl, false, flags}, apply);
  }
  static Code errorOf(const sdk::TxnEntry& txn) {
    if (txn.header.type != OpCode::kError) return Code::kOk;
    return std::get<sdk::ErrorTxn>(txn.body).err;
  }

  TestHost host_;
  plugins::memlog::MemlogStorage storage_;
  AclChecker acl_;
  plugins::digest::DigestScheme digest_{""};
  PendingChanges pending_;
  WritePreparer preparer_;
  std::vector<sdk::Id> ids_{{"ip", "127.0.0.1"}};
  sdk::SessionId session_ = 0x100;
  sdk::Zxid zxid_ = 0;
};

TEST_F(WritePreparerTest, CreateCarriesParentCversionAndFullPath) {
  auto txn = create("/a");
  ASSERT_EQ(txn.header.type, OpCode::kCreate);
  const auto& body = std::get<sdk::CreateTxn>(txn.body);
  EXPECT_EQ(body.path, "/a");
  // A fresh root has stored cversion 0 (it shows -1: 0*2 - 1 child), so the txn carries 1.
  EXPECT_EQ(body.parent_cversion, 1);
  EXPECT_FALSE(body.ephemeral);
}

TEST_F(WritePreparerTest, SequentialNamesFollowTheParentCounterAcrossPendingCreates) {
  create("/a");
  // Three pipelined creates, none applied yet: the pending parent counter moves each time.
  auto first = create("/a/s-", 2, false);
  auto second = create("/a/s-", 2, false);
  auto plain = create("/a/x", 0, false);
  EXPECT_EQ(std::get<sdk::CreateTxn>(first.body).path, "/a/s-0000000000");
  EXPECT_EQ(std::get<sdk::CreateTxn>(second.body).path, "/a/s-0000000001");
  EXPECT_EQ(std::get<sdk::CreateTxn>(plain.body).parent_cversion, 3);
  auto existing = create("/a/x", 0, false);
  EXPECT_EQ(errorOf(existing), Code::kNodeExists);  // seen through the pending change
}

// Regression: the root is "" as a parent and "/" as a node; a pending change of the root
// recorded under one name was missed under the other, so pipelined sequential creates
// directly under "/" reused the same counter (/s-0000000000, NodeExists, ...).
TEST_F(WritePreparerTest, SequentialNamesUnderTheRootFollowPendingCreates) {
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    auto txn = create("/s-", 2, false);
    ASSERT_EQ(txn.header.type, OpCode::kCreate) << i;
    names.push_back(std::get<sdk::CreateTxn>(txn.body).path);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"/s-0000000000", "/s-0000000001", "/s-0000000002",
                                             "/s-0000000003"}));
  auto plain = create("/plain", 0, false);
  EXPECT_EQ(std::get<sdk::CreateTxn>(plain.body).parent_cversion, 5);
}

TEST_F(WritePreparerTest, CheckOrderMatchesZooKeeper) {
  // Bad flags beat everything; an invalid ACL beats a missing parent; a missing parent beats
  // a bad path; a bad path beats an existing node.
  EXPECT_EQ(errorOf(create("/missing/x", 9)), Code::kBadArguments);
  EXPECT_EQ(errorOf(create("/missing/x", 0, true, {})), Code::kInvalidAcl);
  EXPECT_EQ(errorOf(create("/missing/")), Code::kNoNode);
  create("/p");
  EXPECT_EQ(errorOf(create("/p/")), Code::kBadArguments);
  EXPECT_EQ(errorOf(create("noslash")), Code::kBadArguments);
}

TEST_F(WritePreparerTest, EphemeralParentRefusesChildren) {
  create("/e", 1);
  EXPECT_EQ(errorOf(create("/e/child")), Code::kNoChildrenForEphemerals);
  EXPECT_EQ(errorOf(create("/e/seq-", 2)), Code::kNoChildrenForEphemerals);
}

TEST_F(WritePreparerTest, TtlRules) {
  auto ttl = [&](int32_t flags, int64_t ttl_ms) {
    return write(OpCode::kCreateTtl, sdk::CreateTtlRequest{"/t", std::nullopt, sdk::openAclUnsafe(), false, flags, ttl_ms}, false);
  };
  EXPECT_EQ(errorOf(ttl(5, 0)), Code::kBadArguments);
  EXPECT_EQ(errorOf(ttl(5, sdk::owner::kMaxTtl + 1)), Code::kBadArguments);
  EXPECT_EQ(errorOf(ttl(0, -1)), Code::kBadArguments);  // 3.8.0 would accept and then crash
  EXPECT_EQ(errorOf(ttl(0, 100)), Code::kBadArguments);
  EXPECT_EQ(ttl(5, 1000).header.type, OpCode::kCreateTtl);
}

TEST_F(WritePreparerTest, DeleteRules) {
  create("/d");
  create("/d/c");
  auto not_empty = write(OpCode::kDelete, sdk::DeleteRequest{"/d", -1});
  EXPECT_EQ(errorOf(not_empty), Code::kNotEmpty);
  auto bad_version = write(OpCode::kDelete, sdk::DeleteRequest{"/d/c", 5});
  EXPECT_EQ(errorOf(bad_version), Code::kBadVersion);
  EXPECT_EQ(errorOf(write(OpCode::kDelete, sdk::DeleteRequest{"/zookeeper", -1})), Code::kBadArguments);
  EXPECT_EQ(errorOf(write(OpCode::kDelete, sdk::DeleteRequest{"/", -1})), Code::kBadArguments);
  EXPECT_EQ(write(OpCode::kDelete, sdk::DeleteRequest{"/d/c", 0}).header.type, OpCode::kDelete);
  EXPECT_EQ(errorOf(write(OpCode::kDelete, sdk::DeleteRequest{"/d/c", -1})), Code::kNoNode);
}

TEST_F(WritePreparerTest, SetDataLogsTheNewVersion) {
  create("/v");
  auto txn = write(OpCode::kSetData, sdk::SetDataRequest{"/v", std::string("x"), 0});
  EXPECT_EQ(std::get<sdk::SetDataTxn>(txn.body).version, 1);
  EXPECT_EQ(errorOf(write(OpCode::kSetData, sdk::SetDataRequest{"/v", std::nullopt, 0})), Code::kBadVersion);
  EXPECT_EQ(errorOf(write(OpCode::kSetData, sdk::SetDataRequest{"/missing/", std::nullopt, -1})),
            Code::kBadArguments);  // setData validates before looking up
}

TEST_F(WritePreparerTest, AuthAclExpandsToDigestIdsOnly) {
  EXPECT_EQ(errorOf(create("/nope", 0, true, sdk::creatorAllAcl())), Code::kInvalidAcl);  // only ip: not authenticated
  ids_.push_back({"digest", "u:abc"});
  auto txn = create("/mine", 0, true, sdk::creatorAllAcl());
  const auto& acl = std::get<sdk::CreateTxn>(txn.body).acl;
  ASSERT_EQ(acl.size(), 1u);
  EXPECT_EQ(acl[0], (sdk::Acl{sdk::perms::kAll, {"digest", "u:abc"}}));
}

TEST_F(WritePreparerTest, NoAuthOnParentWithoutCreate) {
  create("/locked", 0, true, {sdk::Acl{sdk::perms::kRead, {"world", "anyone"}}});
  EXPECT_EQ(errorOf(create("/locked/x")), Code::kNoAuth);
}

TEST_F(WritePreparerTest, FailedMultiLogsPrecedingOpsThenErrorsAndRollsBack) {
  create("/m");
  sdk::MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, sdk::CreateRequest{"/m/a", std::nullopt, sdk::openAclUnsafe(), false, 0}});
  multi.ops.push_back({OpCode::kDelete, sdk::DeleteRequest{"/m/missing", -1}});
  multi.ops.push_back({OpCode::kSetData, sdk::SetDataRequest{"/m", std::nullopt, -1}});
  auto txn = write(OpCode::kMulti, multi, false);
  ASSERT_EQ(txn.header.type, OpCode::kMulti);
  const auto& ops = std::get<sdk::MultiTxn>(txn.body).txns;
  ASSERT_EQ(ops.size(), 3u);
  EXPECT_EQ(ops[0].type, OpCode::kCreate);
  EXPECT_EQ(ops[1].type, OpCode::kError);
  EXPECT_EQ(ops[2].type, OpCode::kError);
  // The rolled-back create is not visible to the next write.
  EXPECT_EQ(create("/m/a", 0, false).header.type, OpCode::kCreate);
}

TEST_F(WritePreparerTest, MultiSubOpsSeeEarlierOnes) {
  create("/n");
  sdk::MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, sdk::CreateRequest{"/n/a", std::nullopt, sdk::openAclUnsafe(), false, 0}});
  multi.ops.push_back({OpCode::kSetData, sdk::SetDataRequest{"/n/a", std::string("1"), 0}});
  multi.ops.push_back({OpCode::kCheck, sdk::CheckVersionRequest{"/n/a", 1}});
  multi.ops.push_back({OpCode::kDelete, sdk::DeleteRequest{"/n/a", 1}});
  multi.ops.push_back({OpCode::kCreate, sdk::CreateRequest{"/n/c", std::nullopt, sdk::openAclUnsafe(), false, 4}});
  auto txn = write(OpCode::kMulti, multi);
  const auto& ops = std::get<sdk::MultiTxn>(txn.body).txns;
  ASSERT_EQ(ops.size(), 5u);
  for (const auto& op : ops) EXPECT_NE(op.type, OpCode::kError);
  EXPECT_EQ(ops[4].type, OpCode::kCreateContainer);  // flags 4 inside multi → container
}

TEST_F(WritePreparerTest, CloseSessionListsEphemeralsAndHidesThemFromLaterWrites) {
  create("/eph", 1);
  PrepareContext context{session_, 0, &ids_, ++zxid_, 5000};
  auto txn = preparer_.closeSession(context, storage_.ephemeralsOf(session_));
  EXPECT_EQ(std::get<sdk::CloseSessionTxn>(txn.body).paths_to_delete, std::vector<std::string>{"/eph"});
  EXPECT_EQ(create("/eph", 0, false).header.type, OpCode::kCreate);  // pending delete seen
}

}  // namespace
}  // namespace corral::kernel::pipeline
