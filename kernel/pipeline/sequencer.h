// Sequencer: the part only a standalone server or a leader runs (ZooKeeper's
// PrepRequestProcessor + SessionTrackerImpl + ContainerManager). It takes writes and session
// create/close from local clients and from learners alike, each with the auth ids of its
// connection, prepares them against the tree plus every not-yet-applied change, issues zxids
// and proposes the txns through consensus. It owns the global session tracker (expiry) and
// reaps empty containers and expired TTL nodes.
//
// Strand only. Its timers hold a weak token, so a sequencer destroyed on a role change never
// sees a late timer.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <unordered_map>

#include "corral/consensus.h"
#include "corral/host.h"
#include "corral/storage.h"
#include "kernel/pipeline/acl_checker.h"
#include "kernel/pipeline/admin_views.h"
#include "kernel/pipeline/pending_changes.h"
#include "kernel/pipeline/strand.h"
#include "kernel/pipeline/upstream.h"
#include "kernel/pipeline/write_preparer.h"
#include "kernel/runtime/server_metrics.h"
#include "kernel/session/session_table.h"

namespace corral::kernel::pipeline {

struct SequencerSettings {
  int32_t tick_ms = 2000;
  bool extended_types = false;
  bool reconfig_enabled = false;  // reconfigEnabled: otherwise reconfig is ReconfigDisabled
  int64_t container_check_ms = 60000;
  int64_t container_max_per_minute = 10000;
};

class Sequencer final : public Upstream {
 public:
  Sequencer(Strand& strand, const sdk::Storage& storage, sdk::Consensus& consensus, const AclChecker& acl,
            SequencerSettings settings, sdk::Logger& log, runtime::KernelMetrics& metrics);
  ~Sequencer() override;

  // Takes over every global session (each touched now, as a new leader does) and starts the
  // expiry and reaper timers. New zxids follow `last_applied` within `epoch`.
  void start(const std::unordered_map<sdk::SessionId, int32_t>& sessions, sdk::Zxid last_applied,
             int64_t epoch);

  // Upstream
  void submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) override;
  void touch(sdk::SessionId id, int32_t timeout_ms) override;
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) override;
  bool forwardsSync() const override { return false; }

  // A committed txn was applied to the storage (ours, or one a previous leader decided).
  void applied(const sdk::TxnEntry& txn);

  const session::SessionTable& sessions() const { return sessions_; }
  size_t pendingChanges() const { return pending_.size(); }

 private:
  void propose(sdk::TxnEntry txn);
  sdk::TxnEntry errorTxn(const sdk::ForwardedRequest& request, sdk::Code code, int64_t time) const;
  void closeSession(sdk::SessionId id, int32_t cxid);
  sdk::TxnEntry reconfig(const sdk::ForwardedRequest& request, const PrepareContext& context);
  void expireSessions();
  void reapContainers();
  void scheduleTick();
  void scheduleReaper();

  const sdk::Storage& storage_;
  sdk::Consensus& consensus_;
  SequencerSettings settings_;
  sdk::Logger& log_;
  runtime::KernelMetrics& metrics_;
  PendingChanges pending_;
  WritePreparer preparer_;
  session::SessionTable sessions_;
  // Txns proposed by this sequencer and not applied yet, per session: expiry waits for them.
  std::unordered_map<sdk::SessionId, int> in_flight_;
  sdk::Zxid next_zxid_ = 1;
  sdk::Zxid first_zxid_ = 1;  // the first zxid this sequencer issued
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer reaper_timer_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace corral::kernel::pipeline
