// libFuzzer target: one direction of a quorum-port connection (learner <-> leader), as
// consensus.zab reads it (plugins/consensus_zab/quorum_packet.h, request_codec.h, net.h).
//
// Input: the bytes a peer reads from the connection. They are written into a socketpair and
// read back by the real PacketReader (net.cc), packet after packet, the way Follower and
// LearnerHandler do, and each packet's data is decoded as the side that receives that type
// decodes it:
//   leader side   FOLLOWERINFO/OBSERVERINFO (decodeLearnerInfo), ACKEPOCH, REQUEST
//                 (decodeRequestPacket: the body is a client request, decoded by frontend.jute's
//                 decoder; a reconfig's member lists as Leader reads them), PING (decodeTouches),
//                 REVALIDATE;
//   learner side  PROPOSAL/INFORM (formats::decodeEntry, a reconfig's config), COMMITANDACTIVATE
//                 and INFORMANDACTIVATE (decodeActivation), NEWLEADER's config, REVALIDATE, and
//                 SNAP: the snapshot body that follows inline is parsed from the same reader
//                 (formats::parseSnapshotBody via readExact) into a memlog DataTree, as
//                 Follower::receiveSnapshot and MemlogStorage::loadSnapshot do, then the
//                 "BenWasHere" signature. Txns are then applied to that tree (formats::applyTxn).
// A decoding failure that ends the connection in consensus.zab ends the input here too.
// Checked: every packet encodes back to one that decodes the same; decoded learner infos,
// requests, touches, txns and configs encode back to what decodes the same.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/check.h"
#include "common/memlog_tree.h"
#include "corral/client_records.h"
#include "corral/formats/snapshot_stream.h"
#include "corral/formats/txn_log.h"
#include "corral/jute.h"
#include "net.h"
#include "quorum_config.h"
#include "quorum_packet.h"
#include "request_codec.h"
#include "zab_settings.h"

namespace {

namespace sdk = corral::sdk;
namespace zab = corral::plugins::zab;
namespace formats = corral::formats;
using zab::PacketType;

// jute.maxbuffer + jute.maxbuffer.extrasize, consensus.zab's default packet data limit.
const size_t kMaxData = zab::ZabSettings{}.max_packet_data;


std::string encodeEntry(const sdk::TxnEntry& txn) {
  std::string out;
  sdk::JuteWriter writer(out);
  sdk::encode(writer, txn);
  return out;
}

void checkConfig(const zab::QuorumConfig& config) {
  auto printed = zab::QuorumConfig::parse(config.toString());
  CHECK(printed.isOk() && printed->sameMembers(config) && printed->version() == config.version());
}

// The learner's side of the connection: the tree it holds and how it applies txns.
struct Learner {
  corral::plugins::memlog::DataTree tree;
  std::map<sdk::SessionId, int32_t> sessions;
  sdk::ApplyMode mode = sdk::ApplyMode::kLive;
  std::optional<sdk::Zxid> last_proposal;

  void apply(const sdk::TxnEntry& txn) {
    corral::fuzz::MemlogMutations mutations(tree, sessions);
    std::vector<sdk::OpOutcome> outcomes;
    (void)formats::applyTxn(mutations, txn, mode, outcomes);
  }
};

// A txn as PROPOSAL or INFORM carries it; false ends the connection (Follower::onProposal).
bool onTxn(Learner& learner, sdk::Zxid zxid, std::string_view data, bool committed) {
  sdk::TxnEntry txn;
  if (!formats::decodeEntry(data, txn).isOk()) return false;
  sdk::TxnEntry again;
  CHECK(formats::decodeEntry(encodeEntry(txn), again).isOk() && again == txn);
  if (txn.header.zxid != zxid) return false;
  if (txn.header.type == sdk::OpCode::kReconfig) {
    auto config = zab::configOfReconfig(txn);
    if (config.isOk()) checkConfig(**config);
  }
  if (learner.last_proposal && txn.header.zxid <= *learner.last_proposal) return false;
  learner.last_proposal = txn.header.zxid;
  (void)committed;
  learner.apply(txn);
  return true;
}

// Follower::receiveSnapshot: the body inline in the stream, then the signature.
bool onSnap(Learner& learner, zab::PacketReader& reader) {
  learner.tree.clearForLoad();
  learner.sessions.clear();
  formats::SnapshotInfo info;
  auto loaded = formats::parseSnapshotBody([&reader](char* dst, size_t n) { return reader.readExact(dst, n); },
                                           corral::fuzz::treeLoader(learner.tree, learner.sessions), info);
  if (loaded.isOk()) loaded = learner.tree.finishLoad();
  if (!loaded.isOk()) {
    (void)learner.tree.finishLoad();
    learner.tree.reset();
    return false;
  }
  learner.mode = sdk::ApplyMode::kReplay;
  corral::fuzz::readBack(learner.tree);
  char length[4];
  if (!reader.readExact(length, sizeof length).isOk()) return false;
  const int32_t size = sdk::JuteReader(std::string_view(length, sizeof length)).readInt();
  std::string signature(size == static_cast<int32_t>(zab::kSnapshotSignature.size()) ? size : 0, '\0');
  if (!signature.empty() && !reader.readExact(signature.data(), signature.size()).isOk()) return false;
  return signature == zab::kSnapshotSignature;
}

// Leader::onRequest: the forwarded client request; a reconfig's lists as Leader::reconfig
// reads them.
void onRequest(const zab::QuorumPacket& packet) {
  (void)zab::requestPacketOp(packet);
  auto request = zab::decodeRequestPacket(packet, static_cast<int32_t>(kMaxData));
  if (!request) return;
  sdk::ForwardedRequest copy = *request;
  // setWatches (101) decodes into SetWatches2; re-encode it as what it now is.
  if (copy.request.op == sdk::OpCode::kSetWatches) copy.request.op = sdk::OpCode::kSetWatches2;
  const bool body_ok = copy.request.decode_error == sdk::Code::kOk;
  if (body_ok) {
    auto again = zab::decodeRequestPacket(zab::encodeRequestPacket(copy), static_cast<int32_t>(kMaxData));
    CHECK(again.has_value());
    CHECK(again->session == request->session && again->request.xid == request->request.xid &&
          again->request.op == copy.request.op && again->request.decode_error == sdk::Code::kOk &&
          again->request.body == request->request.body);
    if (copy.request.op == sdk::OpCode::kCreateSession) {
      CHECK(again->session_timeout_ms == request->session_timeout_ms);
    } else {
      CHECK(again->auth_ids == request->auth_ids);
    }
  }
  if (const auto* reconfig = std::get_if<sdk::ReconfigRequest>(&request->request.body)) {
    if (reconfig->new_members) {
      std::string text = *reconfig->new_members;
      std::replace(text.begin(), text.end(), ',', '\n');
      auto parsed = zab::QuorumConfig::parse(text);
      if (parsed.isOk()) checkConfig(*parsed);
    }
    if (reconfig->joining_servers) {
      std::string_view joining = *reconfig->joining_servers;
      size_t pos = 0;
      while (pos <= joining.size()) {
        size_t end = joining.find(',', pos);
        if (end == std::string_view::npos) end = joining.size();
        (void)zab::QuorumConfig::parseJoiner(joining.substr(pos, end - pos));
        pos = end + 1;
      }
    }
  }
}

// The input as the bytes waiting on a connection: a socketpair whose other end wrote them and
// closed. nullopt when they do not fit in the socket's buffer.
std::optional<zab::Socket> connectionWith(std::string_view bytes) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) std::abort();
  const int size = 4 << 20;
  (void)::setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fds[1], bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) break;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  ::close(fds[1]);
  if (!bytes.empty()) {
    ::close(fds[0]);
    return std::nullopt;
  }
  return zab::Socket(fds[0]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > (1u << 20)) return 0;
  auto socket = connectionWith(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!socket) return 0;
  zab::PacketReader reader(*socket, kMaxData);
  Learner learner;
  for (;;) {
    auto packet = reader.next();
    if (!packet.isOk()) break;
    {
      const std::string encoded = zab::encodePacket(*packet);
      size_t consumed = 0;
      auto again = zab::decodePacket(encoded, consumed, kMaxData);
      CHECK(again.isOk() && again->has_value() && **again == *packet && consumed == encoded.size());
    }
    (void)zab::packetTypeName(packet->type);
    const std::string_view payload = packet->data ? std::string_view(*packet->data) : std::string_view();
    bool go_on = true;
    switch (static_cast<PacketType>(packet->type)) {
      case PacketType::kFollowerInfo:
      case PacketType::kObserverInfo: {
        auto info = zab::decodeLearnerInfo(payload);
        go_on = info.isOk();
        if (info.isOk() && payload.size() >= 20) CHECK(zab::encodeLearnerInfo(*info) == payload.substr(0, 20));
        break;
      }
      case PacketType::kAckEpoch:
        go_on = payload.size() >= 4;
        if (go_on) (void)sdk::JuteReader(payload).readInt();
        break;
      case PacketType::kRequest:
        onRequest(*packet);
        break;
      case PacketType::kPing: {
        const auto touches = zab::decodeTouches(payload);
        CHECK(zab::encodeTouches(touches) == payload.substr(0, payload.size() / 12 * 12));
        break;
      }
      case PacketType::kRevalidate: {
        // The leader reads a learner's {long session, int timeout}; a learner reads the
        // leader's {long session, bool valid}.
        sdk::JuteReader r(payload);
        (void)r.readLong();
        if (payload.size() >= 12) (void)r.readInt();
        break;
      }
      case PacketType::kProposal:
        go_on = packet->data.has_value() && onTxn(learner, packet->zxid, payload, false);
        break;
      case PacketType::kInform:
        go_on = packet->data.has_value() && onTxn(learner, packet->zxid, payload, true);
        break;
      case PacketType::kCommitAndActivate:
      case PacketType::kInformAndActivate: {
        auto activation = zab::decodeActivation(payload);
        if (!activation) {
          go_on = false;
          break;
        }
        CHECK(zab::activationData(activation->first, activation->second) == payload);
        if (packet->type == static_cast<int32_t>(PacketType::kInformAndActivate)) {
          sdk::TxnEntry txn;
          if (!formats::decodeEntry(activation->second, txn).isOk()) {
            go_on = false;
            break;
          }
          auto config = zab::configOfReconfig(txn);
          if (!config.isOk()) {
            go_on = false;
            break;
          }
          checkConfig(**config);
          go_on = onTxn(learner, packet->zxid, activation->second, true);
        }
        break;
      }
      case PacketType::kNewLeader:
        if (packet->data && packet->data->size() > 1) {
          auto config = zab::QuorumConfig::parse(payload);
          if (config.isOk()) checkConfig(*config);
        }
        break;
      case PacketType::kSnap:
        go_on = onSnap(learner, reader);
        break;
      default:
        break;
    }
    if (!go_on) break;
  }
  corral::fuzz::readBack(learner.tree);
  return 0;
}
