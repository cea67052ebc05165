#!/usr/bin/python3
"""Writes while snapshots run, on a big tree: Corral vs ZooKeeper 3.8 (issue 12's measurements).

For each case in turn (a fresh server, same settings as compare.py: tickTime=2000, forceSync=yes,
dataDir in a fresh temp dir on the same disk):
  1. load --znodes znodes of --value-size bytes (corral-bench --op load), wait until the server
     is idle (background snapshots done), read the steady RSS;
  2. set 32x8 for --duration s: the tree keeps its size while snapCount triggers snapshots;
     RSS sampled every 50 ms -> the peak while snapshotting, as a multiple of the steady RSS;
  3. create 32x8 for --duration s: the tree grows past --znodes; ops/s, p99.9 latency and server
     CPU per create. The case `corral-nosnap` (snapCount=2^31-1, snapSizeLimitInKb=-1) is the
     same binary without snapshots: the p99.9 reference.
Writes RESULTS-snapshots.md and snapshots-raw.json into --out.

  /usr/bin/python3 tests/bench/snapshot_bench.py --corral-build build                 # 1.2M znodes
  /usr/bin/python3 tests/bench/snapshot_bench.py --corral-build build --znodes 200000 # smoke
"""
import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

CASES = {
    "corral": ("corral", {}),
    "corral-nosnap": ("corral", {"snapCount": 2147483647, "snapSizeLimitInKb": -1}),
    "zookeeper": ("zookeeper", {}),
}


def run_case(name, a, corral_bin, bench_bin, log):
    impl, settings = CASES[name]
    r = {"case": name, "impl": impl, "settings": settings}
    srv = benchlib.Server(impl, corral_bin, base_dir=a.tmp_base, settings=settings)
    try:
        srv.start(ready_path="/", timeout=120)
        time.sleep(1.0)
        r["rss_kb_empty"] = benchlib.proc_rss_kb(srv.pid)
        common = ["--hosts", srv.hosts, "--parents", a.parents, "--value-size", a.value_size,
                  "--server-pid", srv.pid]
        load = benchlib.run_bench(bench_bin, common + [
            "--op", "load", "--keys", a.znodes, "--sessions", 16, "--inflight", 64,
            "--setup-timeout", a.load_timeout], timeout=a.load_timeout + 120)
        if "error" in load or load.get("setup_errors"):
            raise RuntimeError(f"load failed: {load}")
        r["load_creates_per_s"] = load.get("load_creates_per_s")
        r["idle_after_load"] = benchlib.wait_idle(srv.pid)
        r["rss_kb_steady"] = benchlib.proc_rss_kb(srv.pid)
        r["rss_growth_bytes_per_znode"] = (r["rss_kb_steady"] - r["rss_kb_empty"]) * 1024 / (a.znodes + a.parents)
        log(f"{name}: {a.znodes} znodes loaded ({r['load_creates_per_s']} creates/s), steady RSS "
            f"{r['rss_kb_steady']} kB, growth {r['rss_growth_bytes_per_znode']:.0f} B/znode")
        for op in ("set", "create"):
            with benchlib.RssSampler(srv.pid) as sampler:
                res = benchlib.run_bench(bench_bin, common + [
                    "--op", op, "--keys", a.znodes, "--sessions", 32, "--inflight", 8,
                    "--warmup", 0, "--duration", a.duration, "--setup-timeout", a.load_timeout],
                    timeout=a.load_timeout + a.duration + 120)
            if "error" in res:
                raise RuntimeError(f"{op} failed: {res}")
            res["rss_kb_peak"] = sampler.peak_kb
            res["rss_peak_over_steady"] = sampler.peak_kb / r["rss_kb_steady"]
            r[op] = res
            lat = res.get("latency_us", {})
            log(f"{name}: {op} 32x8 {res['ops_per_s']:.0f} ops/s, p99.9 {lat.get('p99_9')} us, "
                f"max {lat.get('max')} us, server CPU {res.get('server_cpu_us_per_op')} us/op, "
                f"RSS peak {sampler.peak_kb} kB ({res['rss_peak_over_steady']:.2f}x steady)")
            benchlib.wait_idle(srv.pid)
        r["snapshot_files"] = sum(1 for _, _, fs in os.walk(srv.data_dir) for f in fs if f.startswith("snapshot."))
        srv.stop(timeout=120)
    except Exception as e:  # noqa: BLE001
        r["error"] = str(e)
        log(f"{name}: FAILED: {e}\n{srv.log_tail()}")
    finally:
        srv.cleanup(keep=a.keep_dirs)
    return r


def fmt(v, nd=0):
    if v is None:
        return "n/a"
    return f"{v:,.{nd}f}"


def write_results(a, results, out):
    by = {r["case"]: r for r in results}
    lines = ["# Writes during snapshots on a big tree — Corral vs Apache ZooKeeper 3.8", "",
             f"* {a.znodes:,} znodes of {a.value_size} B under {a.parents} parents loaded first; then "
             f"set 32x8 and create 32x8 for {a.duration} s each (corral-bench, one thread).",
             f"* Date: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}; "
             f"`/usr/bin/python3 tests/bench/snapshot_bench.py {' '.join(sys.argv[1:])}`.",
             f"* Machine: {benchlib.machine_info().get('cpu_model', '')}, nproc {os.cpu_count()}.",
             "* `corral-nosnap`: the same Corral with snapshots off (snapCount=2^31-1), the p99.9 reference.",
             "",
             "| case | RSS growth B/znode | set ops/s | set p99.9 µs | peak RSS during set (× steady) | "
             "create ops/s | create p99.9 µs | create max µs | server CPU µs/create | snapshots |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in ("corral", "corral-nosnap", "zookeeper"):
        r = by.get(name)
        if not r:
            continue
        if "error" in r:
            lines.append(f"| {name} | failed: {r['error'][:80]} |||||||||")
            continue
        s, c = r["set"], r["create"]
        lines.append(
            f"| {name} | {fmt(r['rss_growth_bytes_per_znode'])} | {fmt(s['ops_per_s'])} | "
            f"{fmt(s['latency_us']['p99_9'])} | {s['rss_peak_over_steady']:.2f} | {fmt(c['ops_per_s'])} | "
            f"{fmt(c['latency_us']['p99_9'])} | {fmt(c['latency_us']['max'])} | "
            f"{fmt(c.get('server_cpu_us_per_op'), 1)} | {r.get('snapshot_files')} |")
    lines.append("")
    cor, nos, zk = by.get("corral"), by.get("corral-nosnap"), by.get("zookeeper")
    if cor and nos and zk and not any("error" in x for x in (cor, nos, zk)):
        lines += [
            "| goal (issue 12) | value | bound | met |", "|---|---:|---:|:-:|",
            f"| create p99.9 with snapshots / without | {cor['create']['latency_us']['p99_9'] / nos['create']['latency_us']['p99_9']:.2f} | ≤ 2 | "
            f"{'yes' if cor['create']['latency_us']['p99_9'] <= 2 * nos['create']['latency_us']['p99_9'] else '**no**'} |",
            f"| server CPU per create, Corral / ZooKeeper | {cor['create']['server_cpu_us_per_op'] / zk['create']['server_cpu_us_per_op']:.2f} | ≤ 0.25 | "
            f"{'yes' if cor['create']['server_cpu_us_per_op'] <= 0.25 * zk['create']['server_cpu_us_per_op'] else '**no**'} |",
            f"| peak RSS while snapshotting / steady (set load, {a.znodes:,} znodes) | {cor['set']['rss_peak_over_steady']:.2f} | ≤ 1.2 | "
            f"{'yes' if cor['set']['rss_peak_over_steady'] <= 1.2 else '**no**'} |",
            f"| create throughput, Corral / ZooKeeper | {cor['create']['ops_per_s'] / zk['create']['ops_per_s']:.2f} | | |",
            ""]
    with open(os.path.join(out, "RESULTS-snapshots.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(out, "snapshots-raw.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--znodes", type=int, default=1_200_000)
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--load-timeout", type=float, default=1800)
    ap.add_argument("--cases", default="corral,corral-nosnap,zookeeper")
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", default=benchlib.BENCH_DIR)
    ap.add_argument("--keep-dirs", action="store_true")
    a = ap.parse_args()
    corral_bin = benchlib.find_corral_bin(a.corral_build)
    bench_bin = benchlib.find_bench_bin(a.bench_bin, a.corral_build)

    def log(msg):
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    results = [run_case(name, a, corral_bin, bench_bin, log) for name in a.cases.split(",")]
    write_results(a, results, a.out)
    log(f"wrote {os.path.join(a.out, 'RESULTS-snapshots.md')}")
    return 0 if not any("error" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
