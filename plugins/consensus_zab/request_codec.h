// The data of a REQUEST packet (quorum-protocol.md §10): long sessionId, int cxid, int type,
// then the request body exactly as the client sent it; createSession carries its int timeout,
// closeSession nothing. Learners encode what the kernel forwards; the leader decodes it back
// into the kernel's ForwardedRequest, with the body decoded as the jute front end decodes a
// client's (an undecodable body becomes a request the kernel answers with MarshallingError).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corral/consensus.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {

QuorumPacket encodeRequestPacket(const sdk::ForwardedRequest& request);
// nullopt when the data is too short for its 16-byte header (the learner is then dropped).
std::optional<sdk::ForwardedRequest> decodeRequestPacket(const QuorumPacket& packet, int32_t max_length);
// Only the op of a REQUEST packet, read from its header without decoding the body (an
// observer master relays the packet as it came); nullopt when the header is short.
std::optional<sdk::OpCode> requestPacketOp(const QuorumPacket& packet);

// PING reply data: {long session, int timeout}* with no count.
std::string encodeTouches(const std::vector<sdk::SessionTouch>& touches);
std::vector<sdk::SessionTouch> decodeTouches(std::string_view data);

}  // namespace corral::plugins::zab
