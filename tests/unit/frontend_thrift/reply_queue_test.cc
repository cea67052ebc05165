#include "reply_queue.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace corral::plugins::thrift {
namespace {

struct Written {
  std::string what;  // method name + xid
  std::vector<std::string> events;
};

class ReplyQueueTest : public ::testing::Test {
 protected:
  std::vector<Written> written;

  auto emitter() {
    return [this](ReplyQueue::Ready& ready) {
      Written w{std::string(methodName(ready.call.method)) + "#" + std::to_string(ready.response.xid), {}};
      for (auto& event : ready.events) w.events.push_back(event.path);
      written.push_back(std::move(w));
    };
  }

  int32_t add(ReplyQueue& queue, Method method, int32_t wait_ms = 0) {
    Call call;
    call.method = method;
    call.ping_wait_ms = wait_ms;
    return queue.add(std::move(call), emitter());
  }

  ReplyQueue::Parked answer(ReplyQueue& queue, int32_t xid) {
    sdk::ClientResponse response;
    response.xid = xid;
    return queue.answer(std::move(response), emitter());
  }

  void event(ReplyQueue& queue, std::string path) {
    queue.event(sdk::WatcherEvent{sdk::EventType::kNodeDataChanged, sdk::KeeperState::kSyncConnected, std::move(path)},
                emitter());
  }
};

TEST_F(ReplyQueueTest, RepliesLeaveInCallOrderWhateverTheAnswerOrder) {
  ReplyQueue queue;
  const int32_t write = add(queue, Method::kSetData);
  const int32_t ping = add(queue, Method::kPing);
  const int32_t read = add(queue, Method::kGetData);
  // The kernel answers pings ahead of writes in flight.
  answer(queue, ping);
  EXPECT_TRUE(written.empty());
  answer(queue, write);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].what, "setData#" + std::to_string(write));
  EXPECT_EQ(written[1].what, "ping#" + std::to_string(ping));
  answer(queue, read);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[2].what, "getData#" + std::to_string(read));
}

TEST_F(ReplyQueueTest, PingAnswersCarryZooKeepersPingXid) {
  // The kernel answers pings with xid -2 whatever the request's xid, as ZooKeeper does.
  ReplyQueue queue;
  const int32_t first = add(queue, Method::kPing);
  const int32_t read = add(queue, Method::kGetData);
  const int32_t second = add(queue, Method::kPing);
  answer(queue, sdk::xids::kPing);
  answer(queue, sdk::xids::kPing);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].what, "ping#" + std::to_string(first));
  answer(queue, read);
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[1].what, "getData#" + std::to_string(read));
  EXPECT_EQ(written[2].what, "ping#" + std::to_string(second));
}

TEST_F(ReplyQueueTest, EventsRideInTheNextReplyWritten) {
  ReplyQueue queue;
  event(queue, "/before");  // no call pending: held
  EXPECT_TRUE(written.empty());
  const int32_t first = add(queue, Method::kGetData);
  const int32_t second = add(queue, Method::kGetData);
  event(queue, "/a");
  answer(queue, first);
  event(queue, "/b");
  answer(queue, second);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].events, (std::vector<std::string>{"/before", "/a"}));
  EXPECT_EQ(written[1].events, (std::vector<std::string>{"/b"}));
  EXPECT_EQ(queue.heldEvents(), 0u);
}

TEST_F(ReplyQueueTest, AnEventSentBeforeAnEarlierHeldAnswerStillPrecedesTheLaterReply) {
  // Kernel order: ping answered (bypass), event E, then the write's answer. E must be in the
  // write's reply, the first written, since the write's reply may show E's change.
  ReplyQueue queue;
  const int32_t write = add(queue, Method::kSetData);
  const int32_t ping = add(queue, Method::kPing);
  answer(queue, ping);
  event(queue, "/e");
  answer(queue, write);
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[0].events, (std::vector<std::string>{"/e"}));
  EXPECT_TRUE(written[1].events.empty());
}

TEST_F(ReplyQueueTest, APingAloneWaitsForAnEvent) {
  ReplyQueue queue;
  const int32_t ping = add(queue, Method::kPing, 5000);
  const ReplyQueue::Parked parked = answer(queue, ping);
  EXPECT_EQ(parked.wait_ms, 5000);
  EXPECT_TRUE(written.empty());
  event(queue, "/x");
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].what, "ping#" + std::to_string(ping));
  EXPECT_EQ(written[0].events, (std::vector<std::string>{"/x"}));
}

TEST_F(ReplyQueueTest, TheNextCallEndsAWaitingPing) {
  ReplyQueue queue;
  const int32_t ping = add(queue, Method::kPing, 5000);
  answer(queue, ping);
  EXPECT_TRUE(written.empty());
  const int32_t read = add(queue, Method::kGetData);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].what, "ping#" + std::to_string(ping));
  answer(queue, read);
  ASSERT_EQ(written.size(), 2u);
}

TEST_F(ReplyQueueTest, OnlyTheCurrentTimerEndsAWait) {
  ReplyQueue queue;
  const int32_t first = add(queue, Method::kPing, 5000);
  const auto parked_first = answer(queue, first);
  event(queue, "/x");  // ends the first wait
  ASSERT_EQ(written.size(), 1u);
  const int32_t second = add(queue, Method::kPing, 5000);
  const auto parked_second = answer(queue, second);
  EXPECT_NE(parked_first.park, parked_second.park);
  queue.wake(parked_first.park, emitter());  // the first wait's late timer
  EXPECT_EQ(written.size(), 1u);
  queue.wake(parked_second.park, emitter());
  ASSERT_EQ(written.size(), 2u);
  EXPECT_EQ(written[1].what, "ping#" + std::to_string(second));
  EXPECT_TRUE(written[1].events.empty());
}

TEST_F(ReplyQueueTest, APingDoesNotWaitWithEventsHeldOrCallsBehindIt) {
  ReplyQueue queue;
  event(queue, "/held");
  const int32_t with_event = add(queue, Method::kPing, 5000);
  EXPECT_EQ(answer(queue, with_event).wait_ms, 0);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].events, (std::vector<std::string>{"/held"}));

  const int32_t ping = add(queue, Method::kPing, 5000);
  const int32_t read = add(queue, Method::kGetData);
  EXPECT_EQ(answer(queue, ping).wait_ms, 0);
  EXPECT_EQ(written.size(), 2u);
  answer(queue, read);
  EXPECT_EQ(written.size(), 3u);

  const int32_t no_wait = add(queue, Method::kPing, 0);
  EXPECT_EQ(answer(queue, no_wait).wait_ms, 0);
  EXPECT_EQ(written.size(), 4u);
}

}  // namespace
}  // namespace corral::plugins::thrift
