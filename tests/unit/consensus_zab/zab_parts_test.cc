// consensus.zab's parts that need no peers: the epoch files (ZooKeeper's format, defaults,
// refusals), the REQUEST and PING-reply codecs, and Vote equality as FastLeaderElection counts it.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "epoch_files.h"
#include "fast_leader_election.h"
#include "packet_sender.h"
#include "request_codec.h"

namespace corral::plugins::zab {
namespace {

namespace fs = std::filesystem;

class EpochFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("zab-epochs-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const char* name) {
    std::ifstream in(dir_ / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const char* name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  fs::path dir_;
};

TEST_F(EpochFilesTest, MissingFilesDefaultToTheLogsEpochAndAreWrittenAsZooKeeperDoes) {
  EpochFiles epochs(dir_);
  ASSERT_TRUE(epochs.load(sdk::zxidOf(3, 7)).isOk());
  EXPECT_EQ(epochs.accepted(), 3);
  EXPECT_EQ(epochs.current(), 3);
  EXPECT_EQ(read("acceptedEpoch"), "3");  // ASCII decimal, no newline
  EXPECT_EQ(read("currentEpoch"), "3");
}

TEST_F(EpochFilesTest, UpdatesAreDurableAndLeaveNoTemporaryFile) {
  EpochFiles epochs(dir_);
  ASSERT_TRUE(epochs.load(0).isOk());
  ASSERT_TRUE(epochs.setAccepted(12).isOk());
  ASSERT_TRUE(epochs.setCurrent(12).isOk());
  EXPECT_EQ(read("acceptedEpoch"), "12");
  EXPECT_EQ(read("currentEpoch"), "12");
  EXPECT_FALSE(fs::exists(dir_ / "currentEpoch.tmp"));
  EpochFiles again(dir_);
  ASSERT_TRUE(again.load(sdk::zxidOf(12, 1)).isOk());
  EXPECT_EQ(again.accepted(), 12);
  EXPECT_EQ(again.current(), 12);
}

TEST_F(EpochFilesTest, RefusesGarbageAndInconsistentEpochs) {
  write("currentEpoch", "banana");
  EXPECT_EQ(EpochFiles(dir_).load(0).code(), sdk::Code::kCorruptData);
  write("currentEpoch", "5");
  write("acceptedEpoch", "4");  // accepted < current
  EXPECT_EQ(EpochFiles(dir_).load(0).code(), sdk::Code::kCorruptData);
  write("acceptedEpoch", "5");
  EXPECT_EQ(EpochFiles(dir_).load(sdk::zxidOf(6, 1)).code(), sdk::Code::kCorruptData);  // log ahead
  write("currentEpoch.tmp", "6");  // ... unless an update of currentEpoch was interrupted
  EXPECT_TRUE(EpochFiles(dir_).load(sdk::zxidOf(6, 1)).isOk());
}

TEST_F(EpochFilesTest, AcceptsTheTrailingNewlineOfAHandWrittenFile) {
  write("currentEpoch", "2\n");
  write("acceptedEpoch", "2\n");
  EpochFiles epochs(dir_);
  ASSERT_TRUE(epochs.load(sdk::zxidOf(2, 1)).isOk());
  EXPECT_EQ(epochs.current(), 2);
}

TEST(RequestCodec, AWriteRoundTripsWithItsAuthIds) {
  sdk::ForwardedRequest request;
  request.session = 0x100000abcLL;
  request.request.xid = 42;
  request.request.op = sdk::OpCode::kSetData;
  request.request.body = sdk::SetDataRequest{"/a/b", sdk::OptionalBytes(std::string("data")), 3};
  request.auth_ids = {{"ip", "127.0.0.1"}, {"digest", "u:hash"}};
  auto packet = encodeRequestPacket(request);
  EXPECT_EQ(packet.type, static_cast<int32_t>(PacketType::kRequest));
  EXPECT_EQ(packet.zxid, -1);
  auto decoded = decodeRequestPacket(packet, 1 << 20);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->session, request.session);
  EXPECT_EQ(decoded->request.xid, 42);
  EXPECT_EQ(decoded->request.op, sdk::OpCode::kSetData);
  EXPECT_EQ(std::get<sdk::SetDataRequest>(decoded->request.body).path, "/a/b");
  EXPECT_EQ(decoded->auth_ids, request.auth_ids);
}

TEST(RequestCodec, CreateSessionCarriesItsTimeoutAndNoAuthIds) {
  sdk::ForwardedRequest request;
  request.session = 0x200000001LL;
  request.request.op = sdk::OpCode::kCreateSession;
  request.session_timeout_ms = 30000;
  request.auth_ids = {{"ip", "127.0.0.1"}};
  auto packet = encodeRequestPacket(request);
  EXPECT_FALSE(packet.authinfo);  // null, as ZooKeeper's learners send it
  ASSERT_EQ(packet.data->size(), 20u);
  auto decoded = decodeRequestPacket(packet, 1 << 20);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->request.op, sdk::OpCode::kCreateSession);
  EXPECT_EQ(decoded->session_timeout_ms, 30000);
}

TEST(RequestCodec, ShortOrUndecodableBodies) {
  QuorumPacket packet{static_cast<int32_t>(PacketType::kRequest), -1, std::string(15, '\0'), std::nullopt};
  EXPECT_FALSE(decodeRequestPacket(packet, 1 << 20));  // shorter than its header: drop the peer
  std::string data(8, '\0');
  data += std::string("\0\0\0\x07\0\0\0\x05", 8);  // xid 7, setData, no body
  packet.data = data;
  auto decoded = decodeRequestPacket(packet, 1 << 20);
  ASSERT_TRUE(decoded);  // the kernel answers it with MarshallingError
  EXPECT_EQ(decoded->request.decode_error, sdk::Code::kMarshallingError);
}

TEST(RequestCodec, TheOpIsReadFromTheHeaderAlone) {
  sdk::ForwardedRequest request;
  request.session = 0x100000abcLL;
  request.request.xid = 9;
  request.request.op = sdk::OpCode::kSync;
  request.request.body = sdk::SyncRequest{"/a"};
  EXPECT_EQ(requestPacketOp(encodeRequestPacket(request)), sdk::OpCode::kSync);
  // A body that would not decode does not matter: the leader decodes it, not the relay.
  QuorumPacket packet{static_cast<int32_t>(PacketType::kRequest), -1, std::string(8, '\0'), std::nullopt};
  packet.data->append(std::string("\0\0\0\x07\0\0\0\x05\xff", 9));
  EXPECT_EQ(requestPacketOp(packet), sdk::OpCode::kSetData);
  packet.data = std::string(15, '\0');
  EXPECT_FALSE(requestPacketOp(packet));
  packet.data.reset();
  EXPECT_FALSE(requestPacketOp(packet));
}

TEST(RequestCodec, TouchesRoundTripAndAnEmptyTableIsEmptyData) {
  EXPECT_EQ(encodeTouches({}), "");
  std::vector<sdk::SessionTouch> touches{{0x100000001LL, 30000}, {0x300000002LL, 4000}};
  auto data = encodeTouches(touches);
  EXPECT_EQ(data.size(), 24u);
  auto back = decodeTouches(data);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].id, 0x300000002LL);
  EXPECT_EQ(back[1].timeout_ms, 4000);
  EXPECT_EQ(decodeTouches(data.substr(0, 20)).size(), 1u);  // a torn entry is ignored
}

TEST(VoteEquality, LookingVotesCompareEverythingSettledOnesLeaderAndEpoch) {
  Vote a{3, 0x100000005, 2, 1, ServerState::kLooking};
  Vote b = a;
  EXPECT_TRUE(sameVote(a, b));
  b.election_epoch = 3;
  EXPECT_FALSE(sameVote(a, b));
  Vote following{3, 0x0, 1, 2, ServerState::kFollowing};
  Vote leading{3, 0x100000029, 2, 2, ServerState::kLeading};
  EXPECT_TRUE(sameVote(following, leading));  // zxid and round differ: same leader, same epoch
  leading.peer_epoch = 3;
  EXPECT_FALSE(sameVote(following, leading));
  leading.version = 0;  // an old peer: the leader alone
  EXPECT_TRUE(sameVote(following, leading));
}

TEST(PacketSenderBound, APeerThatStopsReadingIsDroppedNotBufferedWithoutEnd) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  Socket ours(fds[0]);
  Socket theirs(fds[1]);  // never read
  PacketSender sender(ours);
  sender.start();
  auto chunk = std::make_shared<const std::string>(size_t{1} << 20, 'x');  // one buffer, shared
  for (int i = 0; i < 300 && !sender.failed(); ++i) sender.send(chunk);
  EXPECT_TRUE(sender.failed());  // past 256 MiB queued: the connection is dropped
  sender.stop();                 // returns: the shut-down socket unblocks the writer
}

}  // namespace
}  // namespace corral::plugins::zab
