#include "kernel/server/plugin_set.h"

#include <algorithm>

#include <fmt/format.h>

#include "kernel/server/admin_plugins.h"

namespace corral::kernel::server {
namespace {

bool isPluginName(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

}  // namespace

sdk::Result<std::vector<loader::PluginRequest>> pluginRequests(const config::Config& config) {
  std::vector<loader::PluginRequest> requests;
  // Effective values: the file's, else the catalog default (consensus: zab for an ensemble,
  // single otherwise; frontends: jute).
  for (auto [kind, key] : {std::pair{sdk::PluginKind::kStorage, "storage"},
                           std::pair{sdk::PluginKind::kConsensus, "consensus"},
                           std::pair{sdk::PluginKind::kAcl, "acl.schemes"},
                           std::pair{sdk::PluginKind::kFrontend, "frontends"}}) {
    std::string where = config.where(key);
    auto names = config.getList(key);
    // As ZooKeeper's configureSSLAuth: a secure client port brings the x509 scheme.
    if (kind == sdk::PluginKind::kAcl && config.isSet("secureClientPort") &&
        std::find(names.begin(), names.end(), "x509") == names.end()) {
      names.push_back("x509");
    }
    for (const auto& name : names) {
      if (!isPluginName(name)) {
        return sdk::Status(sdk::Code::kInvalidConfig,
                           fmt::format("{}: {}: '{}' is not a plugin name (letters, digits, _)", where, key, name));
      }
      requests.push_back({kind, name, where});
    }
  }
  // Admin plugins also follow from ZooKeeper's own keys (admin_plugins.h).
  auto admin = adminPluginRequests(config);
  if (!admin) return admin.status();
  requests.insert(requests.end(), admin->begin(), admin->end());
  int storage_count = 0;
  int consensus_count = 0;
  for (const auto& request : requests) {
    storage_count += request.kind == sdk::PluginKind::kStorage;
    consensus_count += request.kind == sdk::PluginKind::kConsensus;
  }
  if (storage_count != 1 || consensus_count != 1) {
    const char* key = storage_count != 1 ? "storage" : "consensus";
    return sdk::Status(sdk::Code::kInvalidConfig,
                       fmt::format("{}: exactly one storage and one consensus plugin are needed", config.where(key)));
  }
  return requests;
}

}  // namespace corral::kernel::server
