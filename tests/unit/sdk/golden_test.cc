// Golden bytes captured from a real Apache ZooKeeper 3.8.0 server (Debian package
// zookeeper 3.8.0-11+deb12u2, standalone on loopback, -Dzookeeper.extendedTypesEnabled=true,
// fresh dataDir) by golden/capture_golden.py:
//   * k...Reply / kConnectResponse / kWatchEvent: whole frames (int32 len + payload) the server
//     sent in answer to hand-built requests (session A = 0x0100000c7ff30000 makes the requests,
//     session B = ...0001 does the setData that fires A's watch);
//   * kMultiRequestOk: the hand-built request whose reply is kMultiReplyOk;
//   * kKazooRequest*: request frames written by kazoo (which mirrors the Java client's encoding)
//     through a recording proxy: ConnectRequest, ephemeral create, a 4-op transaction, close;
//   * kLogFileHeader / kTxn*: the FileHeader and entry bytes (TxnHeader + body + TxnDigest, the
//     span the Adler32 covers) of the server's version-2/log.1, with the stored checksums.
// Each test decodes the bytes, checks the fields, and re-encodes to the identical bytes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "corral/records.h"
#include "test_util.h"

namespace corral::sdk {
namespace {

using testing::hex;
using testing::unhex;

constexpr std::string_view kConnectResponse =
    "0000002500000000000027100100000c7ff30000000000104f507de3305debc94599309ff988a32800";
constexpr std::string_view kCreateReply =
    "0000001b00000001000000000000000200000000000000072f676f6c64656e";
constexpr std::string_view kCreate2Reply =
    "0000006800000002000000000000000300000000000000102f676f6c64656e2f6e756c6c6461746100000000"
    "000000030000000000000003000001a2015b2c22000001a2015b2c2200000000000000000000000000000000"
    "0000000000000000000000000000000000000003";
constexpr std::string_view kGetDataReply =
    "0000005d000000030000000000000003000000000000000568656c6c6f000000000000000200000000000000"
    "02000001a2015b2c16000001a2015b2c16000000000000000100000000000000000000000000000005000000"
    "010000000000000003";
constexpr std::string_view kGetDataNullReply =
    "0000005800000004000000000000000300000000ffffffff00000000000000030000000000000003000001a2"
    "015b2c22000001a2015b2c220000000000000000000000000000000000000000000000000000000000000000"
    "00000003";
constexpr std::string_view kSetDataReply =
    "000000540000000100000000000000050000000000000000000000020000000000000005000001a2015b2c16"
    "000001a2015b2c2d000000010000000100000000000000000000000000000005000000010000000000000003";
constexpr std::string_view kWatchEvent =
    "00000023ffffffffffffffffffffffff000000000000000300000003000000072f676f6c64656e";
constexpr std::string_view kMultiRequestOk =
    "000000a2000000050000000e0000000100ffffffff0000000a2f676f6c64656e2f6d31000000017800000001"
    "0000001f00000005776f726c6400000006616e796f6e65000000000000000500ffffffff000000072f676f6c"
    "64656e000000016dffffffff0000000d00ffffffff000000072f676f6c64656e000000020000000200ffffff"
    "ff000000102f676f6c64656e2f6e756c6c64617461ffffffffffffffff01ffffffff";
constexpr std::string_view kMultiReplyOk =
    "0000008f000000050000000000000006000000000000000100000000000000000a2f676f6c64656e2f6d3100"
    "000005000000000000000000000000020000000000000006000001a2015b2c16000001a2015b2c3700000002"
    "00000002000000000000000000000000000000010000000200000000000000060000000d0000000000000000"
    "020000000000ffffffff01ffffffff";
constexpr std::string_view kMultiReplyFail =
    "0000004000000006000000000000000700000000ffffffff000000000000000000ffffffff00ffffff9bffff"
    "ff9bffffffff00fffffffefffffffeffffffff01ffffffff";
constexpr std::string_view kGetChildren2Reply =
    "0000005e0000000700000000000000070000000000000001000000026d310000000000000002000000000000"
    "0006000001a2015b2c16000001a2015b2c370000000200000003000000000000000000000000000000010000"
    "00010000000000000006";
constexpr std::string_view kGetAclReply =
    "0000006f00000008000000000000000700000000000000010000001f00000005776f726c6400000006616e79"
    "6f6e6500000000000000020000000000000006000001a2015b2c16000001a2015b2c37000000020000000300"
    "000000000000000000000000000001000000010000000000000006";
constexpr std::string_view kExistsNonodeReply =
    "00000010000000090000000000000007ffffff9b";
constexpr std::string_view kCreateTtlReply =
    "000000630000000a0000000000000008000000000000000b2f676f6c64656e2f74746c000000000000000800"
    "00000000000008000001a2015b2c51000001a2015b2c51000000000000000000000000000000000000000000"
    "000001000000000000000000000008";
constexpr std::string_view kCreateContainerReply =
    "000000640000000b0000000000000009000000000000000c2f676f6c64656e2f636f6e740000000000000009"
    "0000000000000009000001a2015b2c53000001a2015b2c530000000000000000000000000000000000000000"
    "00000000000000000000000000000009";
constexpr std::string_view kSetAclReply =
    "000000540000000c000000000000000a0000000000000000000000060000000000000006000001a2015b2c37"
    "000001a2015b2c37000000000000000000000001000000000000000000000001000000000000000000000006";
constexpr std::string_view kCreateExistsReply =
    "000000100000000d000000000000000bffffff92";
constexpr std::string_view kCreateEphemeralReply =
    "0000001f0000000e000000000000000c000000000000000b2f676f6c64656e2f657068";
constexpr std::string_view kWhoamiReply =
    "000000270000000f000000000000000c0000000000000001000000026970000000093132372e302e302e31";
constexpr std::string_view kPingReply =
    "00000010fffffffe000000000000000c00000000";
constexpr std::string_view kCloseReply =
    "0000001000000010000000000000000d00000000";
constexpr std::string_view kKazooRequest0 =
    "0000002d00000000000000000000000000002710000000000000000000000010000000000000000000000000"
    "0000000000";
constexpr std::string_view kKazooRequest1 =
    "0000003b00000001000000010000000a2f676f6c64656e2f6b7a000000026b7a000000010000001f00000005"
    "776f726c6400000006616e796f6e6500000001";
constexpr std::string_view kKazooRequest2 =
    "0000009e000000020000000e0000000100ffffffff0000000b2f676f6c64656e2f6b7a320000000161000000"
    "010000001f00000005776f726c6400000006616e796f6e65000000000000000d00ffffffff000000072f676f"
    "6c64656e000000020000000500ffffffff000000072f676f6c64656e0000000162ffffffff0000000200ffff"
    "ffff0000000b2f676f6c64656e2f6b7a32ffffffffffffffff01ffffffff";
constexpr std::string_view kKazooRequest3 =
    "0000000800000003fffffff5";
constexpr std::string_view kLogFileHeader =
    "5a4b4c47000000020000000000000000";
constexpr std::string_view kTxn1CreateSession =
    "0100000c7ff30000000000000000000000000001000001a2015b2c0bfffffff6000027100000000200000000"
    "51c6d660";
constexpr std::string_view kTxn2Create =
    "0100000c7ff30000000000010000000000000002000001a2015b2c1600000001000000072f676f6c64656e00"
    "00000568656c6c6f000000010000001f00000005776f726c6400000006616e796f6e65000000000100000002"
    "000000014e4bc88b";
constexpr std::string_view kTxn3Create2 =
    "0100000c7ff30000000000020000000000000003000001a2015b2c220000000f000000102f676f6c64656e2f"
    "6e756c6c64617461ffffffff000000010000001f00000005776f726c6400000006616e796f6e650000000001"
    "0000000200000001030b3ab3";
constexpr std::string_view kTxn5SetData =
    "0100000c7ff30001000000010000000000000005000001a2015b2c2d00000005000000072f676f6c64656e00"
    "000005776f726c64000000010000000200000000f309c0ff";
constexpr std::string_view kTxn6Multi =
    "0100000c7ff30000000000050000000000000006000001a2015b2c370000000e000000040000000100000033"
    "0000000a2f676f6c64656e2f6d310000000178000000010000001f00000005776f726c6400000006616e796f"
    "6e6500000000020000000500000014000000072f676f6c64656e000000016d000000020000000d0000000f00"
    "0000072f676f6c64656e000000030000000200000014000000102f676f6c64656e2f6e756c6c646174610000"
    "00020000000135492261";
constexpr std::string_view kTxn7MultiFailed =
    "0100000c7ff30000000000060000000000000007000001a2015b2c410000000e000000030000000100000032"
    "0000000a2f676f6c64656e2f6d3200000000000000010000001f00000005776f726c6400000006616e796f6e"
    "650000000003ffffffff00000004ffffff9bffffffff00000004fffffffe000000020000000135492261";
constexpr std::string_view kTxn8CreateTtl =
    "0100000c7ff300000000000a0000000000000008000001a2015b2c51000000150000000b2f676f6c64656e2f"
    "74746c0000000174000000010000001f00000005776f726c6400000006616e796f6e65000000030000000000"
    "0927c00000000200000001f4a14317";
constexpr std::string_view kTxn9CreateContainer =
    "0100000c7ff300000000000b0000000000000009000001a2015b2c53000000130000000c2f676f6c64656e2f"
    "636f6e7400000000000000010000001f00000005776f726c6400000006616e796f6e65000000040000000200"
    "000001e887c397";
constexpr std::string_view kTxn10SetAcl =
    "0100000c7ff300000000000c000000000000000a000001a2015b2c57000000070000000a2f676f6c64656e2f"
    "6d31000000010000001f000000066469676573740000001e753a4a7137774d79412f7732566435574944414b"
    "6475344f49494645513d000000010000000200000001d9a0b758";
constexpr std::string_view kTxn11Error =
    "0100000c7ff300000000000d000000000000000b000001a2015b2c5affffffffffffff92";
constexpr std::string_view kTxn12CreateEphemeral =
    "0100000c7ff300000000000e000000000000000c000001a2015b2c5c000000010000000b2f676f6c64656e2f"
    "6570680000000165000000010000001f00000005776f726c6400000006616e796f6e65010000000500000002"
    "000000028ae97968";
constexpr std::string_view kTxn13CloseSession =
    "0100000c7ff3000000000010000000000000000d000001a2015b2c61fffffff5000000010000000b2f676f6c"
    "64656e2f65706800000002000000024b5c428e";
constexpr std::string_view kTxn16Multi =
    "0100000c7ff30002000000020000000000000010000001a2015b2ca10000000e000000040000000100000034"
    "0000000b2f676f6c64656e2f6b7a320000000161000000010000001f00000005776f726c6400000006616e79"
    "6f6e6500000000070000000d0000000f000000072f676f6c64656e000000030000000500000014000000072f"
    "676f6c64656e000000016200000003000000020000000f0000000b2f676f6c64656e2f6b7a32000000020000"
    "0002618590ab";
constexpr std::string_view kTxn19Check =
    "0100000c7ff30003000000010000000000000013000001a2015b2dd70000000d000000072f676f6c64656e00"
    "000004000000020000000256c3b575";

// The Adler32 each txn-log record stored for its entry bytes.
constexpr std::pair<std::string_view, uint32_t> kLoggedChecksums[] = {
    {kTxn1CreateSession, 2950760752u},
    {kTxn2Create, 1584270938u},
    {kTxn3Create2, 2347832053u},
    {kTxn5SetData, 422775422u},
    {kTxn6Multi, 624105830u},
    {kTxn7MultiFailed, 4019330100u},
    {kTxn8CreateTtl, 3758886800u},
    {kTxn9CreateContainer, 1842220905u},
    {kTxn10SetAcl, 4278064459u},
    {kTxn11Error, 1705970344u},
    {kTxn12CreateEphemeral, 1948454626u},
    {kTxn13CloseSession, 1775176886u},
    {kTxn16Multi, 406133009u},
    {kTxn19Check, 3582855329u},
};

constexpr SessionId kSessionA = 0x0100000c7ff30000LL;
constexpr SessionId kSessionB = 0x0100000c7ff30001LL;
constexpr SessionId kSessionKazoo = 0x0100000c7ff30002LL;
constexpr SessionId kSessionCheck = 0x0100000c7ff30003LL;
constexpr TimeMs kGoldenCtime = 0x1a2015b2c16LL;    // create of /golden (txn 2)
constexpr TimeMs kNullDataCtime = 0x1a2015b2c22LL;  // create2 of /golden/nulldata (txn 3)
constexpr TimeMs kSetDataMtime = 0x1a2015b2c2dLL;   // setData by session B (txn 5)
constexpr TimeMs kMultiMtime = 0x1a2015b2c37LL;     // successful multi (txn 6)

uint32_t adler32(std::string_view bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : bytes) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

// A reply frame: length prefix right, header + body decode to `header`/`body`, nothing left,
// and encodeReplyFrame reproduces the bytes.
template <typename Body>
void expectReply(std::string_view golden_hex, const ReplyHeader& header, const Body& body) {
  std::string bytes = unhex(golden_hex);
  JuteReader r(bytes);
  EXPECT_EQ(static_cast<size_t>(r.readInt()), bytes.size() - 4);
  ReplyHeader got_header;
  ASSERT_TRUE(decode(r, got_header));
  EXPECT_EQ(got_header, header);
  Body got_body{};
  ASSERT_TRUE(decode(r, got_body));
  EXPECT_TRUE(got_body == body);
  EXPECT_TRUE(r.atEnd());
  std::string encoded;
  encodeReplyFrame(encoded, header, body);
  EXPECT_EQ(hex(encoded), golden_hex);
}

void expectHeaderOnlyReply(std::string_view golden_hex, const ReplyHeader& header) {
  std::string bytes = unhex(golden_hex);
  JuteReader r(bytes);
  EXPECT_EQ(static_cast<size_t>(r.readInt()), bytes.size() - 4);
  ReplyHeader got;
  ASSERT_TRUE(decode(r, got));
  EXPECT_EQ(got, header);
  EXPECT_TRUE(r.atEnd());
  std::string encoded;
  encodeReplyFrame(encoded, header);
  EXPECT_EQ(hex(encoded), golden_hex);
}

template <typename Body>
void expectRequest(std::string_view golden_hex, const RequestHeader& header, const Body& body) {
  std::string bytes = unhex(golden_hex);
  JuteReader r(bytes);
  EXPECT_EQ(static_cast<size_t>(r.readInt()), bytes.size() - 4);
  RequestHeader got_header;
  ASSERT_TRUE(decode(r, got_header));
  EXPECT_EQ(got_header, header);
  Body got_body{};
  ASSERT_TRUE(decode(r, got_body));
  EXPECT_TRUE(got_body == body);
  EXPECT_TRUE(r.atEnd());
  std::string encoded;
  encodeRequestFrame(encoded, header, body);
  EXPECT_EQ(hex(encoded), golden_hex);
}

void expectEntry(std::string_view golden_hex, const TxnEntry& entry) {
  std::string bytes = unhex(golden_hex);
  TxnEntry got;
  JuteReader r(bytes);
  ASSERT_TRUE(decode(r, got));
  EXPECT_TRUE(r.atEnd());
  EXPECT_TRUE(got == entry) << golden_hex;
  EXPECT_EQ(hex(encodeToString(entry)), golden_hex);
}

TEST(Golden, ConnectResponse) {
  std::string bytes = unhex(kConnectResponse);
  JuteReader r(bytes);
  EXPECT_EQ(r.readInt(), 37);
  ConnectResponse resp;
  ASSERT_TRUE(decode(r, resp));
  EXPECT_TRUE(r.atEnd());
  EXPECT_EQ(resp.protocol_version, 0);
  EXPECT_EQ(resp.timeout, 10000);
  EXPECT_EQ(resp.session_id, kSessionA);
  EXPECT_EQ(hex(resp.passwd), "4f507de3305debc94599309ff988a328");
  EXPECT_EQ(resp.read_only, std::optional<bool>(false));
  std::string encoded;
  JuteWriter w(encoded);
  size_t frame = w.beginFrame();
  encode(w, resp);
  w.endFrame(frame);
  EXPECT_EQ(hex(encoded), kConnectResponse);
}

TEST(Golden, KazooConnectRequest) {
  std::string bytes = unhex(kKazooRequest0);
  JuteReader r(bytes);
  EXPECT_EQ(r.readInt(), 45);
  ConnectRequest req;
  ASSERT_TRUE(decode(r, req));
  EXPECT_TRUE(r.atEnd());
  EXPECT_EQ(req, (ConnectRequest{0, 0, 10000, 0, std::string(16, '\0'), false}));
  std::string encoded;
  JuteWriter w(encoded);
  size_t frame = w.beginFrame();
  encode(w, req);
  w.endFrame(frame);
  EXPECT_EQ(hex(encoded), kKazooRequest0);
}

TEST(Golden, SimpleReplies) {
  expectReply(kCreateReply, {1, 2, Code::kOk}, CreateResponse{"/golden"});
  expectReply(kCreateEphemeralReply, {14, 12, Code::kOk}, CreateResponse{"/golden/eph"});
  expectHeaderOnlyReply(kExistsNonodeReply, {9, 7, Code::kNoNode});
  expectHeaderOnlyReply(kCreateExistsReply, {13, 11, Code::kNodeExists});
  expectHeaderOnlyReply(kPingReply, {xids::kPing, 12, Code::kOk});
  expectHeaderOnlyReply(kCloseReply, {16, 13, Code::kOk});
  expectReply(kWhoamiReply, {15, 12, Code::kOk}, WhoAmIResponse{{{"ip", "127.0.0.1"}}});
}

TEST(Golden, RepliesWithStat) {
  const Stat null_data{3, 3, kNullDataCtime, kNullDataCtime, 0, 0, 0, 0, 0, 0, 3};
  expectReply(kCreate2Reply, {2, 3, Code::kOk}, Create2Response{"/golden/nulldata", null_data});
  expectReply(kGetDataReply, {3, 3, Code::kOk},
              GetDataResponse{std::string("hello"),
                              Stat{2, 2, kGoldenCtime, kGoldenCtime, 0, 1, 0, 0, 5, 1, 3}});
  // A node created with null data: buffer -1 on the wire, dataLength 0.
  expectReply(kGetDataNullReply, {4, 3, Code::kOk}, GetDataResponse{std::nullopt, null_data});
  expectReply(kSetDataReply, {1, 5, Code::kOk},
              SetDataResponse{Stat{2, 5, kGoldenCtime, kSetDataMtime, 1, 1, 0, 0, 5, 1, 3}});
  const Stat after_multi{2, 6, kGoldenCtime, kMultiMtime, 2, 3, 0, 0, 1, 1, 6};
  expectReply(kGetChildren2Reply, {7, 7, Code::kOk}, GetChildren2Response{{"m1"}, after_multi});
  expectReply(kGetAclReply, {8, 7, Code::kOk}, GetAclResponse{openAclUnsafe(), after_multi});
  // TTL and container nodes expose ephemeralOwner 0.
  expectReply(kCreateTtlReply, {10, 8, Code::kOk},
              Create2Response{"/golden/ttl", Stat{8, 8, 0x1a2015b2c51LL, 0x1a2015b2c51LL, 0, 0, 0, 0,
                                                  1, 0, 8}});
  expectReply(kCreateContainerReply, {11, 9, Code::kOk},
              Create2Response{"/golden/cont", Stat{9, 9, 0x1a2015b2c53LL, 0x1a2015b2c53LL, 0, 0, 0,
                                                   0, 0, 0, 9}});
  expectReply(kSetAclReply, {12, 10, Code::kOk},
              SetAclResponse{Stat{6, 6, kMultiMtime, kMultiMtime, 0, 0, 1, 0, 1, 0, 6}});
}

TEST(Golden, WatchNotification) {
  expectReply(kWatchEvent, {xids::kNotification, -1, Code::kOk},
              WatcherEvent{EventType::kNodeDataChanged, KeeperState::kSyncConnected, "/golden"});
  std::string encoded;
  encodeNotificationFrame(encoded, {EventType::kNodeDataChanged, KeeperState::kSyncConnected, "/golden"});
  EXPECT_EQ(hex(encoded), kWatchEvent);
}

TEST(Golden, MultiRequestAndReplies) {
  MultiRequest req;
  req.ops = {
      {OpCode::kCreate, CreateRequest{"/golden/m1", std::string("x"), openAclUnsafe(), false, 0}},
      {OpCode::kSetData, SetDataRequest{"/golden", std::string("m"), -1}},
      {OpCode::kCheck, CheckVersionRequest{"/golden", 2}},
      {OpCode::kDelete, DeleteRequest{"/golden/nulldata", -1}},
  };
  expectRequest(kMultiRequestOk, {5, OpCode::kMulti}, req);

  MultiResponse ok;
  ok.results = {MultiResult::create("/golden/m1"),
                MultiResult::setData(Stat{2, 6, kGoldenCtime, kMultiMtime, 2, 2, 0, 0, 1, 2, 6}),
                MultiResult::check(), MultiResult::remove()};
  expectReply(kMultiReplyOk, {5, 6, Code::kOk}, ok);

  // [create ok, delete of a missing node, setData]: every result is an ErrorResult.
  MultiResponse failed;
  failed.results = {MultiResult::error(Code::kOk), MultiResult::error(Code::kNoNode),
                    MultiResult::error(Code::kRuntimeInconsistency)};
  expectReply(kMultiReplyFail, {6, 7, Code::kOk}, failed);
}

TEST(Golden, KazooRequests) {
  expectRequest(kKazooRequest1, {1, OpCode::kCreate},
                CreateRequest{"/golden/kz", std::string("kz"), openAclUnsafe(), false, 1});
  MultiRequest tx;
  tx.ops = {
      {OpCode::kCreate, CreateRequest{"/golden/kz2", std::string("a"), openAclUnsafe(), false, 0}},
      {OpCode::kCheck, CheckVersionRequest{"/golden", 2}},
      {OpCode::kSetData, SetDataRequest{"/golden", std::string("b"), -1}},
      {OpCode::kDelete, DeleteRequest{"/golden/kz2", -1}},
  };
  expectRequest(kKazooRequest2, {2, OpCode::kMulti}, tx);
  std::string close;
  encodeRequestFrame(close, {3, OpCode::kCloseSession});
  EXPECT_EQ(hex(close), kKazooRequest3);
}

TEST(Golden, LogFileHeader) {
  FileHeader h;
  ASSERT_TRUE(decodeFrom(unhex(kLogFileHeader), h));
  EXPECT_EQ(h, (FileHeader{kTxnLogMagic, 2, 0}));
  EXPECT_EQ(hex(encodeToString(h)), kLogFileHeader);
}

TEST(Golden, LoggedChecksumsMatchEntryBytes) {
  for (const auto& [entry, checksum] : kLoggedChecksums) {
    EXPECT_EQ(adler32(unhex(entry)), checksum) << entry;
  }
}

TEST(Golden, TxnEntries) {
  const AclList open = openAclUnsafe();
  expectEntry(kTxn1CreateSession, {{kSessionA, 0, 1, 0x1a2015b2c0bLL, OpCode::kCreateSession},
                                   CreateSessionTxn{10000},
                                   TxnDigest{2, 1371985504}});  // the empty-tree digest
  expectEntry(kTxn2Create, {{kSessionA, 1, 2, kGoldenCtime, OpCode::kCreate},
                            CreateTxn{"/golden", std::string("hello"), open, false, 1},
                            TxnDigest{2, 0x14e4bc88bLL}});
  expectEntry(kTxn3Create2, {{kSessionA, 2, 3, kNullDataCtime, OpCode::kCreate2},
                             CreateTxn{"/golden/nulldata", std::nullopt, open, false, 1},
                             TxnDigest{2, 0x1030b3ab3LL}});
  expectEntry(kTxn5SetData, {{kSessionB, 1, 5, kSetDataMtime, OpCode::kSetData},
                             SetDataTxn{"/golden", std::string("world"), 1},
                             TxnDigest{2, 0xf309c0ffLL}});
  expectEntry(kTxn6Multi,
              {{kSessionA, 5, 6, kMultiMtime, OpCode::kMulti},
               MultiTxn{{makeTxn(OpCode::kCreate, CreateTxn{"/golden/m1", std::string("x"), open, false, 2}),
                         makeTxn(OpCode::kSetData, SetDataTxn{"/golden", std::string("m"), 2}),
                         makeTxn(OpCode::kCheck, CheckVersionTxn{"/golden", 3}),
                         makeTxn(OpCode::kDelete, DeleteTxn{"/golden/nulldata"})}},
               TxnDigest{2, 0x135492261LL}});
  // A failed multi: ops before the failure keep their records, then ErrorTxn(code), ErrorTxn(-2).
  expectEntry(kTxn7MultiFailed,
              {{kSessionA, 6, 7, 0x1a2015b2c41LL, OpCode::kMulti},
               MultiTxn{{makeTxn(OpCode::kCreate, CreateTxn{"/golden/m2", std::string(), open, false, 3}),
                         makeTxn(OpCode::kError, ErrorTxn{Code::kNoNode}),
                         makeTxn(OpCode::kError, ErrorTxn{Code::kRuntimeInconsistency})}},
               TxnDigest{2, 0x135492261LL}});
  expectEntry(kTxn8CreateTtl, {{kSessionA, 10, 8, 0x1a2015b2c51LL, OpCode::kCreateTtl},
                               CreateTtlTxn{"/golden/ttl", std::string("t"), open, 3, 600000},
                               TxnDigest{2, 0x1f4a14317LL}});
  expectEntry(kTxn9CreateContainer, {{kSessionA, 11, 9, 0x1a2015b2c53LL, OpCode::kCreateContainer},
                                     CreateContainerTxn{"/golden/cont", std::string(), open, 4},
                                     TxnDigest{2, 0x1e887c397LL}});
  expectEntry(kTxn10SetAcl,
              {{kSessionA, 12, 10, 0x1a2015b2c57LL, OpCode::kSetAcl},
               SetAclTxn{"/golden/m1", {Acl{31, Id{"digest", "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ="}}}, 1},
               TxnDigest{2, 0x1d9a0b758LL}});
  // Error txns carry no digest.
  expectEntry(kTxn11Error, {{kSessionA, 13, 11, 0x1a2015b2c5aLL, OpCode::kError},
                            ErrorTxn{Code::kNodeExists},
                            std::nullopt});
  expectEntry(kTxn12CreateEphemeral, {{kSessionA, 14, 12, 0x1a2015b2c5cLL, OpCode::kCreate},
                                      CreateTxn{"/golden/eph", std::string("e"), open, true, 5},
                                      TxnDigest{2, 0x28ae97968LL}});
  expectEntry(kTxn13CloseSession, {{kSessionA, 16, 13, 0x1a2015b2c61LL, OpCode::kCloseSession},
                                   CloseSessionTxn{{"/golden/eph"}, false},
                                   TxnDigest{2, 0x24b5c428eLL}});
  expectEntry(kTxn16Multi,
              {{kSessionKazoo, 2, 16, 0x1a2015b2ca1LL, OpCode::kMulti},
               MultiTxn{{makeTxn(OpCode::kCreate, CreateTxn{"/golden/kz2", std::string("a"), open, false, 7}),
                         makeTxn(OpCode::kCheck, CheckVersionTxn{"/golden", 3}),
                         makeTxn(OpCode::kSetData, SetDataTxn{"/golden", std::string("b"), 3}),
                         makeTxn(OpCode::kDelete, DeleteTxn{"/golden/kz2"})}},
               TxnDigest{2, 0x2618590abLL}});
  // 3.8.0 logs a standalone check request as a top-level CheckVersionTxn (version + 1).
  expectEntry(kTxn19Check, {{kSessionCheck, 1, 19, 0x1a2015b2dd7LL, OpCode::kCheck},
                            CheckVersionTxn{"/golden", 4},
                            TxnDigest{2, 0x256c3b575LL}});
}

TEST(Golden, MultiSubTxnsDecode) {
  TxnEntry entry;
  ASSERT_TRUE(decodeFrom(unhex(kTxn7MultiFailed), entry));
  const auto& multi = std::get<MultiTxn>(entry.body);
  ASSERT_EQ(multi.txns.size(), 3u);
  TxnBody body;
  ASSERT_TRUE(decodeSubTxn(multi.txns[0], body));
  EXPECT_EQ(std::get<CreateTxn>(body).path, "/golden/m2");
  EXPECT_EQ(std::get<CreateTxn>(body).data, std::optional<std::string>(""));
  ASSERT_TRUE(decodeSubTxn(multi.txns[2], body));
  EXPECT_EQ(std::get<ErrorTxn>(body).err, Code::kRuntimeInconsistency);
}

TEST(Golden, TruncatedGoldenFramesFail) {
  // Every strict prefix of a real reply body fails (after the frame length and header).
  std::string bytes = unhex(kGetDataReply).substr(4 + 16);
  for (size_t n = 0; n < bytes.size(); ++n) {
    GetDataResponse resp;
    EXPECT_FALSE(decodeFrom(std::string_view(bytes).substr(0, n), resp)) << n;
  }
  std::string multi = unhex(kMultiRequestOk).substr(4 + 8);
  for (size_t n = 0; n < multi.size(); ++n) {
    MultiRequest req;
    EXPECT_FALSE(decodeFrom(std::string_view(multi).substr(0, n), req)) << n;
  }
}

}  // namespace
}  // namespace corral::sdk
