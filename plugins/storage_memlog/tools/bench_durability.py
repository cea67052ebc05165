#!/usr/bin/python3
"""Durability benchmark (not a CI test): 1,000,000 znodes of 100 bytes under 1,000 parents.

    /usr/bin/python3 plugins/storage_memlog/tools/bench_durability.py \
        --corral-bin build-dur/bin/corral-server [--nodes 1000000] [--keep]

1. Corral on an empty data dir; the znodes are created through the client port (pipelined raw
   creates), so the default snapCount makes Corral take background snapshots while loading.
2. Corral is stopped (SIGTERM) and restarted: time from exec to the first answered getData,
   RSS, the startup snapshot (size, time) from its log.
3. Apache ZooKeeper 3.8 (-Xmx3g) is started on the same data dir (it reads Corral's files),
   stopped, and started again on its own snapshot: the same figures.
Prints a table. Everything runs on 127.0.0.1; servers are stopped by PID.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness import raw  # noqa: E402
from harness.raw import Op  # noqa: E402

JAVA_DIR = "/usr/share/java"
LOG4J = """log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} - %-5p [%t:%C{1}@%L] - %m%n
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, impl, root, data_dir, corral_bin, extra=None):
        self.impl = impl
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"bench-{impl}-", dir=root)
        cfg = os.path.join(self.dir, "zoo.cfg")
        lines = [f"tickTime=2000", f"dataDir={data_dir}", f"clientPort={self.port}",
                 "clientPortAddress=127.0.0.1", "maxSessionTimeout=600000",
                 # Both servers would open the AdminServer on 8080 by default.
                 "admin.enableServer=false"]
        lines += [f"{k}={v}" for k, v in (extra or {}).items()]
        with open(cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        if impl == "corral":
            cmd = [corral_bin, "--config", cfg]
        else:
            with open(os.path.join(self.dir, "log4j.properties"), "w") as f:
                f.write(LOG4J)
            cp = ":".join([self.dir] + [os.path.join(JAVA_DIR, j) for j in
                                        ("zookeeper.jar", "slf4j-log4j12.jar", "log4j-1.2.jar")])
            cmd = ["java", "-Xmx3g",
                   f"-Dzookeeper.log.dir={self.dir}", "-cp", cp,
                   "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg]
        self.log_path = os.path.join(self.dir, "server.log")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=open(self.log_path, "wb"), stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_first_read(self, path, timeout=600):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.impl} exited: {self.log()[-3000:]}")
            try:
                c = raw.RawConnection(self.port, timeout=2.0)
                try:
                    c.handshake(timeout=30000, read_timeout=2.0)
                    rep = c.call(Op.GET_DATA, raw.path_watch_body(path), timeout=60)
                finally:
                    c.close()
                if rep.err == 0:
                    return time.monotonic() - self.started
            except Exception:
                pass
            time.sleep(0.02)
        raise RuntimeError("not ready")

    def rss_mib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def load(port, nodes, parents=1000, depth=2000):
    c = raw.connect(port, timeout=600000)
    start = time.monotonic()
    per = nodes // parents
    for p in range(parents):
        c.send_request(Op.CREATE, raw.create_body(f"/p{p:04d}", b""))
    for p in range(parents):
        assert c.read_reply(120).err == 0
    data = b"v" * 100
    pending = 0
    sent = 0
    for p in range(parents):
        for i in range(per):
            c.send_request(Op.CREATE, raw.create_body(f"/p{p:04d}/n{i:06d}", data))
            sent += 1
            pending += 1
            while pending >= depth:
                rep = c.read_reply(120)
                assert rep.err == 0, rep.err
                pending -= 1
    while pending:
        rep = c.read_reply(120)
        assert rep.err == 0, rep.err
        pending -= 1
    c.close()
    return sent, time.monotonic() - start


def newest_snapshot(data_dir):
    v2 = os.path.join(data_dir, "version-2")
    snaps = [f for f in os.listdir(v2) if f.startswith("snapshot.")]
    snaps.sort(key=lambda f: int(f.split(".")[1], 16))
    return os.path.join(v2, snaps[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corral-bin", default=os.path.join(REPO, "build", "bin", "corral-server"))
    ap.add_argument("--nodes", type=int, default=1000000)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="corral-bench-")
    data = os.path.join(root, "data")
    os.makedirs(data)
    results = []
    try:
        corral = Proc("corral", root, data, args.corral_bin)
        corral.wait_first_read("/")
        sent, secs = load(corral.port, args.nodes)
        print(f"loaded {sent} znodes into Corral in {secs:.1f} s ({sent / secs:.0f}/s), RSS {corral.rss_mib():.0f} MiB",
              flush=True)
        bg = re.findall(r"Snapshot (\S+) written: (\d+) nodes, ([\d.]+ \w+) \(([\d.]+ \w+) on disk\) in ([\d.]+) s "
                        r"\(tree copied in ([\d.]+) s", corral.log())
        for b in bg[-3:]:
            print(f"  background snapshot {os.path.basename(b[0])}: {b[1]} nodes, {b[3]}, {b[4]} s, writes paused {b[5]} s")
        corral.stop()

        probe = "/p0999/n000999" if args.nodes >= 1000000 else "/p0000/n000000"
        for impl, label in (("corral", "Corral restart"), ("zookeeper", "ZooKeeper on Corral's dir"),
                            ("zookeeper", "ZooKeeper restart"), ("corral", "Corral on ZooKeeper's dir")):
            p = Proc(impl, root, data, args.corral_bin)
            t = p.wait_first_read(probe)
            rss = p.rss_mib()
            p.stop()
            text = p.log()
            if impl == "corral":
                m = re.findall(r"Snapshot \S+ written: \d+ nodes, [\d.]+ \w+ \(([\d.]+ \w+) on disk\) in ([\d.]+) s", text)
                snap = f"{m[-1][0]} in {float(m[-1][1]) * 1000:.0f} ms" if m else "-"
                ld = re.findall(r"loaded snapshot \S+: .* in ([\d.]+) s", text)
                load_s = f"{float(ld[-1]) * 1000:.0f} ms" if ld else "-"
            else:
                m = re.findall(r"Snapshot taken in (\d+) ms", text)
                snap = f"{os.path.getsize(newest_snapshot(data)) / 2**20:.1f} MiB in {m[-1]} ms" if m else "-"
                ld = re.findall(r"Snapshot loaded in (\d+) ms", text)
                load_s = f"{ld[-1]} ms" if ld else "-"
            results.append((label, t, rss, load_s, snap))
            print(f"{label}: first read after {t:.2f} s, RSS {rss:.0f} MiB, snapshot load {load_s}, startup snapshot {snap}",
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
        else:
            print("kept", root)
    print("\n| run | first answered read | RSS | snapshot load | startup snapshot (size, time) |")
    print("|---|---|---|---|---|")
    for label, t, rss, load_s, snap in results:
        print(f"| {label} | {t:.2f} s | {rss:.0f} MiB | {load_s} | {snap} |")


if __name__ == "__main__":
    main()
