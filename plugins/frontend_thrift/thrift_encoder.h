// Replies of the Corral Thrift service: the kernel's protocol-neutral answers
// (sdk::ClientResponse, sdk::ConnectResponse) → framed Thrift messages (a 4-byte length, then
// the message), appended to the connection's output buffer. Every result and ZkError carries the
// watch events the client must see first (corral.thrift's ordering rule). No I/O; one instance
// per connection, used under its reply lock.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "corral/client_records.h"
#include "corral/frontend.h"
#include "thrift_call.h"
#include "thrift_settings.h"

namespace corral::plugins::thrift {

class ThriftEncoder {
 public:
  virtual ~ThriftEncoder() = default;
  // The kernel's answer to `call`: its result, or a ZkError with the call's path (exists on a
  // missing node is a result without a Stat; a failed multi names its first failing op).
  // `events` are written in it and left empty.
  virtual void appendReply(std::string& out, const Call& call, sdk::ClientResponse& response,
                           std::vector<sdk::WatcherEvent>& events) = 0;
  // openSession's answer: SessionInfo, or ZkError SESSIONEXPIRED when `session_refused`.
  virtual void appendSession(std::string& out, const Call& call, const sdk::ConnectResponse& response,
                             bool session_refused, sdk::Zxid zxid) = 0;
  // A ZkError the front end answers itself (a call before openSession, a second openSession).
  virtual void appendError(std::string& out, const Call& call, sdk::Code code, std::string_view message,
                           sdk::Zxid zxid, std::vector<sdk::WatcherEvent>& events) = 0;
  // A TApplicationException (unknown method, arguments that do not decode).
  virtual void appendApplicationError(std::string& out, std::string_view name, int32_t seqid, int type,
                                      const std::string& message) = 0;
};

std::unique_ptr<ThriftEncoder> makeEncoder(WireProtocol protocol);

// A bound on what an event costs in a reply, for the output limits (the path, the field
// headers and the two enums).
inline int64_t eventCost(const sdk::WatcherEvent& event) noexcept {
  return static_cast<int64_t>(event.path.size()) + 24;
}

}  // namespace corral::plugins::thrift
