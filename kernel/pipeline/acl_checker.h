// AclChecker: ZooKeeper's ACL rules over the built-in schemes (world, auth, super) and the
// ACL plugins (digest, ip, x509, custom).
//
// checkAcl follows ZooKeeperServer.checkACL; fixupAcl follows PrepRequestProcessor.fixupACL.
// Thread-safe after construction (providers are registered before serving starts).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "corral/acl.h"
#include "corral/status.h"
#include "corral/types.h"

namespace corral::kernel::pipeline {

class AclChecker {
 public:
  explicit AclChecker(bool skip_acl = false) : skip_acl_(skip_acl) {}

  void addProvider(sdk::AclProvider* provider);
  const sdk::AclProvider* provider(std::string_view scheme) const;

  // Whether `ids` (a connection's auth ids) grant any bit of `perm` on a node with `acl`.
  bool check(const sdk::AclList& acl, int32_t perm, const std::vector<sdk::Id>& ids) const;

  // The ACL a create/setACL stores: duplicates dropped, `auth` expanded to the caller's
  // authenticated ids, every id validated. InvalidACL (-114) otherwise.
  sdk::Result<sdk::AclList> fixup(const sdk::AclList& acl, const std::vector<sdk::Id>& ids) const;

  // The ids an AuthPacket adds, or AuthFailed (-115): unknown scheme, `world`, refusal.
  sdk::Result<std::vector<sdk::Id>> authenticate(const std::string& scheme,
                                                 const sdk::ConnectionInfo& connection,
                                                 std::string_view auth) const;

  // Ids every scheme grants a connection when it opens (ip, x509 certificate subject).
  std::vector<sdk::Id> connectIds(const sdk::ConnectionInfo& connection) const;
  bool hasScheme(std::string_view scheme) const { return provider(scheme) != nullptr; }

  // The whoAmI user name of one id.
  std::string userName(const sdk::Id& id) const;

 private:
  bool skip_acl_;
  std::map<std::string, sdk::AclProvider*, std::less<>> providers_;
};

}  // namespace corral::kernel::pipeline
