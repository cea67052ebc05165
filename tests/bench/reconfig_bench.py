#!/usr/bin/python3
"""Dynamic reconfiguration side by side: Corral vs Apache ZooKeeper 3.8.

Reuses ensemble_bench.py's ensembles (same settings: tickTime=2000, initLimit=10, syncLimit=5,
forceSync=yes, maxClientCnxns=0, AdminServer off, `java -Xmx2g` per ZooKeeper member; Corral
from a copy of the build taken at the start) plus `reconfigEnabled=true` and
`DigestAuthenticationProvider.superDigest` (super:test) in every member's zoo.cfg. 3 voters,
sid N on 127.0.0.(N+1); a 4th member (the joiner, 127.0.0.5) is in no voter's file. Every
reconfig is kazoo's `client.reconfig(joining, leaving, None)` as the super user, timed on the
client around the call.

Per repetition (--reps; A B A B ..., a fresh ensemble and dataDirs each time):
  1. latency: --tries times, add `server.5=127.0.0.6:q:e:observer;127.0.0.6:c` (an observer
     nobody runs, free ports) and remove it again, through a client on a follower: round trip
     of each call (median and p90 of the adds and of the removes over all repetitions);
  2. load --znodes znodes of 100 B (corral-bench --op load over the voters), then a real
     observer: spawn the joiner (its zoo.cfg: the 3 voters + itself as observer, peerType
     observer) and time (a) spawn -> srvr Mode: follower (a non-voting follower) at the
     leader's Zxid; (b) reconfig add (its observer spec with a client part) -> srvr Mode:
     observer and a sync + getData on it of a sequential znode created right after the reply
     answers err 0; then remove it and stop it;
  3. leader removal under writes, --removal-tries times: a raw-protocol writer (ensemble_bench's
     KillWriter: one session, one sequential create of 100 B at a time, reconnecting after
     5 ms, to the same member) on the highest-sid follower (it stays in the config; it may
     be the one designated to lead); after 1 s of writes `reconfig -remove <leader>` through a
     client on the leader; reported: reconfig issued -> ack of the first write acknowledged after the reply
     arrived, and the longest gap between consecutive acks from 1 s before the call to 1 s
     after that write. The removed member keeps running as a non-voting follower; it is added
     back as a participant and the ensemble waited for (one leader) before the next try.
Writes RESULTS-reconfig.md and reconfig-raw.json into --out.

  /usr/bin/python3 tests/bench/reconfig_bench.py --corral-build build --quick   # ~1 min
  /usr/bin/python3 tests/bench/reconfig_bench.py --corral-build build           # ~10 min
"""
import argparse
import json
import logging
import math
import os
import shlex
import shutil
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402
import ensemble_bench as eb  # noqa: E402
from ensemble_bench import fmt, median, parse_srvr, ratio  # noqa: E402

VOTERS = 3
SUPER_DIGEST = "super:D/InIHSb7yEEbrWz8b9l71RjZJU="  # password super:test (kazoo's harness)
SUPER_AUTH = [("digest", "super:test")]
RECONFIG_SETTINGS = {"reconfigEnabled": "true",
                     "DigestAuthenticationProvider.superDigest": SUPER_DIGEST}
WROOT = "/reconfig-bench"
STEADY_S = 1.0


# ------------------------------------------------------------------ clients
def super_client(members, timeout=30.0):
    """A kazoo client on `members`, authenticated as the super user (auth done in start())."""
    from kazoo.client import KazooClient
    c = KazooClient(hosts=",".join(m.hosts for m in members), auth_data=SUPER_AUTH,
                    timeout=30.0)
    c.start(timeout=timeout)
    return c


def close_client(c):
    if c is None:
        return
    try:
        c.stop()
        c.close()
    except Exception:  # noqa: BLE001 - best effort
        pass


def timed_reconfig(client, joining=None, leaving=None, timeout=60.0):
    """One reconfig; returns (t_call, t_return, config text or None, error or None)."""
    t0 = time.monotonic()
    try:
        data, _stat = client.reconfig_async(joining, leaving, None, -1).get(timeout=timeout)
        t1 = time.monotonic()
        return t0, t1, data.decode() if isinstance(data, bytes) else data, None
    except Exception as e:  # noqa: BLE001 - ConnectionLoss, timeout, a server error
        return t0, time.monotonic(), None, f"{type(e).__name__}: {e}"


def members_of(text):
    """{sid: spec} of a config text (server.N=spec lines)."""
    out = {}
    for line in (text or "").splitlines():
        k, sep, v = line.partition("=")
        if sep and k.strip().startswith("server."):
            out[int(k.strip()[7:])] = v.strip()
    return out


def spec(m, role):
    return f"server.{m.sid}={m.host}:{m.quorum_port}:{m.election_port}:{role};{m.host}:{m.port}"


def sync_get(m, path, timeout=2.0):
    """Raw session on member m: sync(path) then getData(path), pipelined. Returns the getData
    error code (0 = found) when the sync succeeded, the sync's error otherwise, None when the
    member did not answer."""
    try:
        with socket.create_connection((m.host, m.port), timeout=timeout) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            f = benchlib._frame
            connect = struct.pack(">iqiq", 0, 0, 30000, 0) + struct.pack(">i", 16) \
                + b"\0" * 16 + b"\0"
            sync = struct.pack(">ii", 1, 9) + benchlib._ustr(path)
            get = struct.pack(">ii", 2, 4) + benchlib._ustr(path) + b"\0"
            s.sendall(f(connect) + f(sync) + f(get))
            resp = benchlib._recv_frame(s)
            if len(resp) < 16 or struct.unpack(">q", resp[8:16])[0] == 0:
                return None
            errs = {}
            while len(errs) < 2:
                xid, _zxid, err = struct.unpack(">iqi", benchlib._recv_frame(s)[:16])
                if xid in (1, 2):
                    errs[xid] = err
            try:
                s.sendall(f(struct.pack(">ii", 3, -11)))
                benchlib._recv_frame(s)
            except OSError:
                pass
            return errs[2] if errs[1] == 0 else errs[1]
    except (OSError, ConnectionError, struct.error):
        return None


def pct(vals, p):
    """Nearest-rank percentile."""
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    return vals[max(0, math.ceil(p / 100 * len(vals)) - 1)]


# ------------------------------------------------------------------ 1. add/remove latency
def latency_part(ens, client, a, log):
    sid = len(ens.members) + 1  # after the joiner: nobody runs it
    host = f"127.0.0.{sid + 1}"
    q, e, c = eb.reserve_ports(3)
    joining = f"server.{sid}={host}:{q}:{e}:observer;{host}:{c}"
    out = {"spec": joining, "add_ms": [], "remove_ms": [], "errors": []}
    for i in range(a.tries):
        t0, t1, data, err = timed_reconfig(client, joining=joining)
        if err or sid not in members_of(data):
            out["errors"].append(f"add {i + 1}: {err or 'not in the reply: ' + str(data)}")
        else:
            out["add_ms"].append((t1 - t0) * 1000)
        t0, t1, data, err = timed_reconfig(client, leaving=str(sid))
        if err or sid in members_of(data):
            out["errors"].append(f"remove {i + 1}: {err or 'still in the reply: ' + str(data)}")
        else:
            out["remove_ms"].append((t1 - t0) * 1000)
        out["last_config"] = data
        time.sleep(0.05)
    log(f"  latency: add median {fmt(median(out['add_ms']))} p90 {fmt(pct(out['add_ms'], 90))} "
        f"ms, remove median {fmt(median(out['remove_ms']))} p90 "
        f"{fmt(pct(out['remove_ms'], 90))} ms ({len(out['add_ms'])}/{a.tries} ok) "
        f"{'; '.join(out['errors'][:3])}")
    return out


# ------------------------------------------------------------------ 2. a real observer joins
def join_part(ens, joiner, client, a, log, timeout):
    leader = ens.leader()
    zl = parse_srvr(leader.srvr()).get("Zxid")
    r = {"joiner_sid": joiner.sid, "leader_sid": leader.sid, "leader_zxid": zl}
    t_spawn = joiner.start()
    end = t_spawn + timeout
    while True:
        if not joiner.alive():
            raise RuntimeError(f"joiner exited\n{joiner.log_tail()}")
        text = joiner.srvr(timeout=5.0)
        info = parse_srvr(text)
        t = time.monotonic()
        if text and "up_ms" not in r:
            r["up_ms"] = (t - t_spawn) * 1000
        z = info.get("Zxid")
        if info.get("Mode") == "follower" and z and int(z, 16) >= int(zl, 16):
            r["follower_ms"] = (t - t_spawn) * 1000
            break
        if t > end:
            raise RuntimeError(f"joiner not a follower at {zl} within {timeout}s: {text}")
        time.sleep(0.02)
    r["sync_mode"] = eb.sync_mode(joiner, leader)
    t0, t1, data, err = timed_reconfig(client, joining=spec(joiner, "observer"))
    r["add_rtt_ms"] = (t1 - t0) * 1000
    if err or joiner.sid not in members_of(data):
        raise RuntimeError(f"reconfig add of the joiner: {err or data}")
    newest = client.create(f"{WROOT}/newest-", b"n" * a.value_size, sequence=True)
    r["newest"] = newest
    r["newest_created_ms"] = (time.monotonic() - t0) * 1000
    end = time.monotonic() + 60
    while True:
        t = time.monotonic()
        if "observer_mode_ms" not in r:
            if joiner.mode() == "observer":
                r["observer_mode_ms"] = (time.monotonic() - t0) * 1000
        if "observer_mode_ms" in r:
            err = sync_get(joiner, newest, timeout=5.0)
            if err == 0:
                r["observer_ms"] = (time.monotonic() - t0) * 1000
                break
            r["newest_err"] = err
        if t > end:
            raise RuntimeError(f"joiner not an observer reading {newest} within 60 s: "
                               f"{joiner.srvr()}")
        time.sleep(0.02)
    r["newest_err"] = 0
    t0, t1, data, err = timed_reconfig(client, leaving=str(joiner.sid))
    r["remove_rtt_ms"] = (t1 - t0) * 1000
    if err or joiner.sid in members_of(data):
        r["error"] = f"reconfig remove of the joiner: {err or data}"
    end = time.monotonic() + 30
    while time.monotonic() < end and joiner.mode() != "follower":
        time.sleep(0.02)
    r["mode_after_remove"] = joiner.mode()
    joiner.stop()
    ens.wait_serving(120)
    log(f"  join: spawn -> non-voting follower {fmt(r['follower_ms'])} ms (port up "
        f"{fmt(r.get('up_ms'))}, sync {r['sync_mode']}); add -> observer reading the newest key "
        f"{fmt(r['observer_ms'])} ms (add rtt {fmt(r['add_rtt_ms'])}, Mode observer at "
        f"{fmt(r.get('observer_mode_ms'))}); removed ({fmt(r['remove_rtt_ms'])} ms) -> "
        f"{r['mode_after_remove']}, stopped {r.get('error', '')}")
    return r


# ------------------------------------------------------------------ 3. leader removal
def removal_try(ens, a, log, timeout=60.0):
    ens.wait_serving(120)
    leader = ens.leader()
    fols = sorted(ens.followers(), key=lambda m: m.sid)
    stay = fols[-1]
    r = {"leader_sid": leader.sid, "writer_sid": stay.sid}
    w = eb.KillWriter([(stay.host, stay.port)], f"{WROOT}/w/s-", create=True).start()
    rc = None
    try:
        r["writes_per_s_before"] = eb.wait_steady(w, STEADY_S, "the reconfig")
        rc = super_client([leader])
        t0, t1, data, err = timed_reconfig(rc, leaving=str(leader.sid), timeout=timeout)
        r["reconfig_rtt_ms"] = (t1 - t0) * 1000
        r["reply"] = "reply" if err is None else err
        if err is None and leader.sid in members_of(data):
            raise RuntimeError(f"leader still in the new config: {data}")
        first = None
        end = t1 + timeout
        while time.monotonic() < end:
            later = [x for x in w.acked() if x[1] >= t1]
            if later:
                first = min(later, key=lambda x: x[1])
                break
            time.sleep(0.01)
        if first is None:
            raise RuntimeError(f"no acknowledged write within {timeout}s of the reconfig reply")
        r["first_write_ms"] = (first[1] - t0) * 1000
        issued = w.first_ack_issued_after(t1)
        time.sleep(STEADY_S)
        issued = issued or w.first_ack_issued_after(t1)
        r["first_issued_after_reply_ms"] = (issued[1] - t0) * 1000 if issued else None
        acks = sorted(x[1] for x in w.acked() if t0 - STEADY_S <= x[1] <= first[1] + STEADY_S)
        gaps = [(b - x, x) for x, b in zip(acks, acks[1:])]
        if gaps:
            g, at = max(gaps)
            r["max_gap_ms"] = g * 1000
            r["max_gap_starts_ms"] = (at - t0) * 1000  # relative to the reconfig call
        ev = w.events_between(t0, first[1])
        r["writer_events"] = [f"+{(t - t0) * 1000:.0f} ms {x}" for t, x in ev][:12]
        with w._lock:
            r["errors_after"] = sorted({e for ti, _ta, e, _p in w.replies
                                        if e != 0 and ti >= t0})
    finally:
        w.stop()
        close_client(rc)
    # the old leader: non-voting follower; one leader among the two voters
    end = time.monotonic() + 60
    while time.monotonic() < end and leader.mode() != "follower":
        time.sleep(0.05)
    modes = ens.wait_serving(120)
    new = next(m for m in ens.members if modes.get(m.sid) == "leader")
    r["new_leader_sid"] = new.sid
    r["writer_on_new_leader"] = new.sid == stay.sid
    r["old_leader_mode"] = modes.get(leader.sid)
    # add it back as a participant
    c = super_client([new])
    try:
        t0, t1, data, err = timed_reconfig(c, joining=spec(leader, "participant"),
                                           timeout=timeout)
    finally:
        close_client(c)
    r["readd_rtt_ms"] = (t1 - t0) * 1000
    if err or leader.sid not in members_of(data):
        raise RuntimeError(f"re-adding member {leader.sid}: {err or data}")
    ens.wait_serving(120)
    r["readd_serving_ms"] = (time.monotonic() - t0) * 1000
    return r


# ------------------------------------------------------------------ one repetition
def run_rep(impl, rep, a, corral_bin, bench_bin, log):
    ens = eb.Ensemble(impl, corral_bin, a.tmp_base, f"reconfig-r{rep}", size=VOTERS,
                      extra=RECONFIG_SETTINGS, distinct_hosts=True, joiners=1,
                      joiner_role="observer",
                      corral_extra=benchlib.parse_settings(a.corral_setting))
    voters, joiner = ens.members[:VOTERS], ens.members[VOTERS]
    out = {"impl": impl, "rep": rep, "removals": [],
           "hosts": {m.sid: m.hosts for m in ens.members}}
    client = None
    try:
        t0 = time.monotonic()
        modes = ens.start(180)
        out["start_s"] = time.monotonic() - t0
        fol = sorted(ens.followers(), key=lambda m: m.sid)[0]
        out["leader_sid"] = ens.leader().sid
        out["client_sid"] = fol.sid
        log(f"rep {rep} {impl}: serving after {out['start_s']:.1f} s, modes {modes}; reconfig "
            f"client on member {fol.sid}")
        client = super_client([fol])
        out["latency"] = latency_part(ens, client, a, log)

        if a.znodes > 0:
            t0 = time.monotonic()
            load = benchlib.run_bench(bench_bin, [
                "--hosts", ens.hosts(voters), "--op", "load", "--keys", a.znodes, "--parents",
                a.parents, "--value-size", a.value_size, "--sessions", 16, "--inflight", 64,
                "--setup-timeout", a.load_timeout], timeout=a.load_timeout + 120)
            out["load_s"] = time.monotonic() - t0
            out["load_creates_per_s"] = load.get("load_creates_per_s")
            if "error" in load or load.get("setup_errors") or load.get("rc"):
                raise RuntimeError(f"load failed: {json.dumps(load)[:600]}")
            log(f"  loaded {a.znodes:,} znodes in {out['load_s']:.1f} s")
        client.ensure_path(f"{WROOT}/w")
        end = time.monotonic() + 120
        while time.monotonic() < end:  # every voter at the same zxid
            zx = {m.sid: parse_srvr(m.srvr()).get("Zxid") for m in voters}
            if len(set(zx.values())) == 1 and None not in zx.values():
                break
            time.sleep(0.2)
        time.sleep(1.0)
        out["join"] = join_part(ens, joiner, client, a, log, a.load_timeout)
        close_client(client)
        client = None

        for k in range(a.removal_tries):
            r = removal_try(ens, a, log)
            out["removals"].append(r)
            log(f"  removal {k + 1}/{a.removal_tries}: leader {r['leader_sid']} removed "
                f"({r['reply']}, rtt {fmt(r['reconfig_rtt_ms'])} ms) -> first write "
                f"{fmt(r.get('first_write_ms'))} ms, longest gap {fmt(r.get('max_gap_ms'))} ms "
                f"(writer on {r['writer_sid']}, {fmt(r['writes_per_s_before'])} writes/s; "
                f"new leader {r['new_leader_sid']}; re-added in {fmt(r['readd_serving_ms'])} "
                f"ms; errors {r.get('errors_after')})")
        out["modes_after"] = ens.modes()
    except Exception as e:  # noqa: BLE001 - keep going with the other server
        out["error"] = str(e)
        log(f"rep {rep} {impl}: FAILED: {e}")
    finally:
        close_client(client)
        out["log_excerpts"] = eb.grep_logs(ens)
        ens.cleanup(keep=a.keep_dirs)
    return out


# ------------------------------------------------------------------ summary + report
def summarize(reps, impls):
    s = {}
    for impl in impls:
        mine = [r for r in reps if r["impl"] == impl]
        add = [x for r in mine for x in (r.get("latency") or {}).get("add_ms", [])]
        rem = [x for r in mine for x in (r.get("latency") or {}).get("remove_ms", [])]
        joins = [r["join"] for r in mine if r.get("join")]
        rms = [x for r in mine for x in r["removals"]]
        s[impl] = {
            "add_ms": {"median": median(add), "p90": pct(add, 90), "n": len(add)},
            "remove_ms": {"median": median(rem), "p90": pct(rem, 90), "n": len(rem)},
            "join_follower_ms": median([j.get("follower_ms") for j in joins]),
            "join_observer_ms": median([j.get("observer_ms") for j in joins]),
            "join_add_rtt_ms": median([j.get("add_rtt_ms") for j in joins]),
            "join_n": len(joins),
            "removal_first_write_ms": median([x.get("first_write_ms") for x in rms]),
            "removal_max_gap_ms": median([x.get("max_gap_ms") for x in rms]),
            "removal_rtt_ms": median([x.get("reconfig_rtt_ms") for x in rms]),
            "removal_n": len(rms),
            "failed_reps": sum(1 for r in mine if r.get("error")),
        }
    return s


def table_rows(summary, a):
    z, c = summary.get("zookeeper", {}), summary.get("corral", {})

    def g(d, *ks):
        for k in ks:
            d = (d or {}).get(k)
        return d
    return [
        ("reconfig add of an observer nobody runs, median ms", ("add_ms", "median")),
        ("… p90 ms", ("add_ms", "p90")),
        ("reconfig remove of it, median ms", ("remove_ms", "median")),
        ("… p90 ms", ("remove_ms", "p90")),
        (f"new observer at {a.znodes:,} znodes: spawn → non-voting follower, ms",
         ("join_follower_ms",)),
        ("… reconfig add → Mode observer + sync/get of the newest key, ms",
         ("join_observer_ms",)),
        ("… that reconfig add's round trip, ms", ("join_add_rtt_ms",)),
        ("leader removed under writes: reconfig → first ack after its reply, median ms",
         ("removal_first_write_ms",)),
        ("… longest gap between acknowledged writes, median ms", ("removal_max_gap_ms",)),
        ("… the reconfig's round trip, median ms", ("removal_rtt_ms",)),
    ], g, z, c


def table_lines(summary, a):
    rows, g, z, c = table_rows(summary, a)
    L = ["| measure | ZooKeeper | Corral | ratio |", "|---|---:|---:|---:|"]
    for label, ks in rows:
        zv, cv = g(z, *ks), g(c, *ks)
        L.append(f"| {label} | {fmt(zv)} | {fmt(cv)} | {fmt(ratio(cv, zv), 2)} |")
    return L


def write_report(path, a, summary, reps, machine, vers, command, elapsed):
    L = ["# Dynamic reconfiguration: Corral vs Apache ZooKeeper 3.8\n"]
    mode = "QUICK (smoke test — indicative only)" if a.quick else "full"
    L.append(f"* Mode: **{mode}**; {a.reps} repetition(s) per server, A B alternated, a fresh "
             f"ensemble and dataDirs per repetition; {a.tries} add/remove pairs, "
             f"{a.removal_tries} leader removals per repetition; {a.znodes:,} znodes of "
             f"{a.value_size} B loaded before the join.")
    L.append(f"* Date: {machine['date']}; wall time {elapsed / 60:.1f} min.")
    L.append(f"* Machine: {machine['cpu_model']} ({machine['cpu_mhz']} MHz), nproc = "
             f"{machine['nproc']}, MemTotal {machine['mem_total']}, Linux {machine['kernel']}; "
             f"load average at start {machine['loadavg_at_start']}. All members, the writer and "
             "the clients share these cores.")
    L.append(f"* ZooKeeper {vers['zookeeper']} (Debian), {vers['java']}, `java -Xmx2g` per "
             f"member; Corral commit {vers['corral_commit']} (built "
             f"{vers.get('corral_binary_mtime', '?')}, copied with its plugins at the start).")
    L.append("* 3 voters, sid N on 127.0.0.(N+1); `" + "`, `".join(
        f"{k}={v}" for k, v in {**eb.SETTINGS, **RECONFIG_SETTINGS}.items())
        + "` (super:test). Reconfigs: kazoo 2.8 `reconfig(joining, leaving, None)` as the super "
        "user, timed on the client around the call.")
    if a.corral_setting:
        L.append(f"* Extra Corral settings: `{' '.join(a.corral_setting)}`")
    L.append(f"* Command: `{command}`\n")
    L.append("## Results (medians)\n")
    L += table_lines(summary, a)
    L.append("\nratio = Corral / ZooKeeper (< 1 favours Corral).\n")
    L.append("* **add / remove**: `server.5=127.0.0.6:q:e:observer;127.0.0.6:c` on free ports "
             "(nobody listens there) added and removed again, alternately, through a kazoo "
             "client on the lowest-sid follower; median and p90 over every call of every "
             "repetition.")
    L.append("* **new observer**: the joiner (sid 4 on 127.0.0.5; its zoo.cfg lists the 3 voters "
             "and itself as observer, `peerType=observer`; no voter lists it) is spawned on an "
             "empty dataDir: spawn → `srvr` Mode: follower at the leader's Zxid (it syncs as a "
             "non-voting follower). Then `reconfig` add of its observer spec (with its client "
             "port) through the same client, a sequential create on that client right after the "
             "reply, and from the reconfig call → `srvr` Mode: observer and a raw sync + getData "
             "of that znode on the joiner answered with err 0 (polled every 20 ms). Then it is "
             "removed (back to a non-voting follower) and stopped.")
    L.append("* **leader removal**: a raw-protocol writer (one session, one sequential create of "
             f"{a.value_size} B at a time, reconnecting after 5 ms to the same member) on the "
             "highest-sid follower (it stays in the config, and may be the one designated to "
             "lead); after 1 s of writes `reconfig` remove of the leader through "
             "a kazoo client on the leader. first ack = reconfig call → the first write "
             "acknowledged after the reply arrived (a ConnectionLoss counts as the reply); gap = "
             "the longest time between consecutive acks from 1 s before the call to 1 s after "
             "that write. The removed member stays up as a non-voting follower; it is added back "
             "(participant) and the ensemble waited for before the next try.\n")
    L.append("## Every join\n")
    L.append("| server | rep | port up ms | non-voting follower ms | sync | add rtt ms | Mode "
             "observer ms | newest key read ms | remove rtt ms | mode after remove |")
    L.append("|---|---:|---:|---:|---|---:|---:|---:|---:|---|")
    for r in reps:
        j = r.get("join")
        if j:
            L.append(f"| {r['impl']} | {r['rep']} | {fmt(j.get('up_ms'))} | "
                     f"{fmt(j.get('follower_ms'))} | {j.get('sync_mode')} | "
                     f"{fmt(j.get('add_rtt_ms'))} | {fmt(j.get('observer_mode_ms'))} | "
                     f"{fmt(j.get('observer_ms'))} | {fmt(j.get('remove_rtt_ms'))} | "
                     f"{j.get('mode_after_remove')} |")
    L.append("\n## Every leader removal\n")
    L.append("| server | rep | try | leader → new leader | writer on | writes/s before | "
             "reconfig rtt ms | reply | first ack ms | first write issued after the reply, "
             "acked ms | longest gap ms (starts at ms) | error replies | re-added, serving "
             "after ms |")
    L.append("|---|---:|---:|---|---:|---:|---:|---|---:|---:|---|---|---:|")
    for r in reps:
        for i, x in enumerate(r["removals"]):
            L.append(f"| {r['impl']} | {r['rep']} | {i + 1} | {x['leader_sid']} → "
                     f"{x.get('new_leader_sid')} | {x['writer_sid']} | "
                     f"{fmt(x.get('writes_per_s_before'))} | {fmt(x.get('reconfig_rtt_ms'))} | "
                     f"{x.get('reply')} | {fmt(x.get('first_write_ms'))} | "
                     f"{fmt(x.get('first_issued_after_reply_ms'))} | "
                     f"{fmt(x.get('max_gap_ms'))} ({fmt(x.get('max_gap_starts_ms'))}) | "
                     f"{x.get('errors_after')} | {fmt(x.get('readd_serving_ms'))} |")
    L.append("\n## Errors, failures\n")
    notes = []
    for r in reps:
        if r.get("error"):
            notes.append(f"* {r['impl']} rep {r['rep']}: **failed**: `{r['error'][:300]}`")
        for e in (r.get("latency") or {}).get("errors", []):
            notes.append(f"* {r['impl']} rep {r['rep']} latency: {e[:200]}")
        if (r.get("join") or {}).get("error"):
            notes.append(f"* {r['impl']} rep {r['rep']} join: {r['join']['error'][:300]}")
    L.extend(notes or ["None."])
    L.append("\nRaw JSON (every timing, the writer's connection events, WARN/ERROR lines of each "
             "member's log): `reconfig-raw.json`. Details: `README.md`.")
    with open(path, "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corral-build", default=os.path.join(benchlib.REPO, "build"))
    ap.add_argument("--bench-bin")
    ap.add_argument("--quick", action="store_true",
                    help="1 repetition, 5 add/remove pairs, 2 removals, 20k znodes")
    ap.add_argument("--reps", type=int, help="repetitions per server [3; quick 1]")
    ap.add_argument("--tries", type=int, help="add/remove pairs per repetition [20; quick 5]")
    ap.add_argument("--removal-tries", type=int,
                    help="leader removals per repetition [min(5, --tries); quick 2]")
    ap.add_argument("--znodes", type=int,
                    help="znodes loaded before the join [100000; quick 20000]; 0: none")
    ap.add_argument("--parents", type=int, default=1000)
    ap.add_argument("--value-size", type=int, default=100)
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
    a.tries = a.tries or (5 if q else 20)
    a.removal_tries = a.removal_tries or (2 if q else min(5, a.tries))
    a.znodes = a.znodes if a.znodes is not None else (20_000 if q else 100_000)
    impls = [i for i in a.impls.split(",") if i]
    command = "/usr/bin/python3 " + " ".join(shlex.quote(x) for x in sys.argv)
    logging.getLogger("kazoo").setLevel(logging.CRITICAL)  # connection drops are expected
    t_start = time.monotonic()

    def log(msg):
        print(f"[{time.monotonic() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    build = os.path.abspath(a.corral_build)
    tmp = tempfile.mkdtemp(prefix="corral-reconfbench-bin-", dir=a.tmp_base)
    try:
        bench_bin, corral_bin, machine, vers = eb.prepare_binaries(a, impls, build, tmp, log)
        reps = []
        for rep in range(1, a.reps + 1):
            for impl in impls:
                reps.append(run_rep(impl, rep, a, corral_bin, bench_bin, log))
        summary = summarize(reps, impls)
        elapsed = time.monotonic() - t_start
        os.makedirs(a.out, exist_ok=True)
        with open(os.path.join(a.out, "reconfig-raw.json"), "w") as f:
            json.dump({"machine": machine, "versions": vers, "command": command, "quick": q,
                       "elapsed_s": elapsed, "summary": summary, "reps": reps}, f, indent=1)
        write_report(os.path.join(a.out, "RESULTS-reconfig.md"), a, summary, reps, machine,
                     vers, command, elapsed)
        log(f"wrote {os.path.join(a.out, 'RESULTS-reconfig.md')} and reconfig-raw.json")
        for line in table_lines(summary, a):
            print(line, file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
