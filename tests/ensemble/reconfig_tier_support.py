"""Helpers of the mixed reconfig tests (test_reconfig_mixed.py) and the read-tier test
(test_reconfig_read_tier.py): a reconfig-enabled ensemble of a given shape with a steered
leader, a joiner started by ZooKeeper's documented procedure and added by `reconfig`, the
config node compared byte for byte on every member, kazoo session watchers, history readers
on an observer, and the write stall measured from a history. Built on reconfig_support.py
(see README.md, "Dynamic reconfiguration").
"""
import logging
import threading
import time

import pytest

from kazoo.protocol.states import KazooState

from harness.util import wait_until
from harness_ensemble import BackgroundWriter, dump_tree
from history import Worker, make_rng
from nemesis import RingLog

from reconfig_support import (CONFIG_NODE, RECONFIG_SETTINGS, START_TIMEOUT, assert_config_text,
                              config_at, config_lines, mntr, parse_config, reconfig, specs,
                              wait_config_everywhere, wait_mntr, wait_mode)


def started(make_ensemble, impls, leader_sid=3, settings=None, **kw):
    """`impls` (a list, used as given) with reconfigEnabled and the super user, `leader_sid`
    leading, started within START_TIMEOUT."""
    s = dict(RECONFIG_SETTINGS)
    s.update(settings or {})
    ens = make_ensemble(list(impls), settings=s, start=False, **kw)
    ens.start(leader_sid=leader_sid, timeout=START_TIMEOUT)
    return ens


def assert_same_config_node(ens, servers, version, members=None, timeout=30.0):
    """Every member (default: running ones) reads /zookeeper/config with `servers` and
    `version` (waited for), and then the very same bytes and mzxid (= version) everywhere:
    each member applied the same reconfig txn. Returns the data."""
    members = members or ens.running()
    wait_config_everywhere(ens, servers, version, members=members, timeout=timeout)
    seen = {}
    for m in members:
        _, _, data, stat = config_at(ens, m)
        seen[m.sid] = (data, stat.mzxid)
    ref = seen[members[0].sid]
    assert ref[1] == version, (hex(ref[1]), hex(version))
    assert all(v == ref for v in seen.values()), f"config node differs: {seen}"
    assert_config_text(ref[0], servers, version)
    return ref[0]


def start_joiner(ens, impl, role="participant", via=None, timeout=60.0):
    """ZooKeeper's joiner procedure: a new member (next sid) whose zoo.cfg lists the last
    committed config (read through `via`, default the leader) plus itself with `role`. It
    is started and waited for as a non-voting follower (srvr Mode follower, the leader's
    zk_synced_non_voting_followers counts it). Returns (spare, servers, version) where
    servers/version are the committed config it was given."""
    leader = ens.leader()
    servers, version, _, _ = config_at(ens, via or leader)
    non_voting = int(mntr(leader).get("zk_synced_non_voting_followers", "0"))
    spare = ens.add_spare(impl=impl, role=role, peer_lines=config_lines(servers))
    ens.start_member(spare, timeout=timeout)
    wait_mode(spare, "follower", timeout)
    wait_mntr(leader, "zk_synced_non_voting_followers", non_voting + 1, timeout)
    return spare, servers, version


def add_by_reconfig(ens, su, member, servers, role=None):
    """`reconfig -add` of member's spec (with its client port, `role` or its own) through
    the super-user client `su`. Returns (new servers, new version) after checking the reply."""
    data, stat = reconfig(su, joining=member.server_spec(role=role))
    joined = dict(servers)
    joined[member.sid] = member.server_spec(role=role).split("=", 1)[1]
    version = assert_config_text(data, joined)
    assert stat.mzxid == version
    return joined, version


def remove_by_reconfig(ens, su, sids, servers):
    data, stat = reconfig(su, leaving=",".join(str(s) for s in sids))
    left = {k: v for k, v in servers.items() if k not in sids}
    version = assert_config_text(data, left)
    return left, version


def lost_acks(writer, client, base=None):
    """Paths acknowledged to a BackgroundWriter that `client` does not find (after sync)."""
    tree = dump_tree(client, base or writer.base)
    return [p for p in writer.acked_paths() if p not in tree]


def writer(ens, members, base, **kw):
    return BackgroundWriter(ens.client(members), base, **kw).start()


def writer_stall(w, t_from, t_to):
    """Longest time within [t_from, t_to] without an acknowledgement to BackgroundWriter w."""
    acks = sorted(a for _, a, _ in list(w.acked) if t_from <= a <= t_to)
    points = [t_from] + acks + [t_to]
    return max(b - a for a, b in zip(points, points[1:]))


class SessionStates:
    """Records every kazoo state change of some clients (a LOST means the session expired)."""

    def __init__(self):
        self.events = []
        self._lock = threading.Lock()

    def watch(self, name, client):
        def listener(state):
            with self._lock:
                self.events.append((time.monotonic(), name, state))
        client.add_listener(listener)
        return client

    def interruptions(self, name, t_from, t_to):
        """States other than CONNECTED that client `name` went through within [t_from, t_to]
        (SUSPENDED: its connection dropped)."""
        with self._lock:
            return [(round(t - t_from, 3), s) for t, n, s in self.events
                    if n == name and t_from <= t <= t_to and s != KazooState.CONNECTED]

    def lost(self):
        with self._lock:
            return [(name, t) for t, name, s in self.events if s == KazooState.LOST]


# ---------------------------------------------------------------------------- history readers

READER_MIX = (("read", 30), ("sync_read", 35), ("qread", 20), ("create", 15))


def add_reader(load, ens, first, process, rng_seed, mix=READER_MIX, pause=0.01):
    """A history Worker on a new session whose connection string lists `first` (an observer)
    and then the voters, in that order (so it stays on `first` while it serves and moves to a
    voter when it is stopped, keeping its session). Joins `load` (stopped and checked with it;
    its connection thread is watched like the load's own)."""
    logger = logging.getLogger(f"tier.kazoo.{id(load)}.{process}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    load.ring[process] = RingLog()
    logger.addHandler(load.ring[process])
    order = [first] + [m for m in ens.voters() if m is not first and not m.spare]
    c = ens.client(order, timeout=load.session_timeout, randomize_hosts=False, logger=logger)
    w = Worker(load.history, process, c, load.keys, load.seq_parent,
               make_rng(rng_seed, "reader", process), op_timeout=load.op_timeout,
               pause=pause, mix=mix, server_of=load.server_of)
    load.workers.append(w)
    w.start()
    return w


def write_gaps(history, processes, t_from, t_to):
    """(largest time without an acknowledged write or create of `processes` within
    [t_from, t_to], longest latency of such an acknowledged write, count of writes that did
    not get an answer (unknown))."""
    acks, lat, unknown = [], 0.0, 0
    for op in history.snapshot():
        if op.process not in processes or op.kind not in ("write", "cas", "create"):
            continue
        if op.t_invoke < t_from or op.t_invoke > t_to:
            continue
        if op.status == "ok":
            acks.append(op.t_complete)
            lat = max(lat, op.t_complete - op.t_invoke)
        elif op.status == "unknown":
            unknown += 1
    points = [t_from] + sorted(a for a in acks if a <= t_to) + [t_to]
    gap = max(b - a for a, b in zip(points, points[1:]))
    return gap, lat, unknown


def sessions_of(history, process):
    """The session ids a history process used (None dropped)."""
    out = []
    for op in history.snapshot():
        if op.process != process:
            continue
        for s in (op.session_invoke, op.session_complete):
            if s is not None and s not in out:
                out.append(s)
    return out


def config_node(client):
    client.sync(CONFIG_NODE)
    return parse_config(client.get(CONFIG_NODE)[0])


def specs_of(members, role=None):
    """{sid: joining spec} for members (client part included)."""
    return {m.sid: m.server_spec(role=role).split("=", 1)[1] for m in members}


__all__ = ["started", "assert_same_config_node", "start_joiner", "add_by_reconfig",
           "remove_by_reconfig", "lost_acks", "writer", "writer_stall", "SessionStates", "add_reader",
           "write_gaps", "sessions_of", "config_node", "specs_of", "specs", "wait_until"]


_REFERENCE_RUNS = set()


def once_in_reference_run(request, impl):
    """With --impl zookeeper every shape of a mixed test is all ZooKeeper, so its shapes are
    the same run: only the first one selected runs, the others skip (CI time)."""
    if impl != "zookeeper":
        return
    name = request.node.originalname
    if name in _REFERENCE_RUNS:
        pytest.skip("all ZooKeeper with --impl zookeeper: the same run as this test's first shape")
    _REFERENCE_RUNS.add(name)
