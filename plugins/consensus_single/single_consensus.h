// consensus.single: the standalone server's consensus. A txn is committed as soon as the
// local storage has made it durable; there is no one else to ask. The role is standalone
// from the start and never changes; nothing is ever forwarded.
//
// Order: propose() calls arrive in zxid order (the kernel's sequencer is serial) and the
// storage calls `done` in append order, so commits come out in zxid order exactly once.
//
// No holes: once one txn fails to reach the log (out of memory, a storage error), every later
// txn fails too without being appended, and the kernel stops on the first failure. A txn
// dropped while later ones reached the log would leave a zxid hole that stops the next start.
#pragma once

#include <deque>
#include <mutex>

#include "corral/consensus.h"
#include "corral/storage.h"

namespace corral::plugins::single {

class SingleConsensus : public sdk::Consensus {
 public:
  void attach(sdk::Storage& storage, sdk::ConsensusHost& host, const sdk::Ensemble& ensemble) noexcept override;
  void propose(sdk::TxnEntry txn) noexcept override;
  // A standalone server has no leader: nothing to forward or revalidate.
  void forward(sdk::ForwardedRequest) noexcept override {}
  void revalidate(sdk::SessionId, int32_t, std::function<void(bool)> done) noexcept override;
  sdk::Role role() const noexcept override { return sdk::Role::kStandalone; }
  int64_t epoch() const noexcept override { return 0; }
  sdk::ConsensusReport report() const noexcept override { return {}; }

 protected:
  // Keeps `txn` until the storage reports it durable. A seam for tests: an override can
  // simulate an allocation failure by throwing std::bad_alloc.
  virtual void enqueue(sdk::TxnEntry&& txn);

 private:
  void onDurable(sdk::Status status) noexcept;

  sdk::Storage* storage_ = nullptr;
  sdk::ConsensusHost* host_ = nullptr;
  std::mutex mutex_;
  std::deque<sdk::TxnEntry> appending_;  // handed to the storage, not durable yet (FIFO)
  sdk::Status failed_;                   // the first failure; every later txn fails with it
};

}  // namespace corral::plugins::single
