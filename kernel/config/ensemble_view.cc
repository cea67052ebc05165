#include "kernel/config/ensemble_view.h"

namespace corral::kernel::config {

sdk::Ensemble ensembleOf(const Config& config) {
  sdk::Ensemble ensemble;
  if (!config.isDistributed()) return ensemble;
  ensemble.my_id = config.serverId();
  ensemble.version = config.dynamicSource().version;
  ensemble.config_file = config.fileName();
  ensemble.dynamic_file = config.dynamicSource().path;
  ensemble.reconfig_enabled = config.getBool("reconfigEnabled");
  for (const auto& spec : config.servers()) {
    sdk::EnsembleMember member;
    member.id = spec.id;
    if (!spec.addresses.empty()) {
      member.host = spec.addresses.front().host;
      member.quorum_port = spec.addresses.front().quorum_port;
      member.election_port = spec.addresses.front().election_port;
    }
    member.type = spec.isObserver() ? sdk::PeerType::kObserver : sdk::PeerType::kParticipant;
    member.client_host = spec.client_host;
    member.client_port = spec.client_port;
    // The server.N line decides this server's type, as in ZooKeeper (peerType only warns).
    if (spec.id == ensemble.my_id) ensemble.my_type = member.type;
    ensemble.members.push_back(std::move(member));
  }
  return ensemble;
}

}  // namespace corral::kernel::config
