// The election port (ZooKeeper's QuorumCnxManager, quorum-protocol.md §3): one TCP connection
// per pair of members, the one initiated by the larger sid; framed notifications both ways.
//
// Threads: one accepting; per member a sender (connects on demand, sends the newest queued
// message; a queue of one, as ZooKeeper's); per connection a reader, which also reads the
// initial message of an accepted connection. Received messages wait in one bounded queue
// that the election polls. A peer that sends garbage, an unknown or our own sid, or claims
// another member's election port is logged and its connection closed; nothing else changes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "corral/consensus.h"
#include "corral/host.h"
#include "membership.h"
#include "net.h"
#include "zab_settings.h"

namespace corral::plugins::zab {

struct ElectionMessage {
  int64_t sid = 0;
  std::string payload;
};

class ElectionConnections {
 public:
  ElectionConnections(Membership& membership, const ZabSettings& settings, sdk::Logger& log);
  ~ElectionConnections();

  sdk::Status start();
  void stop();

  // Queues `payload` for `sid` (replacing an unsent one); to ourselves it loops back.
  void send(int64_t sid, std::string payload);
  // The next received message, or nullopt after `timeout` (or once stopped).
  std::optional<ElectionMessage> poll(std::chrono::milliseconds timeout);
  // ZooKeeper's haveDelivered: some member's send queue is empty.
  bool haveDelivered();
  // Asks every member's sender to connect if it has no connection.
  void connectAll();
  void clearReceived();
  // Members a config adds get a sender; moved members their new address (ZooKeeper's
  // connectNewPeers when a config is seen).
  void addMembers(const QuorumConfig& config);

 private:
  struct Peer {
    int64_t id = 0;
    sdk::EnsembleMember member;  // under `mutex`: a reconfig may move it
    std::mutex mutex;
    std::condition_variable cv;
    std::shared_ptr<Socket> connection;
    std::optional<std::string> queued;
    std::string last_sent;
    bool resend_last = false;
    bool connect_wanted = false;
    bool report_unreachable = false;  // a config just added it: say so if it does not answer
    std::chrono::steady_clock::time_point last_attempt{};
    std::thread sender;
  };
  struct Reader {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void acceptLoop();
  void senderLoop(Peer& peer);
  void connectOnce(Peer& peer);
  // Runs on a reader thread: the initial message of an accepted connection, then frames.
  void serveAccepted(std::shared_ptr<Socket> socket);
  void readFrames(Peer& peer, std::shared_ptr<Socket> socket, std::string pending);
  void adopt(Peer& peer, std::shared_ptr<Socket> socket, std::string pending);
  void startReader(std::function<void()> body);
  void deliver(ElectionMessage message);
  Peer* findPeer(int64_t sid);
  Peer& addPeer(const sdk::EnsembleMember& member);  // peers_mutex_ held
  std::vector<Peer*> allPeers();

  Membership& membership_;
  const int64_t my_id_;
  const ZabSettings& settings_;
  sdk::Logger& log_;
  std::optional<sdk::EnsembleMember> me_;
  std::mutex peers_mutex_;
  std::map<int64_t, std::unique_ptr<Peer>> peers_;  // never erased: Peer pointers stay valid
  bool started_ = false;                            // senders run (peers_mutex_)
  int unconfigured_peers_ = 0;                      // peers added for servers in no config (peers_mutex_)
  std::atomic<bool> stopping_{false};
  Listener listener_;
  std::thread acceptor_;
  std::mutex readers_mutex_;
  std::list<Reader> readers_;
  std::list<std::shared_ptr<Socket>> handshaking_;  // accepted, initial message not read yet

  std::mutex received_mutex_;
  std::condition_variable received_cv_;
  std::deque<ElectionMessage> received_;
};

}  // namespace corral::plugins::zab
