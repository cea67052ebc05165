// Round trips of every record, null handling, multi/txn decoding rules and garbage input.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "corral/records.h"
#include "test_util.h"

namespace corral::sdk {
namespace {

using testing::expectRoundTrip;
using testing::expectTruncationFails;
using testing::hex;
using testing::unhex;

Stat sampleStat() {
  return Stat{0x100000002LL, 0x100000005LL, 1700000000123LL, 1700000000456LL, 3, 7, 1,
              0x0100000c7ff30000LL, 11, 2, 0x100000009LL};
}

StatPersisted sampleStatPersisted() {
  return StatPersisted{1, 2, 3, 4, 5, 6, 7, owner::kContainer, 9};
}

AclList sampleAcls() {
  return {Acl{perms::kAll, Id{"world", "anyone"}},
          Acl{perms::kRead | perms::kAdmin, Id{"digest", "u:Jq7wMyA/w2Vd5WIDAKdu4OIIFEQ="}}};
}

TEST(DataRecords, RoundTrip) {
  expectRoundTrip(sampleStat());
  expectRoundTrip(Stat{});
  expectRoundTrip(sampleStatPersisted());
  expectRoundTrip(Id{"ip", "127.0.0.1"});
  expectRoundTrip(Acl{99, Id{"x", ""}});
  expectRoundTrip(sampleAcls());
  expectRoundTrip(AclList{});
  expectRoundTrip(ClientInfo{"digest", "user"});
  EXPECT_EQ(encodeToString(sampleStat()).size(), 68u);
  EXPECT_EQ(encodeToString(sampleStatPersisted()).size(), 60u);
  expectTruncationFails(sampleStat());
  expectTruncationFails(sampleStatPersisted());
  expectTruncationFails(sampleAcls());
}

TEST(DataRecords, NullAclListDecodesEmptyWithFlag) {
  std::string in = unhex("ffffffff");
  JuteReader r(in);
  AclList acl = sampleAcls();
  bool is_null = false;
  EXPECT_TRUE(decode(r, acl, &is_null));
  EXPECT_TRUE(is_null);
  EXPECT_TRUE(acl.empty());
}

TEST(ClientRecords, HeadersRoundTrip) {
  expectRoundTrip(RequestHeader{7, OpCode::kGetData});
  expectRoundTrip(RequestHeader{-2, OpCode::kPing});
  expectRoundTrip(RequestHeader{1, static_cast<OpCode>(999)});  // unknown opcodes survive
  expectRoundTrip(ReplyHeader{-1, -1, Code::kOk});
  expectRoundTrip(ReplyHeader{5, 0x200000001LL, Code::kNoNode});
  expectRoundTrip(MultiHeader{OpCode::kCreate, false, -1});
  expectRoundTrip(kMultiTerminator);
  EXPECT_EQ(hex(encodeToString(ReplyHeader{-1, -1, Code::kOk})),
            "ffffffffffffffffffffffff00000000");
  expectTruncationFails(ReplyHeader{5, 6, Code::kNoAuth});
}

TEST(ClientRecords, ConnectRequestReadOnlyByteIsOptional) {
  ConnectRequest with{0, 0x100000003LL, 30000, 0x0100000c7ff30000LL, std::string(16, '\x07'), true};
  expectRoundTrip(with);
  ConnectRequest without = with;
  without.read_only.reset();
  expectRoundTrip(without);
  EXPECT_EQ(encodeToString(with).size(), 45u);
  EXPECT_EQ(encodeToString(without).size(), 44u);
  // A truncated record (not just a missing trailing byte) fails.
  std::string bytes = encodeToString(without);
  for (size_t n = 0; n < bytes.size(); ++n) {
    ConnectRequest decoded;
    EXPECT_FALSE(decodeFrom(std::string_view(bytes).substr(0, n), decoded)) << n;
  }
  // Null password is accepted as empty.
  std::string null_pw = unhex("00000000 0000000000000000 00002710 0000000000000000 ffffffff");
  ConnectRequest decoded;
  ASSERT_TRUE(decodeFrom(null_pw, decoded));
  EXPECT_EQ(decoded.passwd, "");
  EXPECT_FALSE(decoded.read_only.has_value());
}

TEST(ClientRecords, ConnectResponseReadOnlyByteIsOptional) {
  ConnectResponse with{0, 10000, 0x0100000c7ff30000LL, std::string(16, '\x42'), false};
  expectRoundTrip(with);
  EXPECT_EQ(encodeToString(with).size(), 37u);
  ConnectResponse without = with;
  without.read_only.reset();
  expectRoundTrip(without);
  EXPECT_EQ(encodeToString(without).size(), 36u);
}

TEST(ClientRecords, RequestsRoundTrip) {
  expectRoundTrip(CreateRequest{"/a/b", std::string("data"), sampleAcls(), false, 3});
  expectRoundTrip(CreateRequest{"/a", std::nullopt, openAclUnsafe(), false, 0});
  expectRoundTrip(CreateRequest{"/a", std::string(), {}, true, 0});
  expectRoundTrip(CreateRequest{"/a", std::string(), {}, false, 0});
  expectRoundTrip(CreateTtlRequest{"/t", std::string("x"), openAclUnsafe(), false, 5, 600000});
  expectRoundTrip(CreateTtlRequest{"/t", std::nullopt, {}, true, 6, -1});
  expectRoundTrip(DeleteRequest{"/a", -1});
  expectRoundTrip(ExistsRequest{"/a", true});
  expectRoundTrip(GetDataRequest{"/a", false});
  expectRoundTrip(SetDataRequest{"/a", std::string("\0\1\2", 3), 4});
  expectRoundTrip(SetDataRequest{"/a", std::nullopt, -1});
  expectRoundTrip(GetAclRequest{"/a"});
  expectRoundTrip(SetAclRequest{"/a", sampleAcls(), false, 2});
  expectRoundTrip(SetAclRequest{"/a", {}, true, -1});
  expectRoundTrip(GetChildrenRequest{"/", true});
  expectRoundTrip(GetChildren2Request{"/x", false});
  expectRoundTrip(SyncRequest{"bad//"});
  expectRoundTrip(CheckVersionRequest{"/a", 9});
  expectRoundTrip(CheckWatchesRequest{"/a", 3});
  expectRoundTrip(RemoveWatchesRequest{"/a", 1});
  expectRoundTrip(GetEphemeralsRequest{"/e"});
  expectRoundTrip(GetAllChildrenNumberRequest{"/"});
  expectRoundTrip(AddWatchRequest{"/w", 1});
  expectRoundTrip(AuthPacket{0, "digest", "user:pass"});
  expectRoundTrip(SetWatches{0x100000004LL, {"/d1", "/d2"}, {"/e"}, {}});
  expectRoundTrip(SetWatches2{7, {"/d"}, {}, {"/c"}, {"/p1", "/p2"}, {"/r"}});
  expectRoundTrip(GetSaslRequest{std::string("tok")});
  expectRoundTrip(GetSaslRequest{std::nullopt});
  expectRoundTrip(ReconfigRequest{std::nullopt, std::string("3"), std::nullopt, -1});
  expectRoundTrip(ReconfigRequest{std::string(""), std::nullopt, std::string("server.1=a:1:2"), 5});

  expectTruncationFails(CreateRequest{"/a/b", std::string("data"), sampleAcls(), false, 3});
  expectTruncationFails(CreateTtlRequest{"/t", std::string("x"), openAclUnsafe(), false, 5, 1});
  expectTruncationFails(SetWatches2{7, {"/d"}, {}, {"/c"}, {"/p1", "/p2"}, {"/r"}});
  expectTruncationFails(ReconfigRequest{std::nullopt, std::string("3"), std::nullopt, -1});
}

TEST(ClientRecords, NullFieldsInRequests) {
  // create with null data and a null ACL list: both distinguishable after decode.
  std::string in = unhex("00000002 2f61 ffffffff ffffffff 00000000");
  CreateRequest req;
  ASSERT_TRUE(decodeFrom(in, req));
  EXPECT_EQ(req.path, "/a");
  EXPECT_FALSE(req.data.has_value());
  EXPECT_TRUE(req.acl_null);
  EXPECT_TRUE(req.acl.empty());
  EXPECT_EQ(encodeToString(req), in);
  // A null path reads as "" (the server answers both alike).
  std::string null_path = unhex("ffffffff");
  GetEphemeralsRequest eph{"stale"};
  ASSERT_TRUE(decodeFrom(null_path, eph));
  EXPECT_EQ(eph.prefix_path, "");
  // SetWatches2 without the persistent vectors is malformed.
  std::string short_sw2 = encodeToString(SetWatches{1, {"/a"}, {}, {}});
  SetWatches2 sw2;
  EXPECT_FALSE(decodeFrom(short_sw2, sw2));
}

TEST(ClientRecords, ResponsesRoundTrip) {
  expectRoundTrip(CreateResponse{"/a/s-0000000001"});
  expectRoundTrip(Create2Response{"/c", sampleStat()});
  expectRoundTrip(ExistsResponse{sampleStat()});
  expectRoundTrip(GetDataResponse{std::string("hello"), sampleStat()});
  expectRoundTrip(GetDataResponse{std::nullopt, sampleStat()});
  expectRoundTrip(GetDataResponse{std::string(), sampleStat()});
  expectRoundTrip(SetDataResponse{sampleStat()});
  expectRoundTrip(GetAclResponse{sampleAcls(), sampleStat()});
  expectRoundTrip(SetAclResponse{sampleStat()});
  expectRoundTrip(GetChildrenResponse{{"a", "b", "c"}});
  expectRoundTrip(GetChildrenResponse{{}});
  expectRoundTrip(GetChildren2Response{{"x"}, sampleStat()});
  expectRoundTrip(SyncResponse{"/"});
  expectRoundTrip(GetEphemeralsResponse{{"/e1", "/e2"}});
  expectRoundTrip(GetAllChildrenNumberResponse{42});
  expectRoundTrip(ErrorResponse{Code::kOk});
  expectRoundTrip(ErrorResponse{Code::kNoNode});
  expectRoundTrip(WhoAmIResponse{{{"ip", "127.0.0.1"}, {"digest", "user"}}});
  expectRoundTrip(SetSaslResponse{std::nullopt});
  expectRoundTrip(SetSaslResponse{std::string("t")});
  expectRoundTrip(WatcherEvent{EventType::kNodeDataChanged, KeeperState::kSyncConnected, "/w/c"});
  expectTruncationFails(GetDataResponse{std::nullopt, sampleStat()});
  expectTruncationFails(WhoAmIResponse{{{"ip", "127.0.0.1"}}});
  // addWatch's reply body is four zero bytes.
  EXPECT_EQ(hex(encodeToString(ErrorResponse{})), "00000000");
  // The notification example of client-protocol.md §10.
  std::string frame;
  encodeNotificationFrame(frame, {EventType::kNodeDataChanged, KeeperState::kSyncConnected, "/w/c"});
  EXPECT_EQ(hex(frame), "00000020" "ffffffff" "ffffffffffffffff" "00000000" "00000003" "00000003"
                        "00000004" "2f772f63");
}

MultiRequest sampleWriteMulti() {
  MultiRequest m;
  m.ops.push_back({OpCode::kCreate, CreateRequest{"/m/a", std::string("x"), openAclUnsafe(), false, 0}});
  m.ops.push_back({OpCode::kCreate2, CreateRequest{"/m/b", std::nullopt, openAclUnsafe(), false, 2}});
  m.ops.push_back({OpCode::kCreateContainer, CreateRequest{"/m/c", std::string(), openAclUnsafe(), false, 4}});
  m.ops.push_back({OpCode::kCreateTtl, CreateTtlRequest{"/m/t", std::string("t"), openAclUnsafe(), false, 5, 1000}});
  m.ops.push_back({OpCode::kDelete, DeleteRequest{"/m/d", -1}});
  m.ops.push_back({OpCode::kSetData, SetDataRequest{"/m", std::string("v"), 3}});
  m.ops.push_back({OpCode::kCheck, CheckVersionRequest{"/m", 4}});
  return m;
}

TEST(Multi, RequestRoundTrip) {
  MultiRequest m = sampleWriteMulti();
  expectRoundTrip(m);
  EXPECT_EQ(m.kind(), MultiKind::kWrite);
  expectTruncationFails(m);

  MultiRequest reads;
  reads.ops.push_back({OpCode::kGetData, GetDataRequest{"/a", true}});
  reads.ops.push_back({OpCode::kGetChildren, GetChildrenRequest{"/", false}});
  expectRoundTrip(reads);
  EXPECT_EQ(reads.kind(), MultiKind::kRead);

  MultiRequest empty;
  expectRoundTrip(empty);
  EXPECT_EQ(hex(encodeToString(empty)), "ffffffff01ffffffff");
  EXPECT_EQ(empty.kind(), MultiKind::kEmpty);
}

TEST(Multi, RequestRejectsMalformed) {
  auto header = [](int32_t type, bool done, int32_t err) {
    return encodeToString(MultiHeader{static_cast<OpCode>(type), done, err});
  };
  std::string create = encodeToString(CreateRequest{"/a", std::nullopt, openAclUnsafe(), false, 0});
  std::string get = encodeToString(GetDataRequest{"/a", false});
  MultiRequest m;
  // Unsupported sub-op type (sync).
  EXPECT_FALSE(decodeFrom(header(9, false, -1) + encodeToString(SyncRequest{"/a"}) +
                              header(-1, true, -1), m));
  // Mixed read and write.
  EXPECT_FALSE(decodeFrom(header(1, false, -1) + create + header(4, false, -1) + get +
                              header(-1, true, -1), m));
  EXPECT_FALSE(decodeFrom(header(4, false, -1) + get + header(1, false, -1) + create +
                              header(-1, true, -1), m));
  // Missing terminator, truncated op.
  EXPECT_FALSE(decodeFrom(header(1, false, -1) + create, m));
  EXPECT_FALSE(decodeFrom(header(1, false, -1) + create.substr(0, 5), m));
  EXPECT_FALSE(decodeFrom("", m));
  // Any header with done=true ends the list, whatever its type/err (as in ZooKeeper).
  ASSERT_TRUE(decodeFrom(header(1, false, -1) + create + header(7, true, 0), m));
  EXPECT_EQ(m.ops.size(), 1u);
  ASSERT_TRUE(std::holds_alternative<CreateRequest>(m.ops[0].op));
  EXPECT_EQ(std::get<CreateRequest>(m.ops[0].op).path, "/a");
}

TEST(Multi, ResponseRoundTrip) {
  MultiResponse ok;
  ok.results = {MultiResult::create("/a"), MultiResult::create2("/c", sampleStat()),
                MultiResult::remove(), MultiResult::check(), MultiResult::setData(sampleStat())};
  expectRoundTrip(ok);
  expectTruncationFails(ok);
  MultiResponse reads;
  reads.results = {MultiResult::getData(std::nullopt, sampleStat()),
                   MultiResult::getChildren({"x", "y"}), MultiResult::error(Code::kNoNode)};
  expectRoundTrip(reads);
  MultiResponse failed;
  failed.results = {MultiResult::error(Code::kOk), MultiResult::error(Code::kNoNode),
                    MultiResult::error(Code::kRuntimeInconsistency)};
  expectRoundTrip(failed);
  EXPECT_EQ(hex(encodeToString(failed)),
            "ffffffff0000000000" "00000000"
            "ffffffff00ffffff9b" "ffffff9b"
            "ffffffff00fffffffe" "fffffffe"
            "ffffffff01ffffffff");
  MultiResponse bad;
  EXPECT_FALSE(decodeFrom(unhex("00000009 00 00000000 ffffffff01ffffffff"), bad));
}

TEST(TxnRecords, RoundTrip) {
  expectRoundTrip(FileHeader{kTxnLogMagic, 2, 0});
  expectRoundTrip(FileHeader{kSnapshotMagic, 2, -1});
  expectRoundTrip(TxnHeader{0x0100000c7ff30000LL, 5, 0x100000007LL, 1700000000000LL, OpCode::kCreate});
  expectRoundTrip(TxnDigest{2, 1371985504});
  expectRoundTrip(CreateTxn{"/a", std::string("d"), openAclUnsafe(), true, 4});
  expectRoundTrip(CreateTxn{"/a", std::nullopt, openAclUnsafe(), false, -1});
  expectRoundTrip(CreateContainerTxn{"/c", std::string(), openAclUnsafe(), 2});
  expectRoundTrip(CreateTtlTxn{"/t", std::string("t"), openAclUnsafe(), 3, 600000});
  expectRoundTrip(DeleteTxn{"/d"});
  expectRoundTrip(SetDataTxn{"/s", std::nullopt, 2});
  expectRoundTrip(SetAclTxn{"/s", sampleAcls(), 1});
  expectRoundTrip(CheckVersionTxn{"/s", 3});
  expectRoundTrip(ErrorTxn{Code::kNodeExists});
  expectRoundTrip(CreateSessionTxn{10000});
  expectRoundTrip(CloseSessionTxn{{"/e1", "/e2"}, false});
  expectRoundTrip(CloseSessionTxn{});
  expectRoundTrip(Txn{OpCode::kDelete, encodeToString(DeleteTxn{"/x"})});
  MultiTxn multi{{makeTxn(OpCode::kCreate, CreateTxn{"/m", std::string("x"), openAclUnsafe(), false, 1}),
                  makeTxn(OpCode::kError, ErrorTxn{Code::kNoNode}),
                  makeTxn(OpCode::kError, ErrorTxn{Code::kRuntimeInconsistency})}};
  expectRoundTrip(multi);
  expectTruncationFails(multi);
  expectTruncationFails(CreateTtlTxn{"/t", std::string("t"), openAclUnsafe(), 3, 600000});
  expectTruncationFails(TxnHeader{1, 2, 3, 4, OpCode::kDelete});

  TxnBody body;
  ASSERT_TRUE(decodeSubTxn(multi.txns[0], body));
  EXPECT_EQ(std::get<CreateTxn>(body).path, "/m");
  ASSERT_TRUE(decodeSubTxn(multi.txns[1], body));
  EXPECT_EQ(std::get<ErrorTxn>(body).err, Code::kNoNode);
  EXPECT_FALSE(decodeSubTxn(Txn{OpCode::kSetAcl, encodeToString(SetAclTxn{"/a", {}, 1})}, body));
  EXPECT_FALSE(decodeSubTxn(Txn{OpCode::kCreate, std::string(2, '\0')}, body));
}

TEST(TxnRecords, EntryRoundTrip) {
  const TxnHeader h{0x0100000c7ff30000LL, 1, 0x100000002LL, 1700000000000LL, OpCode::kCreate};
  std::vector<TxnEntry> entries = {
      {h, CreateTxn{"/a", std::string("d"), openAclUnsafe(), false, 1}, TxnDigest{2, 123}},
      {{1, 0, 2, 3, OpCode::kCreateSession}, CreateSessionTxn{4000}, TxnDigest{2, 5}},
      {{1, 0, 2, 3, OpCode::kCloseSession}, CloseSessionTxn{{"/e"}, false}, TxnDigest{2, 5}},
      {{1, 0, 2, 3, OpCode::kCreate2}, CreateTxn{"/b", std::nullopt, openAclUnsafe(), false, 2}, std::nullopt},
      {{1, 0, 2, 3, OpCode::kCreateContainer}, CreateContainerTxn{"/c", "", openAclUnsafe(), 2}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kCreateTtl}, CreateTtlTxn{"/t", "", openAclUnsafe(), 2, 9}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kDelete}, DeleteTxn{"/d"}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kDeleteContainer}, DeleteTxn{"/d"}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kSetData}, SetDataTxn{"/s", "v", 1}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kReconfig}, SetDataTxn{"/zookeeper/config", "server.1=x", -1}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kSetAcl}, SetAclTxn{"/s", sampleAcls(), 1}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kCheck}, CheckVersionTxn{"/s", 1}, TxnDigest{}},
      {{1, 0, 2, 3, OpCode::kError}, ErrorTxn{Code::kNoNode}, std::nullopt},
      {{1, 0, 2, 3, OpCode::kMulti}, MultiTxn{{makeTxn(OpCode::kDelete, DeleteTxn{"/x"})}}, TxnDigest{}},
  };
  for (const TxnEntry& e : entries) expectRoundTrip(e);
  // Unknown txn types are rejected.
  TxnEntry bad;
  EXPECT_FALSE(decodeFrom(encodeToString(TxnHeader{1, 0, 2, 3, OpCode::kGetData}) + std::string(4, '\0'), bad));
}

TEST(TxnRecords, LegacyBodies) {
  // CreateTxnV0: no parentCVersion (and no digest) → parentCVersion -1.
  std::string v0;
  JuteWriter w(v0);
  encode(w, TxnHeader{1, 2, 3, 4, OpCode::kCreate});
  w.writeString("/old");
  w.writeOptionalBuffer(std::string("d"));
  encode(w, openAclUnsafe());
  w.writeBool(true);
  TxnEntry e;
  ASSERT_TRUE(decodeFrom(v0, e));
  const auto& create = std::get<CreateTxn>(e.body);
  EXPECT_EQ(create.path, "/old");
  EXPECT_TRUE(create.ephemeral);
  EXPECT_EQ(create.parent_cversion, -1);
  EXPECT_FALSE(e.digest.has_value());
  // The strict CreateTxn decoder (multi sub-txns, create2) does not accept it.
  CreateTxn strict;
  EXPECT_FALSE(decodeFrom(std::string_view(v0).substr(32), strict));

  // closeSession without body.
  std::string close = encodeToString(TxnHeader{1, 0, 5, 4, OpCode::kCloseSession});
  ASSERT_TRUE(decodeFrom(close, e));
  EXPECT_TRUE(std::get<CloseSessionTxn>(e.body).no_body);
  EXPECT_TRUE(std::get<CloseSessionTxn>(e.body).paths_to_delete.empty());
  EXPECT_EQ(encodeToString(e), close);

  // A partial digest (fewer than 12 bytes) counts as absent.
  std::string partial = encodeToString(TxnEntry{{1, 0, 2, 3, OpCode::kDelete}, DeleteTxn{"/d"}, std::nullopt});
  partial += std::string(11, '\x01');
  ASSERT_TRUE(decodeFrom(partial, e));
  EXPECT_FALSE(e.digest.has_value());
}

TEST(Frames, RequestAndReplyFrames) {
  std::string out;
  encodeReplyFrame(out, ReplyHeader{1, 2, Code::kOk}, CreateResponse{"/golden"});
  EXPECT_EQ(hex(out), "0000001b00000001000000000000000200000000000000072f676f6c64656e");
  out.clear();
  encodeReplyFrame(out, ReplyHeader{9, 7, Code::kNoNode});
  EXPECT_EQ(hex(out), "00000010000000090000000000000007ffffff9b");
  out.clear();
  encodeRequestFrame(out, RequestHeader{3, OpCode::kCloseSession});
  EXPECT_EQ(hex(out), "0000000800000003fffffff5");
  out.clear();
  encodeRequestFrame(out, RequestHeader{1, OpCode::kGetData}, GetDataRequest{"/a", true});
  EXPECT_EQ(hex(out), "0000000f" "00000001" "00000004" "00000002" "2f61" "01");
}

// Decoding random and mutated bytes must never crash, hang or allocate wildly.
template <typename T>
void fuzzDecode(std::mt19937& rng, const std::string& seed) {
  for (int i = 0; i < 3000; ++i) {
    std::string in = seed;
    int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations && !in.empty(); ++m) {
      switch (rng() % 4) {
        case 0: in[rng() % in.size()] = static_cast<char>(rng()); break;
        case 1: in.resize(rng() % (in.size() + 1)); break;
        case 2: in.insert(rng() % (in.size() + 1), 1, static_cast<char>(rng())); break;
        default: {
          size_t at = rng() % in.size();
          for (size_t k = at; k < in.size() && k < at + 4; ++k) in[k] = static_cast<char>(0xff);
        }
      }
    }
    T value{};
    JuteReader r(in);
    bool ok = decode(r, value);
    EXPECT_EQ(ok, r.ok());
    EXPECT_LE(r.position(), in.size());
    if (ok) (void)encodeToString(value);
  }
  for (int i = 0; i < 1000; ++i) {
    std::string in(rng() % 128, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    T value{};
    JuteReader r(in);
    (void)decode(r, value);
  }
}

TEST(Garbage, MutatedRecordsNeverCrash) {
  std::mt19937 rng(4242);
  fuzzDecode<ConnectRequest>(rng, encodeToString(ConnectRequest{0, 1, 2, 3, std::string(16, 'p'), true}));
  fuzzDecode<CreateRequest>(rng, encodeToString(CreateRequest{"/a/b", std::string("d"), sampleAcls(), false, 1}));
  fuzzDecode<SetWatches2>(rng, encodeToString(SetWatches2{1, {"/a"}, {"/b"}, {"/c"}, {"/d"}, {"/e"}}));
  fuzzDecode<MultiRequest>(rng, encodeToString(sampleWriteMulti()));
  MultiResponse resp;
  resp.results = {MultiResult::create("/a"), MultiResult::setData(sampleStat()),
                  MultiResult::error(Code::kNoNode)};
  fuzzDecode<MultiResponse>(rng, encodeToString(resp));
  fuzzDecode<GetAclResponse>(rng, encodeToString(GetAclResponse{sampleAcls(), sampleStat()}));
  fuzzDecode<WhoAmIResponse>(rng, encodeToString(WhoAmIResponse{{{"ip", "1.2.3.4"}}}));
  TxnEntry multi{{1, 2, 3, 4, OpCode::kMulti},
                 MultiTxn{{makeTxn(OpCode::kCreate, CreateTxn{"/m", std::string("x"), openAclUnsafe(), false, 1}),
                           makeTxn(OpCode::kDelete, DeleteTxn{"/d"})}},
                 TxnDigest{2, 99}};
  fuzzDecode<TxnEntry>(rng, encodeToString(multi));
  fuzzDecode<TxnEntry>(rng, encodeToString(TxnEntry{{1, 2, 3, 4, OpCode::kCloseSession},
                                                    CloseSessionTxn{{"/e1", "/e2"}, false},
                                                    TxnDigest{2, 1}}));
}

TEST(Garbage, HostileLengthsFailFast) {
  // A create whose ACL vector claims 2^31-1 entries, a path claiming 2 GB, a negative length.
  CreateRequest req;
  EXPECT_FALSE(decodeFrom(unhex("00000002 2f61 ffffffff 7fffffff 00000000"), req));
  EXPECT_FALSE(decodeFrom(unhex("7fffffff 2f61"), req));
  EXPECT_FALSE(decodeFrom(unhex("fffffff9 2f61"), req));
  // A path longer than the configured limit (jute.maxbuffer) inside a big enough input.
  std::string big = encodeToString(GetDataRequest{std::string(5000, 'a'), false});
  GetDataRequest get;
  EXPECT_TRUE(decodeFrom(big, get));
  EXPECT_FALSE(decodeFrom(big, get, 4096));
  // MultiTxn with a huge count.
  MultiTxn multi;
  EXPECT_FALSE(decodeFrom(unhex("40000000 00000001 00000000"), multi));
  // WhoAmI with a huge count.
  WhoAmIResponse who;
  EXPECT_FALSE(decodeFrom(unhex("10000000 00000000 00000000"), who));
}

}  // namespace
}  // namespace corral::sdk
