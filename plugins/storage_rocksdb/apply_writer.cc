#include "apply_writer.h"

#include "rocks_store.h"

namespace corral::plugins::rocks {

using sdk::Code;
using sdk::Status;

ApplyWriter::ApplyWriter(WriteFn write, AfterWriteFn after_write, AppliedRecordFn applied_record)
    : write_(std::move(write)), after_write_(std::move(after_write)), applied_record_(std::move(applied_record)) {}

ApplyWriter::~ApplyWriter() { stop(); }

std::string ApplyWriter::overlayKey(Cf cf, std::string_view key) {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>(cf));
  out.append(key);
  return out;
}

void ApplyWriter::start() {
  std::lock_guard lock(mutex_);
  if (running_) return;
  stopping_ = false;
  running_ = true;
  thread_ = std::thread([this] { loop(); });
}

void ApplyWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!running_) return;
    stopping_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  running_ = false;
  written_cv_.notify_all();
}

Status ApplyWriter::add(const FillFn& fill, sdk::Zxid zxid, std::string applied_record) {
  std::unique_lock lock(mutex_);
  written_cv_.wait(lock, [&] {
    return !failed_.isOk() || !running_ ||
           (static_cast<int64_t>(added_seq_ - written_seq_) < kMaxPendingTxns && open_.GetDataSize() < kMaxPendingBytes);
  });
  if (!failed_.isOk()) return failed_;
  if (!running_) return Status(Code::kIoError, "storage.rocksdb's apply writer is not running");
  std::vector<Change> changes;
  open_.SetSavePoint();
  if (auto status = fill(open_, changes); !status.isOk()) {
    (void)open_.RollbackToSavePoint();
    return status;
  }
  (void)open_.PopSavePoint();
  const uint64_t seq = ++added_seq_;
  ++open_txns_;
  open_applied_ = std::move(applied_record);
  open_zxid_ = zxid;
  {
    std::lock_guard overlay(overlay_mutex_);
    for (auto& change : changes) {
      auto key = overlayKey(change.cf, change.key);
      open_keys_.push_back(key);
      overlay_[std::move(key)] = Pending{std::move(change.value), seq};
    }
  }
  // Nobody waits for these writes (clients were answered from the overlay): let them gather
  // into larger batches instead of waking the writer for every txn. The first txn of a batch
  // starts the writer's gathering time.
  const bool wake = open_txns_ == 1 || open_txns_ >= kWakeAfterTxns;
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return Status::ok();
}

std::optional<std::optional<std::string>> ApplyWriter::pending(Cf cf, std::string_view key) const {
  std::lock_guard lock(overlay_mutex_);
  if (overlay_.empty()) return std::nullopt;
  auto it = overlay_.find(overlayKey(cf, key));
  if (it == overlay_.end()) return std::nullopt;
  return it->second.value;
}

bool ApplyWriter::waitWritten(std::unique_lock<std::mutex>& lock, std::chrono::milliseconds limit) const {
  const uint64_t target = added_seq_;
  if (written_seq_ >= target) return true;
  ++drain_waiters_;  // the writer goes at once instead of gathering
  work_cv_.notify_one();
  auto done = [&] { return written_seq_ >= target || !failed_.isOk() || !running_; };
  if (limit == kNoLimit) written_cv_.wait(lock, done);
  else written_cv_.wait_for(lock, limit, done);
  --drain_waiters_;
  return written_seq_ >= target;
}

Status ApplyWriter::drain() const {
  std::unique_lock lock(mutex_);
  (void)waitWritten(lock, kNoLimit);
  return failed_;
}

bool ApplyWriter::drainFor(std::chrono::milliseconds limit) const {
  std::unique_lock lock(mutex_);
  return waitWritten(lock, limit);
}

void ApplyWriter::visitPending(
    Cf cf, std::string_view prefix,
    const std::function<void(std::string_view key, const std::optional<std::string>& value)>& visit) const {
  const std::string wanted = overlayKey(cf, prefix);
  std::lock_guard lock(overlay_mutex_);
  for (const auto& [key, pending] : overlay_) {
    if (key.size() >= wanted.size() && key.compare(0, wanted.size(), wanted) == 0) {
      visit(std::string_view(key).substr(1), pending.value);
    }
  }
}

int64_t ApplyWriter::pendingTxns() const {
  std::lock_guard lock(mutex_);
  return static_cast<int64_t>(added_seq_ - written_seq_);
}

void ApplyWriter::loop() {
  rocksdb::WriteBatch writing;
  std::vector<std::string> keys;
  for (;;) {
    uint64_t seq = 0;
    int64_t txns = 0;
    sdk::Zxid zxid = 0;
    {
      std::unique_lock lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || open_txns_ > 0; });  // idle: no wake-ups
      if (open_txns_ == 0) return;  // stopping, everything written
      // A batch goes when it is large enough, when someone drains, or after kGatherFor.
      work_cv_.wait_for(lock, kGatherFor, [&] {
        return stopping_ || drain_waiters_ > 0 || open_txns_ >= kWakeAfterTxns;
      });
      std::swap(writing, open_);
      std::swap(keys, open_keys_);
      applied_record_(writing, open_applied_);
      seq = added_seq_;
      zxid = open_zxid_;
      txns = open_txns_;
      open_txns_ = 0;
    }
    written_cv_.notify_all();  // the open batch is empty again
    rocksdb::Status status;
    {
      std::lock_guard lock(mutex_);
      if (!failed_.isOk()) status = rocksdb::Status::Aborted("an earlier write of applied txns failed");
    }
    if (status.ok()) status = write_(writing);
    {
      std::lock_guard lock(mutex_);
      if (!status.ok()) {
        // The overlay keeps what clients were told; the state on disk stays behind it, and the
        // next add() reports the failure (the server stops and recovers from the log).
        if (failed_.isOk()) failed_ = toStatus(status, "writing applied txns");
      } else {
        std::lock_guard overlay(overlay_mutex_);
        for (const auto& key : keys) {
          auto it = overlay_.find(key);
          if (it != overlay_.end() && it->second.seq <= seq) overlay_.erase(it);
        }
        written_seq_ = seq;
        written_zxid_ = zxid;
      }
    }
    written_cv_.notify_all();
    writing.Clear();
    keys.clear();
    if (status.ok()) after_write_(txns);
  }
}

}  // namespace corral::plugins::rocks
