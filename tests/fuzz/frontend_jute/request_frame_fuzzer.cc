// libFuzzer target for frontend.jute's request decoding.
//
// The input is what a client might send on a connection after the handshake: a byte stream
// cut into `int32 len + payload` frames exactly as the connection does (len < 0 or
// > jute.maxbuffer stops, len 0 stops). Each payload goes through decodeRequestFrame; a body
// that decoded is encoded again and must decode to the same request (the decoder and the sdk
// encoders agree). The first frame is also tried as a ConnectRequest, as on a fresh connection.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "corral/client_records.h"
#include "corral/jute.h"
#include "request_decoder.h"

namespace {

using corral::sdk::OpCode;

// A small limit makes the "string longer than maxbuffer" paths reachable with short inputs.
constexpr int32_t kMaxBuffer = 4096;

void checkRoundTrip(const corral::sdk::ClientRequest& request) {
  if (request.decode_error != corral::sdk::Code::kOk) return;
  if (std::holds_alternative<std::monostate>(request.body)) return;
  std::string payload;
  corral::sdk::JuteWriter writer(payload);
  // setWatches (101) was widened to SetWatches2; re-encode it as what it now is.
  const OpCode op = request.op == OpCode::kSetWatches ? OpCode::kSetWatches2 : request.op;
  encode(writer, corral::sdk::RequestHeader{request.xid, op});
  std::visit(
      [&writer](const auto& body) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
          encode(writer, body);
        }
      },
      request.body);
  corral::sdk::ClientRequest again;
  // Re-encoding may only grow strings up to their decoded size, so the same limit holds.
  if (!corral::plugins::jute::decodeRequestFrame(payload, kMaxBuffer, again)) std::abort();
  if (again.decode_error != corral::sdk::Code::kOk) std::abort();
  if (again.xid != request.xid || !(again.body == request.body)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  bool first = true;
  while (input.size() >= 4) {
    const int32_t length = static_cast<int32_t>(corral::sdk::jute_detail::loadBe32(input.data()));
    if (length < 0 || length > kMaxBuffer) break;
    if (input.size() - 4 < static_cast<size_t>(length)) break;
    const std::string_view payload = input.substr(4, static_cast<size_t>(length));
    input.remove_prefix(4 + static_cast<size_t>(length));
    if (first) {
      corral::sdk::ConnectRequest connect;
      corral::sdk::JuteReader reader(payload, kMaxBuffer);
      (void)decode(reader, connect);
      first = false;
      continue;
    }
    if (length == 0) break;
    corral::sdk::ClientRequest request;
    if (!corral::plugins::jute::decodeRequestFrame(payload, kMaxBuffer, request)) break;
    checkRoundTrip(request);
  }
  return 0;
}
