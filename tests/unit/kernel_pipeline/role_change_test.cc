// Roles at run time: the forwarder of a learner (writes, sync, session create/reattach and
// touches go to the leader), the sequencer of a leader taking requests from learners with
// their auth ids, and the changes between roles (connections closed, sessions kept).
#include "kernel/admin/core_commands.h"
#include "pipeline_fixture.h"

namespace corral::kernel::pipeline::testing {
namespace {

using sdk::Code;
using sdk::OpCode;

class RoleChangeTest : public PipelineTest {
 protected:
  // Plays the leader: commits `body` for (session, cxid) with the next zxid.
  void leaderCommits(sdk::SessionId session, int32_t cxid, OpCode type, sdk::TxnBody body) {
    sdk::TxnEntry txn;
    txn.header = sdk::TxnHeader{session, cxid, ++leader_zxid_, 1000, type};
    txn.body = std::move(body);
    wiring_->commit(std::move(txn), sdk::Status::ok(), sdk::ApplyMode::kLive);
  }
  // Connects through a learner: the createSession goes to the leader, which commits it.
  std::optional<TestClient> connectThroughLeader() {
    const size_t before = consensus_.forwarded().size();
    return connect(0, {}, [&] {
      ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.forwarded().size() > before; }));
      auto create = consensus_.forwarded().back();
      ASSERT_EQ(create.request.op, OpCode::kCreateSession);
      EXPECT_TRUE(create.auth_ids.empty());  // as ZooKeeper's learners send it
      leaderCommits(create.session, 0, OpCode::kCreateSession, sdk::CreateSessionTxn{create.session_timeout_ms});
    });
  }
  sdk::Zxid leader_zxid_ = sdk::zxidOf(1, 0);
};

TEST_F(RoleChangeTest, FollowerForwardsWritesAndAnswersWhenTheLeaderCommits) {
  startAs(sdk::Role::kFollower);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  ASSERT_EQ(call(*client, OpCode::kAuth, sdk::AuthPacket{0, "digest", "u:p"}).err, Code::kOk);
  const int32_t xid = submit(*client, OpCode::kCreate, createRequest("/f"));
  ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.forwarded().size() == 2; }));
  auto forwarded = consensus_.forwarded().back();
  EXPECT_EQ(forwarded.session, client->response.session_id);
  EXPECT_EQ(forwarded.request.xid, xid);
  EXPECT_EQ(forwarded.request.op, OpCode::kCreate);
  ASSERT_EQ(forwarded.auth_ids.size(), 2u);  // the connection's ip id and the digest id
  EXPECT_EQ(forwarded.auth_ids[0].scheme, "ip");
  EXPECT_EQ(forwarded.auth_ids[1].scheme, "digest");
  EXPECT_EQ(client->connection->responseCount(), 1u);  // not answered before the commit
  // Another session's txn first: applied, nothing answered here.
  leaderCommits(0x999, 5, OpCode::kCreate, sdk::CreateTxn{"/other", std::string("x"), sdk::openAclUnsafe(), false, 1});
  leaderCommits(forwarded.session, xid, OpCode::kCreate, sdk::CreateTxn{"/f", std::string("d"), sdk::openAclUnsafe(), false, 2});
  auto response = reply(*client, xid);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->err, Code::kOk);
  EXPECT_EQ(std::get<sdk::CreateResponse>(response->body).path, "/f");
  EXPECT_EQ(response->zxid, leader_zxid_);
  auto other = call(*client, OpCode::kExists, sdk::ExistsRequest{"/other", false});
  EXPECT_EQ(other.err, Code::kOk);
}

TEST_F(RoleChangeTest, FollowerSyncWaitsForTheLeaderAndReadsWaitBehindIt) {
  startAs(sdk::Role::kFollower);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  const int32_t sync = submit(*client, OpCode::kSync, sdk::SyncRequest{"/"});
  const int32_t read = submit(*client, OpCode::kExists, sdk::ExistsRequest{"/late", false});
  ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.forwarded().back().request.op == OpCode::kSync; }));
  EXPECT_EQ(client->connection->responseCount(), 0u);
  // The leader commits a write it ordered before the sync, then answers the sync.
  leaderCommits(0x999, 1, OpCode::kCreate, sdk::CreateTxn{"/late", std::nullopt, sdk::openAclUnsafe(), false, 1});
  wiring_->syncCompleted();
  auto sync_reply = reply(*client, sync);
  auto read_reply = reply(*client, read);
  ASSERT_TRUE(sync_reply && read_reply);
  EXPECT_EQ(std::get<sdk::SyncResponse>(sync_reply->body).path, "/");
  EXPECT_EQ(read_reply->err, Code::kOk);  // the read saw what the leader had before the sync
}

TEST_F(RoleChangeTest, FollowerReportsTouchedSessionsOnce) {
  startAs(sdk::Role::kFollower);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  // A session created through another member is listed too, as ZooKeeper's learners do.
  leaderCommits(0x777, 0, OpCode::kCreateSession, sdk::CreateSessionTxn{6000});
  call(*client, OpCode::kExists, sdk::ExistsRequest{"/", false});
  auto touches = wiring_->takeSessionTouches();
  std::map<sdk::SessionId, int32_t> by_id;
  for (const auto& touch : touches) by_id[touch.id] = touch.timeout_ms;
  EXPECT_EQ(by_id[client->response.session_id], client->response.timeout);
  EXPECT_EQ(by_id[0x777], 6000);
  EXPECT_TRUE(wiring_->takeSessionTouches().empty());
}

TEST_F(RoleChangeTest, FollowerAsksTheLeaderToRevalidateAReattachingSession) {
  startAs(sdk::Role::kFollower);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  const auto id = client->response.session_id;
  auto valid = connect(id, client->response.passwd, [&] {
    ASSERT_TRUE(waiter_.waitFor([&] { return true; }));
    std::vector<TestConsensus::Revalidation> asked;
    ASSERT_TRUE(waiter_.waitFor([&] {
      auto more = consensus_.takeRevalidations();
      asked.insert(asked.end(), more.begin(), more.end());
      return !asked.empty();
    }));
    EXPECT_EQ(asked[0].id, id);
    asked[0].done(true);
  });
  ASSERT_TRUE(valid && valid->session);
  EXPECT_EQ(valid->response.session_id, id);
  auto refused = connect(id, client->response.passwd, [&] {
    std::vector<TestConsensus::Revalidation> asked;
    ASSERT_TRUE(waiter_.waitFor([&] {
      auto more = consensus_.takeRevalidations();
      asked.insert(asked.end(), more.begin(), more.end());
      return !asked.empty();
    }));
    asked[0].done(false);
  });
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->response.session_id, 0);
  EXPECT_EQ(refused->session, nullptr);
}

TEST_F(RoleChangeTest, LeavingARoleClosesConnectionsAndLookingRefusesSessions) {
  startAs(sdk::Role::kStandalone);
  auto client = connect();
  ASSERT_TRUE(client && client->session);
  EXPECT_TRUE(wiring_->serving());
  consensus_.become(sdk::Role::kLooking, 0);
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
  EXPECT_FALSE(wiring_->serving());
  EXPECT_FALSE(connect().has_value());  // closed without a reply
  EXPECT_EQ(wiring_->sessionCount(), 1u);  // the session is not expired by the role change
}

TEST_F(RoleChangeTest, ANewLeaderTakesOverTheSessionsItSawAsAFollower) {
  startAs(sdk::Role::kFollower);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  consensus_.become(sdk::Role::kLeader, 2);
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
  // The client reconnects to the new leader: its sequencer knows the session.
  auto again = connect(client->response.session_id, client->response.passwd);
  ASSERT_TRUE(again && again->session);
  EXPECT_EQ(again->response.session_id, client->response.session_id);
  auto created = call(*again, OpCode::kCreate, createRequest("/after"));
  EXPECT_EQ(created.err, Code::kOk);
  EXPECT_EQ(sdk::epochOf(created.zxid), 2);  // zxids of the new epoch
}

TEST_F(RoleChangeTest, LeaderSequencesALearnersRequestWithItsAuthIds) {
  startAs(sdk::Role::kLeader);
  auto local = connect();
  ASSERT_TRUE(local && local->session);
  ASSERT_EQ(call(*local, OpCode::kAuth, sdk::AuthPacket{0, "digest", "u:p"}).err, Code::kOk);
  ASSERT_EQ(call(*local, OpCode::kCreate,
                 sdk::CreateRequest{"/mine", std::nullopt, sdk::creatorAllAcl(), false, 0}).err, Code::kOk);
  const size_t before = consensus_.proposed().size();
  // A learner's session (created through it) writes under /mine: allowed only with u's id.
  sdk::ForwardedRequest create_session;
  create_session.session = 0x0500000000000001;
  create_session.request.op = OpCode::kCreateSession;
  create_session.session_timeout_ms = 5000;
  wiring_->submitForwarded(create_session);
  auto write = [&](std::vector<sdk::Id> ids, int32_t cxid) {
    sdk::ForwardedRequest request;
    request.session = create_session.session;
    request.request = sdk::ClientRequest{cxid, OpCode::kCreate, createRequest("/mine/x" + std::to_string(cxid)), Code::kOk};
    request.auth_ids = std::move(ids);
    wiring_->submitForwarded(std::move(request));
  };
  write({{"ip", "127.0.0.2"}}, 1);
  write({{"ip", "127.0.0.2"}, {"digest", plugins::digest::generateDigest("u:p")}}, 2);
  ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.proposed().size() == before + 3; }));
  auto proposed = consensus_.proposed();
  EXPECT_EQ(proposed[before].header.type, OpCode::kCreateSession);
  ASSERT_EQ(proposed[before + 1].header.type, OpCode::kError);
  EXPECT_EQ(std::get<sdk::ErrorTxn>(proposed[before + 1].body).err, Code::kNoAuth);
  EXPECT_EQ(proposed[before + 2].header.type, OpCode::kCreate);
}

// A peer is not a decoder: a forwarded write whose body is not its op's record becomes a
// MarshallingError txn (nothing half-prepared stays behind), and a forwarded read is ignored.
TEST_F(RoleChangeTest, LeaderRefusesMalformedForwardedRequests) {
  startAs(sdk::Role::kLeader);
  sdk::ForwardedRequest create_session;
  create_session.session = 0x0600000000000001;
  create_session.request.op = OpCode::kCreateSession;
  create_session.session_timeout_ms = 5000;
  wiring_->submitForwarded(create_session);
  auto forward = [&](int32_t cxid, OpCode op, sdk::RequestBody body) {
    sdk::ForwardedRequest request;
    request.session = create_session.session;
    request.request = sdk::ClientRequest{cxid, op, std::move(body), Code::kOk};
    request.auth_ids = {{"ip", "127.0.0.2"}};
    wiring_->submitForwarded(std::move(request));
  };
  forward(1, OpCode::kCreate, sdk::DeleteRequest{"/x", -1});
  sdk::MultiRequest multi;
  multi.ops.push_back({OpCode::kCreate, sdk::CreateRequest{"/m", std::nullopt, sdk::openAclUnsafe(), false, 0}});
  multi.ops.push_back({OpCode::kSetData, sdk::DeleteRequest{"/m", -1}});
  forward(2, OpCode::kMulti, multi);
  forward(3, OpCode::kGetData, sdk::GetDataRequest{"/", false});
  forward(4, OpCode::kCreate, createRequest("/ok"));
  ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.proposed().size() == 4; }));
  auto proposed = consensus_.proposed();
  for (int i : {1, 2}) {
    ASSERT_EQ(proposed[i].header.type, OpCode::kError) << i;
    EXPECT_EQ(std::get<sdk::ErrorTxn>(proposed[i].body).err, Code::kMarshallingError);
  }
  EXPECT_EQ(proposed[3].header.cxid, 4);  // the getData made no txn
  EXPECT_EQ(proposed[3].header.type, OpCode::kCreate);
  EXPECT_EQ(std::get<sdk::CreateTxn>(proposed[3].body).path, "/ok");
}

TEST_F(RoleChangeTest, AClientThatQueuesWithoutBoundIsDisconnected) {
  RoleSettings settings;
  settings.pipeline.max_queued_per_session = 8;
  startAs(sdk::Role::kFollower, settings);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  submit(*client, OpCode::kCreate, createRequest("/held"));  // the leader never commits it
  for (int i = 0; i < 7; ++i) submit(*client, OpCode::kExists, sdk::ExistsRequest{"/", false});
  // Everything submitted so far is on the strand once a ping (which bypasses the queue) is answered.
  client->session->submit(sdk::ClientRequest{sdk::xids::kPing, OpCode::kPing, std::monostate{}, Code::kOk});
  ASSERT_TRUE(reply(*client, sdk::xids::kPing));
  EXPECT_FALSE(client->connection->closed());
  submit(*client, OpCode::kExists, sdk::ExistsRequest{"/", false});
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
}

TEST_F(RoleChangeTest, WritesInFlightAreBoundedPerSessionWhateverTheirXids) {
  RoleSettings settings;
  settings.pipeline.max_queued_per_session = 8;
  startAs(sdk::Role::kFollower, settings);
  auto client = connectThroughLeader();
  ASSERT_TRUE(client && client->session);
  // Negative xids escape a front end's outstanding count; the kernel bounds them anyway.
  for (int i = 0; i < 8; ++i) {
    client->session->submit(sdk::ClientRequest{-100 - i, OpCode::kCreate, createRequest("/w" + std::to_string(i)), Code::kOk});
  }
  ASSERT_TRUE(waiter_.waitFor([&] { return consensus_.forwarded().size() == 9; }));  // + createSession
  EXPECT_FALSE(client->connection->closed());
  client->session->submit(sdk::ClientRequest{-200, OpCode::kCreate, createRequest("/w8"), Code::kOk});
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
  EXPECT_EQ(consensus_.forwarded().size(), 9u);
}

}  // namespace
}  // namespace corral::kernel::pipeline::testing

namespace corral::kernel::pipeline::testing {
namespace {

// What a 3.8.0 member stuck in LOOKING prints (captured from the real server): the words that
// need a running server say so, the others answer as usual.
TEST_F(RoleChangeTest, FourLetterWordsWhileNoRoleServes) {
  startAs(sdk::Role::kLooking);
  runtime::CommandRegistryImpl registry;
  admin::ServerInfo info{nullptr, &host_.registry(), wiring_.get(), &storage_, &consensus_, {}};
  ASSERT_TRUE(admin::registerCoreCommands(registry, info).isOk());
  auto text = [&](const char* word) { return registry.find(word)->run(sdk::CommandArgs{}).text; };
  const std::string not_serving = "This ZooKeeper instance is not currently serving requests";
  for (const char* word : {"srvr", "stat", "mntr", "conf", "cons", "dump", "wchs", "wchc", "wchp", "dirs", "crst", "srst"}) {
    EXPECT_EQ(text(word), not_serving + "\n") << word;
  }
  EXPECT_EQ(text("hash"), not_serving);
  EXPECT_EQ(text("ruok"), "imok");
  EXPECT_EQ(text("isro"), "null");
  EXPECT_EQ(text("gtmk"), "306");
  consensus_.become(sdk::Role::kStandalone, 0);
  ASSERT_TRUE(waiter_.waitFor([&] { return wiring_->serving(); }));
  EXPECT_EQ(text("isro"), "rw");
}

}  // namespace
}  // namespace corral::kernel::pipeline::testing
