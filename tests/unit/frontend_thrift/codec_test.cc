// The decoder and encoder against libthrift's generated client (CorralClient): what a real
// client sends decodes into the kernel's requests, and what the encoder writes is what that
// client reads. Both protocols.
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <thrift/TApplicationException.h>
#include <thrift/protocol/TBinaryProtocol.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

#include "corral_thrift/Corral.h"
#include "thrift_decoder.h"
#include "thrift_encoder.h"

namespace corral::plugins::thrift {
namespace {

namespace api = ::corral::thrift_api;
using apache::thrift::transport::TMemoryBuffer;

class CodecTest : public ::testing::TestWithParam<WireProtocol> {
 protected:
  CodecTest()
      : to_server_(std::make_shared<TMemoryBuffer>()),
        to_client_(std::make_shared<TMemoryBuffer>()),
        client_(protocolOver(to_client_), protocolOver(to_server_)),
        decoder_(makeDecoder(GetParam(), 1 << 20)),
        encoder_(makeEncoder(GetParam())) {}

  std::shared_ptr<apache::thrift::protocol::TProtocol> protocolOver(std::shared_ptr<TMemoryBuffer> buffer) {
    if (GetParam() == WireProtocol::kCompact) {
      return std::make_shared<apache::thrift::protocol::TCompactProtocol>(buffer);
    }
    return std::make_shared<apache::thrift::protocol::TBinaryProtocol>(buffer);
  }

  // What the client sent, decoded by the server.
  Decoded sent() {
    std::string message = to_server_->getBufferAsString();
    to_server_->resetBuffer();
    return decoder_->decode(message);
  }

  // A frame the server wrote, handed to the client (without its length prefix).
  void reply(const std::string& frame) {
    ASSERT_GE(frame.size(), 4u);
    const auto* b = reinterpret_cast<const unsigned char*>(frame.data());
    const uint32_t length = (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    ASSERT_EQ(length, frame.size() - 4);
    to_client_->resetBuffer();
    to_client_->write(b + 4, length);
  }

  std::shared_ptr<TMemoryBuffer> to_server_;
  std::shared_ptr<TMemoryBuffer> to_client_;
  api::CorralClient client_;
  std::unique_ptr<ThriftDecoder> decoder_;
  std::unique_ptr<ThriftEncoder> encoder_;
};

INSTANTIATE_TEST_SUITE_P(Protocols, CodecTest, ::testing::Values(WireProtocol::kBinary, WireProtocol::kCompact),
                         [](const auto& info) { return info.param == WireProtocol::kBinary ? "binary" : "compact"; });

TEST_P(CodecTest, CreateModesPickZooKeepersOpcodes) {
  api::ACL open;
  open.perms = 31;
  open.id.scheme = "world";
  open.id.id = "anyone";
  client_.send_create("/a", "data", {open}, api::CreateMode::EPHEMERAL_SEQUENTIAL, 0);
  Decoded d = sent();
  ASSERT_EQ(d.kind, Decoded::Kind::kCall);
  EXPECT_EQ(d.call.method, Method::kCreate);
  EXPECT_EQ(d.call.path, "/a");
  EXPECT_EQ(d.request.op, sdk::OpCode::kCreate2);
  const auto& create = std::get<sdk::CreateRequest>(d.request.body);
  EXPECT_EQ(create.flags, 3);
  EXPECT_EQ(create.data, std::optional<std::string>("data"));
  ASSERT_EQ(create.acl.size(), 1u);
  EXPECT_EQ(create.acl[0], (sdk::Acl{31, sdk::Id{"world", "anyone"}}));

  client_.send_create("/c", "", {open}, api::CreateMode::CONTAINER, 0);
  EXPECT_EQ(sent().request.op, sdk::OpCode::kCreateContainer);

  client_.send_create("/t", "", {open}, api::CreateMode::PERSISTENT_WITH_TTL, 5000);
  Decoded ttl = sent();
  EXPECT_EQ(ttl.request.op, sdk::OpCode::kCreateTtl);
  EXPECT_EQ(std::get<sdk::CreateTtlRequest>(ttl.request.body).ttl, 5000);
  EXPECT_EQ(std::get<sdk::CreateTtlRequest>(ttl.request.body).flags, 5);
}

TEST_P(CodecTest, SessionAndPingArguments) {
  api::OpenSessionRequest open;
  open.timeoutMs = 4000;
  open.sessionId = 0x1234;
  open.password = std::string(16, 'p');
  open.lastZxidSeen = 77;
  client_.send_openSession(open);
  Decoded d = sent();
  ASSERT_EQ(d.kind, Decoded::Kind::kCall);
  EXPECT_EQ(d.call.method, Method::kOpenSession);
  EXPECT_EQ(d.connect.timeout, 4000);
  EXPECT_EQ(d.connect.session_id, 0x1234);
  EXPECT_EQ(d.connect.passwd, std::string(16, 'p'));
  EXPECT_EQ(d.connect.last_zxid_seen, 77);

  client_.send_ping(-5);
  Decoded ping = sent();
  EXPECT_EQ(ping.request.op, sdk::OpCode::kPing);
  EXPECT_EQ(ping.call.ping_wait_ms, 0);  // a negative wait is no wait
}

TEST_P(CodecTest, MultiKeepsEachOpsPath) {
  std::vector<api::Op> ops(3);
  ops[0].__set_create(api::CreateOp());
  ops[0].create.path = "/m/a";
  ops[1].__set_check(api::CheckOp());
  ops[1].check.path = "/m";
  ops[1].check.version = 4;
  ops[2].__set_remove(api::DeleteOp());
  ops[2].remove.path = "/m/b";
  client_.send_multi(ops);
  Decoded d = sent();
  ASSERT_EQ(d.kind, Decoded::Kind::kCall);
  EXPECT_EQ(d.call.op_paths, (std::vector<std::string>{"/m/a", "/m", "/m/b"}));
  const auto& multi = std::get<sdk::MultiRequest>(d.request.body);
  ASSERT_EQ(multi.ops.size(), 3u);
  EXPECT_EQ(multi.ops[0].type, sdk::OpCode::kCreate2);
  // CreateOp.data unset: null data, as ZooKeeper's create with null.
  EXPECT_FALSE(std::get<sdk::CreateRequest>(multi.ops[0].op).data.has_value());
  EXPECT_EQ(multi.ops[1].type, sdk::OpCode::kCheck);
  EXPECT_EQ(std::get<sdk::CheckVersionRequest>(multi.ops[1].op).version, 4);
  EXPECT_EQ(multi.ops[2].type, sdk::OpCode::kDelete);
}

TEST_P(CodecTest, AnUnknownMethodIsSkippedWithItsArguments) {
  auto out = protocolOver(to_server_);
  out->writeMessageBegin("frobnicate", apache::thrift::protocol::T_CALL, 9);
  out->writeStructBegin("args");
  out->writeFieldBegin("x", apache::thrift::protocol::T_STRING, 1);
  out->writeString("whatever");
  out->writeFieldEnd();
  out->writeFieldStop();
  out->writeStructEnd();
  out->writeMessageEnd();
  Decoded d = sent();
  EXPECT_EQ(d.kind, Decoded::Kind::kUnknownMethod);
  EXPECT_EQ(d.name, "frobnicate");
  EXPECT_EQ(d.call.seqid, 9);

  std::string frame;
  encoder_->appendApplicationError(frame, d.name, 9, apache::thrift::TApplicationException::UNKNOWN_METHOD, "no");
  reply(frame);
  auto in = protocolOver(to_client_);
  std::string name;
  apache::thrift::protocol::TMessageType type;
  int32_t seqid = 0;
  in->readMessageBegin(name, type, seqid);
  EXPECT_EQ(type, apache::thrift::protocol::T_EXCEPTION);
  EXPECT_EQ(seqid, 9);
  apache::thrift::TApplicationException exception;
  exception.read(in.get());
  EXPECT_EQ(exception.getType(), apache::thrift::TApplicationException::UNKNOWN_METHOD);
}

TEST_P(CodecTest, GarbageAndTruncatedArgumentsAreTold) {
  EXPECT_EQ(decoder_->decode(std::string("\xff\xff\xff\xff garbage", 12)).kind, Decoded::Kind::kUnreadable);
  EXPECT_EQ(decoder_->decode("").kind, Decoded::Kind::kUnreadable);

  client_.send_getData("/some/path", true);
  std::string message = to_server_->getBufferAsString();
  to_server_->resetBuffer();
  for (size_t cut = 1; cut < message.size(); ++cut) {
    Decoded d = decoder_->decode(std::string_view(message).substr(0, cut));
    EXPECT_NE(d.kind, Decoded::Kind::kCall) << "cut at " << cut;
  }
  EXPECT_EQ(decoder_->decode(message).kind, Decoded::Kind::kCall);
}

TEST_P(CodecTest, AHugeListCountIsRefusedWithoutAllocatingIt) {
  // setWatches with a list header that claims 2^30 paths in a 40-byte frame.
  auto out = protocolOver(to_server_);
  out->writeMessageBegin("setWatches", apache::thrift::protocol::T_CALL, 1);
  out->writeStructBegin("args");
  out->writeFieldBegin("dataWatches", apache::thrift::protocol::T_LIST, 2);
  out->writeListBegin(apache::thrift::protocol::T_STRING, 1 << 30);
  Decoded d = sent();
  EXPECT_EQ(d.kind, Decoded::Kind::kBadArguments);
}

TEST_P(CodecTest, ResultsCarryTheirEventsAndZxid) {
  client_.send_getData("/n", true);
  Decoded d = sent();
  sdk::ClientResponse response;
  response.zxid = 0x500000007;
  response.body = sdk::GetDataResponse{std::string("value"), sdk::Stat{1, 2, 3, 4, 5, 6, 7, 0, 5, 0, 9}};
  std::vector<sdk::WatcherEvent> events{
      {sdk::EventType::kNodeDeleted, sdk::KeeperState::kSyncConnected, "/gone"}};
  std::string frame;
  encoder_->appendReply(frame, d.call, response, events);
  EXPECT_TRUE(events.empty());
  reply(frame);
  api::GetDataResult result;
  client_.recv_getData(result);
  EXPECT_EQ(result.zxid, 0x500000007);
  EXPECT_EQ(result.data, "value");
  EXPECT_EQ(result.stat.version, 5);
  EXPECT_EQ(result.stat.pzxid, 9);
  ASSERT_EQ(result.events.size(), 1u);
  EXPECT_EQ(result.events[0].type, api::EventType::NODE_DELETED);
  EXPECT_EQ(result.events[0].state, api::KeeperState::SYNC_CONNECTED);
  EXPECT_EQ(result.events[0].path, "/gone");
}

TEST_P(CodecTest, NullDataIsAnUnsetField) {
  client_.send_getData("/n", false);
  Decoded d = sent();
  sdk::ClientResponse response;
  response.body = sdk::GetDataResponse{std::nullopt, sdk::Stat{}};
  std::vector<sdk::WatcherEvent> none;
  std::string frame;
  encoder_->appendReply(frame, d.call, response, none);
  reply(frame);
  api::GetDataResult result;
  client_.recv_getData(result);
  EXPECT_FALSE(result.__isset.data);
}

TEST_P(CodecTest, ErrorsAreZkErrorsWithTheCallsPath) {
  client_.send_remove("/not/there", -1);
  Decoded d = sent();
  sdk::ClientResponse response;
  response.err = sdk::Code::kNoNode;
  response.zxid = 42;
  std::vector<sdk::WatcherEvent> events{{sdk::EventType::kNodeCreated, sdk::KeeperState::kSyncConnected, "/w"}};
  std::string frame;
  encoder_->appendReply(frame, d.call, response, events);
  reply(frame);
  api::DeleteResult result;
  try {
    client_.recv_remove(result);
    FAIL() << "no ZkError";
  } catch (const api::ZkError& error) {
    EXPECT_EQ(error.code, -101);
    EXPECT_EQ(error.path, "/not/there");
    EXPECT_EQ(error.message, "NoNode");
    EXPECT_EQ(error.zxid, 42);
    ASSERT_EQ(error.events.size(), 1u);
    EXPECT_EQ(error.events[0].path, "/w");
  }
}

TEST_P(CodecTest, ExistsOnAMissingNodeIsAResultWithoutStat) {
  client_.send_exists("/missing", true);
  Decoded d = sent();
  sdk::ClientResponse response;
  response.err = sdk::Code::kNoNode;
  std::vector<sdk::WatcherEvent> none;
  std::string frame;
  encoder_->appendReply(frame, d.call, response, none);
  reply(frame);
  api::ExistsResult result;
  client_.recv_exists(result);
  EXPECT_FALSE(result.__isset.stat);
}

TEST_P(CodecTest, AFailedMultiNamesItsFailingOp) {
  std::vector<api::Op> ops(2);
  ops[0].__set_create(api::CreateOp());
  ops[0].create.path = "/m/new";
  ops[1].__set_setData(api::SetDataOp());
  ops[1].setData.path = "/m/old";
  ops[1].setData.version = 3;
  client_.send_multi(ops);
  Decoded d = sent();
  // As ZooKeeper, the kernel answers a failed multi with err 0 and an ErrorResult per op.
  sdk::ClientResponse response;
  response.err = sdk::Code::kOk;
  response.body = sdk::MultiResponse{{sdk::MultiResult::error(sdk::Code::kOk),
                                      sdk::MultiResult::error(sdk::Code::kBadVersion)}};
  std::vector<sdk::WatcherEvent> none;
  std::string frame;
  encoder_->appendReply(frame, d.call, response, none);
  reply(frame);
  api::MultiResult result;
  try {
    client_.recv_multi(result);
    FAIL() << "no ZkError";
  } catch (const api::ZkError& error) {
    EXPECT_EQ(error.code, -103);
    EXPECT_EQ(error.failedOp, 1);
    EXPECT_EQ(error.path, "/m/old");
    ASSERT_EQ(error.results.size(), 2u);
    EXPECT_EQ(error.results[0].error.code, 0);
    EXPECT_EQ(error.results[1].error.code, -103);
  }
}

TEST_P(CodecTest, SessionRepliesAndRefusals) {
  api::OpenSessionRequest open;
  client_.send_openSession(open);
  Decoded d = sent();
  sdk::ConnectResponse response;
  response.session_id = 0x77;
  response.passwd = std::string(16, 's');
  response.timeout = 6000;
  std::string frame;
  encoder_->appendSession(frame, d.call, response, false, 12);
  reply(frame);
  api::SessionInfo info;
  client_.recv_openSession(info);
  EXPECT_EQ(info.sessionId, 0x77);
  EXPECT_EQ(info.password, std::string(16, 's'));
  EXPECT_EQ(info.timeoutMs, 6000);
  EXPECT_EQ(info.zxid, 12);

  client_.send_openSession(open);
  Decoded again = sent();
  frame.clear();
  encoder_->appendSession(frame, again.call, response, true, 12);
  reply(frame);
  try {
    client_.recv_openSession(info);
    FAIL() << "no ZkError";
  } catch (const api::ZkError& error) {
    EXPECT_EQ(error.code, -112);
  }
}

}  // namespace
}  // namespace corral::plugins::thrift
