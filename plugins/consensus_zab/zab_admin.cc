#include "zab_admin.h"

#include <fmt/format.h>

#include "zab_peer.h"

namespace corral::plugins::zab {
namespace {

constexpr const char* kNotServing = "This ZooKeeper instance is not currently serving requests";

sdk::CommandOutput notServing() {
  sdk::CommandOutput output;
  output.text = std::string(kNotServing) + "\n";
  output.status = sdk::Status(sdk::Code::kUnimplemented, kNotServing);
  return output;
}

bool serving(const ZabPeer& peer) { return peer.role() != sdk::Role::kLooking; }

// Jackson's rendering of ZooKeeper's MultipleAddresses bean for one address.
nlohmann::json addressBean(const std::string& host, int port) {
  const std::string address = hostPort(host, port);
  return {{"empty", false},
          {"all_addresses", {address}},
          {"all_reachable_addresses", {address}},
          {"one", address},
          {"reachable_address", address},
          {"wildcard_addresses", {hostPort("0.0.0.0", port)}},
          {"all_ports", {port}},
          {"all_host_strings", {host}},
          {"all_reachable_addresses_or_all", {address}},
          {"reachable_or_one", address}};
}

}  // namespace

sdk::Status registerZabCommands(sdk::CommandRegistry& registry, const ZabPeer& peer) {
  const ZabPeer* p = &peer;
  auto leader = registry.add({"leader", {"lead"}, "Leader information (ensemble members).", false,
                              [p](const sdk::CommandArgs&) {
                                if (!serving(*p)) return notServing();
                                const auto report = p->report();
                                const auto config = p->membership().current();
                                const auto* member = config->member(report.leader_id);
                                sdk::CommandOutput output;
                                output.data = {{"is_leader", p->role() == sdk::Role::kLeader},
                                               {"leader_id", report.leader_id},
                                               {"leader_ip", member ? member->host : ""}};
                                return output;
                              }});
  if (!leader.isOk()) return leader;
  auto voting = registry.add(
      {"voting_view", {}, "The voting members of the ensemble.", false, [p](const sdk::CommandArgs&) {
         if (!serving(*p)) return notServing();
         nlohmann::json view = nlohmann::json::object();
         const auto config = p->membership().current();
         for (const auto& member : config->members()) {
           if (member.type != sdk::PeerType::kParticipant) continue;
           std::string client;
           if (member.id == p->myId()) {
             client = p->settings().client_address;
           } else if (member.client_port != 0) {
             client = hostPort(member.client_host.empty() ? "0.0.0.0" : member.client_host, member.client_port);
           }
           view[std::to_string(member.id)] = {{"server_addresses", {hostPort(member.host, member.quorum_port)}},
                                              {"election_addresses", {hostPort(member.host, member.election_port)}},
                                              {"client_address", client},
                                              {"learner_type", "participant"}};
         }
         sdk::CommandOutput output;
         output.data = {{"current_config", view}};
         return output;
       }});
  if (!voting.isOk()) return voting;
  auto zabstate = registry.add(
      {"zabstate", {}, "The Zab phase of this member.", false, [p](const sdk::CommandArgs&) {
         sdk::CommandOutput output;
         if (!serving(*p)) {
           output.data = {{"voting", false}, {"zabstate", ""}};
           return output;
         }
         static constexpr const char* kPhases[] = {"election", "discovery", "synchronization", "broadcast"};
         const auto config = p->membership().current();
         const auto* me = config->member(p->myId());
         if (me == nullptr) me = p->ensemble().member(p->myId());
         const sdk::Zxid zxid = const_cast<ZabPeer*>(p)->storage().stats().last_applied_zxid;
         output.data = {{"myid", p->myId()},
                        {"is_leader", p->role() == sdk::Role::kLeader},
                        {"quorum_address", addressBean(me->host, me->quorum_port)},
                        {"election_address", addressBean(me->host, me->election_port)},
                        {"client_address", p->settings().client_address},
                        {"voting", config->isVoter(p->myId())},
                        {"last_zxid", fmt::format("0x{:x}", zxid)},
                        {"zab_epoch", sdk::epochOf(zxid)},
                        {"zab_counter", sdk::counterOf(zxid)},
                        {"zabstate", kPhases[static_cast<int>(p->phase())]}};
         return output;
       }});
  if (!zabstate.isOk()) return zabstate;
  // ZooKeeper's ObserverCommand: a leader lists the observers connected to it, a follower those
  // of its observer master; elsewhere none. Jackson renders `established` as epoch ms.
  auto observers = registry.add(
      {"observers", {"obsr"}, "Observers connected to this member.", false, [p](const sdk::CommandArgs&) {
         if (!serving(*p)) return notServing();
         nlohmann::json list = nlohmann::json::array();
         int64_t synced = 0;
         for (const auto& observer : p->observers()) {
           synced += observer.synced;
           list.push_back({{"remote_socket_address", "/" + observer.remote_address},
                           {"sid", observer.sid},
                           {"established", observer.established_ms},
                           {"queued_packets", 0},
                           {"queued_packets_size", 0},
                           {"packets_received", observer.packets_received},
                           {"packets_sent", observer.packets_sent},
                           {"requests", observer.requests},
                           {"last_zxid", observer.last_zxid}});
         }
         sdk::CommandOutput output;
         output.data = {{"synced_observers", synced}, {"observers", std::move(list)}};
         return output;
       }});
  if (!observers.isOk()) return observers;
  return registry.add({"observer_connection_stat_reset", {"orst"}, "Reset observer connection statistics.", false,
                       [p](const sdk::CommandArgs&) {
                         if (!serving(*p)) return notServing();
                         const_cast<ZabPeer*>(p)->resetObserverStats();
                         sdk::CommandOutput output;
                         output.data = nlohmann::json::object();
                         return output;
                       }});
}

}  // namespace corral::plugins::zab
