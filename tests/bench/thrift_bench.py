#!/usr/bin/python3
"""frontend.thrift vs frontend.jute on the same Corral server: throughput, latency and server CPU
per op of the same load through each front end.

One corral-server (memlog, the matrix's settings: tickTime=2000, forceSync=yes) serves both
ports (frontends=jute,thrift, thrift.protocol=binary); corral-bench runs each case through
ZooKeeper's protocol and through Thrift (--protocol thrift: framed, strict binary, the same
requests), alternating which goes first per repetition, a fresh server per repetition. Medians;
the ratio is Thrift / jute. The issue-17 goal: Thrift's server CPU per op within 1.3x of jute's.

  /usr/bin/python3 tests/bench/thrift_bench.py --corral-build build --quick   # ~2 minutes
  /usr/bin/python3 tests/bench/thrift_bench.py --corral-build build           # ~10 minutes

Writes RESULTS-thrift.md and thrift-raw.json into --out; compare.py runs it as its Thrift step
(--thrift) and puts the summary table into RESULTS.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

# name, op, sessions, inflight, extra corral-bench args
CASES = [
    ("get 32x8", "get", 32, 8, []),
    ("set 32x8", "set", 32, 8, []),
    ("mixed90 32x8", "mixed", 32, 8, ["--read-pct", "90"]),
    ("multi4 32x8", "multi", 32, 8, ["--multi-ops", "4"]),
    ("get 1x1", "get", 1, 1, []),
    ("set 1x1", "set", 1, 1, []),
]
PROTOCOLS = ["jute", "thrift"]
METRICS = ["ops_per_s", "p50", "p99", "server_cpu_us_per_op", "error_count"]
CPU_GOAL = 1.3  # Thrift's server CPU per op at most this many times jute's


def flat(d):
    lat = d.get("latency_us") or {}
    return {"ops_per_s": d.get("ops_per_s"), "p50": lat.get("p50"), "p99": lat.get("p99"),
            "server_cpu_us_per_op": d.get("server_cpu_us_per_op"),
            "error_count": d.get("error_count", 0) + d.get("connections_lost", 0)}


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run(a, log):
    reps = a.reps or (1 if a.quick else 3)
    warmup = a.warmup if a.warmup is not None else (1.0 if a.quick else 3.0)
    duration = a.duration if a.duration is not None else (3.0 if a.quick else 10.0)
    corral_bin = benchlib.find_corral_bin(os.path.abspath(a.corral_build))
    bench_bin = benchlib.find_bench_bin(a.bench_bin, os.path.abspath(a.corral_build))
    settings = benchlib.parse_settings(a.corral_setting or [])
    raw = []
    for rep in range(reps):
        thrift_port = benchlib.free_port()
        srv = benchlib.Server("corral", corral_bin, base_dir=a.tmp_base, corral_settings={
            **settings, "frontends": "jute,thrift", "thrift.port": thrift_port,
            "thrift.address": "127.0.0.1", "thrift.protocol": "binary"})
        hosts = {"jute": srv.hosts, "thrift": f"127.0.0.1:{thrift_port}"}
        try:
            srv.start(timeout=120)
            log(f"rep {rep + 1}/{reps}: server pid {srv.pid}, jute {srv.port}, thrift {thrift_port}")
            prime = benchlib.run_bench(bench_bin, [
                "--hosts", hosts["jute"], "--op", "get", "--keys", a.keys, "--value-size",
                a.value_size, "--warmup", 0, "--duration", 1 if a.quick else 3],
                timeout=600)
            if "error" in prime:
                raise RuntimeError(f"prime failed: {prime['error']}")
            order = PROTOCOLS if rep % 2 == 0 else PROTOCOLS[::-1]
            for name, op, sessions, inflight, extra in CASES:
                for protocol in order:
                    d = benchlib.run_bench(bench_bin, [
                        "--hosts", hosts[protocol], "--protocol", protocol, "--op", op,
                        "--sessions", sessions, "--inflight", inflight, "--keys", a.keys,
                        "--value-size", a.value_size, "--warmup", warmup, "--duration", duration,
                        "--server-pid", srv.pid, "--skip-setup"] + extra,
                        timeout=warmup + duration + 120)
                    d.update({"case": name, "protocol": protocol, "rep": rep + 1})
                    raw.append(d)
                    if "error" in d:
                        log(f"  {name} {protocol}: ERROR {d['error']}")
                        continue
                    f = flat(d)
                    log(f"  {name:13s} {protocol:6s} {f['ops_per_s']:>10.0f} ops/s  p50 {f['p50']:.0f} "
                        f"p99 {f['p99']:.0f} us  server {f['server_cpu_us_per_op']:.2f} us/op  "
                        f"errors {f['error_count']}")
        finally:
            srv.cleanup(keep=a.keep_dirs)
    return {"reps": reps, "warmup": warmup, "duration": duration, "medians": aggregate(raw),
            "raw": raw, "quick": a.quick}


def aggregate(raw):
    """Medians per case and protocol from the raw runs."""
    runs = {(c[0], p): [] for c in CASES for p in PROTOCOLS}
    for d in raw:
        if "error" not in d and (d.get("case"), d.get("protocol")) in runs:
            runs[(d["case"], d["protocol"])].append({**flat(d), "rep": d["rep"]})
    med = {f"{name}|{p}": {m: median([r[m] for r in runs[(name, p)]]) for m in METRICS}
           for (name, p) in runs}
    # The CPU ratio per repetition (both protocols on the same server, one after the other),
    # then its median: steadier on a shared machine than the ratio of the two medians.
    for name, *_ in CASES:
        jute_cpu = {r["rep"]: r["server_cpu_us_per_op"] for r in runs[(name, "jute")]}
        pairs = [r["server_cpu_us_per_op"] / jute_cpu[r["rep"]] for r in runs[(name, "thrift")]
                 if jute_cpu.get(r["rep"]) and r["server_cpu_us_per_op"] is not None]
        med[f"{name}|thrift"]["cpu_ratio"] = median(pairs)
    return med


def ratio(t, j):
    return t / j if t is not None and j else None


def summary_lines(result):
    """The table of RESULTS.md and RESULTS-thrift.md: each case, jute vs Thrift."""
    med = result["medians"]
    L = ["| case | jute ops/s | Thrift ops/s | ratio | jute p50 / p99 µs | Thrift p50 / p99 µs "
         "| jute CPU µs/op | Thrift CPU µs/op | CPU ratio, per-repetition median (goal ≤ 1.3) |",
         "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, *_ in CASES:
        j, t = med.get(f"{name}|jute"), med.get(f"{name}|thrift")
        if not j or not t or j["ops_per_s"] is None or t["ops_per_s"] is None:
            L.append(f"| {name} | – | – | – | – | – | – | – | – |")
            continue
        cpu = t.get("cpu_ratio") or ratio(t["server_cpu_us_per_op"], j["server_cpu_us_per_op"])
        verdict = "" if cpu is None else (" ✓" if cpu <= CPU_GOAL else " ✗")
        L.append(f"| {name} | {j['ops_per_s']:.0f} | {t['ops_per_s']:.0f} | "
                 f"{ratio(t['ops_per_s'], j['ops_per_s']):.2f} | {j['p50']:.0f} / {j['p99']:.0f} | "
                 f"{t['p50']:.0f} / {t['p99']:.0f} | {j['server_cpu_us_per_op']:.2f} | "
                 f"{t['server_cpu_us_per_op']:.2f} | {cpu:.2f}{verdict} |")
    return L


def write_results(a, result, machine, elapsed):
    path = os.path.join(a.out, "RESULTS-thrift.md")
    L = ["# frontend.thrift vs frontend.jute (thrift_bench.py)\n",
         f"One corral-server serving both front ends (memlog, forceSync=yes); corral-bench with "
         f"the same requests through each (`--protocol jute|thrift`), {result['reps']} "
         f"repetition(s), {result['warmup']:.0f} s warmup + {result['duration']:.0f} s measured "
         f"per run, alternating which protocol goes first, medians. Ratios are Thrift / jute. "
         f"{elapsed / 60:.0f} min{', quick mode' if result['quick'] else ''}.\n",
         f"Machine: {machine}\n"]
    L += summary_lines(result)
    L.append("")
    L.append("Raw runs: `thrift-raw.json`. Command: `/usr/bin/python3 tests/bench/thrift_bench.py "
             "--corral-build build`.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")
    return path


def run_step(a, log):
    """Run this script from compare.py (--thrift); returns its summary for RESULTS.md."""
    cmd = ["/usr/bin/python3", os.path.abspath(__file__), "--corral-build", a.corral_build,
           "--tmp-base", a.tmp_base, "--out", a.out, "--keys", str(a.keys), "--value-size",
           str(a.value_size)]
    if a.quick:
        cmd.append("--quick")
    for opt, val in (("--reps", a.reps), ("--warmup", a.warmup), ("--duration", a.duration),
                     ("--bench-bin", a.bench_bin)):
        if val is not None:
            cmd += [opt, str(val)]
    for setting in a.corral_setting or []:
        cmd += ["--corral-setting", setting]
    log(f"thrift step: {' '.join(cmd)}")
    done = subprocess.run(cmd, check=False)
    raw_path = os.path.join(a.out, "thrift-raw.json")
    if done.returncode != 0 or not os.path.exists(raw_path):
        log(f"thrift step failed (exit {done.returncode})")
        return None
    with open(raw_path) as f:
        return json.load(f)


def results_section(result):
    L = ["## frontend.thrift vs frontend.jute (thrift_bench.py)\n",
         "The same load through each front end of one Corral server; details in "
         "`RESULTS-thrift.md`.\n"]
    return L + summary_lines(result) + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--quick", action="store_true", help="1 repetition, 1 s warmup, 3 s per run")
    ap.add_argument("--reps", type=int, help="repetitions [3; quick 1]")
    ap.add_argument("--warmup", type=float, help="warmup seconds per run [3; quick 1]")
    ap.add_argument("--duration", type=float, help="measured seconds per run [10; quick 3]")
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", default=benchlib.BENCH_DIR)
    ap.add_argument("--corral-setting", action="append", metavar="KEY=VALUE")
    ap.add_argument("--keep-dirs", action="store_true")
    ap.add_argument("--from-raw", metavar="JSON", help="no runs: re-render the results of a "
                    "previous run's thrift-raw.json")
    a = ap.parse_args()
    t0 = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    if a.from_raw:
        with open(a.from_raw) as f:
            result = json.load(f)
        result["medians"] = aggregate(result["raw"])
        elapsed = result.get("elapsed_s") or 0
    else:
        result = run(a, log)
        elapsed = time.monotonic() - t0
    os.makedirs(a.out, exist_ok=True)
    result["elapsed_s"] = elapsed
    with open(os.path.join(a.out, "thrift-raw.json"), "w") as f:
        json.dump(result, f, indent=1)
    log(f"wrote {write_results(a, result, benchlib.machine_info(), elapsed)}")
    print("\n".join(summary_lines(result)))


if __name__ == "__main__":
    main()
