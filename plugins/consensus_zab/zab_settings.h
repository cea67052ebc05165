// consensus.zab's settings, read once from zoo.cfg with ZooKeeper's names and defaults
// (quorum-protocol.md §12). Every timeout of the protocol derives from tickTime.
#pragma once

#include <cstdint>
#include <string>

#include "corral/host.h"
#include "corral/status.h"

namespace corral::plugins::zab {

struct ZabSettings {
  std::string data_dir;               // dataDir: acceptedEpoch / currentEpoch live in version-2/
  int64_t tick_ms = 3000;             // tickTime
  int64_t init_limit = 10;            // initLimit (ticks): connect, epoch and NEWLEADER waits
  int64_t sync_limit = 5;             // syncLimit (ticks): learner staleness, leader read timeout
  int64_t connect_limit = 10;         // connectToLearnerMasterLimit (ticks; 0 = initLimit)
  int64_t cnx_timeout_ms = 5000;      // cnxTimeout: election-port connect timeout
  bool leader_serves = true;          // leaderServes
  bool listen_on_all_ips = false;     // quorumListenOnAllIPs
  int64_t commit_log_count = 500;     // commitLogCount: committed proposals kept for DIFF
  bool force_snapshot_sync = false;   // forceSnapshotSync
  double snapshot_size_factor = 0.33;  // snapshotSizeFactor: DIFF from the log below this share
  int64_t min_notification_ms = 200;  // fastleader.minNotificationInterval
  int64_t max_notification_ms = 60000;  // fastleader.maxNotificationInterval
  int64_t finalize_wait_ms = 200;     // FastLeaderElection.finalizeWait
  size_t max_packet_data = 1048575 + 1024;  // jute.maxbuffer + jute.maxbuffer.extrasize
  std::string client_address;         // clientPortAddress:clientPort, for zabstate/voting_view
  int64_t observer_master_port = 0;   // observerMasterPort: followers serve observers here (0: off)
  int64_t observer_reconnect_delay_ms = 0;   // observer.reconnectDelayMs
  int64_t observer_election_delay_ms = 200;  // observer.election.DelayMs
  bool sync_enabled = true;           // syncEnabled (observer.syncEnabled): an observer logs and snapshots
  bool standalone_enabled = true;     // standaloneEnabled: a reconfig must then leave 2 voters, else 1

  int64_t initLimitMs() const { return tick_ms * init_limit; }
  int64_t syncLimitMs() const { return tick_ms * sync_limit; }
};

sdk::Result<ZabSettings> readZabSettings(const sdk::PluginConfig& config);

}  // namespace corral::plugins::zab
