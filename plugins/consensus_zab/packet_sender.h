// The sending half of a quorum-port connection (ZooKeeper's LearnerHandler.sendPackets and the
// learner's writer): a queue of encoded packets and a thread that writes them in order,
// coalescing whatever is queued into one write. A failed write shuts the socket down, which
// ends the reading side too. A peer that stops reading cannot grow the queue past
// kMaxQueuedBytes: the connection is dropped instead (the peer resyncs when it comes back).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net.h"
#include "quorum_packet.h"

namespace corral::plugins::zab {

using PacketBytes = std::shared_ptr<const std::string>;

inline PacketBytes packetBytes(const QuorumPacket& packet) {
  return std::make_shared<const std::string>(encodePacket(packet));
}

class PacketSender {
 public:
  static constexpr size_t kMaxQueuedBytes = size_t{256} << 20;

  explicit PacketSender(const Socket& socket) : socket_(socket) {}
  ~PacketSender() { stop(); }

  void start();
  // Writes what is queued, then ends (or ends at once when the socket failed).
  void stop();
  void send(PacketBytes bytes);
  void send(const QuorumPacket& packet) { send(packetBytes(packet)); }
  bool failed() const { return failed_.load(); }
  // Packets written so far (for the `observers` view); reset by orst.
  int64_t sentPackets() const { return sent_packets_.load(); }
  void resetSentPackets() { sent_packets_ = 0; }

 private:
  void loop();

  const Socket& socket_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<PacketBytes> queue_;
  size_t queued_bytes_ = 0;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  std::atomic<int64_t> sent_packets_{0};
  std::thread thread_;
};

}  // namespace corral::plugins::zab
