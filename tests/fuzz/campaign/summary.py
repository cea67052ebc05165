#!/usr/bin/python3
"""Adds up a fuzz campaign's legs (run.sh logs): executions, average rate, edge coverage
(libFuzzer's `cov`, instrumented edges reached) and features (`ft`) per target, and the kept
corpus. `--execs TARGET` prints only that target's executions (run.sh uses it)."""
import argparse
import glob
import os
import re

TARGETS = ["txn_log", "snapshot", "config", "election", "quorum", "admin_http",
           "frontend_jute", "frontend_thrift"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def legs(work, target):
    for log in sorted(glob.glob(os.path.join(work, target, "run*.log"))):
        text = open(log, errors="replace").read()
        # The final stats of a finished leg; else the last status line of a leg that was stopped.
        done = re.findall(r"stat::number_of_executed_units: (\d+)", text)
        status = re.findall(r"^#(\d+)\s+\S+\s+cov: (\d+) ft: (\d+).*?exec/s: (\d+)", text, re.M)
        rate = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", text)
        inited = re.findall(r"^#\d+\s+INITED cov: (\d+)", text, re.M)
        if not done and not status:
            continue
        execs = int(done[-1]) if done else int(status[-1][0])
        cov, ft = (int(status[-1][1]), int(status[-1][2])) if status else (None, None)
        per_sec = int(rate[-1]) if rate else (int(status[-1][3]) if status else 0)
        yield execs, per_sec, cov, ft, int(inited[0]) if inited else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", default="/var/tmp/corral-fuzz")
    parser.add_argument("--execs", metavar="TARGET")
    parser.add_argument("targets", nargs="*")
    args = parser.parse_args()
    if args.execs:
        print(sum(execs for execs, *_ in legs(args.work, args.execs)))
        return
    print("| target | legs | executions | exec/s | edges (cov): seeds → end | features (ft) | kept corpus |")
    print("|---|---|---|---|---|---|---|")
    for target in args.targets or TARGETS:
        rows = list(legs(args.work, target))
        execs = sum(r[0] for r in rows)
        secs = sum(r[0] / max(r[1], 1) for r in rows)
        cov = max((r[2] for r in rows if r[2] is not None), default=None)
        ft = max((r[3] for r in rows if r[3] is not None), default=None)
        seeds = next((r[4] for r in rows if r[4] is not None), None)
        corpus = os.path.join(ROOT, "tests", "fuzz", target, "corpus")
        files = os.listdir(corpus) if os.path.isdir(corpus) else []
        size = sum(os.path.getsize(os.path.join(corpus, f)) for f in files)
        print(f"| {target} | {len(rows)} | {execs:,} | {int(execs / secs) if secs else 0:,} | {seeds} → {cov} | {ft} | "
              f"{len(files)} files, {size / 1024:.0f} KB |")


if __name__ == "__main__":
    main()
