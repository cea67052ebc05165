// The unsent output of one client connection, bounded by the server's output limits
// (sdk::OutputLimits, from Host::admission()). Shared by every stream front end (jute,
// thrift, a plugin author's own): part of the SDK's connection kit, corral/net/.
//
// Kernel threads encode replies and watch events straight into `pending_` under a mutex; the
// connection's strand takes everything queued in one swap and writes it as one batch. The
// unsent count covers both (queued, and taken but not on the socket yet), and is what the
// limits act on:
// - overSoftLimit(): the connection takes no new request (its strand checks between frames);
//   canResumeReading() once half of the soft limit has drained;
// - a frame that takes the count past the hard limit closes the output at once: what is queued
//   is dropped, later frames are refused, and append() tells the caller to close the socket.
//
// Threading: append(), requestClose() and closeRequested() from any thread; the rest from the
// connection's strand only. Nothing here throws.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "corral/admission.h"

namespace corral::sdk::net {

class OutputBuffer {
 public:
  explicit OutputBuffer(sdk::OutputLimits limits) noexcept : limits_(limits) {}

  struct Appended {
    int64_t frame_bytes = -1;      // size without the 4-byte length; -1: nothing was queued
    bool start_flush = false;      // no flush was running: the caller must schedule one
    bool over_hard_limit = false;  // output is now closed: the caller closes the connection
    bool encode_failed = false;    // out of memory while encoding: output closes after a flush
  };

  // Appends one frame (`encode(std::string&)` appends it, length prefix included) unless the
  // output is closed or a close was requested. `close_after`: nothing may follow this frame.
  template <typename Encode>
  Appended append(Encode&& encode, bool close_after) noexcept;

  // Bytes held outside the buffer that will be written later (frontend.thrift's watch events,
  // which wait for the next reply) count against the limits as queued frames do. False when
  // this takes the count past the hard limit: the output is closed then, as by append(), and
  // the caller closes the connection.
  bool reserve(int64_t bytes) noexcept;
  // Reserved bytes that are about to be appended (or dropped).
  void unreserve(int64_t bytes) noexcept;

  // Asks for a graceful close: what is queued is written, then the connection closes. True
  // when the caller must schedule the flush that will do it; false when one already runs or
  // the output was closed.
  bool requestClose() noexcept;
  bool closeRequested() const noexcept { return close_requested_.load(); }

  // --- Strand only
  enum class Next {
    kWrite,  // `batch` holds frames to write
    kIdle,   // nothing queued: the flush is over (the next append starts one)
    kClose,  // nothing queued and a close was requested: close gracefully now
    kAbort,  // the output went past the hard limit: close at once, without a goodbye
  };
  // Swaps everything queued into `batch` (which must be empty), keeping both capacities.
  Next take(std::string& batch) noexcept;
  // `bytes` of a taken batch reached the socket.
  void written(int64_t bytes) noexcept;
  // The socket is closing: drops what is queued and refuses every later frame.
  void shutDown() noexcept;

  int64_t unsentBytes() const noexcept { return unsent_.load(std::memory_order_relaxed); }
  bool overSoftLimit() const noexcept { return unsentBytes() > limits_.soft_bytes; }
  bool canResumeReading() const noexcept { return unsentBytes() <= limits_.soft_bytes / 2; }
  const sdk::OutputLimits& limits() const noexcept { return limits_; }

 private:
  const sdk::OutputLimits limits_;
  std::mutex mutex_;
  std::string pending_;          // guarded by mutex_
  bool flush_running_ = false;   // guarded by mutex_: a flush is scheduled or writing
  bool output_closed_ = false;   // guarded by mutex_
  std::atomic<bool> close_requested_{false};
  std::atomic<int64_t> unsent_{0};  // bytes appended and not yet written (prefixes included)
};

template <typename Encode>
OutputBuffer::Appended OutputBuffer::append(Encode&& encode, bool close_after) noexcept {
  Appended result;
  std::lock_guard lock(mutex_);
  if (output_closed_ || close_requested_.load()) return result;
  const size_t before = pending_.size();
  try {
    encode(pending_);
  } catch (...) {
    pending_.resize(before);  // never leave half a frame behind
    result.encode_failed = true;
    close_requested_.store(true);
    result.start_flush = !flush_running_;
    flush_running_ = true;
    return result;
  }
  const auto added = static_cast<int64_t>(pending_.size() - before);
  if (unsent_.fetch_add(added, std::memory_order_relaxed) + added > limits_.hard_bytes) {
    // The frame's memory goes at once, not when the strand gets to close the socket.
    unsent_.fetch_sub(static_cast<int64_t>(pending_.size()), std::memory_order_relaxed);
    std::string().swap(pending_);
    output_closed_ = true;
    close_requested_.store(true);
    result.over_hard_limit = true;
    return result;
  }
  result.frame_bytes = added - 4;
  if (close_after) close_requested_.store(true);
  result.start_flush = !flush_running_;
  flush_running_ = true;
  return result;
}

inline bool OutputBuffer::requestClose() noexcept {
  std::lock_guard lock(mutex_);
  if (output_closed_ || close_requested_.load()) return false;
  close_requested_.store(true);
  const bool start = !flush_running_;
  flush_running_ = true;
  return start;
}

inline bool OutputBuffer::reserve(int64_t bytes) noexcept {
  std::lock_guard lock(mutex_);
  if (output_closed_) return false;
  if (unsent_.fetch_add(bytes, std::memory_order_relaxed) + bytes <= limits_.hard_bytes) return true;
  unsent_.store(0, std::memory_order_relaxed);
  std::string().swap(pending_);
  output_closed_ = true;
  close_requested_.store(true);
  return false;
}

inline void OutputBuffer::unreserve(int64_t bytes) noexcept {
  std::lock_guard lock(mutex_);
  if (!output_closed_) unsent_.fetch_sub(bytes, std::memory_order_relaxed);
}

inline OutputBuffer::Next OutputBuffer::take(std::string& batch) noexcept {
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

inline void OutputBuffer::written(int64_t bytes) noexcept {
  unsent_.fetch_sub(bytes, std::memory_order_relaxed);
}

inline void OutputBuffer::shutDown() noexcept {
  std::lock_guard lock(mutex_);
  output_closed_ = true;
  std::string().swap(pending_);
  // Whatever a batch still held is dropped by the connection; nothing is unsent any more.
  unsent_.store(0, std::memory_order_relaxed);
}

}  // namespace corral::sdk::net
