// Appends server→client frames (`int32 len` + payload) to a connection's output buffer. The
// buffer is reused from frame to frame, so encoding allocates only when it has to grow.
#pragma once

#include <string>

#include "corral/frontend.h"

namespace corral::plugins::jute {

// ReplyHeader + body. The body is written only when err == 0 (client-protocol.md §3); a multi
// body is written whatever err says (§8: its header err is 0 even when a sub-op failed).
void appendResponseFrame(std::string& out, const sdk::ClientResponse& response);

// ReplyHeader{-1, -1, 0} + WatcherEvent (§10).
void appendEventFrame(std::string& out, const sdk::WatcherEvent& event);

// The handshake reply: a bare ConnectResponse, no ReplyHeader (§4).
void appendConnectResponseFrame(std::string& out, const sdk::ConnectResponse& response);

}  // namespace corral::plugins::jute
