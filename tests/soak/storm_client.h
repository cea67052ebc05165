// corral-storm's client engine: many ZooKeeper sessions on one epoll loop, each behaving like
// a real client (ZooKeeper's ClientCnxn): non-blocking connect, ConnectRequest with the
// session id, password and last zxid seen when re-attaching, a ping when it has sent nothing
// for a third of the session timeout, the connection given up when nothing was received for
// two thirds of it (the client's read timeout), and on a lost connection a move to the next
// server of the list — at once the first time, then after a random back-off.
//
// Scenarios (corral_storm.cc) own the sessions and get callbacks; the engine never frees a
// session, retire() defers that to the end of the current poll().
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "storm_util.h"
#include "storm_wire.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace storm {

enum class State : uint8_t { kIdle, kHandshake, kConnected, kDone };

// Why a connection ended.
enum class Lost : uint8_t {
  kConnectError,         // socket()/connect() failed or the TCP connect was refused/reset
  kClosedBeforeSession,  // TCP up, closed before a ConnectResponse (server not serving)
  kHandshakeTimeout,     // no ConnectResponse within the connect timeout
  kReadTimeout,          // nothing received for 2/3 of the session timeout
  kClosed,               // an established session's connection closed or reset
  kProtocol,             // a frame we could not read
};
inline const char* lostName(Lost l) {
  switch (l) {
    case Lost::kConnectError: return "connect_error";
    case Lost::kClosedBeforeSession: return "closed_before_session";
    case Lost::kHandshakeTimeout: return "handshake_timeout";
    case Lost::kReadTimeout: return "read_timeout";
    case Lost::kClosed: return "closed";
    case Lost::kProtocol: return "protocol_error";
  }
  return "?";
}

struct Pending {
  int32_t xid;
  int32_t op;
  uint32_t arg;   // scenario's: key index, ...
  uint8_t kind;   // scenario's: what the request was for
  uint64_t sentNs;
};

struct Session {
  uint32_t id = 0;
  uint8_t role = 0;
  State st = State::kIdle;
  int fd = -1;
  uint32_t gen = 0;     // bumped at every connect and loss: stale callbacks can tell
  int host = 0;         // index of the server it is connected (or connecting) to
  bool reconnect = true;
  bool noRead = false;  // never read the socket (slow consumer)
  bool closing = false; // closeSession sent
  bool tcpUp = false;
  bool wantOut = false;
  bool dirty = false;
  bool retrying = false;
  int rcvbuf = 0;               // SO_RCVBUF before connect (0: kernel default, autotuned)
  int32_t pingIntervalMs = 0;   // 0: a third of the negotiated timeout
  int32_t askTimeoutMs = 0;     // session timeout it asks for (0: the engine's)
  int64_t sessionId = 0;
  char passwd[16] = {};
  int32_t timeoutMs = 0;
  int64_t lastZxid = 0;
  int32_t xid = 0;
  std::string out;
  size_t outOff = 0;
  std::vector<char> in;
  size_t inLen = 0;
  std::deque<Pending> pending;
  std::deque<uint64_t> pings;
  uint64_t lastSendNs = 0, lastRecvNs = 0, attemptNs = 0, retryAtNs = 0, closeSentNs = 0;
  uint32_t attempts = 0;   // connection attempts since the session was last established
  size_t trackIdx = SIZE_MAX;
  // scenario data
  uint32_t outstanding = 0;
  std::vector<uint32_t> keys;   // soak: watched keys, sorted
  std::vector<int32_t> ver;     // soak: version read when the watch was (re-)armed
  std::vector<uint8_t> armed;   // soak: 1 while a watch is set and not yet fired
  uint32_t armNext = 0;
  uint64_t t0 = 0, t1 = 0, t2 = 0;
  bool flag = false;
};

struct Handler {
  virtual ~Handler() = default;
  // A ConnectResponse granted a session: a new one, or `reattached` the one it had.
  virtual void onSession(Session& s, bool reattached) = 0;
  // A ConnectResponse without a session: `expired` when it asked for one it had.
  virtual void onRefused(Session& s, bool expired) = 0;
  // The connection ended (s.pending still holds what was unanswered); `was` is the state before.
  virtual void onLost(Session& s, Lost why, int err, State was) = 0;
  virtual void onReply(Session& s, const Pending& p, const wire::Header& h, const char* body,
                       size_t len) = 0;
  virtual void onEvent(Session&, const wire::Event&) {}
  virtual void onPing(Session&, uint64_t /*latencyNs*/) {}
  // closeSession answered (or the server closed after it): the connection is closed.
  virtual void onClosed(Session&) {}
};

struct EngineConfig {
  std::vector<sockaddr_in> hosts;
  std::vector<std::string> hostNames;
  int32_t timeoutMs = 30000;
  int sourceIps = 0;             // bind sources to 127.1.x.y round-robin (more 4-tuples)
  int backoffMs = 1000;          // random back-off of the 2nd.. attempt after a loss
  double handshakeTimeoutS = 0;  // 0: session timeout / number of hosts (ZooKeeper's connectTimeout)
};

class Engine {
 public:
  Engine(EngineConfig cfg, Handler* h) : cfg_(std::move(cfg)), h_(h), rng_(std::random_device{}()) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    scratch_.resize(1 << 18);
  }
  ~Engine() { ::close(ep_); }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const EngineConfig& config() const { return cfg_; }
  size_t hostCount() const { return cfg_.hosts.size(); }

  // Sessions the engine watches for timeouts, pings and retries.
  void track(Session& s) {
    if (s.trackIdx != SIZE_MAX) return;
    s.trackIdx = tracked_.size();
    tracked_.push_back(&s);
  }
  void untrack(Session& s) {
    if (s.trackIdx == SIZE_MAX) return;
    Session* last = tracked_.back();
    tracked_[s.trackIdx] = last;
    last->trackIdx = s.trackIdx;
    tracked_.pop_back();
    s.trackIdx = SIZE_MAX;
  }
  // Closes and forgets a session; the owner frees it after poll() returns (graveyard).
  void retire(Session& s, std::unique_ptr<Session> owned = nullptr) {
    closeFd(s);
    s.st = State::kDone;
    s.reconnect = false;
    untrack(s);
    if (owned) graveyard_.push_back(std::move(owned));
  }

  // Starts a TCP connect + ConnectRequest to s.host now.
  void connect(Session& s) {
    track(s);
    s.retrying = false;
    ++s.attempts;
    ++s.gen;
    ++attemptsTotal;
    s.attemptNs = nowNs();
    s.tcpUp = false;
    s.closing = false;
    s.out.clear();
    s.outOff = 0;
    s.inLen = 0;
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      failConnect(s, errno);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (s.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s.rcvbuf, sizeof s.rcvbuf);
    if (cfg_.sourceIps > 0) {
      setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      const unsigned k = unsigned(srcNext_++ % unsigned(cfg_.sourceIps));
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl((127u << 24) | (1u << 16) | ((k / 250) << 8) | (k % 250 + 1));
      if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
        const int e = errno;
        ::close(fd);
        failConnect(s, e);
        return;
      }
    }
    const sockaddr_in& dst = cfg_.hosts[size_t(s.host) % cfg_.hosts.size()];
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&dst), sizeof dst) != 0 && errno != EINPROGRESS) {
      const int e = errno;
      ::close(fd);
      failConnect(s, e);
      return;
    }
    s.fd = fd;
    s.st = State::kHandshake;
    wire::writeConnect(s.out, s.askTimeoutMs > 0 ? s.askTimeoutMs : cfg_.timeoutMs, s.sessionId, s.passwd,
                       s.lastZxid);
    s.wantOut = true;
    epoll_event ev{};
    ev.events = mask(s);
    ev.data.ptr = &s;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    s.lastSendNs = s.attemptNs;
  }

  // Closes the connection without a loss callback and without reconnecting.
  void disconnect(Session& s) {
    s.reconnect = false;
    closeFd(s);
    s.st = State::kIdle;
    s.pending.clear();
    s.pings.clear();
  }

  // Stop reading the socket (slow consumer): only hang-ups and errors are watched.
  void setNoRead(Session& s) {
    s.noRead = true;
    modify(s);
  }

  // ---- requests (queued; written at the end of the poll iteration)
  int32_t begin(Session& s, int32_t op, uint8_t kind, uint32_t arg) {
    int32_t xid = ++s.xid;
    if (s.xid >= 0x7ffffff0) s.xid = 0;
    const uint64_t t = nowNs();
    s.pending.push_back({xid, op, arg, kind, t});
    s.lastSendNs = t;
    markDirty(s);
    ++requestsSent;
    return xid;
  }
  void read(Session& s, int32_t op, std::string_view path, bool watch, uint8_t kind, uint32_t arg) {
    const int32_t xid = begin(s, op, kind, arg);
    wire::writeRead(s.out, xid, op, path, watch);
  }
  void setData(Session& s, std::string_view path, std::string_view data, uint8_t kind, uint32_t arg) {
    bench::Request r;
    r.kind = bench::Request::kSetData;
    r.path = path;
    r.data = data;
    const int32_t xid = begin(s, wire::kSetData, kind, arg);
    bench::jute::writeRequest(s.out, xid, r);
  }
  void create(Session& s, std::string_view path, std::string_view data, uint8_t kind, uint32_t arg) {
    bench::Request r;
    r.kind = bench::Request::kCreate;
    r.path = path;
    r.data = data;
    const int32_t xid = begin(s, wire::kCreate, kind, arg);
    bench::jute::writeRequest(s.out, xid, r);
  }
  void addWatch(Session& s, std::string_view path, int32_t mode, uint8_t kind, uint32_t arg) {
    const int32_t xid = begin(s, wire::kAddWatch, kind, arg);
    wire::writeAddWatch(s.out, xid, path, mode);
  }
  void closeSession(Session& s, uint8_t kind) {
    bench::Request r;
    r.kind = bench::Request::kCloseSession;
    const int32_t xid = begin(s, wire::kCloseSession, kind, 0);
    bench::jute::writeRequest(s.out, xid, r);
    s.closing = true;
    s.closeSentNs = nowNs();
    s.reconnect = false;
  }
  void ping(Session& s) {
    bench::Request r;
    r.kind = bench::Request::kPing;
    bench::jute::writeRequest(s.out, wire::kPingXid, r);
    const uint64_t t = nowNs();
    s.pings.push_back(t);
    s.lastSendNs = t;
    markDirty(s);
  }
  // Writes what is queued now (normally done at the end of poll()).
  void flushNow(Session& s) {
    if (s.fd >= 0) flush(s);
  }

  // One iteration: wait up to timeoutMs for I/O, dispatch, then timers, retries, writes.
  void poll(int timeoutMs) {
    epoll_event evs[512];
    const uint64_t before = nowNs();
    if (lastPollEndNs_) {  // time spent outside epoll_wait since the last poll (work, starvation)
      const uint64_t gap = before - lastPollEndNs_;
      maxLoopGapNs = std::max(maxLoopGapNs, gap);
      if (gap > 100'000'000ull) ++loopGapsOver100ms;
    }
    const int n = epoll_wait(ep_, evs, 512, timeoutMs);
    const uint64_t woke = nowNs();
    const uint64_t asked = uint64_t(timeoutMs) * 1'000'000ull;
    const uint64_t overslept = woke - before > asked ? woke - before - asked : 0;
    if (overslept > 100'000'000ull) ++loopGapsOver100ms;
    maxLoopGapNs = std::max(maxLoopGapNs, overslept);
    for (int i = 0; i < n; ++i) {
      Session& s = *static_cast<Session*>(evs[i].data.ptr);
      if (s.fd < 0) continue;
      const uint32_t e = evs[i].events;
      if (e & EPOLLERR) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &l);
        lose(s, s.tcpUp ? (s.st == State::kHandshake ? Lost::kClosedBeforeSession : Lost::kClosed)
                        : Lost::kConnectError,
             err ? err : ECONNRESET);
        continue;
      }
      if (e & EPOLLOUT) {
        s.tcpUp = true;
        flush(s);
        if (s.fd < 0) continue;
      }
      if ((e & EPOLLIN) && !s.noRead) {
        s.tcpUp = true;
        onReadable(s);
        continue;
      }
      if (e & (EPOLLHUP | EPOLLRDHUP)) {
        lose(s, s.st == State::kHandshake ? Lost::kClosedBeforeSession : Lost::kClosed, EPIPE);
        continue;
      }
    }
    const uint64_t now = nowNs();
    if (!retry_.empty()) runRetries(now);
    if (now - lastScanNs_ >= 20'000'000ull) {
      lastScanNs_ = now;
      scan(now);
    }
    flushDirty();
    graveyard_.clear();
    lastPollEndNs_ = nowNs();
  }

  // counters
  uint64_t attemptsTotal = 0, requestsSent = 0, xidMismatch = 0, unexpectedReplies = 0;
  // The loop's health: the longest time it was away from epoll_wait (or overslept it), and how
  // often that exceeded 100 ms — the load generator's own stalls (work or CPU starvation).
  uint64_t maxLoopGapNs = 0, loopGapsOver100ms = 0;
  std::map<int, uint64_t> connectErrno;  // errno of failed connects (socket/bind/connect/refused)

  static std::string errnoName(int e) {
    switch (e) {
      case ECONNREFUSED: return "ECONNREFUSED";
      case ECONNRESET: return "ECONNRESET";
      case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
      case ETIMEDOUT: return "ETIMEDOUT";
      case EPIPE: return "EPIPE";
      case EMFILE: return "EMFILE";
      case ENFILE: return "ENFILE";
      case EAGAIN: return "EAGAIN";
      case EADDRINUSE: return "EADDRINUSE";
      case ENOBUFS: return "ENOBUFS";
      default: return "errno" + std::to_string(e);
    }
  }

 private:
  uint32_t mask(const Session& s) const {
    return (s.noRead ? 0u : uint32_t(EPOLLIN)) | uint32_t(EPOLLRDHUP) | (s.wantOut ? uint32_t(EPOLLOUT) : 0u);
  }
  void modify(Session& s) {
    if (s.fd < 0) return;
    epoll_event ev{};
    ev.events = mask(s);
    ev.data.ptr = &s;
    epoll_ctl(ep_, EPOLL_CTL_MOD, s.fd, &ev);
  }
  void closeFd(Session& s) {
    if (s.fd >= 0) {
      ::close(s.fd);
      s.fd = -1;
    }
    ++s.gen;
    s.out.clear();
    s.outOff = 0;
    s.inLen = 0;
    s.wantOut = false;
    if (s.in.capacity() > (1u << 16)) std::vector<char>().swap(s.in);
  }
  void markDirty(Session& s) {
    if (!s.dirty) {
      s.dirty = true;
      dirty_.push_back(&s);
    }
  }
  void flushDirty() {
    // flush() may lose a session, whose handler may queue requests on others: index loop.
    for (size_t i = 0; i < dirty_.size(); ++i) {
      Session* s = dirty_[i];
      s->dirty = false;
      if (s->fd >= 0 && s->st != State::kDone && s->tcpUp) flush(*s);
      else if (s->fd >= 0 && !s->tcpUp && !s->wantOut) {
        s->wantOut = true;
        modify(*s);
      }
    }
    dirty_.clear();
  }
  void flush(Session& s) {
    while (s.outOff < s.out.size()) {
      const ssize_t n = ::send(s.fd, s.out.data() + s.outOff, s.out.size() - s.outOff, MSG_NOSIGNAL);
      if (n > 0) {
        s.outOff += size_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!s.wantOut) {
          s.wantOut = true;
          modify(s);
        }
        return;
      } else {
        const int e = errno;
        lose(s, !s.tcpUp ? Lost::kConnectError
                         : s.st == State::kHandshake ? Lost::kClosedBeforeSession : Lost::kClosed,
             e);
        return;
      }
    }
    s.out.clear();
    s.outOff = 0;
    if (s.out.capacity() > (1u << 16)) std::string().swap(s.out);
    if (s.wantOut) {
      s.wantOut = false;
      modify(s);
    }
  }

  void failConnect(Session& s, int err) {
    ++connectErrno[err];
    s.fd = -1;
    const State was = s.st;
    s.st = State::kIdle;
    ++s.gen;
    h_->onLost(s, Lost::kConnectError, err, was);
    s.pending.clear();
    s.pings.clear();
    if (s.reconnect) scheduleRetry(s, false);
  }

  void lose(Session& s, Lost why, int err) {
    if (s.closing && why == Lost::kClosed) {  // the server closed after closeSession
      finish(s);
      return;
    }
    if (why == Lost::kConnectError) ++connectErrno[err];
    const State was = s.st;
    closeFd(s);
    s.st = State::kIdle;
    h_->onLost(s, why, err, was);
    s.pending.clear();
    s.pings.clear();
    if (s.reconnect) scheduleRetry(s, was == State::kConnected);
  }

  void finish(Session& s) {
    closeFd(s);
    s.st = State::kDone;
    s.reconnect = false;
    s.pending.clear();
    s.pings.clear();
    h_->onClosed(s);
  }

  void scheduleRetry(Session& s, bool immediate) {
    s.host = int((size_t(s.host) + 1) % cfg_.hosts.size());
    const uint64_t delay = immediate || cfg_.backoffMs <= 0
                               ? 0
                               : uint64_t(std::uniform_int_distribution<int>(0, cfg_.backoffMs)(rng_)) * 1'000'000ull;
    s.retryAtNs = nowNs() + delay;
    if (!s.retrying) {
      s.retrying = true;
      retry_.push_back(&s);
    }
  }
  void runRetries(uint64_t now) {
    std::vector<Session*> due;
    size_t w = 0;
    for (Session* s : retry_) {
      if (!s->retrying || s->st == State::kDone || !s->reconnect) {
        s->retrying = false;
        continue;
      }
      if (s->retryAtNs <= now) due.push_back(s);
      else retry_[w++] = s;
    }
    retry_.resize(w);
    for (Session* s : due) connect(*s);
  }

  // now - t, 0 when t is later (set after `now` was read)
  static uint64_t since(uint64_t now, uint64_t t) { return now > t ? now - t : 0; }

  void scan(uint64_t now) {
    const uint64_t hsTimeout =
        uint64_t((cfg_.handshakeTimeoutS > 0 ? cfg_.handshakeTimeoutS
                                              : double(cfg_.timeoutMs) / 1000.0 / double(cfg_.hosts.size())) *
                 1e9);
    for (size_t i = tracked_.size(); i-- > 0;) {
      if (i >= tracked_.size()) continue;
      Session& s = *tracked_[i];
      if (s.fd < 0) continue;
      if (s.st == State::kHandshake) {
        if (since(now, s.attemptNs) > hsTimeout) lose(s, Lost::kHandshakeTimeout, ETIMEDOUT);
        continue;
      }
      if (s.st != State::kConnected) continue;
      const uint64_t timeoutNs = uint64_t(s.timeoutMs) * 1'000'000ull;
      if (!s.noRead && since(now, s.lastRecvNs) > timeoutNs * 2 / 3) {
        lose(s, Lost::kReadTimeout, ETIMEDOUT);
        continue;
      }
      if (s.closing) continue;
      const uint64_t pingNs = s.pingIntervalMs > 0 ? uint64_t(s.pingIntervalMs) * 1'000'000ull : timeoutNs / 3;
      if (since(now, s.lastSendNs) >= pingNs) ping(s);
    }
  }

  void onReadable(Session& s) {
    const uint32_t gen = s.gen;
    for (;;) {
      char* buf;
      size_t cap;
      if (s.inLen) {
        if (s.in.size() - s.inLen < 65536) s.in.resize(s.inLen + 65536);
        buf = s.in.data() + s.inLen;
        cap = s.in.size() - s.inLen;
      } else {
        buf = scratch_.data();
        cap = scratch_.size();
      }
      const ssize_t n = ::recv(s.fd, buf, cap, 0);
      if (n > 0) {
        const char* data;
        size_t len;
        if (s.inLen) {
          s.inLen += size_t(n);
          data = s.in.data();
          len = s.inLen;
        } else {
          data = scratch_.data();
          len = size_t(n);
        }
        s.lastRecvNs = nowNs();
        size_t off = 0;
        while (len - off >= 4) {
          const int32_t flen = wire::rd32(data + off);
          if (flen < 0 || flen > (64 << 20)) {
            lose(s, Lost::kProtocol, EPROTO);
            return;
          }
          if (len - off - 4 < size_t(flen)) break;
          onFrame(s, data + off + 4, size_t(flen));
          if (s.gen != gen || s.fd < 0) return;
          off += 4 + size_t(flen);
        }
        const size_t rest = len - off;
        if (data == scratch_.data()) {
          if (rest) {
            if (s.in.size() < rest + 65536) s.in.resize(rest + 65536);
            std::memcpy(s.in.data(), data + off, rest);
          }
        } else if (off && rest) {
          std::memmove(s.in.data(), s.in.data() + off, rest);
        }
        s.inLen = rest;
        if (rest >= 4) {
          const size_t need = size_t(wire::rd32(s.in.data())) + 4;
          if (need > s.in.size()) s.in.resize(need);
        }
        if (size_t(n) < cap) break;
      } else if (n == 0) {
        lose(s, s.st == State::kHandshake ? Lost::kClosedBeforeSession : Lost::kClosed, EPIPE);
        return;
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else {
        const int e = errno;
        lose(s, s.st == State::kHandshake ? Lost::kClosedBeforeSession : Lost::kClosed, e);
        return;
      }
    }
  }

  void onFrame(Session& s, const char* p, size_t len) {
    if (s.st == State::kHandshake) {
      wire::ConnectResponse r;
      if (!wire::parseConnect(p, len, r)) {
        lose(s, Lost::kProtocol, EPROTO);
        return;
      }
      if (!r.granted()) {
        const bool expired = s.sessionId != 0;
        closeFd(s);
        s.st = State::kIdle;
        s.sessionId = 0;
        std::memset(s.passwd, 0, sizeof s.passwd);
        s.lastZxid = 0;
        s.pending.clear();
        s.pings.clear();
        h_->onRefused(s, expired);
        if (s.reconnect) scheduleRetry(s, expired);
        return;
      }
      const bool reattached = s.sessionId != 0 && r.session_id == s.sessionId;
      s.sessionId = r.session_id;
      std::memcpy(s.passwd, r.passwd, sizeof s.passwd);
      s.timeoutMs = r.timeout_ms;
      s.st = State::kConnected;
      s.attempts = 0;
      s.lastRecvNs = nowNs();
      h_->onSession(s, reattached);
      return;
    }
    wire::Header h;
    if (!wire::parseHeader(p, len, h)) {
      lose(s, Lost::kProtocol, EPROTO);
      return;
    }
    if (h.xid == wire::kNotificationXid) {
      wire::Event ev;
      if (!wire::parseEvent(p + 16, len - 16, ev)) {
        lose(s, Lost::kProtocol, EPROTO);
        return;
      }
      h_->onEvent(s, ev);
      return;
    }
    if (h.xid == wire::kPingXid) {
      uint64_t lat = 0;
      if (!s.pings.empty()) {
        lat = nowNs() - s.pings.front();
        s.pings.pop_front();
      }
      h_->onPing(s, lat);
      return;
    }
    if (s.pending.empty()) {
      ++unexpectedReplies;
      return;
    }
    const Pending pd = s.pending.front();
    s.pending.pop_front();
    if (pd.xid != h.xid) ++xidMismatch;
    if (h.zxid > s.lastZxid) s.lastZxid = h.zxid;
    h_->onReply(s, pd, h, p + 16, len - 16);
    if (pd.op == wire::kCloseSession && s.fd >= 0) finish(s);
  }

  EngineConfig cfg_;
  Handler* h_;
  int ep_ = -1;
  std::mt19937_64 rng_;
  std::vector<char> scratch_;
  std::vector<Session*> tracked_, dirty_, retry_;
  std::vector<std::unique_ptr<Session>> graveyard_;
  uint64_t lastScanNs_ = 0, lastPollEndNs_ = 0;
  uint64_t srcNext_ = 0;
};

}  // namespace storm
