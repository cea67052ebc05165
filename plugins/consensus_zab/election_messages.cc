#include "election_messages.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "corral/jute.h"

namespace corral::plugins::zab {

using sdk::Code;
using sdk::Result;
using sdk::Status;

namespace {

int32_t readBe32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<int32_t>(v);
}

int64_t readBe64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<int64_t>(v);
}

}  // namespace

std::string encodeInitialMessage(const InitialMessage& message) {
  std::string out;
  sdk::JuteWriter w(out);
  if (message.protocol_version >= 0) {  // a pre-3.5 peer sends its sid alone
    w.writeLong(message.sid);
    return out;
  }
  w.writeLong(message.protocol_version);
  w.writeLong(message.sid);
  w.writeInt(static_cast<int32_t>(message.addresses.size()));
  out += message.addresses;
  return out;
}

Result<std::optional<InitialMessage>> decodeInitialMessage(std::string_view bytes, size_t& consumed) {
  consumed = 0;
  if (bytes.size() < 8) return std::optional<InitialMessage>{};
  InitialMessage message;
  const int64_t first = readBe64(bytes.data());
  if (first >= 0) {  // legacy: the first long is the sid
    message.sid = first;
    message.protocol_version = first;
    consumed = 8;
    return std::optional<InitialMessage>{std::move(message)};
  }
  if (first != kProtocolVersionV1 && first != kProtocolVersionV2) {
    return Status(Code::kCorruptData, fmt::format("initial message: unknown protocol version {}", first));
  }
  if (bytes.size() < 20) return std::optional<InitialMessage>{};
  message.protocol_version = first;
  message.sid = readBe64(bytes.data() + 8);
  const int32_t length = readBe32(bytes.data() + 16);
  if (length <= 0 || length > kMaxInitialAddressBytes) {
    return Status(Code::kCorruptData, fmt::format("initial message: address length {} outside 1..{}", length,
                                                  kMaxInitialAddressBytes));
  }
  if (bytes.size() < 20 + static_cast<size_t>(length)) return std::optional<InitialMessage>{};
  message.addresses.assign(bytes.substr(20, static_cast<size_t>(length)));
  consumed = 20 + static_cast<size_t>(length);
  return std::optional<InitialMessage>{std::move(message)};
}

std::string frame(std::string_view payload) {
  std::string out;
  sdk::JuteWriter w(out);
  w.writeInt(static_cast<int32_t>(payload.size()));
  out += payload;
  return out;
}

Result<std::optional<std::string_view>> unframe(std::string_view bytes, size_t& consumed) {
  consumed = 0;
  if (bytes.size() < 4) return std::optional<std::string_view>{};
  const int32_t length = readBe32(bytes.data());
  if (length <= 0 || length > kMaxFrameBytes) {
    return Status(Code::kCorruptData, fmt::format("election frame length {} outside 1..{}", length, kMaxFrameBytes));
  }
  if (bytes.size() < 4 + static_cast<size_t>(length)) return std::optional<std::string_view>{};
  consumed = 4 + static_cast<size_t>(length);
  return std::optional<std::string_view>{bytes.substr(4, static_cast<size_t>(length))};
}

std::string encodeNotification(const Notification& n) {
  std::string out;
  sdk::JuteWriter w(out);
  w.writeInt(static_cast<int32_t>(n.state));
  w.writeLong(n.leader);
  w.writeLong(n.zxid);
  w.writeLong(n.election_epoch);
  w.writeLong(n.peer_epoch);
  w.writeInt(n.version);
  w.writeInt(static_cast<int32_t>(n.config.size()));
  out += n.config;
  return out;
}

Result<std::optional<Notification>> decodeNotification(std::string_view payload) {
  if (payload.size() < 28) return std::optional<Notification>{};
  Notification n;
  const int32_t state = readBe32(payload.data());
  if (state < 0 || state > 3) return Status(Code::kCorruptData, fmt::format("notification: unknown state {}", state));
  n.state = static_cast<ServerState>(state);
  n.leader = readBe64(payload.data() + 4);
  n.zxid = readBe64(payload.data() + 12);
  n.election_epoch = readBe64(payload.data() + 20);
  if (payload.size() == 28) {
    n.peer_epoch = static_cast<int64_t>(static_cast<uint64_t>(n.zxid) >> 32);
    n.version = 0;
    return std::optional<Notification>{std::move(n)};
  }
  if (payload.size() < 40) return Status(Code::kCorruptData, "notification: truncated peer epoch or version");
  n.peer_epoch = readBe64(payload.data() + 28);
  if (payload.size() == 40) {  // 3.4-era: a peer epoch, no version field
    n.version = 0;
    return std::optional<Notification>{std::move(n)};
  }
  n.version = readBe32(payload.data() + 36);
  if (n.version > 1) {
    if (payload.size() < 44) return Status(Code::kCorruptData, "notification: truncated config length");
    const int32_t length = readBe32(payload.data() + 40);
    if (length < 0 || static_cast<size_t>(length) > payload.size() - 44) {
      return Status(Code::kCorruptData, fmt::format("notification: config length {} does not fit", length));
    }
    n.config.assign(payload.substr(44, static_cast<size_t>(length)));
  }
  return std::optional<Notification>{std::move(n)};
}

bool voteBeats(int64_t new_id, sdk::Zxid new_zxid, int64_t new_epoch, int64_t cur_id, sdk::Zxid cur_zxid,
               int64_t cur_epoch) {
  if (new_epoch != cur_epoch) return new_epoch > cur_epoch;
  if (new_zxid != cur_zxid) return new_zxid > cur_zxid;
  return new_id > cur_id;
}

}  // namespace corral::plugins::zab
