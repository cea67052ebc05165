#include <algorithm>
#include <chrono>

#include "corral/formats/txn_log.h"
#include "memlog_storage.h"

namespace corral::plugins::memlog {

using sdk::Code;
using sdk::OpCode;
using sdk::Status;
using Clock = std::chrono::steady_clock;

namespace {

int64_t millisBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

// ---- append: group commit -------------------------------------------------------------------

void MemlogStorage::append(std::span<const sdk::TxnEntry> txns, std::function<void(Status)> done) noexcept {
  if (!settings_.durable) {
    done(Status::ok());
    return;
  }
  Status refused;
  try {
    Pending pending;
    std::string entry;
    for (const auto& txn : txns) {
      entry.clear();
      sdk::JuteWriter w(entry);
      sdk::encode(w, txn);
      formats::appendLogRecord(pending.records, entry);
    }
    pending.first_zxid = txns.empty() ? 0 : txns.front().header.zxid;
    pending.last_zxid = txns.empty() ? 0 : txns.back().header.zxid;
    pending.count = static_cast<int64_t>(txns.size());
    pending.done = std::move(done);
    pending.queued_at = Clock::now();
    {
      std::lock_guard lock(queue_mutex_);
      if (!failed_.isOk()) {
        refused = failed_;
      } else if (writer_stopping_ || !writer_.joinable()) {
        refused = Status(Code::kIoError, "txn log writer is not running");
      } else {
        metrics_.request_queued.add(pending.count);
        queue_.push_back(std::move(pending));
        queue_size_hint_.store(queue_.size(), std::memory_order_release);
      }
    }
    if (refused.isOk()) {
      queue_cv_.notify_one();
      return;
    }
    pending.done(refused);
  } catch (const std::exception& error) {
    if (done) done(Status(Code::kInternal, error.what()));
  }
}

void MemlogStorage::startWriter() {
  {
    std::lock_guard lock(queue_mutex_);
    writer_stopping_ = false;
  }
  writer_ = std::thread([this] { writerLoop(); });
}

// Drains the queue, then ends the writer thread and closes the log (it reopens a new file,
// named by the next txn, when started again).
void MemlogStorage::stopWriter() {
  {
    std::lock_guard lock(queue_mutex_);
    writer_stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  log_.close();
}

// After a batch the next write of a 1-in-flight client arrives a round trip later (~100 us).
// Waiting for it awake, for a bounded time, spares the wake-up of a sleeping thread (tens of
// microseconds on a VM) on every write; a loaded server never gets here with an empty queue.
void MemlogStorage::awaitWorkBriefly() {
  constexpr auto kSpin = std::chrono::microseconds(150);
  const auto until = Clock::now() + kSpin;
  while (Clock::now() < until) {
    if (queue_size_hint_.load(std::memory_order_acquire) > 0) return;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
}

void MemlogStorage::writerLoop() {
  for (;;) {
    std::vector<Pending> batch;
    awaitWorkBriefly();
    {
      std::unique_lock lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return !queue_.empty() || writer_stopping_; });
      if (queue_.empty()) break;  // stopping and drained
      int64_t waiting = 0;
      for (const auto& pending : queue_) waiting += pending.count;
      metrics_.queue_size.add(waiting);
      int64_t txns = 0;
      while (!queue_.empty() && (batch.empty() || txns + queue_.front().count <= settings_.max_batch)) {
        txns += queue_.front().count;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queue_size_hint_.store(queue_.size(), std::memory_order_release);
    }
    const auto taken = Clock::now();
    int64_t batch_txns = 0;
    for (const auto& pending : batch) {
      batch_txns += pending.count;
      metrics_.queue_time.add(millisBetween(pending.queued_at, taken));
    }
    metrics_.batch_size.add(batch_txns);
    Status status;
    try {
      status = writeBatch(batch);
    } catch (const std::exception& error) {
      status = Status(Code::kIoError, error.what());
    }
    const auto durable = Clock::now();
    metrics_.flush_time.add(millisBetween(taken, durable));
    metrics_.process_time.add(millisBetween(taken, durable));
    for (const auto& pending : batch) metrics_.queue_and_flush_time.add(millisBetween(pending.queued_at, durable));
    if (!status.isOk()) {
      host_.logger().error("txn log write failed: {}; refusing further writes", status.toString());
    }
    if (status.isOk()) {
      for (const auto& pending : batch) {
        if (pending.count > 0) last_logged_.store(pending.last_zxid);
      }
    }
    for (auto& pending : batch) pending.done(status);
    if (!status.isOk()) {
      std::deque<Pending> rest;
      {
        std::lock_guard lock(queue_mutex_);
        failed_ = status;
        rest.swap(queue_);
      }
      for (auto& pending : rest) pending.done(status);
    }
  }
}

Status MemlogStorage::rollTo(sdk::Zxid first_zxid) {
  if (log_.isOpen()) {
    if (settings_.force_sync) {
      if (auto st = log_.sync(); !st.isOk()) return st;
    }
    log_.close();
  }
  roll_pending_ = false;
  return log_.open(settings_.logDir(), first_zxid, settings_.prealloc_kb * 1024);
}

bool MemlogStorage::shouldSnapshot() const {
  const int64_t snap_bytes = settings_.snap_size_limit_kb * 1024;
  return log_count_ > settings_.snap_count / 2 + rand_roll_ ||
         (snap_bytes > 0 && log_bytes_ > snap_bytes / 2 + rand_size_);
}

void MemlogStorage::resetSnapshotStats() {
  const int64_t half = std::max<int64_t>(settings_.snap_count / 2, 1);
  rand_roll_ = static_cast<int64_t>(rng_() % static_cast<uint64_t>(half));
  const int64_t half_bytes = settings_.snap_size_limit_kb * 1024 / 2;
  rand_size_ = half_bytes > 0 ? static_cast<int64_t>(rng_() % static_cast<uint64_t>(half_bytes)) : 0;
}

Status MemlogStorage::writeBatch(std::vector<Pending>& batch) {
  std::string buffer;
  auto flush = [&]() -> Status {
    if (buffer.empty()) return Status::ok();
    auto st = log_.write(buffer);
    buffer.clear();
    return st;
  };
  const int64_t size_limit = settings_.txn_log_size_limit_kb * 1024;
  for (auto& pending : batch) {
    const bool too_big = size_limit > 0 && log_.isOpen() &&
                         log_.position() + static_cast<int64_t>(buffer.size()) > size_limit;
    if (!log_.isOpen() || roll_pending_ || too_big) {
      if (auto st = flush(); !st.isOk()) return st;
      if (auto st = rollTo(pending.first_zxid); !st.isOk()) return st;
    }
    buffer += pending.records;
    log_count_ += pending.count;
    log_bytes_ += static_cast<int64_t>(pending.records.size());
    if (shouldSnapshot()) {
      // SyncRequestProcessor: reset the stats, roll the log, snapshot in the background.
      resetSnapshotStats();
      log_count_ = 0;
      log_bytes_ = 0;
      roll_pending_ = true;
      bool busy = false;
      {
        std::lock_guard lock(snap_mutex_);
        busy = snap_running_ || snap_requested_;
        if (!busy) snap_requested_ = true;
      }
      if (busy) {
        host_.logger().warn("Too busy to snap, skipping");
      } else {
        snap_cv_.notify_one();
      }
    }
  }
  if (auto st = flush(); !st.isOk()) return st;
  if (settings_.force_sync) {
    const auto start = Clock::now();
    if (auto st = log_.sync(); !st.isOk()) return st;
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    metrics_.fsync_count.add();
    metrics_.fsync_time.add(us / 1000);
    if (us / 1000 > settings_.fsync_warn_ms) {
      host_.logger().warn("fsync-ing the write ahead log in SyncThread took {}ms which will adversely "
                          "effect operation latency. File size is {} bytes. See the ZooKeeper "
                          "troubleshooting guide", us / 1000, log_.fileSize());
    }
  }
  return Status::ok();
}

}  // namespace corral::plugins::memlog
