// ReadOnlyUpstream: the upstream of a member in read-only mode (ZooKeeper's
// ReadOnlyZooKeeperServer with its ReadOnlyRequestProcessor), wired while the member is cut off
// from the quorum and `readonlymode.enabled` is set.
//
// - Sessions are local to this member (ZooKeeper 3.8 needs localSessionsEnabled=true for
//   read-only mode to accept new sessions at all; here read-only sessions are always local).
//   They expire here after their timeout and are never seen by the ensemble.
// - A global session may not reattach while read-only (ZooKeeper: "Refusing global session
//   reconnection in RO mode"): the connection is closed without a reply.
// - Writes, check, multi and sync are answered NOTREADONLY with the last applied zxid.
//
// Outcomes go back to the pipeline as synthetic commits through `answer` (posted, never
// re-entering the pipeline within submit()). Strand only.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "corral/txn_records.h"
#include "kernel/pipeline/strand.h"
#include "kernel/pipeline/upstream.h"
#include "kernel/session/session_table.h"

namespace corral::kernel::pipeline {

class ReadOnlyUpstream final : public Upstream {
 public:
  // `answer` takes a synthetic txn (createSession, closeSession or an ErrorTxn) on the strand;
  // `last_zxid` gives the zxid replies carry.
  ReadOnlyUpstream(Strand& strand, int32_t tick_ms, std::function<void(sdk::TxnEntry)> answer,
                   std::function<sdk::Zxid()> last_zxid);
  ~ReadOnlyUpstream() override;

  void submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) override;
  void touch(sdk::SessionId id, int32_t timeout_ms) override;
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) override;
  bool refusesReattach(sdk::SessionId id) const override { return sessions_.find(id) == nullptr; }
  bool forwardsSync() const override { return true; }  // so that sync is refused here too
  bool readOnly() const override { return true; }

  size_t sessionCount() const { return sessions_.size(); }

 private:
  void post(sdk::TxnEntry txn);
  void scheduleExpiry();
  void expire();

  Strand& strand_;
  session::SessionTable sessions_;
  std::function<void(sdk::TxnEntry)> answer_;
  std::function<sdk::Zxid()> last_zxid_;
  boost::asio::steady_timer expiry_timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace corral::kernel::pipeline
