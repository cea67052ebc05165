// Read-only mode (readonlymode.enabled): a member without a role for the grace period serves
// clients that allow read-only mode, with local sessions, and refuses writes and sync with
// NOTREADONLY; clients that do not allow it and global sessions are turned away; any role
// the consensus reports ends it.
#include "pipeline_fixture.h"

namespace corral::kernel::pipeline::testing {
namespace {

using sdk::Code;
using sdk::OpCode;

class ReadOnlyModeTest : public PipelineTest {
 protected:
  void startLookingReadOnly(int32_t max_session_timeout_ms = 10000) {
    RoleSettings settings;
    settings.read_only_mode = true;
    settings.read_only_delay_ms = 20;
    settings.sequencer.tick_ms = 10;
    settings.pipeline.min_session_timeout_ms = 20;
    settings.pipeline.max_session_timeout_ms = max_session_timeout_ms;
    startAs(sdk::Role::kLooking, settings);
    ASSERT_TRUE(waiter_.waitFor([&] { return wiring_->readOnly(); }));
  }
  std::optional<TestClient> connectReadOnly(sdk::SessionId id = 0, std::string passwd = {}) {
    return connect(id, std::move(passwd), {}, true);
  }
};

TEST_F(ReadOnlyModeTest, ServesReadOnlyClientsAfterTheGracePeriod) {
  startLookingReadOnly();
  EXPECT_TRUE(wiring_->serving());
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  ASSERT_TRUE(client->response.read_only.has_value());
  EXPECT_TRUE(*client->response.read_only);
  EXPECT_NE(client->response.session_id, 0);
  auto read = call(*client, OpCode::kExists, sdk::ExistsRequest{"/", false});
  EXPECT_EQ(read.err, Code::kOk);
  // mntr's zk_local_sessions counts it; the ensemble's sessions do not.
  EXPECT_EQ(wiring_->localSessionCount(), 1u);
  EXPECT_EQ(wiring_->sessionCount(), 0u);
}

TEST_F(ReadOnlyModeTest, RefusesClientsThatDoNotAllowIt) {
  startLookingReadOnly();
  EXPECT_FALSE(connect(0, {}, {}, false).has_value());       // closed without a reply
  EXPECT_FALSE(connect(0, {}, {}, std::nullopt).has_value());  // an old client, likewise
}

TEST_F(ReadOnlyModeTest, WritesCheckMultiAndSyncAreNotReadOnly) {
  startLookingReadOnly();
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  EXPECT_EQ(call(*client, OpCode::kCreate, createRequest("/w")).err, Code::kNotReadOnly);
  EXPECT_EQ(call(*client, OpCode::kSetData, sdk::SetDataRequest{"/", std::string("x"), -1}).err,
            Code::kNotReadOnly);
  EXPECT_EQ(call(*client, OpCode::kSync, sdk::SyncRequest{"/"}).err, Code::kNotReadOnly);
  EXPECT_EQ(call(*client, OpCode::kDelete, sdk::DeleteRequest{"/w", -1}).err, Code::kNotReadOnly);
  // Reads behind the refused writes are still answered, in order.
  EXPECT_EQ(call(*client, OpCode::kGetChildren, sdk::GetChildrenRequest{"/", false}).err, Code::kOk);
  EXPECT_EQ(call(*client, OpCode::kExists, sdk::ExistsRequest{"/w", false}).err, Code::kNoNode);
}

TEST_F(ReadOnlyModeTest, LocalSessionsReattachGlobalOnesAreTurnedAway) {
  startLookingReadOnly();
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  auto again = connectReadOnly(client->response.session_id, client->response.passwd);
  ASSERT_TRUE(again && again->session);
  EXPECT_EQ(again->response.session_id, client->response.session_id);
  // A session this member did not create in read-only mode (a global one) gets no answer.
  const sdk::SessionId global = client->response.session_id + 1000;
  EXPECT_FALSE(connectReadOnly(global, std::string(16, 'p')).has_value());
}

TEST_F(ReadOnlyModeTest, CloseSessionIsAnsweredLocally) {
  startLookingReadOnly();
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  const int32_t xid = submit(*client, OpCode::kCloseSession, std::monostate{});
  auto closed = reply(*client, xid);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->err, Code::kOk);
  EXPECT_TRUE(closed->close_after);
  EXPECT_FALSE(connectReadOnly(client->response.session_id, client->response.passwd).has_value());
}

TEST_F(ReadOnlyModeTest, AnIdleLocalSessionExpires) {
  startLookingReadOnly(/*max_session_timeout_ms=*/40);
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  EXPECT_EQ(client->response.timeout, 40);
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
  EXPECT_FALSE(connectReadOnly(client->response.session_id, client->response.passwd).has_value());
}

TEST_F(ReadOnlyModeTest, ARoleEndsReadOnlyModeAndClosesItsConnections) {
  startLookingReadOnly();
  auto client = connectReadOnly();
  ASSERT_TRUE(client && client->session);
  consensus_.become(sdk::Role::kFollower, 2);
  ASSERT_TRUE(waiter_.waitFor([&] { return client->connection->closed(); }));
  ASSERT_TRUE(waiter_.waitFor([&] { return !wiring_->readOnly() && wiring_->serving(); }));
  // Looking again: read-only mode comes back after the grace period.
  consensus_.become(sdk::Role::kLooking, 2);
  ASSERT_TRUE(waiter_.waitFor([&] { return wiring_->readOnly(); }));
}

TEST_F(ReadOnlyModeTest, OffByDefault) {
  startAs(sdk::Role::kLooking);
  EXPECT_FALSE(wiring_->serving());
  EXPECT_FALSE(wiring_->readOnly());
  EXPECT_FALSE(connectReadOnly().has_value());
}

}  // namespace
}  // namespace corral::kernel::pipeline::testing
