// corral-storm: soak and storm load for ZooKeeper-protocol ensembles (Corral or Apache
// ZooKeeper 3.8). One epoll loop (storm_client.h) drives every session; each subcommand prints
// ONE JSON object on stdout at the end, progress lines on stderr.
//
//   soak             N sessions holding W data/exists watches each over a shared key space,
//                    re-armed when they fire, with steady setData from a few writers; checks
//                    that no session is lost or expires and no watched change goes unnoticed,
//                    samples each member's RSS
//   connect-storm    new sessions at a fixed rate (connect + ConnectRequest + ConnectResponse,
//                    then closeSession or close) next to established sessions doing reads/pings
//   reconnect-storm  N sessions, then kill -9 of a member (the leader) by PID: every client
//                    re-attaches with its session id and password; time to all re-attached,
//                    expirations, first write after the kill
//   slow-consumer    one session with a persistent recursive watch on a hot subtree that never
//                    reads its socket while writers set the subtree's nodes; RSS of the members,
//                    when the slow connection is cut, writers' latency before and during
//
// See tests/soak/README.md.
#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdarg>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "storm_client.h"
#include "storm_util.h"
#include "storm_wire.h"

namespace {

using namespace storm;

// ------------------------------------------------------------------ options
class Args {
 public:
  bool parse(int argc, char** argv, int from) {
    for (int i = from; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        help = true;
        continue;
      }
      if (a.rfind("--", 0) != 0) {
        std::fprintf(stderr, "unexpected argument %s\n", a.c_str());
        return false;
      }
      std::string k = a.substr(2), v;
      const auto eq = k.find('=');
      if (eq != std::string::npos) {
        v = k.substr(eq + 1);
        k = k.substr(0, eq);
      } else if (i + 1 < argc) {
        v = argv[++i];
      } else {
        std::fprintf(stderr, "missing value for --%s\n", k.c_str());
        return false;
      }
      kv_[k] = v;
    }
    return true;
  }
  std::string str(const std::string& k, const std::string& def) {
    used_.insert(k);
    auto it = kv_.find(k);
    return it == kv_.end() ? def : it->second;
  }
  long num(const std::string& k, long def) {
    const std::string v = str(k, "");
    return v.empty() ? def : std::atol(v.c_str());
  }
  double real(const std::string& k, double def) {
    const std::string v = str(k, "");
    return v.empty() ? def : std::atof(v.c_str());
  }
  bool has(const std::string& k) const { return kv_.count(k) != 0; }
  bool unknown() const {
    bool bad = false;
    for (auto& [k, v] : kv_)
      if (!used_.count(k)) {
        std::fprintf(stderr, "unknown option --%s\n", k.c_str());
        bad = true;
      }
    return bad;
  }
  bool help = false;

 private:
  std::map<std::string, std::string> kv_;
  std::set<std::string> used_;
};

const char* kUsage = R"(usage: corral-storm SUBCOMMAND [options]        (one JSON object on stdout)

common options
  --hosts H:P,H:P,...      ensemble members (required); sessions are spread round-robin
  --pids P,P,...           the members' PIDs in --hosts order: RSS/CPU sampled from /proc
  --session-timeout MS     requested session timeout                               [30000]
  --rss-interval S         seconds between RSS samples                             [5; slow-consumer 1]
  --progress S             seconds between progress lines on stderr                [10]
  --root PATH              znode under which everything is created                 [/corral-storm]
  --backoff-ms MS          random back-off (0..MS) of a 2nd.. reconnect attempt     [250]
  --source-ips N           bind client sockets to 127.1.0.1..N (more port space)    [0; connect-storm 16]
  --seed N                 random seed                                               [1]

soak
  --sessions N [10000]  --watches W per session [100]  --keys K shared key space [100000]
  --writers N [4]  --write-rate SETS_PER_S [300]  --minutes M steady state [10]
  --connect-rate N/s [500]  --arm-window N outstanding watch-setting reads [2000]
  --value-size B [16]  --settle S [30]  --arm-timeout S [900]
connect-storm
  --rate N/s [5000]  --duration S [30]  --baseline S [10]  --bg-sessions N [300]
  --bg-read-interval S [1]  --bg-ping-interval S [2]  --close session|close [session]
  --max-pending N [10000]  --handshake-timeout S [10]
reconnect-storm
  --sessions N [1000]  --writers N [3]  --kill-pid-at S:PID (kill -9 PID S seconds after all
  sessions are connected; required)  --connect-rate N/s [2000]  --write-interval-ms MS [10]
  --reattach-timeout S [60]  --hold S [5]
slow-consumer
  --writers N [4]  --rate SETS_PER_S [1000]  --warmup S not recorded [10]  --baseline S [20]
  --duration S with the slow session [60]
  --keys N hot nodes [100]  --path-len B length of each hot node's name [1000]
  --slow-host I index in --hosts of the slow session's member [0]
  --slow-rcvbuf B SO_RCVBUF of the slow socket [65536]  --slow-ping-ms MS [1000]
  --slow-session-timeout MS the slow session's requested timeout [--session-timeout]
  --value-size B [16]
)";

struct Common {
  std::vector<std::string> hostNames;
  std::vector<sockaddr_in> hosts;
  std::vector<long> pids;
  int32_t timeoutMs = 30000;
  double rssInterval = 5;
  double progressS = 10;
  std::string root = "/corral-storm";
  int backoffMs = 250;
  int sourceIps = 0;
  uint64_t seed = 1;
  uint64_t startNs = 0;
  double cpu0 = 0;
  double wait0 = 0;
};

bool parseCommon(Args& a, Common& c, double defaultRssInterval, int defaultSourceIps) {
  const std::string hosts = a.str("hosts", "");
  size_t p = 0;
  while (p < hosts.size()) {
    size_t q = hosts.find(',', p);
    if (q == std::string::npos) q = hosts.size();
    std::string hp = hosts.substr(p, q - p);
    p = q + 1;
    if (hp.empty()) continue;
    const auto colon = hp.rfind(':');
    std::string h = colon == std::string::npos ? hp : hp.substr(0, colon);
    const int port = colon == std::string::npos ? 2181 : std::atoi(hp.c_str() + colon + 1);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(uint16_t(port));
    if (inet_pton(AF_INET, h.c_str(), &sa.sin_addr) != 1) {
      addrinfo hints{}, *res = nullptr;
      hints.ai_family = AF_INET;
      if (getaddrinfo(h.c_str(), nullptr, &hints, &res) != 0 || !res) {
        std::fprintf(stderr, "cannot resolve %s\n", h.c_str());
        return false;
      }
      sa.sin_addr = reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr;
      freeaddrinfo(res);
    }
    c.hosts.push_back(sa);
    c.hostNames.push_back(h + ":" + std::to_string(port));
  }
  if (c.hosts.empty()) {
    std::fprintf(stderr, "--hosts is required\n");
    return false;
  }
  const std::string pids = a.str("pids", "");
  p = 0;
  while (p < pids.size()) {
    size_t q = pids.find(',', p);
    if (q == std::string::npos) q = pids.size();
    c.pids.push_back(std::atol(pids.substr(p, q - p).c_str()));
    p = q + 1;
  }
  c.timeoutMs = int32_t(a.num("session-timeout", 30000));
  c.rssInterval = a.real("rss-interval", defaultRssInterval);
  c.progressS = a.real("progress", 10);
  c.root = a.str("root", "/corral-storm");
  c.backoffMs = int(a.num("backoff-ms", 250));
  c.sourceIps = int(a.num("source-ips", defaultSourceIps));
  c.seed = uint64_t(a.num("seed", 1));
  if (c.root.size() < 2 || c.root[0] != '/' || c.root.back() == '/') {
    std::fprintf(stderr, "bad --root\n");
    return false;
  }
  return true;
}

void raiseFdLimit(rlim_t want) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur >= want) return;
  rlimit n{want, std::max(want, rl.rlim_max)};
  if (setrlimit(RLIMIT_NOFILE, &n) != 0) {
    n = {rl.rlim_max, rl.rlim_max};
    setrlimit(RLIMIT_NOFILE, &n);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  std::fprintf(stderr, "corral-storm: RLIMIT_NOFILE %llu\n", (unsigned long long)rl.rlim_cur);
}

double secondsSince(uint64_t t0) { return double(nowNs() - t0) / 1e9; }

double selfRunqWait() {
  double run = 0, wait = 0;
  procSched(long(getpid()), run, wait);
  return wait;
}

// RSS and CPU of the members over time.
struct ProcSampler {
  struct Sample {
    double t;
    std::string phase;
    std::vector<long> rss;
    std::vector<double> cpu;
    std::vector<double> wait;  // run-queue wait (s): runnable, no CPU — a starved server
  };
  std::vector<long> pids;
  uint64_t t0 = 0;
  std::vector<Sample> samples;
  uint64_t nextNs = 0;
  double intervalS = 5;

  void take(const std::string& phase) {
    Sample s;
    s.t = double(nowNs() - t0) / 1e9;
    s.phase = phase;
    for (long p : pids) {
      s.rss.push_back(procRssKb(p));
      s.cpu.push_back(procCpuSeconds(p));
      double run = 0, wait = -1;
      if (!procSched(p, run, wait)) wait = -1;
      s.wait.push_back(wait);
    }
    samples.push_back(std::move(s));
    nextNs = nowNs() + uint64_t(intervalS * 1e9);
  }
  void maybe(const std::string& phase) {
    if (!pids.empty() && nowNs() >= nextNs) take(phase);
  }
  void write(Json& j) const {
    j.key("samples").beginArray();
    for (auto& s : samples) {
      j.beginObject().kv("t", s.t, 2).kv("phase", s.phase);
      j.key("rss_kb").beginArray();
      for (long r : s.rss) j.integer(r);
      j.endArray();
      j.key("cpu_s").beginArray();
      for (double c : s.cpu) j.num(c, 2);
      j.endArray();
      j.key("runq_wait_s").beginArray();
      for (double c : s.wait) j.num(c, 2);
      j.endArray();
      j.endObject();
    }
    j.endArray();
  }
  // Per member: RSS at the first, middle and last sample of `phase`, max, least-squares slope
  // over the phase and over its second half (KiB per minute), growth first -> last, CPU used.
  void summary(Json& j, const std::string& phase, const std::vector<std::string>& names) const {
    std::vector<const Sample*> ph;
    for (auto& s : samples)
      if (s.phase == phase) ph.push_back(&s);
    j.key("members").beginArray();
    for (size_t m = 0; m < pids.size(); ++m) {
      j.beginObject().kv("host", m < names.size() ? names[m] : "?").kv("pid", pids[m]);
      if (ph.empty()) {
        j.endObject();
        continue;
      }
      const double tStart = ph.front()->t, tEnd = ph.back()->t, tMid = (tStart + tEnd) / 2;
      const Sample* mid = ph.front();
      for (auto* s : ph)
        if (std::abs(s->t - tMid) < std::abs(mid->t - tMid)) mid = s;
      std::vector<double> x, y, x2, y2;
      long mx = 0;
      for (auto* s : ph) {
        if (s->rss[m] < 0) continue;
        x.push_back(s->t / 60.0);
        y.push_back(double(s->rss[m]));
        if (s->t >= mid->t) {
          x2.push_back(s->t / 60.0);
          y2.push_back(double(s->rss[m]));
        }
        mx = std::max(mx, s->rss[m]);
      }
      const long a = ph.front()->rss[m], b = mid->rss[m], c = ph.back()->rss[m];
      j.kv("start_t", tStart, 1).kv("mid_t", mid->t, 1).kv("end_t", tEnd, 1);
      j.kv("start_kb", a).kv("mid_kb", b).kv("end_kb", c).kv("max_kb", mx);
      j.kv("slope_kb_per_min", slope(x, y), 1).kv("slope_second_half_kb_per_min", slope(x2, y2), 1);
      j.kv("growth_pct", a > 0 ? 100.0 * double(c - a) / double(a) : 0.0, 2);
      j.kv("growth_second_half_pct", b > 0 ? 100.0 * double(c - b) / double(b) : 0.0, 2);
      const double c0 = ph.front()->cpu[m], c1 = ph.back()->cpu[m];
      j.kv("cpu_s", (c0 >= 0 && c1 >= 0) ? c1 - c0 : -1.0, 2);
      const double w0 = ph.front()->wait[m], w1 = ph.back()->wait[m];
      j.kv("runq_wait_s", (w0 >= 0 && w1 >= 0) ? w1 - w0 : -1.0, 2);
      j.kv("phase_s", tEnd - tStart, 2);
      j.endObject();
    }
    j.endArray();
  }
};

void writeCounts(Json& j, std::string_view k, const std::map<std::string, uint64_t>& m) {
  j.key(k).beginObject();
  for (auto& [n, v] : m) j.kv(n, (unsigned long long)v);
  j.endObject();
}
void writeCounts(Json& j, std::string_view k, const std::map<int, uint64_t>& m) {
  j.key(k).beginObject();
  for (auto& [n, v] : m) j.kv(std::to_string(n), (unsigned long long)v);
  j.endObject();
}
uint64_t total(const std::map<int, uint64_t>& m) {
  uint64_t t = 0;
  for (auto& [k, v] : m) t += v;
  return t;
}
uint64_t total(const std::map<std::string, uint64_t>& m) {
  uint64_t t = 0;
  for (auto& [k, v] : m) t += v;
  return t;
}

void writeHeader(Json& j, const char* scenario, const Common& c) {
  j.kv("scenario", scenario);
  j.key("hosts").beginArray();
  for (auto& h : c.hostNames) j.str(h);
  j.endArray();
  j.key("pids").beginArray();
  for (long p : c.pids) j.integer(p);
  j.endArray();
  j.kv("session_timeout_ms", c.timeoutMs);
}

void writeEngine(Json& j, const Engine& e) {
  j.key("engine").beginObject();
  j.kv("connect_attempts", (unsigned long long)e.attemptsTotal);
  j.kv("requests_sent", (unsigned long long)e.requestsSent);
  j.kv("xid_mismatch", (unsigned long long)e.xidMismatch);
  j.kv("unexpected_replies", (unsigned long long)e.unexpectedReplies);
  j.kv("loop_max_gap_ms", double(e.maxLoopGapNs) / 1e6, 1);
  j.kv("loop_gaps_over_100ms", (unsigned long long)e.loopGapsOver100ms);
  j.key("connect_errno").beginObject();
  for (auto& [k, v] : e.connectErrno) j.kv(Engine::errnoName(k), (unsigned long long)v);
  j.endObject();
  j.endObject();
}

// Emits the sessions/s pace: how many of `total` are due at `now`.
struct Pacer {
  uint64_t t0 = 0;
  double rate = 0;
  uint64_t issued = 0;
  void start(double r) {
    t0 = nowNs();
    rate = r;
    issued = 0;
  }
  uint64_t due() const { return uint64_t(double(nowNs() - t0) / 1e9 * rate); }
};

struct Progress {
  uint64_t nextNs = 0;
  double everyS = 10;
  bool due() {
    const uint64_t n = nowNs();
    if (n < nextNs) return false;
    nextNs = n + uint64_t(everyS * 1e9);
    return true;
  }
};

void log(const Common& c, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void log(const Common& c, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "[%8.2f] %s\n", secondsSince(c.startNs), buf);
}

std::string rssLine(const ProcSampler& ps) {
  std::string s;
  for (long p : ps.pids) {
    const long r = procRssKb(p);
    s += (s.empty() ? "" : " ") + (r < 0 ? std::string("gone") : std::to_string(r / 1024) + "M");
  }
  return s.empty() ? "-" : s;
}

EngineConfig engineConfig(const Common& c) {
  EngineConfig ec;
  ec.hosts = c.hosts;
  ec.hostNames = c.hostNames;
  ec.timeoutMs = c.timeoutMs;
  ec.sourceIps = c.sourceIps;
  ec.backoffMs = c.backoffMs;
  return ec;
}

// Creates `paths` one after the other through `s` (NodeExists is fine).
bool createChain(Engine& eng, Session& s, const std::vector<std::string>& paths, int& lastErr,
                 uint8_t kind) {
  for (auto& p : paths) {
    lastErr = 1;
    eng.create(s, p, "", kind, 0);
    const uint64_t end = nowNs() + 30'000'000'000ull;
    while (!s.pending.empty() && nowNs() < end) eng.poll(1);
    if (lastErr != 0 && lastErr != wire::kErrNodeExists) return false;
  }
  return true;
}

// ================================================================== soak
class Soak final : public Handler {
 public:
  enum Role : uint8_t { kWriter = 1, kWatcher = 2 };
  enum Kind : uint8_t { kChain = 1, kProbe, kKeyCreate, kArm, kRearm, kSet, kReadback, kClose };

  Soak(Common& c, Args& a) : c_(c), eng_(engineConfig(c), this), rng_(c.seed) {
    sessions_ = a.num("sessions", 10000);
    watches_ = a.num("watches", 100);
    keys_ = a.num("keys", 100000);
    writers_ = a.num("writers", 4);
    writeRate_ = a.real("write-rate", 300);
    minutes_ = a.real("minutes", 10);
    connectRate_ = a.real("connect-rate", 500);
    armWindow_ = a.num("arm-window", 2000);
    valueSize_ = a.num("value-size", 16);
    settleS_ = a.real("settle", 30);
    armTimeoutS_ = a.real("arm-timeout", 900);
  }
  bool valid() const {
    return sessions_ > 0 && watches_ > 0 && keys_ >= watches_ && writers_ > 0 && writeRate_ > 0 &&
           minutes_ > 0 && connectRate_ > 0 && armWindow_ > 0;
  }

  int run() {
    sampler_.pids = c_.pids;
    sampler_.t0 = c_.startNs;
    sampler_.intervalS = c_.rssInterval;
    prefix_ = c_.root + "/soak/k";
    value_.assign(size_t(valueSize_), 'v');
    finalVer_.assign(size_t(keys_), 0);
    readVer_.assign(size_t(keys_), -1);
    lastSetSent_.assign(size_t(keys_), 0);
    watchersOf_.assign(size_t(keys_), 0);
    progress_.everyS = c_.progressS;

    // ---- writers, root, keys
    phase_ = "setup";
    const uint64_t setupT0 = nowNs();
    for (long i = 0; i < writers_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kWriter;
      s->host = int(size_t(i) % c_.hosts.size());
      eng_.connect(*s);
      writerList_.push_back(std::move(s));
    }
    if (!loop([&] { return connectedWriters() == writers_; }, 60))
      return fail("writers did not connect");
    Session& w0 = *writerList_[0];
    int err = 0;
    chainErr_ = &err;
    if (!createChain(eng_, w0, {c_.root, c_.root + "/soak"}, err, kChain))
      return fail("cannot create the root: error " + std::to_string(err));
    probeErr_ = 1;
    eng_.read(w0, wire::kExists, keyPath(keys_ - 1), false, kProbe, 0);
    loop([&] { return probeErr_ != 1; }, 30);
    long created = 0;
    if (probeErr_ != 0) {
      nextCreate_ = 0;
      pumpCreates();
      if (!loop([&] { return createsDone_ >= keys_; }, 900, [&] { pumpCreates(); }))
        return fail("key creation did not finish");
      created = keys_;
    }
    const double setupS = secondsSince(setupT0);
    log(c_, "setup: %ld keys created (%s) in %.1f s", created, probeErr_ == 0 ? "existed" : "new", setupS);

    // ---- watcher sessions: key lists, connect, arm
    phase_ = "arm";
    for (long i = 0; i < sessions_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kWatcher;
      s->host = int(size_t(i) % c_.hosts.size());
      std::set<uint32_t> ks;
      std::uniform_int_distribution<long> d(0, keys_ - 1);
      while (long(ks.size()) < watches_) ks.insert(uint32_t(d(rng_)));
      s->keys.assign(ks.begin(), ks.end());
      s->ver.assign(ks.size(), -1);
      s->armed.assign(ks.size(), 0);
      for (uint32_t k : ks) ++watchersOf_[k];
      watcherList_.push_back(std::move(s));
    }
    const uint64_t armT0 = nowNs();
    Pacer pace;
    pace.start(connectRate_);
    const uint64_t wantArmed = uint64_t(sessions_) * uint64_t(watches_);
    double connectS = -1;
    bool armedAll = loop(
        [&] { return armedTotal_ >= wantArmed && armOutstanding_ == 0; }, armTimeoutS_,
        [&] {
          const uint64_t due = std::min<uint64_t>(pace.due(), uint64_t(sessions_));
          while (pace.issued < due) eng_.connect(*watcherList_[pace.issued++]);
          if (connectS < 0 && connectedOnce_ == uint64_t(sessions_)) connectS = secondsSince(armT0);
          pumpArms();
        });
    const double armS = secondsSince(armT0);
    log(c_, "arm: %llu sessions connected in %.1f s, %llu watches armed in %.1f s%s",
        (unsigned long long)connectedOnce_, connectS, (unsigned long long)armedTotal_, armS,
        armedAll ? "" : " (TIMEOUT)");
    const uint64_t lossesBeforeSteady = losses_;

    // ---- steady state
    phase_ = "steady";
    sampler_.take("steady");
    const uint64_t st0 = nowNs();
    const double cpuSelf0 = selfCpuSeconds();
    Pacer wpace;
    wpace.start(writeRate_);
    size_t rr = 0;
    steady_ = true;
    loop([&] { return false; }, minutes_ * 60.0, [&] {
      const uint64_t due = wpace.due();
      while (wpace.issued < due) {
        Session* w = nullptr;
        for (size_t k = 0; k < writerList_.size(); ++k) {
          Session* cand = writerList_[(rr + k) % writerList_.size()].get();
          if (cand->st == State::kConnected && cand->outstanding < 64) {
            w = cand;
            rr = (rr + k + 1) % writerList_.size();
            break;
          }
        }
        if (!w) {
          ++setsDeferred_;
          break;
        }
        const uint32_t key = uint32_t(std::uniform_int_distribution<long>(0, keys_ - 1)(rng_));
        lastSetSent_[key] = nowNs();
        eng_.setData(*w, keyPath(key), value_, kSet, key);
        ++w->outstanding;
        ++wpace.issued;
      }
    });
    steady_ = false;
    sampler_.take("steady");
    const double steadyS = secondsSince(st0);
    const double cpuSelf = selfCpuSeconds() - cpuSelf0;

    // ---- settle: writes answered, re-arms answered, no event for 2 s
    phase_ = "settle";
    const uint64_t settleT0 = nowNs();
    const bool settled = loop([&] {
      for (auto& w : writerList_)
        if (w->outstanding) return false;
      return rearmOutstanding_ == 0 && armOutstanding_ == 0 && nowNs() - lastEventNs_ > 2'000'000'000ull;
    }, settleS_, [&] { pumpArms(); });
    const double settleSecs = secondsSince(settleT0);

    // ---- read back every key's version
    phase_ = "verify";
    nextRead_ = 0;
    readsDone_ = 0;
    pumpReadback();
    const bool readAll = loop([&] { return readsDone_ >= keys_; }, 300, [&] { pumpReadback(); });
    uint64_t missed = 0, ahead = 0, unarmed = 0, checked = 0, readMismatch = 0;
    uint64_t sessionsMissed = 0, disconnected = 0;
    for (long k = 0; k < keys_; ++k)
      if (readVer_[size_t(k)] >= 0 && readVer_[size_t(k)] != finalVer_[size_t(k)]) ++readMismatch;
    for (auto& s : watcherList_) {
      if (s->st != State::kConnected) {
        ++disconnected;
        continue;
      }
      bool any = false;
      for (size_t i = 0; i < s->keys.size(); ++i) {
        const int32_t truth = readVer_[s->keys[i]];
        ++checked;
        if (!s->armed[i]) ++unarmed;
        if (s->ver[i] < truth) {
          ++missed;
          any = true;
        } else if (s->ver[i] > truth) {
          ++ahead;
        }
      }
      sessionsMissed += any;
    }
    log(c_, "verify: %llu pairs, %llu missed, %llu unarmed, %llu sessions disconnected",
        (unsigned long long)checked, (unsigned long long)missed, (unsigned long long)unarmed,
        (unsigned long long)disconnected);

    // ---- close
    phase_ = "close";
    closing_ = true;
    for (auto* list : {&watcherList_, &writerList_})
      for (auto& s : *list)
        if (s->st == State::kConnected) eng_.closeSession(*s, kClose);
        else eng_.disconnect(*s);
    loop([&] {
      for (auto* list : {&watcherList_, &writerList_})
        for (auto& s : *list)
          if (s->st == State::kConnected) return false;
      return true;
    }, 30);

    // ---- report
    Json j;
    j.beginObject();
    writeHeader(j, "soak", c_);
    j.key("config").beginObject();
    j.kv("sessions", sessions_).kv("watches_per_session", watches_).kv("keys", keys_);
    j.kv("writers", writers_).kv("write_rate", writeRate_, 1).kv("minutes", minutes_, 2);
    j.kv("connect_rate", connectRate_, 0).kv("arm_window", armWindow_).kv("value_size", valueSize_);
    j.endObject();
    j.key("setup").beginObject().kv("keys_created", created).kv("setup_s", setupS, 2).endObject();
    j.key("arm").beginObject();
    j.kv("connected", (unsigned long long)connectedOnce_).kv("connect_s", connectS, 2);
    j.kv("watches_wanted", (unsigned long long)wantArmed).kv("watches_armed", (unsigned long long)armedTotal_);
    j.kv("arm_s", armS, 2).kvb("complete", armedAll);
    j.kv("losses_before_steady", (unsigned long long)lossesBeforeSteady);
    j.endObject();
    j.key("steady").beginObject();
    j.kv("duration_s", steadyS, 2).kv("sets_ok", (unsigned long long)setsOk_);
    j.kv("set_rate", steadyS > 0 ? double(setsOk_) / steadyS : 0.0, 1);
    j.kv("sets_deferred", (unsigned long long)setsDeferred_);
    j.latency("set_latency", setLat_);
    j.kv("events_received", (unsigned long long)events_);
    j.kv("events_upper_bound", (unsigned long long)eventsUpper_);
    j.kv("events_per_s", steadyS > 0 ? double(eventsSteady_) / steadyS : 0.0, 1);
    j.latency("event_latency", eventLat_);
    j.latency("rearm_latency", rearmLat_);
    j.latency("ping_latency", pingLat_);
    j.kv("unexpected_events", (unsigned long long)unexpectedEvents_);
    j.kv("duplicate_events", (unsigned long long)duplicateEvents_);
    j.kv("client_cpu_s", cpuSelf, 2);
    j.endObject();
    j.key("verify").beginObject();
    j.kvb("settled", settled).kv("settle_s", settleSecs, 2).kvb("readback_complete", readAll);
    j.kv("pairs_checked", (unsigned long long)checked).kv("missed_pairs", (unsigned long long)missed);
    j.kv("sessions_with_missed", (unsigned long long)sessionsMissed);
    j.kv("ahead_pairs", (unsigned long long)ahead).kv("unarmed_pairs", (unsigned long long)unarmed);
    j.kv("disconnected_sessions", (unsigned long long)disconnected);
    j.kv("readback_vs_replies_mismatch", (unsigned long long)readMismatch);
    j.endObject();
    j.key("sessions").beginObject();
    j.kv("connection_losses", (unsigned long long)losses_);
    writeCounts(j, "loss_kinds", lossKinds_);
    j.kv("expirations", (unsigned long long)expirations_);
    j.kv("reattached", (unsigned long long)reattached_).kv("new_sessions", (unsigned long long)newSessions_);
    j.kv("connect_failures", (unsigned long long)connectFailures_);
    j.kv("unknown_outcome_sets", (unsigned long long)unknownSets_);
    j.endObject();
    writeCounts(j, "server_errors", errors_);
    j.kv("server_error_count", (unsigned long long)total(errors_));
    j.key("rss").beginObject();
    sampler_.summary(j, "steady", c_.hostNames);
    sampler_.write(j);
    j.endObject();
    writeEngine(j, eng_);
    const bool rssFlat = rssFlatAll();
    j.key("pass").beginObject();
    j.kvb("no_loss_no_expiry", losses_ == 0 && expirations_ == 0);
    j.kvb("all_events", missed == 0 && unarmed == 0 && disconnected == 0 && armedAll && settled &&
                            readAll && unexpectedEvents_ == 0);
    j.kvb("no_server_errors", total(errors_) == 0);
    j.kvb("rss_flat", rssFlat);
    j.endObject();
    j.kv("client_cpu_total_s", selfCpuSeconds() - c_.cpu0, 2);
    j.kv("client_runq_wait_total_s", selfRunqWait() - c_.wait0, 2);
    j.kv("elapsed_s", secondsSince(c_.startNs), 1);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    std::fflush(stdout);
    return 0;
  }

  // ---- Handler
  void onSession(Session& s, bool reattached) override {
    if (s.role == kWatcher) {
      if (!s.flag) {
        s.flag = true;
        ++connectedOnce_;
      } else if (reattached) {
        ++reattached_;
      } else {
        ++newSessions_;
      }
      s.armNext = 0;
      armQ_.push_back(&s);
    } else if (s.flag) {
      reattached ? ++reattached_ : ++newSessions_;
    } else {
      s.flag = true;
    }
  }
  void onRefused(Session& s, bool expired) override {
    if (expired) {
      ++expirations_;
      log(c_, "session of %s %u EXPIRED (re-attach refused)", s.role == kWatcher ? "watcher" : "writer", s.id);
    } else {
      ++refusals_;
    }
  }
  void onLost(Session& s, Lost why, int err, State was) override {
    if (closing_) return;
    if (was == State::kConnected) {
      ++losses_;
      ++lossKinds_[lostName(why)];
      if (losses_ <= 20)
        log(c_, "%s %u lost its connection to %s: %s (%s)", s.role == kWatcher ? "watcher" : "writer", s.id,
            c_.hostNames[size_t(s.host)].c_str(), lostName(why), Engine::errnoName(err).c_str());
    } else {
      ++connectFailures_;
    }
    for (auto& p : s.pending) {
      if (p.kind == kArm) --armOutstanding_;
      if (p.kind == kRearm) --rearmOutstanding_;
      if (p.kind == kSet) ++unknownSets_;
      if (p.kind == kKeyCreate) {
        --nextCreateOutstanding_;
        requeueCreates_.push_back(p.arg);
      }
      if (p.kind == kReadback) requeueReads_.push_back(p.arg);
    }
    s.outstanding = 0;
    if (s.role == kWatcher) {
      for (auto& a : s.armed) {
        if (a) --armedTotal_;
        a = 0;
      }
      s.armNext = 0;
    }
  }
  void onReply(Session& s, const Pending& p, const wire::Header& h, const char* body, size_t len) override {
    const uint64_t now = nowNs();
    switch (p.kind) {
      case kChain:
        if (chainErr_) *chainErr_ = h.err;
        break;
      case kProbe:
        probeErr_ = h.err;
        break;
      case kKeyCreate:
        --nextCreateOutstanding_;
        ++createsDone_;
        if (h.err && h.err != wire::kErrNodeExists) ++errors_[h.err];
        break;
      case kArm:
      case kRearm: {
        if (p.kind == kArm) --armOutstanding_;
        else {
          --rearmOutstanding_;
          rearmLat_.record(now - p.sentNs);
        }
        const uint32_t idx = p.arg;
        if (h.err) {
          ++errors_[h.err];
          break;
        }
        int32_t v = -1;
        const bool ok = p.op == wire::kExists ? wire::statReplyVersion(body, len, v)
                                              : wire::getDataReplyVersion(body, len, v);
        if (!ok) {
          ++errors_[1];
          break;
        }
        s.ver[idx] = v;
        if (!s.armed[idx]) {
          s.armed[idx] = 1;
          ++armedTotal_;
        }
        break;
      }
      case kSet: {
        if (s.outstanding) --s.outstanding;
        if (h.err) {
          ++errors_[h.err];
          break;
        }
        setLat_.record(now - p.sentNs);
        ++setsOk_;
        int32_t v = -1;
        if (wire::statReplyVersion(body, len, v)) finalVer_[p.arg] = std::max(finalVer_[p.arg], v);
        eventsUpper_ += watchersOf_[p.arg];
        break;
      }
      case kReadback: {
        if (s.outstanding) --s.outstanding;
        ++readsDone_;
        int32_t v = -1;
        if (h.err == 0 && wire::getDataReplyVersion(body, len, v)) readVer_[p.arg] = v;
        else if (h.err) ++errors_[h.err];
        break;
      }
      case kClose:
        break;
    }
  }
  void onEvent(Session& s, const wire::Event& ev) override {
    const uint64_t now = nowNs();
    lastEventNs_ = now;
    if (s.role != kWatcher || ev.type != wire::kNodeDataChanged || ev.path.size() <= prefix_.size() ||
        ev.path.compare(0, prefix_.size(), prefix_) != 0) {
      ++unexpectedEvents_;
      return;
    }
    uint32_t key = 0;
    const char* b = ev.path.data() + prefix_.size();
    const char* e = ev.path.data() + ev.path.size();
    if (std::from_chars(b, e, key).ptr != e) {
      ++unexpectedEvents_;
      return;
    }
    const auto it = std::lower_bound(s.keys.begin(), s.keys.end(), key);
    if (it == s.keys.end() || *it != key) {
      ++unexpectedEvents_;
      return;
    }
    const size_t idx = size_t(it - s.keys.begin());
    if (!s.armed[idx]) {
      ++duplicateEvents_;
      return;
    }
    s.armed[idx] = 0;
    --armedTotal_;
    ++events_;
    if (steady_) ++eventsSteady_;
    if (lastSetSent_[key]) eventLat_.record(now - lastSetSent_[key]);
    ++rearmOutstanding_;
    eng_.read(s, readOp(idx), ev.path, true, kRearm, uint32_t(idx));
  }
  void onPing(Session&, uint64_t lat) override {
    if (steady_) pingLat_.record(lat);
  }

 private:
  static int32_t readOp(size_t idx) { return idx % 2 ? wire::kGetData : wire::kExists; }
  std::string keyPath(long k) const { return prefix_ + std::to_string(k); }

  long connectedWriters() const {
    long n = 0;
    for (auto& w : writerList_) n += w->st == State::kConnected;
    return n;
  }

  int fail(const std::string& msg) {
    Json j;
    j.beginObject();
    writeHeader(j, "soak", c_);
    j.kv("error", msg);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    log(c_, "FAILED: %s", msg.c_str());
    return 1;
  }

  void pumpCreates() {
    for (auto& w : writerList_) {
      while (w->st == State::kConnected && w->pending.size() < 256) {
        long k;
        if (!requeueCreates_.empty()) {
          k = long(requeueCreates_.back());
          requeueCreates_.pop_back();
        } else if (nextCreate_ < keys_) {
          k = nextCreate_++;
        } else {
          return;
        }
        eng_.create(*w, keyPath(k), "", kKeyCreate, uint32_t(k));
        ++nextCreateOutstanding_;
      }
    }
  }
  void pumpReadback() {
    for (auto& w : writerList_) {
      while (w->st == State::kConnected && w->pending.size() < 256) {
        long k;
        if (!requeueReads_.empty()) {
          k = long(requeueReads_.back());
          requeueReads_.pop_back();
        } else if (nextRead_ < keys_) {
          k = nextRead_++;
        } else {
          return;
        }
        eng_.read(*w, wire::kGetData, keyPath(k), false, kReadback, uint32_t(k));
        ++w->outstanding;
      }
    }
  }
  void pumpArms() {
    while (armOutstanding_ < uint64_t(armWindow_) && !armQ_.empty()) {
      Session* s = armQ_.front();
      armQ_.pop_front();
      if (s->st != State::kConnected || s->armNext >= s->keys.size()) continue;
      const uint32_t idx = s->armNext++;
      ++armOutstanding_;
      eng_.read(*s, readOp(idx), keyPath(s->keys[idx]), true, kArm, idx);
      if (s->armNext < s->keys.size()) armQ_.push_back(s);
    }
  }

  bool rssFlatAll() const {
    // flat: RSS over the second half of the steady state grew by at most 5 % for every member
    std::vector<const ProcSampler::Sample*> ph;
    for (auto& s : sampler_.samples)
      if (s.phase == "steady") ph.push_back(&s);
    if (ph.size() < 2) return true;
    const double tMid = (ph.front()->t + ph.back()->t) / 2;
    const ProcSampler::Sample* mid = ph.front();
    for (auto* s : ph)
      if (std::abs(s->t - tMid) < std::abs(mid->t - tMid)) mid = s;
    for (size_t m = 0; m < sampler_.pids.size(); ++m)
      if (mid->rss[m] > 0 && double(ph.back()->rss[m] - mid->rss[m]) > 0.05 * double(mid->rss[m])) return false;
    return true;
  }

  // Polls until `done()` or `timeoutS`; `tick` runs every iteration. Samples RSS, prints progress.
  bool loop(const std::function<bool()>& done, double timeoutS, const std::function<void()>& tick = nullptr) {
    const uint64_t end = nowNs() + uint64_t(timeoutS * 1e9);
    while (!done()) {
      if (nowNs() >= end) return false;
      if (tick) tick();
      eng_.poll(1);
      sampler_.maybe(phase_);
      if (progress_.due())
        log(c_,
            "%s: connected %llu/%ld, armed %llu (+%llu outstanding), events %llu, sets %llu, losses %llu, "
            "expired %llu, errors %llu, rss %s",
            phase_.c_str(), (unsigned long long)connectedNow(), sessions_, (unsigned long long)armedTotal_,
            (unsigned long long)(armOutstanding_ + rearmOutstanding_), (unsigned long long)events_,
            (unsigned long long)setsOk_, (unsigned long long)losses_, (unsigned long long)expirations_,
            (unsigned long long)total(errors_), rssLine(sampler_).c_str());
    }
    return true;
  }
  uint64_t connectedNow() const {
    uint64_t n = 0;
    for (auto& s : watcherList_) n += s->st == State::kConnected;
    return n;
  }

  Common& c_;
  Engine eng_;
  std::mt19937_64 rng_;
  long sessions_, watches_, keys_, writers_;
  double writeRate_, minutes_, connectRate_;
  long armWindow_, valueSize_;
  double settleS_, armTimeoutS_;
  std::string prefix_, value_, phase_;
  std::vector<std::unique_ptr<Session>> writerList_, watcherList_;
  std::vector<int32_t> finalVer_, readVer_;
  std::vector<uint64_t> lastSetSent_;
  std::vector<uint16_t> watchersOf_;
  std::deque<Session*> armQ_;
  std::vector<uint32_t> requeueCreates_, requeueReads_;
  int* chainErr_ = nullptr;
  int probeErr_ = 1;
  long nextCreate_ = 0, createsDone_ = 0, nextCreateOutstanding_ = 0, nextRead_ = 0, readsDone_ = 0;
  uint64_t armOutstanding_ = 0, rearmOutstanding_ = 0, armedTotal_ = 0, connectedOnce_ = 0;
  uint64_t events_ = 0, eventsSteady_ = 0, eventsUpper_ = 0, unexpectedEvents_ = 0, duplicateEvents_ = 0;
  uint64_t setsOk_ = 0, setsDeferred_ = 0, unknownSets_ = 0;
  uint64_t losses_ = 0, expirations_ = 0, refusals_ = 0, reattached_ = 0, newSessions_ = 0, connectFailures_ = 0;
  uint64_t lastEventNs_ = 0;
  bool steady_ = false, closing_ = false;
  std::map<std::string, uint64_t> lossKinds_;
  std::map<int, uint64_t> errors_;
  Histogram setLat_, eventLat_, rearmLat_, pingLat_;
  ProcSampler sampler_;
  Progress progress_;
};

// ================================================================== connect-storm
class ConnectStorm final : public Handler {
 public:
  enum Role : uint8_t { kBg = 1, kStorm = 2 };
  enum Kind : uint8_t { kChain = 1, kBgRead, kStormClose, kClose };
  static constexpr int kPhases = 3;  // baseline, storm, tail
  static constexpr const char* kPhaseNames[kPhases] = {"baseline", "storm", "tail"};

  ConnectStorm(Common& c, Args& a, EngineConfig ec) : c_(c), eng_(std::move(ec), this) {
    rate_ = a.real("rate", 5000);
    duration_ = a.real("duration", 30);
    baseline_ = a.real("baseline", 10);
    bgSessions_ = a.num("bg-sessions", 300);
    bgReadInterval_ = a.real("bg-read-interval", 1);
    bgPingInterval_ = a.real("bg-ping-interval", 2);
    closeMode_ = a.str("close", "session");
    maxPending_ = a.num("max-pending", 10000);
    handshakeTimeout_ = a.real("handshake-timeout", 10);
  }
  bool valid() const {
    return rate_ > 0 && duration_ > 0 && baseline_ >= 0 && bgSessions_ >= 1 && bgReadInterval_ > 0 &&
           (closeMode_ == "session" || closeMode_ == "close") && maxPending_ > 0;
  }

  int run() {
    sampler_.pids = c_.pids;
    sampler_.t0 = c_.startNs;
    sampler_.intervalS = c_.rssInterval;
    progress_.everyS = c_.progressS;
    path_ = c_.root + "/cs";
    phaseName_ = "setup";
    // ---- background sessions (not through the bound source addresses: the engine binds all)
    for (long i = 0; i < bgSessions_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kBg;
      s->host = int(size_t(i) % c_.hosts.size());
      eng_.connect(*s);
      bg_.push_back(std::move(s));
    }
    if (!loop([&] { return bgConnected() == bgSessions_; }, 60)) return fail("background sessions did not connect");
    int err = 0;
    chainErr_ = &err;
    if (!createChain(eng_, *bg_[0], {c_.root, path_}, err, kChain)) return fail("cannot create " + path_);
    const uint64_t now0 = nowNs();
    for (size_t i = 0; i < bg_.size(); ++i) {  // staggered
      bg_[i]->t1 = now0 + uint64_t(bgReadInterval_ * 1e9 * double(i) / double(bg_.size()));
      bg_[i]->t2 = now0 + uint64_t(bgPingInterval_ * 1e9 * double(i) / double(bg_.size()));
    }
    // ---- baseline
    phase_ = 0;
    phaseName_ = "baseline";
    sampler_.take("baseline");
    loop([] { return false; }, baseline_, [&] { bgTick(); });
    // ---- storm
    phase_ = 1;
    phaseName_ = "storm";
    sampler_.take("storm");
    stormT0_ = nowNs();
    const double cpu0 = selfCpuSeconds();
    perSecond_.assign(size_t(duration_ + handshakeTimeout_ + 10), {0, 0, 0});
    Pacer pace;
    pace.start(rate_);
    loop([] { return false; }, duration_, [&] {
      bgTick();
      const uint64_t due = pace.due();
      while (pace.issued < due) {
        ++pace.issued;
        if (live_.size() >= size_t(maxPending_)) {
          ++skipped_;
          continue;
        }
        startOne();
      }
    });
    stormT1_ = nowNs();
    const double stormCpu = selfCpuSeconds() - cpu0;
    const uint64_t completedInWindow = completed_;
    // ---- tail: outstanding handshakes and closes finish
    phase_ = 2;
    phaseName_ = "tail";
    sampler_.take("tail");
    loop([&] { return live_.empty(); }, handshakeTimeout_ + 25, [&] { bgTick(); });
    const uint64_t leftOver = live_.size();
    sampler_.take("tail");
    // ---- close background sessions
    closing_ = true;
    for (auto& s : bg_)
      if (s->st == State::kConnected) eng_.closeSession(*s, kClose);
      else eng_.disconnect(*s);
    for (auto& s : live_) eng_.disconnect(*s);
    loop([&] {
      for (auto& s : bg_)
        if (s->st == State::kConnected) return false;
      return true;
    }, 15);

    const double window = double(stormT1_ - stormT0_) / 1e9;
    Json j;
    j.beginObject();
    writeHeader(j, "connect-storm", c_);
    j.key("config").beginObject();
    j.kv("rate", rate_, 0).kv("duration_s", duration_, 1).kv("baseline_s", baseline_, 1);
    j.kv("bg_sessions", bgSessions_).kv("bg_read_interval_s", bgReadInterval_, 2);
    j.kv("bg_ping_interval_s", bgPingInterval_, 2).kv("close", closeMode_).kv("max_pending", maxPending_);
    j.kv("handshake_timeout_s", handshakeTimeout_, 1).kv("source_ips", c_.sourceIps);
    j.endObject();
    j.key("storm").beginObject();
    j.kv("window_s", window, 3).kv("started", (unsigned long long)started_);
    j.kv("skipped_at_max_pending", (unsigned long long)skipped_);
    j.kv("completed_in_window", (unsigned long long)completedInWindow);
    j.kv("completed_total", (unsigned long long)completed_);
    j.kv("achieved_rate", window > 0 ? double(completedInWindow) / window : 0.0, 1);
    j.kv("offered_rate", rate_, 1);
    j.latency("handshake_latency", hsLat_);
    j.kv("failures", (unsigned long long)total(failures_));
    writeCounts(j, "failure_kinds", failures_);
    j.kv("close_ok", (unsigned long long)closeOk_).kv("close_errors", (unsigned long long)closeErr_);
    j.latency("close_latency", closeLat_);
    j.kv("max_in_flight", (unsigned long long)maxLive_).kv("left_unfinished", (unsigned long long)leftOver);
    j.kv("client_cpu_s", stormCpu, 2);
    j.key("per_second").beginArray();
    for (size_t i = 0; i < perSecond_.size(); ++i) {
      if (i > size_t(duration_) && perSecond_[i][0] == 0 && perSecond_[i][1] == 0 && perSecond_[i][2] == 0) break;
      j.beginArray().integer(perSecond_[i][0]).integer(perSecond_[i][1]).integer(perSecond_[i][2]).endArray();
    }
    j.endArray();
    j.kv("per_second_fields", "started, handshakes completed, failures");
    j.endObject();
    j.key("background").beginObject();
    for (int p = 0; p < kPhases; ++p) {
      j.key(kPhaseNames[p]).beginObject();
      j.latency("read_latency", readLat_[p]);
      j.latency("ping_latency", pingLat_[p]);
      j.kv("losses", (unsigned long long)bgLosses_[p]);
      j.endObject();
    }
    j.kv("expirations", (unsigned long long)bgExpired_);
    writeCounts(j, "loss_kinds", bgLossKinds_);
    writeCounts(j, "server_errors", bgErrors_);
    j.endObject();
    j.key("rss").beginObject();
    sampler_.summary(j, "storm", c_.hostNames);
    sampler_.write(j);
    j.endObject();
    writeEngine(j, eng_);
    j.kv("client_cpu_total_s", selfCpuSeconds() - c_.cpu0, 2);
    j.kv("client_runq_wait_total_s", selfRunqWait() - c_.wait0, 2);
    j.kv("elapsed_s", secondsSince(c_.startNs), 1);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    std::fflush(stdout);
    return 0;
  }

  void onSession(Session& s, bool reattached) override {
    if (s.role == kStorm) {
      const uint64_t now = nowNs();
      hsLat_.record(now - s.attemptNs);
      ++completed_;
      bump(1);
      if (closeMode_ == "session") {
        eng_.closeSession(s, kStormClose);
      } else {
        release(s);
      }
      return;
    }
    if (s.flag && !reattached) ++bgNewSessions_;
    s.flag = true;
  }
  void onRefused(Session& s, bool expired) override {
    if (s.role == kStorm) {
      ++failures_["session_refused"];
      bump(2);
      release(s);
      return;
    }
    if (expired) {
      ++bgExpired_;
      log(c_, "background session %u EXPIRED", s.id);
    }
  }
  void onLost(Session& s, Lost why, int err, State was) override {
    if (s.role == kStorm) {
      std::string k = lostName(why);
      if (why == Lost::kConnectError) k += "_" + Engine::errnoName(err);
      if (was == State::kConnected) k = "after_session_" + k;
      ++failures_[k];
      bump(2);
      release(s);
      return;
    }
    if (closing_) return;
    if (was == State::kConnected) {
      ++bgLosses_[phase_];
      ++bgLossKinds_[lostName(why)];
      log(c_, "background session %u lost its connection: %s", s.id, lostName(why));
    }
  }
  void onReply(Session& s, const Pending& p, const wire::Header& h, const char*, size_t) override {
    const uint64_t now = nowNs();
    switch (p.kind) {
      case kChain:
        if (chainErr_) *chainErr_ = h.err;
        break;
      case kBgRead:
        if (h.err) ++bgErrors_[h.err];
        else readLat_[phase_].record(now - p.sentNs);
        s.outstanding = 0;
        break;
      case kStormClose:
        closeLat_.record(now - p.sentNs);
        h.err ? ++closeErr_ : ++closeOk_;
        break;
      default:
        break;
    }
  }
  void onPing(Session& s, uint64_t lat) override {
    if (s.role == kBg) pingLat_[phase_].record(lat);
  }
  void onClosed(Session& s) override {
    if (s.role == kStorm) release(s);
  }

 private:
  void startOne() {
    auto s = std::make_unique<Session>();
    s->role = kStorm;
    s->reconnect = false;
    s->host = int(started_ % c_.hosts.size());
    s->armNext = uint32_t(live_.size());
    Session* raw = s.get();
    live_.push_back(std::move(s));
    maxLive_ = std::max<uint64_t>(maxLive_, live_.size());
    ++started_;
    bump(0);
    eng_.connect(*raw);
  }
  void release(Session& s) {
    const size_t i = s.armNext;
    if (i >= live_.size() || live_[i].get() != &s) return;
    std::unique_ptr<Session> own = std::move(live_[i]);
    if (i + 1 != live_.size()) {
      live_[i] = std::move(live_.back());
      live_[i]->armNext = uint32_t(i);
    }
    live_.pop_back();
    eng_.retire(s, std::move(own));
  }
  void bump(int field) {
    if (!stormT0_) return;
    const size_t sec = size_t((nowNs() - stormT0_) / 1'000'000'000ull);
    if (sec < perSecond_.size()) ++perSecond_[sec][size_t(field)];
  }
  void bgTick() {
    const uint64_t now = nowNs();
    for (auto& sp : bg_) {
      Session& s = *sp;
      if (s.st != State::kConnected) continue;
      if (now >= s.t1) {
        s.t1 += uint64_t(bgReadInterval_ * 1e9);
        if (s.t1 < now) s.t1 = now + uint64_t(bgReadInterval_ * 1e9);
        if (!s.outstanding) {
          s.outstanding = 1;
          eng_.read(s, wire::kGetData, path_, false, kBgRead, 0);
        }
      }
      if (bgPingInterval_ > 0 && now >= s.t2) {
        s.t2 += uint64_t(bgPingInterval_ * 1e9);
        if (s.t2 < now) s.t2 = now + uint64_t(bgPingInterval_ * 1e9);
        eng_.ping(s);
      }
    }
  }
  long bgConnected() const {
    long n = 0;
    for (auto& s : bg_) n += s->st == State::kConnected;
    return n;
  }
  int fail(const std::string& msg) {
    Json j;
    j.beginObject();
    writeHeader(j, "connect-storm", c_);
    j.kv("error", msg);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    log(c_, "FAILED: %s", msg.c_str());
    return 1;
  }
  bool loop(const std::function<bool()>& done, double timeoutS, const std::function<void()>& tick = nullptr) {
    const uint64_t end = nowNs() + uint64_t(timeoutS * 1e9);
    while (!done()) {
      if (nowNs() >= end) return false;
      if (tick) tick();
      eng_.poll(1);
      sampler_.maybe(phaseName_);
      if (progress_.due())
        log(c_, "%s: started %llu, handshakes %llu (p99 %.1f ms), failures %llu, in flight %zu, bg losses %llu, rss %s",
            phaseName_.c_str(), (unsigned long long)started_, (unsigned long long)completed_,
            double(hsLat_.percentile(99)) / 1e6, (unsigned long long)total(failures_), live_.size(),
            (unsigned long long)(bgLosses_[0] + bgLosses_[1] + bgLosses_[2]), rssLine(sampler_).c_str());
    }
    return true;
  }

  Common& c_;
  Engine eng_;
  double rate_, duration_, baseline_, bgReadInterval_, bgPingInterval_, handshakeTimeout_;
  long bgSessions_, maxPending_;
  std::string closeMode_, path_, phaseName_;
  std::vector<std::unique_ptr<Session>> bg_, live_;
  int* chainErr_ = nullptr;
  int phase_ = 0;
  bool closing_ = false;
  uint64_t stormT0_ = 0, stormT1_ = 0;
  uint64_t started_ = 0, completed_ = 0, skipped_ = 0, closeOk_ = 0, closeErr_ = 0, maxLive_ = 0;
  uint64_t bgExpired_ = 0, bgNewSessions_ = 0;
  std::array<uint64_t, kPhases> bgLosses_{};
  std::map<std::string, uint64_t> failures_, bgLossKinds_;
  std::map<int, uint64_t> bgErrors_;
  std::vector<std::array<uint32_t, 3>> perSecond_;
  Histogram hsLat_, closeLat_;
  std::array<Histogram, kPhases> readLat_, pingLat_;
  ProcSampler sampler_;
  Progress progress_;
};

// ================================================================== reconnect-storm
class ReconnectStorm final : public Handler {
 public:
  enum Role : uint8_t { kIdleSession = 1, kWriter = 2 };
  enum Kind : uint8_t { kChain = 1, kWrite, kClose };

  ReconnectStorm(Common& c, Args& a) : c_(c), eng_(engineConfig(c), this) {
    sessions_ = a.num("sessions", 1000);
    writers_ = a.num("writers", 3);
    const std::string k = a.str("kill-pid-at", "");
    const auto colon = k.find(':');
    if (colon != std::string::npos) {
      killAtS_ = std::atof(k.substr(0, colon).c_str());
      killPid_ = std::atol(k.c_str() + colon + 1);
    }
    connectRate_ = a.real("connect-rate", 2000);
    writeIntervalMs_ = a.real("write-interval-ms", 10);
    reattachTimeout_ = a.real("reattach-timeout", 60);
    hold_ = a.real("hold", 5);
  }
  bool valid() const { return sessions_ > 0 && writers_ >= 0 && killPid_ > 0 && killAtS_ >= 0 && connectRate_ > 0; }

  int run() {
    sampler_.pids = c_.pids;
    sampler_.t0 = c_.startNs;
    sampler_.intervalS = c_.rssInterval;
    progress_.everyS = c_.progressS;
    phaseName_ = "connect";
    for (long i = 0; i < writers_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kWriter;
      s->host = int(size_t(i) % c_.hosts.size());
      eng_.connect(*s);
      writerList_.push_back(std::move(s));
    }
    for (long i = 0; i < sessions_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kIdleSession;
      s->host = int(size_t(i) % c_.hosts.size());
      list_.push_back(std::move(s));
    }
    const uint64_t t0 = nowNs();
    Pacer pace;
    pace.start(connectRate_);
    if (!loop([&] { return connected() == sessions_ && writersConnected() == writers_; }, 120, [&] {
          const uint64_t due = std::min<uint64_t>(pace.due(), uint64_t(sessions_));
          while (pace.issued < due) eng_.connect(*list_[pace.issued++]);
        }))
      return fail("sessions did not connect: " + std::to_string(connected()) + " of " + std::to_string(sessions_));
    const double connectS = secondsSince(t0);
    int err = 0;
    chainErr_ = &err;
    if (writers_ > 0 && !createChain(eng_, *writerList_[0], {c_.root, c_.root + "/rc"}, err, kChain))
      return fail("cannot create the root");
    for (auto& w : writerList_) {
      paths_.push_back(c_.root + "/rc/w" + std::to_string(w->id));
      int e2 = 0;
      chainErr_ = &e2;
      if (!createChain(eng_, *w, {paths_.back()}, e2, kChain)) return fail("cannot create " + paths_.back());
    }
    log(c_, "%ld sessions and %ld writers connected in %.2f s; killing PID %ld in %.1f s", sessions_, writers_,
        connectS, killPid_, killAtS_);
    // ---- steady until the kill
    phaseName_ = "before";
    writing_ = true;
    sampler_.take("before");
    loop([] { return false; }, killAtS_, [&] { writerTick(); });
    const uint64_t lossesBefore = lossesTotal_;
    // ---- kill
    tKill_ = nowNs();
    const int krc = ::kill(pid_t(killPid_), SIGKILL);
    const int kerr = errno;
    log(c_, "kill -9 %ld: %s", killPid_, krc == 0 ? "sent" : std::strerror(kerr));
    phaseName_ = "after";
    sampler_.take("after");
    uint64_t nextTl = tKill_;
    const bool done = loop(
        [&] {
          const uint64_t now = nowNs();
          return now - tKill_ > 3'000'000'000ull && now - lastLossNs_ > 2'000'000'000ull &&
                 connected() == sessions_ && writersConnected() == writers_ && (writers_ == 0 || firstWriteNs_);
        },
        reattachTimeout_, [&] {
          writerTick();
          const uint64_t now = nowNs();
          while (now >= nextTl) {
            timeline_.push_back(connected());
            nextTl += 100'000'000ull;
          }
        });
    const double settleS = secondsSince(tKill_);
    log(c_, "after the kill: %s in %.2f s; holding %.0f s", done ? "all re-attached" : "TIMEOUT", settleS, hold_);
    loop([] { return false; }, hold_, [&] { writerTick(); });
    writing_ = false;
    sampler_.take("after");
    // ---- stats
    Histogram reattach;
    uint64_t lostAfter = 0, reattachedN = 0, neverBack = 0, maxAttempts = 0;
    uint64_t lastReattach = 0;
    for (auto& s : list_) {
      if (!s->t0) continue;
      ++lostAfter;
      if (s->t1) {
        ++reattachedN;
        reattach.record(s->t1 - tKill_);
        lastReattach = std::max(lastReattach, s->t1 - tKill_);
      } else {
        ++neverBack;
      }
      maxAttempts = std::max<uint64_t>(maxAttempts, s->t2);
    }
    uint64_t firstAckAny = 0, maxGap = 0, prevAck = 0;
    std::sort(acks_.begin(), acks_.end());
    for (auto& [ack, sent] : acks_) {
      if (ack < tKill_ - std::min<uint64_t>(tKill_, 1'000'000'000ull)) continue;
      if (ack >= tKill_ && !firstAckAny) firstAckAny = ack - tKill_;
      if (prevAck) maxGap = std::max(maxGap, ack - prevAck);
      prevAck = ack;
    }
    // ---- close
    closing_ = true;
    for (auto* l : {&list_, &writerList_})
      for (auto& s : *l)
        if (s->st == State::kConnected) eng_.closeSession(*s, kClose);
        else eng_.disconnect(*s);
    loop([&] {
      for (auto* l : {&list_, &writerList_})
        for (auto& s : *l)
          if (s->st == State::kConnected) return false;
      return true;
    }, 20);

    Json j;
    j.beginObject();
    writeHeader(j, "reconnect-storm", c_);
    j.key("config").beginObject();
    j.kv("sessions", sessions_).kv("writers", writers_).kv("kill_pid", killPid_).kv("kill_at_s", killAtS_, 2);
    j.kv("write_interval_ms", writeIntervalMs_, 1).kv("backoff_ms", c_.backoffMs);
    j.kv("reattach_timeout_s", reattachTimeout_, 1).kv("hold_s", hold_, 1);
    j.endObject();
    j.kv("connect_s", connectS, 3).kv("losses_before_kill", (unsigned long long)lossesBefore);
    j.kvb("kill_sent", krc == 0);
    j.key("after_kill").beginObject();
    j.kvb("all_reattached", done);
    j.kv("sessions_lost_connection", (unsigned long long)lostAfter);
    j.kv("sessions_reattached", (unsigned long long)reattachedN);
    j.kv("sessions_not_reattached", (unsigned long long)neverBack);
    j.kv("expired", (unsigned long long)expired_);
    j.kv("new_sessions_after_expiry", (unsigned long long)newSessions_);
    j.kv("all_reattached_s", double(lastReattach) / 1e9, 3);
    j.latency("reattach_time", reattach);
    j.kv("max_attempts", (unsigned long long)maxAttempts);
    writeCounts(j, "failed_attempts", attemptFailures_);
    j.kv("first_write_issued_after_kill_acked_s", firstWriteNs_ ? double(firstWriteNs_ - tKill_) / 1e9 : -1.0, 3);
    j.kv("first_ack_after_kill_s", firstAckAny ? double(firstAckAny) / 1e9 : -1.0, 3);
    j.kv("longest_write_gap_s", double(maxGap) / 1e9, 3);
    j.kv("writes_ok", (unsigned long long)writesOk_);
    writeCounts(j, "write_errors", writeErrors_);
    j.key("connected_every_100ms").beginArray();
    for (auto v : timeline_) j.integer(v);
    j.endArray();
    j.endObject();
    writeCounts(j, "loss_kinds", lossKinds_);
    j.key("rss").beginObject();
    sampler_.write(j);
    j.endObject();
    writeEngine(j, eng_);
    j.kv("client_cpu_total_s", selfCpuSeconds() - c_.cpu0, 2);
    j.kv("client_runq_wait_total_s", selfRunqWait() - c_.wait0, 2);
    j.kv("elapsed_s", secondsSince(c_.startNs), 1);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    std::fflush(stdout);
    return 0;
  }

  void onSession(Session& s, bool reattached) override {
    if (tKill_ && !closing_) {
      if (s.role == kIdleSession && s.t0 && !s.t1) s.t1 = nowNs();
      if (!reattached && s.flag) ++newSessions_;
    }
    s.flag = true;
  }
  void onRefused(Session& s, bool expired) override {
    if (expired) {
      ++expired_;
      if (expired_ <= 10) log(c_, "%s %u EXPIRED", s.role == kWriter ? "writer" : "session", s.id);
    } else {
      ++attemptFailures_["session_refused"];
    }
  }
  void onLost(Session& s, Lost why, int err, State was) override {
    if (closing_) return;
    const uint64_t now = nowNs();
    if (was == State::kConnected) {
      ++lossesTotal_;
      ++lossKinds_[lostName(why)];
      lastLossNs_ = now;
      if (tKill_ && s.role == kIdleSession && !s.t0) s.t0 = now;
      if (tKill_ && s.role == kIdleSession && s.t1) {  // lost again after re-attaching
        s.t1 = 0;
      }
    } else {
      std::string k = lostName(why);
      if (why == Lost::kConnectError) k += "_" + Engine::errnoName(err);
      ++attemptFailures_[k];
      if (tKill_ && s.role == kIdleSession) ++s.t2;
    }
    if (s.role == kWriter) s.outstanding = 0;
  }
  void onReply(Session& s, const Pending& p, const wire::Header& h, const char*, size_t) override {
    if (p.kind == kChain) {
      if (chainErr_) *chainErr_ = h.err;
      return;
    }
    if (p.kind != kWrite) return;
    s.outstanding = 0;
    const uint64_t now = nowNs();
    if (h.err) {
      ++writeErrors_[h.err];
      return;
    }
    ++writesOk_;
    acks_.emplace_back(now, p.sentNs);
    if (tKill_ && p.sentNs >= tKill_ && !firstWriteNs_) firstWriteNs_ = now;
  }

 private:
  void writerTick() {
    if (!writing_) return;
    const uint64_t now = nowNs();
    for (size_t i = 0; i < writerList_.size(); ++i) {
      Session& w = *writerList_[i];
      if (w.st != State::kConnected || w.outstanding || now < w.t1) continue;
      w.outstanding = 1;
      w.t1 = now + uint64_t(writeIntervalMs_ * 1e6);
      eng_.setData(w, paths_[i], "x", kWrite, 0);
    }
  }
  long connected() const {
    long n = 0;
    for (auto& s : list_) n += s->st == State::kConnected;
    return n;
  }
  long writersConnected() const {
    long n = 0;
    for (auto& s : writerList_) n += s->st == State::kConnected;
    return n;
  }
  int fail(const std::string& msg) {
    Json j;
    j.beginObject();
    writeHeader(j, "reconnect-storm", c_);
    j.kv("error", msg);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    log(c_, "FAILED: %s", msg.c_str());
    return 1;
  }
  bool loop(const std::function<bool()>& done, double timeoutS, const std::function<void()>& tick = nullptr) {
    const uint64_t end = nowNs() + uint64_t(timeoutS * 1e9);
    while (!done()) {
      if (nowNs() >= end) return false;
      if (tick) tick();
      eng_.poll(1);
      sampler_.maybe(phaseName_);
      if (progress_.due())
        log(c_, "%s: connected %ld/%ld, writers %ld, losses %llu, expired %llu, writes ok %llu, rss %s",
            phaseName_.c_str(), connected(), sessions_, writersConnected(), (unsigned long long)lossesTotal_,
            (unsigned long long)expired_, (unsigned long long)writesOk_, rssLine(sampler_).c_str());
    }
    return true;
  }

  Common& c_;
  Engine eng_;
  long sessions_, writers_, killPid_ = 0;
  double killAtS_ = -1, connectRate_, writeIntervalMs_, reattachTimeout_, hold_;
  std::vector<std::unique_ptr<Session>> list_, writerList_;
  std::vector<std::string> paths_;
  std::string phaseName_;
  int* chainErr_ = nullptr;
  bool writing_ = false, closing_ = false;
  uint64_t tKill_ = 0, lastLossNs_ = 0, firstWriteNs_ = 0;
  uint64_t lossesTotal_ = 0, expired_ = 0, newSessions_ = 0, writesOk_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> acks_;  // (ack, sent)
  std::vector<long> timeline_;
  std::map<std::string, uint64_t> lossKinds_, attemptFailures_;
  std::map<int, uint64_t> writeErrors_;
  ProcSampler sampler_;
  Progress progress_;
};

// ================================================================== slow-consumer
class SlowConsumer final : public Handler {
 public:
  enum Role : uint8_t { kWriter = 1, kSlow = 2 };
  enum Kind : uint8_t { kChain = 1, kKeyCreate, kSet, kAddWatch, kClose };

  SlowConsumer(Common& c, Args& a) : c_(c), eng_(engineConfig(c), this), rng_(c.seed) {
    writers_ = a.num("writers", 4);
    rate_ = a.real("rate", 1000);
    warmup_ = a.real("warmup", 10);
    baseline_ = a.real("baseline", 20);
    duration_ = a.real("duration", 60);
    keys_ = a.num("keys", 100);
    pathLen_ = a.num("path-len", 1000);
    slowHost_ = int(a.num("slow-host", 0));
    slowRcvbuf_ = int(a.num("slow-rcvbuf", 65536));
    slowPingMs_ = int(a.num("slow-ping-ms", 1000));
    slowTimeoutMs_ = int(a.num("slow-session-timeout", 0));
    valueSize_ = a.num("value-size", 16);
  }
  bool valid() const {
    return writers_ > 0 && rate_ > 0 && duration_ > 0 && baseline_ >= 0 && warmup_ >= 0 && keys_ > 0 && pathLen_ >= 8 &&
           slowHost_ >= 0 && size_t(slowHost_) < c_.hosts.size();
  }

  int run() {
    sampler_.pids = c_.pids;
    sampler_.t0 = c_.startNs;
    sampler_.intervalS = c_.rssInterval;
    progress_.everyS = c_.progressS;
    hot_ = c_.root + "/hot";
    for (long k = 0; k < keys_; ++k) {
      std::string name = std::to_string(k) + "-";
      name.append(size_t(std::max<long>(1, pathLen_ - long(name.size()))), 'n');
      keyPaths_.push_back(hot_ + "/" + name);
    }
    value_.assign(size_t(valueSize_), 'v');
    phaseName_ = "setup";
    for (long i = 0; i < writers_; ++i) {
      auto s = std::make_unique<Session>();
      s->id = uint32_t(i);
      s->role = kWriter;
      s->host = int(size_t(i) % c_.hosts.size());
      eng_.connect(*s);
      writerList_.push_back(std::move(s));
    }
    if (!loop([&] { return writersConnected() == writers_; }, 60)) return fail("writers did not connect");
    int err = 0;
    chainErr_ = &err;
    if (!createChain(eng_, *writerList_[0], {c_.root, hot_}, err, kChain)) return fail("cannot create " + hot_);
    for (long k = 0; k < keys_; ++k) eng_.create(*writerList_[size_t(k) % writerList_.size()], keyPaths_[size_t(k)],
                                                 "", kKeyCreate, uint32_t(k));
    if (!loop([&] { return createsDone_ >= keys_; }, 60)) return fail("cannot create the hot nodes");
    if (createErrors_) return fail("hot node creation failed (" + std::to_string(createErrors_) + " errors)");

    // ---- warm-up (not recorded: ZooKeeper's JIT), then the baseline: writers only
    Pacer pace;
    pace.start(rate_);
    phase_ = -1;
    phaseName_ = "warmup";
    loop([] { return false; }, warmup_, [&] { writeTick(pace); });
    phase_ = 0;
    phaseName_ = "baseline";
    sampler_.take("baseline");
    windows_.assign(size_t((baseline_ + duration_) / 5.0) + 2, {});
    writeT0_ = nowNs();
    loop([] { return false; }, baseline_, [&] { writeTick(pace); });
    // ---- slow consumer joins
    phase_ = 1;
    phaseName_ = "slow";
    sampler_.take("slow");
    slowT0_ = nowNs();
    slow_ = std::make_unique<Session>();
    slow_->role = kSlow;
    slow_->host = slowHost_;
    slow_->reconnect = false;
    slow_->rcvbuf = slowRcvbuf_;
    slow_->askTimeoutMs = slowTimeoutMs_;
    eng_.connect(*slow_);
    uint64_t nextCheck = nowNs();
    loop([] { return false; }, duration_, [&] {
      writeTick(pace);
      const uint64_t now = nowNs();
      if (now >= nextCheck) {
        nextCheck = now + 1'000'000'000ull;
        checkSlow();
      }
    });
    checkSlow();
    phaseName_ = "end";
    sampler_.take("end");
    const double slowWindow = secondsSince(slowT0_);
    // let the writers' last replies come in
    loop([&] {
      for (auto& w : writerList_)
        if (w->outstanding) return false;
      return true;
    }, 10);
    const bool stillConnected = slow_->st == State::kConnected;
    closing_ = true;
    eng_.disconnect(*slow_);
    for (auto& w : writerList_)
      if (w->st == State::kConnected) eng_.closeSession(*w, kClose);
    loop([&] {
      for (auto& w : writerList_)
        if (w->st == State::kConnected) return false;
      return true;
    }, 10);

    Json j;
    j.beginObject();
    writeHeader(j, "slow-consumer", c_);
    j.key("config").beginObject();
    j.kv("writers", writers_).kv("rate", rate_, 1).kv("warmup_s", warmup_, 1).kv("baseline_s", baseline_, 1);
    j.kv("duration_s", duration_, 1);
    j.kv("keys", keys_).kv("path_len", long(keyPaths_[0].size())).kv("slow_host", c_.hostNames[size_t(slowHost_)]);
    j.kv("slow_rcvbuf", slowRcvbuf_).kv("slow_ping_ms", slowPingMs_).kv("value_size", valueSize_);
    j.kv("slow_session_timeout_ms", slow_ && slow_->timeoutMs ? slow_->timeoutMs : slowTimeoutMs_);
    j.kv("event_frame_bytes", (long)eventFrameBytes());
    j.endObject();
    for (int p = 0; p < 2; ++p) {
      j.key(p == 0 ? "baseline" : "slow").beginObject();
      const double secs = p == 0 ? baseline_ : slowWindow;
      j.kv("sets_ok", (unsigned long long)setsOk_[p]).kv("set_rate", secs > 0 ? double(setsOk_[p]) / secs : 0.0, 1);
      j.latency("set_latency", lat_[p]);
      j.latency("set_latency_same_member", latSame_[p]);
      writeCounts(j, "errors", errors_[p]);
      j.endObject();
    }
    j.key("windows_5s").beginArray();
    for (auto& h : windows_) {
      if (!h.total) continue;
      j.beginObject().kv("n", (unsigned long long)h.total).kv("p50_ms", double(h.percentile(50)) / 1e6);
      j.kv("p99_ms", double(h.percentile(99)) / 1e6).kv("max_ms", double(h.maxV) / 1e6).endObject();
    }
    j.endArray();
    j.key("slow_session").beginObject();
    j.kvb("session_granted", slowSessionNs_ != 0);
    j.kv("session_s", slowSessionNs_ ? double(slowSessionNs_ - slowT0_) / 1e9 : -1.0, 3);
    j.kvb("watch_set", watchSetNs_ != 0).kv("watch_error", watchErr_);
    j.kv("watch_set_s", watchSetNs_ ? double(watchSetNs_ - slowT0_) / 1e9 : -1.0, 3);
    j.kvb("disconnected", slowLostNs_ != 0);
    j.kv("disconnected_after_s", slowLostNs_ ? double(slowLostNs_ - slowT0_) / 1e9 : -1.0, 3);
    j.kv("disconnected_after_watch_s", slowLostNs_ && watchSetNs_ ? double(slowLostNs_ - watchSetNs_) / 1e9 : -1.0, 3);
    j.kv("disconnect_kind", slowLostKind_).kv("disconnect_errno", slowLostErrno_);
    j.kvb("connected_at_end", stillConnected);
    j.kv("events_generated_after_watch", (unsigned long long)eventsAfterWatch_);
    j.kv("event_bytes_generated", (unsigned long long)(eventsAfterWatch_ * eventFrameBytes()));
    j.kv("received_but_unread_bytes_max", maxInq_);
    j.key("unread_bytes_every_s").beginArray();
    for (long v : inqSeries_) j.integer(v);
    j.endArray();
    j.endObject();
    j.key("rss").beginObject();
    sampler_.summary(j, "slow", c_.hostNames);
    sampler_.write(j);
    j.endObject();
    writeEngine(j, eng_);
    j.kv("client_cpu_total_s", selfCpuSeconds() - c_.cpu0, 2);
    j.kv("client_runq_wait_total_s", selfRunqWait() - c_.wait0, 2);
    j.kv("elapsed_s", secondsSince(c_.startNs), 1);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    std::fflush(stdout);
    return 0;
  }

  void onSession(Session& s, bool) override {
    if (s.role == kSlow) {
      slowSessionNs_ = nowNs();
      s.pingIntervalMs = slowPingMs_;
      eng_.addWatch(s, hot_, wire::kPersistentRecursive, kAddWatch, 0);
      log(c_, "slow consumer: session on %s, adding a persistent recursive watch on %s",
          c_.hostNames[size_t(s.host)].c_str(), hot_.c_str());
    }
  }
  void onRefused(Session& s, bool expired) override {
    if (s.role == kSlow) {
      slowLostNs_ = nowNs();
      slowLostKind_ = expired ? "expired" : "refused";
    }
  }
  void onLost(Session& s, Lost why, int err, State) override {
    if (closing_) return;
    if (s.role == kSlow) {
      if (!slowLostNs_) {
        slowLostNs_ = nowNs();
        slowLostKind_ = lostName(why);
        slowLostErrno_ = Engine::errnoName(err);
        log(c_, "slow consumer DISCONNECTED after %.2f s: %s (%s)", secondsSince(slowT0_), lostName(why),
            slowLostErrno_.c_str());
      }
      return;
    }
    ++writerLosses_;
    log(c_, "writer %u lost its connection: %s", s.id, lostName(why));
    s.outstanding = 0;
  }
  void onReply(Session& s, const Pending& p, const wire::Header& h, const char*, size_t) override {
    const uint64_t now = nowNs();
    switch (p.kind) {
      case kChain:
        if (chainErr_) *chainErr_ = h.err;
        break;
      case kKeyCreate:
        ++createsDone_;
        if (h.err && h.err != wire::kErrNodeExists) ++createErrors_;
        break;
      case kAddWatch:
        watchErr_ = h.err;
        if (h.err == 0) {
          watchSetNs_ = now;
          eng_.setNoRead(s);  // from now on the socket is never read
          log(c_, "slow consumer: watch set, no longer reading");
        }
        break;
      case kSet: {
        if (s.outstanding) --s.outstanding;
        if (p.arg & 0x40000000u) break;  // warm-up
        const int ph = p.arg >> 31 ? 1 : 0;
        if (h.err) {
          ++errors_[ph][h.err];
          break;
        }
        ++setsOk_[ph];
        if (watchSetNs_ && p.sentNs >= watchSetNs_) ++eventsAfterWatch_;
        const uint64_t l = now - p.sentNs;
        lat_[ph].record(l);
        if (s.host == slowHost_) latSame_[ph].record(l);
        const size_t w = size_t((p.sentNs - writeT0_) / 5'000'000'000ull);
        if (w < windows_.size()) windows_[w].record(l);
        break;
      }
      default:
        break;
    }
  }

 private:
  size_t eventFrameBytes() const { return 4 + 16 + 12 + keyPaths_[0].size(); }
  void writeTick(Pacer& pace) {
    const uint64_t due = pace.due();
    while (pace.issued < due) {
      Session* w = nullptr;
      for (size_t k = 0; k < writerList_.size(); ++k) {
        Session* cand = writerList_[(rr_ + k) % writerList_.size()].get();
        if (cand->st == State::kConnected && cand->outstanding < 64) {
          w = cand;
          rr_ = (rr_ + k + 1) % writerList_.size();
          break;
        }
      }
      if (!w) break;
      const size_t key = size_t(std::uniform_int_distribution<long>(0, keys_ - 1)(rng_));
      const uint32_t tag = phase_ < 0 ? 0x40000000u : phase_ ? 0x80000000u : 0u;
      eng_.setData(*w, keyPaths_[key], value_, kSet, uint32_t(key) | tag);
      ++w->outstanding;
      ++pace.issued;
    }
  }
  void checkSlow() {
    if (!slow_ || slow_->fd < 0) {
      inqSeries_.push_back(-1);
      return;
    }
    int inq = 0;
    if (ioctl(slow_->fd, SIOCINQ, &inq) == 0) {
      inqSeries_.push_back(inq);
      maxInq_ = std::max<long>(maxInq_, inq);
    }
    tcp_info ti{};
    socklen_t l = sizeof ti;
    if (getsockopt(slow_->fd, IPPROTO_TCP, TCP_INFO, &ti, &l) == 0 && ti.tcpi_state != 1 /* ESTABLISHED */ &&
        !slowLostNs_) {
      slowLostNs_ = nowNs();
      slowLostKind_ = "tcp_state_" + std::to_string(ti.tcpi_state);
      log(c_, "slow consumer: TCP state %d after %.2f s", int(ti.tcpi_state), secondsSince(slowT0_));
    }
  }
  long writersConnected() const {
    long n = 0;
    for (auto& s : writerList_) n += s->st == State::kConnected;
    return n;
  }
  int fail(const std::string& msg) {
    Json j;
    j.beginObject();
    writeHeader(j, "slow-consumer", c_);
    j.kv("error", msg);
    j.endObject();
    std::printf("%s\n", j.text().c_str());
    log(c_, "FAILED: %s", msg.c_str());
    return 1;
  }
  bool loop(const std::function<bool()>& done, double timeoutS, const std::function<void()>& tick = nullptr) {
    const uint64_t end = nowNs() + uint64_t(timeoutS * 1e9);
    while (!done()) {
      if (nowNs() >= end) return false;
      if (tick) tick();
      eng_.poll(1);
      sampler_.maybe(phaseName_);
      if (progress_.due())
        log(c_, "%s: sets %llu+%llu, p99 %.1f/%.1f ms, slow %s, unread %ld B, rss %s", phaseName_.c_str(),
            (unsigned long long)setsOk_[0], (unsigned long long)setsOk_[1], double(lat_[0].percentile(99)) / 1e6,
            double(lat_[1].percentile(99)) / 1e6,
            !slow_ ? "-" : slowLostNs_ ? "disconnected" : watchSetNs_ ? "not reading" : "connecting",
            inqSeries_.empty() ? 0L : inqSeries_.back(), rssLine(sampler_).c_str());
    }
    return true;
  }

  Common& c_;
  Engine eng_;
  std::mt19937_64 rng_;
  long writers_, keys_, pathLen_, valueSize_;
  double rate_, warmup_, baseline_, duration_;
  int slowHost_, slowRcvbuf_, slowPingMs_, slowTimeoutMs_;
  std::string hot_, value_, phaseName_;
  std::vector<std::string> keyPaths_;
  std::vector<std::unique_ptr<Session>> writerList_;
  std::unique_ptr<Session> slow_;
  int* chainErr_ = nullptr;
  int phase_ = 0;
  bool closing_ = false;
  size_t rr_ = 0;
  long createsDone_ = 0, createErrors_ = 0;
  uint64_t writeT0_ = 0, slowT0_ = 0, slowSessionNs_ = 0, watchSetNs_ = 0, slowLostNs_ = 0;
  int watchErr_ = 0;
  std::string slowLostKind_, slowLostErrno_;
  uint64_t eventsAfterWatch_ = 0, writerLosses_ = 0;
  std::array<uint64_t, 2> setsOk_{};
  std::array<Histogram, 2> lat_, latSame_;
  std::array<std::map<int, uint64_t>, 2> errors_;
  std::vector<Histogram> windows_;
  std::vector<long> inqSeries_;
  long maxInq_ = 0;
  ProcSampler sampler_;
  Progress progress_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 64 : 0;
  }
  const std::string sub = argv[1];
  Args a;
  if (!a.parse(argc, argv, 2)) return 64;
  if (a.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  signal(SIGPIPE, SIG_IGN);
  Common c;
  c.startNs = nowNs();
  c.cpu0 = selfCpuSeconds();
  c.wait0 = selfRunqWait();
  const bool storm = sub == "connect-storm";
  if (!parseCommon(a, c, sub == "slow-consumer" ? 1.0 : 5.0, storm ? 16 : 0)) return 64;
  raiseFdLimit(1 << 20);
  if (sub == "soak") {
    Soak s(c, a);
    if (a.unknown() || !s.valid()) return std::fputs(kUsage, stderr), 64;
    return s.run();
  }
  if (storm) {
    EngineConfig ec = engineConfig(c);
    ec.handshakeTimeoutS = a.real("handshake-timeout", 10);
    ConnectStorm s(c, a, ec);
    if (a.unknown() || !s.valid()) return std::fputs(kUsage, stderr), 64;
    return s.run();
  }
  if (sub == "reconnect-storm") {
    ReconnectStorm s(c, a);
    if (a.unknown() || !s.valid()) return std::fputs(kUsage, stderr), 64;
    return s.run();
  }
  if (sub == "slow-consumer") {
    SlowConsumer s(c, a);
    if (a.unknown() || !s.valid()) return std::fputs(kUsage, stderr), 64;
    return s.run();
  }
  std::fprintf(stderr, "unknown subcommand %s\n", sub.c_str());
  std::fputs(kUsage, stderr);
  return 64;
}
