#include "election_connections.h"

#include <utility>

#include <fmt/format.h>

#include "election_messages.h"

namespace corral::plugins::zab {

using namespace std::chrono_literals;

namespace {
constexpr size_t kReceivedCapacity = 1000;  // oldest dropped beyond this (ZooKeeper: 100)
constexpr auto kMinReconnectGap = 100ms;

// The member a joining server announces in its initial message ("host:port").
std::optional<sdk::EnsembleMember> announcedMember(int64_t sid, const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  sdk::EnsembleMember member;
  member.id = sid;
  member.host = address.substr(0, colon);
  if (member.host.size() > 2 && member.host.front() == '[' && member.host.back() == ']') {
    member.host = member.host.substr(1, member.host.size() - 2);
  }
  try {
    member.election_port = std::stoi(address.substr(colon + 1));
  } catch (...) {
    return std::nullopt;
  }
  if (member.election_port <= 0 || member.election_port > 65535) return std::nullopt;
  return member;
}

// Servers not (yet) in any config that we keep talking to: joiners, a few at a time.
constexpr int kMaxUnconfiguredPeers = 16;

}  // namespace

ElectionConnections::ElectionConnections(Membership& membership, const ZabSettings& settings, sdk::Logger& log)
    : membership_(membership), my_id_(membership.myId()), settings_(settings), log_(log) {
  const auto config = membership_.current();
  if (const auto* me = config->member(my_id_)) me_ = *me;
  std::lock_guard lock(peers_mutex_);
  for (const auto& member : config->members()) {
    if (member.id != my_id_) addPeer(member);
  }
  if (auto seen = membership_.lastSeen(); seen != config) {
    for (const auto& member : seen->members()) {
      if (member.id != my_id_ && !peers_.count(member.id)) addPeer(member);
    }
  }
}

ElectionConnections::Peer& ElectionConnections::addPeer(const sdk::EnsembleMember& member) {
  auto peer = std::make_unique<Peer>();
  peer->id = member.id;
  peer->member = member;
  Peer* p = peer.get();
  peers_.emplace(member.id, std::move(peer));
  if (started_ && !stopping_) p->sender = std::thread([this, p] { senderLoop(*p); });
  return *p;
}

ElectionConnections::Peer* ElectionConnections::findPeer(int64_t sid) {
  std::lock_guard lock(peers_mutex_);
  auto it = peers_.find(sid);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<ElectionConnections::Peer*> ElectionConnections::allPeers() {
  std::lock_guard lock(peers_mutex_);
  std::vector<Peer*> out;
  for (auto& [sid, peer] : peers_) out.push_back(peer.get());
  return out;
}

void ElectionConnections::addMembers(const QuorumConfig& config) {
  std::vector<Peer*> moved;
  {
    std::lock_guard lock(peers_mutex_);
    for (const auto& member : config.members()) {
      if (member.id == my_id_) continue;
      auto it = peers_.find(member.id);
      if (it == peers_.end()) {
        // ZooKeeper's connectNewPeers: a member a config adds is called at once, so that one
        // that does not answer is reported now rather than at the next election.
        Peer& peer = addPeer(member);
        {
          std::lock_guard peer_lock(peer.mutex);
          peer.connect_wanted = true;
          peer.report_unreachable = true;
        }
        peer.cv.notify_all();
        log_.info("election: sid {} is a member from config version {:x}, at {}", member.id, config.version(),
                  hostPort(member.host, member.election_port));
        continue;
      }
      moved.push_back(it->second.get());
    }
  }
  for (Peer* peer : moved) {
    const auto* member = config.member(peer->id);
    std::lock_guard lock(peer->mutex);
    if (peer->member.host != member->host || peer->member.election_port != member->election_port) {
      if (peer->connection) peer->connection->shutdown();
    }
    peer->member = *member;
  }
}

ElectionConnections::~ElectionConnections() { stop(); }

sdk::Status ElectionConnections::start() {
  if (!me_) return sdk::Status(sdk::Code::kInvalidConfig, "myid is not among the server.N lines");
  const std::string host = settings_.listen_on_all_ips ? "0.0.0.0" : me_->host;
  sdk::Result<Listener> listener = sdk::Status();
  for (int attempt = 0; attempt < 3; ++attempt) {  // electionPortBindRetry
    listener = Listener::bind(host, me_->election_port);
    if (listener) break;
    std::this_thread::sleep_for(1s);
  }
  if (!listener) {
    return sdk::Status(sdk::Code::kSystemError,
                       fmt::format("election port {}: {}", hostPort(host, me_->election_port), listener.status().message()));
  }
  listener_ = std::move(*listener);
  log_.info("election: listening on {}", hostPort(host, me_->election_port));
  acceptor_ = std::thread([this] { acceptLoop(); });
  std::lock_guard lock(peers_mutex_);
  started_ = true;
  for (auto& [sid, peer] : peers_) {
    Peer* p = peer.get();
    p->sender = std::thread([this, p] { senderLoop(*p); });
  }
  return sdk::Status::ok();
}

void ElectionConnections::stop() {
  if (stopping_.exchange(true)) return;
  listener_.close();
  if (acceptor_.joinable()) acceptor_.join();
  for (Peer* peer : allPeers()) {
    {
      std::lock_guard lock(peer->mutex);
      if (peer->connection) peer->connection->shutdown();
    }
    peer->cv.notify_all();
    if (peer->sender.joinable()) peer->sender.join();
  }
  {
    std::lock_guard lock(readers_mutex_);
    for (auto& socket : handshaking_) socket->shutdown();
  }
  std::list<Reader> readers;
  {
    std::lock_guard lock(readers_mutex_);
    readers.swap(readers_);
  }
  for (auto& reader : readers) {
    if (reader.thread.joinable()) reader.thread.join();
  }
  received_cv_.notify_all();
}

void ElectionConnections::startReader(std::function<void()> body) {
  std::lock_guard lock(readers_mutex_);
  // Reap readers that ended (reconnects come and go).
  for (auto it = readers_.begin(); it != readers_.end();) {
    if (it->done.load()) {
      it->thread.join();
      it = readers_.erase(it);
    } else {
      ++it;
    }
  }
  auto& reader = readers_.emplace_back();
  reader.thread = std::thread([body = std::move(body), &done = reader.done] {
    body();
    done = true;
  });
}

void ElectionConnections::acceptLoop() {
  while (!stopping_) {
    auto accepted = listener_.accept();
    if (!accepted) {
      if (!stopping_) log_.warn("election: accept failed: {}", accepted.status().message());
      if (!stopping_) std::this_thread::sleep_for(100ms);
      continue;
    }
    if (stopping_) break;
    auto socket = std::make_shared<Socket>(std::move(*accepted));
    {
      std::lock_guard lock(readers_mutex_);
      handshaking_.push_back(socket);
    }
    startReader([this, socket] { serveAccepted(socket); });
  }
}

void ElectionConnections::serveAccepted(std::shared_ptr<Socket> socket) {
  const std::string from = socket->peerAddress();
  auto finishHandshake = [&] {
    std::lock_guard lock(readers_mutex_);
    handshaking_.remove(socket);
  };
  socket->setReadTimeout(settings_.cnx_timeout_ms);
  std::string bytes;
  std::optional<InitialMessage> message;
  size_t consumed = 0;
  while (!message) {
    char chunk[4096];
    auto got = socket->readSome(chunk, sizeof chunk);
    if (!got || *got == 0) {
      if (!stopping_) log_.warn("election: connection from {} closed before its initial message", from);
      return finishHandshake();
    }
    bytes.append(chunk, *got);
    auto decoded = decodeInitialMessage(bytes, consumed);
    if (!decoded) {
      log_.warn("election: connection from {} sent a bad initial message ({}); closed", from,
                decoded.status().message());
      return finishHandshake();
    }
    message = *decoded;
  }
  finishHandshake();
  const int64_t sid = message->sid;
  const std::string claimed = message->addresses.substr(0, message->addresses.find('|'));
  Peer* found = sid == my_id_ ? nullptr : findPeer(sid);
  if (found == nullptr && sid != my_id_ && membership_.reconfigEnabled()) {
    // A server about to join by reconfig talks to us before it is in our config: keep it (as
    // ZooKeeper does) at the address it announces, so that it learns the leader and config.
    if (auto joiner = announcedMember(sid, claimed)) {
      std::lock_guard lock(peers_mutex_);
      auto it = peers_.find(sid);
      if (it != peers_.end()) {
        found = it->second.get();
      } else if (unconfigured_peers_ < kMaxUnconfiguredPeers) {
        // Each costs a sender thread for good: a peer inventing sids must not make more.
        ++unconfigured_peers_;
        found = &addPeer(*joiner);
        log_.info("election: sid {} at {} is not in our config; talking to it (reconfig is enabled)", sid, claimed);
      } else {
        log_.warn("election: sid {} at {} is not in our config and {} such servers already are; closed", sid,
                  claimed, kMaxUnconfiguredPeers);
        return;
      }
    }
  }
  if (found == nullptr) {
    log_.warn("election: connection from {} claims sid {}, {}; closed", from, sid,
              sid == my_id_ ? "which is our own" : "which is not a member");
    return;
  }
  Peer& peer = *found;
  // A peer announcing another member's election address as its own is misconfigured or
  // hostile. (An address that is nobody's is fine: proxies and NAT rewrite addresses. We call
  // a smaller sid back at its configured address; ZooKeeper 3.8 uses the announced one.)
  for (const auto& member : membership_.current()->members()) {
    if (member.id != sid && !claimed.empty() && claimed == hostPort(member.host, member.election_port)) {
      log_.warn("election: connection from {} claims sid {} but announces {}, the election address of server.{}; closed",
                from, sid, claimed, member.id);
      return;
    }
  }
  if (sid < my_id_) {
    // Only the connection the larger sid initiates is kept: call it back.
    {
      std::lock_guard lock(peer.mutex);
      peer.connect_wanted = true;
    }
    peer.cv.notify_all();
    return;
  }
  socket->setReadTimeout(0);
  adopt(peer, socket, bytes.substr(consumed));
}

void ElectionConnections::adopt(Peer& peer, std::shared_ptr<Socket> socket, std::string pending) {
  {
    std::lock_guard lock(peer.mutex);
    if (peer.connection) peer.connection->shutdown();
    peer.connection = socket;
    peer.resend_last = true;  // a peer that reconnects first gets our last message again
  }
  peer.cv.notify_all();
  readFrames(peer, std::move(socket), std::move(pending));
}

void ElectionConnections::readFrames(Peer& peer, std::shared_ptr<Socket> socket, std::string pending) {
  std::string bytes = std::move(pending);
  size_t pos = 0;
  while (!stopping_) {
    size_t consumed = 0;
    auto framed = unframe(std::string_view(bytes).substr(pos), consumed);
    if (!framed) {
      log_.warn("election: sid {} sent a bad frame ({}); connection closed", peer.id, framed.status().message());
      break;
    }
    if (*framed) {
      deliver({peer.id, std::string(**framed)});
      pos += consumed;
      continue;
    }
    if (pos > 0) {
      bytes.erase(0, pos);
      pos = 0;
    }
    char chunk[8192];
    auto got = socket->readSome(chunk, sizeof chunk);
    if (!got || *got == 0) break;
    bytes.append(chunk, *got);
  }
  std::lock_guard lock(peer.mutex);
  if (peer.connection == socket) peer.connection.reset();
  socket->shutdown();
}

void ElectionConnections::connectOnce(Peer& peer) {
  sdk::EnsembleMember member;
  bool report = false;  // a config just added it: say so if it does not answer
  {
    std::lock_guard lock(peer.mutex);
    member = peer.member;
    report = std::exchange(peer.report_unreachable, false);
  }
  auto connected = connectTo(member.host, member.election_port, settings_.cnx_timeout_ms);
  if (!connected) {
    const auto text = fmt::format("election: cannot reach sid {} at {}: {}", member.id,
                                  hostPort(member.host, member.election_port), connected.status().message());
    if (report) {
      log_.warn("{} (a member of the config; the ensemble serves without it)", text);
    } else {
      log_.debug("{}", text);
    }
    return;
  }
  auto socket = std::make_shared<Socket>(std::move(*connected));
  InitialMessage hello{my_id_, hostPort(me_->host, me_->election_port), kProtocolVersionV1};
  if (!socket->writeAll(encodeInitialMessage(hello)).isOk()) return;
  if (member.id > my_id_) return;  // the larger sid calls back; this one closes
  startReader([this, &peer, socket] { adopt(peer, socket, {}); });
}

void ElectionConnections::senderLoop(Peer& peer) {
  std::unique_lock lock(peer.mutex);
  while (!stopping_) {
    peer.cv.wait_for(lock, 1s, [&] {
      return stopping_ || peer.connect_wanted || (peer.queued && !peer.connection) ||
             (peer.connection && (peer.queued || (peer.resend_last && !peer.last_sent.empty())));
    });
    if (stopping_) break;
    if (!peer.connection) {
      if (!peer.queued && !peer.connect_wanted) continue;
      const auto now = std::chrono::steady_clock::now();
      if (now - peer.last_attempt < kMinReconnectGap) {
        peer.cv.wait_until(lock, peer.last_attempt + kMinReconnectGap, [&] { return stopping_ || peer.connection; });
        continue;
      }
      peer.last_attempt = now;
      peer.connect_wanted = false;
      lock.unlock();
      connectOnce(peer);
      lock.lock();
      if (!peer.connection) {
        // Wait for the larger sid to call back (or the next retry).
        peer.cv.wait_for(lock, kMinReconnectGap, [&] { return stopping_ || peer.connection; });
      }
      continue;
    }
    peer.connect_wanted = false;
    std::string message;
    if (peer.queued) {
      message = std::move(*peer.queued);
      peer.queued.reset();
    } else if (peer.resend_last) {
      message = peer.last_sent;
    }
    peer.resend_last = false;
    if (message.empty()) continue;
    auto socket = peer.connection;
    lock.unlock();
    const bool sent = socket->writeAll(frame(message)).isOk();
    lock.lock();
    if (sent) {
      peer.last_sent = std::move(message);
    } else {
      if (peer.connection == socket) peer.connection.reset();
      socket->shutdown();
      if (!peer.queued) peer.queued = std::move(message);
    }
  }
}

void ElectionConnections::send(int64_t sid, std::string payload) {
  if (sid == my_id_) return deliver({sid, std::move(payload)});
  Peer* peer = findPeer(sid);
  if (peer == nullptr) return;
  {
    std::lock_guard lock(peer->mutex);
    peer->queued = std::move(payload);
  }
  peer->cv.notify_all();
}

void ElectionConnections::deliver(ElectionMessage message) {
  {
    std::lock_guard lock(received_mutex_);
    if (received_.size() >= kReceivedCapacity) received_.pop_front();
    received_.push_back(std::move(message));
  }
  received_cv_.notify_one();
}

std::optional<ElectionMessage> ElectionConnections::poll(std::chrono::milliseconds timeout) {
  std::unique_lock lock(received_mutex_);
  received_cv_.wait_for(lock, timeout, [&] { return stopping_ || !received_.empty(); });
  if (received_.empty()) return std::nullopt;
  ElectionMessage message = std::move(received_.front());
  received_.pop_front();
  return message;
}

bool ElectionConnections::haveDelivered() {
  const auto peers = allPeers();
  if (peers.empty()) return true;
  for (Peer* peer : peers) {
    std::lock_guard lock(peer->mutex);
    if (!peer->queued) return true;
  }
  return false;
}

void ElectionConnections::connectAll() {
  const auto config = membership_.current();
  for (Peer* peer : allPeers()) {
    if (!config->isVoter(peer->id)) continue;  // observers (and joiners) call us
    {
      std::lock_guard lock(peer->mutex);
      if (!peer->connection) peer->connect_wanted = true;
    }
    peer->cv.notify_all();
  }
}

void ElectionConnections::clearReceived() {
  std::lock_guard lock(received_mutex_);
  received_.clear();
}

}  // namespace corral::plugins::zab
