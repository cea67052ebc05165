// Fast leader election on the election port, as ZooKeeper 3.8's QuorumCnxManager and
// FastLeaderElection put it on the wire (quorum-protocol.md §3-§4): the initial message a
// connecting peer sends once, the int32-length framing of every later message, and the
// notification (vote) those frames carry, with the member list as QuorumMaj.toString prints it.
// Pure codecs: no sockets, no state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "corral/consensus.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::plugins::zab {

// ---- initial message (initiator -> acceptor, once, unframed) ----------------------------------

inline constexpr int64_t kProtocolVersionV1 = -65536;  // 0xffffffffffff0000: one address
inline constexpr int64_t kProtocolVersionV2 = -65535;  // addresses joined by '|' (multiAddress)
inline constexpr int32_t kMaxInitialAddressBytes = 2048;

struct InitialMessage {
  int64_t sid = 0;
  std::string addresses;  // "host:port" (V1), "h1:p1|h2:p2" (V2), "" (legacy: sid only)
  int64_t protocol_version = kProtocolVersionV1;
};

std::string encodeInitialMessage(const InitialMessage& message);

// Decoding from the bytes received so far: the message, or nullopt while more bytes are
// needed; kCorruptData when they can never form one (an unknown version, a length outside
// 1..2048). `consumed` is how many bytes the message took (the first frame follows).
sdk::Result<std::optional<InitialMessage>> decodeInitialMessage(std::string_view bytes, size_t& consumed);

// ---- framing of every later message ---------------------------------------------------------

inline constexpr int32_t kMaxFrameBytes = 512 * 1024;  // QuorumCnxManager.PACKETMAXSIZE

std::string frame(std::string_view payload);
// The payload of the first complete frame in `bytes`, or nullopt while incomplete;
// kCorruptData for a length outside 1..512 KiB (the peer's connection is then closed).
sdk::Result<std::optional<std::string_view>> unframe(std::string_view bytes, size_t& consumed);

// ---- notifications ---------------------------------------------------------------------------

enum class ServerState : int32_t { kLooking = 0, kFollowing = 1, kLeading = 2, kObserving = 3 };

inline constexpr int32_t kNotificationVersion = 2;  // FastLeaderElection CURRENTVERSION in 3.8
// An observer's vote: leader, zxid and peer epoch all Long.MIN_VALUE (never wins, never counts).
inline constexpr int64_t kObserverVote = INT64_MIN;

struct Notification {
  ServerState state = ServerState::kLooking;
  int64_t leader = 0;          // proposed (or current) leader sid
  sdk::Zxid zxid = 0;          // the proposed leader's last zxid
  int64_t election_epoch = 0;  // the sender's round (logical clock)
  int64_t peer_epoch = 0;      // the proposed leader's epoch
  int32_t version = kNotificationVersion;
  std::string config;          // QuorumVerifier text (version > 1 only)
  friend bool operator==(const Notification&, const Notification&) = default;
};

// The 44 + config bytes 3.8 always sends.
std::string encodeNotification(const Notification& notification);
// A received payload by its size, as 3.8 reads one: < 28 ignored (nullopt); 28: no peer epoch
// (taken from the zxid's epoch) and version 0; 40: peer epoch, version 0; else version and, for
// version > 1, the config (its length must fit). A state outside 0..3 or a config length that
// does not fit is kCorruptData (the notification is dropped).
sdk::Result<std::optional<Notification>> decodeNotification(std::string_view payload);

// FastLeaderElection.totalOrderPredicate: does the vote (id, zxid, epoch) beat the current one?
// Higher epoch, then higher zxid, then higher sid. (A candidate without voting weight never
// wins; the caller checks membership.)
bool voteBeats(int64_t new_id, sdk::Zxid new_zxid, int64_t new_epoch, int64_t cur_id, sdk::Zxid cur_zxid,
               int64_t cur_epoch);

}  // namespace corral::plugins::zab
