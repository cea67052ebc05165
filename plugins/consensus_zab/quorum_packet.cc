#include "quorum_packet.h"

#include <fmt/format.h>

#include "corral/jute.h"

namespace corral::plugins::zab {

using sdk::Code;
using sdk::Result;
using sdk::Status;

std::string packetTypeName(int32_t type) {
  switch (static_cast<PacketType>(type)) {
    case PacketType::kRequest: return "REQUEST";
    case PacketType::kProposal: return "PROPOSAL";
    case PacketType::kAck: return "ACK";
    case PacketType::kCommit: return "COMMIT";
    case PacketType::kPing: return "PING";
    case PacketType::kRevalidate: return "REVALIDATE";
    case PacketType::kSync: return "SYNC";
    case PacketType::kInform: return "INFORM";
    case PacketType::kCommitAndActivate: return "COMMITANDACTIVATE";
    case PacketType::kNewLeader: return "NEWLEADER";
    case PacketType::kFollowerInfo: return "FOLLOWERINFO";
    case PacketType::kUpToDate: return "UPTODATE";
    case PacketType::kDiff: return "DIFF";
    case PacketType::kTrunc: return "TRUNC";
    case PacketType::kSnap: return "SNAP";
    case PacketType::kObserverInfo: return "OBSERVERINFO";
    case PacketType::kLeaderInfo: return "LEADERINFO";
    case PacketType::kAckEpoch: return "ACKEPOCH";
    case PacketType::kInformAndActivate: return "INFORMANDACTIVATE";
  }
  return fmt::format("UNKNOWN{}", type);
}

std::string encodePacket(const QuorumPacket& packet) {
  std::string out;
  sdk::JuteWriter w(out);
  w.writeInt(packet.type);
  w.writeLong(packet.zxid);
  if (packet.data) {
    w.writeBuffer(*packet.data);
  } else {
    w.writeNull();
  }
  if (packet.authinfo) {
    w.writeInt(static_cast<int32_t>(packet.authinfo->size()));
    for (const auto& id : *packet.authinfo) {
      w.writeString(id.scheme);
      w.writeString(id.id);
    }
  } else {
    w.writeInt(-1);
  }
  return out;
}

namespace {

// Reads big-endian fields from what has arrived; `complete` turns false when it runs out.
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  bool has(size_t n) const { return bytes_.size() - pos_ >= n; }
  int32_t int32() {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    pos_ += 4;
    return static_cast<int32_t>(v);
  }
  int64_t int64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes_[pos_ + i]);
    pos_ += 8;
    return static_cast<int64_t>(v);
  }
  std::string_view take(size_t n) {
    auto v = bytes_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  size_t position() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

constexpr int32_t kMaxAuthIds = 1024;
constexpr int32_t kMaxIdBytes = 64 * 1024;

}  // namespace

Result<std::optional<QuorumPacket>> decodePacket(std::string_view bytes, size_t& consumed, size_t max_data) {
  consumed = 0;
  const auto incomplete = std::optional<QuorumPacket>{};
  Cursor c(bytes);
  if (!c.has(16)) return incomplete;
  QuorumPacket packet;
  packet.type = c.int32();
  packet.zxid = c.int64();
  const int32_t length = c.int32();
  if (length < -1 || (length > 0 && static_cast<size_t>(length) > max_data)) {
    return Status(Code::kCorruptData, fmt::format("quorum packet {}: data length {} (limit {})",
                                                  packetTypeName(packet.type), length, max_data));
  }
  if (length >= 0) {
    if (!c.has(static_cast<size_t>(length))) return incomplete;
    packet.data.emplace(c.take(static_cast<size_t>(length)));
  }
  if (!c.has(4)) return incomplete;
  const int32_t ids = c.int32();
  if (ids < -1 || ids > kMaxAuthIds) {
    return Status(Code::kCorruptData, fmt::format("quorum packet {}: {} auth ids", packetTypeName(packet.type), ids));
  }
  if (ids >= 0) {
    packet.authinfo.emplace();
    for (int32_t i = 0; i < ids; ++i) {
      sdk::Id id;
      for (std::string* field : {&id.scheme, &id.id}) {
        if (!c.has(4)) return incomplete;
        const int32_t n = c.int32();
        if (n < -1 || n > kMaxIdBytes) {
          return Status(Code::kCorruptData, fmt::format("quorum packet {}: auth id field length {}",
                                                        packetTypeName(packet.type), n));
        }
        if (n > 0) {
          if (!c.has(static_cast<size_t>(n))) return incomplete;
          field->assign(c.take(static_cast<size_t>(n)));
        }
      }
      packet.authinfo->push_back(std::move(id));
    }
  }
  consumed = c.position();
  return std::optional<QuorumPacket>{std::move(packet)};
}

std::string encodeLearnerInfo(const LearnerInfo& info) {
  std::string out;
  sdk::JuteWriter w(out);
  w.writeLong(info.server_id);
  w.writeInt(info.protocol_version);
  w.writeLong(info.config_version);
  return out;
}

Result<LearnerInfo> decodeLearnerInfo(std::string_view data) {
  LearnerInfo info;
  sdk::JuteReader r(data);
  if (data.size() < 8) return Status(Code::kCorruptData, fmt::format("LearnerInfo of {} bytes", data.size()));
  info.server_id = r.readLong();
  // LearnerHandler: 8 bytes = sid only (protocol 0); 12 = + protocol version; 20 = + config version.
  info.protocol_version = data.size() >= 12 ? r.readInt() : 0;
  info.config_version = data.size() >= 20 ? r.readLong() : 0;
  if (!r.ok()) return Status(Code::kCorruptData, "truncated LearnerInfo");
  return info;
}

std::string activationData(int64_t designated_leader, std::string_view txn) {
  std::string data;
  sdk::JuteWriter(data).writeLong(designated_leader);
  data.append(txn);
  return data;
}

std::optional<std::pair<int64_t, std::string_view>> decodeActivation(std::string_view data) {
  if (data.size() < 8) return std::nullopt;
  const int64_t sid = sdk::JuteReader(data.substr(0, 8)).readLong();
  return std::make_pair(sid, data.substr(8));
}

}  // namespace corral::plugins::zab
