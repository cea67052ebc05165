// A learner master's side of one learner connection (ZooKeeper's LearnerHandler): the
// handshake (FOLLOWERINFO/OBSERVERINFO, LEADERINFO, ACKEPOCH), the sync the master chooses, the
// NEWLEADER ack, UPTODATE, then the learner's ACKs, PING replies (session touches), REVALIDATEs
// and forwarded REQUESTs, each handed to the master (the Leader, or a follower's
// ObserverMaster). A learner that sends garbage, an unknown sid, a role its config line does
// not give it, an old protocol, or claims to be ahead of the leader is logged and dropped; the
// master goes on.
//
// run() is the handler's reading thread; send() may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <list>
#include <mutex>
#include <memory>
#include <string>
#include <thread>

#include "corral/consensus.h"
#include "net.h"
#include "packet_sender.h"

namespace corral::plugins::zab {

class LearnerMaster;

class LearnerHandler : public std::enable_shared_from_this<LearnerHandler> {
 public:
  LearnerHandler(LearnerMaster& master, Socket socket);
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
  LearnerMaster& master() { return master_; }
  const std::string& address() const { return address_; }
  // For the `observers` view: packets queued and sent, and when it connected (wall ms).
  int64_t connectedAtMs() const { return connected_at_ms_; }
  int64_t packetsReceived() const { return packets_received_.load(); }
  int64_t packetsSent() const { return sender_.sentPackets(); }
  void resetStats();
  // The last txn sent to it, and the forwarded requests it sent (ZooKeeper's last_zxid and
  // requests in the `observers` view).
  void noteSent(sdk::Zxid zxid) { last_zxid_.store(zxid, std::memory_order_relaxed); }
  sdk::Zxid lastZxid() const { return last_zxid_.load(); }
  int64_t requests() const { return requests_.load(); }
  void noteRequest() { requests_.fetch_add(1, std::memory_order_relaxed); }

 private:
  void run();
  sdk::Status handshake();
  sdk::Status streamSnapshot(sdk::Zxid zxid);
  sdk::Status broadcast();
  void heard();

  LearnerMaster& master_;
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
  const int64_t connected_at_ms_;
  std::atomic<int64_t> packets_received_{0};
  std::atomic<sdk::Zxid> last_zxid_{-1};
  std::atomic<int64_t> requests_{0};
};

// A master's accept loop: until `ended`, every connection on `listener` is served by a new
// LearnerHandler of `master`, kept in `handlers` under `mutex`; handlers that ended are reaped
// (joined) on the way.
void acceptLearners(Listener& listener, const std::atomic<bool>& ended, std::mutex& mutex,
                    std::list<std::shared_ptr<LearnerHandler>>& handlers, LearnerMaster& master);

}  // namespace corral::plugins::zab
