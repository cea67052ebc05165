// ACL extension point: one authentication scheme per plugin (digest, ip, x509, ...).
// `world` and `auth` are built into the kernel.
//
// Threading and lifetime
// - Every method may be called from any thread, concurrently; a provider keeps no
//   per-connection state (the kernel keeps each connection's ids).
// - Created before the front ends start, stopped after they stop.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "corral/plugin.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::sdk {

// What a scheme may look at when a client authenticates or connects.
struct ConnectionInfo {
  std::string remote_address;        // "127.0.0.1" or "::1", no port
  int remote_port = 0;
  std::string tls_peer_subject;      // RFC 2253 subject of a verified client certificate, or ""
};

class BOOST_SYMBOL_VISIBLE AclProvider : public Plugin {
 public:
  virtual std::string_view scheme() const noexcept = 0;
  // AuthPacket bytes → the ids the connection gains. AuthFailed (-115) when refused.
  virtual Result<std::vector<Id>> authenticate(const ConnectionInfo& connection,
                                               std::string_view auth) const noexcept = 0;
  // Ids granted without an AuthPacket when a connection opens (ip, x509); usually none.
  virtual std::vector<Id> connectIds(const ConnectionInfo& connection) const { return {}; }
  // Whether an ACL id of this scheme is well formed (false → InvalidACL, -114).
  virtual bool isValid(std::string_view id) const noexcept = 0;
  // Whether a caller's id of this scheme satisfies an ACL entry's id.
  virtual bool matches(std::string_view caller_id, std::string_view acl_id) const noexcept = 0;
  // Whether ids of this scheme may stand in for `auth` ACL entries (digest yes, ip no).
  virtual bool isAuthenticated() const noexcept = 0;
  // The user name shown by whoAmI for one of this scheme's ids.
  virtual std::string userName(std::string_view id) const { return std::string(id); }
  // Whether this id makes the caller a super user (e.g. a configured super digest).
  virtual bool isSuper(std::string_view id) const noexcept { return false; }
};

}  // namespace corral::sdk
