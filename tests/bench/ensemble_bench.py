#!/usr/bin/python3
"""3-member ensembles side by side: Corral vs Apache ZooKeeper 3.8, same load generator.

For each repetition (--reps; A B A B ..., a fresh ensemble and fresh dataDirs each time, same
settings for both: tickTime=2000, initLimit=10, syncLimit=5, forceSync=yes, maxClientCnxns=0,
AdminServer off, ZooKeeper as `java -Xmx2g` like benchlib), on 127.0.0.1:
  1. prime (get 32x8 over all members: creates the keys, warms ZooKeeper's JIT), then
     saturated `set 32x8` and `get 32x8`, sessions spread round-robin over the 3 members;
  2. `set 1x1` latency with the one session on a follower, then on the leader;
  3. server CPU per op summed over the 3 members (utime+stime deltas from /proc/PID/stat,
     sampled every 20 ms and interpolated at corral-bench's measured window);
  4. leader kill -9 -> first acknowledged write: a raw-protocol writer (one session, one
     setData at a time, reconnecting every ~5 ms, alternating between the two followers) writes
     continuously; the leader (srvr Mode: leader) is killed by PID; reported is the time from
     the kill to the ack of the first write issued after it. The killed member is restarted
     (same dataDir) between tries.
Then, once per server (--snap-reps), a fresh ensemble with forceSnapshotSync=true:
  5. load --snap-znodes znodes of 100 B (corral-bench --op load over all members); then
     --snap-tries times: stop a follower, wipe its dataDir (myid kept), restart it, and time
     from spawning it to srvr saying Mode: follower with the leader's Zxid (the sync mode is read
     from the logs; the last key is read back from the new follower).
Writes RESULTS-ensemble.md and ensemble-raw.json into --out.

  /usr/bin/python3 tests/bench/ensemble_bench.py --corral-build build --quick   # ~2 min
  /usr/bin/python3 tests/bench/ensemble_bench.py --corral-build build           # ~20 min
"""
import argparse
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

HOST = "127.0.0.1"
SERVING = ("leader", "follower", "observer")
ROOT = "/corral-bench"
# Same settings for both implementations (zoo.cfg names; Corral reads the same file).
SETTINGS = {
    "tickTime": 2000, "initLimit": 10, "syncLimit": 5, "forceSync": "yes",
    "maxClientCnxns": 0, "admin.enableServer": "false", "4lw.commands.whitelist": "*",
}
# ZooKeeper's log: WARN as benchlib, plus the quorum classes at INFO (role changes and the
# sync mode, "Getting a snapshot from leader"); none of them logs per request.
LOG4J = benchlib.LOG4J + "".join(
    f"log4j.logger.org.apache.zookeeper.server.quorum.{c}=INFO\n"
    for c in ("QuorumPeer", "Learner", "Follower", "LearnerHandler", "Leader", "Observer",
              "ObserverMaster"))


# ------------------------------------------------------------------ a private copy of Corral
def snapshot_corral(build_dir, dest, log, attempts=20):
    """Copy <build>/bin/corral-server and its plugins (<build>/lib/corral/**.so, found by the
    server relative to its own path) into dest, so that every repetition runs the same binary
    even if the build tree is rebuilt meanwhile. Retries while a rebuild is under way (copy
    fails, or `--list-plugins` reports an ERROR). Returns the copied corral-server."""
    src_bin = benchlib.find_corral_bin(build_dir)
    last = ""
    for i in range(attempts):
        shutil.rmtree(dest, ignore_errors=True)
        try:
            os.makedirs(os.path.join(dest, "bin"))
            shutil.copy2(src_bin, os.path.join(dest, "bin", "corral-server"))
            src_lib = os.path.join(build_dir, "lib", "corral")
            for root, _dirs, files in os.walk(src_lib):
                for f in files:
                    if f.endswith(".so"):
                        rel = os.path.relpath(os.path.join(root, f), build_dir)
                        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
                        shutil.copy2(os.path.join(root, f), os.path.join(dest, rel))
            binary = os.path.join(dest, "bin", "corral-server")
            p = subprocess.run([binary, "--list-plugins"], capture_output=True, text=True,
                               timeout=30)
            last = p.stdout + p.stderr
            if p.returncode == 0 and "consensus.zab" in last and "ERROR" not in last:
                return binary
        except (OSError, subprocess.SubprocessError) as e:
            last = str(e)
        log(f"copy of the Corral build not usable yet (rebuild under way?): {last[-200:]}")
        time.sleep(6)
    raise SystemExit(f"could not take a usable copy of {src_bin}: {last[-500:]}")


# ------------------------------------------------------------------ ports
_given = set()


def reserve_ports(n):
    """n free ports below the kernel's ephemeral range (a stopped member's port cannot be taken
    by the local end of some outgoing connection in the meantime)."""
    try:
        lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        lo = 32768
    out = []
    for _ in range(50000):
        if len(out) == n:
            return out
        p = random.randint(15000, max(16000, lo - 1))
        if p in _given or p in out:
            continue
        with socket.socket() as s:
            try:
                s.bind((HOST, p))
            except OSError:
                continue
        out.append(p)
    raise RuntimeError("no free ports")


# ------------------------------------------------------------------ four-letter words
four_letter = benchlib.four_letter


def parse_srvr(text):
    out = {}
    for line in (text or "").splitlines():
        if ": " in line:
            k, v = line.split(": ", 1)
            out[k.strip()] = v.strip()
    return out


# ------------------------------------------------------------------ ensemble
class Member:
    def __init__(self, ens, sid, ports, host=HOST, role="participant", joiner=False):
        self.ens = ens
        self.sid = sid
        self.host = host  # its address for everything: server.N line, client port, srvr
        self.role = role  # "participant" or "observer" (peerType + ":observer" on its line)
        # A reconfig joiner: not in the other members' server lines; its own file lists the
        # others plus itself (ZooKeeper's procedure for adding a server). Not started by
        # Ensemble.start().
        self.joiner = joiner
        self.port, self.quorum_port, self.election_port = ports
        self.dir = os.path.join(ens.dir, f"m{sid}")
        self.data_dir = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        os.makedirs(self.data_dir)
        self.proc = None
        self._log = None
        self.log_offset = 0
        self.t_spawn = None
        self.wanted = False  # started here and not stopped/killed here since

    @property
    def impl(self):
        return self.ens.impl

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def hosts(self):
        return f"{self.host}:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def write_myid(self):
        os.makedirs(self.data_dir, exist_ok=True)
        with open(os.path.join(self.data_dir, "myid"), "w") as f:
            f.write(f"{self.sid}\n")

    def command(self):
        lines = [f"dataDir={self.data_dir}", f"clientPort={self.port}",
                 f"clientPortAddress={self.host}"]
        lines += [f"{k}={v}" for k, v in self.ens.settings.items()]
        if self.role == "observer":
            lines.append("peerType=observer")
        lines += [f"server.{m.sid}={m.host}:{m.quorum_port}:{m.election_port}"
                  + (":observer" if m.role == "observer" else "") for m in self.ens.members
                  if not m.joiner or m is self]
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        if self.impl == "corral":
            return [self.ens.corral_bin, "--config", cfg]
        with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
            f.write(LOG4J)
        cp = ":".join([self.dir] + [os.path.join(benchlib.JAVA_DIR, j) for j in benchlib.ZK_JARS])
        props = [f"-D{k}={v}" for k, v in self.ens.jvm_props.items()]
        return (["java", f"-Xmx{self.ens.heap}", f"-Dzookeeper.log.dir={self.dir}/logs"] + props
                + ["-cp", cp, "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg])

    def start(self):
        assert not self.alive()
        self.write_myid()
        cmd = self.command()
        if self._log:
            self._log.close()
        self._log = open(self.log_path, "ab")
        self._log.write(f"===== ensemble_bench: start at {time.strftime('%H:%M:%S')} =====\n"
                        .encode())
        self._log.flush()
        self.log_offset = self._log.tell()
        self.t_spawn = time.monotonic()
        self.wanted = True
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        return self.t_spawn

    def term(self):
        if self.alive():
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def stop(self, timeout=30.0):
        self.wanted = False
        if self.alive():
            self.term()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log:
            self._log.close()
            self._log = None

    def kill9(self):
        """SIGKILL by PID; returns the monotonic time just before the signal."""
        self.wanted = False
        t = time.monotonic()
        self.proc.kill()
        self.proc.wait(10)
        return t

    def wipe(self):
        assert not self.alive()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.write_myid()

    def srvr(self, timeout=2.0):
        if not self.alive():
            return None
        return four_letter(self.port, "srvr", timeout, host=self.host)

    def mode(self):
        return parse_srvr(self.srvr()).get("Mode")

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except OSError:
            return 0

    def log_since(self, offset):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_since_start(self):
        return self.log_since(self.log_offset)

    def log_tail(self, n=25):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 128 * 1024))
                lines = f.read().decode("utf-8", "replace").splitlines()[-n:]
        except OSError:
            lines = []
        return f"--- {self.impl} member {self.sid} ({self.log_path}) ---\n" + "\n".join(lines)


class Ensemble:
    """`size` voters (+ `observers` observers, sids after the voters) of one implementation in
    a fresh temp dir, all on 127.0.0.1, or with `distinct_hosts` member sid N on 127.0.0.(N+1)
    (needed for observerMasterPort, which every follower opens on its own address).
    `joiners` more members (sids after those, role `joiner_role`) are reconfig joiners: in
    no other member's file, not started by start() (reconfig_bench.py)."""

    def __init__(self, impl, corral_bin, base_dir, name, size=3, extra=None, corral_extra=None,
                 heap="2g", observers=0, distinct_hosts=False, joiners=0,
                 joiner_role="observer"):
        self.impl = impl
        self.corral_bin = corral_bin
        self.heap = heap
        self.dir = tempfile.mkdtemp(prefix=f"corral-ensbench-{impl}-{name}-", dir=base_dir)
        self.settings = dict(SETTINGS)
        self.jvm_props = {}
        for k, v in (extra or {}).items():
            # ZooKeeper reads these only as system properties (zookeeper.<key>)
            if impl == "zookeeper" and k == "forceSnapshotSync":
                self.jvm_props["zookeeper.forceSnapshotSync"] = v
            else:
                self.settings[k] = v
        if impl == "corral":
            self.settings.update(corral_extra or {})
        ports = reserve_ports(3 * (size + observers + joiners))
        self.members = []
        for i in range(size + observers + joiners):
            joiner = i >= size + observers
            role = joiner_role if joiner else "observer" if i >= size else "participant"
            self.members.append(Member(self, i + 1, ports[3 * i:3 * i + 3],
                                       host=f"127.0.0.{i + 2}" if distinct_hosts else HOST,
                                       role=role, joiner=joiner))

    def hosts(self, members=None):
        return ",".join(m.hosts for m in (members or self.members))

    def pids(self):
        return [m.pid for m in self.members]

    def start(self, timeout=120.0):
        for m in self.members:
            if not m.joiner:
                m.start()
        return self.wait_serving(timeout)

    def modes(self):
        return {m.sid: (m.mode() if m.alive() else None) for m in self.members}

    def wait_serving(self, timeout=120.0, members=None):
        """Until every running member serves and exactly one is leader. Returns sid -> mode."""
        end = time.monotonic() + timeout
        last = {}
        while time.monotonic() < end:
            targets = [m for m in (members or self.members) if m.wanted]
            for m in targets:
                if not m.alive():
                    raise RuntimeError(f"{self.impl} member {m.sid} exited "
                                       f"({m.proc.returncode})\n{m.log_tail()}")
            last = {m.sid: m.mode() for m in targets}
            if all(v in SERVING for v in last.values()) and \
                    list(last.values()).count("leader") == 1:
                return last
            time.sleep(0.05)
        raise RuntimeError(f"{self.impl} ensemble not serving within {timeout}s: {last}\n"
                           + "\n".join(m.log_tail() for m in self.members))

    def leader(self):
        modes = self.wait_serving()
        return next(m for m in self.members if modes.get(m.sid) == "leader")

    def followers(self):
        modes = self.wait_serving()
        return [m for m in self.members if modes.get(m.sid) == "follower"]

    def cleanup(self, keep=False):
        for m in self.members:
            m.term()
        for m in self.members:
            m.stop()
        if keep:
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


# ------------------------------------------------------------------ CPU of all members
class CpuSampler:
    """utime+stime of each pid every `interval` s with monotonic timestamps, in a thread."""

    def __init__(self, pids, interval=0.02):
        self.pids = list(pids)
        self.interval = interval
        self.samples = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _read(self):
        return time.monotonic(), [benchlib.proc_cpu_s(p) for p in self.pids]

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(self._read())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.samples.append(self._read())
        self._t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join(5)
        self.samples.append(self._read())

    def at(self, t):
        """CPU seconds of each pid at monotonic t (linear between the samples around t)."""
        s = self.samples
        before = [x for x in s if x[0] <= t]
        after = [x for x in s if x[0] >= t]
        a = before[-1] if before else s[0]
        b = after[0] if after else s[-1]
        out = []
        for i in range(len(self.pids)):
            va, vb = a[1][i], b[1][i]
            if va is None or vb is None:
                out.append(None)
            elif b[0] == a[0]:
                out.append(va)
            else:
                out.append(va + (vb - va) * (t - a[0]) / (b[0] - a[0]))
        return out


def run_bench_cpu(bench_bin, args, pids, timeout):
    """corral-bench with all member pids sampled; adds per-member CPU over the measured window
    (from spawn + connect_s + setup_s + warmup_s, for duration_s)."""
    with CpuSampler(pids) as cs:
        t0 = time.monotonic()
        d = benchlib.run_bench(bench_bin, args, timeout=timeout)
    if "error" in d or not d.get("duration_s"):
        return d
    w0 = t0 + d.get("connect_s", 0) + d.get("setup_s", 0) + d.get("warmup_s", 0)
    w1 = w0 + d["duration_s"]
    c0, c1 = cs.at(w0), cs.at(w1)
    per = [(b - a) if a is not None and b is not None else None for a, b in zip(c0, c1)]
    d["members_cpu_s"] = per
    if all(p is not None for p in per) and d.get("ops"):
        d["ensemble_cpu_s"] = sum(per)
        d["ensemble_cpu_us_per_op"] = sum(per) * 1e6 / d["ops"]
    return d


# ------------------------------------------------------------------ raw-protocol writer
class KillWriter:
    """One session, one setData(path) at a time, over fresh connections to `ports` in turn
    whenever the current one fails (reconnect pause 5 ms; the session is kept: id + password).
    Records (t_issue, t_ack, err, port) of every reply and the connection events.
    A `ports` entry may be a (host, port) pair (default host 127.0.0.1); with `create=True`
    each request is instead a create of `path` + a sequence number (flags SEQUENTIAL, 100 B,
    world:anyone), so no two writes touch the same znode (the parent must exist)."""

    def __init__(self, ports, path, reply_timeout=2.0, create=False):
        self.ports = list(ports)
        self.path = path
        self.reply_timeout = reply_timeout
        self.create = create
        self.replies = []
        self.events = []  # (t, what)
        self.session_id = 0
        self.passwd = b"\0" * 16
        self.last_zxid = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join(10)

    def _event(self, what):
        with self._lock:
            self.events.append((time.monotonic(), what))

    def _connect(self, port):
        host, port = port if isinstance(port, tuple) else (HOST, port)
        s = socket.create_connection((host, port), timeout=1.0)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(self.reply_timeout)
        req = (struct.pack(">iqiq", 0, self.last_zxid, 30000, self.session_id)
               + struct.pack(">i", len(self.passwd)) + self.passwd + b"\0")
        s.sendall(benchlib._frame(req))
        resp = benchlib._recv_frame(s)
        _proto, tmo, sid = struct.unpack(">iiq", resp[:16])
        (plen,) = struct.unpack(">i", resp[16:20])
        if tmo <= 0 or sid == 0:
            s.close()
            self._event(f"session 0x{self.session_id:x} expired at :{port}")
            self.session_id, self.passwd = 0, b"\0" * 16
            raise ConnectionError("session expired")
        if sid != self.session_id:
            self._event(f"new session 0x{sid:x} at :{port}")
        self.session_id, self.passwd = sid, resp[20:20 + plen]
        return s

    def _run(self):
        xid = 0
        i = 0
        sock = None
        data = b"x" * 100
        while not self._stop.is_set():
            if sock is None:
                port = self.ports[i % len(self.ports)]
                i += 1
                try:
                    sock = self._connect(port)
                    self._event(f"connected :{port}")
                except (OSError, ConnectionError, struct.error) as e:
                    sock = None
                    self._event(f"connect :{port} failed: {type(e).__name__}")
                    self._stop.wait(0.005)
                    continue
            xid += 1
            if self.create:  # create(path, data, [world:anyone ALL], SEQUENTIAL)
                req = (struct.pack(">ii", xid, 1) + benchlib._ustr(self.path)
                       + struct.pack(">i", len(data)) + data + struct.pack(">ii", 1, 31)
                       + benchlib._ustr("world") + benchlib._ustr("anyone")
                       + struct.pack(">i", 2))
            else:
                req = (struct.pack(">ii", xid, 5) + benchlib._ustr(self.path)
                       + struct.pack(">i", len(data)) + data + struct.pack(">i", -1))
            t_issue = time.monotonic()
            try:
                sock.sendall(benchlib._frame(req))
                while True:
                    rep = benchlib._recv_frame(sock)
                    rxid, zxid, err = struct.unpack(">iqi", rep[:16])
                    if rxid == xid:
                        break  # anything else (notification, ping) is skipped
                t_ack = time.monotonic()
                if err == 0:
                    self.last_zxid = max(self.last_zxid, zxid)
                with self._lock:
                    self.replies.append((t_issue, t_ack, err, port))
                if err != 0:
                    self._stop.wait(0.005)
            except (OSError, ConnectionError, struct.error) as e:
                self._event(f"lost :{port} ({type(e).__name__}: {e})")
                try:
                    sock.close()
                except OSError:
                    pass
                sock = None
                self._stop.wait(0.005)
        if sock is not None:
            try:  # closeSession
                sock.sendall(benchlib._frame(struct.pack(">ii", xid + 1, -11)))
                benchlib._recv_frame(sock)
            except (OSError, ConnectionError, struct.error):
                pass
            sock.close()

    def acked(self):
        with self._lock:
            return [r for r in self.replies if r[2] == 0]

    def first_ack_issued_after(self, t):
        later = [r for r in self.acked() if r[0] >= t]
        return min(later, key=lambda r: r[1]) if later else None

    def events_between(self, t0, t1):
        with self._lock:
            return [(t, w) for t, w in self.events if t0 <= t <= t1]


def kill_try(ens, log, timeout=60.0, steady_s=1.0):
    """One leader kill under a continuous writer. Returns a dict; restarts the killed member."""
    leader = ens.leader()
    followers = ens.followers()
    w = KillWriter([m.port for m in followers], f"{ROOT}/k0").start()
    r = {"leader_sid": leader.sid, "follower_sids": [m.sid for m in followers]}
    try:
        r["writes_per_s_before"] = wait_steady(w, steady_s, "the kill")
        marks = {m.sid: m.log_size() for m in followers}
        t_kill = leader.kill9()
        # new leader among the survivors (srvr every 20 ms), then the first ack after the kill
        end = t_kill + timeout
        first = None
        while time.monotonic() < end:
            if "new_leader_ms" not in r:
                for m in followers:
                    if m.mode() == "leader":
                        r["new_leader_ms"] = (time.monotonic() - t_kill) * 1000
                        r["new_leader_sid"] = m.sid
            first = w.first_ack_issued_after(t_kill)
            if first and "new_leader_ms" in r:
                break
            time.sleep(0.02)
        if first is None:
            r["error"] = f"no acknowledged write within {timeout}s of the kill"
        else:
            r["first_write_ms"] = (first[1] - t_kill) * 1000
            r["first_write_port"] = first[3]
            r["first_write_sid"] = next((m.sid for m in ens.members if m.port == first[3]), None)
        t_end = first[1] if first else time.monotonic()
        ev = w.events_between(t_kill, t_end)
        r["reconnect_attempts"] = sum(1 for _, x in ev if x.startswith("connect :"))
        shown = [f"+{(t - t_kill) * 1000:.0f} ms {x}" for t, x in ev]
        r["events"] = shown if len(shown) <= 16 else \
            shown[:8] + [f"... {len(shown) - 16} more ..."] + shown[-8:]
        r["refused_connects"] = sum(1 for _, x in ev if x.endswith("ConnectionRefusedError"))
        # what the survivors logged from the kill on (election, sync; ZooKeeper: INFO of the
        # quorum classes only)
        # (without stack traces, ZooKeeper's per-connection and election-channel WARNs: the
        # writer's reconnects make ZooKeeper log "Close of session 0x0" every 5 ms)
        r["survivor_logs"] = {
            m.sid: [l for l in m.log_since(marks[m.sid]).splitlines()
                    if re.match(r"\d{4}-\d\d-\d\d ", l)
                    and not re.search(r"NIOServerCnxn|QuorumCnxManager", l)][:40]
            for m in followers}
        # election time as the survivors log it (Corral "decided in N ms", ZooKeeper "LEADER
        # ELECTION TOOK - N MS"); the larger of the two
        took = [int(x) for lines in r["survivor_logs"].values() for l in lines
                for x in re.findall(r"(?:decided in|ELECTION TOOK - ) ?(\d+) (?:ms|MS)", l)]
        r["election_ms_logged"] = max(took) if took else None
        with w._lock:
            r["errors_after_kill"] = sorted({e for ti, _ta, e, _p in w.replies
                                             if e != 0 and ti >= t_kill})
    finally:
        w.stop()
    # the killed member comes back (same dataDir) before the next try
    leader.start()
    ens.wait_serving(120)
    return r


# ------------------------------------------------------------------ SNAP sync of a new follower
def sync_mode(member, leader):
    """'SNAP' / 'DIFF' / 'TRUNC' as the logs say (follower's log since its start; Corral's
    leader log too), else '?'."""
    text = member.log_since_start()
    pats = [("Getting a snapshot from leader", "SNAP"), ("Getting a diff from the leader", "DIFF"),
            ("Truncating log to get in sync", "TRUNC"),
            ("learner: SNAP sync", "SNAP"), ("learner: DIFF", "DIFF"), ("learner: TRUNC", "TRUNC")]
    for p, mode in pats:
        if p in text:
            return mode
    return "?"


def snap_try(ens, znodes, parents, log, timeout):
    leader = ens.leader()
    zl = parse_srvr(leader.srvr()).get("Zxid")
    fol = ens.followers()[0]
    fol.stop()
    fol.wipe()
    t0 = fol.start()
    r = {"follower_sid": fol.sid, "leader_sid": leader.sid, "leader_zxid": zl}
    end = t0 + timeout
    while time.monotonic() < end:
        if not fol.alive():
            raise RuntimeError(f"new follower exited\n{fol.log_tail()}")
        text = fol.srvr(timeout=5.0)
        info = parse_srvr(text)
        t = time.monotonic()
        if text and "up_ms" not in r:
            r["up_ms"] = (t - t0) * 1000  # the client port answers (serving or not)
        if info.get("Mode") == "follower" and info.get("Zxid") == zl:
            r["serving_ms"] = (t - t0) * 1000
            break
        time.sleep(0.02)
    else:
        r["error"] = f"not a follower with Zxid {zl} within {timeout}s: {fol.srvr()}"
        return r
    r["zxid_now_leader"] = parse_srvr(leader.srvr()).get("Zxid")
    r["sync_mode"] = sync_mode(fol, leader)
    last = f"{ROOT}/p{(znodes - 1) % parents}/k{znodes - 1}" if parents else f"{ROOT}/k{znodes - 1}"
    r["last_key_err"] = benchlib.probe_get(fol.port, last, timeout=10, host=fol.host)
    r["rss_kb_new_follower"] = benchlib.proc_rss_kb(fol.pid)
    return r


# ------------------------------------------------------------------ helpers
def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=1):
    if v is None:
        return "n/a"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{nd}f}"


def ratio_sub(a, b):
    return a - b if a is not None and b is not None else None


def ratio(c, z):
    return c / z if c is not None and z not in (None, 0) else None


def bench_summary(d):
    lat = d.get("latency_us", {})
    return {"ops_per_s": d.get("ops_per_s"), "p50": lat.get("p50"), "p99": lat.get("p99"),
            "p99_9": lat.get("p99_9"), "max": lat.get("max"),
            "ensemble_cpu_us_per_op": d.get("ensemble_cpu_us_per_op"),
            "errors": d.get("error_count"), "lost": d.get("connections_lost")}


# ------------------------------------------------------------------ one repetition
def run_rep(impl, rep, a, corral_bin, bench_bin, log):
    ens = Ensemble(impl, corral_bin, a.tmp_base, f"r{rep}",
                   corral_extra=benchlib.parse_settings(a.corral_setting))
    out = {"impl": impl, "rep": rep, "cases": {}, "kills": []}
    parts = a.parts
    try:
        t0 = time.monotonic()
        modes = ens.start(120)
        out["start_s"] = time.monotonic() - t0
        leader = ens.leader()
        fol = ens.followers()
        log(f"rep {rep} {impl}: serving after {out['start_s']:.1f} s, modes {modes}, "
            f"pids {ens.pids()}")
        per_run_timeout = a.warmup + a.duration + 300
        common = ["--keys", a.keys, "--value-size", a.value_size, "--threads", a.threads]
        prime = benchlib.run_bench(bench_bin, ["--hosts", ens.hosts(), "--op", "get",
                                               "--sessions", 32, "--inflight", 8, "--warmup", 0,
                                               "--duration", a.prime] + common,
                                   timeout=per_run_timeout)
        if "error" in prime or prime.get("rc"):
            log(f"  prime: {prime.get('error') or prime.get('stderr')}")
        cases = []
        if "tput" in parts:
            cases += [("set 32x8", "set", 32, 8, ens.members),
                      ("get 32x8", "get", 32, 8, ens.members)]
        if "lat" in parts:
            cases += [(f"set 1x1 follower", "set", 1, 1, [fol[0]]),
                      (f"set 1x1 leader", "set", 1, 1, [leader])]
        for name, op, sessions, inflight, members in cases:
            args = ["--hosts", ens.hosts(members), "--op", op, "--sessions", sessions,
                    "--inflight", inflight, "--warmup", a.warmup, "--duration", a.duration,
                    "--server-pid", leader.pid] + common
            d = run_bench_cpu(bench_bin, args, ens.pids(), per_run_timeout)
            d["member_sids"] = [m.sid for m in members]
            d["leader_sid"] = leader.sid
            out["cases"][name] = d
            if "error" in d:
                log(f"  {name}: ERROR {d['error']}")
                continue
            s = bench_summary(d)
            log(f"  {name:18s} {fmt(s['ops_per_s']):>9s} ops/s  p50 {fmt(s['p50'])} "
                f"p99 {fmt(s['p99'])} us  3-member CPU {fmt(s['ensemble_cpu_us_per_op'], 2)} "
                f"us/op (per member s {[round(x or 0, 2) for x in d.get('members_cpu_s', [])]};"
                f" bench's own reading of the leader {d.get('server_cpu_s')})  errors "
                f"{s['errors']} lost {s['lost']}")
            if d.get("rc") or d.get("stderr"):
                log(f"    corral-bench rc {d.get('rc')}: {d.get('stderr', '')[-300:]}")
        if "kill" in parts:
            for k in range(a.kill_tries):
                r = kill_try(ens, log)
                out["kills"].append(r)
                log(f"  kill {k + 1}/{a.kill_tries}: leader {r['leader_sid']} killed -> "
                    f"new leader {r.get('new_leader_sid')} after {fmt(r.get('new_leader_ms'))} "
                    f"ms, first write after {fmt(r.get('first_write_ms'))} ms (on member "
                    f"{r.get('first_write_sid')}; {r.get('reconnect_attempts')} connects; "
                    f"errors {r.get('errors_after_kill')}) {r.get('error', '')}")
    except Exception as e:  # noqa: BLE001 - keep going with the other server
        out["error"] = str(e)
        log(f"rep {rep} {impl}: FAILED: {e}")
    finally:
        out["log_excerpts"] = grep_logs(ens)
        ens.cleanup(keep=a.keep_dirs)
    return out


def grep_logs(ens, limit=12):
    """WARN/ERROR lines of each member's log (the interesting part when something was odd)."""
    out = {}
    for m in ens.members:
        found = benchlib.log_problems(m.log_path, limit)
        if found:
            out[m.sid] = found
    return out


def run_snap(impl, a, corral_bin, bench_bin, log):
    ens = Ensemble(impl, corral_bin, a.tmp_base, "snap", extra={"forceSnapshotSync": "true"},
                   corral_extra=benchlib.parse_settings(a.corral_setting))
    out = {"impl": impl, "znodes": a.snap_znodes, "tries": []}
    try:
        ens.start(120)
        t0 = time.monotonic()
        load = benchlib.run_bench(bench_bin, [
            "--hosts", ens.hosts(), "--op", "load", "--keys", a.snap_znodes, "--parents",
            a.parents, "--value-size", a.value_size, "--sessions", 16, "--inflight", 64,
            "--setup-timeout", a.load_timeout], timeout=a.load_timeout + 120)
        out["load"] = load
        out["load_s"] = time.monotonic() - t0
        if "error" in load or load.get("setup_errors") or load.get("rc"):
            raise RuntimeError(f"load failed: {json.dumps(load)[:600]}")
        out["load_creates_per_s"] = load.get("load_creates_per_s")
        # idle: every member at the leader's zxid
        end = time.monotonic() + 120
        while time.monotonic() < end:
            zx = {m.sid: parse_srvr(m.srvr()).get("Zxid") for m in ens.members}
            if len(set(zx.values())) == 1 and None not in zx.values():
                break
            time.sleep(0.2)
        time.sleep(2.0)  # let background snapshots of the load finish
        out["rss_kb_loaded"] = {m.sid: benchlib.proc_rss_kb(m.pid) for m in ens.members}
        log(f"snap {impl}: loaded {a.snap_znodes:,} znodes in {out['load_s']:.1f} s "
            f"({fmt(out['load_creates_per_s'])} creates/s); RSS kB {out['rss_kb_loaded']}")
        for k in range(a.snap_tries):
            r = snap_try(ens, a.snap_znodes, a.parents, log, a.load_timeout)
            out["tries"].append(r)
            log(f"  snap {k + 1}/{a.snap_tries}: member {r['follower_sid']} wiped -> serving "
                f"as follower at {r.get('leader_zxid')} after {fmt(r.get('serving_ms'))} ms "
                f"(port up after {fmt(r.get('up_ms'))} ms; sync {r.get('sync_mode')}; last key "
                f"err {r.get('last_key_err')}) {r.get('error', '')}")
            ens.wait_serving(120)
    except Exception as e:  # noqa: BLE001
        out["error"] = str(e)
        log(f"snap {impl}: FAILED: {e}")
    finally:
        out["log_excerpts"] = grep_logs(ens)
        ens.cleanup(keep=a.keep_dirs)
    return out


# ------------------------------------------------------------------ summary + report
def summarize(reps, snaps, impls):
    """Medians per impl; the compact dict compare.py reads (ensemble-raw.json 'summary')."""
    s = {}
    for impl in impls:
        mine = [r for r in reps if r["impl"] == impl]
        cases = {}
        for name in ("set 32x8", "get 32x8", "set 1x1 follower", "set 1x1 leader"):
            runs = [bench_summary(r["cases"][name]) for r in mine
                    if name in r["cases"] and "error" not in r["cases"][name]]
            if runs:
                cases[name] = {k: median([x[k] for x in runs]) for k in runs[0]}
                cases[name]["n"] = len(runs)
        kills = [k for r in mine for k in r["kills"]]
        kw = [k["first_write_ms"] for k in kills if k.get("first_write_ms") is not None]
        kl = [k["new_leader_ms"] for k in kills if k.get("new_leader_ms") is not None]
        sn = next((x for x in snaps if x["impl"] == impl), None)
        st = [t["serving_ms"] for t in (sn or {}).get("tries", []) if t.get("serving_ms")]
        s[impl] = {
            "cases": cases,
            "kill_first_write_ms": {"median": median(kw), "max": max(kw) if kw else None,
                                    "n": len(kw), "failed": len(kills) - len(kw), "all": kw},
            "kill_new_leader_ms": {"median": median(kl), "max": max(kl) if kl else None},
            "snap": None if not sn else {
                "znodes": sn["znodes"], "serving_ms_median": median(st),
                "serving_ms_max": max(st) if st else None, "n": len(st),
                "modes": [t.get("sync_mode") for t in sn.get("tries", [])],
                "load_creates_per_s": sn.get("load_creates_per_s"), "error": sn.get("error")},
        }
    return s


def goal_rows(summary):
    z, c = summary.get("zookeeper", {}), summary.get("corral", {})
    rows = []
    zs = z.get("cases", {}).get("set 32x8", {}).get("ops_per_s")
    cs = c.get("cases", {}).get("set 32x8", {}).get("ops_per_s")
    r = ratio(cs, zs)
    rows.append(("saturated writes, set 32x8 over 3 members (ops/s)", zs, cs, r, "≥ 3",
                 None if r is None else r >= 3.0))
    zk = z.get("kill_first_write_ms", {}).get("median")
    ck = c.get("kill_first_write_ms", {}).get("median")
    r = ratio(ck, zk)
    rows.append(("leader kill -9 → first acknowledged write, median (ms)", zk, ck, r, "< 1",
                 None if r is None else r < 1.0))
    return rows


def write_report(path, a, summary, reps, snaps, machine, vers, command, elapsed):
    z, c = summary.get("zookeeper", {}), summary.get("corral", {})
    L = ["# 3-member ensembles: Corral vs Apache ZooKeeper 3.8\n"]
    mode = ("QUICK (smoke test: short runs, small tree — indicative only)" if a.quick
            else "full")
    L.append(f"* Mode: **{mode}**; {a.reps} repetition(s) per server, A B alternated, a fresh "
             f"ensemble and dataDirs per repetition, medians reported; warmup {a.warmup:g} s + "
             f"measured {a.duration:g} s per run; {a.kill_tries} leader kill(s) per repetition.")
    L.append(f"* Date: {machine['date']}; wall time {elapsed / 60:.1f} min.")
    L.append(f"* Machine: {machine['cpu_model']} ({machine['cpu_mhz']} MHz), nproc = "
             f"{machine['nproc']}, MemTotal {machine['mem_total']}, Linux {machine['kernel']}; "
             f"load average at start {machine['loadavg_at_start']}. All 3 members, the load "
             "generator and the writer share these cores.")
    L.append(f"* ZooKeeper {vers['zookeeper']} (Debian), {vers['java']}, `java -Xmx2g` per "
             f"member; Corral commit {vers['corral_commit']} (`{vers['corral_bin']}`, built "
             f"{vers.get('corral_binary_mtime', '?')}, copied with its plugins at the start of "
             "the run).")
    L.append("* Every member: 127.0.0.1, `" + "`, `".join(f"{k}={v}" for k, v in SETTINGS.items())
             + "`, three `server.N=127.0.0.1:quorumPort:electionPort` lines, `myid`, dataDir in "
             f"a fresh temp dir under `{a.tmp_base}` (one disk for all).")
    L.append(f"* Load: `corral-bench`, {a.keys} keys of {a.value_size} B, primed with "
             f"{a.prime:g} s of get 32x8 over all members per ensemble.")
    if a.corral_setting:
        L.append(f"* Extra Corral settings: `{' '.join(a.corral_setting)}`")
    L.append(f"* Command: `{command}`\n")

    L.append("## Goals\n")
    L.append("| goal | ZooKeeper | Corral | Corral/ZooKeeper | bound | met |")
    L.append("|---|---:|---:|---:|---:|:-:|")
    for label, zv, cv, r, b, ok in goal_rows(summary):
        L.append(f"| {label} | {fmt(zv)} | {fmt(cv)} | {fmt(r, 2)} | {b} | "
                 f"{'n/a' if ok is None else ('yes' if ok else '**no**')} |")
    L.append("")

    L.append("## Throughput, latency, CPU (medians over repetitions)\n")
    L.append("| case | server | ops/s | p50 µs | p99 µs | p99.9 µs | max µs | CPU µs/op, "
             "3 members | errors | lost sessions | runs |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    names = ("set 32x8", "get 32x8", "set 1x1 follower", "set 1x1 leader")
    for name in names:
        for impl, s in (("zookeeper", z), ("corral", c)):
            d = s.get("cases", {}).get(name)
            if not d:
                continue
            L.append(f"| {name} | {impl} | {fmt(d['ops_per_s'])} | {fmt(d['p50'])} | "
                     f"{fmt(d['p99'])} | {fmt(d['p99_9'])} | {fmt(d['max'])} | "
                     f"{fmt(d['ensemble_cpu_us_per_op'], 2)} | {fmt(d['errors'], 0)} | "
                     f"{fmt(d['lost'], 0)} | {d['n']} |")
    L.append("\n| case | ops/s | p50 | p99 | CPU/op |")
    L.append("|---|---:|---:|---:|---:|")
    for name in names:
        zd, cd = z.get("cases", {}).get(name), c.get("cases", {}).get(name)
        if zd and cd:
            L.append(f"| {name} | {fmt(ratio(cd['ops_per_s'], zd['ops_per_s']), 2)} | "
                     f"{fmt(ratio(cd['p50'], zd['p50']), 2)} | "
                     f"{fmt(ratio(cd['p99'], zd['p99']), 2)} | "
                     f"{fmt(ratio(cd['ensemble_cpu_us_per_op'], zd['ensemble_cpu_us_per_op']), 2)}"
                     " |")
    where = []
    for r in reps:
        for name in ("set 1x1 follower", "set 1x1 leader"):
            d = r["cases"].get(name)
            if d and d.get("member_sids"):
                where.append(f"{r['impl']} rep {r['rep']} {name.split()[-1]}: member "
                             f"{d['member_sids'][0]} (leader {d.get('leader_sid')})")
    if where:
        L.append("\n`set 1x1` sessions connected to: " + "; ".join(where) + ".")
    L.append("\nRatios are Corral / ZooKeeper: ops/s > 1 and latency, CPU < 1 favour Corral. "
             "32x8 = 32 sessions × 8 pipelined requests, sessions round-robin over the 3 members "
             "(11/11/10). `set 1x1 follower`: the one session on a follower (writes forwarded to "
             "the leader, the common case); `set 1x1 leader`: on the leader. CPU µs/op = utime + "
             "stime of all 3 member processes over the measured window / ops.\n")

    L.append("### CPU per member (seconds over the measured window, per repetition)\n")
    L.append("| case | server | rep | leader sid | member 1 | member 2 | member 3 | sum | "
             "ops | µs/op | corral-bench's reading of the leader |")
    L.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in reps:
        for name in ("set 32x8", "get 32x8"):
            d = r["cases"].get(name)
            if not d or "error" in d:
                continue
            per = d.get("members_cpu_s") or [None] * 3
            L.append(f"| {name} | {r['impl']} | {r['rep']} | {d.get('leader_sid')} | "
                     + " | ".join(fmt(x, 2) for x in per)
                     + f" | {fmt(d.get('ensemble_cpu_s'), 2)} | {d.get('ops', 0):,} | "
                       f"{fmt(d.get('ensemble_cpu_us_per_op'), 2)} | "
                       f"{fmt(d.get('server_cpu_s'), 2)} |")
    L.append("")

    L.append("## Leader kill -9 → first acknowledged write\n")
    L.append("A raw-protocol writer (one session, one `setData` of 100 B at a time, no client "
             "back-off: a failed connection is retried after 5 ms on the other follower) is "
             "connected to the two followers; the leader (`srvr` Mode: leader) is killed with "
             "SIGKILL by PID. Time = kill → reply (err 0) to the first write *issued* after "
             "the kill. New leader = first `srvr` Mode: leader on a survivor (polled every "
             "20 ms). The killed member is restarted on its dataDir between tries.\n")
    L.append("| server | tries | first write median ms | max ms | all (ms) | new leader "
             "median ms | election as logged, ms (all) | writes/s before |")
    L.append("|---|---:|---:|---:|---|---:|---|---:|")
    for impl, s in (("zookeeper", z), ("corral", c)):
        k = s.get("kill_first_write_ms")
        if not k or not (k["n"] or k["failed"]):
            continue
        wps = median([x.get("writes_per_s_before") for r in reps if r["impl"] == impl
                      for x in r["kills"]])
        el = [x.get("election_ms_logged") for r in reps if r["impl"] == impl
              for x in r["kills"]]
        fails = f" ({k['failed']} failed)" if k["failed"] else ""
        L.append(f"| {impl} | {k['n']}{fails} | {fmt(k['median'])} | {fmt(k['max'])} | "
                 f"{', '.join(f'{x:.0f}' for x in k['all'])} | "
                 f"{fmt(s['kill_new_leader_ms']['median'])} | "
                 f"{', '.join('?' if x is None else str(x) for x in el)} | {fmt(wps)} |")
    L.append("")

    if snaps:
        L.append("## SNAP sync of a new follower\n")
        zn = snaps[0]["znodes"]
        L.append(f"{zn:,} znodes of {a.value_size} B under {a.parents} parents, loaded with "
                 "`corral-bench --op load` (16 sessions × 64 pipelined creates over the 3 "
                 "members) into a fresh ensemble with `forceSnapshotSync=true` (ZooKeeper: "
                 "`-Dzookeeper.forceSnapshotSync=true`; the leader always sends a snapshot, as it "
                 "would to any follower too far behind). Per try: a follower is stopped, its "
                 "dataDir wiped (myid kept) and the process started again; time = spawn → `srvr` "
                 "says Mode: follower with the leader's Zxid. `port up` = the first `srvr` answer "
                 "of any kind (process start; JVM start for ZooKeeper).\n")
        L.append("| server | load creates/s | try | member | port up ms | serving ms | "
                 "up → serving ms | sync (from the log) | last key read back | RSS of the new "
                 "follower kB |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---|---|---:|")
        for sn in snaps:
            if sn.get("error") and not sn["tries"]:
                L.append(f"| {sn['impl']} | {fmt(sn.get('load_creates_per_s'))} | - | - | - | - "
                         f"| failed: {sn['error'][:200]} | | |")
            for i, t in enumerate(sn["tries"]):
                L.append(f"| {sn['impl']} | {fmt(sn.get('load_creates_per_s'))} | {i + 1} | "
                         f"{t.get('follower_sid')} | {fmt(t.get('up_ms'))} | "
                         f"{fmt(t.get('serving_ms'))} | "
                         f"{fmt(ratio_sub(t.get('serving_ms'), t.get('up_ms')))} | "
                         f"{t.get('sync_mode')} | "
                         f"{'yes' if t.get('last_key_err') == 0 else t.get('last_key_err')} | "
                         f"{fmt(t.get('rss_kb_new_follower'), 0)} |")
        zs = (z.get("snap") or {}).get("serving_ms_median")
        cs = (c.get("snap") or {}).get("serving_ms_median")
        L.append(f"\nMedian serving time: ZooKeeper {fmt(zs)} ms, Corral {fmt(cs)} ms, "
                 f"Corral/ZooKeeper {fmt(ratio(cs, zs), 2)}.\n")
        for sn in snaps:
            if sn.get("rss_kb_loaded"):
                L.append(f"* {sn['impl']}: RSS per member after the load (kB): "
                         + ", ".join(f"member {k}: {v:,}" for k, v in sn["rss_kb_loaded"].items()
                                     if v))
        L.append("")

    notes = anomalies(reps, snaps)
    L.append("## Errors, lost sessions, failures\n")
    L.extend(notes or ["None: no corral-bench errors or lost sessions, every kill and sync "
                       "completed."])
    L.append("\nRaw per-run JSON (every corral-bench result, per-member CPU, per kill the writer's "
             "connection events, WARN/ERROR log lines of each member): `ensemble-raw.json`. "
             "Metric definitions: `README.md`.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def anomalies(reps, snaps):
    out = []
    for r in reps:
        if r.get("error"):
            out.append(f"* {r['impl']} rep {r['rep']}: **failed**: `{r['error'][:300]}`")
        for name, d in r["cases"].items():
            if "error" in d:
                out.append(f"* {r['impl']} rep {r['rep']} {name}: {d['error'][:300]}")
            elif d.get("error_count") or d.get("connections_lost") or d.get("rc"):
                out.append(f"* {r['impl']} rep {r['rep']} {name}: errors {d.get('errors')}, "
                           f"lost sessions {d.get('connections_lost')}, rc {d.get('rc')}; "
                           f"stderr `{d.get('stderr', '')[-200:]}`")
        for i, k in enumerate(r["kills"]):
            if k.get("error") or k.get("errors_after_kill"):
                out.append(f"* {r['impl']} rep {r['rep']} kill {i + 1}: {k.get('error', '')} "
                           f"error replies after the kill: {k.get('errors_after_kill')}")
    for sn in snaps:
        if sn.get("error"):
            out.append(f"* {sn['impl']} SNAP: **failed**: `{sn['error'][:300]}`")
        for i, t in enumerate(sn.get("tries", [])):
            if t.get("error") or t.get("last_key_err") not in (0, None) or \
                    t.get("sync_mode") not in ("SNAP",):
                out.append(f"* {sn['impl']} SNAP try {i + 1}: sync {t.get('sync_mode')}, last key "
                           f"err {t.get('last_key_err')} {t.get('error', '')}")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition, 1 s warmup + 3 s per run, 2 kills, 100k znodes, 2 syncs")
    ap.add_argument("--reps", type=int, help="repetitions per server [3; quick 1]")
    ap.add_argument("--warmup", type=float, help="warmup seconds per run [5; quick 1]")
    ap.add_argument("--duration", type=float, help="measured seconds per run [15; quick 3]")
    ap.add_argument("--prime", type=float, help="seconds of get 32x8 priming [5; quick 2]")
    ap.add_argument("--kill-tries", type=int, help="leader kills per repetition [5; quick 2]")
    ap.add_argument("--snap-znodes", type=int,
                    help="znodes for the SNAP sync step [1000000; quick 100000]; 0 skips it")
    ap.add_argument("--snap-tries", type=int, help="wiped-follower syncs [3; quick 2]")
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=10000, help="keys for get/set [10000]")
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="corral-bench threads [1]")
    ap.add_argument("--parts", default="tput,lat,kill",
                    help="per-repetition parts: tput (32x8), lat (1x1), kill [all]")
    ap.add_argument("--load-timeout", type=float, default=1800)
    ap.add_argument("--impls", default="zookeeper,corral", help="which servers, in A B order")
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", default=benchlib.BENCH_DIR)
    ap.add_argument("--corral-setting", action="append", metavar="KEY=VALUE",
                    help="extra config line for Corral members only; repeatable")
    ap.add_argument("--keep-dirs", action="store_true")
    a = ap.parse_args()
    q = a.quick
    a.reps = a.reps or (1 if q else 3)
    a.warmup = a.warmup if a.warmup is not None else (1.0 if q else 5.0)
    a.duration = a.duration if a.duration is not None else (3.0 if q else 15.0)
    a.prime = a.prime if a.prime is not None else (2.0 if q else 5.0)
    a.kill_tries = a.kill_tries if a.kill_tries is not None else (2 if q else 5)
    a.snap_znodes = a.snap_znodes if a.snap_znodes is not None else (100_000 if q else 1_000_000)
    a.snap_tries = a.snap_tries if a.snap_tries is not None else (2 if q else 3)
    a.parts = [p for p in a.parts.split(",") if p]
    impls = [i for i in a.impls.split(",") if i]
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)
    t_start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    build = os.path.abspath(a.corral_build)
    tmp = tempfile.mkdtemp(prefix="corral-ensbench-bin-", dir=a.tmp_base)
    try:
        run_all(a, q, impls, build, tmp, command, t_start, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def prepare_binaries(a, impls, build, tmp, log):
    """Copies corral-bench and (for a Corral run) the server with its plugins into `tmp`, so
    a rebuild during the run changes nothing. Returns (bench_bin, corral_bin or None,
    machine info, versions)."""
    bench_bin = os.path.join(tmp, "corral-bench")
    shutil.copy2(benchlib.find_bench_bin(a.bench_bin, build), bench_bin)
    corral_bin = snapshot_corral(build, os.path.join(tmp, "corral"), log) \
        if "corral" in impls else None
    machine = benchlib.machine_info()
    vers = benchlib.versions(os.path.join(build, "bin", "corral-server"))
    if corral_bin:
        vers["corral_binary_mtime"] = time.strftime(
            "%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(corral_bin)))
    return bench_bin, corral_bin, machine, vers


def wait_steady(w, steady_s, what="the fault"):
    """Waits for a KillWriter's first 20 acks (30 s at most), then `steady_s` more; returns
    its writes per second over that last stretch."""
    end = time.monotonic() + 30
    while len(w.acked()) < 20 and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(steady_s)
    before = w.acked()
    if len(before) < 20:
        raise RuntimeError(f"writer made no progress before {what}: {w.events[-5:]}")
    recent = [a for a in before if a[1] >= before[-1][1] - steady_s]
    return len(recent) / steady_s


def run_all(a, q, impls, build, tmp, command, t_start, log):
    bench_bin, corral_bin, machine, vers = prepare_binaries(a, impls, build, tmp, log)

    reps, snaps = [], []
    if a.parts:
        for rep in range(1, a.reps + 1):
            for impl in impls:
                reps.append(run_rep(impl, rep, a, corral_bin, bench_bin, log))
    if a.snap_znodes > 0:
        for impl in impls:
            snaps.append(run_snap(impl, a, corral_bin, bench_bin, log))
    summary = summarize(reps, snaps, impls)
    elapsed = time.monotonic() - t_start
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "ensemble-raw.json"), "w") as f:
        json.dump({"machine": machine, "versions": vers, "command": command, "quick": q,
                   "elapsed_s": elapsed, "summary": summary, "goals": [
                       {"goal": g[0], "zookeeper": g[1], "corral": g[2], "ratio": g[3],
                        "bound": g[4], "met": g[5]} for g in goal_rows(summary)],
                   "reps": reps, "snap": snaps}, f, indent=1)
    write_report(os.path.join(a.out, "RESULTS-ensemble.md"), a, summary, reps, snaps, machine,
                 vers, command, elapsed)
    log(f"wrote {os.path.join(a.out, 'RESULTS-ensemble.md')} and ensemble-raw.json")


if __name__ == "__main__":
    main()
