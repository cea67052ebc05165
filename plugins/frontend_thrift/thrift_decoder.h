// One framed Thrift message (the payload, without its length) → a call of the Corral service,
// as the kernel's protocol-neutral records (sdk::ClientRequest, sdk::ConnectRequest). No I/O;
// one instance per connection, used by its strand only. Fuzzed.
//
// Bounds: libthrift checks every length against the bytes left in the frame; lists are also
// capped (kMaxListElements), so a hostile count cannot make the decoder allocate more than a
// small multiple of the frame.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "corral/client_records.h"
#include "corral/frontend.h"
#include "thrift_call.h"
#include "thrift_settings.h"

namespace corral::plugins::thrift {

struct Decoded {
  enum class Kind {
    kCall,           // `call` (+ `request` or `connect`) is ready
    kUnknownMethod,  // a well-formed message for a method the service lacks: `name`, `call.seqid`
    kBadArguments,   // the message header was fine, its arguments were not: `name`, `call.seqid`, `error`
    kUnreadable,     // not a Thrift call at all: close the connection (`error` says why)
  };
  Kind kind = Kind::kUnreadable;
  Call call;
  sdk::ClientRequest request;  // kernel calls (everything but openSession)
  sdk::ConnectRequest connect;  // openSession
  std::string name;             // the message's method name, for kUnknownMethod/kBadArguments
  std::string error;
};

class ThriftDecoder {
 public:
  virtual ~ThriftDecoder() = default;
  virtual Decoded decode(std::string_view message) = 0;
};

inline constexpr int32_t kMaxListElements = 100000;

std::unique_ptr<ThriftDecoder> makeDecoder(WireProtocol protocol, int32_t max_frame);

}  // namespace corral::plugins::thrift
