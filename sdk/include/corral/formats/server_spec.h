// server.N lines: the members of a ZooKeeper ensemble (QuorumPeer.QuorumServer syntax), as
// zoo.cfg, dynamic config files, reconfig requests and /zookeeper/config write them.
//
//   server.N=host:quorumPort:electionPort[:participant|:observer][;[clientHost:]clientPort]
//   server.N=h1:p:p|h2:p:p                   (several addresses, multiAddress.enabled=true)
//   server.N=[::1]:2888:3888                 (IPv6 in brackets)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "corral/status.h"

namespace corral::formats {

enum class LearnerRole { kParticipant, kObserver };

struct QuorumAddress {
  std::string host;
  int quorum_port = 0;    // followers connect to the leader here
  int election_port = 0;  // leader election
};

struct ServerSpec {
  int64_t id = 0;
  std::vector<QuorumAddress> addresses;  // one, unless multiAddress.enabled
  LearnerRole role = LearnerRole::kParticipant;
  std::string client_host;  // "" without a client part; "0.0.0.0" when only a port is given
  int client_port = 0;      // 0: no client part
  std::string where;        // "file:line" (set by Config)
  std::string text;         // the value as written

  bool isObserver() const noexcept { return role == LearnerRole::kObserver; }
};

// Whether `text` can be a host (a name, an IPv4 or IPv6 literal, optionally in brackets).
bool isHost(std::string_view text);

// Parse the value of server.<id>. On failure the kInvalidConfig message describes the
// problem without location or key (Config adds "file:line: server.N=value: ").
sdk::Result<ServerSpec> parseServerSpec(int64_t id, std::string_view text,
                                        bool multi_address_enabled);

}  // namespace corral::formats
