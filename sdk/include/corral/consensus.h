// Consensus extension point: orders txns and decides when they are committed.
//
// Threading and lifetime
// - attach() is called once, before start(), with the storage and the kernel's commit sink.
// - propose() may be called from any thread; txns proposed by one thread are committed in
//   the order proposed. The kernel assigns zxids in propose order from nextZxid().
// - CommitSink::commit() is called in strictly increasing zxid order, exactly once per txn,
//   never concurrently with itself. It must not block.
// - A standalone consensus commits a txn once the storage made it durable; a replicated
//   one once a quorum has.
#pragma once

#include <cstdint>

#include "corral/plugin.h"
#include "corral/status.h"
#include "corral/txn_records.h"
#include "corral/types.h"

namespace corral::sdk {

class Storage;

enum class Role : int32_t { kStandalone = 0, kLeader = 1, kFollower = 2, kObserver = 3, kLooking = 4 };

constexpr const char* roleName(Role role) noexcept {
  switch (role) {
    case Role::kStandalone: return "standalone";
    case Role::kLeader: return "leader";
    case Role::kFollower: return "follower";
    case Role::kObserver: return "observer";
    case Role::kLooking: return "looking";
  }
  return "unknown";
}

class CommitSink {
 public:
  virtual ~CommitSink() = default;
  // `status` is not ok when the txn could not be made durable: the kernel fails the request
  // and, for a local disk failure, stops the server (a failed fsync is fatal).
  virtual void commit(TxnEntry txn, Status status) noexcept = 0;
};

class BOOST_SYMBOL_VISIBLE Consensus : public Plugin {
 public:
  virtual void attach(Storage& storage, CommitSink& sink) noexcept = 0;
  virtual void propose(TxnEntry txn) noexcept = 0;
  virtual Role role() const noexcept = 0;
  // The epoch new zxids are issued in (0 for standalone).
  virtual int64_t epoch() const noexcept = 0;
};

}  // namespace corral::sdk
