#include "packet_sender.h"

namespace corral::plugins::zab {

namespace {
constexpr size_t kCoalesceBytes = 1 << 20;
}

void PacketSender::start() {
  thread_ = std::thread([this] { loop(); });
}

void PacketSender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PacketSender::send(PacketBytes bytes) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    if (queued_bytes_ + bytes->size() > kMaxQueuedBytes) {
      // The peer stopped reading: drop the connection rather than buffer without end.
      failed_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      stopping_ = true;
      socket_.shutdown();
    } else {
      queued_bytes_ += bytes->size();
      queue_.push_back(std::move(bytes));
    }
  }
  cv_.notify_one();
}

void PacketSender::loop() {
  std::string buffer;
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, everything written
    buffer.clear();
    int64_t packets = 0;
    while (!queue_.empty() && buffer.size() < kCoalesceBytes) {
      ++packets;
      buffer.append(*queue_.front());
      queued_bytes_ -= queue_.front()->size();
      queue_.pop_front();
    }
    lock.unlock();
    const bool ok = socket_.writeAll(buffer).isOk();
    if (ok) sent_packets_.fetch_add(packets, std::memory_order_relaxed);
    lock.lock();
    if (!ok) {
      failed_ = true;
      queue_.clear();
      queued_bytes_ = 0;
      socket_.shutdown();
      stopping_ = true;
      return;
    }
  }
}

}  // namespace corral::plugins::zab
