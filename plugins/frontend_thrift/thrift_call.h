// One call of the Corral Thrift service (sdk/thrift/corral.thrift) as the front end sees it:
// which method, the client's sequence id, and what its reply needs (the path an error names,
// the ops of a multi, a ping's wait). No Thrift or Asio here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace corral::plugins::thrift {

enum class Method : uint8_t {
  kOpenSession,
  kPing,
  kCloseSession,
  kAddAuth,
  kWhoAmI,
  kCreate,
  kRemove,
  kExists,
  kGetData,
  kSetData,
  kGetChildren,
  kGetAcl,
  kSetAcl,
  kSync,
  kGetEphemerals,
  kGetAllChildrenNumber,
  kMulti,
  kMultiRead,
  kAddWatch,
  kRemoveWatches,
  kSetWatches,
};

// The IDL's method name (the Thrift message name).
std::string_view methodName(Method method) noexcept;
// nullptr when `name` is not a method of the service.
const Method* findMethod(std::string_view name) noexcept;

struct Call {
  Method method = Method::kPing;
  int32_t seqid = 0;
  std::string path;                    // the path the call names ("" for none): ZkError.path
  std::vector<std::string> op_paths;   // multi: each op's path, for the failing op's ZkError.path
  int32_t ping_wait_ms = 0;            // ping: how long it may wait for an event
  // Set for a call the front end answers with a TApplicationException (unknown method,
  // arguments that do not decode): its type, message, and the message's method name.
  int application_error = 0;
  std::string application_message;
  std::string message_name;
};

}  // namespace corral::plugins::thrift
