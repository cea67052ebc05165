// The quorum configs a peer knows (QuorumPeer's quorumVerifier and lastSeenQuorumVerifier):
// the one in force, which decides votes and quorums, and the newest one seen (a reconfig
// proposed but not committed, or the config a new leader is about to establish). While they
// differ, every proposal needs a quorum of both. Thread-safe; configs are immutable and
// shared, so a reader keeps the one it got.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "config_files.h"
#include "quorum_config.h"

namespace corral::plugins::zab {

class Membership {
 public:
  // `files` null: nothing is written (reconfig disabled, or tests).
  Membership(int64_t my_id, ConfigPtr initial, bool reconfig_enabled, std::unique_ptr<ConfigFiles> files);

  int64_t myId() const { return my_id_; }
  bool reconfigEnabled() const { return reconfig_enabled_; }
  ConfigPtr current() const;
  ConfigPtr lastSeen() const;
  // The configs a proposal made now must have a quorum in: the current one, and the last
  // seen one when it is newer.
  std::vector<ConfigPtr> quorumConfigs() const;
  bool isVoter(int64_t sid) const { return current()->isVoter(sid); }
  bool amObserver() const { return current()->isObserver(my_id_); }
  bool reconfigInProgress() const;

  // setLastSeenQuorumVerifier: a newer config seen (only with reconfig enabled); written to
  // the .next file. False when not newer.
  bool see(ConfigPtr config);
  // setQuorumVerifier: `config` in force when newer than the current one; its files written.
  // Returns the config it replaced, or null when `config` was not newer.
  ConfigPtr activate(ConfigPtr config);

  // Called (outside the lock) with every config that may add members: connect to them.
  void onNewMembers(std::function<void(const QuorumConfig&)> listener);

 private:
  void announce(const QuorumConfig& config);

  const int64_t my_id_;
  const bool reconfig_enabled_;
  std::unique_ptr<ConfigFiles> files_;
  mutable std::mutex mutex_;
  ConfigPtr current_;
  ConfigPtr last_seen_;
  std::vector<std::function<void(const QuorumConfig&)>> listeners_;
};

}  // namespace corral::plugins::zab
