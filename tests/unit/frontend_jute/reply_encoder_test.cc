// Reply frames byte for byte (client-protocol.md §3, §4, §8, §10).
#include <gtest/gtest.h>

#include "corral/client_records.h"
#include "reply_encoder.h"

namespace corral::plugins::jute {
namespace {

std::string hex(const std::string& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

TEST(ReplyEncoder, NotificationMatchesTheServer) {
  std::string out;
  appendEventFrame(out, sdk::WatcherEvent{sdk::EventType::kNodeDataChanged,
                                          sdk::KeeperState::kSyncConnected, "/w/c"});
  // §10's captured bytes, behind the frame length (4+8+4 + 4+4+4+4 = 32).
  EXPECT_EQ(hex(out), "00000020" "ffffffff" "ffffffffffffffff" "00000000" "00000003" "00000003"
                      "00000004" "2f772f63");
}

TEST(ReplyEncoder, BodyOnlyWhenOk) {
  sdk::ClientResponse ok{9, 0x10, sdk::Code::kOk, sdk::CreateResponse{"/a"}, false};
  std::string out;
  appendResponseFrame(out, ok);
  EXPECT_EQ(hex(out), "00000016" "00000009" "0000000000000010" "00000000" "00000002" "2f61");

  sdk::ClientResponse failed{9, 0x11, sdk::Code::kNodeExists, sdk::CreateResponse{"/a"}, false};
  out.clear();
  appendResponseFrame(out, failed);
  EXPECT_EQ(hex(out), "00000010" "00000009" "0000000000000011" "ffffff92");

  sdk::ClientResponse ping{-2, 7, sdk::Code::kOk, std::monostate{}, false};
  out.clear();
  appendResponseFrame(out, ping);
  EXPECT_EQ(hex(out), "00000010" "fffffffe" "0000000000000007" "00000000");
}

TEST(ReplyEncoder, MultiBodyIsAlwaysWritten) {
  sdk::MultiResponse multi;
  multi.results.push_back(sdk::MultiResult::error(sdk::Code::kOk));
  multi.results.push_back(sdk::MultiResult::error(sdk::Code::kNoNode));
  sdk::ClientResponse response{3, 5, sdk::Code::kOk, multi, false};
  std::string out;
  appendResponseFrame(out, response);
  std::string expected;
  sdk::encodeReplyFrame(expected, sdk::ReplyHeader{3, 5, sdk::Code::kOk}, multi);
  EXPECT_EQ(out, expected);
}

TEST(ReplyEncoder, ConnectResponseHasNoReplyHeader) {
  sdk::ConnectResponse response{0, 10000, 0x0100000000000001LL, std::string(16, '\0'), false};
  std::string out;
  appendConnectResponseFrame(out, response);
  EXPECT_EQ(out.size(), 4u + 37u);
  EXPECT_EQ(hex(out.substr(0, 20)), "00000025" "00000000" "00002710" "0100000000000001");
  response.read_only.reset();
  out.clear();
  appendConnectResponseFrame(out, response);
  EXPECT_EQ(out.size(), 4u + 36u);
}

TEST(ReplyEncoder, FramesAppend) {
  std::string out;
  appendEventFrame(out, sdk::WatcherEvent{sdk::EventType::kNodeCreated, sdk::KeeperState::kSyncConnected, "/a"});
  const size_t first = out.size();
  appendResponseFrame(out, sdk::ClientResponse{1, 2, sdk::Code::kOk, std::monostate{}, false});
  EXPECT_EQ(out.size(), first + 20);
}

}  // namespace
}  // namespace corral::plugins::jute
