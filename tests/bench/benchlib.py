"""Shared helpers of the bench scripts (run by /usr/bin/python3).

Starts Apache ZooKeeper 3.8 (Debian packages) or corral-server on 127.0.0.1 with a free port
and its own dataDir, owns the process (stopped by PID: SIGTERM, then SIGKILL), and talks the
client protocol with raw sockets for readiness/restart probes. Nothing here runs a loop that is
not bounded in count and time.
"""
import datetime
import os
import platform
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
JAVA_DIR = "/usr/share/java"
ZK_JARS = ["zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar"]
LOG4J = """\
log4j.rootLogger=WARN, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.Target=System.out
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
"""
IMPLS = ("zookeeper", "corral")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ raw protocol
def _frame(payload):
    return struct.pack(">i", len(payload)) + payload


def _ustr(s):
    b = s.encode()
    return struct.pack(">i", len(b)) + b


def _recv_frame(sock):
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        return buf
    (n,) = struct.unpack(">i", exact(4))
    return exact(n)


def probe_get(port, path, timeout=2.0, host="127.0.0.1"):
    """Connect, handshake, getData(path). Returns the reply error code (0 = found), or None if
    the server did not answer (refused, closed, timeout)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            connect = struct.pack(">iqiq", 0, 0, 30000, 0) + struct.pack(">i", 16) + b"\0" * 16 + b"\0"
            get = struct.pack(">ii", 1, 4) + _ustr(path) + b"\0"
            close = struct.pack(">ii", 2, -11)
            s.sendall(_frame(connect) + _frame(get))
            resp = _recv_frame(s)
            if len(resp) < 16 or struct.unpack(">q", resp[8:16])[0] == 0:
                return None
            reply = _recv_frame(s)
            xid, _zxid, err = struct.unpack(">iqi", reply[:16])
            try:
                s.sendall(_frame(close))
                _recv_frame(s)
            except OSError:
                pass
            return err if xid == 1 else None
    except (OSError, ConnectionError, struct.error):
        return None


def wait_answer(port, path, deadline_s, proc=None):
    """Poll (1 ms pauses) until getData(path) is answered (any error code). Returns
    (monotonic time of the answer, err), or (None, None) at the deadline / if proc died."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return None, None
        err = probe_get(port, path, timeout=max(0.05, min(5.0, end - time.monotonic())))
        if err is not None:
            return time.monotonic(), err
        time.sleep(0.001)
    return None, None


def four_letter(port, word, timeout=2.0, host="127.0.0.1"):
    """Send a four-letter word, return the whole answer as text (None if not connected)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(word.encode())
            chunks = []
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                s.settimeout(max(0.01, end - time.monotonic()))
                try:
                    c = s.recv(65536)
                except ConnectionResetError:
                    break
                if not c:
                    break
                chunks.append(c)
            return b"".join(chunks).decode("utf-8", "replace")
    except OSError:
        return None


def mntr(port, host="127.0.0.1", timeout=5.0):
    """`mntr` as {key: value} (numbers as int/float); {} when not answered. Needs
    `4lw.commands.whitelist` to list mntr (Server(mntr=True) writes `*`)."""
    out = {}
    for line in (four_letter(port, "mntr", timeout=timeout, host=host) or "").splitlines():
        k, sep, v = line.partition("\t")
        if not sep:
            continue
        v = v.strip()
        try:
            out[k.strip()] = int(v)
        except ValueError:
            try:
                out[k.strip()] = float(v)
            except ValueError:
                out[k.strip()] = v
    return out


# ------------------------------------------------------------------ /proc
def proc_rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def proc_cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        fields = s[s.rindex(")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def proc_io(pid):
    """/proc/PID/io as {field: int} (write_bytes = bytes the process caused to be sent to the
    block layer, all its threads; cancelled_write_bytes = dirty pages it truncated away)."""
    out = {}
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k.strip()] = int(v)
    except (OSError, ValueError):
        return None
    return out


def du_bytes(path):
    """Allocated bytes under path, as `du -s --block-size=1` (st_blocks, hard links once):
    sparse (preallocated) files count what they occupy, not their length."""
    total, seen = 0, set()
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


class RssSampler:
    """Peak VmRSS of a process, sampled every `interval` s on a thread."""

    def __init__(self, pid, interval=0.05):
        self.pid, self.interval = pid, interval
        self.peak_kb, self.samples = 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            rss = proc_rss_kb(self.pid) or 0
            self.peak_kb = max(self.peak_kb, rss)
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def wait_idle(pid, quiet_s=1.5, timeout=180):
    """Until the process used < 2% of a core for `quiet_s` (background snapshots finished)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        c0 = proc_cpu_s(pid)
        time.sleep(quiet_s)
        if proc_cpu_s(pid) - c0 < 0.02 * quiet_s:
            return True
    return False


def wait_quiet(pid, quiet_s=3.0, timeout=180):
    """Until the process neither used CPU (< 2% of a core) nor wrote anything to disk
    (/proc/PID/io write_bytes) for `quiet_s`: background snapshots, RocksDB flushes and
    compactions finished. Returns the seconds waited, or None at the timeout."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        c0, w0 = proc_cpu_s(pid), (proc_io(pid) or {}).get("write_bytes")
        time.sleep(quiet_s)
        c1, w1 = proc_cpu_s(pid), (proc_io(pid) or {}).get("write_bytes")
        if c0 is None or c1 is None:
            return None
        if c1 - c0 < 0.02 * quiet_s and w1 == w0:
            return time.monotonic() - t0
    return None


PROBLEM_LINES = r"\b(WARN|ERROR|FATAL|warning|warn|error|critical)\b"
# ZooKeeper WARNs at every probe connection ("Close of session 0x0", ...): its errors only
ZK_PROBLEM_LINES = r"\b(ERROR|FATAL)\b"


def log_problems(path, limit=12, pattern=PROBLEM_LINES):
    """Lines of a server log matching `pattern` (WARN/ERROR): {"count", "first", "last"}, or
    None when there are none."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    lines = [l for l in text.splitlines() if re.search(pattern, l)]
    if not lines:
        return None
    return {"count": len(lines), "first": lines[:limit // 2], "last": lines[-(limit // 2):]}


def dir_size(path):
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def machine_info():
    model, mhz = "?", "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model == "?":
                    model = line.split(":", 1)[1].strip()
                if line.startswith("cpu MHz") and mhz == "?":
                    mhz = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    try:
        load = open("/proc/loadavg").read().split()[:3]
    except OSError:
        load = ["?"]
    return {
        "cpu_model": model, "cpu_mhz": mhz, "nproc": nproc, "mem_total": mem,
        "kernel": platform.release(), "loadavg_at_start": " ".join(load),
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def versions(corral_bin):
    out = {}
    try:
        out["zookeeper"] = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "zookeeper"],
                                          capture_output=True, text=True).stdout.strip()
    except OSError:
        out["zookeeper"] = "?"
    try:
        jv = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        out["java"] = jv.splitlines()[0] if jv else "?"
    except OSError:
        out["java"] = "?"
    try:
        out["corral_commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                                              capture_output=True, text=True).stdout.strip()
    except OSError:
        out["corral_commit"] = "?"
    out["corral_bin"] = corral_bin
    return out


# ------------------------------------------------------------------ servers
class Server:
    """One server process on 127.0.0.1 with its own temp dir (config, dataDir, log)."""

    def __init__(self, impl, corral_bin, base_dir=None, settings=None, heap="2g",
                 corral_settings=None):
        assert impl in IMPLS
        self.impl = impl
        self.corral_bin = corral_bin
        self.heap = heap
        self.settings = {"tickTime": 2000, "forceSync": "yes", "maxClientCnxns": 0}
        self.settings.update(settings or {})
        if impl == "corral":  # Corral's own keys (e.g. storage=...), from --corral-setting
            self.settings.update(corral_settings or {})
        self.dir = tempfile.mkdtemp(prefix=f"corral-bench-{impl}-", dir=base_dir)
        self.data_dir = os.path.join(self.dir, "data")
        os.makedirs(self.data_dir)
        self.port = free_port()
        self.proc = None
        self.cmd = None
        self._log = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def log_path(self):
        return os.path.join(self.dir, "server.log")

    @property
    def hosts(self):
        return f"127.0.0.1:{self.port}"

    def _write_config(self):
        # Both servers would open the AdminServer on 8080 by default; neither needs it here.
        lines = [f"dataDir={self.data_dir}", f"clientPort={self.port}",
                 "clientPortAddress=127.0.0.1", "admin.enableServer=false"]
        lines += [f"{k}={v}" for k, v in self.settings.items()]
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        return cfg

    def command(self):
        cfg = self._write_config()
        if self.impl == "corral":
            return [self.corral_bin, "--config", cfg]
        with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
            f.write(LOG4J)
        cp = ":".join([self.dir] + [os.path.join(JAVA_DIR, j) for j in ZK_JARS])
        return ["java", f"-Xmx{self.heap}", f"-Dzookeeper.log.dir={self.dir}/logs", "-cp", cp,
                "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]

    def start(self, ready_path="/", timeout=120.0):
        """Start and wait until getData(ready_path) is answered (both servers answer only once
        their data is loaded). Returns (seconds from just before the process was spawned to
        that answer, the answer's error code)."""
        assert self.proc is None or self.proc.poll() is not None
        self.cmd = self.command()
        self._log = open(os.path.join(self.dir, "server.log"), "ab")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.cmd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir,
                                     start_new_session=True)
        t1, err = wait_answer(self.port, ready_path, timeout, self.proc)
        if t1 is None:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"{self.impl} did not answer within {timeout}s\n{tail}")
        return t1 - t0, err

    def stop(self, timeout=30.0):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log:
            self._log.close()
            self._log = None

    def cleanup(self, keep=False):
        self.stop()
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def log_tail(self, n=30):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-n:])
        except OSError:
            return ""


def find_corral_bin(build_dir):
    path = os.path.join(build_dir, "bin", "corral-server")
    for _ in range(30):  # it is rebuilt by others now and then: retry briefly
        if os.access(path, os.X_OK):
            return path
        time.sleep(2)
    raise SystemExit(f"corral-server not found at {path}")


def find_bench_bin(explicit, build_dir):
    """--bench-bin, else <build>/bin/corral-bench, else tests/bench/build/corral-bench (built
    here with cmake if missing)."""
    candidates = [explicit] if explicit else [os.path.join(build_dir, "bin", "corral-bench"),
                                               os.path.join(BENCH_DIR, "build", "corral-bench")]
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    if explicit:
        raise SystemExit(f"corral-bench not found at {explicit}")
    out = os.path.join(BENCH_DIR, "build")
    subprocess.run(["cmake", "-S", BENCH_DIR, "-B", out, "-DCMAKE_BUILD_TYPE=Release"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j2"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(out, "corral-bench")


def run_bench(bench_bin, args, timeout):
    """Run corral-bench, return its JSON line as a dict (with 'error' on failure)."""
    import json
    cmd = [bench_bin] + [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout}s", "cmd": " ".join(cmd)}
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    if not lines:
        return {"error": f"no output (rc={p.returncode}): {p.stderr[-500:]}", "cmd": " ".join(cmd)}
    d = json.loads(lines[-1])
    d["rc"] = p.returncode
    if p.stderr.strip():
        d["stderr"] = p.stderr.strip()[-500:]
    return d


def server_spec(label, corral_settings=None, storage_settings=None):
    """A server label of the bench scripts -> (impl, Corral's extra zoo.cfg lines).

    `zookeeper`; `corral` (Corral with `corral_settings` as given, e.g. --corral-setting; the
    storage is memlog unless they say otherwise); `corral-<storage>` (the same with
    `storage=<storage>`). `storage_settings` maps a storage name to lines only the servers of
    that storage get (e.g. {"rocksdb": {"rocksdb.cacheSizeMb": "64"}}: memlog refuses
    rocksdb.* keys)."""
    if label == "zookeeper":
        return "zookeeper", {}
    settings = dict(corral_settings or {})
    if label.startswith("corral-"):
        settings["storage"] = label[len("corral-"):]
    elif label != "corral":
        raise SystemExit(f"unknown server {label!r} (zookeeper, corral or corral-<storage>)")
    settings.update((storage_settings or {}).get(settings.get("storage", "memlog"), {}))
    return "corral", settings


def parse_settings(items):
    """['k=v', ...] -> {k: v}"""
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep or not k:
            raise SystemExit(f"bad --corral-setting {it!r} (want KEY=VALUE)")
        out[k.strip()] = v.strip()
    return out
