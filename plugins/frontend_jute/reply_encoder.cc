#include "reply_encoder.h"

#include <type_traits>
#include <variant>

#include "corral/client_records.h"
#include "corral/jute.h"

namespace corral::plugins::jute {

void appendResponseFrame(std::string& out, const sdk::ClientResponse& response) {
  sdk::JuteWriter writer(out);
  const size_t frame = writer.beginFrame();
  encode(writer, sdk::ReplyHeader{response.xid, response.zxid, response.err});
  const bool with_body = response.err == sdk::Code::kOk ||
                         std::holds_alternative<sdk::MultiResponse>(response.body);
  if (with_body) {
    std::visit(
        [&writer](const auto& body) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) {
            encode(writer, body);
          }
        },
        response.body);
  }
  writer.endFrame(frame);
}

void appendEventFrame(std::string& out, const sdk::WatcherEvent& event) {
  sdk::encodeNotificationFrame(out, event);
}

void appendConnectResponseFrame(std::string& out, const sdk::ConnectResponse& response) {
  sdk::JuteWriter writer(out);
  const size_t frame = writer.beginFrame();
  encode(writer, response);
  writer.endFrame(frame);
}

}  // namespace corral::plugins::jute
