"""Observer masters (observerMasterPort): followers serve observers at their own address, so
the leader's fan-out does not grow with a read tier; observers fail over between masters.
Reference: Apache ZooKeeper 3.8 (--impl zookeeper).
"""
import socket
import struct
import time

from kazoo.protocol.states import EventType, KazooState

from harness.util import wait_until
from harness_ensemble import assert_same_everywhere
from test_ensemble_basic import unique

from observer_support import (OBSERVER_ENTRY_KEYS, OBSERVERINFO, Watches, admin_command,
                              followers_masters, master_of, masters_in_log, mntr, wait_attached,
                              write_via_one_observer_seen_on_the_other)


def test_observers_attach_to_follower_masters(om):
    """With observerMasterPort on every member, each follower serves observers on that port
    at its own address, and the leader does not (it is not bound there): every observer
    attaches to a follower (ZooKeeper's observer tries the voters' addresses in a shuffled
    order and logs `Observing new leader sid=N addr=/<follower host>:<port>`). The observer's
    mntr names that follower (zk_observer_master_id); the follower's mntr zk_synced_observers
    and AdminServer `observers` list the observers attached to it; the leader's learners are
    the 2 followers only (zk_learners 2, zk_synced_observers 0). Writes through the leader and
    through an observer reach both observers."""
    ens = om
    modes = ens.wait_serving()
    assert modes == {1: "follower", 2: "follower", 3: "leader", 4: "observer", 5: "observer"}
    leader = ens.leader()
    masters = wait_attached(ens)

    ml = mntr(leader)
    assert (ml["zk_learners"], ml["zk_synced_followers"], ml["zk_synced_observers"]) == \
        ("2", "2", "0")
    assert admin_command(leader, "observers")["observers"] == []
    per_follower = followers_masters(ens)
    for f in ens.followers():
        mine = sorted(sid for sid, m in masters.items() if m == f.sid)
        assert per_follower[f.sid] == len(mine), (per_follower, masters)
        obsr = admin_command(f, "observers")
        assert obsr["synced_observers"] == len(mine)
        assert sorted(e["sid"] for e in obsr["observers"]) == mine
        for e in obsr["observers"]:
            assert set(e) == OBSERVER_ENTRY_KEYS, e
    for o in ens.observers():
        assert "zk_synced_observers" not in mntr(o)
        if o.impl == "zookeeper":
            log = masters_in_log(o)
            assert log, "no `Observing new leader` line"
            m = ens.member(masters[o.sid])
            assert log[-1] == (m.sid, m.host, ens.observer_master_port), log

    base = unique("om-data")
    write_via_one_observer_seen_on_the_other(ens, base, b"from observer 4")
    assert_same_everywhere(ens, base)


def test_garbage_on_observer_master_port(om):
    """Garbage, a huge frame and an OBSERVERINFO with an unknown sid on a follower's observer
    master port: each connection is dropped; the observers stay attached and see new
    writes."""
    ens = om
    masters = wait_attached(ens)
    port = ens.observer_master_port
    for f in ens.followers():
        for payload in (b"\x00\x00\x00\x63" + b"\x01" * 40,
                        struct.pack(">iqi", OBSERVERINFO, 0, 0x7ffffff0) + b"x" * 8):
            with socket.create_connection((f.host, port), timeout=10) as s:
                s.sendall(payload)
                s.settimeout(20)
                try:
                    while s.recv(65536):
                        pass
                except OSError:
                    pass
    base = unique("om-garbage")
    ens.client(ens.leader()).create(base, b"x")
    for o in ens.observers():
        assert o.mode() == "observer"
        oc = ens.client(o)
        oc.sync(base)
        assert oc.get(base)[0] == b"x"
    assert set(wait_attached(ens)) == set(masters) == {4, 5}


def test_observer_master_failover(om, record_timing):
    """kill -9 of the follower an observer is attached to: the observer attaches to the other
    follower (the leader serves no observer master port). Its client is disconnected while the
    observer re-syncs (ZooKeeper restarts the observer's server) and reconnects with the same
    session (SUSPENDED, then CONNECTED, never LOST; kazoo drops its watches on a disconnect).
    The observer keeps seeing new writes: one made while it moved is read, a watch armed
    after the move fires, and writes through it go on."""
    ens = om
    masters = wait_attached(ens)
    o = ens.member(4)
    victim = ens.member(masters[o.sid])
    survivor = next(f for f in ens.followers() if f is not victim)
    base = unique("om-failover")
    lc = ens.client(ens.leader())
    lc.create(base, b"v0")
    oc = ens.client(o, timeout=10.0)
    session = oc.client_id
    states = []
    oc.add_listener(states.append)

    t0 = time.monotonic()
    victim.kill9()
    lc.set(base, b"v1")  # while the observer moves
    wait_until(lambda: o.mode() == "observer" and master_of(o) == survivor.sid, timeout=60,
               interval=0.05, message=f"observer {o.sid} did not move to follower "
                                      f"{survivor.sid}: master {master_of(o)}")
    record_timing("observer master kill -9 -> observer attached to the other follower",
                  time.monotonic() - t0)
    wait_until(lambda: oc.state == KazooState.CONNECTED, timeout=30, interval=0.05)
    assert oc.client_id == session
    assert KazooState.LOST not in states
    oc.sync(base)
    assert oc.get(base)[0] == b"v1"
    w = Watches(oc)
    w.data(base)
    lc.set(base, b"v2")
    assert w.take(1) == [("data", EventType.CHANGED, base)]
    assert oc.get(base)[0] == b"v2"
    oc.create(f"{base}/through-observer", b"")
    for other in ens.observers():
        wait_until(lambda: master_of(other) == survivor.sid, timeout=60, interval=0.1)
    if o.impl == "zookeeper":
        assert masters_in_log(o)[-1] == (survivor.sid, survivor.host,
                                         ens.observer_master_port)
    ens.start_member(victim)
    assert_same_everywhere(ens, base)
