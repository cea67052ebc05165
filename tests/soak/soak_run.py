#!/usr/bin/python3
"""Soak and storm tests, Corral vs Apache ZooKeeper 3.8, 3-member ensembles (issue 19 part 4).

Not CI: each scenario runs corral-storm (tests/soak/corral_storm.cc, a C++ epoll load
generator) against a fresh 3-member ensemble of each implementation, started with
tests/bench/ensemble_bench.py's Ensemble (127.0.0.1, free ports, tickTime=2000, initLimit=10,
syncLimit=5, forceSync=yes, maxClientCnxns=0, AdminServer off, every member in its own process
session, stopped by PID) plus clientPortListenBacklog (--listen-backlog, both servers) and, for
ZooKeeper, `java -Xmx<--zk-heap>`. This driver raises its own RLIMIT_NOFILE to the hard limit
before spawning anything; the members and corral-storm inherit it (corral-storm raises its own
too). Scenarios (tests/soak/README.md has what each checks):

  soak             --sessions x --watches watches over --keys keys, --write-rate set/s for
                   --minutes; RSS of each member, losses/expirations, missed watch events
  connect-storm    --storm-rate new sessions/s for --storm-seconds next to --bg-sessions
                   established sessions doing reads and pings
  reconnect-storm  --rc-sessions sessions, then kill -9 of the leader (by PID, from the tool)
  slow-consumer    a session with a persistent recursive watch on a hot subtree that never reads,
                   --slow-rate set/s on that subtree for --slow-seconds

Writes RESULTS.md (or RESULTS-<tag>.md) and soak-raw.json (soak-<tag>-raw.json) into --out.

  /usr/bin/python3 tests/soak/soak_run.py --corral-build build --quick   # smoke, ~3-4 min
  /usr/bin/python3 tests/soak/soak_run.py --corral-build build            # full, ~60 min
"""
import argparse
import json
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SOAK_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(SOAK_DIR, "..", "bench"))
import benchlib  # noqa: E402
import ensemble_bench  # noqa: E402

SCENARIOS = ("soak", "connect-storm", "reconnect-storm", "slow-consumer")
IMPL_NAMES = {"zookeeper": "ZooKeeper", "corral": "Corral"}
# Log lines that count as server errors (Corral logs "[error]"/"[critical]"; ZooKeeper ERROR).
ERROR_LINES = r"(\[(error|critical)\]|\b(ERROR|FATAL)\b)"


# ------------------------------------------------------------------ binaries
def find_storm_bin(explicit, build_dir, log):
    """--storm-bin, else <build>/bin/corral-storm, else tests/soak/build/corral-storm (built
    here with cmake if missing or older than its sources)."""
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise SystemExit(f"corral-storm not found at {explicit}")
        return explicit
    in_tree = os.path.join(build_dir, "bin", "corral-storm")
    if os.access(in_tree, os.X_OK):
        return in_tree
    out = os.path.join(SOAK_DIR, "build")
    binary = os.path.join(out, "corral-storm")
    log(f"building corral-storm in {out}")
    subprocess.run(["cmake", "-S", SOAK_DIR, "-B", out, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", out, "-j2"], check=True, stdout=subprocess.DEVNULL)
    return binary


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for want in (1 << 20, 200000, hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(want, hard)))
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[:3]
    except OSError:
        return ["?"]


# ------------------------------------------------------------------ one run
def run_tool(storm_bin, args, log_path, timeout, log, label):
    """Runs corral-storm; its stderr goes to log_path and, prefixed, to ours. Returns
    (JSON result or {"error": ...}, rc, last stderr lines)."""
    cmd = [storm_bin] + [str(x) for x in args]
    log(f"{label}: {' '.join(shlex.quote(c) for c in cmd)}")
    tail = []
    with open(log_path, "w") as lf:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)

        def pump():
            for line in p.stderr:
                lf.write(line)
                lf.flush()
                tail.append(line.rstrip())
                del tail[:-60]
                print(f"    {label}| {line.rstrip()}", file=sys.stderr, flush=True)

        out_chunks = []
        t = threading.Thread(target=pump, daemon=True)
        t_out = threading.Thread(target=lambda: out_chunks.append(p.stdout.read()), daemon=True)
        t.start()
        t_out.start()
        try:
            p.wait(timeout)  # not communicate(): it would read stderr too, under pump()
        except subprocess.TimeoutExpired:
            p.kill()  # our own child, by PID
            p.wait(30)
            t.join(5)
            return {"error": f"corral-storm timed out after {timeout:.0f} s"}, -9, tail
        t.join(10)
        t_out.join(10)
        out = "".join(out_chunks)
    lines = [x for x in out.splitlines() if x.startswith("{")]
    if not lines:
        return {"error": f"no JSON from corral-storm (rc={p.returncode})"}, p.returncode, tail
    return json.loads(lines[-1]), p.returncode, tail


def tool_args(scenario, a):
    common = [scenario, "--session-timeout", a.session_timeout, "--progress", a.progress]
    if scenario == "soak":
        return common + ["--sessions", a.sessions, "--watches", a.watches, "--keys", a.keys,
                         "--writers", a.writers, "--write-rate", a.write_rate,
                         "--minutes", a.minutes, "--rss-interval", a.rss_interval]
    if scenario == "connect-storm":
        return common + ["--rate", a.storm_rate, "--duration", a.storm_seconds,
                         "--baseline", a.storm_baseline, "--bg-sessions", a.bg_sessions,
                         "--close", a.storm_close, "--rss-interval", 1]
    if scenario == "reconnect-storm":
        return common + ["--sessions", a.rc_sessions, "--rss-interval", 1]
    if scenario == "slow-consumer":
        return common + ["--rate", a.slow_rate, "--duration", a.slow_seconds,
                         "--baseline", a.slow_baseline, "--warmup", a.slow_warmup,
                         "--path-len", a.slow_path_len, "--rss-interval", 1,
                         "--slow-session-timeout", a.slow_session_timeout]
    raise ValueError(scenario)


def tool_timeout(scenario, a):
    if scenario == "soak":
        return a.minutes * 60 + 1800
    if scenario == "connect-storm":
        return a.storm_seconds + a.storm_baseline + 300
    if scenario == "reconnect-storm":
        return a.kill_at + 400
    return a.slow_seconds + a.slow_baseline + a.slow_warmup + 300


def run_one(impl, scenario, a, corral_bin, storm_bin, log, logs_dir):
    label = f"{impl}/{scenario}"
    extra = {"clientPortListenBacklog": a.listen_backlog}
    ens = ensemble_bench.Ensemble(impl, corral_bin, a.tmp_base, scenario, heap=a.zk_heap,
                                  extra=extra)
    run = {"impl": impl, "scenario": scenario, "loadavg_start": loadavg()}
    keep = a.keep_dirs
    try:
        t0 = time.monotonic()
        modes = ens.start(timeout=180)
        run["start_s"] = round(time.monotonic() - t0, 2)
        leader = ens.leader()
        followers = ens.followers()
        run["modes_before"] = {str(k): v for k, v in modes.items()}
        run["members"] = [{"sid": m.sid, "host": m.hosts, "pid": m.pid,
                           "mode": modes.get(m.sid)} for m in ens.members]
        args = tool_args(scenario, a) + ["--hosts", ens.hosts(),
                                         "--pids", ",".join(str(p) for p in ens.pids())]
        if scenario == "reconnect-storm":
            args += ["--kill-pid-at", f"{a.kill_at}:{leader.pid}"]
            run["killed"] = {"sid": leader.sid, "pid": leader.pid}
        if scenario == "slow-consumer":
            slow = followers[0]
            args += ["--slow-host", ens.members.index(slow)]
            run["slow_member"] = {"sid": slow.sid, "pid": slow.pid, "mode": "follower"}
        log_path = os.path.join(logs_dir, f"{impl}-{scenario}.log")
        result, rc, tail = run_tool(storm_bin, args, log_path, tool_timeout(scenario, a), log,
                                    label)
        run.update(result=result, rc=rc, tool_stderr_tail=tail, tool_log=log_path,
                   command=[storm_bin] + [str(x) for x in args])
        run["loadavg_end"] = loadavg()
        exited = []
        for m in ens.members:
            if m.alive():
                continue
            if scenario == "reconnect-storm" and m is leader:
                continue
            exited.append({"sid": m.sid, "pid": m.pid, "returncode": m.proc.returncode,
                           "log_tail": m.log_tail(40)})
        run["members_exited"] = exited
        if scenario == "reconnect-storm":
            run["modes_after"] = {str(m.sid): m.mode() for m in ens.members if m.alive()}
        run["log_errors"] = {}
        run["log_warnings"] = {}
        for m in ens.members:
            found = benchlib.log_problems(m.log_path, 12, ERROR_LINES)
            if found:
                run["log_errors"][str(m.sid)] = found
            warn = benchlib.log_problems(m.log_path, 8, benchlib.PROBLEM_LINES)
            if warn:
                run["log_warnings"][str(m.sid)] = warn
        run["verdict"] = verdict(scenario, run)
        if exited:
            keep = True
        if not all(v for v in run["verdict"].values() if isinstance(v, bool)) or exited:
            run["member_logs"] = []
            for m in ens.members:  # the members' logs next to corral-storm's
                dst = os.path.join(logs_dir, f"{impl}-{scenario}-member{m.sid}.log")
                try:
                    shutil.copyfile(m.log_path, dst)
                    run["member_logs"].append(dst)
                except OSError:
                    pass
    except Exception as e:  # noqa: BLE001 - reported in the results, the run goes on
        run["error"] = f"{type(e).__name__}: {e}"
        keep = True
        log(f"{label}: ERROR {run['error']}")
    finally:
        if keep:
            run["kept_dir"] = ens.dir
        ens.cleanup(keep=keep)
    log(f"{label}: verdict {run.get('verdict')}")
    return run


# ------------------------------------------------------------------ verdicts
def g(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def verdict(scenario, run):
    r = run.get("result") or {}
    v = {}
    if "error" in r:
        return {"completed": False, "error": r["error"]}
    log_errors = sum(x["count"] for x in run.get("log_errors", {}).values())
    v["no_crash"] = not run.get("members_exited")
    if scenario == "soak":
        p = r.get("pass", {})
        v["rss_flat"] = p.get("rss_flat")
        v["no_loss_no_expiry"] = p.get("no_loss_no_expiry")
        v["all_watch_events"] = p.get("all_events")
        v["no_server_errors"] = p.get("no_server_errors") and log_errors == 0
    elif scenario == "connect-storm":
        st = r["storm"]
        bg = r["background"]
        v["rate_reached"] = st["achieved_rate"] >= 0.95 * st["offered_rate"]
        v["no_failures"] = st["failures"] == 0 and st["close_errors"] == 0
        base = max(bg["baseline"]["read_latency"]["p99_ms"], 1.0)
        v["others_unharmed"] = (bg["expirations"] == 0 and
                                sum(bg[p]["losses"] for p in ("baseline", "storm", "tail")) == 0 and
                                bg["storm"]["read_latency"]["p99_ms"] <= max(5 * base, 50.0))
        v["no_server_errors"] = log_errors == 0 and not bg["server_errors"]
    elif scenario == "reconnect-storm":
        ak = r["after_kill"]
        v["all_reattached"] = ak["all_reattached"] and ak["sessions_not_reattached"] == 0
        v["no_expiry"] = ak["expired"] == 0
        v["writes_resumed"] = (ak.get("first_write_issued_after_kill_acked_s") or -1) >= 0
    elif scenario == "slow-consumer":
        ss = r["slow_session"]
        v["slow_connection_cut"] = ss["disconnected"]
        slow_idx = r["config"]["slow_host"]
        m = next((x for x in r["rss"]["members"] if x["host"] == slow_idx), None)
        if m:
            v["rss_bounded"] = m["max_kb"] - m["start_kb"] <= 160 * 1024
        bp99 = r["baseline"]["set_latency"]["p99_ms"]
        sp99 = r["slow"]["set_latency"]["p99_ms"]
        v["writers_unharmed"] = sp99 <= max(2 * bp99, bp99 + 20)
        v["no_server_errors"] = log_errors == 0 and not r["slow"]["errors"]
    return v


# ------------------------------------------------------------------ report
def f1(x, nd=1):
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "**no**"
    if isinstance(x, float):
        return f"{x:,.{nd}f}"
    if isinstance(x, int):
        return f"{x:,}"
    return str(x)


def mb(kb):
    return None if kb is None or kb < 0 else kb / 1024.0


def ratio(c, z, nd=2):
    try:
        if c is None or z is None or z == 0:
            return "—"
        return f"{c / z:.{nd}f}"
    except TypeError:
        return "—"


def by(runs, scenario, impl):
    for r in runs:
        if r["scenario"] == scenario and r["impl"] == impl:
            return r
    return None


def table(rows, impls, with_ratio=True):
    """rows: (label, {impl: value}, formatter or None, ratio?)"""
    head = "| measure | " + " | ".join(IMPL_NAMES.get(i, i) for i in impls)
    sep = "|---|" + "---|" * len(impls)
    ratio_col = with_ratio and impls == ["zookeeper", "corral"]
    if ratio_col:
        head += " | Corral / ZooKeeper"
        sep += "---|"
    out = [head + " |", sep]
    for label, vals, fmt, want_ratio in rows:
        cells = ["—" if vals.get(i) is None else (fmt or f1)(vals.get(i)) for i in impls]
        line = f"| {label} | " + " | ".join(cells)
        if ratio_col:
            line += " | " + (ratio(vals.get("corral"), vals.get("zookeeper")) if want_ratio else "")
        out.append(line + " |")
    return "\n".join(out)


def vals(runs, scenario, impls, *path, fn=None):
    out = {}
    for i in impls:
        r = by(runs, scenario, i)
        v = g(r, "result", *path) if r else None
        out[i] = fn(v) if (fn and v is not None) else v
    return out


def lat(runs, scenario, impls, *path):
    """'p50 / p99 / max' of a latency object, in ms."""
    out = {}
    for i in impls:
        r = by(runs, scenario, i)
        h = g(r, "result", *path) if r else None
        out[i] = None if not h else f"{h['p50_ms']:.1f} / {h['p99_ms']:.1f} / {h['max_ms']:.1f}"
    return out


def rss_rows(runs, scenario, impls):
    lines = ["| server | member | role | start MB | middle MB | end MB | max MB | slope MB/min | "
             "2nd-half growth | CPU s | run-queue wait s |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for i in impls:
        r = by(runs, scenario, i)
        if not r:
            continue
        modes = {m["pid"]: m["mode"] for m in r.get("members", [])}
        for m in g(r, "result", "rss", "members", default=[]) or []:
            if "start_kb" not in m:
                continue
            wait = m.get("runq_wait_s")
            lines.append(
                f"| {IMPL_NAMES[i]} | {m['host']} | {modes.get(m['pid'], '?')} | "
                f"{mb(m['start_kb']):.0f} | {mb(m['mid_kb']):.0f} | {mb(m['end_kb']):.0f} | "
                f"{mb(m['max_kb']):.0f} | {m['slope_kb_per_min'] / 1024:.2f} | "
                f"{m['growth_second_half_pct']:.1f} % | {m['cpu_s']:.0f} | "
                f"{'—' if wait is None or wait < 0 else f'{wait:.0f}'} |")
    return "\n".join(lines)


def members_cpu(r):
    """(CPU s, run-queue wait s) summed over the members for the summarized phase."""
    ms = g(r, "result", "rss", "members", default=[]) or []
    cpu = sum(m.get("cpu_s", 0) for m in ms if m.get("cpu_s", -1) >= 0)
    waits = [m["runq_wait_s"] for m in ms if m.get("runq_wait_s") is not None and m["runq_wait_s"] >= 0]
    return cpu, (sum(waits) if waits else None)


def tool_row(runs, scenario, impls):
    out = {}
    for i in impls:
        r = by(runs, scenario, i)
        res = (r or {}).get("result") or {}
        if "engine" not in res:
            out[i] = None
            continue
        wait = res.get("client_runq_wait_total_s")
        out[i] = (f"{res.get('client_cpu_total_s', 0):.0f} / "
                  f"{'—' if wait is None else f'{wait:.0f}'} / "
                  f"{res['engine'].get('loop_max_gap_ms', 0):.0f}")
    return ("corral-storm: CPU s / run-queue wait s / longest loop stall ms", out, str, False)


def rss_series(r, pid_index, every_s=5.0, phases=None):
    out, last_t = [], None
    for s in g(r, "result", "rss", "samples", default=[]) or []:
        if phases and s["phase"] not in phases:
            continue
        if last_t is not None and s["t"] - last_t < every_s - 0.01:
            continue
        last_t = s["t"]
        kb = s["rss_kb"][pid_index]
        out.append(f"{s['t']:.0f}s {kb / 1024:.0f}" if kb >= 0 else f"{s['t']:.0f}s gone")
    return ", ".join(out)


def write_report(path, a, runs, impls, machine, vers, command, elapsed, nofile, raw_name):
    L = []
    w = L.append
    w("# Soak and storm tests: Corral vs Apache ZooKeeper 3.8, 3-member ensembles\n")
    w(f"Generated by `tests/soak/soak_run.py` on {machine['date']} in {elapsed / 60:.1f} min "
      f"({'quick smoke sizes' if a.quick else 'full sizes'}).\n")
    w(f"- Machine: {machine['cpu_model']}, {machine['nproc']} CPUs, {machine['mem_total']} RAM, "
      f"Linux {machine['kernel']}. **Shared with other engineers' builds and tests while this ran** "
      f"(load average at the start {machine['loadavg_at_start']}; per run below): latencies and "
      f"CPU are indicative, not a quiet-machine benchmark.")
    w(f"- ZooKeeper {vers.get('zookeeper')} ({vers.get('java')}), `java -Xmx{a.zk_heap}` per member "
      f"(raised from ensemble_bench's 2g for 1M watches). Corral commit {vers.get('corral_commit')} "
      f"(+ working tree), binary {vers.get('corral_bin')} (copied before the run).")
    w("- Every scenario on a fresh ensemble of each server, 3 members on 127.0.0.1 (free ports): "
      "`tickTime=2000`, `initLimit=10`, `syncLimit=5`, `forceSync=yes`, `maxClientCnxns=0`, "
      f"`clientPortListenBacklog={a.listen_backlog}` (both; ZooKeeper's own default is the JVM's "
      "50), AdminServer off. Sessions request a "
      f"{a.session_timeout} ms timeout. RLIMIT_NOFILE {nofile[0]} (the hard limit of this container), "
      "inherited by the members and corral-storm.")
    w(f"- Load generator: `corral-storm` (tests/soak), one epoll thread.")
    if isinstance(command, list):
        w("- Commands (the runs of a later one replace the earlier one's for its scenarios; "
          "the raw JSON lists which came from where):")
        for c in command:
            w(f"  - `{c}`")
    else:
        w(f"- Command: `{command}`")
    w(f"- Raw data: `{raw_name}` (every corral-storm JSON with RSS samples, member logs' error lines).\n")

    # summary of verdicts
    w("## Pass criteria\n")
    w("| scenario | criterion | " + " | ".join(IMPL_NAMES[i] for i in impls) + " |")
    w("|---|---|" + "---|" * len(impls))
    for sc in SCENARIOS:
        keys = []
        for i in impls:
            r = by(runs, sc, i)
            for k in (r or {}).get("verdict", {}) or {}:
                if k not in keys:
                    keys.append(k)
            if r and r.get("error") and "run" not in keys:
                keys.append("run")
        for k in keys:
            cells = []
            for i in impls:
                r = by(runs, sc, i)
                if not r:
                    cells.append("—")
                elif k == "run":
                    cells.append("**failed: " + r.get("error", "")[:80] + "**" if r.get("error") else "ok")
                else:
                    v = (r.get("verdict") or {}).get(k)
                    cells.append("pass" if v is True else "**FAIL**" if v is False else f1(v))
            w(f"| {sc} | {k.replace('_', ' ')} | " + " | ".join(cells) + " |")
    w("")

    # a) soak
    if any(by(runs, "soak", i) for i in impls):
        r0 = next(by(runs, "soak", i) for i in impls if by(runs, "soak", i))
        cfg = g(r0, "result", "config", default={}) or {}
        w("## a) Soak\n")
        w(f"{f1(cfg.get('sessions'))} sessions × {f1(cfg.get('watches_per_session'))} watches "
          f"(exists on even, getData on odd indices) over {f1(cfg.get('keys'))} keys "
          f"= {f1((cfg.get('sessions') or 0) * (cfg.get('watches_per_session') or 0))} watches, "
          f"re-armed when they fire; {cfg.get('writers')} writer sessions, {cfg.get('write_rate')} "
          f"setData/s for {cfg.get('minutes')} min of steady state. Sessions spread round-robin over "
          "the members.\n")
        S = "soak"
        rows = [
            ("sessions connected / watches armed", {i: (f"{f1(g(by(runs, S, i), 'result', 'arm', 'connected'))} / "
                                                        f"{f1(g(by(runs, S, i), 'result', 'arm', 'watches_armed'))}")
                                                    if by(runs, S, i) and 'arm' in (by(runs, S, i).get('result') or {}) else None
                                                    for i in impls}, str, False),
            ("connect all sessions (s)", vals(runs, S, impls, "arm", "connect_s"), None, True),
            ("connect + arm all watches (s)", vals(runs, S, impls, "arm", "arm_s"), None, True),
            ("steady state (s)", vals(runs, S, impls, "steady", "duration_s"), None, False),
            ("setData/s achieved", vals(runs, S, impls, "steady", "set_rate"), None, True),
            ("setData latency p50 / p99 / max (ms)", lat(runs, S, impls, "steady", "set_latency"), str, False),
            ("setData p99 (ms)", vals(runs, S, impls, "steady", "set_latency", "p99_ms"), None, True),
            ("watch events received", vals(runs, S, impls, "steady", "events_received"), None, False),
            ("… upper bound (every set × watchers of its key)", vals(runs, S, impls, "steady", "events_upper_bound"), None, False),
            ("watch events/s", vals(runs, S, impls, "steady", "events_per_s"), None, True),
            ("set sent → event received p50 / p99 / max (ms)", lat(runs, S, impls, "steady", "event_latency"), str, False),
            ("event latency p99 (ms)", vals(runs, S, impls, "steady", "event_latency", "p99_ms"), None, True),
            ("re-arm read p50 / p99 / max (ms)", lat(runs, S, impls, "steady", "rearm_latency"), str, False),
            ("ping p50 / p99 / max (ms)", lat(runs, S, impls, "steady", "ping_latency"), str, False),
            ("(session, key) pairs checked at the end", vals(runs, S, impls, "verify", "pairs_checked"), None, False),
            ("missed watched changes (pairs) / sessions", {i: (f"{g(by(runs, S, i), 'result', 'verify', 'missed_pairs')} / "
                                                               f"{g(by(runs, S, i), 'result', 'verify', 'sessions_with_missed')}")
                                                           if g(by(runs, S, i), 'result', 'verify') else None for i in impls}, str, False),
            ("unexpected / duplicate events", {i: (f"{g(by(runs, S, i), 'result', 'steady', 'unexpected_events')} / "
                                                  f"{g(by(runs, S, i), 'result', 'steady', 'duplicate_events')}")
                                              if g(by(runs, S, i), 'result', 'steady') else None for i in impls}, str, False),
            ("connection losses / expirations", {i: (f"{g(by(runs, S, i), 'result', 'sessions', 'connection_losses')} / "
                                                     f"{g(by(runs, S, i), 'result', 'sessions', 'expirations')}")
                                                 if g(by(runs, S, i), 'result', 'sessions') else None for i in impls}, str, False),
            ("error replies", vals(runs, S, impls, "server_error_count"), None, False),
            ("ERROR lines in the members' logs", {i: sum(x["count"] for x in (by(runs, S, i) or {}).get("log_errors", {}).values())
                                                  if by(runs, S, i) else None for i in impls}, None, False),
            ("corral-storm CPU in steady state (s)", vals(runs, S, impls, "steady", "client_cpu_s"), None, False),
            ("load average (1 min) at start → end", {i: (f"{by(runs, S, i)['loadavg_start'][0]} → {by(runs, S, i).get('loadavg_end', ['?'])[0]}")
                                                     if by(runs, S, i) else None for i in impls}, str, False),
        ]
        rows.append(tool_row(runs, S, impls))
        w(table(rows, impls))
        w("\nRSS of each member over the steady state (samples every "
          f"{a.rss_interval:g} s; start = first steady sample, middle = the sample nearest the middle, "
          "end = last; slope = least squares over the whole steady state; flat = the second half grew "
          "≤ 5 %):\n")
        w(rss_rows(runs, S, impls))
        w("")

    # b) connect storm
    S = "connect-storm"
    if any(by(runs, S, i) for i in impls):
        r0 = next(by(runs, S, i) for i in impls if by(runs, S, i))
        cfg = g(r0, "result", "config", default={}) or {}
        w("## b) Connect storm\n")
        w(f"{f1(cfg.get('rate'))} new sessions/s offered for {cfg.get('duration_s')} s (TCP connect + "
          f"ConnectRequest → ConnectResponse, then {'closeSession → reply' if cfg.get('close') == 'session' else 'close'}), "
          f"round-robin over the members, client sockets bound to {cfg.get('source_ips')} loopback "
          f"source addresses, at most {f1(cfg.get('max_pending'))} in flight, handshake timeout "
          f"{cfg.get('handshake_timeout_s')} s. Meanwhile {cfg.get('bg_sessions')} established "
          f"sessions each read a znode every {cfg.get('bg_read_interval_s')} s and ping every "
          f"{cfg.get('bg_ping_interval_s')} s; their latency is shown for {cfg.get('baseline_s')} s before "
          "the storm (baseline), during it, and while the last storm handshakes finish (tail).\n")
        rows = [
            ("sessions started", vals(runs, S, impls, "storm", "started"), None, False),
            ("handshakes completed in the window", vals(runs, S, impls, "storm", "completed_in_window"), None, False),
            ("achieved rate (handshakes/s in the window)", vals(runs, S, impls, "storm", "achieved_rate"), None, True),
            ("handshake p50 / p99 / max (ms)", lat(runs, S, impls, "storm", "handshake_latency"), str, False),
            ("handshake p99 (ms)", vals(runs, S, impls, "storm", "handshake_latency", "p99_ms"), None, True),
            ("members' CPU during the storm, summed (s)", {i: members_cpu(by(runs, S, i))[0] if by(runs, S, i) and "result" in by(runs, S, i) else None for i in impls}, lambda x: f1(x, 1), True),
            ("members' run-queue wait during the storm, summed (s)", {i: members_cpu(by(runs, S, i))[1] if by(runs, S, i) and "result" in by(runs, S, i) else None for i in impls}, lambda x: f1(x, 1), False),
            ("members' CPU per handshake completed (ms)", {i: (1000 * members_cpu(by(runs, S, i))[0] / g(by(runs, S, i), "result", "storm", "completed_in_window"))
                                                          if g(by(runs, S, i), "result", "storm", "completed_in_window") else None for i in impls}, lambda x: f1(x, 2), True),
            ("failures", vals(runs, S, impls, "storm", "failures"), None, False),
            ("failure kinds", {i: json.dumps(g(by(runs, S, i), "result", "storm", "failure_kinds")) if by(runs, S, i) else None for i in impls}, str, False),
            ("closeSession p50 / p99 / max (ms)", lat(runs, S, impls, "storm", "close_latency"), str, False),
            ("most handshakes in flight", vals(runs, S, impls, "storm", "max_in_flight"), None, False),
            ("others' read p50 / p99 / max, baseline (ms)", lat(runs, S, impls, "background", "baseline", "read_latency"), str, False),
            ("others' read p50 / p99 / max, storm (ms)", lat(runs, S, impls, "background", "storm", "read_latency"), str, False),
            ("others' read p99 during the storm (ms)", vals(runs, S, impls, "background", "storm", "read_latency", "p99_ms"), None, True),
            ("others' ping p50 / p99 / max, baseline (ms)", lat(runs, S, impls, "background", "baseline", "ping_latency"), str, False),
            ("others' ping p50 / p99 / max, storm (ms)", lat(runs, S, impls, "background", "storm", "ping_latency"), str, False),
            ("others' read p50 / p99 / max, tail (ms)", lat(runs, S, impls, "background", "tail", "read_latency"), str, False),
            ("others' losses (baseline+storm+tail) / expirations",
             {i: (f"{sum(g(by(runs, S, i), 'result', 'background', p, 'losses') for p in ('baseline', 'storm', 'tail'))} / "
                  f"{g(by(runs, S, i), 'result', 'background', 'expirations')}") if g(by(runs, S, i), 'result', 'background') else None
              for i in impls}, str, False),
            ("ERROR lines in the members' logs", {i: sum(x["count"] for x in (by(runs, S, i) or {}).get("log_errors", {}).values())
                                                  if by(runs, S, i) else None for i in impls}, None, False),
            ("load average (1 min) at start → end", {i: (f"{by(runs, S, i)['loadavg_start'][0]} → {by(runs, S, i).get('loadavg_end', ['?'])[0]}")
                                                     if by(runs, S, i) else None for i in impls}, str, False),
        ]
        rows.append(tool_row(runs, S, impls))
        w(table(rows, impls))
        w("\nHandshakes completed per second of the storm:\n")
        for i in impls:
            ps = g(by(runs, S, i), "result", "storm", "per_second", default=None)
            if ps:
                w(f"- {IMPL_NAMES[i]}: " + ", ".join(str(x[1]) for x in ps))
        w("\nRSS of each member during the storm:\n")
        w(rss_rows(runs, S, impls))
        w("")

    # c) reconnect storm
    S = "reconnect-storm"
    if any(by(runs, S, i) for i in impls):
        r0 = next(by(runs, S, i) for i in impls if by(runs, S, i))
        cfg = g(r0, "result", "config", default={}) or {}
        w("## c) Reconnect storm\n")
        w(f"{f1(cfg.get('sessions'))} idle sessions (pinging) round-robin over the members and "
          f"{cfg.get('writers')} writers (one setData at a time, every {cfg.get('write_interval_ms')} ms), "
          f"then `kill -9` of the leader by corral-storm {cfg.get('kill_at_s')} s after all were connected. "
          "A client whose connection ends tries the next member of its list at once, then after a random "
          f"0–{cfg.get('backoff_ms')} ms back-off per failed attempt, re-attaching with its session id, "
          "password and last zxid seen (ZooKeeper's client; its own back-off is up to 1 s). Connect timeout "
          "= session timeout / 3, read timeout = 2/3 of it.\n")
        rows = [
            ("sessions that lost their connection", vals(runs, S, impls, "after_kill", "sessions_lost_connection"), None, False),
            ("re-attached / not re-attached", {i: (f"{g(by(runs, S, i), 'result', 'after_kill', 'sessions_reattached')} / "
                                                   f"{g(by(runs, S, i), 'result', 'after_kill', 'sessions_not_reattached')}")
                                               if g(by(runs, S, i), 'result', 'after_kill') else None for i in impls}, str, False),
            ("expired", vals(runs, S, impls, "after_kill", "expired"), None, False),
            ("kill → all sessions re-attached (s)", vals(runs, S, impls, "after_kill", "all_reattached_s"), lambda x: f1(x, 2), True),
            ("kill → re-attached p50 / p99 / max (ms)", lat(runs, S, impls, "after_kill", "reattach_time"), str, False),
            ("kill → first write issued after it acked (s)", vals(runs, S, impls, "after_kill", "first_write_issued_after_kill_acked_s"), lambda x: f1(x, 3), True),
            ("longest gap between write acks (s)", vals(runs, S, impls, "after_kill", "longest_write_gap_s"), lambda x: f1(x, 3), True),
            ("most connection attempts of one session", vals(runs, S, impls, "after_kill", "max_attempts"), None, False),
            ("failed attempts by kind", {i: json.dumps(g(by(runs, S, i), "result", "after_kill", "failed_attempts")) if by(runs, S, i) else None for i in impls}, str, False),
            ("survivors' modes after", {i: json.dumps((by(runs, S, i) or {}).get("modes_after")) if by(runs, S, i) else None for i in impls}, str, False),
            ("load average (1 min) at start → end", {i: (f"{by(runs, S, i)['loadavg_start'][0]} → {by(runs, S, i).get('loadavg_end', ['?'])[0]}")
                                                     if by(runs, S, i) else None for i in impls}, str, False),
        ]
        rows.append(tool_row(runs, S, impls))
        w(table(rows, impls))
        w("\nSessions connected every 100 ms from the kill on:\n")
        for i in impls:
            tl = g(by(runs, S, i), "result", "after_kill", "connected_every_100ms", default=None)
            if tl:
                w(f"- {IMPL_NAMES[i]}: " + " ".join(str(x) for x in tl[:120]))
        w("")

    # d) slow consumer
    S = "slow-consumer"
    if any(by(runs, S, i) for i in impls):
        r0 = next(by(runs, S, i) for i in impls if by(runs, S, i))
        cfg = g(r0, "result", "config", default={}) or {}
        w("## d) Slow consumer\n")
        w(f"{cfg.get('writers')} writer sessions (round-robin over the members) set {cfg.get('keys')} nodes "
          f"of a hot subtree at {cfg.get('rate')}/s (node names of {cfg.get('path_len')} bytes, so that each "
          f"watch event is {cfg.get('event_frame_bytes')} bytes on the wire): {cfg.get('warmup_s')} s of "
          f"warm-up, {cfg.get('baseline_s')} s of baseline, then one more session on a follower adds a "
          "persistent recursive watch on the subtree (addWatch, mode 1), reads the reply and never reads "
          f"its socket again (SO_RCVBUF {cfg.get('slow_rcvbuf')}; it still sends a ping every "
          f"{cfg.get('slow_ping_ms')} ms; session timeout {cfg.get('slow_session_timeout_ms')} ms) for "
          f"{cfg.get('duration_s')} s. RSS of every member every second.\n")
        rows = [
            ("slow session cut by the server", vals(runs, S, impls, "slow_session", "disconnected"), None, False),
            ("… after (s, from its watch being set)", vals(runs, S, impls, "slow_session", "disconnected_after_watch_s"), lambda x: f1(x, 1) if x >= 0 else "never", False),
            ("… seen by the client as", {i: (f"{g(by(runs, S, i), 'result', 'slow_session', 'disconnect_kind')} "
                                            f"{g(by(runs, S, i), 'result', 'slow_session', 'disconnect_errno')}")
                                        if by(runs, S, i) and g(by(runs, S, i), 'result', 'slow_session') else None for i in impls}, str, False),
            ("events the writes caused for it (count)", vals(runs, S, impls, "slow_session", "events_generated_after_watch"), None, False),
            ("… bytes", vals(runs, S, impls, "slow_session", "event_bytes_generated"), lambda x: f"{x / 1048576:.1f} MiB", False),
            ("bytes that reached its (unread) socket", vals(runs, S, impls, "slow_session", "received_but_unread_bytes_max"), None, False),
            ("set/s baseline / with the slow session", {i: (f"{g(by(runs, S, i), 'result', 'baseline', 'set_rate')} / "
                                                            f"{g(by(runs, S, i), 'result', 'slow', 'set_rate')}")
                                                        if g(by(runs, S, i), 'result', 'baseline') else None for i in impls}, str, False),
            ("writers' set p50 / p99 / max, baseline (ms)", lat(runs, S, impls, "baseline", "set_latency"), str, False),
            ("writers' set p50 / p99 / max, slow session (ms)", lat(runs, S, impls, "slow", "set_latency"), str, False),
            ("… writers on the slow session's member (ms)", lat(runs, S, impls, "slow", "set_latency_same_member"), str, False),
            ("writers' set p99 with the slow session (ms)", vals(runs, S, impls, "slow", "set_latency", "p99_ms"), None, True),
            ("ERROR lines in the members' logs", {i: sum(x["count"] for x in (by(runs, S, i) or {}).get("log_errors", {}).values())
                                                  if by(runs, S, i) else None for i in impls}, None, False),
            ("load average (1 min) at start → end", {i: (f"{by(runs, S, i)['loadavg_start'][0]} → {by(runs, S, i).get('loadavg_end', ['?'])[0]}")
                                                     if by(runs, S, i) else None for i in impls}, str, False),
        ]
        rows.append(tool_row(runs, S, impls))
        w(table(rows, impls))
        w("\nRSS of each member from the slow session's arrival to the end (start = when it connected):\n")
        w(rss_rows(runs, S, impls))
        w("\nRSS (MB) of the slow session's member over time (every 5 s; t from corral-storm's start):\n")
        for i in impls:
            r = by(runs, S, i)
            if not r or "result" not in r or "error" in r["result"]:
                continue
            pids = r["result"].get("pids", [])
            sm = (r.get("slow_member") or {}).get("pid")
            if sm in pids:
                w(f"- {IMPL_NAMES[i]}: " + rss_series(r, pids.index(sm)))
        w("\nWriters' set latency per 5 s window (p99 ms; the slow session arrives after the baseline):\n")
        for i in impls:
            ws = g(by(runs, S, i), "result", "windows_5s", default=None)
            if ws:
                w(f"- {IMPL_NAMES[i]}: " + ", ".join(f"{x['p99_ms']:.0f}" for x in ws))
        w("")

    # findings
    w("## Anomalies seen by the driver\n")
    any_found = False
    for r in runs:
        name = f"{IMPL_NAMES.get(r['impl'], r['impl'])} {r['scenario']}"
        if r.get("error"):
            w(f"- {name}: run failed: {r['error']}")
            any_found = True
        if g(r, "result", "error"):
            w(f"- {name}: corral-storm: {r['result']['error']}")
            any_found = True
        for e in r.get("members_exited", []):
            w(f"- {name}: member {e['sid']} (pid {e['pid']}) EXITED with {e['returncode']}; log tail in the raw JSON")
            any_found = True
        for sid, found in (r.get("log_errors") or {}).items():
            w(f"- {name}: member {sid} logged {found['count']} error line(s), e.g. `{found['first'][0][:200]}`")
            any_found = True
        failed = [k for k, v in (r.get("verdict") or {}).items() if v is False]
        if failed:
            where = f"; dirs kept in {r['kept_dir']}" if r.get("kept_dir") else ""
            if r.get("member_logs"):
                where += f"; member logs copied to {os.path.dirname(r['member_logs'][0])}"
            w(f"- {name}: failed {', '.join(failed)}{where}")
            any_found = True
    if not any_found:
        w("None.")
    w("")
    if a.notes and os.path.exists(a.notes):
        w("## Notes\n")
        w(open(a.notes).read().strip())
        w("")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


# ------------------------------------------------------------------ main
def report_only(a):
    """Rewrites the report from raw JSON files (comma-separated): a later file's runs replace an
    earlier one's of the same server and scenario; with several files the merged raw JSON is
    written next to the report."""
    paths = [p for p in a.report_only.split(",") if p]
    raws = []
    for p in paths:
        with open(p) as f:
            raws.append(json.load(f))
    merged = {}
    for raw in raws:
        for r in raw["runs"]:
            merged[(r["impl"], r["scenario"])] = r
    order = [s for s in SCENARIOS]
    runs = sorted(merged.values(), key=lambda r: order.index(r["scenario"]))
    base = raws[0]
    opts = argparse.Namespace(**base["options"])
    opts.notes = a.notes
    impls = []
    for raw in raws:
        for r in raw["runs"]:
            if r["impl"] not in impls:
                impls.append(r["impl"])
    impls.sort(key=lambda i: list(IMPL_NAMES).index(i))
    suffix = f"-{a.tag}" if a.tag else ""
    os.makedirs(a.out, exist_ok=True)
    if len(raws) > 1:
        command = [raw["command"] for raw in raws]
        raw_name = f"soak{suffix}-raw.json"
        out_raw = dict(base, runs=runs, merged_from=[
            {"file": os.path.basename(p), "command": raw["command"],
             "date": raw["machine"]["date"], "runs": [[r["impl"], r["scenario"]] for r in raw["runs"]]}
            for p, raw in zip(paths, raws)])
        with open(os.path.join(a.out, raw_name), "w") as f:
            json.dump(out_raw, f, indent=1)
    else:
        command, raw_name = base["command"], os.path.basename(paths[0])
    path = os.path.join(a.out, f"RESULTS{suffix}.md")
    write_report(path, opts, runs, impls, base["machine"], base["versions"], command,
                 sum(raw["elapsed_s"] for raw in raws), base["rlimit_nofile"], raw_name)
    print(f"wrote {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"),
                    help="Corral build tree (bin/corral-server, lib/corral/plugins) [build]")
    ap.add_argument("--storm-bin", help="corral-storm binary [<build>/bin/corral-storm, else "
                                        "tests/soak/build/corral-storm, built if missing]")
    ap.add_argument("--impls", default="zookeeper,corral")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--quick", action="store_true", help="smoke sizes (~1.5 min per server)")
    ap.add_argument("--session-timeout", type=int, default=30000)
    ap.add_argument("--progress", type=float, default=10)
    ap.add_argument("--zk-heap", default="3g", help="ZooKeeper's -Xmx per member [3g]")
    ap.add_argument("--listen-backlog", type=int, default=4096,
                    help="clientPortListenBacklog of every member, both servers [4096]")
    # soak
    ap.add_argument("--sessions", type=int, help="soak sessions [10000; quick 1000]")
    ap.add_argument("--watches", type=int, help="watches per soak session [100; quick 20]")
    ap.add_argument("--keys", type=int, help="soak key space [100000; quick 5000]")
    ap.add_argument("--writers", type=int, default=4)
    ap.add_argument("--write-rate", type=float, help="soak setData/s [300; quick 100]")
    ap.add_argument("--minutes", type=float, help="soak steady state [10; quick 0.5]")
    ap.add_argument("--rss-interval", type=float, help="soak RSS sample interval [5; quick 2]")
    # connect storm
    ap.add_argument("--storm-rate", type=float, help="new sessions/s [5000; quick 1000]")
    ap.add_argument("--storm-seconds", type=float, help="storm duration [30; quick 5]")
    ap.add_argument("--storm-baseline", type=float, help="seconds before the storm [10; quick 3]")
    ap.add_argument("--bg-sessions", type=int, help="established sessions [300; quick 100]")
    ap.add_argument("--storm-close", default="session", choices=("session", "close"))
    # reconnect storm
    ap.add_argument("--rc-sessions", type=int, help="sessions [1000; quick 200]")
    ap.add_argument("--kill-at", type=float, help="seconds after all connected [5; quick 3]")
    # slow consumer
    ap.add_argument("--slow-rate", type=float, help="setData/s on the hot subtree [1000]")
    ap.add_argument("--slow-seconds", type=float, help="seconds with the slow session [60; quick 20]")
    ap.add_argument("--slow-baseline", type=float, help="[20; quick 5]")
    ap.add_argument("--slow-warmup", type=float, help="[10; quick 3]")
    ap.add_argument("--slow-path-len", type=int, default=1000)
    ap.add_argument("--slow-session-timeout", type=int,
                    help="the slow session's requested timeout, ms [--session-timeout; quick 6000]")
    ap.add_argument("--tmp-base", default=tempfile.gettempdir())
    ap.add_argument("--out", default=SOAK_DIR)
    ap.add_argument("--tag", default="", help="RESULTS-<tag>.md / soak-<tag>-raw.json")
    ap.add_argument("--notes", help="a Markdown file appended to the report as ## Notes")
    ap.add_argument("--keep-dirs", action="store_true")
    ap.add_argument("--report-only", metavar="RAW_JSON",
                    help="run nothing: rewrite the report from a raw JSON file of an earlier run "
                         "(e.g. to add --notes), into --out with --tag")
    a = ap.parse_args()
    if a.report_only:
        return report_only(a)
    q = a.quick

    def d(v, full, quick):
        return v if v is not None else (quick if q else full)

    a.sessions = d(a.sessions, 10000, 1000)
    a.watches = d(a.watches, 100, 20)
    a.keys = d(a.keys, 100000, 5000)
    a.write_rate = d(a.write_rate, 300, 100)
    a.minutes = d(a.minutes, 10, 0.5)
    a.rss_interval = d(a.rss_interval, 5, 2)
    a.storm_rate = d(a.storm_rate, 5000, 1000)
    a.storm_seconds = d(a.storm_seconds, 30, 5)
    a.storm_baseline = d(a.storm_baseline, 10, 3)
    a.bg_sessions = d(a.bg_sessions, 300, 100)
    a.rc_sessions = d(a.rc_sessions, 1000, 200)
    a.kill_at = d(a.kill_at, 5, 3)
    a.slow_rate = d(a.slow_rate, 1000, 1000)
    a.slow_seconds = d(a.slow_seconds, 60, 20)
    a.slow_baseline = d(a.slow_baseline, 20, 5)
    a.slow_warmup = d(a.slow_warmup, 10, 3)
    a.slow_session_timeout = d(a.slow_session_timeout, a.session_timeout, 6000)
    impls = [i for i in a.impls.split(",") if i]
    scenarios = [s for s in a.scenarios.split(",") if s]
    for s in scenarios:
        if s not in SCENARIOS:
            raise SystemExit(f"unknown scenario {s} ({', '.join(SCENARIOS)})")
    for i in impls:
        if i not in IMPL_NAMES:
            raise SystemExit(f"unknown server {i} (zookeeper, corral)")
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)
    t_start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    nofile = raise_nofile()
    log(f"RLIMIT_NOFILE {nofile}")
    build = os.path.abspath(a.corral_build)
    tmp = tempfile.mkdtemp(prefix="corral-soak-bin-", dir=a.tmp_base)
    suffix = f"-{a.tag}" if a.tag else ""
    os.makedirs(a.out, exist_ok=True)
    logs_dir = tempfile.mkdtemp(prefix="corral-soak-logs-", dir=a.tmp_base)
    try:
        storm_src = find_storm_bin(a.storm_bin, build, log)
        storm_bin = os.path.join(tmp, "corral-storm")
        shutil.copy2(storm_src, storm_bin)
        corral_bin = ensemble_bench.snapshot_corral(build, os.path.join(tmp, "corral"), log) \
            if "corral" in impls else None
        machine = benchlib.machine_info()
        vers = benchlib.versions(os.path.join(build, "bin", "corral-server"))
        runs = []
        raw_name = f"soak{suffix}-raw.json"
        for sc in scenarios:
            for impl in impls:
                runs.append(run_one(impl, sc, a, corral_bin, storm_bin, log, logs_dir))
                elapsed = time.monotonic() - t_start
                with open(os.path.join(a.out, raw_name), "w") as f:
                    json.dump({"machine": machine, "versions": vers, "command": command,
                               "quick": q, "elapsed_s": elapsed, "rlimit_nofile": nofile,
                               "options": vars(a), "runs": runs}, f, indent=1)
                write_report(os.path.join(a.out, f"RESULTS{suffix}.md"), a, runs, impls, machine,
                             vers, command, elapsed, nofile, raw_name)
        log(f"wrote {os.path.join(a.out, f'RESULTS{suffix}.md')} and {raw_name}; corral-storm logs in {logs_dir}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
