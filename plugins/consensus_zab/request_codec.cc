#include "request_codec.h"

#include "corral/client_records.h"
#include "corral/jute.h"
#include "request_decoder.h"

namespace corral::plugins::zab {

QuorumPacket encodeRequestPacket(const sdk::ForwardedRequest& request) {
  std::string data;
  sdk::JuteWriter w(data);
  w.writeLong(request.session);
  w.writeInt(request.request.xid);
  w.writeInt(static_cast<int32_t>(request.request.op));
  if (request.request.op == sdk::OpCode::kCreateSession) {
    w.writeInt(request.session_timeout_ms);
  } else {
    std::visit(
        [&w](const auto& body) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(body)>, std::monostate>) sdk::encode(w, body);
        },
        request.request.body);
  }
  QuorumPacket packet{static_cast<int32_t>(PacketType::kRequest), -1, std::move(data), std::nullopt};
  // ZooKeeper's learners send createSession without auth ids (null), everything else with the
  // connection's.
  if (request.request.op != sdk::OpCode::kCreateSession) packet.authinfo = request.auth_ids;
  return packet;
}

std::optional<sdk::ForwardedRequest> decodeRequestPacket(const QuorumPacket& packet, int32_t max_length) {
  if (!packet.data || packet.data->size() < 16) return std::nullopt;
  std::string_view data = *packet.data;
  sdk::JuteReader r(data);
  sdk::ForwardedRequest request;
  request.session = r.readLong();
  if (packet.authinfo) request.auth_ids = *packet.authinfo;
  // The rest is a client request frame (RequestHeader + body).
  const std::string_view frame = data.substr(8);
  sdk::JuteReader header(frame);
  const int32_t xid = header.readInt();
  const auto op = static_cast<sdk::OpCode>(header.readInt());
  if (op == sdk::OpCode::kCreateSession) {
    request.request.xid = xid;
    request.request.op = op;
    sdk::JuteReader body(frame.substr(8));
    const int32_t timeout = body.readInt();
    request.session_timeout_ms = body.ok() ? timeout : 0;
    return request;
  }
  if (op == sdk::OpCode::kCloseSession) {
    request.request.xid = xid;
    request.request.op = op;
    return request;
  }
  if (!jute::decodeRequestFrame(frame, max_length, request.request)) return std::nullopt;
  return request;
}

std::optional<sdk::OpCode> requestPacketOp(const QuorumPacket& packet) {
  if (!packet.data || packet.data->size() < 16) return std::nullopt;
  sdk::JuteReader r(std::string_view(*packet.data).substr(12));
  return static_cast<sdk::OpCode>(r.readInt());
}

std::string encodeTouches(const std::vector<sdk::SessionTouch>& touches) {
  std::string data;
  sdk::JuteWriter w(data);
  for (const auto& touch : touches) {
    w.writeLong(touch.id);
    w.writeInt(touch.timeout_ms);
  }
  return data;
}

std::vector<sdk::SessionTouch> decodeTouches(std::string_view data) {
  std::vector<sdk::SessionTouch> touches;
  sdk::JuteReader r(data);
  while (r.remaining() >= 12) {
    sdk::SessionTouch touch;
    touch.id = r.readLong();
    touch.timeout_ms = r.readInt();
    touches.push_back(touch);
  }
  return touches;
}

}  // namespace corral::plugins::zab
