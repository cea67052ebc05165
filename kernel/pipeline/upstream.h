// Upstream: where the client pipeline sends what one server may not decide alone — writes,
// session create/close, reattachment of a session, client activity, and (on a learner) sync.
// The sequencer is the upstream of a standalone server or a leader; the forwarder (to the
// leader, through consensus) is the upstream of a follower or an observer. Strand only.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "corral/consensus.h"

namespace corral::kernel::pipeline {

class Upstream {
 public:
  virtual ~Upstream() = default;
  // A write, createSession, closeSession or (when forwardsSync()) sync of a local client, with
  // the auth ids of its connection (by reference: the sequencer only reads them while it
  // prepares, so the every-write path copies nothing; the forwarder copies them onto the wire).
  // Its txn comes back through the commit path, matched by (session, cxid).
  virtual void submit(sdk::ForwardedRequest request, const std::vector<sdk::Id>& auth_ids) = 0;
  // Client activity on a session (a request or a ping).
  virtual void touch(sdk::SessionId id, int32_t timeout_ms) = 0;
  // A client reattaches to session `id`: whether it is alive (and now owned here). `done` runs
  // exactly once, on the strand, possibly before revalidate() returns.
  virtual void revalidate(sdk::SessionId id, int32_t timeout_ms, std::function<void(bool valid)> done) = 0;
  // Whether sync goes to the leader (learner) or is answered as a local read.
  virtual bool forwardsSync() const = 0;
  // Read-only mode: only clients that allow it may connect, and their ConnectResponse says so.
  virtual bool readOnly() const { return false; }
  // Whether a client reattaching to session `id` is turned away without an answer (a global
  // session in read-only mode), rather than asked about.
  virtual bool refusesReattach(sdk::SessionId) const { return false; }
};

}  // namespace corral::kernel::pipeline
