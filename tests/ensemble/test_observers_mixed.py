"""Mixed read tiers: Corral observers under Apache ZooKeeper voters and the reverse, with and
without observer masters (with --impl zookeeper every member is ZooKeeper).
"""
import pytest
from kazoo.protocol.states import EventType, KazooState

from harness.util import wait_until
from harness_ensemble import assert_same_everywhere, reserve_ports
from test_ensemble_basic import assert_synced_by, unique, write_nodes

from observer_support import (OBSERVERS, Watches, followers_masters, master_of, mntr, wait_attached,
                              write_via_one_observer_seen_on_the_other)


# ============================================================================ mixed

MIXED_OBSERVERS = [
    pytest.param(["zookeeper"] * 3 + ["corral"] * 2, (4, 5), id="zzz-CC-corral-observers"),
    pytest.param(["corral"] * 3 + ["zookeeper"], (4,), id="ccc-Z-zookeeper-observer"),
]


@pytest.mark.mixed
@pytest.mark.parametrize("shape,observers", MIXED_OBSERVERS)
def test_mixed_observers(mixed, shape, observers):
    """Observers of one implementation under voters of the other: they sync, serve the same
    data (with the same stats) and the same watch events as a voter, forward writes, and an
    observer restarted after missing writes catches up (DIFF where a ZooKeeper log tells)."""
    ens = mixed(shape, leader_sid=3, observers=observers)
    assert ens.impls == mixed.impls_for(shape)
    modes = ens.wait_serving()
    assert modes[3] == "leader"
    assert all(modes[sid] == "observer" for sid in observers), modes
    assert mntr(ens.leader())["zk_synced_observers"] == str(len(observers))

    base = unique("mixed-obs")
    leader, follower = ens.leader(), ens.followers()[0]
    lc, fc = ens.client(leader), ens.client(follower)
    lc.create(base, b"0")
    watchers = {}
    for m in [follower] + ens.observers():
        c = ens.client(m)
        c.sync(base)
        w = Watches(c)
        w.data(base)
        w.child(base)
        w.exists(f"{base}-x")
        watchers[m.sid] = w
    lc.set(base, b"1")
    fc.create(f"{base}/kid", b"")
    fc.create(f"{base}-x", b"")
    expected = sorted([("data", EventType.CHANGED, base), ("child", EventType.CHILD, base),
                       ("exists", EventType.CREATED, f"{base}-x")], key=str)
    for sid, w in watchers.items():
        assert w.take(3) == expected, sid
    for o in ens.observers():
        oc = watchers[o.sid].client
        oc.create(f"{base}/by-observer-{o.sid}", f"{o.impl}".encode())
        oc.set(base, f"set by observer {o.sid}".encode())
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 2 + len(observers)

    o = ens.observers()[-1]
    o.stop()
    write_nodes(lc, base, [f"missed-{i}" for i in range(10)])
    ens.start_member(o)
    assert o.mode() == "observer"
    assert len(assert_same_everywhere(ens, base)) == 12 + len(observers)
    assert_synced_by(ens, o, "DIFF")
    ens.client(o).delete(f"{base}-x")
    assert_same_everywhere(ens, base)


MIXED_OBSERVER_MASTERS = [
    pytest.param(["zookeeper"] * 3 + ["corral"] * 2, id="zzz-CC-corral-observers"),
    pytest.param(["corral"] * 3 + ["zookeeper"] * 2, id="ccc-ZZ-zookeeper-observers"),
]


@pytest.mark.mixed
@pytest.mark.parametrize("shape", MIXED_OBSERVER_MASTERS)
def test_mixed_observer_masters(mixed, shape):
    """observerMasterPort across implementations: observers of one implementation attach to
    the followers (ObserverMaster) of the other, not to the leader; they serve what the
    voters hold; when an observer's master is killed it attaches to the other follower and
    keeps up with new writes."""
    port = reserve_ports(1)[0]
    ens = mixed(shape, leader_sid=3, observers=OBSERVERS, distinct_hosts=True,
                settings={"observerMasterPort": port})
    ens.observer_master_port = port
    masters = wait_attached(ens)
    leader = ens.leader()
    ml = mntr(leader)
    assert (ml["zk_learners"], ml["zk_synced_observers"]) == ("2", "0")
    per_follower = followers_masters(ens)
    for f in ens.followers():
        assert per_follower[f.sid] == sum(1 for m in masters.values() if m == f.sid), \
            (per_follower, masters)

    base = unique("mixed-om")
    lc, c4, c5 = write_via_one_observer_seen_on_the_other(ens, base, b"via observer 4")
    o4, o5 = ens.observers()

    victim = ens.member(masters[o4.sid])
    survivor = next(f for f in ens.followers() if f is not victim)
    victim.kill9()
    lc.create(f"{base}/during", b"")
    for o in (o4, o5):
        wait_until(lambda: o.mode() == "observer" and master_of(o) == survivor.sid,
                   timeout=60, interval=0.05,
                   message=f"observer {o.sid} not attached to {survivor.sid}: {master_of(o)}")
    for c in (c4, c5):
        wait_until(lambda: c.state == KazooState.CONNECTED, timeout=30, interval=0.05)
        c.sync(base)
        assert c.get_children(base) == ["during"]
    c5.create(f"{base}/after", b"")
    ens.start_member(victim)
    assert len(assert_same_everywhere(ens, base)) == 3
