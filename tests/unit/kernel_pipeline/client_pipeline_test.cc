// The client pipeline with the sequencer (standalone): ordering, replies matched to commits,
// watches, and the defects fixed while the request path was split.
#include "pipeline_fixture.h"

namespace corral::kernel::pipeline::testing {
namespace {

using sdk::Code;
using sdk::OpCode;

TEST_F(PipelineTest, PipelinedSequentialCreatesUnderTheRootGetDistinctNames) {
  startAs(sdk::Role::kStandalone);
  auto client = connect();
  ASSERT_TRUE(client && client->session);
  sdk::NodeRead before;
  ASSERT_EQ(storage_.read("/", sdk::NodeRead::kStat, before), sdk::Code::kOk);
  std::vector<int32_t> xids;
  for (int i = 0; i < 4; ++i) xids.push_back(submit(*client, OpCode::kCreate, createRequest("/s-", 2)));
  std::vector<std::string> names;
  for (auto xid : xids) {
    auto response = reply(*client, xid);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->err, Code::kOk);
    names.push_back(std::get<sdk::CreateResponse>(response->body).path);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"/s-0000000000", "/s-0000000001", "/s-0000000002",
                                             "/s-0000000003"}));
  sdk::NodeRead root;
  ASSERT_EQ(storage_.read("/", sdk::NodeRead::kStat, root), sdk::Code::kOk);
  EXPECT_EQ(root.stat.cversion, before.stat.cversion + 4);
  EXPECT_EQ(root.stat.pzxid, consensus_.proposed().back().header.zxid);
}

// A check outside multi is logged but not answered (as in ZooKeeper 3.8); the front end
// still gets a silent completion so it can release the request's outstanding slot.
TEST_F(PipelineTest, BareCheckCompletesSilentlyAndLaterRequestsAreAnswered) {
  startAs(sdk::Role::kStandalone);
  auto client = connect();
  ASSERT_TRUE(client);
  ASSERT_EQ(call(*client, OpCode::kCreate, createRequest("/c")).err, Code::kOk);
  const int32_t check = submit(*client, OpCode::kCheck, sdk::CheckVersionRequest{"/c", 0});
  auto completion = reply(*client, check);
  ASSERT_TRUE(completion);
  EXPECT_TRUE(completion->silent);
  auto get = call(*client, OpCode::kGetData, sdk::GetDataRequest{"/c", false});
  EXPECT_EQ(get.err, Code::kOk);
}

TEST_F(PipelineTest, ReadWaitsForTheSessionsEarlierWritesAndRepliesComeInOrder) {
  startAs(sdk::Role::kStandalone);
  auto client = connect();
  ASSERT_TRUE(client);
  const int32_t create = submit(*client, OpCode::kCreate, createRequest("/o"));
  const int32_t set = submit(*client, OpCode::kSetData, sdk::SetDataRequest{"/o", std::string("new"), -1});
  const int32_t get = submit(*client, OpCode::kGetData, sdk::GetDataRequest{"/o", false});
  auto response = reply(*client, get);
  ASSERT_TRUE(response);
  EXPECT_EQ(std::get<sdk::GetDataResponse>(response->body).data, std::optional<std::string>("new"));
  std::vector<int32_t> order;
  for (const auto& r : client->connection->responses()) order.push_back(r.xid);
  EXPECT_EQ(order, (std::vector<int32_t>{create, set, get}));
}

TEST_F(PipelineTest, WatchEventPrecedesTheReplyOfTheChange) {
  startAs(sdk::Role::kStandalone);
  auto watcher = connect();
  auto writer = connect();
  ASSERT_TRUE(watcher && writer);
  ASSERT_EQ(call(*writer, OpCode::kCreate, createRequest("/w")).err, Code::kOk);
  ASSERT_EQ(call(*watcher, OpCode::kGetData, sdk::GetDataRequest{"/w", true}).err, Code::kOk);
  ASSERT_EQ(call(*writer, OpCode::kSetData, sdk::SetDataRequest{"/w", std::string("x"), -1}).err, Code::kOk);
  ASSERT_TRUE(waiter_.waitFor([&] { return !watcher->connection->events().empty(); }));
  auto event = watcher->connection->events().front();
  EXPECT_EQ(event.type, sdk::EventType::kNodeDataChanged);
  EXPECT_EQ(event.path, "/w");
}

TEST_F(PipelineTest, SessionIdsCarryTheServerIdAndReattachChecksThePassword) {
  RoleSettings settings;
  settings.pipeline.server_id = 7;
  startAs(sdk::Role::kStandalone, settings);
  auto client = connect();
  ASSERT_TRUE(client && client->session);
  const sdk::SessionId id = client->response.session_id;
  EXPECT_EQ(id >> 56, 7);
  auto wrong = connect(id, std::string(16, 'x'));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->response.session_id, 0);  // expired: wrong password
  EXPECT_TRUE(client->connection->closed());  // any takeover attempt closes the holder
  auto again = connect(id, client->response.passwd);
  ASSERT_TRUE(again && again->session);
  EXPECT_EQ(again->response.session_id, id);
}

TEST_F(PipelineTest, CloseSessionIsAnsweredThenTheSessionIsGone) {
  startAs(sdk::Role::kStandalone);
  auto client = connect();
  ASSERT_TRUE(client);
  ASSERT_EQ(call(*client, OpCode::kCreate, createRequest("/eph", 1)).err, Code::kOk);
  auto closed = call(*client, OpCode::kCloseSession, std::monostate{});
  EXPECT_TRUE(closed.close_after);
  sdk::NodeRead node;
  EXPECT_EQ(storage_.read("/eph", sdk::NodeRead::kStat, node), sdk::Code::kNoNode);
  auto again = connect(client->response.session_id, client->response.passwd);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->response.session_id, 0);
}

}  // namespace
}  // namespace corral::kernel::pipeline::testing
