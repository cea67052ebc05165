// libFuzzer target for frontend.thrift's call decoder (thrift_decoder.h).
//
// The input's first byte picks the protocol (even: binary, odd: compact); the rest is what a
// client might send on a connection: a byte stream cut into `int32 len + payload` frames as the
// connection does (len < 0 or > the frame limit stops). Each payload is decoded by one decoder
// (a connection keeps its decoder, and renews the protocol after a failure). Checked: no crash,
// no leak, no undefined behaviour, and what the decoder answers is consistent with its kind.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "thrift_decoder.h"

namespace {

using corral::plugins::thrift::Decoded;

// A small limit makes "a string or list longer than the frame" reachable with short inputs.
constexpr int32_t kMaxFrame = 4096;

uint32_t loadBe32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

void check(const Decoded& decoded, size_t frame) {
  switch (decoded.kind) {
    case Decoded::Kind::kUnknownMethod:
    case Decoded::Kind::kBadArguments:
      if (decoded.name.size() > frame) std::abort();  // the name came from the frame
      break;
    case Decoded::Kind::kUnreadable:
      if (decoded.error.empty()) std::abort();  // the connection closes: it must say why
      break;
    case Decoded::Kind::kCall:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using corral::plugins::thrift::WireProtocol;
  const WireProtocol protocol = (data[0] & 1) != 0 ? WireProtocol::kCompact : WireProtocol::kBinary;
  auto decoder = corral::plugins::thrift::makeDecoder(protocol, kMaxFrame);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (rest.size() >= 4) {
    const auto length = static_cast<int32_t>(loadBe32(rest.data()));
    if (length < 0 || length > kMaxFrame || rest.size() - 4 < static_cast<size_t>(length)) break;
    const std::string_view payload = rest.substr(4, static_cast<size_t>(length));
    check(decoder->decode(payload), payload.size());
    rest.remove_prefix(4 + static_cast<size_t>(length));
  }
  return 0;
}
