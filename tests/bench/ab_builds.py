#!/usr/bin/python3
"""Before/after: the same load matrix as compare.py against two Corral builds, alternated
(A B A B ...), with each case's median and run-to-run spread per build.

An issue that changes the request path says "no case slower by more than the run-to-run
spread"; this is the command that checks it. Usage:

  /usr/bin/python3 tests/bench/ab_builds.py --baseline /path/to/old/build --candidate build \
      [--reps 3] [--duration 15] [--warmup 5] [--cases "get 1x1,set 32x8"] [--out FILE]
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import compare  # noqa: E402

# Higher is better for throughput; lower for everything else.
SHOWN = [("ops_per_s", "ops/s", True), ("p50", "p50 µs", False), ("p99", "p99 µs", False),
         ("p99_9", "p99.9 µs", False), ("server_cpu_us_per_op", "server CPU µs/op", False)]


def commit_of(build_dir):
    """The commit of the source tree a build dir sits in (build dirs live in their checkout)."""
    import subprocess
    done = subprocess.run(["git", "-C", os.path.dirname(build_dir), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)
    return done.stdout.strip() or "?"


def spread(values):
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def verdict(base_runs, cand_runs, metric, higher_better):
    """'slower' only when the candidate's median is worse than the baseline's by more than
    the larger of the two builds' run-to-run spreads (max - min)."""
    b = [r[metric] for r in base_runs if r.get(metric) is not None]
    c = [r[metric] for r in cand_runs if r.get(metric) is not None]
    if not b or not c:
        return "n/a"
    bm, cm = compare.median(b), compare.median(c)
    noise = max(max(b) - min(b), max(c) - min(c))
    worse = (bm - cm) if higher_better else (cm - bm)
    return "**slower**" if worse > noise else "within spread"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="Corral build dir before the change")
    ap.add_argument("--candidate", required=True, help="Corral build dir after the change")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=float, default=5.0)
    ap.add_argument("--duration", type=float, default=15.0)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--cases", help="comma list of compare.py case names (default all)")
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", help="markdown file to write (default: stdout only)")
    a = ap.parse_args()

    cases = compare.MATRIX if not a.cases else [c for c in compare.MATRIX if c[0] in a.cases.split(",")]
    builds = {"baseline": os.path.abspath(a.baseline), "candidate": os.path.abspath(a.candidate)}
    bins = {k: benchlib.find_corral_bin(v) for k, v in builds.items()}
    bench_bin = benchlib.find_bench_bin(None, builds["candidate"])
    runs = {k: {c[0]: [] for c in cases} for k in builds}
    t0 = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t0:7.1f}s] {msg}", file=sys.stderr, flush=True)

    timeout = a.warmup + a.duration + 300
    for rep in range(a.reps):
        for label in builds:
            srv = benchlib.Server("corral", bins[label], base_dir=a.tmp_base)
            try:
                srv.start(timeout=120)
                benchlib.run_bench(bench_bin, ["--hosts", srv.hosts, "--op", "get", "--sessions", 32,
                                               "--inflight", 8, "--keys", a.keys, "--value-size",
                                               a.value_size, "--warmup", 0, "--duration", 5],
                                   timeout=timeout)
                for name, op, sessions, inflight, extra in cases:
                    d = benchlib.run_bench(bench_bin, [
                        "--hosts", srv.hosts, "--op", op, "--sessions", sessions, "--inflight",
                        inflight, "--keys", a.keys, "--value-size", a.value_size, "--warmup",
                        a.warmup, "--duration", a.duration, "--server-pid", srv.pid] + extra,
                        timeout=timeout)
                    if "error" in d:
                        log(f"rep {rep + 1} {label} {name}: ERROR {d['error']}")
                        continue
                    f = compare.flat(d)
                    runs[label][name].append(f)
                    log(f"rep {rep + 1} {label:9s} {name:14s} {compare.fmt(f['ops_per_s']):>9s} ops/s "
                        f"p50 {compare.fmt(f['p50'])} p99 {compare.fmt(f['p99'])} "
                        f"cpu {compare.fmt(f['server_cpu_us_per_op'])} us/op")
            finally:
                srv.stop()
                srv.cleanup()

    lines = ["# Corral before/after (ab_builds.py)\n",
             f"* Baseline `{bins['baseline']}` ({commit_of(builds['baseline'])}), "
             f"candidate `{bins['candidate']}` ({commit_of(builds['candidate'])}).",
             f"* {a.reps} repetitions alternated, warmup {a.warmup:g} s + {a.duration:g} s per case; "
             "median [min–max] per build; 'slower' = worse by more than the larger spread.\n",
             "| case | metric | baseline | candidate | candidate/baseline | verdict |",
             "|---|---|---:|---:|---:|---|"]
    for name, *_ in cases:
        for metric, title, higher in SHOWN:
            cell = {}
            for label in builds:
                values = [r[metric] for r in runs[label][name]]
                lo, hi = spread(values)
                cell[label] = (f"{compare.fmt(compare.median(values))} [{compare.fmt(lo)}–{compare.fmt(hi)}]"
                               if lo is not None else "n/a")
            bm = compare.median([r[metric] for r in runs["baseline"][name]])
            cm = compare.median([r[metric] for r in runs["candidate"][name]])
            lines.append(f"| {name} | {title} | {cell['baseline']} | {cell['candidate']} | "
                         f"{compare.fmt(compare.ratio(cm, bm), 2)} | "
                         f"{verdict(runs['baseline'][name], runs['candidate'][name], metric, higher)} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
