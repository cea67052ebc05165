"""A read tier grown from 0 to 3 observers and shrunk back by `reconfig`, under client load
checked by the history checker (history.py): the issue's "A read tier grown from 0 to 3
observers and back under client load, losing nothing". The plain case runs the impl under
test everywhere; the `mixed` ones put Corral observers under ZooKeeper voters and ZooKeeper
observers under Corral voters (all ZooKeeper with --impl zookeeper). Helpers: reconfig_tier_support.py; the suite: README.md ("Dynamic
reconfiguration").
"""
import time

import pytest
from kazoo.protocol.states import EventType

from harness.util import wait_until
from nemesis import Workload, compare_states, seed_from_env
from history import check, read_final_state
from test_ensemble_basic import unique

from reconfig_support import (TEST_TIME_LIMIT, mntr, super_client, time_limit, wait_mntr,
                              wait_mode)
from reconfig_tier_support import (SessionStates, add_by_reconfig, add_reader, once_in_reference_run,
                                   assert_same_config_node, remove_by_reconfig, sessions_of,
                                   start_joiner, started, write_gaps)

# The longest time without an acknowledged write from the clients on the voters while
# observers join and leave, and the longest latency of one acknowledged write. Measured on
# ZooKeeper 3.8 (2 busy cores, a JVM starting beside them): stall 0.09-0.27 s, latency
# 0.07-0.24 s (each client pauses 20 ms between operations, a third of them reads). The
# bounds leave a wide margin for a loaded machine.
MAX_WRITE_STALL = 3.0
MAX_WRITE_LATENCY = 3.0


@pytest.fixture(autouse=True)
def _time_limit(make_ensemble):
    with time_limit(TEST_TIME_LIMIT):
        yield


TIERS = [
    pytest.param(None, None, id="same-impl"),
    pytest.param(["zookeeper"] * 3, "corral", marks=pytest.mark.mixed,
                 id="zzz-CCC-corral-observers"),
    pytest.param(["corral"] * 3, "zookeeper", marks=pytest.mark.mixed,
                 id="ccc-ZZZ-zookeeper-observers"),
]


def observer_serves_current_data_and_watches(ens, obs, load, lc, base):
    """Through `obs`: sync + read returns a value just written via the leader; a data watch on
    a register and a child watch on the sequential parent (both written by the load) fire
    with the right type and path, and the register then reads at a newer version."""
    oc = ens.client(obs)
    try:
        marker = f"{base}/marker-{obs.sid}".encode()
        lc.set(base, marker)
        oc.sync(base)
        assert oc.get(base)[0] == marker, f"observer {obs.sid} not current after sync"
        key = load.keys[0]
        events = []
        oc.sync(key)
        _, st = oc.get(key, watch=lambda ev: events.append(("data", ev.type, ev.path)))
        oc.get_children(load.seq_parent,
                        watch=lambda ev: events.append(("child", ev.type, ev.path)))
        wait_until(lambda: len(events) >= 2, 20,
                   message=f"watches via observer {obs.sid}: {events}")
        assert sorted(events, key=str) == sorted(
            [("data", EventType.CHANGED, key), ("child", EventType.CHILD, load.seq_parent)],
            key=str), events
        assert oc.get(key)[1].version > st.version
    finally:
        ens.close_client(oc)


@pytest.mark.parametrize("voters,observer_impl", TIERS)
def test_read_tier_grows_to_three_observers_and_back_under_load(request, make_ensemble, impl,
                                                                 voters, observer_impl,
                                                                 record_timing):
    """3 voters (sid 3 leading) under a history workload (one session per voter: writes,
    CAS, creates, reads). Three observers are started one by one with the committed config
    plus themselves (joiner procedure) and added by `reconfig -add`: each becomes an observer
    (the leader's zk_synced_observers counts it, zk_quorum_size stays 3), the config node is
    the same bytes everywhere, it serves current data after sync and fires watches for the
    load's writes, and a history reader session starts on it (reads, sync reads, quorum reads
    and creates, falling back to the voters). Then observer 4 is removed alone and 5, 6
    together (it becomes a non-voting follower, then is stopped). Throughout: the writes
    through the voters never stall more than MAX_WRITE_STALL (recorded), no acknowledged
    write takes longer than MAX_WRITE_LATENCY and none is left unanswered, no session is
    lost or replaced, and a reader's connection to its observer is never cut by the
    reconfigs of the other observers (until its own removal). At the end every voter holds
    the same state and the history checker finds no violation (nothing acknowledged lost,
    linearizable writes)."""
    once_in_reference_run(request, impl)
    voter_impls = make_ensemble.impls_for(voters) if voters else [impl] * 3
    obs_impl = make_ensemble.impls_for([observer_impl])[0] if observer_impl else impl
    ens = started(make_ensemble, voter_impls)
    leader = ens.member(3)
    assert ens.leader() is leader
    seed = seed_from_env()
    load = Workload(ens, seed, root=unique("tier"), keys=3, clients=3, pause=0.02)
    load.setup()
    states = SessionStates()
    base = load.root + "-probe"
    lc = ens.client(leader)
    lc.create(base, b"")
    su = super_client(ens, ens.member(1))
    load.start()
    for w in load.workers:
        states.watch(f"worker {w.process}", w.client)
    writers = {w.process for w in load.workers}
    load.wait_progress(20)

    t_phase = time.monotonic()
    observers = []
    reader_since, reader_until = {}, {}
    for k in range(3):
        t = time.monotonic()
        spare, servers, v = start_joiner(ens, obs_impl, role="observer")
        joined, v2 = add_by_reconfig(ens, su, spare, servers)
        wait_mode(spare, "observer")
        record_timing(f"observer {spare.sid} ({spare.impl}) start + reconfig -> observing",
                      time.monotonic() - t)
        wait_mntr(leader, "zk_synced_observers", k + 1)
        wait_mntr(leader, "zk_synced_non_voting_followers", 0)
        assert mntr(leader)["zk_quorum_size"] == "3"
        assert_same_config_node(ens, joined, v2)
        observer_serves_current_data_and_watches(ens, spare, load, lc, base)
        r = add_reader(load, ens, spare, 10 + k, seed)
        states.watch(f"reader on {spare.sid}", r.client)
        reader_since[spare.sid] = time.monotonic()
        observers.append(spare)
        load.wait_progress(10)
    assert ens.leader() is leader
    modes = ens.wait_serving()
    assert [modes[o.sid] for o in observers] == ["observer"] * 3, modes
    servers = joined
    for group in ([observers[0]], observers[1:]):
        t = time.monotonic()
        for o in group:
            reader_until[o.sid] = t
        servers, v3 = remove_by_reconfig(ens, su, [o.sid for o in group], servers)
        for o in group:
            wait_mode(o, "follower")
        record_timing(f"observers {[o.sid for o in group]} removed -> non-voting followers",
                      time.monotonic() - t)
        assert_same_config_node(ens, servers, v3)
        wait_mntr(leader, "zk_synced_observers", len(servers) - 3)
        for o in group:
            o.stop()
            o.retired = True
        wait_mntr(leader, "zk_synced_non_voting_followers", 0)
        load.wait_progress(10)
    assert servers == {m.sid: servers[m.sid] for m in ens.members[:3]}
    assert_same_config_node(ens, servers, v3)
    t_end = time.monotonic()
    load.wait_progress(10)
    lost = states.lost()  # before the clients are closed (a closed client says LOST)
    load.stop()

    gap, latency, unknown = write_gaps(load.history, writers, t_phase, t_end)
    record_timing("read tier 0->3->0: longest write stall (voter clients)", gap)
    record_timing("read tier 0->3->0: longest acknowledged write latency", latency)
    assert gap < MAX_WRITE_STALL, gap
    assert latency < MAX_WRITE_LATENCY, latency
    assert unknown == 0, f"{unknown} writes via the voters got no answer"
    assert not load.client_crashes, load.client_crashes
    assert not lost, f"sessions lost: {lost}"
    # An observer whose role does not change keeps observing through the reconfigs of the
    # others (INFORMANDACTIVATE): its clients are never disconnected until it is removed.
    for sid, t_from in reader_since.items():
        cut = states.interruptions(f"reader on {sid}", t_from, reader_until[sid])
        assert not cut, f"reader on observer {sid} disconnected while it observed: {cut}"
    for w in load.workers:
        assert len(sessions_of(load.history, w.process)) == 1, \
            f"process {w.process} used sessions {sessions_of(load.history, w.process)}"
    readers = [w.process for w in load.workers[3:]]
    reads = [op for op in load.history.snapshot() if op.process in readers
             and op.status == "ok" and op.kind in ("read", "sync_read", "qread")]
    assert {op.member for op in reads} >= {o.sid for o in observers}, \
        "some reader never read through its observer"

    states_by_member = {}
    for m in ens.members[:3]:
        c = ens.client(m)
        states_by_member[m.sid] = read_final_state(c, load.keys, load.seq_parent)
        ens.close_client(c)
    assert set(states_by_member) == {1, 2, 3}
    assert not compare_states(states_by_member)
    final = states_by_member[1]
    final.init_zxid = dict(load.init_zxid)
    result = check(load.history, final, load.keys, t_setup=load.t_setup)
    print(result.summary())
    assert result.ok, result.summary()
    assert result.stats["acked_writes"] > 100, result.stats
