// Turns one client request frame payload (the bytes after `int32 len`) into a protocol-neutral
// sdk::ClientRequest. No sockets here: the fuzz target drives this directly.
//
// ZooKeeper decodes the body late (in its request processors), so an undecodable body is not a
// connection error: it becomes a request with decode_error = MarshallingError that the kernel
// answers in FIFO order (client-protocol.md §1). Only a payload too short for the RequestHeader
// closes the connection.
#pragma once

#include <cstdint>
#include <string_view>

#include "corral/frontend.h"

namespace corral::plugins::jute {

// Returns false when the RequestHeader itself cannot be read (the caller closes the connection
// without a reply). Otherwise fills `out`: xid and op verbatim, the body decoded by op, or
// decode_error set (and body empty) when the body is malformed. `max_length` bounds every
// string/buffer inside the record (jute.maxbuffer). Never throws except std::bad_alloc.
bool decodeRequestFrame(std::string_view payload, int32_t max_length, sdk::ClientRequest& out);

}  // namespace corral::plugins::jute
