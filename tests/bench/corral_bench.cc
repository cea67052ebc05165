// corral-bench: a lean ZooKeeper 3.8 client-protocol load generator.
//
// Speaks the wire protocol itself (client-protocol.md §1-§6): int32-length frames, jute records,
// ConnectRequest handshake, pipelined requests with FIFO replies. Non-blocking sockets and one
// epoll loop per worker thread; many sessions per thread, --inflight requests outstanding per
// session. No dependency on the Corral kernel or SDK.
//
// Run phases: connect all sessions -> setup (bench root, parents, keys; skipped when the last
// key already exists) -> warmup (not recorded) -> measured window -> drain -> closeSession.
// Prints ONE JSON line on stdout; progress/errors go to stderr.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_wire.h"

namespace {

using bench::Protocol;
using bench::Reply;
using bench::Request;
using bench::rd32;

// ------------------------------------------------------------------ time / proc helpers
inline uint64_t nowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

double selfCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// utime+stime of a process, in seconds (/proc/PID/stat fields 14 and 15); -1 if unreadable.
double procCpuSeconds(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!pid || !std::getline(f, s)) return -1;
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream is(s.substr(rp + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  // after ')' comes field 3 (state); utime is field 14 -> index 11 from here
  for (int i = 3; i <= 15 && (is >> field); ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return double(ut + st) / double(sysconf(_SC_CLK_TCK));
}

long procRssKb(long pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (pid && std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// ------------------------------------------------------------------ histogram
// HdrHistogram-like log-linear buckets: values < 128 ns exact, then 64 sub-buckets per power
// of two (relative error < 1.6%). Values in nanoseconds.
struct Histogram {
  static constexpr int kSub = 64;
  static constexpr int kBuckets = 128 + 58 * kSub;
  std::vector<uint64_t> counts = std::vector<uint64_t>(kBuckets, 0);
  uint64_t total = 0, maxV = 0;
  long double sum = 0;

  static int index(uint64_t v) {
    if (v < 128) return int(v);
    int e = 63 - std::countl_zero(v);  // >= 7
    int shift = e - 6;
    int sub = int(v >> shift);  // [64,127]
    int idx = 128 + (e - 7) * kSub + (sub - 64);
    return std::min(idx, kBuckets - 1);
  }
  static uint64_t lowerBound(int idx) {
    if (idx < 128) return uint64_t(idx);
    int e = (idx - 128) / kSub + 7;
    int sub = (idx - 128) % kSub + 64;
    return uint64_t(sub) << (e - 6);
  }
  static uint64_t midpoint(int idx) {
    if (idx < 128) return uint64_t(idx);
    int e = (idx - 128) / kSub + 7;
    return lowerBound(idx) + ((uint64_t(1) << (e - 6)) >> 1);
  }
  void record(uint64_t v) {
    ++counts[index(v)];
    ++total;
    sum += v;
    if (v > maxV) maxV = v;
  }
  void merge(const Histogram& o) {
    for (int i = 0; i < kBuckets; ++i) counts[i] += o.counts[i];
    total += o.total;
    sum += o.sum;
    maxV = std::max(maxV, o.maxV);
  }
  uint64_t percentile(double p) const {
    if (!total) return 0;
    uint64_t want = uint64_t(std::ceil(p / 100.0 * double(total)));
    if (want == 0) want = 1;
    uint64_t acc = 0;
    for (int i = 0; i < kBuckets; ++i) {
      acc += counts[i];
      if (acc >= want) return std::min(midpoint(i), maxV);
    }
    return maxV;
  }
};

// ------------------------------------------------------------------ options
enum class Op { Get, Exists, Set, Create, Delete, Children, Multi, Mixed, Load };

struct Options {
  std::vector<std::pair<std::string, int>> hosts{{"127.0.0.1", 2181}};
  Op op = Op::Get;
  std::string opName = "get";
  int readPct = 90;
  int valueSize = 100;
  long keys = 10000;
  long parents = 0;  // 0: keys directly under the root
  int sessions = 32;
  int inflight = 8;
  double warmup = 2;
  double duration = 10;
  int threads = 1;
  long serverPid = 0;
  std::string root = "/corral-bench";
  int multiOps = 4;
  int sessionTimeoutMs = 40000;
  double setupTimeout = 1800;
  double drainTimeout = 10;
  bool skipSetup = false;
  Protocol protocol = Protocol::kJute;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout, R"(usage: corral-bench [options]
  --hosts H:P[,H:P...]   servers (sessions are spread round-robin)   [127.0.0.1:2181]
  --op OP                get|exists|set|create|delete|children|multi|mixed|load   [get]
  --read-pct N           mixed: percentage of getData (rest setData)  [90]
  --value-size B         bytes per znode value (setup, set, create)   [100]
  --keys N               keys created by setup, read/written at random [10000]
                         (delete: size of the pool of nodes to delete)
  --parents N            spread keys over N parent znodes (0 = directly under root) [0]
  --root PATH            bench root znode                              [/corral-bench]
  --sessions N           sessions (TCP connections)                     [32]
  --inflight N           requests in flight per session (pipelining)   [8]
  --threads N            worker threads (epoll loops)                   [1]
  --warmup S             seconds of unrecorded load before measuring    [2]
  --duration S           measured seconds                               [10]
  --multi-ops N          multi: setData sub-ops per multi               [4]
  --session-timeout MS   requested session timeout                      [40000]
  --server-pid PID       read server CPU (utime+stime) and RSS from /proc
  --skip-setup           do not create root/parents/keys
  --protocol P           jute (ZooKeeper's, the --hosts client port) or thrift (Corral's
                         frontend.thrift, framed binary; --hosts names thrift.port)  [jute]
  --setup-timeout S      bound on the setup phase                       [1800]
Output: one JSON line (latencies in microseconds).
)");
  std::exit(code);
}

Options parseArgs(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) {
      std::fprintf(stderr, "missing value for %s\n", argv[i]);
      usage(64);
    }
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") usage(0);
    else if (a == "--hosts") {
      o.hosts.clear();
      std::string v = need(i);
      size_t p = 0;
      while (p <= v.size()) {
        size_t c = v.find(',', p);
        std::string hp = v.substr(p, c == std::string::npos ? std::string::npos : c - p);
        if (!hp.empty()) {
          auto colon = hp.rfind(':');
          if (colon == std::string::npos) o.hosts.push_back({hp, 2181});
          else o.hosts.push_back({hp.substr(0, colon), std::atoi(hp.c_str() + colon + 1)});
        }
        if (c == std::string::npos) break;
        p = c + 1;
      }
      if (o.hosts.empty()) usage(64);
    } else if (a == "--op") {
      o.opName = need(i);
      static const std::map<std::string, Op> ops{
          {"get", Op::Get},       {"exists", Op::Exists},     {"set", Op::Set},
          {"create", Op::Create}, {"delete", Op::Delete},     {"children", Op::Children},
          {"multi", Op::Multi},   {"mixed", Op::Mixed},       {"load", Op::Load}};
      auto it = ops.find(o.opName);
      if (it == ops.end()) usage(64);
      o.op = it->second;
    } else if (a == "--read-pct") o.readPct = std::atoi(need(i).c_str());
    else if (a == "--value-size") o.valueSize = std::atoi(need(i).c_str());
    else if (a == "--keys") o.keys = std::atol(need(i).c_str());
    else if (a == "--parents") o.parents = std::atol(need(i).c_str());
    else if (a == "--root") o.root = need(i);
    else if (a == "--sessions") o.sessions = std::atoi(need(i).c_str());
    else if (a == "--inflight") o.inflight = std::atoi(need(i).c_str());
    else if (a == "--threads") o.threads = std::atoi(need(i).c_str());
    else if (a == "--warmup") o.warmup = std::atof(need(i).c_str());
    else if (a == "--duration") o.duration = std::atof(need(i).c_str());
    else if (a == "--multi-ops") o.multiOps = std::atoi(need(i).c_str());
    else if (a == "--session-timeout") o.sessionTimeoutMs = std::atoi(need(i).c_str());
    else if (a == "--server-pid") o.serverPid = std::atol(need(i).c_str());
    else if (a == "--skip-setup") o.skipSetup = true;
    else if (a == "--protocol") {
      std::string v = need(i);
      if (v == "jute") o.protocol = Protocol::kJute;
      else if (v == "thrift") o.protocol = Protocol::kThrift;
      else usage(64);
    }
    else if (a == "--setup-timeout") o.setupTimeout = std::atof(need(i).c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      usage(64);
    }
  }
  if (o.sessions < 1 || o.inflight < 1 || o.threads < 1 || o.keys < 1 || o.valueSize < 0 ||
      o.duration <= 0 || o.warmup < 0 || o.parents < 0 || o.multiOps < 1)
    usage(64);
  o.threads = std::min(o.threads, o.sessions);
  if (o.root.size() < 2 || o.root[0] != '/' || o.root.back() == '/') usage(64);
  return o;
}

// ------------------------------------------------------------------ shared run state
struct Shared {
  Options opt;
  std::string value;
  std::string runTag;               // unique per run: names of created / pooled nodes
  std::atomic<bool> stop{false};    // timed stage: stop issuing
  std::atomic<bool> recording{false};
  std::atomic<long> counter{0};     // batch stages: next index
  long counterEnd = 0;
  int rootIdx = 0;                  // kStageRoot: which of root, root/c, root/d
  int stage = 0;                    // see Stage
};

enum Stage { kStageConnect, kStageRoot, kStageParents, kStageKeys, kStageProbe, kStageTimed,
             kStageClose };

struct Pending {
  uint64_t sentNs;
  int32_t xid;
  bool ping;  // a Thrift keep-alive ping (its reply is in order but not an op)
};

struct Session {
  int fd = -1;
  int idx = 0;
  bool connected = false, dead = false, closed = false, wantOut = false;
  std::string out;
  size_t outOff = 0;
  std::vector<char> in = std::vector<char>(1 << 16);
  size_t inLen = 0;
  std::vector<Pending> ring;  // FIFO of outstanding requests
  size_t head = 0, count = 0;
  int32_t xid = 0;
  uint64_t lastSendNs = 0;
  uint64_t rng = 0;
  long createSeq = 0;
  std::pair<std::string, int> host;
};

std::string keyPath(const Options& o, long i) {
  std::string p = o.root;
  if (o.parents > 0) {
    p += "/p";
    p += std::to_string(i % o.parents);
  }
  p += "/k";
  p += std::to_string(i);
  return p;
}

struct Worker {
  Shared* sh;
  std::vector<Session*> sessions;
  int ep = -1;
  Histogram hist;
  uint64_t ops = 0;             // replies recorded in the measured window
  uint64_t replies = 0;         // all replies in this stage
  std::map<int, uint64_t> errors;        // measured window
  std::map<int, uint64_t> stageErrors;   // any stage other than timed (excluding tolerated)
  uint64_t connLost = 0, xidMismatch = 0;
  bool batchDone = false;
  int probeResult = 0;  // kStageProbe: error code of getData(last key)
  std::string scratch;                   // the path of the request being written
  std::vector<std::string> multiPaths;   // the paths of the multi being written

  uint64_t rnd(Session& s) {  // xorshift64*
    s.rng ^= s.rng >> 12;
    s.rng ^= s.rng << 25;
    s.rng ^= s.rng >> 27;
    return s.rng * 0x2545F4914F6CDD1Dull;
  }

  // Counts a request as outstanding; returns its xid (jute) / seqid (Thrift).
  int32_t track(Session& s, bool ping = false) {
    int32_t xid = ++s.xid;
    if (s.xid == INT32_MAX) s.xid = 0;
    if (s.count == s.ring.size()) {  // grow ring
      std::vector<Pending> n(std::max<size_t>(16, s.ring.size() * 2));
      for (size_t i = 0; i < s.count; ++i) n[i] = s.ring[(s.head + i) % s.ring.size()];
      s.ring.swap(n);
      s.head = 0;
    }
    uint64_t t = nowNs();
    s.ring[(s.head + s.count) % s.ring.size()] = {t, xid, ping};
    ++s.count;
    s.lastSendNs = t;
    return xid;
  }

  void send(Session& s, const Request& r) { bench::writeRequest(sh->opt.protocol, s.out, track(s), r); }

  // Issue one request for the current stage. Returns false if there is nothing to issue.
  bool issue(Session& s) {
    const Options& o = sh->opt;
    Request r;
    switch (sh->stage) {
      case kStageRoot: {
        long n = sh->counter.fetch_add(1);
        if (n >= sh->counterEnd) return false;
        static const char* subs[] = {"", "/c", "/d"};
        scratch = o.root + subs[sh->rootIdx];
        r.kind = Request::kCreate;
        r.path = scratch;
        send(s, r);
        return true;
      }
      case kStageParents: {
        long n = sh->counter.fetch_add(1);
        if (n >= sh->counterEnd) return false;
        scratch = o.root + "/p" + std::to_string(n);
        r.kind = Request::kCreate;
        r.path = scratch;
        send(s, r);
        return true;
      }
      case kStageKeys: {
        long n = sh->counter.fetch_add(1);
        if (n >= sh->counterEnd) return false;
        scratch = o.op == Op::Delete ? o.root + "/d/" + sh->runTag + "-" + std::to_string(n) : keyPath(o, n);
        r.kind = Request::kCreate;
        r.path = scratch;
        r.data = sh->value;
        send(s, r);
        return true;
      }
      case kStageProbe: {
        long n = sh->counter.fetch_add(1);
        if (n >= sh->counterEnd) return false;
        scratch = keyPath(o, o.keys - 1);
        // getData, not exists: Thrift's exists answers a missing node without an error.
        r.kind = Request::kGetData;
        r.path = scratch;
        send(s, r);
        return true;
      }
      case kStageTimed: {
        if (sh->stop.load(std::memory_order_relaxed)) return false;
        Op op = o.op;
        if (op == Op::Mixed) op = (long(rnd(s) % 100) < o.readPct) ? Op::Get : Op::Set;
        switch (op) {
          case Op::Get:
          case Op::Exists:
          case Op::Set:
            r.kind = op == Op::Get ? Request::kGetData : op == Op::Exists ? Request::kExists : Request::kSetData;
            scratch = keyPath(o, long(rnd(s) % uint64_t(o.keys)));
            r.data = sh->value;
            break;
          case Op::Children:
            r.kind = Request::kGetChildren;
            scratch = o.parents > 0 ? o.root + "/p" + std::to_string(rnd(s) % uint64_t(o.parents)) : o.root;
            break;
          case Op::Create:
            r.kind = Request::kCreate;
            scratch = o.root + "/c/" + sh->runTag + "-" + std::to_string(s.idx) + "-" + std::to_string(s.createSeq++);
            r.data = sh->value;
            break;
          case Op::Delete: {
            long n = sh->counter.fetch_add(1);
            if (n >= sh->counterEnd) return false;  // pool exhausted
            r.kind = Request::kDelete;
            scratch = o.root + "/d/" + sh->runTag + "-" + std::to_string(n);
            break;
          }
          case Op::Multi:
            r.kind = Request::kMultiSetData;
            multiPaths.resize(size_t(o.multiOps));
            for (auto& path : multiPaths) path = keyPath(o, long(rnd(s) % uint64_t(o.keys)));
            r.paths = multiPaths;
            r.data = sh->value;
            break;
          default:
            return false;
        }
        r.path = scratch;
        send(s, r);
        return true;
      }
      default:
        return false;
    }
  }

  void fill(Session& s) {
    if (s.dead || !s.connected) return;
    while (s.count < size_t(sh->opt.inflight) && issue(s)) {
    }
  }

  void setOut(Session& s, bool want) {
    if (s.wantOut == want) return;
    s.wantOut = want;
    epoll_event ev{};
    ev.events = EPOLLIN | (want ? uint32_t(EPOLLOUT) : 0u);
    ev.data.ptr = &s;
    epoll_ctl(ep, EPOLL_CTL_MOD, s.fd, &ev);
  }

  void kill(Session& s, const char* why) {
    if (s.dead) return;
    if (sh->stage != kStageClose) {
      ++connLost;
      std::fprintf(stderr, "corral-bench: session %d (%s:%d) lost: %s\n", s.idx,
                   s.host.first.c_str(), s.host.second, why);
    }
    s.dead = true;
    s.count = 0;
    epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
    ::close(s.fd);
    s.fd = -1;
  }

  void flush(Session& s) {
    while (!s.dead && s.outOff < s.out.size()) {
      ssize_t n = ::send(s.fd, s.out.data() + s.outOff, s.out.size() - s.outOff, MSG_NOSIGNAL);
      if (n > 0) {
        s.outOff += size_t(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        setOut(s, true);
        return;
      } else {
        kill(s, std::strerror(errno));
        return;
      }
    }
    if (!s.dead) {
      s.out.clear();
      s.outOff = 0;
      setOut(s, false);
    }
  }

  void onFrame(Session& s, const char* p, size_t len) {
    const Protocol protocol = sh->opt.protocol;
    if (!s.connected) {  // the handshake's reply: a session or a refusal
      if (!bench::parseConnect(protocol, p, len)) {
        kill(s, "session refused");
        return;
      }
      s.connected = true;
      return;
    }
    Reply reply;
    if (!bench::parseReply(protocol, p, len, reply)) {
      kill(s, "unreadable reply");
      return;
    }
    if (reply.kind != Reply::kAnswer) return;  // jute: ping reply / watch notification
    if (sh->stage == kStageClose) {            // closeSession reply
      s.closed = true;
      return;
    }
    if (s.count == 0) {
      ++xidMismatch;
      return;
    }
    Pending pd = s.ring[s.head];
    s.head = (s.head + 1) % s.ring.size();
    --s.count;
    if (pd.xid != reply.id) ++xidMismatch;
    if (pd.ping) return;
    const int32_t err = reply.err;
    ++replies;
    switch (sh->stage) {
      case kStageTimed:
        if (sh->recording.load(std::memory_order_relaxed)) {
          uint64_t t = nowNs();
          hist.record(t - pd.sentNs);
          ++ops;
          if (err) ++errors[err];
        }
        break;
      case kStageProbe:
        probeResult = err;
        break;
      default:
        if (err && err != -110) ++stageErrors[err];  // NodeExists tolerated in setup
    }
  }

  void onReadable(Session& s) {
    for (;;) {
      if (s.inLen == s.in.size()) s.in.resize(s.in.size() * 2);
      size_t want = s.in.size() - s.inLen;
      ssize_t n = ::recv(s.fd, s.in.data() + s.inLen, want, 0);
      if (n > 0) {
        s.inLen += size_t(n);
        size_t off = 0;
        while (s.inLen - off >= 4) {
          int32_t flen = rd32(s.in.data() + off);
          if (flen < 0) {
            kill(s, "bad frame length");
            return;
          }
          if (s.inLen - off - 4 < size_t(flen)) break;
          onFrame(s, s.in.data() + off + 4, size_t(flen));
          if (s.dead) return;
          off += 4 + size_t(flen);
        }
        if (off) {
          std::memmove(s.in.data(), s.in.data() + off, s.inLen - off);
          s.inLen -= off;
        }
        if (s.inLen >= 4) {  // make room for a large partial frame
          size_t need = size_t(rd32(s.in.data())) + 4;
          if (need > s.in.size()) s.in.resize(need);
        }
        if (size_t(n) < want) break;  // socket drained
      } else if (n == 0) {
        if (sh->stage == kStageClose) s.closed = true;
        kill(s, "closed by server");
        return;
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else {
        kill(s, std::strerror(errno));
        return;
      }
    }
    fill(s);
    flush(s);
  }

  bool stageFinished() {
    switch (sh->stage) {
      case kStageConnect:
        for (auto* s : sessions)
          if (!s->dead && !s->connected) return false;
        return true;
      case kStageClose:
        for (auto* s : sessions)
          if (!s->dead && !s->closed) return false;
        return true;
      case kStageTimed:
        if (!sh->stop.load(std::memory_order_relaxed) &&
            !(sh->opt.op == Op::Delete && sh->counter.load() >= sh->counterEnd))
          return false;
        [[fallthrough]];
      default:
        for (auto* s : sessions)
          if (!s->dead && s->count) return false;
        return true;
    }
  }

  // Runs the current stage until it completes or `deadline` (monotonic ns) passes.
  void runStage(uint64_t deadline) {
    if (sh->stage == kStageClose) {
      for (auto* s : sessions) {
        if (s->dead || !s->connected) continue;
        Request close;
        close.kind = Request::kCloseSession;
        bench::writeRequest(sh->opt.protocol, s->out, ++s->xid, close);
        flush(*s);
      }
    } else if (sh->stage != kStageConnect) {
      for (auto* s : sessions) {
        fill(*s);
        flush(*s);
      }
    }
    epoll_event evs[256];
    uint64_t lastPingCheck = nowNs();
    while (!stageFinished()) {
      uint64_t now = nowNs();
      if (now >= deadline) break;
      int n = epoll_wait(ep, evs, 256, 5);
      for (int i = 0; i < n; ++i) {
        auto* s = static_cast<Session*>(evs[i].data.ptr);
        if (s->dead) continue;
        if (evs[i].events & (EPOLLERR | EPOLLHUP) && !(evs[i].events & EPOLLIN)) {
          int err = 0;
          socklen_t l = sizeof err;
          getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &l);
          kill(*s, err ? std::strerror(err) : "hangup");
          continue;
        }
        if (evs[i].events & EPOLLOUT) flush(*s);
        if (!s->dead && (evs[i].events & EPOLLIN)) onReadable(*s);
      }
      // Stage might have work for idle sessions (e.g. delete pool); and keep sessions alive.
      now = nowNs();
      if (now - lastPingCheck > 200'000'000ull) {
        lastPingCheck = now;
        for (auto* s : sessions) {
          if (s->dead || !s->connected) continue;
          if (now - s->lastSendNs > uint64_t(sh->opt.sessionTimeoutMs) * 250'000ull) {
            Request ping;
            ping.kind = Request::kPing;
            // Thrift answers pings in order with the other calls: tracked, not counted.
            const bool thrift = sh->opt.protocol == Protocol::kThrift;
            bench::writeRequest(sh->opt.protocol, s->out, thrift ? track(*s, true) : -2, ping);
            s->lastSendNs = now;
            flush(*s);
          }
        }
      }
    }
  }
};

int connectSession(Session& s, int ep, const Options& o) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(s.host.second);
  if (getaddrinfo(s.host.first.c_str(), port.c_str(), &hints, &res) != 0 || !res) return -1;
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc < 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  s.fd = fd;
  bench::writeConnect(o.protocol, s.out, o.sessionTimeoutMs);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = &s;
  s.wantOut = true;
  epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  s.lastSendNs = nowNs();
  return 0;
}

std::string jsonStr(const std::string& s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    r += c;
  }
  return r + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  Shared sh;
  sh.opt = parseArgs(argc, argv);
  const Options& o = sh.opt;
  sh.value.assign(size_t(o.valueSize), 'v');
  for (size_t i = 0; i < sh.value.size(); ++i) sh.value[i] = char('a' + i % 26);
  sh.runTag = std::to_string(getpid()) + "x" + std::to_string(nowNs() % 1000000007ull);

  // Sessions, partitioned over workers.
  std::vector<std::unique_ptr<Session>> all;
  std::vector<Worker> workers(size_t(o.threads));
  for (auto& w : workers) {
    w.sh = &sh;
    w.ep = epoll_create1(EPOLL_CLOEXEC);
  }
  for (int i = 0; i < o.sessions; ++i) {
    auto s = std::make_unique<Session>();
    s->idx = i;
    s->rng = 0x9E3779B97F4A7C15ull * uint64_t(i + 1) ^ nowNs();
    if (!s->rng) s->rng = 1;
    s->host = o.hosts[size_t(i) % o.hosts.size()];
    workers[size_t(i % o.threads)].sessions.push_back(s.get());
    all.push_back(std::move(s));
  }

  auto runAll = [&](int stage, double timeoutS) {
    sh.stage = stage;
    uint64_t deadline = nowNs() + uint64_t(timeoutS * 1e9);
    std::vector<std::thread> ts;
    for (size_t i = 1; i < workers.size(); ++i)
      ts.emplace_back([&, i] { workers[i].runStage(deadline); });
    workers[0].runStage(deadline);
    for (auto& t : ts) t.join();
  };
  auto liveSessions = [&] {
    int n = 0;
    for (auto& s : all) n += (!s->dead && s->connected);
    return n;
  };
  auto fail = [&](const std::string& msg) {
    std::printf("{\"op\":%s,\"error\":%s}\n", jsonStr(o.opName).c_str(), jsonStr(msg).c_str());
    std::fflush(stdout);
    return 1;
  };

  // ---- connect
  uint64_t t0 = nowNs();
  for (size_t i = 0; i < all.size(); ++i)
    if (connectSession(*all[i], workers[i % workers.size()].ep, o) < 0) all[i]->dead = true;
  runAll(kStageConnect, 30);
  double connectS = double(nowNs() - t0) / 1e9;
  if (liveSessions() != o.sessions)
    return fail("only " + std::to_string(liveSessions()) + " of " + std::to_string(o.sessions) +
                " sessions connected");

  // ---- setup
  uint64_t setupStart = nowNs();
  long setupCreates = 0;
  bool setupSkipped = o.skipSetup;
  uint64_t setupStageErrors = 0;
  if (!o.skipSetup) {
    for (int r = 0; r < 3; ++r) {  // root, root/c, root/d: in order
      sh.counter = 0;
      sh.counterEnd = 1;
      sh.rootIdx = r;
      runAll(kStageRoot, 60);
    }
    bool needKeys = true;
    if (o.op != Op::Delete && o.op != Op::Load) {  // reuse keys left by an earlier run
      sh.counter = 0;
      sh.counterEnd = 1;
      for (auto& w : workers) w.probeResult = 1;  // 1 = no reply seen
      runAll(kStageProbe, 30);  // one exists(last key), sent by whichever session gets it
      for (auto& w : workers)
        if (w.probeResult == 0) needKeys = false;
    }
    if (needKeys) {
      if (o.parents > 0) {
        sh.counter = 0;
        sh.counterEnd = o.parents;
        runAll(kStageParents, o.setupTimeout);
      }
      sh.counter = 0;
      sh.counterEnd = o.keys;
      runAll(kStageKeys, o.setupTimeout);
      setupCreates = std::min<long>(sh.counter.load(), o.keys);
    } else {
      setupSkipped = true;
    }
    for (auto& w : workers)
      for (auto& [k, v] : w.stageErrors) setupStageErrors += v;
  }
  double setupS = double(nowNs() - setupStart) / 1e9;
  if (liveSessions() != o.sessions) return fail("sessions lost during setup");

  std::string out;
  char buf[512];
  auto add = [&](const char* fmt, auto... a) {
    std::snprintf(buf, sizeof buf, fmt, a...);
    out += buf;
  };

  double measured = 0, clientCpu = 0, srvCpu0 = -1, srvCpu1 = -1;
  long rss0 = procRssKb(o.serverPid), rss1 = -1;
  bool poolExhausted = false;
  if (o.op != Op::Load) {
    // ---- warmup + measure (one continuous load; only the window is recorded)
    sh.stop = false;
    sh.recording = false;
    if (o.op == Op::Delete) {
      sh.counter = 0;
      sh.counterEnd = o.keys;
    }
    double selfCpu0 = 0;
    uint64_t w0 = 0, w1 = 0;
    std::thread ctl([&] {
      auto sleepUntil = [&](uint64_t t) {
        while (nowNs() < t && !(o.op == Op::Delete && sh.counter.load() >= sh.counterEnd))
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
      };
      sleepUntil(nowNs() + uint64_t(o.warmup * 1e9));
      srvCpu0 = procCpuSeconds(o.serverPid);
      selfCpu0 = selfCpuSeconds();
      w0 = nowNs();
      sh.recording = true;
      sleepUntil(w0 + uint64_t(o.duration * 1e9));
      sh.recording = false;
      w1 = nowNs();
      srvCpu1 = procCpuSeconds(o.serverPid);
      clientCpu = selfCpuSeconds() - selfCpu0;
      sh.stop = true;
    });
    sh.stage = kStageTimed;
    runAll(kStageTimed, o.warmup + o.duration + o.drainTimeout + 5);
    sh.stop = true;
    ctl.join();
    measured = double(w1 - w0) / 1e9;
    poolExhausted = o.op == Op::Delete && sh.counter.load() >= sh.counterEnd;
    rss1 = procRssKb(o.serverPid);
  } else {
    rss1 = rss0;
  }

  // ---- close sessions
  runAll(kStageClose, 5);
  for (auto& s : all)
    if (s->fd >= 0) ::close(s->fd);

  Histogram h;
  uint64_t ops = 0, connLost = 0, xidMismatch = 0;
  std::map<int, uint64_t> errors;
  for (auto& w : workers) {
    h.merge(w.hist);
    ops += w.ops;
    connLost += w.connLost;
    xidMismatch += w.xidMismatch;
    for (auto& [k, v] : w.errors) errors[k] += v;
  }

  out += "{";
  add("\"op\":%s,", jsonStr(o.opName).c_str());
  std::string hosts;
  for (auto& [hn, p] : o.hosts) hosts += (hosts.empty() ? "" : ",") + hn + ":" + std::to_string(p);
  add("\"hosts\":%s,", jsonStr(hosts).c_str());
  add("\"sessions\":%d,\"inflight\":%d,\"threads\":%d,\"value_size\":%d,\"keys\":%ld,"
      "\"parents\":%ld,",
      o.sessions, o.inflight, o.threads, o.valueSize, o.keys, o.parents);
  if (o.op == Op::Mixed) add("\"read_pct\":%d,", o.readPct);
  if (o.op == Op::Multi) add("\"multi_ops\":%d,", o.multiOps);
  add("\"connect_s\":%.4f,\"setup_s\":%.3f,\"setup_creates\":%ld,\"setup_skipped\":%s,"
      "\"setup_errors\":%llu,",
      connectS, setupS, setupCreates, setupSkipped ? "true" : "false",
      (unsigned long long)setupStageErrors);
  if (o.op == Op::Load)
    add("\"load_creates_per_s\":%.1f,", setupS > 0 ? double(setupCreates) / setupS : 0.0);
  add("\"warmup_s\":%.3f,\"duration_s\":%.4f,\"ops\":%llu,\"ops_per_s\":%.1f,", o.warmup, measured,
      (unsigned long long)ops, measured > 0 ? double(ops) / measured : 0.0);
  add("\"latency_us\":{\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p99_9\":%.1f,"
      "\"max\":%.1f},",
      h.total ? double(h.sum / h.total) / 1e3 : 0.0, h.percentile(50) / 1e3,
      h.percentile(90) / 1e3, h.percentile(99) / 1e3, h.percentile(99.9) / 1e3, h.maxV / 1e3);
  out += "\"errors\":{";
  bool first = true;
  uint64_t errTotal = 0;
  for (auto& [k, v] : errors) {
    add("%s\"%d\":%llu", first ? "" : ",", k, (unsigned long long)v);
    first = false;
    errTotal += v;
  }
  add("},\"error_count\":%llu,\"connections_lost\":%llu,\"xid_mismatch\":%llu,",
      (unsigned long long)errTotal, (unsigned long long)connLost,
      (unsigned long long)xidMismatch);
  if (o.op == Op::Delete) add("\"pool_exhausted\":%s,", poolExhausted ? "true" : "false");
  add("\"client_cpu_s\":%.3f,\"client_cpu_us_per_op\":%.2f,", clientCpu,
      ops ? clientCpu * 1e6 / double(ops) : 0.0);
  if (o.serverPid) {
    double sc = (srvCpu0 >= 0 && srvCpu1 >= 0) ? srvCpu1 - srvCpu0 : -1;
    add("\"server_pid\":%ld,\"server_cpu_s\":%.3f,\"server_cpu_us_per_op\":%.2f,"
        "\"server_rss_kb_before\":%ld,\"server_rss_kb_after\":%ld",
        o.serverPid, sc, (sc >= 0 && ops) ? sc * 1e6 / double(ops) : -1.0, rss0, rss1);
  } else {
    out += "\"server_pid\":null";
  }
  out += "}\n";
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return (connLost || xidMismatch) ? 3 : 0;
}
