#include "kernel/pipeline/acl_checker.h"

#include <algorithm>

namespace corral::kernel::pipeline {

void AclChecker::addProvider(sdk::AclProvider* provider) {
  providers_[std::string(provider->scheme())] = provider;
}

const sdk::AclProvider* AclChecker::provider(std::string_view scheme) const {
  auto it = providers_.find(scheme);
  return it == providers_.end() ? nullptr : it->second;
}

bool AclChecker::check(const sdk::AclList& acl, int32_t perm,
                       const std::vector<sdk::Id>& ids) const {
  if (skip_acl_ || acl.empty()) return true;
  for (const auto& id : ids) {
    if (id.scheme == "super") return true;
  }
  for (const auto& entry : acl) {
    if ((entry.perms & perm) == 0) continue;
    if (entry.id.scheme == "world" && entry.id.id == "anyone") return true;
    const auto* scheme = provider(entry.id.scheme);
    if (scheme == nullptr) continue;
    for (const auto& id : ids) {
      if (id.scheme == entry.id.scheme && scheme->matches(id.id, entry.id.id)) return true;
    }
  }
  return false;
}

sdk::Result<sdk::AclList> AclChecker::fixup(const sdk::AclList& acl,
                                            const std::vector<sdk::Id>& ids) const {
  // Duplicates go first, as ZooKeeper's removeDuplicates does (order kept).
  sdk::AclList unique;
  for (const auto& entry : acl) {
    if (std::find(unique.begin(), unique.end(), entry) == unique.end()) unique.push_back(entry);
  }
  if (unique.empty()) return sdk::Status(sdk::Code::kInvalidAcl, "empty ACL");
  sdk::AclList result;
  for (const auto& entry : unique) {
    if (entry.id.scheme == "world") {
      if (entry.id.id != "anyone") return sdk::Status(sdk::Code::kInvalidAcl, "world:" + entry.id.id);
      result.push_back(entry);
    } else if (entry.id.scheme == "auth") {
      bool expanded = false;
      for (const auto& id : ids) {
        const auto* scheme = provider(id.scheme);
        if (scheme != nullptr && scheme->isAuthenticated()) {
          sdk::Acl granted{entry.perms, id};
          if (std::find(result.begin(), result.end(), granted) == result.end()) result.push_back(granted);
          expanded = true;
        }
      }
      if (!expanded) return sdk::Status(sdk::Code::kInvalidAcl, "auth: no authenticated ids");
    } else {
      const auto* scheme = provider(entry.id.scheme);
      if (scheme == nullptr || !scheme->isValid(entry.id.id)) {
        return sdk::Status(sdk::Code::kInvalidAcl, entry.id.scheme + ":" + entry.id.id);
      }
      result.push_back(entry);
    }
  }
  return result;
}

sdk::Result<std::vector<sdk::Id>> AclChecker::authenticate(const std::string& scheme,
                                                           const sdk::ConnectionInfo& connection,
                                                           std::string_view auth) const {
  const auto* provider_for = provider(scheme);
  if (provider_for == nullptr) return sdk::Status(sdk::Code::kAuthFailed, "no scheme " + scheme);
  return provider_for->authenticate(connection, auth);
}

std::vector<sdk::Id> AclChecker::connectIds(const sdk::ConnectionInfo& connection) const {
  std::vector<sdk::Id> ids;
  for (const auto& [scheme, provider_for] : providers_) {
    for (auto& id : provider_for->connectIds(connection)) ids.push_back(std::move(id));
  }
  return ids;
}

std::string AclChecker::userName(const sdk::Id& id) const {
  const auto* scheme = provider(id.scheme);
  return scheme == nullptr ? id.id : scheme->userName(id.id);
}

}  // namespace corral::kernel::pipeline
