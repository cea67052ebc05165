// Forwarder: the upstream of a follower or an observer (ZooKeeper's FollowerRequestProcessor
// and LearnerSessionTracker). Writes, sync and session create/close go to the leader through
// consensus; client activity is noted in the touch table the next PING reply carries; a
// reattaching session is revalidated by the leader. Strand only, except the callbacks it
// hands to consensus, which come back through the strand.
#pragma once

#include <memory>

#include "corral/consensus.h"
#include "kernel/pipeline/strand.h"
#include "kernel/pipeline/upstream.h"
#include "kernel/session/touch_table.h"

namespace corral::kernel::pipeline {

class Forwarder final : public Upstream {
 public:
  Forwarder(Strand& strand, sdk::Consensus& consensus, session::TouchTable& touches)
      : strand_(strand), consensus_(consensus), touches_(touches) {}

  void submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) override;
  void touch(sdk::SessionId id, int32_t timeout_ms) override { touches_.touch(id, timeout_ms); }
  void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool)> done) override;
  bool forwardsSync() const override { return true; }

 private:
  Strand& strand_;
  sdk::Consensus& consensus_;
  session::TouchTable& touches_;
};

}  // namespace corral::kernel::pipeline
