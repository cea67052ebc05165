#include "single_consensus.h"

#include <new>
#include <span>
#include <utility>

namespace corral::plugins::single {

void SingleConsensus::attach(sdk::Storage& storage, sdk::ConsensusHost& host, const sdk::Ensemble&) noexcept {
  storage_ = &storage;
  host_ = &host;
}

void SingleConsensus::revalidate(sdk::SessionId, int32_t, std::function<void(bool)> done) noexcept {
  done(false);
}

void SingleConsensus::enqueue(sdk::TxnEntry&& txn) { appending_.push_back(std::move(txn)); }

void SingleConsensus::propose(sdk::TxnEntry txn) noexcept {
  const sdk::TxnEntry* queued = nullptr;
  sdk::Status refused;
  {
    std::lock_guard lock(mutex_);
    if (failed_.isOk()) {
      try {
        // push_back allocates before it moves, so `txn` is intact when this throws.
        enqueue(std::move(txn));
        queued = &appending_.back();
      } catch (const std::bad_alloc&) {
        failed_ = sdk::Status(sdk::Code::kSystemError, "out of memory queueing a txn for the log");
      }
    }
    if (queued == nullptr) refused = failed_;
  }
  // Outside the lock: the kernel's commit must never run under the consensus' mutex.
  if (queued == nullptr) return host_->commit(std::move(txn), std::move(refused), sdk::ApplyMode::kLive);
  // deque::push_back never moves existing elements, so `queued` stays valid until onDurable
  // pops it; the callback captures only `this` (no allocation in std::function).
  storage_->append(std::span<const sdk::TxnEntry>(queued, 1), [this](sdk::Status status) { onDurable(std::move(status)); });
}

void SingleConsensus::onDurable(sdk::Status status) noexcept {
  sdk::TxnEntry txn;
  {
    std::lock_guard lock(mutex_);
    if (appending_.empty()) return;
    txn = std::move(appending_.front());
    appending_.pop_front();
    if (!status.isOk() && failed_.isOk()) failed_ = status;
  }
  host_->commit(std::move(txn), std::move(status), sdk::ApplyMode::kLive);
}

}  // namespace corral::plugins::single
