// One quorum configuration (ZooKeeper's QuorumMaj): the members with their roles and
// addresses, and the version. A reconfig's version is its txn's zxid; a static zoo.cfg is
// version 0, and with reconfigEnabled the first leader gives it its NEWLEADER zxid.
//
// The text form is what ZooKeeper writes into /zookeeper/config, NEWLEADER, notifications and
// dynamic config files (QuorumMaj.toString): a `server.N=host:quorum:election:role[;host:port]`
// line per member, in the order of Java's HashMap over the sids, then `version=<hex>`.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "corral/consensus.h"
#include "corral/status.h"
#include "corral/txn_records.h"

namespace corral::plugins::zab {

class QuorumConfig {
 public:
  QuorumConfig() = default;
  QuorumConfig(std::vector<sdk::EnsembleMember> members, int64_t version);

  // The text form (server.N lines and version=); kBadArguments names what is wrong.
  static sdk::Result<QuorumConfig> parse(std::string_view text);
  // One `server.N=spec` member (a reconfig joiner); kBadArguments when malformed or without
  // a client port (ZooKeeper wants all three ports of a joiner), kMarshallingError when N is
  // not a number (as ZooKeeper answers).
  static sdk::Result<sdk::EnsembleMember> parseJoiner(std::string_view text);

  int64_t version() const { return version_; }
  const std::vector<sdk::EnsembleMember>& members() const { return members_; }  // by sid
  const sdk::EnsembleMember* member(int64_t sid) const;
  bool isVoter(int64_t sid) const;
  bool isObserver(int64_t sid) const;
  size_t voterCount() const;
  std::vector<int64_t> voters() const;
  // More than half of the voters are in `sids` (QuorumMaj.containsQuorum).
  bool containsQuorum(const std::set<int64_t>& sids) const;
  // QuorumMaj.equals: the same members, each with the same role and addresses (versions aside).
  bool sameMembers(const QuorumConfig& other) const;

  std::string toString() const;
  // The sids in the order toString writes them.
  std::vector<int64_t> textOrder() const;
  // The order of a Java HashMap copied from a map of `copied` entries and then changed
  // (`order`: the copy's entries in its order, joiners appended): the leader's incremental
  // reconfig builds its config so, and its text (the txn's, so /zookeeper/config's) follows it.
  void setTextOrder(std::vector<int64_t> order, size_t copied);
  // The dynamic config file's body: the member lines sorted as text, no version (ZooKeeper's
  // writeDynamicConfig) unless `with_version` (the .next file keeps it).
  std::string dynamicFileText(bool with_version) const;

 private:
  std::vector<sdk::EnsembleMember> members_;
  int64_t version_ = 0;
  std::vector<int64_t> text_order_;  // empty: a parsed map's order (HashMap of 16 buckets up)
};

using ConfigPtr = std::shared_ptr<const QuorumConfig>;

// The config a reconfig txn carries (its SetDataTxn's data); kBadArguments when the txn has
// none or it does not parse.
sdk::Result<ConfigPtr> configOfReconfig(const sdk::TxnEntry& txn);

// The config's member line value: host:quorum:election:role[;clientHost:clientPort].
std::string memberSpec(const sdk::EnsembleMember& member);

}  // namespace corral::plugins::zab
