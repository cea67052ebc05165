// A client that does not read its replies: the soft limit stops the connection taking requests,
// the hard limit closes it, and output that stops moving for the session timeout closes it
// (sdk::OutputLimits). Real loopback sockets; the clients shrink their receive buffer so the
// server's own output buffer fills after a few MB instead of tens.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "frontend_fixture.h"

namespace corral::plugins::jute::testing {
namespace {

using sdk::OpCode;

constexpr int kSmallReceiveBuffer = 4096;
constexpr size_t kReplyDataBytes = 64 * 1024;

// The kernel's answer to every request: a getData reply carrying 64 KiB.
void bigReplies(FakeSession& session, const sdk::ClientRequest& request) {
  sdk::ClientResponse response;
  response.xid = request.xid;
  response.zxid = 7;
  response.body = sdk::GetDataResponse{std::string(kReplyDataBytes, 'r'), sdk::Stat{}};
  session.connection().sendResponse(std::move(response));
}

int32_t xidOf(const std::string& payload) {
  sdk::ReplyHeader header;
  sdk::JuteReader reader(payload);
  return decode(reader, header) ? header.xid : 0;
}

sdk::WatcherEvent kilobyteEvent() {
  return sdk::WatcherEvent{sdk::EventType::kNodeDataChanged, sdk::KeeperState::kSyncConnected,
                           "/" + std::string(1000, 'e')};
}

// The most a TCP socket's send buffer grows to (net.ipv4.tcp_wmem's maximum).
size_t maxSocketSendBuffer() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  size_t low = 0, initial = 0, most = 4 * 1024 * 1024;
  in >> low >> initial >> most;
  return most;
}

constexpr size_t kSoftLimit = 256 * 1024;

class SoftLimitTest : public FrontendTest {
 protected:
  void configureAdmission(kernel::admission::AdmissionSettings& settings) override {
    settings.output.soft_bytes = kSoftLimit;
  }
};

TEST_F(SoftLimitTest, NoRequestIsTakenWhileTheOutputIsOverTheSoftLimit) {
  service_.setDefaultResponder(bigReplies);
  RawClient client(port_, kSmallReceiveBuffer);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  constexpr int kRequests = 1000;  // 64 MB of replies: far more than the sockets hold
  std::string burst;
  for (int xid = 1; xid <= kRequests; ++xid) {
    burst += requestFrame(xid, OpCode::kGetData, sdk::GetDataRequest{"/big", false});
  }
  // Once the server stops reading, this send blocks until the client reads below.
  std::thread sender([&] { client.send(burst); });

  EXPECT_TRUE(host_.log().waitFor("not reading 127.0.0.1:", 10s));
  // The connection pauses and resumes while the server's socket buffer still takes replies;
  // once that is full, it stays paused. So whatever the moment, the requests taken are bounded
  // by what the sockets hold plus the soft limit, far below the 1000 sent: watch it a while.
  const size_t bound = (maxSocketSendBuffer() + kSoftLimit) / kReplyDataBytes + 2;
  size_t taken = 0;
  for (const auto until = std::chrono::steady_clock::now() + 500ms;
       std::chrono::steady_clock::now() < until;) {
    taken = std::max(taken, session->requestCount());
    std::this_thread::sleep_for(10ms);  // sampling period of an observation window
  }
  EXPECT_GT(taken, 0u);
  EXPECT_LE(taken, bound);

  // Reading drains the output below half the soft limit: the rest is taken and answered, in order.
  int replies = 0;
  while (replies < kRequests) {
    auto payload = client.readFrame(10s);
    if (!payload) break;
    ++replies;
    EXPECT_EQ(xidOf(*payload), replies);
  }
  EXPECT_EQ(replies, kRequests);
  EXPECT_TRUE(session->waitRequests(kRequests));
  if (replies < kRequests) frontend_->stop();  // unblocks the sender
  sender.join();
  EXPECT_EQ(session->closedCount(), 0);
}

constexpr std::string_view kOverflowLine = "(clientOutput.hardLimitBytes)";

class HardLimitTest : public FrontendTest {
 protected:
  void configureAdmission(kernel::admission::AdmissionSettings& settings) override {
    settings.output.soft_bytes = 64 * 1024;
    settings.output.hard_bytes = 1024 * 1024;
  }
};

TEST_F(HardLimitTest, WatchEventsPastTheHardLimitCloseTheConnection) {
  RawClient client(port_, kSmallReceiveBuffer);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  // The client reads nothing: past what its socket holds (the server's send buffer grows to
  // at most 4 MiB), the events pile up in the server until the hard limit closes the connection.
  constexpr int kMaxEvents = 20000;  // 20 MB
  const sdk::WatcherEvent event = kilobyteEvent();
  int pushed = 0;
  // The overflow is logged by the call that caused it (the socket closes later, on the
  // connection's strand), so this stops right after it.
  while (!host_.log().contains(kOverflowLine) && pushed < kMaxEvents) {
    session->connection().sendEvent(event);
    ++pushed;
  }
  EXPECT_LT(pushed, kMaxEvents);
  EXPECT_TRUE(session->waitClosed());
  EXPECT_TRUE(host_.log().contains("more than 1048576 bytes of replies and events unsent"));
  EXPECT_TRUE(client.drainUntilClosed());
  EXPECT_EQ(host_.simpleMetrics().gauge("num_alive_connections", "").value(), 0);
}

TEST_F(HardLimitTest, RepliesPastTheHardLimitCloseTheConnection) {
  RawClient client(port_, kSmallReceiveBuffer);
  auto session = connectSession(client, 0);
  ASSERT_TRUE(session);
  // Frames the client sent before the close are dropped with it; the kernel's later answers too.
  for (int xid = 1; !host_.log().contains(kOverflowLine) && xid <= 400; ++xid) {
    sdk::ClientRequest request;
    request.xid = xid;
    bigReplies(*session, request);
  }
  EXPECT_TRUE(host_.log().contains(kOverflowLine));
  EXPECT_TRUE(session->waitClosed());
  EXPECT_TRUE(client.drainUntilClosed());
}

class StallTest : public FrontendTest {};  // default limits: 4 MiB soft, 64 MiB hard

TEST_F(StallTest, OutputThatStopsMovingClosesTheConnectionAfterTheSessionTimeout) {
  RawClient client(port_, kSmallReceiveBuffer);
  auto response = client.handshake(/*timeout_ms=*/300);
  ASSERT_TRUE(response && response->session_id != 0);
  auto session = service_.waitSession(0);
  ASSERT_TRUE(session);
  // 8 MB: more than the sockets hold, less than the hard limit. Then nothing moves.
  const sdk::WatcherEvent event = kilobyteEvent();
  for (int i = 0; i < 8000; ++i) session->connection().sendEvent(event);
  EXPECT_TRUE(session->waitClosed(5s));
  EXPECT_TRUE(host_.log().contains("the client read nothing for 300 ms"));
  EXPECT_TRUE(client.drainUntilClosed());
}

TEST_F(StallTest, AClientThatKeepsReadingIsNotClosed) {
  RawClient client(port_, kSmallReceiveBuffer);
  auto response = client.handshake(/*timeout_ms=*/500);
  ASSERT_TRUE(response && response->session_id != 0);
  auto session = service_.waitSession(0);
  ASSERT_TRUE(session);
  // Rounds of twice what the server's socket takes at once (so writes wait for the client),
  // read back in full, for three times the session timeout: the output keeps moving.
  const sdk::WatcherEvent event = kilobyteEvent();
  const int events_per_round = static_cast<int>(2 * maxSocketSendBuffer() / 1000);
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  int rounds = 0;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < events_per_round; ++i) session->connection().sendEvent(event);
    for (int i = 0; i < events_per_round; ++i) {
      ASSERT_TRUE(client.readFrame(5s)) << "round " << rounds << " frame " << i;
    }
    ++rounds;
  }
  EXPECT_GT(rounds, 1);
  EXPECT_EQ(session->closedCount(), 0);
  EXPECT_FALSE(host_.log().contains("read nothing"));
}

}  // namespace
}  // namespace corral::plugins::jute::testing
