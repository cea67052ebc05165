#!/usr/bin/python3
"""Observers side by side: Corral vs Apache ZooKeeper 3.8, same shapes, same load generator.

Reuses ensemble_bench.py's ensembles (same settings: tickTime=2000, initLimit=10, syncLimit=5,
forceSync=yes, maxClientCnxns=0, AdminServer off, `java -Xmx2g` per ZooKeeper member). Every
member on its own loopback address (sid N on 127.0.0.(N+1), ports distinct too) and
`observerMasterPort` set on every member (followers serve the observers; the leader's fan-out
stays at 2 followers). Observers: `peerType=observer` + `:observer` on their server.N line in
every member's file; syncEnabled left at its default (true: observers log txns too).

Per repetition (--reps; A B A B ..., a fresh ensemble and dataDirs each time), for each observer
count in --observer-counts (0, 2, 4): 3 voters + N observers, prime (get 32x8 over all members:
creates the keys, warms ZooKeeper's JIT), then
  * `set 32x8` with the sessions on the 3 voters only: ops/s, p50/p99, the leader's CPU per
    write and the CPU of all members per write;
  * with 2 observers also `get 32x8` with the sessions on the 2 observers only: server CPU per
    read summed over the observer processes and over all members.
Then once per server (--join-znodes): 3 voters (a 4th member, an observer, is in every file but
not started), load --join-znodes znodes of 100 B over the voters, then --join-tries times:
spawn the observer on an empty dataDir and time spawn -> `srvr` Mode: observer with the
leader's Zxid -> a getData of the last key answered with err 0 on it (sync mode and master read
from its log / mntr); stop it and wipe its dataDir.
Writes RESULTS-observers.md and observers-raw.json into --out.

  /usr/bin/python3 tests/bench/observer_bench.py --corral-build build --quick   # ~3 min
  /usr/bin/python3 tests/bench/observer_bench.py --corral-build build           # ~20 min
"""
import argparse
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import ensemble_bench as eb  # noqa: E402
from ensemble_bench import fmt, median, parse_srvr, ratio  # noqa: E402

VOTERS = 3
READ_OBSERVERS = 2  # the read case runs on the ensemble with this many observers


def new_ensemble(impl, a, corral_bin, name, observers):
    ens = eb.Ensemble(impl, corral_bin, a.tmp_base, name, size=VOTERS, observers=observers,
                      distinct_hosts=True,
                      corral_extra=benchlib.parse_settings(a.corral_setting))
    used = {p for m in ens.members for p in (m.port, m.quorum_port, m.election_port)}
    port = next(p for p in (eb.reserve_ports(1)[0] for _ in range(100)) if p not in used)
    ens.settings["observerMasterPort"] = port  # one number, each follower on its own address
    return ens


def mntr(m):
    out = {}
    for line in (eb.four_letter(m.port, "mntr", host=m.host) or "").splitlines():
        k, _, v = line.partition("\t")
        out[k.strip()] = v.strip()
    return out


def master_of(m):
    """The sid an observer learns from: mntr zk_observer_master_id, else ZooKeeper's log line
    `Observing new leader sid=N`."""
    v = mntr(m).get("zk_observer_master_id")
    if v and v.lstrip("-").isdigit():
        return int(v)
    found = re.findall(r"Observing new leader sid=(\d+)", m.log_since_start())
    return int(found[-1]) if found else None


def run_case(ens, op, members, a, bench_bin, check_pid):
    """corral-bench 32x8 on `members`, every member's CPU sampled; adds the leader's, the
    voters' and the observers' CPU per op."""
    args = ["--hosts", ens.hosts(members), "--op", op, "--sessions", 32, "--inflight", 8,
            "--warmup", a.warmup, "--duration", a.duration, "--server-pid", check_pid,
            "--keys", a.keys, "--value-size", a.value_size, "--threads", a.threads]
    d = eb.run_bench_cpu(bench_bin, args, ens.pids(), a.warmup + a.duration + 300)
    d["member_sids"] = [m.sid for m in members]
    per, ops = d.get("members_cpu_s"), d.get("ops")
    if per and ops and all(x is not None for x in per):
        roles = {m.sid: m.role for m in ens.members}
        lead = next((i for i, m in enumerate(ens.members) if m.pid == check_pid), None)
        sids = [m.sid for m in ens.members]

        def us(sel):
            xs = [per[i] for i, s in enumerate(sids) if sel(s)]
            return sum(xs) * 1e6 / ops if xs else None
        d["observers_cpu_us_per_op"] = us(lambda s: roles[s] == "observer")
        d["voters_cpu_us_per_op"] = us(lambda s: roles[s] == "participant")
        d["all_cpu_us_per_op"] = us(lambda s: True)
        if op == "set" and lead is not None:
            d["leader_cpu_us_per_op"] = per[lead] * 1e6 / ops
    return d


def summary_of(d):
    s = eb.bench_summary(d)
    for k in ("observers_cpu_us_per_op", "voters_cpu_us_per_op", "all_cpu_us_per_op",
              "leader_cpu_us_per_op"):
        s[k] = d.get(k)
    return s


def run_ensemble(impl, rep, n, a, corral_bin, bench_bin, log):
    ens = new_ensemble(impl, a, corral_bin, f"r{rep}o{n}", n)
    out = {"impl": impl, "rep": rep, "observers": n, "cases": {},
           "observer_master_port": ens.settings["observerMasterPort"]}
    try:
        t0 = time.monotonic()
        modes = ens.start(180)
        out["start_s"] = time.monotonic() - t0
        leader = ens.leader()
        voters = [m for m in ens.members if m.role == "participant"]
        obs = [m for m in ens.members if m.role == "observer"]
        out["leader_sid"] = leader.sid
        out["masters"] = {m.sid: master_of(m) for m in obs}
        out["hosts"] = {m.sid: m.hosts for m in ens.members}
        log(f"rep {rep} {impl} +{n} observers: serving after {out['start_s']:.1f} s, modes "
            f"{modes}, observer -> master {out['masters']}")
        prime = benchlib.run_bench(bench_bin, [
            "--hosts", ens.hosts(), "--op", "get", "--sessions", 32, "--inflight", 8,
            "--warmup", 0, "--duration", a.prime, "--keys", a.keys, "--value-size",
            a.value_size, "--threads", a.threads], timeout=a.prime + 300)
        if "error" in prime or prime.get("rc"):
            log(f"  prime: {prime.get('error') or prime.get('stderr')}")
        cases = [("set 32x8 on voters", "set", voters, leader.pid)]
        if n == READ_OBSERVERS:
            cases.append(("get 32x8 on observers", "get", obs, obs[0].pid))
        for name, op, members, pid in cases:
            d = run_case(ens, op, members, a, bench_bin, pid)
            out["cases"][name] = d
            if "error" in d:
                log(f"  {name}: ERROR {d['error']}")
                continue
            s = summary_of(d)
            log(f"  {name:22s} {fmt(s['ops_per_s']):>9s} ops/s  p50 {fmt(s['p50'])} p99 "
                f"{fmt(s['p99'])} us  CPU us/op: leader {fmt(s['leader_cpu_us_per_op'], 2)} "
                f"observers {fmt(s['observers_cpu_us_per_op'], 2)} all "
                f"{fmt(s['all_cpu_us_per_op'], 2)} (per member s "
                f"{[round(x or 0, 2) for x in d.get('members_cpu_s', [])]})  errors "
                f"{s['errors']} lost {s['lost']}")
            if d.get("rc") or d.get("stderr"):
                log(f"    corral-bench rc {d.get('rc')}: {d.get('stderr', '')[-300:]}")
        out["modes_after"] = ens.modes()
    except Exception as e:  # noqa: BLE001 - keep going with the other server
        out["error"] = str(e)
        log(f"rep {rep} {impl} +{n}: FAILED: {e}")
    finally:
        out["log_excerpts"] = eb.grep_logs(ens)
        ens.cleanup(keep=a.keep_dirs)
    return out


# ------------------------------------------------------------------ a new observer at 1M znodes
def join_try(ens, obs, a, timeout):
    leader = ens.leader()
    zl = parse_srvr(leader.srvr()).get("Zxid")
    obs.wipe()
    t0 = obs.start()
    r = {"observer_sid": obs.sid, "leader_sid": leader.sid, "leader_zxid": zl}
    n, parents = a.join_znodes, a.parents
    last = f"{eb.ROOT}/p{(n - 1) % parents}/k{n - 1}" if parents else f"{eb.ROOT}/k{n - 1}"
    end = t0 + timeout
    while time.monotonic() < end:
        if not obs.alive():
            r["error"] = f"new observer exited\n{obs.log_tail()}"
            return r
        if "srvr_ms" not in r:
            text = obs.srvr(timeout=5.0)
            info = parse_srvr(text)
            t = time.monotonic()
            if text and "up_ms" not in r:
                r["up_ms"] = (t - t0) * 1000  # the client port answers (serving or not)
            z = info.get("Zxid")
            if info.get("Mode") == "observer" and z and int(z, 16) >= int(zl, 16):
                r["srvr_ms"] = (t - t0) * 1000
        if "srvr_ms" in r:
            err = benchlib.probe_get(obs.port, last, timeout=5.0, host=obs.host)
            if err == 0:
                r["serving_ms"] = (time.monotonic() - t0) * 1000
                break
            r["last_key_err"] = err
        time.sleep(0.02)
    else:
        r["error"] = f"not an observer at {zl} reading the last key within {timeout}s: " \
                     f"{obs.srvr()}"
        return r
    r["last_key_err"] = 0
    r["sync_mode"] = eb.sync_mode(obs, leader)
    r["master_sid"] = master_of(obs)
    r["rss_kb_new_observer"] = benchlib.proc_rss_kb(obs.pid)
    return r


def run_join(impl, a, corral_bin, bench_bin, log):
    ens = new_ensemble(impl, a, corral_bin, "join", 1)
    voters, obs = ens.members[:VOTERS], ens.members[VOTERS]
    out = {"impl": impl, "znodes": a.join_znodes, "tries": []}
    try:
        for m in voters:
            m.start()
        ens.wait_serving(180)
        t0 = time.monotonic()
        load = benchlib.run_bench(bench_bin, [
            "--hosts", ens.hosts(voters), "--op", "load", "--keys", a.join_znodes, "--parents",
            a.parents, "--value-size", a.value_size, "--sessions", 16, "--inflight", 64,
            "--setup-timeout", a.load_timeout], timeout=a.load_timeout + 120)
        out["load"] = load
        out["load_s"] = time.monotonic() - t0
        if "error" in load or load.get("setup_errors") or load.get("rc"):
            raise RuntimeError(f"load failed: {json.dumps(load)[:600]}")
        out["load_creates_per_s"] = load.get("load_creates_per_s")
        end = time.monotonic() + 120
        while time.monotonic() < end:  # every voter at the leader's zxid
            zx = {m.sid: parse_srvr(m.srvr()).get("Zxid") for m in voters}
            if len(set(zx.values())) == 1 and None not in zx.values():
                break
            time.sleep(0.2)
        time.sleep(2.0)  # background snapshots of the load
        out["rss_kb_voters"] = {m.sid: benchlib.proc_rss_kb(m.pid) for m in voters}
        log(f"join {impl}: loaded {a.join_znodes:,} znodes in {out['load_s']:.1f} s "
            f"({fmt(out['load_creates_per_s'])} creates/s); RSS kB {out['rss_kb_voters']}")
        for k in range(a.join_tries):
            r = join_try(ens, obs, a, a.load_timeout)
            out["tries"].append(r)
            log(f"  join {k + 1}/{a.join_tries}: new observer {obs.sid} serving the last key "
                f"after {fmt(r.get('serving_ms'))} ms (srvr observer at {r.get('leader_zxid')} "
                f"after {fmt(r.get('srvr_ms'))} ms, port up {fmt(r.get('up_ms'))} ms; sync "
                f"{r.get('sync_mode')} from member {r.get('master_sid')}) {r.get('error', '')}")
            obs.stop()
            ens.wait_serving(120)
    except Exception as e:  # noqa: BLE001
        out["error"] = str(e)
        log(f"join {impl}: FAILED: {e}")
    finally:
        out["log_excerpts"] = eb.grep_logs(ens)
        ens.cleanup(keep=a.keep_dirs)
    return out


# ------------------------------------------------------------------ summary + report
def summarize(runs, joins, impls):
    s = {}
    for impl in impls:
        mine = [r for r in runs if r["impl"] == impl]
        cases = {}
        for r in mine:
            for name, d in r["cases"].items():
                if "error" not in d:
                    key = f"{name} +{r['observers']}" if name.startswith("set") else name
                    cases.setdefault(key, []).append(summary_of(d))
        med = {}
        for key, xs in cases.items():
            med[key] = {k: median([x[k] for x in xs]) for k in xs[0]}
            med[key]["n"] = len(xs)
        j = next((x for x in joins if x["impl"] == impl), None)
        tries = (j or {}).get("tries", [])
        sv = [t["serving_ms"] for t in tries if t.get("serving_ms")]
        s[impl] = {"cases": med, "join": None if not j else {
            "znodes": j["znodes"], "serving_ms_median": median(sv),
            "serving_ms_max": max(sv) if sv else None, "n": len(sv),
            "srvr_ms_median": median([t.get("srvr_ms") for t in tries]),
            "modes": [t.get("sync_mode") for t in tries],
            "masters": [t.get("master_sid") for t in tries],
            "load_creates_per_s": j.get("load_creates_per_s"), "error": j.get("error")}}
    return s


def table_rows(summary, counts):
    """(label, ZooKeeper, Corral) rows of the main table."""
    z, c = summary.get("zookeeper", {}), summary.get("corral", {})

    def g(s, case, k):
        return s.get("cases", {}).get(case, {}).get(k)
    rd = f"get 32x8 on {READ_OBSERVERS} observers"
    rows = [(f"{rd}: ops/s", "get 32x8 on observers", "ops_per_s"),
            (f"{rd}: p99 µs", "get 32x8 on observers", "p99"),
            (f"{rd}: server CPU µs/read, the {READ_OBSERVERS} observers",
             "get 32x8 on observers", "observers_cpu_us_per_op"),
            (f"{rd}: server CPU µs/read, all {VOTERS + READ_OBSERVERS} members",
             "get 32x8 on observers", "all_cpu_us_per_op")]
    for n in counts:
        case = f"set 32x8 on voters +{n}"
        rows += [(f"set 32x8, {VOTERS} voters + {n} observers: ops/s", case, "ops_per_s"),
                 (f"set 32x8, +{n} observers: p50 / p99 µs", case, ("p50", "p99")),
                 (f"set 32x8, +{n} observers: leader CPU µs/write", case,
                  "leader_cpu_us_per_op"),
                 (f"set 32x8, +{n} observers: all members CPU µs/write", case,
                  "all_cpu_us_per_op")]
    out = []
    for label, case, k in rows:
        if isinstance(k, tuple):
            out.append((label, tuple(g(z, case, x) for x in k), tuple(g(c, case, x) for x in k)))
        else:
            out.append((label, g(z, case, k), g(c, case, k)))
    if counts and counts[0] == 0 and len(counts) > 1:
        hi = counts[-1]
        out.append((f"set 32x8 ops/s with {hi} observers / with 0",
                    ratio(g(z, f"set 32x8 on voters +{hi}", "ops_per_s"),
                          g(z, "set 32x8 on voters +0", "ops_per_s")),
                    ratio(g(c, f"set 32x8 on voters +{hi}", "ops_per_s"),
                          g(c, "set 32x8 on voters +0", "ops_per_s"))))
    zj, cj = z.get("join") or {}, c.get("join") or {}
    if zj or cj:
        n = zj.get("znodes") or cj.get("znodes")
        out.append((f"new observer at {n:,} znodes: spawn → reads the last key, median ms",
                    zj.get("serving_ms_median"), cj.get("serving_ms_median")))
    return out


def table_lines(summary, counts):
    L = ["| measure | ZooKeeper | Corral | Corral/ZooKeeper |", "|---|---:|---:|---:|"]
    for label, zv, cv in table_rows(summary, counts):
        if isinstance(zv, tuple):
            L.append(f"| {label} | {' / '.join(fmt(x) for x in zv)} | "
                     f"{' / '.join(fmt(x) for x in cv)} | "
                     f"{' / '.join(fmt(ratio(y, x), 2) for x, y in zip(zv, cv))} |")
        elif label.endswith("/ with 0"):
            L.append(f"| {label} | {fmt(zv, 2)} | {fmt(cv, 2)} | |")
        else:
            L.append(f"| {label} | {fmt(zv)} | {fmt(cv)} | {fmt(ratio(cv, zv), 2)} |")
    return L


def write_report(path, a, summary, runs, joins, machine, vers, command, elapsed):
    L = ["# Observers: Corral vs Apache ZooKeeper 3.8\n"]
    mode = "QUICK (smoke test: short runs, small tree — indicative only)" if a.quick else "full"
    L.append(f"* Mode: **{mode}**; {a.reps} repetition(s) per server and shape, A B alternated, "
             f"a fresh ensemble and dataDirs per run, medians reported; warmup {a.warmup:g} s + "
             f"measured {a.duration:g} s per run; primed with {a.prime:g} s of get 32x8 over "
             "all members.")
    L.append(f"* Date: {machine['date']}; wall time {elapsed / 60:.1f} min.")
    L.append(f"* Machine: {machine['cpu_model']} ({machine['cpu_mhz']} MHz), nproc = "
             f"{machine['nproc']}, MemTotal {machine['mem_total']}, Linux {machine['kernel']}; "
             f"load average at start {machine['loadavg_at_start']}. All members and the load "
             "generator share these cores.")
    L.append(f"* ZooKeeper {vers['zookeeper']} (Debian), {vers['java']}, `java -Xmx2g` per "
             f"member; Corral commit {vers['corral_commit']} (built "
             f"{vers.get('corral_binary_mtime', '?')}, copied with its plugins at the start).")
    L.append("* Every member: own loopback address (sid N on 127.0.0.(N+1)), `"
             + "`, `".join(f"{k}={v}" for k, v in eb.SETTINGS.items())
             + "`, **`observerMasterPort` on every member (observer masters on: each follower "
             "serves observers on its own address)**; observers `peerType=observer` and "
             "`:observer` on their line in every file; `syncEnabled` at its default (true); "
             f"dataDirs under `{a.tmp_base}` (one disk).")
    L.append(f"* Load: `corral-bench` 32 sessions × 8 pipelined, {a.keys} keys of "
             f"{a.value_size} B; set: sessions round-robin over the 3 voters only; get: over the "
             f"{READ_OBSERVERS} observers only (16 each). CPU = utime+stime of each member from "
             "/proc over the measured window (sampled every 20 ms), / ops.")
    if a.corral_setting:
        L.append(f"* Extra Corral settings: `{' '.join(a.corral_setting)}`")
    L.append(f"* Command: `{command}`\n")
    L.append("## Results (medians)\n")
    L += table_lines(summary, a.observer_counts)
    L.append("\nRatios are Corral / ZooKeeper (ops/s > 1, latency/CPU/time < 1 favour Corral). "
             "`with N observers / with 0` is each server's own write throughput with N "
             "observers relative to none: the cost observers add to writes.\n")
    L.append("## Every run\n")
    L.append("| server | rep | observers | case | ops/s | p50 µs | p99 µs | leader µs/op | "
             "observers µs/op | all µs/op | CPU s per member (sid order) | observer → master "
             "| errors | lost |")
    L.append("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
    for r in runs:
        if r.get("error"):
            L.append(f"| {r['impl']} | {r['rep']} | {r['observers']} | failed: "
                     f"{r['error'][:150]} |||||||||| |")
        for name, d in r["cases"].items():
            if "error" in d:
                continue
            s = summary_of(d)
            per = ", ".join(fmt(x, 2) for x in d.get("members_cpu_s") or [])
            ms = ", ".join(f"{k}→{v}" for k, v in (r.get("masters") or {}).items())
            L.append(f"| {r['impl']} | {r['rep']} | {r['observers']} | {name} | "
                     f"{fmt(s['ops_per_s'])} | {fmt(s['p50'])} | {fmt(s['p99'])} | "
                     f"{fmt(s['leader_cpu_us_per_op'], 2)} | "
                     f"{fmt(s['observers_cpu_us_per_op'], 2)} | {fmt(s['all_cpu_us_per_op'], 2)} "
                     f"| {per} (leader {r.get('leader_sid')}) | {ms} | {fmt(s['errors'], 0)} | "
                     f"{fmt(s['lost'], 0)} |")
    L.append("")
    if joins:
        zn = joins[0]["znodes"]
        L.append("## A new observer at {:,} znodes\n".format(zn))
        L.append(f"{zn:,} znodes of {a.value_size} B under {a.parents} parents loaded with "
                 "`corral-bench --op load` (16 sessions × 64 pipelined creates over the 3 "
                 "voters); the observer (sid 4, in every member's file from the start) is not "
                 "running. Per try: its dataDir is emptied (myid kept) and it is spawned; "
                 "`srvr` = spawn → `srvr` Mode: observer with the leader's Zxid (polled every "
                 "20 ms); `serving` = spawn → then a getData of the last key answered with err 0 "
                 "on it; the sync mode is read from its log (no forceSnapshotSync: each server "
                 "chooses), the master from its mntr (ZooKeeper: its log). Stopped between "
                 "tries.\n")
        L.append("| server | load creates/s | try | port up ms | srvr observer ms | serving ms "
                 "| sync | master sid (leader) | RSS of the new observer kB |")
        L.append("|---|---:|---:|---:|---:|---:|---|---|---:|")
        for j in joins:
            if j.get("error") and not j["tries"]:
                L.append(f"| {j['impl']} | {fmt(j.get('load_creates_per_s'))} | - | failed: "
                         f"{j['error'][:200]} ||||||")
            for i, t in enumerate(j["tries"]):
                L.append(f"| {j['impl']} | {fmt(j.get('load_creates_per_s'))} | {i + 1} | "
                         f"{fmt(t.get('up_ms'))} | {fmt(t.get('srvr_ms'))} | "
                         f"{fmt(t.get('serving_ms'))} | {t.get('sync_mode')} | "
                         f"{t.get('master_sid')} ({t.get('leader_sid')}) | "
                         f"{fmt(t.get('rss_kb_new_observer'), 0)} |")
        L.append("")
    notes = anomalies(runs, joins)
    L.append("## Errors, lost sessions, failures\n")
    L.extend(notes or ["None: no corral-bench errors or lost sessions, every join completed, "
                       "every observer attached to a follower."])
    L.append("\nRaw JSON (every corral-bench result, per-member CPU, WARN/ERROR lines of each "
             "member's log): `observers-raw.json`. Metric definitions: `README.md`.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def anomalies(runs, joins):
    out = []
    for r in runs:
        head = f"* {r['impl']} rep {r['rep']} +{r['observers']} observers"
        if r.get("error"):
            out.append(f"{head}: **failed**: `{r['error'][:300]}`")
        for name, d in r["cases"].items():
            if "error" in d:
                out.append(f"{head} {name}: {d['error'][:300]}")
            elif d.get("error_count") or d.get("connections_lost") or d.get("rc"):
                out.append(f"{head} {name}: errors {d.get('errors')}, lost sessions "
                           f"{d.get('connections_lost')}, rc {d.get('rc')}; stderr "
                           f"`{d.get('stderr', '')[-200:]}`")
        bad = {o: m for o, m in (r.get("masters") or {}).items() if m in (None, r.get("leader_sid"))}
        if bad:
            out.append(f"{head}: observer(s) not on a follower master: {bad} (leader "
                       f"{r.get('leader_sid')})")
    for j in joins:
        if j.get("error"):
            out.append(f"* {j['impl']} join: **failed**: `{j['error'][:300]}`")
        for i, t in enumerate(j.get("tries", [])):
            if t.get("error") or t.get("sync_mode") not in ("SNAP", "DIFF"):
                out.append(f"* {j['impl']} join try {i + 1}: sync {t.get('sync_mode')}, last key "
                           f"err {t.get('last_key_err')} {t.get('error', '')[:300]}")
    return out


# ------------------------------------------------------------------ compare.py's step
def run_step(a, impls, log):
    """Run this script from compare.py (--observers); returns its summary for RESULTS.md."""
    import subprocess
    znodes = a.observer_join_znodes
    if a.quick and znodes == 1_000_000:
        znodes = 100_000
    cmd = ["/usr/bin/python3", os.path.abspath(__file__), "--corral-build", a.corral_build,
           "--impls", ",".join(impls), "--tmp-base", a.tmp_base, "--out", a.out,
           "--join-znodes", str(znodes), "--keys", str(a.keys), "--value-size",
           str(a.value_size), "--threads", str(a.threads)]
    if a.quick:
        cmd.append("--quick")
    for opt, val in (("--reps", a.reps), ("--warmup", a.warmup), ("--duration", a.duration),
                     ("--bench-bin", a.bench_bin)):
        if val is not None:
            cmd += [opt, str(val)]
    for setting in a.corral_setting or []:
        cmd += ["--corral-setting", setting]
    if a.keep_dirs:
        cmd.append("--keep-dirs")
    log(f"observer step: {' '.join(cmd)}")
    done = subprocess.run(cmd, check=False)
    raw_path = os.path.join(a.out, "observers-raw.json")
    if done.returncode != 0 or not os.path.exists(raw_path):
        log(f"observer step failed (exit {done.returncode})")
        return None
    with open(raw_path) as f:
        raw = json.load(f)
    return {k: raw.get(k) for k in ("summary", "observer_counts", "quick", "elapsed_s")}


def results_section(obs):
    """The short observer table of RESULTS.md (details: RESULTS-observers.md)."""
    L = ["## Observers (observer_bench.py)\n"]
    L.append("3 voters + 0/2/4 observers of each server on this machine, every member on its own "
             "loopback address, observer masters on (`observerMasterPort`); reads with the "
             "sessions on the observers only, writes on the voters only; medians. Details: "
             f"`RESULTS-observers.md` (same run, {(obs.get('elapsed_s') or 0) / 60:.0f} min"
             f"{', quick mode' if obs.get('quick') else ''}).\n")
    L += table_lines(obs["summary"], obs.get("observer_counts") or [0, 2, 4])
    L.append("")
    return L


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition, 1 s warmup + 3 s per run, 100k znodes, 2 joins")
    ap.add_argument("--reps", type=int, help="repetitions per server [3; quick 1]")
    ap.add_argument("--warmup", type=float, help="warmup seconds per run [5; quick 1]")
    ap.add_argument("--duration", type=float, help="measured seconds per run [15; quick 3]")
    ap.add_argument("--prime", type=float, help="seconds of get 32x8 priming [5; quick 2]")
    ap.add_argument("--observer-counts", default="0,2,4",
                    help="observers per write run [0,2,4]; the read run needs 2")
    ap.add_argument("--join-znodes", type=int,
                    help="znodes for the new-observer part [1000000; quick 100000]; 0 skips it")
    ap.add_argument("--join-tries", type=int, help="new-observer starts [3; quick 2]")
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=10000)
    ap.add_argument("--value-size", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1, help="corral-bench threads [1]")
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
    a.join_znodes = a.join_znodes if a.join_znodes is not None else (100_000 if q else 1_000_000)
    a.join_tries = a.join_tries if a.join_tries is not None else (2 if q else 3)
    a.observer_counts = [int(x) for x in a.observer_counts.split(",") if x != ""]
    impls = [i for i in a.impls.split(",") if i]
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)
    t_start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    build = os.path.abspath(a.corral_build)
    tmp = tempfile.mkdtemp(prefix="corral-obsbench-bin-", dir=a.tmp_base)
    try:
        bench_bin, corral_bin, machine, vers = eb.prepare_binaries(a, impls, build, tmp, log)
        runs, joins = [], []
        for rep in range(1, a.reps + 1):
            for impl in impls:
                for n in a.observer_counts:
                    runs.append(run_ensemble(impl, rep, n, a, corral_bin, bench_bin, log))
        if a.join_znodes > 0:
            for impl in impls:
                joins.append(run_join(impl, a, corral_bin, bench_bin, log))
        summary = summarize(runs, joins, impls)
        elapsed = time.monotonic() - t_start
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "observers-raw.json"), "w") as f:
            json.dump({"machine": machine, "versions": vers, "command": command, "quick": q,
                       "elapsed_s": elapsed, "observer_counts": a.observer_counts,
                       "summary": summary, "runs": runs, "joins": joins}, f, indent=1)
        write_report(os.path.join(a.out, "RESULTS-observers.md"), a, summary, runs, joins,
                     machine, vers, command, elapsed)
        log(f"wrote {os.path.join(a.out, 'RESULTS-observers.md')} and observers-raw.json")
        for line in table_lines(summary, a.observer_counts):
            print(line, file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
