// libFuzzer target: what one election connection (ZooKeeper's QuorumCnxManager, election port)
// delivers to consensus.zab (plugins/consensus_zab/election_messages.h).
//
// Input: a flags byte, then the bytes read from the connection. Flags bit 0 set: the connection
// was accepted, so it starts with the initial message (decodeInitialMessage, as
// ElectionConnections::serveAccepted reads it); clear: we dialled out, frames only. Then every
// frame (unframe) is a notification (decodeNotification), and a notification's config is read
// as FastLeaderElection does (QuorumConfig::parse). The bytes arrive in pieces: bits 1-3 of the
// flags pick the read size (1 << bits bytes), and both decoders are called on each growing
// prefix the way the connection's loop calls them, so "incomplete" answers are exercised.
// Checked: a decoder that says "incomplete" on a prefix never later contradicts itself (a
// message found is the one the whole buffer yields); what decodes encodes back and decodes to
// the same message; a config that parses prints and parses back to the same members.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "common/check.h"
#include "election_messages.h"
#include "quorum_config.h"

namespace {

namespace zab = corral::plugins::zab;


void checkInitialMessage(const zab::InitialMessage& message, std::string_view bytes, size_t consumed) {
  CHECK(consumed > 0 && consumed <= bytes.size());
  const std::string encoded = zab::encodeInitialMessage(message);
  CHECK(encoded == bytes.substr(0, consumed));  // one encoding per message
  size_t again_consumed = 0;
  auto again = zab::decodeInitialMessage(encoded, again_consumed);
  CHECK(again.isOk() && again->has_value() && again_consumed == encoded.size());
  const auto& decoded = **again;
  CHECK(decoded.sid == message.sid && decoded.addresses == message.addresses &&
        decoded.protocol_version == message.protocol_version);
}

void onNotification(std::string_view payload) {
  auto decoded = zab::decodeNotification(payload);
  if (!decoded.isOk() || !decoded->has_value()) return;
  const zab::Notification& n = **decoded;
  auto again = zab::decodeNotification(zab::encodeNotification(n));
  CHECK(again.isOk() && again->has_value() && **again == n);
  (void)zab::voteBeats(n.leader, n.zxid, n.peer_epoch, 0, 0, 0);
  if (n.version > 1 && !n.config.empty()) {
    auto config = zab::QuorumConfig::parse(n.config);
    if (config.isOk()) {
      auto printed = zab::QuorumConfig::parse(config->toString());
      CHECK(printed.isOk() && printed->sameMembers(*config) && printed->version() == config->version());
      (void)config->voters();
      (void)config->voterCount();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool accepted = (data[0] & 1) != 0;
  const size_t chunk = size_t{1} << ((data[0] >> 1) & 7);
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  // What has arrived so far, as the connection's buffer grows by `chunk` bytes per read.
  std::string bytes;
  size_t fed = 0;
  auto feed = [&]() {
    if (fed >= input.size()) return false;
    const size_t take = std::min(chunk, input.size() - fed);
    bytes.append(input.substr(fed, take));
    fed += take;
    return true;
  };

  if (accepted) {
    std::optional<zab::InitialMessage> message;
    size_t consumed = 0;
    while (!message) {
      if (!feed()) return 0;  // the peer closed before its initial message was complete
      auto decoded = zab::decodeInitialMessage(bytes, consumed);
      if (!decoded.isOk()) {
        // Garbage is garbage on the whole input too.
        size_t whole_consumed = 0;
        CHECK(!zab::decodeInitialMessage(input, whole_consumed).isOk());
        return 0;
      }
      if (decoded->has_value()) message = **decoded;
    }
    checkInitialMessage(*message, bytes, consumed);
    bytes.erase(0, consumed);
  }

  size_t pos = 0;
  for (;;) {
    size_t consumed = 0;
    auto framed = zab::unframe(std::string_view(bytes).substr(pos), consumed);
    if (!framed.isOk()) return 0;  // the connection is closed
    if (framed->has_value()) {
      CHECK(consumed == 4 + (*framed)->size());
      CHECK(zab::frame(**framed) == std::string_view(bytes).substr(pos, consumed));
      onNotification(**framed);
      pos += consumed;
      continue;
    }
    if (pos > 0) {
      bytes.erase(0, pos);
      pos = 0;
    }
    if (!feed()) return 0;
  }
}
