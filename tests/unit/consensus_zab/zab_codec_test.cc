// The ZAB wire codecs against the bytes Apache ZooKeeper 3.8.0 was seen sending
// (quorum-protocol.md §3-§5), plus partial input and hostile lengths.
#include <gtest/gtest.h>

#include <random>

#include "election_messages.h"
#include "quorum_config.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

sdk::Ensemble threePlusObserver() {
  sdk::Ensemble e;
  e.my_id = 2;
  for (int64_t id = 1; id <= 4; ++id) {
    sdk::EnsembleMember m;
    m.id = id;
    m.host = "127.0.0.1";
    m.quorum_port = static_cast<int>(26099 + id);
    m.election_port = static_cast<int>(26199 + id);
    m.type = id == 4 ? sdk::PeerType::kObserver : sdk::PeerType::kParticipant;
    e.members.push_back(m);
  }
  // Listed out of order on purpose: the text is in ascending id order.
  std::swap(e.members[0], e.members[3]);
  return e;
}

TEST(ElectionInitialMessage, MatchesWhatZooKeeperSends) {
  // sid 2, election address 127.0.0.1:26201: 35 bytes, seen on 3.8.0.
  const std::string expected = unhex("ffffffffffff0000 0000000000000002 0000000f") + "127.0.0.1:26201";
  EXPECT_EQ(encodeInitialMessage({2, "127.0.0.1:26201"}), expected);
  EXPECT_EQ(expected.size(), 35u);
  // Arriving a byte at a time, with the first frame right behind it.
  const std::string stream = expected + frame("x");
  for (size_t have = 0; have < expected.size(); ++have) {
    size_t consumed = 0;
    auto partial = decodeInitialMessage(std::string_view(stream).substr(0, have), consumed);
    ASSERT_TRUE(partial.isOk());
    EXPECT_FALSE(partial->has_value()) << have;
  }
  size_t consumed = 0;
  auto whole = decodeInitialMessage(stream, consumed);
  ASSERT_TRUE(whole.isOk() && whole->has_value());
  EXPECT_EQ((*whole)->sid, 2);
  EXPECT_EQ((*whole)->addresses, "127.0.0.1:26201");
  EXPECT_EQ(consumed, 35u);
}

TEST(ElectionInitialMessage, LegacyAndHostileForms) {
  size_t consumed = 0;
  auto legacy = decodeInitialMessage(unhex("0000000000000007"), consumed);
  ASSERT_TRUE(legacy.isOk() && legacy->has_value());
  EXPECT_EQ((*legacy)->sid, 7);
  EXPECT_EQ(consumed, 8u);
  EXPECT_FALSE(decodeInitialMessage(unhex("fffffffffffe0000 0000000000000002 00000001") + "x", consumed).isOk())
      << "unknown protocol version";
  EXPECT_FALSE(decodeInitialMessage(unhex("ffffffffffff0000 0000000000000002 00000801"), consumed).isOk())
      << "address longer than 2048";
  EXPECT_FALSE(decodeInitialMessage(unhex("ffffffffffff0000 0000000000000002 00000000"), consumed).isOk());
  EXPECT_FALSE(decodeInitialMessage(unhex("ffffffffffff0000 0000000000000002 ffffffff"), consumed).isOk());
}

TEST(ElectionFraming, LengthsOutsideTheLimitAreRefused) {
  size_t consumed = 0;
  const std::string framed = frame("abc");
  EXPECT_EQ(framed, unhex("00000003") + "abc");
  auto partial = unframe(std::string_view(framed).substr(0, 5), consumed);
  ASSERT_TRUE(partial.isOk());
  EXPECT_FALSE(partial->has_value());
  auto whole = unframe(framed + "next", consumed);
  ASSERT_TRUE(whole.isOk() && whole->has_value());
  EXPECT_EQ(**whole, "abc");
  EXPECT_EQ(consumed, 7u);
  EXPECT_FALSE(unframe(unhex("00080001"), consumed).isOk()) << "over 512 KiB";
  EXPECT_FALSE(unframe(unhex("00000000"), consumed).isOk());
  EXPECT_FALSE(unframe(unhex("ffffffff"), consumed).isOk());
}

TEST(ElectionConfigText, MatchesQuorumMajToString) {
  // The 178-byte text 3.8.0 sent with 3 participants and an observer on 127.0.0.1.
  const std::string expected =
      "server.1=127.0.0.1:26100:26200:participant\nserver.2=127.0.0.1:26101:26201:participant\n"
      "server.3=127.0.0.1:26102:26202:participant\nserver.4=127.0.0.1:26103:26203:observer\nversion=0";
  EXPECT_EQ(QuorumConfig(threePlusObserver().members, 0).toString(), expected);
  EXPECT_EQ(expected.size(), 178u);
  sdk::Ensemble with_client = threePlusObserver();
  with_client.members[1].client_host = "127.0.0.1";
  with_client.members[1].client_port = 2182;
  EXPECT_NE(QuorumConfig(with_client.members, 0).toString().find("server.2=127.0.0.1:26101:26201:participant;127.0.0.1:2182\n"),
            std::string::npos);
}

TEST(ElectionNotification, FullFormRoundTripsAndSizesAreReadAs38Does) {
  Notification n;
  n.state = ServerState::kLeading;
  n.leader = 3;
  n.zxid = 0x100000029;
  n.election_epoch = 2;
  n.peer_epoch = 2;
  n.config = QuorumConfig(threePlusObserver().members, 0).toString();
  const std::string bytes = encodeNotification(n);
  EXPECT_EQ(bytes.size(), 222u) << "every frame seen on 3.8.0 with this config was len=222";
  EXPECT_EQ(bytes.substr(0, 12), unhex("00000002 0000000000000003"));
  auto back = decodeNotification(bytes);
  ASSERT_TRUE(back.isOk() && back->has_value());
  EXPECT_EQ(**back, n);
  // 28 bytes: no peer epoch (from the zxid), version 0.
  auto old28 = decodeNotification(bytes.substr(0, 28));
  ASSERT_TRUE(old28.isOk() && old28->has_value());
  EXPECT_EQ((*old28)->peer_epoch, 1);
  EXPECT_EQ((*old28)->version, 0);
  auto old40 = decodeNotification(bytes.substr(0, 40));
  ASSERT_TRUE(old40.isOk() && old40->has_value());
  EXPECT_EQ((*old40)->peer_epoch, 2);
  EXPECT_TRUE((*old40)->config.empty());
  auto tiny = decodeNotification(bytes.substr(0, 27));
  ASSERT_TRUE(tiny.isOk());
  EXPECT_FALSE(tiny->has_value()) << "< 28 bytes is ignored";
  std::string bad_state = bytes;
  bad_state[3] = 9;
  EXPECT_FALSE(decodeNotification(bad_state).isOk());
  std::string long_config = bytes;
  long_config[43] = static_cast<char>(0xff);  // config length beyond the payload
  EXPECT_FALSE(decodeNotification(long_config).isOk());
}

TEST(ElectionVoteOrder, EpochThenZxidThenSid) {
  EXPECT_TRUE(voteBeats(1, 0, 2, 3, 0x100000029, 1)) << "a higher epoch wins";
  EXPECT_TRUE(voteBeats(1, 0x10000002a, 1, 3, 0x100000029, 1)) << "then a higher zxid";
  EXPECT_TRUE(voteBeats(3, 5, 1, 2, 5, 1)) << "then the higher sid";
  EXPECT_FALSE(voteBeats(2, 5, 1, 3, 5, 1));
  EXPECT_FALSE(voteBeats(3, 5, 1, 3, 5, 1)) << "an equal vote does not beat";
}

TEST(QuorumPacketCodec, ShapesSeenOn380) {
  // ACK: data and authinfo null, 20 bytes.
  QuorumPacket ack{static_cast<int32_t>(PacketType::kAck), 0x100000001, std::nullopt, std::nullopt};
  EXPECT_EQ(encodePacket(ack), unhex("00000003 0000000100000001 ffffffff ffffffff"));
  // A learner's PING reply with no sessions: a zero-length buffer, not null.
  QuorumPacket ping{static_cast<int32_t>(PacketType::kPing), 0x100000005, std::string(), std::nullopt};
  EXPECT_EQ(encodePacket(ping), unhex("00000005 0000000100000005 00000000 ffffffff"));
  // REQUEST with the connection's auth ids.
  QuorumPacket request{static_cast<int32_t>(PacketType::kRequest), -1, std::string("body"),
                       std::vector<sdk::Id>{{"ip", "127.0.0.1"}}};
  const std::string bytes = encodePacket(request);
  EXPECT_EQ(bytes, unhex("00000001 ffffffffffffffff 00000004") + "body" + unhex("00000001 00000002") + "ip" +
                       unhex("00000009") + "127.0.0.1");
  // Decoded back from a stream that arrives in pieces, two packets back to back.
  const std::string stream = bytes + encodePacket(ack);
  size_t consumed = 0;
  for (size_t have = 0; have < bytes.size(); ++have) {
    auto partial = decodePacket(std::string_view(stream).substr(0, have), consumed, 1 << 20);
    ASSERT_TRUE(partial.isOk()) << have;
    EXPECT_FALSE(partial->has_value()) << have;
  }
  auto first = decodePacket(stream, consumed, 1 << 20);
  ASSERT_TRUE(first.isOk() && first->has_value());
  EXPECT_EQ(**first, request);
  auto second = decodePacket(std::string_view(stream).substr(consumed), consumed, 1 << 20);
  ASSERT_TRUE(second.isOk() && second->has_value());
  EXPECT_EQ(**second, ack);
}

TEST(QuorumPacketCodec, HostileLengthsAndGarbageAreErrorsNotCrashes) {
  size_t consumed = 0;
  EXPECT_FALSE(decodePacket(unhex("00000002 0000000000000001 7fffffff"), consumed, 1 << 20).isOk())
      << "data over the limit";
  EXPECT_FALSE(decodePacket(unhex("00000002 0000000000000001 fffffffe"), consumed, 1 << 20).isOk());
  EXPECT_FALSE(decodePacket(unhex("00000001 0000000000000001 ffffffff 00100000"), consumed, 1 << 20).isOk())
      << "a million auth ids";
  std::mt19937 random(11);
  for (int round = 0; round < 5000; ++round) {
    std::string garbage(random() % 64, '\0');
    for (auto& c : garbage) c = static_cast<char>(random());
    (void)decodePacket(garbage, consumed, 1 << 20);
    (void)decodeNotification(garbage);
    (void)decodeInitialMessage(garbage, consumed);
    (void)decodeLearnerInfo(garbage);
  }
}

TEST(LearnerInfoCodec, TwentyBytesAndOlderForms) {
  const std::string bytes = encodeLearnerInfo({3, kProtocolVersion, 0});
  EXPECT_EQ(bytes, unhex("0000000000000003 00010000 0000000000000000"));
  auto back = decodeLearnerInfo(bytes);
  ASSERT_TRUE(back.isOk());
  EXPECT_EQ(back->server_id, 3);
  EXPECT_EQ(back->protocol_version, 0x10000);
  auto sid_only = decodeLearnerInfo(bytes.substr(0, 8));
  ASSERT_TRUE(sid_only.isOk());
  EXPECT_EQ(sid_only->protocol_version, 0);
  EXPECT_FALSE(decodeLearnerInfo(bytes.substr(0, 5)).isOk());
  EXPECT_EQ(packetTypeName(15), "SNAP");
  EXPECT_EQ(packetTypeName(99), "UNKNOWN99");
}

}  // namespace
}  // namespace corral::plugins::zab
