// decodeRequestFrame: every opcode's record, and what counts as a decode error.
#include <gtest/gtest.h>

#include "corral/client_records.h"
#include "request_decoder.h"

namespace corral::plugins::jute {
namespace {

using sdk::OpCode;

template <typename Body>
std::string payloadOf(int32_t xid, OpCode op, const Body& body) {
  std::string frame;
  sdk::encodeRequestFrame(frame, sdk::RequestHeader{xid, op}, body);
  return frame.substr(4);
}

std::string headerOnly(int32_t xid, OpCode op) {
  std::string frame;
  sdk::encodeRequestFrame(frame, sdk::RequestHeader{xid, op});
  return frame.substr(4);
}

sdk::ClientRequest decoded(std::string_view payload, int32_t max = sdk::kJuteMaxBufferDefault) {
  sdk::ClientRequest request;
  EXPECT_TRUE(decodeRequestFrame(payload, max, request));
  return request;
}

template <typename Record>
void expectRoundTrip(OpCode op, const Record& record) {
  const auto request = decoded(payloadOf(5, op, record));
  EXPECT_EQ(request.xid, 5);
  EXPECT_EQ(request.op, op);
  EXPECT_EQ(request.decode_error, sdk::Code::kOk) << static_cast<int>(op);
  ASSERT_TRUE(std::holds_alternative<Record>(request.body)) << static_cast<int>(op);
  EXPECT_EQ(std::get<Record>(request.body), record);
}

TEST(RequestDecoder, EveryOpcodeDecodesItsRecord) {
  sdk::CreateRequest create{"/a", std::string("data"), sdk::openAclUnsafe(), false, 1};
  expectRoundTrip(OpCode::kCreate, create);
  expectRoundTrip(OpCode::kCreate2, create);
  expectRoundTrip(OpCode::kCreateContainer, create);
  expectRoundTrip(OpCode::kCreateTtl,
                  sdk::CreateTtlRequest{"/t", std::nullopt, sdk::openAclUnsafe(), false, 5, 1000});
  expectRoundTrip(OpCode::kDelete, sdk::DeleteRequest{"/a", -1});
  expectRoundTrip(OpCode::kExists, sdk::ExistsRequest{"/a", true});
  expectRoundTrip(OpCode::kGetData, sdk::GetDataRequest{"/a", false});
  expectRoundTrip(OpCode::kSetData, sdk::SetDataRequest{"/a", std::string("x"), 3});
  expectRoundTrip(OpCode::kGetAcl, sdk::GetAclRequest{"/a"});
  expectRoundTrip(OpCode::kSetAcl, sdk::SetAclRequest{"/a", sdk::readAclUnsafe(), false, 2});
  expectRoundTrip(OpCode::kGetChildren, sdk::GetChildrenRequest{"/a", true});
  expectRoundTrip(OpCode::kSync, sdk::SyncRequest{"/a"});
  expectRoundTrip(OpCode::kCheck, sdk::CheckVersionRequest{"/a", 4});
  expectRoundTrip(OpCode::kReconfig,
                  sdk::ReconfigRequest{std::string("server.2=x:1:2"), std::nullopt, std::nullopt, -1});
  expectRoundTrip(OpCode::kCheckWatches, sdk::CheckWatchesRequest{"/a", 3});
  expectRoundTrip(OpCode::kRemoveWatches, sdk::RemoveWatchesRequest{"/a", 1});
  expectRoundTrip(OpCode::kAuth, sdk::AuthPacket{0, "digest", "user:pass"});
  expectRoundTrip(OpCode::kSasl, sdk::GetSaslRequest{std::string("tok")});
  expectRoundTrip(OpCode::kGetEphemerals, sdk::GetEphemeralsRequest{"/e"});
  expectRoundTrip(OpCode::kGetAllChildrenNumber, sdk::GetAllChildrenNumberRequest{"/"});
  expectRoundTrip(OpCode::kAddWatch, sdk::AddWatchRequest{"/w", 1});
  sdk::SetWatches2 watches2{9, {"/d"}, {"/e"}, {"/c"}, {"/p"}, {"/r"}};
  expectRoundTrip(OpCode::kSetWatches2, watches2);
}

TEST(RequestDecoder, GetChildren2UsesTheGetChildrenShape) {
  const auto request =
      decoded(payloadOf(3, OpCode::kGetChildren2, sdk::GetChildren2Request{"/p", true}));
  EXPECT_EQ(request.op, OpCode::kGetChildren2);
  ASSERT_TRUE(std::holds_alternative<sdk::GetChildrenRequest>(request.body));
  EXPECT_EQ(std::get<sdk::GetChildrenRequest>(request.body), (sdk::GetChildrenRequest{"/p", true}));
}

TEST(RequestDecoder, SetWatchesBecomesSetWatches2WithoutPersistentLists) {
  const auto request = decoded(
      payloadOf(-8, OpCode::kSetWatches, sdk::SetWatches{42, {"/d1", "/d2"}, {"/e"}, {"/c"}}));
  EXPECT_EQ(request.op, OpCode::kSetWatches);
  ASSERT_TRUE(std::holds_alternative<sdk::SetWatches2>(request.body));
  const auto& body = std::get<sdk::SetWatches2>(request.body);
  EXPECT_EQ(body, (sdk::SetWatches2{42, {"/d1", "/d2"}, {"/e"}, {"/c"}, {}, {}}));
}

TEST(RequestDecoder, MultiAndMultiRead) {
  sdk::MultiRequest writes;
  writes.ops.push_back({OpCode::kCreate, sdk::CreateRequest{"/m", std::string(), sdk::openAclUnsafe(), false, 0}});
  writes.ops.push_back({OpCode::kDelete, sdk::DeleteRequest{"/m", -1}});
  auto request = decoded(payloadOf(1, OpCode::kMulti, writes));
  ASSERT_EQ(request.decode_error, sdk::Code::kOk);
  EXPECT_EQ(std::get<sdk::MultiRequest>(request.body).ops, writes.ops);

  sdk::MultiRequest reads;
  reads.ops.push_back({OpCode::kGetData, sdk::GetDataRequest{"/m", false}});
  request = decoded(payloadOf(2, OpCode::kMultiRead, reads));
  ASSERT_EQ(request.decode_error, sdk::Code::kOk);
  EXPECT_EQ(std::get<sdk::MultiRequest>(request.body).ops, reads.ops);

  // Reads in a multi, writes in a multiRead: MarshallingError (client-protocol.md §8).
  EXPECT_EQ(decoded(payloadOf(3, OpCode::kMulti, reads)).decode_error, sdk::Code::kMarshallingError);
  EXPECT_EQ(decoded(payloadOf(4, OpCode::kMultiRead, writes)).decode_error,
            sdk::Code::kMarshallingError);
  // An empty one (terminator only) is fine for both.
  EXPECT_EQ(decoded(payloadOf(5, OpCode::kMultiRead, sdk::MultiRequest{})).decode_error, sdk::Code::kOk);
}

TEST(RequestDecoder, BodylessOpsAndUnknownOps) {
  for (OpCode op : {OpCode::kPing, OpCode::kCloseSession, OpCode::kWhoAmI,
                    static_cast<OpCode>(50), static_cast<OpCode>(0), static_cast<OpCode>(-12)}) {
    const auto request = decoded(headerOnly(-2, op));
    EXPECT_EQ(request.op, op);
    EXPECT_EQ(request.decode_error, sdk::Code::kOk);
    EXPECT_TRUE(std::holds_alternative<std::monostate>(request.body));
  }
  // createSession from a client: -5, connection stays (§6).
  EXPECT_EQ(decoded(headerOnly(1, OpCode::kCreateSession)).decode_error, sdk::Code::kMarshallingError);
}

TEST(RequestDecoder, MalformedBodiesAreMarshallingErrors) {
  // Truncated body.
  std::string payload = payloadOf(1, OpCode::kGetData, sdk::GetDataRequest{"/abc", true});
  auto request = decoded(payload.substr(0, payload.size() - 2));
  EXPECT_EQ(request.decode_error, sdk::Code::kMarshallingError);
  EXPECT_EQ(request.xid, 1);
  EXPECT_TRUE(std::holds_alternative<std::monostate>(request.body));

  // String length -7 and a length far past the frame.
  std::string bad = headerOnly(2, OpCode::kGetData);
  bad += std::string("\xff\xff\xff\xf9", 4);
  bad += '\0';
  EXPECT_EQ(decoded(bad).decode_error, sdk::Code::kMarshallingError);
  bad = headerOnly(3, OpCode::kGetData);
  bad += std::string("\x00\x1e\x84\x80", 4);  // 2 000 000
  bad += "/x";
  EXPECT_EQ(decoded(bad).decode_error, sdk::Code::kMarshallingError);

  // A string longer than jute.maxbuffer (here 8) is refused even when present.
  EXPECT_EQ(decoded(payloadOf(4, OpCode::kSync, sdk::SyncRequest{"/0123456789"}), 8).decode_error,
            sdk::Code::kMarshallingError);

  // setWatches2 without the last two vectors (§6 row 105).
  EXPECT_EQ(decoded(payloadOf(-8, OpCode::kSetWatches2, sdk::SetWatches{1, {}, {}, {}})).decode_error,
            sdk::Code::kMarshallingError);
}

TEST(RequestDecoder, TrailingBytesAreIgnored) {
  std::string payload = payloadOf(6, OpCode::kExists, sdk::ExistsRequest{"/a", false});
  payload += "garbage";
  const auto request = decoded(payload);
  EXPECT_EQ(request.decode_error, sdk::Code::kOk);
  EXPECT_EQ(std::get<sdk::ExistsRequest>(request.body).path, "/a");
}

TEST(RequestDecoder, ShortHeaderIsAConnectionError) {
  sdk::ClientRequest request;
  EXPECT_FALSE(decodeRequestFrame("", sdk::kJuteMaxBufferDefault, request));
  EXPECT_FALSE(decodeRequestFrame(std::string_view("\0\0\0\1\0\0\0", 7), sdk::kJuteMaxBufferDefault,
                                  request));
  EXPECT_TRUE(decodeRequestFrame(std::string_view("\0\0\0\1\0\0\0\x0b", 8),
                                 sdk::kJuteMaxBufferDefault, request));
  EXPECT_EQ(request.op, OpCode::kPing);
}

}  // namespace
}  // namespace corral::plugins::jute
