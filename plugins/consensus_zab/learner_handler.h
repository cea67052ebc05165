// The leader's side of one learner connection (ZooKeeper's LearnerHandler): the handshake
// (FOLLOWERINFO/OBSERVERINFO, LEADERINFO, ACKEPOCH), the sync the Leader chooses, the NEWLEADER
// ack, UPTODATE, then the learner's ACKs, PING replies (session touches), REVALIDATEs and
// forwarded REQUESTs. A learner that sends garbage, an unknown sid, an old protocol, or claims
// to be ahead of the leader is logged and dropped; the leader goes on.
//
// run() is the handler's reading thread; send() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "corral/consensus.h"
#include "net.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

class Leader;

class LearnerHandler : public std::enable_shared_from_this<LearnerHandler> {
 public:
  LearnerHandler(Leader& leader, Socket socket);
  ~LearnerHandler();

  void start();
  void shutdown();  // wakes run(); join() waits for it
  void join();

  int64_t sid() const { return sid_.load(); }
  bool isObserver() const { return observer_; }
  bool isVoter() const;
  // Broadcasting and heard from within syncLimit (ZooKeeper's LearnerHandler.synced()).
  bool synced() const;
  bool broadcasting() const { return broadcasting_.load(); }
  bool ended() const { return ended_.load(); }
  void send(PacketBytes bytes) { sender_.send(std::move(bytes)); }
  void send(const QuorumPacket& packet) { sender_.send(packet); }
  void ping(sdk::Zxid last_proposed);
  std::string describe() const;

 private:
  void run();
  sdk::Status handshake();
  sdk::Status streamSnapshot(sdk::Zxid zxid);
  sdk::Status broadcast();
  void heard();

  Leader& leader_;
  Socket socket_;
  PacketReader reader_;
  PacketSender sender_;
  std::thread thread_;
  std::atomic<int64_t> sid_{-1};
  bool observer_ = false;
  std::atomic<bool> broadcasting_{false};
  std::atomic<bool> ended_{false};
  std::atomic<int64_t> last_heard_ms_{0};
  const std::string address_;
};

}  // namespace corral::plugins::zab
