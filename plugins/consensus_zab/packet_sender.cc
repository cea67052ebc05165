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
    queue_.push_back(std::move(bytes));
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
    while (!queue_.empty() && buffer.size() < kCoalesceBytes) {
      buffer.append(*queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    const bool ok = socket_.writeAll(buffer).isOk();
    lock.lock();
    if (!ok) {
      failed_ = true;
      queue_.clear();
      socket_.shutdown();
      stopping_ = true;
      return;
    }
  }
}

}  // namespace corral::plugins::zab
