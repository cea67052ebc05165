// The learner <-> leader transport on the quorum port, as ZooKeeper 3.8 writes it
// (quorum-protocol.md §5): back-to-back jute QuorumPacket records with no length prefix, and the
// records carried inside them (LearnerInfo). Pure codecs: no sockets, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::zab {

// Leader.java packet type constants.
enum class PacketType : int32_t {
  kRequest = 1,
  kProposal = 2,
  kAck = 3,
  kCommit = 4,
  kPing = 5,
  kRevalidate = 6,
  kSync = 7,
  kInform = 8,
  kCommitAndActivate = 9,
  kNewLeader = 10,
  kFollowerInfo = 11,
  kUpToDate = 12,
  kDiff = 13,
  kTrunc = 14,
  kSnap = 15,
  kObserverInfo = 16,
  kLeaderInfo = 17,
  kAckEpoch = 18,
  kInformAndActivate = 19,
};

// The name ZooKeeper's LearnerHandler.packetToString gives a type ("UNKNOWN<n>" otherwise).
std::string packetTypeName(int32_t type);

struct QuorumPacket {
  int32_t type = 0;
  sdk::Zxid zxid = 0;
  std::optional<std::string> data;          // nullopt: written as -1 (null)
  std::optional<std::vector<sdk::Id>> authinfo;  // nullopt: -1 (every packet but REQUEST)
  friend bool operator==(const QuorumPacket&, const QuorumPacket&) = default;
};

// A packet as a leader or learner sends it: authinfo null (only REQUEST carries auth ids).
inline QuorumPacket makePacket(PacketType type, sdk::Zxid zxid, std::optional<std::string> data = std::nullopt) {
  return QuorumPacket{static_cast<int32_t>(type), zxid, std::move(data), std::nullopt};
}

std::string encodePacket(const QuorumPacket& packet);

// The first complete packet in `bytes` (nullopt while more bytes are needed), `consumed` its
// size. A data buffer longer than `max_data` (jute.maxbuffer on the peer side), a negative
// length other than -1, or more than 1024 auth ids is kCorruptData: the peer is dropped.
sdk::Result<std::optional<QuorumPacket>> decodePacket(std::string_view bytes, size_t& consumed, size_t max_data);

// LearnerInfo { long serverid; int protocolVersion; long configVersion; } (FOLLOWERINFO and
// OBSERVERINFO data). 3.8 learners send protocolVersion 0x10000.
inline constexpr int32_t kProtocolVersion = 0x10000;

struct LearnerInfo {
  int64_t server_id = 0;
  int32_t protocol_version = kProtocolVersion;
  int64_t config_version = 0;
  friend bool operator==(const LearnerInfo&, const LearnerInfo&) = default;
};

// The string that ends the snapshot a leader streams after SNAP (Leader's "signature").
inline constexpr std::string_view kSnapshotSignature = "BenWasHere";

std::string encodeLearnerInfo(const LearnerInfo& info);

// COMMITANDACTIVATE's data is the designated leader's sid (a long); INFORMANDACTIVATE's is
// that sid followed by the txn, as INFORM carries it.
std::string activationData(int64_t designated_leader, std::string_view txn = {});
// The designated sid and the rest of the data; nullopt when shorter than a long.
std::optional<std::pair<int64_t, std::string_view>> decodeActivation(std::string_view data);
// Older learners send the sid alone (8 bytes) or sid + protocol version (12): those fields
// default as the leader reads them.
sdk::Result<LearnerInfo> decodeLearnerInfo(std::string_view data);

}  // namespace corral::plugins::zab
