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
import contextlib
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


def zk_files(data_dir):
    """ZooKeeper-format files under data_dir: [(kind 'snapshot'|'log', zxid, path)]."""
    out = []
    for root, _dirs, files in os.walk(data_dir):
        for f in files:
            kind, _, suffix = f.partition(".")
            if kind in ("snapshot", "log"):
                try:
                    out.append((kind, int(suffix.split(".")[0], 16), os.path.join(root, f)))
                except ValueError:
                    pass
    return out


def purge_keep(files, retain):
    """The files ZooKeeper's PurgeTxnLog (`-n retain`, autopurge.snapRetainCount) keeps: the
    newest `retain` snapshots, the logs after the oldest of them and the newest log before it
    (it holds the txns that follow that snapshot). Everything when there is no snapshot."""
    def nonempty(p):
        try:
            return os.path.getsize(p) > 0
        except OSError:  # deleted meanwhile
            return False
    snaps = sorted((z, p) for k, z, p in files if k == "snapshot" and nonempty(p))
    if not snaps:
        return [p for _k, _z, p in files]
    least = snaps[-retain:][0][0]
    logs = sorted((z, p) for k, z, p in files if k == "log")
    older = [p for z, p in logs if z <= least]
    keep = [p for z, p in snaps if z >= least] + [p for z, p in logs if z > least]
    return keep + older[-1:]


def purge_old_files(data_dir, retain=3):
    """Delete what PurgeTxnLog -n `retain` would (ZooKeeper runs it next to a live server, as
    zkCleanup.sh); returns the bytes freed (allocated)."""
    files = zk_files(data_dir)
    keep = set(purge_keep(files, retain))
    freed = 0
    for _k, _z, p in files:
        if p not in keep:
            try:
                freed += os.lstat(p).st_blocks * 512
                os.unlink(p)
            except OSError:
                pass
    return freed


def du_of(paths):
    total = 0
    for p in paths:
        try:
            total += os.lstat(p).st_blocks * 512
        except OSError:
            pass
    return total


def snapshot_info(data_dir):
    files = zk_files(data_dir)
    snaps = [p for k, _z, p in files if k == "snapshot"]
    logs = [p for k, _z, p in files if k == "log"]
    newest = max(snaps, key=os.path.getmtime) if snaps else None
    out = {
        "snapshot_files": len(snaps),
        "newest_snapshot": os.path.relpath(newest, data_dir) if newest else None,
        "newest_snapshot_bytes": os.path.getsize(newest) if newest else None,
        "txn_log_files": len(logs),
        "txn_log_bytes": sum(os.path.getsize(p) for p in logs),
        "data_dir_bytes": benchlib.dir_size(data_dir),
        # allocated bytes (du): ZooKeeper's preallocated txn logs are sparse
        "data_dir_du_bytes": benchlib.du_bytes(data_dir),
    }
    if files:  # ZooKeeper formats: what remains with autopurge, and what a restart reads
        other = out["data_dir_du_bytes"] - du_of(p for _k, _z, p in files)
        out["data_dir_du_bytes_retain3"] = other + du_of(purge_keep(files, 3))
        out["data_dir_du_bytes_retain1"] = other + du_of(purge_keep(files, 1))
    return out


def load_user_bytes(znodes, parents, value_size, root=ROOT):
    """Bytes a client hands over to create the load's znodes: path + value of each key and
    parent (what "user bytes" means for write amplification)."""
    def digits_below(n):  # total decimal digits of 0 .. n-1
        total, lo, d = 0, 0, 1
        while lo < n:
            hi = min(n, 10 ** d)
            total += (hi - lo) * d
            lo, d = hi, d + 1
        return total
    pre = len(root) + len("/k")
    if parents:
        pre += len("/p")
        parent_digits = (znodes // parents) * digits_below(parents) + digits_below(znodes % parents)
        parent_bytes = parents * (len(root) + len("/p")) + digits_below(parents)
    else:
        parent_digits = parent_bytes = 0
    return znodes * (pre + value_size) + digits_below(znodes) + parent_digits + parent_bytes


ROCKSDB_WRITES = ("rocksdb_wal_bytes", "rocksdb_flush_write_bytes",
                  "rocksdb_compaction_write_bytes", "rocksdb_bytes_written")


def io_reading(srv):
    """What the server wrote so far: /proc/PID/io and, for storage.rocksdb, RocksDB's own
    counters from mntr (zk_rocksdb_*)."""
    m = benchlib.mntr(srv.port)
    return {"io": benchlib.proc_io(srv.pid),
            "rocksdb": {k: m.get("zk_" + k) for k in ROCKSDB_WRITES if "zk_" + k in m} or None,
            "t": time.monotonic()}


def write_amp(before, after, user_bytes):
    """Disk bytes written between two io_reading()s, per user byte."""
    out = {"user_bytes": user_bytes, "seconds": after["t"] - before["t"]}
    if before["io"] and after["io"]:
        for k in ("write_bytes", "cancelled_write_bytes", "wchar"):
            out[k] = after["io"].get(k, 0) - before["io"].get(k, 0)
        out["wa_proc"] = out["write_bytes"] / user_bytes if user_bytes else None
    if before["rocksdb"] and after["rocksdb"]:
        d = {k: after["rocksdb"].get(k, 0) - before["rocksdb"].get(k, 0) for k in ROCKSDB_WRITES}
        out["rocksdb"] = d
        disk = d["rocksdb_wal_bytes"] + d["rocksdb_flush_write_bytes"] + \
            d["rocksdb_compaction_write_bytes"]
        out["rocksdb_disk_bytes"] = disk
        out["wa_rocksdb"] = disk / user_bytes if user_bytes else None
        out["wa_rocksdb_internal"] = disk / d["rocksdb_bytes_written"] \
            if d["rocksdb_bytes_written"] else None
    return out


def jvm_gc(pid):
    """Full GC in the ZooKeeper JVM (jcmd), so that its RSS reflects live data more closely."""
    try:
        subprocess.run(["jcmd", str(pid), "GC.run"], capture_output=True, timeout=60)
        time.sleep(2)
        return True
    except (OSError, subprocess.TimeoutExpired):
        return False


def run_one(impl, a, corral_bin, bench_bin, log, label=None, corral_settings=None, heap="2g",
            restarts=1, around_load=None, settle_timeout=None):
    """One server: empty start, load, stop, restart(s). `impl` is a server label of
    benchlib.server_spec (zookeeper, corral, corral-<storage>); `corral_settings` defaults to
    --corral-setting. `around_load(srv)` returns a context manager wrapped around the load
    (rocksdb_bench.py's purger of old snapshots at 10M znodes). Also measured: what the server
    wrote to disk from before the load to the reading of its RSS after it, or with
    `settle_timeout` until it is quiet (at most that many seconds; background snapshots,
    flushes and compactions included; the stop and restarts then come after them), the
    dataDir in allocated bytes and the WARN/ERROR lines of its log."""
    label = label or impl
    if corral_settings is None:
        corral_settings = benchlib.parse_settings(a.corral_setting)
    kind, corral_settings = benchlib.server_spec(impl, corral_settings)
    r = {"impl": kind, "label": label, "corral_settings": corral_settings if kind == "corral" else {},
         "heap": heap if kind == "zookeeper" else None}
    srv = benchlib.Server(kind, corral_bin, base_dir=a.tmp_base, heap=heap,
                          settings={"4lw.commands.whitelist": "*"},
                          corral_settings=corral_settings)
    try:
        r["empty_start_ms"] = srv.start(ready_path="/", timeout=120)[0] * 1000
        log(f"{label}: empty start to first answer {r['empty_start_ms']:.1f} ms (pid {srv.pid})")
        time.sleep(1.0)
        r["rss_kb_empty"] = benchlib.proc_rss_kb(srv.pid)
        io0 = io_reading(srv)
        t0 = time.monotonic()
        with (around_load(srv) if around_load else contextlib.nullcontext()) as during:
            with benchlib.RssSampler(srv.pid, interval=0.2) as sampler:
                load = benchlib.run_bench(bench_bin, [
                    "--hosts", srv.hosts, "--op", "load", "--keys", a.znodes, "--parents",
                    a.parents, "--value-size", a.value_size, "--sessions", a.sessions,
                    "--inflight", a.inflight, "--server-pid", srv.pid, "--setup-timeout",
                    a.load_timeout], timeout=a.load_timeout + 120)
            r["load"] = load
            if "error" in load or load.get("setup_errors"):
                raise RuntimeError(f"load failed: {load}")
            r["load_s"] = time.monotonic() - t0
            r["load_creates_per_s"] = load.get("load_creates_per_s")
            r["rss_kb_peak_load"] = sampler.peak_kb
            time.sleep(1.0)
            r["rss_kb_loaded"] = benchlib.proc_rss_kb(srv.pid)
            n = a.znodes + a.parents
            r["rss_growth_bytes_per_znode"] = (r["rss_kb_loaded"] - r["rss_kb_empty"]) * 1024 / n
            if kind == "zookeeper" and jvm_gc(srv.pid):
                r["rss_kb_loaded_after_full_gc"] = benchlib.proc_rss_kb(srv.pid)
                r["rss_growth_bytes_per_znode_after_full_gc"] = (
                    (r["rss_kb_loaded_after_full_gc"] - r["rss_kb_empty"]) * 1024 / n)
            log(f"{label}: loaded {a.znodes} znodes in {r['load_s']:.1f} s "
                f"({r['load_creates_per_s']} creates/s); RSS {r['rss_kb_empty']} -> "
                f"{r['rss_kb_loaded']} kB = {r['rss_growth_bytes_per_znode']:.0f} B/znode")
            # background snapshots, RocksDB flushes and compactions belong to the load's writes
            r["settle_s"] = benchlib.wait_quiet(srv.pid, timeout=settle_timeout) \
                if settle_timeout else None
            r["load_writes"] = write_amp(io0, io_reading(srv),
                                         load_user_bytes(a.znodes, a.parents, a.value_size))
            if during is not None and hasattr(during, "report"):
                r["during_load"] = during.report()
        r["mntr_loaded"] = {k: v for k, v in benchlib.mntr(srv.port).items()
                            if k.startswith("zk_rocksdb_") or k in ("zk_znode_count",
                                                                     "zk_approximate_data_size")}
        w = r["load_writes"]
        r["load_write_bytes"], r["load_wa_proc"] = w.get("write_bytes"), w.get("wa_proc")
        log(f"{label}: load wrote {w.get('write_bytes', 0):,} B (/proc io) for "
            f"{w['user_bytes']:,} user bytes = {w.get('wa_proc') or 0:.2f}x"
            + (f"; RocksDB wal+flush+compaction {w['rocksdb_disk_bytes']:,} B = "
               f"{w['wa_rocksdb']:.2f}x" if "rocksdb_disk_bytes" in w else "")
            + ("" if not settle_timeout else f" (quiet after {r['settle_s']:.1f} s)"
               if r["settle_s"] is not None else f" (not quiet after {settle_timeout:g} s)"))
        t0 = time.monotonic()
        srv.stop(timeout=120)
        r["stop_s"] = time.monotonic() - t0
        r.update(snapshot_info(srv.data_dir))
        r["du_bytes_per_znode"] = r["data_dir_du_bytes"] / n
        last = key_path(a.znodes - 1, a.parents)
        r["restarts_ms"] = []
        for i in range(max(1, restarts)):
            if i:
                srv.stop(timeout=120)
            t, err = srv.start(ready_path=last, timeout=a.load_timeout)
            r["restarts_ms"].append(t * 1000)  # the first answer comes once the data is loaded
            if i == 0:
                r["restart_ms"] = t * 1000
                r["restart_get_err"] = err
                r["restored"] = err == 0
                if err != 0:
                    log(f"{label}: after restart get({last}) answered err {err}: data NOT restored")
                time.sleep(0.5)
                r["rss_kb_restarted"] = benchlib.proc_rss_kb(srv.pid)
        r["restart_ms_max"] = max(r["restarts_ms"])
        log(f"{label}: snapshot {r['newest_snapshot_bytes']} B, dataDir du "
            f"{r['data_dir_du_bytes']:,} B ({r['du_bytes_per_znode']:.0f} B/znode), restart to "
            f"get({last}) {', '.join(f'{x:.0f}' for x in r['restarts_ms'])} ms, RSS after "
            f"restart {r['rss_kb_restarted']} kB")
    except Exception as e:  # noqa: BLE001
        r["error"] = str(e)
        log(f"{label}: FAILED: {e}\n{srv.log_tail()}")
    finally:
        srv.stop(timeout=120)
        r["log_problems"] = benchlib.log_problems(
            srv.log_path, pattern=benchlib.ZK_PROBLEM_LINES if kind == "zookeeper"
            else benchlib.PROBLEM_LINES)
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
        ("dataDir allocated (du), bytes", "data_dir_du_bytes", 0, ""),
        ("written to disk from the load to 1 s after it (/proc/PID/io write_bytes), bytes",
         "load_write_bytes", 0, ""),
        ("… per user byte (path + value of the creates)", "load_wa_proc", 2, ""),
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
