#!/usr/bin/python3
"""Memory per znode, snapshot size, restart time and empty start time: Corral vs ZooKeeper 3.8.

For each server in turn (same settings as compare.py: tickTime=2000, forceSync=yes, dataDir in
a fresh temp dir on the same disk):
  1. empty start: time from spawning the process to the first answered request
     (handshake + getData("/"), any reply);
  2. load: --znodes znodes of --value-size bytes under --parents parents, created with
     pipelined async creates (corral-bench --op load); RSS before/after -> growth per znode;
  3. stop (SIGTERM); snapshot size = newest dataDir/version-2/snapshot.* file (n/a if none);
  4. restart on the same dataDir: time from spawning to the first answered getData of the
     last key created (err 0), and RSS after restart.
Writes RESULTS-memory.md and memory-raw.json into --out.

  /usr/bin/python3 tests/bench/memory_restart.py --corral-build build                # 1M znodes
  /usr/bin/python3 tests/bench/memory_restart.py --corral-build build --znodes 100000 # smoke
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

ROOT = "/corral-bench"


def key_path(i, parents):
    return f"{ROOT}/p{i % parents}/k{i}" if parents else f"{ROOT}/k{i}"


def snapshot_info(data_dir):
    snaps, logs = [], []
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            p = os.path.join(root, f)
            if f.startswith("snapshot."):
                snaps.append(p)
            elif f.startswith("log."):
                logs.append(p)
    newest = max(snaps, key=os.path.getmtime) if snaps else None
    return {
        "snapshot_files": len(snaps),
        "newest_snapshot": os.path.relpath(newest, data_dir) if newest else None,
        "newest_snapshot_bytes": os.path.getsize(newest) if newest else None,
        "txn_log_files": len(logs),
        "txn_log_bytes": sum(os.path.getsize(p) for p in logs),
        "data_dir_bytes": benchlib.dir_size(data_dir),
    }


def jvm_gc(pid):
    """Full GC in the ZooKeeper JVM (jcmd), so that its RSS reflects live data more closely."""
    try:
        subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60)
        time.sleep(2)
        return True
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_one(impl, a, corral_bin, bench_bin, log):
    r = {"impl": impl}
    srv = benchlib.Server(impl, corral_bin, base_dir=a.tmp_base,
                               corral_settings=benchlib.parse_settings(a.corral_setting))
    try:
        r["empty_start_ms"] = srv.start(ready_path="/", timeout=120)[0] * 1000
        log(f"{impl}: empty start to first answer {r['empty_start_ms']:.1f} ms (pid {srv.pid})")
        time.sleep(1.0)
        r["rss_kb_empty"] = benchlib.proc_rss_kb(srv.pid)
        t0 = time.monotonic()
        load = benchlib.run_bench(bench_bin, [
            "--hosts", srv.hosts, "--op", "load", "--keys", a.znodes, "--parents", a.parents,
            "--value-size", a.value_size, "--sessions", a.sessions, "--inflight", a.inflight,
            "--server-pid", srv.pid, "--setup-timeout", a.load_timeout],
            timeout=a.load_timeout + 120)
        r["load"] = load
        if "error" in load or load.get("setup_errors"):
            raise RuntimeError(f"load failed: {load}")
        r["load_s"] = time.monotonic() - t0
        r["load_creates_per_s"] = load.get("load_creates_per_s")
        time.sleep(1.0)
        r["rss_kb_loaded"] = benchlib.proc_rss_kb(srv.pid)
        n = a.znodes + a.parents
        r["rss_growth_bytes_per_znode"] = (r["rss_kb_loaded"] - r["rss_kb_empty"]) * 1024 / n
        if impl == "zookeeper" and jvm_gc(srv.pid):
            r["rss_kb_loaded_after_full_gc"] = benchlib.proc_rss_kb(srv.pid)
            r["rss_growth_bytes_per_znode_after_full_gc"] = (
                (r["rss_kb_loaded_after_full_gc"] - r["rss_kb_empty"]) * 1024 / n)
        log(f"{impl}: loaded {a.znodes} znodes in {r['load_s']:.1f} s "
            f"({r['load_creates_per_s']} creates/s); RSS {r['rss_kb_empty']} -> "
            f"{r['rss_kb_loaded']} kB = {r['rss_growth_bytes_per_znode']:.0f} B/znode")
        t0 = time.monotonic()
        srv.stop(timeout=120)
        r["stop_s"] = time.monotonic() - t0
        r.update(snapshot_info(srv.data_dir))
        last = key_path(a.znodes - 1, a.parents)
        t, err = srv.start(ready_path=last, timeout=a.load_timeout)
        r["restart_ms"] = t * 1000  # the first answer comes once the data is loaded
        r["restart_get_err"] = err
        r["restored"] = err == 0
        if err != 0:
            log(f"{impl}: after restart get({last}) answered err {err}: data NOT restored")
        time.sleep(0.5)
        r["rss_kb_restarted"] = benchlib.proc_rss_kb(srv.pid)
        log(f"{impl}: snapshot {r['newest_snapshot_bytes']} B, restart to get({last}) "
            f"{r['restart_ms']:.0f} ms, RSS after restart {r['rss_kb_restarted']} kB")
    except Exception as e:  # noqa: BLE001
        r["error"] = str(e)
        log(f"{impl}: FAILED: {e}")
    finally:
        srv.cleanup(keep=a.keep_dirs)
    return r


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--znodes", type=int, default=1_000_000)
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--sessions", type=int, default=16)
    ap.add_argument("--inflight", type=int, default=64)
    ap.add_argument("--load-timeout", type=float, default=1800,
                    help="bound on loading and on the restart wait, seconds [1800]")
    ap.add_argument("--impls", default="zookeeper,corral")
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", default=benchlib.BENCH_DIR)
    ap.add_argument("--corral-setting", action="append", metavar="KEY=VALUE",
                    help="extra config line for Corral only (e.g. storage=NAME); repeatable")
    ap.add_argument("--keep-dirs", action="store_true")
    a = ap.parse_args()
    corral_bin = benchlib.find_corral_bin(os.path.abspath(a.corral_build))
    bench_bin = benchlib.find_bench_bin(a.bench_bin, os.path.abspath(a.corral_build))
    machine = benchlib.machine_info()
    vers = benchlib.versions(corral_bin)
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)
    t_start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    results = {impl: run_one(impl, a, corral_bin, bench_bin, log)
               for impl in a.impls.split(",") if impl}
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "memory-raw.json"), "w") as f:
        json.dump({"machine": machine, "versions": vers, "command": command,
                   "results": results}, f, indent=1)
    z, c = results.get("zookeeper", {}), results.get("corral", {})

    def ratio(key):
        if isinstance(z.get(key), bool) or isinstance(c.get(key), bool):
            return ""
        if z.get(key) and c.get(key) is not None:
            return f"{c[key] / z[key]:.3f}"
        return "n/a"

    L = ["# Memory, snapshot and restart: Corral vs Apache ZooKeeper 3.8\n"]
    L.append(f"* {a.znodes:,} znodes of {a.value_size} B under {a.parents:,} parents "
             f"(`{ROOT}/pJ/kI`), created by `corral-bench --op load` ({a.sessions} sessions × "
             f"{a.inflight} pipelined creates).")
    L.append(f"* Date: {machine['date']}. Machine: {machine['cpu_model']}, nproc = "
             f"{machine['nproc']}, MemTotal {machine['mem_total']}, Linux {machine['kernel']}; "
             f"load average at start {machine['loadavg_at_start']}.")
    L.append(f"* ZooKeeper {vers['zookeeper']} ({vers['java']}, `-Xmx2g`); Corral commit "
             f"{vers['corral_commit']}. Both: `tickTime=2000`, `forceSync=yes`, dataDir in a "
             f"fresh temp dir under `{a.tmp_base}`.")
    L.append(f"* Command: `{command}`\n")
    L.append("| metric | ZooKeeper | Corral | Corral/ZooKeeper | target |")
    L.append("|---|---:|---:|---:|---|")
    rows = [
        ("empty start → first answered request, ms", "empty_start_ms", 1, "Corral ≤ 50 ms"),
        ("RSS empty (after start), kB", "rss_kb_empty", 0, ""),
        ("RSS after load, kB", "rss_kb_loaded", 0, ""),
        ("RSS growth per znode, bytes", "rss_growth_bytes_per_znode", 0, "Corral ≤ 250 B"),
        ("load rate, creates/s", "load_creates_per_s", 0, ""),
        ("newest snapshot file, bytes", "newest_snapshot_bytes", 0, ""),
        ("txn log files, bytes", "txn_log_bytes", 0, ""),
        ("dataDir total, bytes", "data_dir_bytes", 0, ""),
        ("stop (SIGTERM → exit), s", "stop_s", 2, ""),
        ("restart → first answered get of the last key, ms", "restart_ms", 0, "ratio ≤ 0.1"),
        ("last key found after restart", "restored", 0, ""),
        ("RSS after restart, kB", "rss_kb_restarted", 0, ""),
    ]
    for label, key, nd, target in rows:
        L.append(f"| {label} | {fmt(z.get(key), nd)} | {fmt(c.get(key), nd)} | {ratio(key)} | "
                 f"{target} |")
    if z.get("rss_kb_loaded_after_full_gc"):
        L.append(f"\nZooKeeper after a full GC (`jcmd PID GC.run`): RSS "
                 f"{z['rss_kb_loaded_after_full_gc']:,} kB = "
                 f"{z['rss_growth_bytes_per_znode_after_full_gc']:.0f} B/znode (the JVM rarely "
                 "returns heap to the OS, so RSS is an upper bound on its live data).")
    for impl, r in results.items():
        if "restored" in r and not r["restored"]:
            L.append(f"\n**{impl}: the data was not restored** — after the restart getData of the "
                     f"last key answered err {r['restart_get_err']}; its restart time is only the "
                     "time to the first answer of an empty server.")
        if r.get("error"):
            L.append(f"\n**{impl} failed:** `{r['error'][:400]}`")
        if not r.get("error") and r.get("snapshot_files") == 0:
            L.append(f"\n{impl}: no `snapshot.*` file in dataDir (snapshot size n/a).")
    L.append("\nRSS is VmRSS from /proc/PID/status; growth per znode = (RSS after load − RSS "
             "empty) / (znodes + parents). Restart time includes process start, loading the "
             "snapshot and replaying the txn log. See README.md.")
    with open(os.path.join(a.out, "RESULTS-memory.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    log(f"wrote {os.path.join(a.out, 'RESULTS-memory.md')}")


if __name__ == "__main__":
    main()
