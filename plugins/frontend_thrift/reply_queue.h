// The order of one Thrift connection's replies, and the watch events they carry.
//
// Thrift answers calls in the order they were sent, and corral.thrift promises that a reply
// carries every watch event the kernel sent before it. The kernel answers one session's
// requests in order, except pings (answered at once, ahead of writes in flight), and sends
// events between answers. So each call gets a slot (its xid numbers it), answers fill slots, and
// a slot is written once every slot before it was: with all events held until then.
//
// A ping may wait for events (long poll): when its answer is the only thing left and no event
// is held, it parks instead of being written, until an event arrives, its wait ends (wake(),
// from the connection's timer) or the next call arrives (add()).
//
// No I/O here: each method takes `emit(Ready&)`, which encodes one reply into the
// connection's output. emit runs under the queue's lock, so replies leave in slot order
// whatever thread answers. Any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "corral/frontend.h"
#include "thrift_call.h"

namespace corral::plugins::thrift {

class ReplyQueue {
 public:
  struct Ready {
    Call& call;
    sdk::ClientResponse& response;
    std::vector<sdk::WatcherEvent>& events;  // to write in the reply (emit may move them out)
  };

  // What the caller must do after an operation: arm the park timer of generation `park` for
  // `wait_ms` (0: nothing to arm).
  struct Parked {
    uint64_t park = 0;
    int32_t wait_ms = 0;
  };

  // A new call: ends a parked ping, then takes a slot. Returns the call's xid (> 0).
  template <typename Emit>
  int32_t add(Call call, Emit&& emit) {
    std::lock_guard lock(mutex_);
    unpark();
    drain(emit);
    const int32_t xid = next_xid_;
    next_xid_ = next_xid_ == INT32_MAX ? 1 : next_xid_ + 1;
    slots_.push_back(Slot{xid, std::move(call), std::nullopt, true});
    return xid;
  }

  // The answer of call `xid` (the kernel's, or one the front end made).
  template <typename Emit>
  Parked answer(sdk::ClientResponse response, Emit&& emit) {
    std::lock_guard lock(mutex_);
    // The kernel answers every ping with ZooKeeper's ping xid (-2), as ZooKeeper does, and
    // pings in the order they came: the answer is the oldest unanswered ping's.
    const bool ping = response.xid == sdk::xids::kPing;
    for (auto& slot : slots_) {
      if (ping ? (slot.call.method == Method::kPing && !slot.response) : slot.xid == response.xid) {
        response.xid = slot.xid;
        slot.response = std::move(response);
        break;
      }
    }
    return drain(emit);
  }

  // A watch event: held for the next reply; it ends a parked ping.
  template <typename Emit>
  void event(sdk::WatcherEvent event, Emit&& emit) {
    std::lock_guard lock(mutex_);
    held_.push_back(std::move(event));
    if (parked_) {
      unpark();
      drain(emit);
    }
  }

  // The park timer of generation `park` fired.
  template <typename Emit>
  void wake(uint64_t park, Emit&& emit) {
    std::lock_guard lock(mutex_);
    if (!parked_ || park != park_) return;
    unpark();
    drain(emit);
  }

  // Runs `f()` under the queue's lock (to encode a reply that is not in a slot).
  template <typename F>
  void locked(F&& f) {
    std::lock_guard lock(mutex_);
    f();
  }

  size_t heldEvents() {
    std::lock_guard lock(mutex_);
    return held_.size();
  }

 private:
  struct Slot {
    int32_t xid;
    Call call;
    std::optional<sdk::ClientResponse> response;
    bool may_park;  // a ping not yet parked (or woken): it may wait for events
  };

  void unpark() {
    if (!parked_) return;
    parked_ = false;
    if (!slots_.empty()) slots_.front().may_park = false;
  }

  template <typename Emit>
  Parked drain(Emit& emit) {
    Parked parked;
    while (!slots_.empty() && slots_.front().response && !parked_) {
      Slot& front = slots_.front();
      if (front.call.method == Method::kPing && front.may_park && front.call.ping_wait_ms > 0 &&
          held_.empty() && slots_.size() == 1 && front.response->err == sdk::Code::kOk) {
        parked_ = true;
        front.may_park = false;
        parked = Parked{++park_, front.call.ping_wait_ms};
        break;
      }
      Ready ready{front.call, *front.response, held_};
      emit(ready);
      held_.clear();
      slots_.pop_front();
    }
    return parked;
  }

  std::mutex mutex_;
  std::deque<Slot> slots_;
  std::vector<sdk::WatcherEvent> held_;
  bool parked_ = false;   // the front slot is a ping waiting for events
  uint64_t park_ = 0;     // generation of the current (or last) park
  int32_t next_xid_ = 1;
};

}  // namespace corral::plugins::thrift
