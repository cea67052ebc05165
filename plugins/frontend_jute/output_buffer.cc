#include "output_buffer.h"

namespace corral::plugins::jute {

bool OutputBuffer::requestClose() noexcept {
  std::lock_guard lock(mutex_);
  if (output_closed_ || close_requested_.load()) return false;
  close_requested_.store(true);
  const bool start = !flush_running_;
  flush_running_ = true;
  return start;
}

OutputBuffer::Next OutputBuffer::take(std::string& batch) noexcept {
  std::lock_guard lock(mutex_);
  if (output_closed_) {
    flush_running_ = true;
    return Next::kAbort;
  }
  if (!pending_.empty()) {
    batch.swap(pending_);
    return Next::kWrite;
  }
  if (close_requested_.load()) {
    flush_running_ = true;  // nothing else may start a flush: the connection is closing
    return Next::kClose;
  }
  flush_running_ = false;
  return Next::kIdle;
}

void OutputBuffer::written(int64_t bytes) noexcept {
  unsent_.fetch_sub(bytes, std::memory_order_relaxed);
}

void OutputBuffer::shutDown() noexcept {
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  std::string().swap(pending_);
  // Whatever a batch still held is dropped by the connection; nothing is unsent any more.
  unsent_.store(0, std::memory_order_relaxed);
}

}  // namespace corral::plugins::jute
