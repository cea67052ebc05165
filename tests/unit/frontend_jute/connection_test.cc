// frontend.jute over real loopback sockets: handshake, framing, decode, replies, order.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "frontend_fixture.h"

namespace corral::plugins::jute::testing {
namespace {

using sdk::Code;
using sdk::OpCode;

sdk::ReplyHeader replyHeaderOf(const std::string& payload) {
  sdk::ReplyHeader header;
  sdk::JuteReader reader(payload);
  EXPECT_TRUE(decode(reader, header));
  return header;
}

class ConnectionTest : public FrontendTest {};

TEST_F(ConnectionTest, HandshakeReplyIsABareConnectResponse) {
  RawClient client(port_);
  sdk::ConnectRequest request{0, 0, 12000, 0, std::string(16, '\0'), false};
  client.send(connectFrame(request));
  auto payload = client.readFrame();
  ASSERT_TRUE(payload);
  ASSERT_EQ(payload->size(), 37u);  // §4: 36 + the readOnly byte, no ReplyHeader
  sdk::ConnectResponse response;
  sdk::JuteReader reader(*payload);
  ASSERT_TRUE(decode(reader, response));
  EXPECT_EQ(response.timeout, 12000);
  EXPECT_EQ(response.session_id, 0x0100000000000001LL);
  EXPECT_EQ(response.read_only, false);
  ASSERT_EQ(service_.connects().size(), 1u);
  EXPECT_EQ(service_.connects()[0], request);
}

TEST_F(ConnectionTest, OldClientWithoutReadOnlyByte) {
  RawClient client(port_);
  client.send(connectFrame(10000, /*with_read_only=*/false));
  auto payload = client.readFrame();
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->size(), 36u);
  EXPECT_FALSE(service_.connects()[0].read_only.has_value());
}

TEST_F(ConnectionTest, FramesPipelinedBehindConnectWaitForTheSession) {
  // The kernel answers the ConnectRequest only after 300 ms.
  std::promise<std::function<void()>> finish;
  auto finish_future = finish.get_future();
  service_.setConnectHook([&](const sdk::ConnectRequest& request,
                              std::shared_ptr<sdk::ClientConnection> connection,
                              std::function<void(sdk::ConnectOutcome)> done) {
    auto outcome = service_.establish(request, connection);
    finish.set_value([done, outcome] { done(outcome); });
  });
  RawClient client(port_);
  std::string burst = connectFrame();
  burst += requestFrame(sdk::xids::kAuth, OpCode::kAuth, sdk::AuthPacket{0, "digest", "u:p"});
  burst += requestFrame(sdk::xids::kSetWatches, OpCode::kSetWatches, sdk::SetWatches{5, {"/d"}, {}, {"/c"}});
  burst += requestFrame(1, OpCode::kGetData, sdk::GetDataRequest{"/a", true});
  burst += requestFrame(2, OpCode::kWhoAmI);
  client.send(burst);

  auto session = service_.waitSession(0);
  ASSERT_TRUE(session);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(session->requestCount(), 0u) << "requests must wait for the ConnectOutcome";
  finish_future.get()();

  ASSERT_TRUE(session->waitRequests(4));
  const auto requests = session->requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[0].op, OpCode::kAuth);
  EXPECT_EQ(std::get<sdk::AuthPacket>(requests[0].body).auth, "u:p");
  EXPECT_EQ(requests[1].op, OpCode::kSetWatches);
  EXPECT_EQ(std::get<sdk::SetWatches2>(requests[1].body),
            (sdk::SetWatches2{5, {"/d"}, {}, {"/c"}, {}, {}}));
  EXPECT_EQ(requests[2].xid, 1);
  EXPECT_EQ(std::get<sdk::GetDataRequest>(requests[2].body), (sdk::GetDataRequest{"/a", true}));
  EXPECT_EQ(requests[3].op, OpCode::kWhoAmI);
  auto payload = client.readFrame();
  ASSERT_TRUE(payload);
  EXPECT_EQ(payload->size(), 37u);
}

TEST_F(ConnectionTest, EventSentRightAfterDoneFollowsTheConnectResponse) {
  service_.setConnectHook([&](const sdk::ConnectRequest& request,
                              std::shared_ptr<sdk::ClientConnection> connection,
                              std::function<void(sdk::ConnectOutcome)> done) {
    done(service_.establish(request, connection));
    connection->sendEvent(
        sdk::WatcherEvent{sdk::EventType::kNodeDeleted, sdk::KeeperState::kSyncConnected, "/gone"});
  });
  RawClient client(port_);
  client.send(connectFrame());
  auto first = client.readFrame();
  auto second = client.readFrame();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->size(), 37u);
  EXPECT_EQ(replyHeaderOf(*second).xid, -1);
}

TEST_F(ConnectionTest, RequestsDecodeOverTheWire) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  sdk::CreateRequest create{"/n", std::string("v"), sdk::openAclUnsafe(), false, 3};
  std::string burst = requestFrame(1, OpCode::kCreate2, create);
  burst += requestFrame(2, OpCode::kGetChildren2, sdk::GetChildren2Request{"/n", true});
  burst += requestFrame(3, OpCode::kSetData, sdk::SetDataRequest{"/n", std::nullopt, 2});
  burst += requestFrame(sdk::xids::kPing, OpCode::kPing);
  burst += requestFrame(4, OpCode::kCloseSession);
  client.send(burst);
  ASSERT_TRUE(session->waitRequests(5));
  const auto requests = session->requests();
  EXPECT_EQ(std::get<sdk::CreateRequest>(requests[0].body), create);
  EXPECT_EQ(requests[0].op, OpCode::kCreate2);
  EXPECT_EQ(requests[1].op, OpCode::kGetChildren2);
  EXPECT_EQ(std::get<sdk::GetChildrenRequest>(requests[1].body), (sdk::GetChildrenRequest{"/n", true}));
  EXPECT_EQ(std::get<sdk::SetDataRequest>(requests[2].body), (sdk::SetDataRequest{"/n", std::nullopt, 2}));
  EXPECT_EQ(requests[3].xid, sdk::xids::kPing);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(requests[3].body));
  EXPECT_EQ(requests[4].op, OpCode::kCloseSession);
}

TEST_F(ConnectionTest, UndecodableBodiesAreSubmittedAsMarshallingErrorsInOrder) {
  service_.setDefaultResponder(echoReplies);
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  std::string truncated = requestFrame(1, OpCode::kGetData, sdk::GetDataRequest{"/abc", false});
  truncated = rawFrame(std::string_view(truncated).substr(4, truncated.size() - 4 - 3));
  std::string trailing = requestFrame(2, OpCode::kExists, sdk::ExistsRequest{"/a", false});
  trailing = rawFrame(trailing.substr(4) + "tail");
  client.send(truncated + trailing + requestFrame(3, OpCode::kCreateSession) +
              requestFrame(4, static_cast<OpCode>(99)));
  ASSERT_TRUE(session->waitRequests(4));
  const auto requests = session->requests();
  EXPECT_EQ(requests[0].decode_error, Code::kMarshallingError);
  EXPECT_EQ(requests[1].decode_error, Code::kOk);
  EXPECT_EQ(std::get<sdk::ExistsRequest>(requests[1].body).path, "/a");
  EXPECT_EQ(requests[2].decode_error, Code::kMarshallingError);
  EXPECT_EQ(requests[3].op, static_cast<OpCode>(99));  // unknown: as is, the kernel answers -6
  EXPECT_EQ(requests[3].decode_error, Code::kOk);
  // Replies come back in order and the connection stays open.
  for (int xid = 1; xid <= 4; ++xid) {
    auto payload = client.readFrame();
    ASSERT_TRUE(payload);
    auto header = replyHeaderOf(*payload);
    EXPECT_EQ(header.xid, xid);
    EXPECT_EQ(header.err, xid == 1 || xid == 3 ? Code::kMarshallingError : Code::kOk);
  }
  EXPECT_TRUE(client.silentFor(100ms));
}

TEST_F(ConnectionTest, ResponsesAndEventsAreEncoded) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  sdk::GetDataResponse data{std::string("hello"), sdk::Stat{}};
  data.stat.version = 4;
  session->connection().sendEvent(
      sdk::WatcherEvent{sdk::EventType::kNodeDataChanged, sdk::KeeperState::kSyncConnected, "/a"});
  session->connection().sendResponse(sdk::ClientResponse{1, 9, Code::kOk, data, false});
  session->connection().sendResponse(sdk::ClientResponse{2, 10, Code::kNoNode, data, false});

  std::string expected;
  sdk::encodeNotificationFrame(
      expected, sdk::WatcherEvent{sdk::EventType::kNodeDataChanged, sdk::KeeperState::kSyncConnected, "/a"});
  sdk::encodeReplyFrame(expected, sdk::ReplyHeader{1, 9, Code::kOk}, data);
  sdk::encodeReplyFrame(expected, sdk::ReplyHeader{2, 10, Code::kNoNode});
  std::string got;
  while (got.size() < expected.size()) {
    auto payload = client.readFrame();
    ASSERT_TRUE(payload);
    got += lengthOnly(static_cast<int32_t>(payload->size())) + *payload;
  }
  EXPECT_EQ(got, expected);
}

TEST_F(ConnectionTest, ResponsesAndEventsKeepCallOrderUnderLoad) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  constexpr int kFrames = 20000;
  std::thread kernel([&] {
    for (int i = 1; i <= kFrames; ++i) {
      if (i % 3 == 0) {
        session->connection().sendEvent(sdk::WatcherEvent{
            sdk::EventType::kNodeCreated, sdk::KeeperState::kSyncConnected, "/" + std::to_string(i)});
      } else {
        session->connection().sendResponse(sdk::ClientResponse{i, i, Code::kOk, std::monostate{}, false});
      }
    }
  });
  for (int i = 1; i <= kFrames; ++i) {
    auto payload = client.readFrame(5s);
    ASSERT_TRUE(payload) << i;
    sdk::JuteReader reader(*payload);
    sdk::ReplyHeader header;
    ASSERT_TRUE(decode(reader, header));
    if (i % 3 == 0) {
      ASSERT_EQ(header.xid, -1);
      sdk::WatcherEvent event;
      ASSERT_TRUE(decode(reader, event));
      ASSERT_EQ(event.path, "/" + std::to_string(i));
    } else {
      ASSERT_EQ(header.xid, i);
    }
  }
  kernel.join();
}

TEST_F(ConnectionTest, CloseAfterFlushesThenCloses) {
  service_.setDefaultResponder(echoReplies);
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  client.send(requestFrame(1, OpCode::kGetData, sdk::GetDataRequest{"/a", false}) +
              requestFrame(2, OpCode::kCloseSession) +
              requestFrame(3, OpCode::kGetData, sdk::GetDataRequest{"/b", false}));
  auto first = client.readFrame();
  auto second = client.readFrame();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(replyHeaderOf(*first).xid, 1);
  EXPECT_EQ(replyHeaderOf(*second).xid, 2);
  EXPECT_TRUE(client.closedWithoutData());
  ASSERT_TRUE(session->waitClosed());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(session->closedCount(), 1);
}

TEST_F(ConnectionTest, KernelCloseIsIdempotentAndFlushes) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  session->connection().sendResponse(sdk::ClientResponse{1, 1, Code::kOk, std::monostate{}, false});
  session->connection().close();
  session->connection().close();
  session->connection().sendResponse(sdk::ClientResponse{2, 1, Code::kOk, std::monostate{}, false});
  auto payload = client.readFrame();
  ASSERT_TRUE(payload);
  EXPECT_EQ(replyHeaderOf(*payload).xid, 1);
  EXPECT_TRUE(client.closedWithoutData());
  ASSERT_TRUE(session->waitClosed());
  EXPECT_EQ(session->connection().info().remote_address, "127.0.0.1");
  EXPECT_GT(session->connection().info().remote_port, 0);
}

TEST_F(ConnectionTest, ClientEofTellsTheSessionOnce) {
  RawClient* client = new RawClient(port_);
  auto session = connectSession(*client, 0);
  ASSERT_TRUE(session);
  delete client;
  ASSERT_TRUE(session->waitClosed());
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(session->closedCount(), 1);
}

TEST_F(ConnectionTest, ConnectOutcomes) {
  // nullopt: closed without a reply.
  service_.setConnectHook([](const sdk::ConnectRequest&, std::shared_ptr<sdk::ClientConnection>,
                             std::function<void(sdk::ConnectOutcome)> done) { done({}); });
  {
    RawClient client(port_);
    client.send(connectFrame());
    EXPECT_TRUE(client.closedWithoutData());
  }
  // A reply without a session (expired): the reply, then closed.
  service_.setConnectHook([](const sdk::ConnectRequest&, std::shared_ptr<sdk::ClientConnection>,
                             std::function<void(sdk::ConnectOutcome)> done) {
    sdk::ConnectOutcome outcome;
    outcome.response = sdk::ConnectResponse{0, 0, 0, std::string(16, '\0'), false};
    done(outcome);
  });
  {
    RawClient client(port_);
    client.send(connectFrame() + requestFrame(1, OpCode::kPing));
    auto payload = client.readFrame();
    ASSERT_TRUE(payload);
    EXPECT_EQ(payload->size(), 37u);
    EXPECT_TRUE(client.closedWithoutData());
  }
}

// ---- framing (§1)

class SmallBufferTest : public FrontendTest {
 protected:
  void configure(FrontendSettings& settings) override { settings.max_buffer = 4096; }
};

TEST_F(SmallBufferTest, FrameOfExactlyMaxBufferIsAcceptedOneMoreCloses) {
  service_.setDefaultResponder(echoReplies);
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  // setData whose frame payload is exactly 4096 bytes: 8 header + 4+2 path + 4+n data + 4 version.
  const size_t data_size = 4096 - 8 - 6 - 4 - 4;
  std::string frame = requestFrame(1, OpCode::kSetData,
                                   sdk::SetDataRequest{"/a", std::string(data_size, 'x'), -1});
  ASSERT_EQ(frame.size(), 4u + 4096u);
  client.send(frame);
  auto payload = client.readFrame();
  ASSERT_TRUE(payload);
  EXPECT_EQ(replyHeaderOf(*payload).err, Code::kOk);
  client.send(lengthOnly(4097) + std::string(4097, 'x'));
  EXPECT_TRUE(client.closedWithoutData());
  EXPECT_EQ(session->requestCount(), 1u);
}

TEST_F(SmallBufferTest, OversizeFirstFrameCloses) {
  RawClient client(port_);
  client.send(lengthOnly(4097));
  EXPECT_TRUE(client.closedWithoutData());
  EXPECT_TRUE(service_.connects().empty());
}

TEST_F(ConnectionTest, NegativeLengthClosesBeforeAndAfterHandshake) {
  {
    RawClient client(port_);
    client.send(lengthOnly(-1));
    EXPECT_TRUE(client.closedWithoutData());
  }
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  client.send(lengthOnly(-5));
  EXPECT_TRUE(client.closedWithoutData());
  EXPECT_TRUE(session->waitClosed());
}

TEST_F(ConnectionTest, ZeroLengthAfterHandshakeCloses) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  client.send(lengthOnly(0));
  EXPECT_TRUE(client.closedWithoutData());
  EXPECT_EQ(session->requestCount(), 0u);
}

TEST_F(ConnectionTest, ShortRequestHeaderCloses) {
  RawClient client(port_);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  client.send(rawFrame("\0\0\0\1\0\0"));
  EXPECT_TRUE(client.closedWithoutData());
}

TEST_F(ConnectionTest, NonConnectFirstFramesClose) {
  for (const std::string& first :
       {requestFrame(1, OpCode::kGetData, sdk::GetDataRequest{"/a", false}), rawFrame(""),
        rawFrame("garbage"), connectFrame().substr(0, 20) + std::string("\0\0\0\0", 4)}) {
    RawClient client(port_);
    client.send(first);
    if (first.size() < 30) client.shutdownWrite();
    EXPECT_TRUE(client.closedWithoutData());
  }
  EXPECT_TRUE(service_.connects().empty());
}

class HandshakeTimeoutTest : public FrontendTest {
 protected:
  void configure(FrontendSettings& settings) override { settings.handshake_timeout_ms = 200; }
};

TEST_F(HandshakeTimeoutTest, SilentConnectionsAreClosedEstablishedOnesStay) {
  RawClient established(port_);
  auto session = connectSession(established, 0);
  ASSERT_TRUE(session);
  RawClient silent(port_);
  RawClient partial(port_);
  partial.send(connectFrame().substr(0, 10));
  EXPECT_TRUE(silent.closedWithoutData(2s));
  EXPECT_TRUE(partial.closedWithoutData(2s));
  EXPECT_TRUE(established.silentFor(300ms));
  EXPECT_EQ(session->closedCount(), 0);
}

TEST_F(ConnectionTest, GarbageOnOneConnectionDoesNotDisturbAnother) {
  service_.setDefaultResponder(echoReplies);
  RawClient good(port_);
  auto session = connectSession(good, 0);
  ASSERT_TRUE(session);
  for (int round = 0; round < 20; ++round) {
    RawClient bad(port_);
    std::string junk;
    for (int i = 0; i < 200; ++i) junk += static_cast<char>((i * 37 + round * 11) & 0xff);
    bad.send(junk);
  }
  good.send(requestFrame(1, OpCode::kExists, sdk::ExistsRequest{"/a", false}));
  auto payload = good.readFrame();
  ASSERT_TRUE(payload);
  EXPECT_EQ(replyHeaderOf(*payload).xid, 1);
}

}  // namespace
}  // namespace corral::plugins::jute::testing
