"""Observers: roles and operator views, reads and watches, writes, session moves, catch-up by
DIFF and SNAP, hostile peers, and observers that never count. Every assertion describes what an
Apache ZooKeeper 3.8 ensemble does (--impl zookeeper must pass); the same tests run on Corral.
Shared ensembles and helpers: observer_support.py; the whole suite: README.md.
"""
import socket
import struct
import threading
import time

import pytest
from kazoo.exceptions import BadVersionError, KazooException, NodeExistsError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import EventType, KazooState

from harness import raw
from harness.util import wait_until
from harness_ensemble import BackgroundWriter, assert_same_everywhere, parse_srvr
from test_ensemble_basic import (assert_synced_by, children_at, leader_only_mntr_keys,
    peer_port, unique, write_nodes)
from test_hostile_peers import quorum_packet, learner_info, send_and_wait_close

from observer_support import (
    OBSERVERS, OBSERVERINFO, LEADERINFO, ACKEPOCH, OBSERVER_ENTRY_KEYS, admin_command, mntr,
    Watches, wait_not_serving)


# ============================================================================ roles

def test_observer_roles_srvr_mntr_conf_and_admin(observed):
    """srvr `Mode: observer` on the observers. The leader's mntr counts them: zk_learners 4
    (followers + observers), zk_synced_followers 2, zk_synced_observers 2,
    zk_synced_non_voting_followers 0, zk_quorum_size 3 (voters only). An observer's mntr:
    `zk_server_state observer`, `zk_peer_state observing - broadcast`, and
    zk_observer_master_id = the leader's sid (no observer masters configured); none of the
    leader-only keys. `conf`: peerType=1 on an observer, 0 on a voter. AdminServer `observers`
    (alias `obsr`) on the leader lists both (sid, last_zxid, ...); on the others it is empty.
    `obsr` is not a four-letter word: over the client port ZooKeeper reads it as a request
    length and closes the connection without a byte."""
    ens = observed
    modes = ens.wait_serving()
    assert modes == {1: "follower", 2: "follower", 3: "leader", 4: "observer", 5: "observer"}
    leader = ens.leader()

    ml = mntr(leader)
    assert ml["zk_learners"] == "4"
    assert ml["zk_synced_followers"] == "2"
    assert ml["zk_synced_observers"] == "2"
    assert ml["zk_synced_non_voting_followers"] == "0"
    assert ml["zk_quorum_size"] == "3"
    assert "zk_observer_master_id" not in ml

    for o in ens.observers():
        assert parse_srvr(o.four_letter("srvr"))["Mode"] == "observer"
        mo = mntr(o)
        assert mo["zk_server_state"] == "observer"
        assert mo["zk_peer_state"] == "observing - broadcast"
        assert mo["zk_observer_master_id"] == str(leader.sid)
        present = [k for k in leader_only_mntr_keys() if k in mo]
        assert not present, f"leader-only mntr keys on observer {o.sid}: {present}"
        assert o.four_letter("ruok") == "imok"
        assert o.four_letter("isro") == "rw"
        conf = o.four_letter("conf")
        assert "peerType=1" in conf.splitlines()
        assert f"server.{o.sid}={o.host}:{o.quorum_port}:{o.election_port}:observer" in conf
        assert o.four_letter("obsr") == ""
    for f in ens.followers():
        mf = mntr(f)
        assert "zk_observer_master_id" not in mf
        assert "zk_synced_observers" not in mf  # only with observerMasterPort
        assert "peerType=0" in f.four_letter("conf").splitlines()

    obsr = admin_command(leader, "observers")
    assert obsr["synced_observers"] == 2
    assert sorted(e["sid"] for e in obsr["observers"]) == [4, 5]
    for e in obsr["observers"]:
        assert set(e) == OBSERVER_ENTRY_KEYS, e
    assert admin_command(leader, "obsr")["synced_observers"] == 2
    for m in ens:
        if m is not leader:
            assert {k: admin_command(m, "observers")[k]
                    for k in ("synced_observers", "observers")} == \
                {"synced_observers": 0, "observers": []}, m.sid


# ============================================================================ reads, watches

def test_reads_and_watches_through_observers(observed):
    """Data, child and exists watches set through an observer fire once each, with the same
    type and path as on a voter, for writes made through the leader and through a follower;
    after the event the observer already reads the new data (no sync needed)."""
    ens = observed
    leader, follower = ens.leader(), ens.followers()[0]
    writers = {"leader": ens.client(leader), "follower": ens.client(follower)}
    base = unique("obs-watch")
    writers["leader"].create(base, b"0")
    for o in ens.observers():
        oc = ens.client(o)
        oc.sync(base)
        w = Watches(oc)
        for via, wc in writers.items():
            kid, sibling = f"{base}/kid-{via}-{o.sid}", f"{base}-{via}-{o.sid}"
            w.data(base)
            w.child(base)
            assert w.exists(sibling) is None
            value = f"{via} for {o.sid}".encode()
            wc.set(base, value)
            wc.create(kid, b"k")
            wc.create(sibling, b"s")
            assert w.take(3) == sorted([("data", EventType.CHANGED, base),
                                        ("child", EventType.CHILD, base),
                                        ("exists", EventType.CREATED, sibling)], key=str)
            assert oc.get(base)[0] == value
            assert kid.rsplit("/", 1)[1] in oc.get_children(base)
            # Deletes through the other writer: the kid's data watch and the parent's child
            # watch.
            other = writers["follower" if via == "leader" else "leader"]
            w.data(kid)
            w.child(base)
            w.exists(sibling)
            other.delete(kid)
            other.delete(sibling)
            assert w.take(3) == sorted([("data", EventType.DELETED, kid),
                                        ("child", EventType.CHILD, base),
                                        ("exists", EventType.DELETED, sibling)], key=str)
            assert oc.exists(kid) is None
        # No second firing of any of those one-shot watches.
        writers["leader"].set(base, b"again")
        oc.sync(base)
        assert w.events == []


# ============================================================================ writes

def test_writes_through_observer(observed):
    """An observer forwards writes and answers them after the commit reaches it: create, set
    (versions), delete, errors (NodeExists, BadVersion), multi (committed and failed), sync.
    After sync every member holds the same data and stats. Sequential creates round robin
    through both observers and both kinds of voter get one increasing counter."""
    ens = observed
    o4, o5 = ens.observers()
    c = ens.client(o4)
    base = unique("obs-write")
    c.create(base, b"")
    assert c.create(f"{base}/a", b"1") == f"{base}/a"
    assert c.set(f"{base}/a", b"2").version == 1
    with pytest.raises(NodeExistsError):
        c.create(f"{base}/a", b"x")
    with pytest.raises(BadVersionError):
        c.set(f"{base}/a", b"x", version=0)
    c.create(f"{base}/gone", b"")
    c.delete(f"{base}/gone")

    tx = c.transaction()
    tx.create(f"{base}/m1", b"m")
    tx.set_data(f"{base}/a", b"3", version=1)
    tx.check(base, 0)
    res = tx.commit()
    assert res[0] == f"{base}/m1" and res[1].version == 2 and res[2] is True, res
    tx = c.transaction()
    tx.create(f"{base}/m2", b"m")
    tx.check(f"{base}/a", 0)  # fails: the whole multi is rolled back
    res = tx.commit()
    assert isinstance(res[1], BadVersionError), res
    assert c.exists(f"{base}/m2") is None

    # What the observer's client wrote is read through every member after sync.
    c.sync(base)
    tree = assert_same_everywhere(ens, base)
    assert sorted(tree) == [base, f"{base}/a", f"{base}/m1"]
    assert tree[f"{base}/a"][0] == b"3" and tree[f"{base}/a"][4] == 2

    seq = f"{base}/seq"
    c.create(seq, b"")
    order = [o4, o5, ens.followers()[0], ens.leader()]
    clients = [c, ens.client(o5), ens.client(order[2]), ens.client(order[3])]
    names = [clients[i % 4].create(f"{seq}/n-", b"", sequence=True) for i in range(16)]
    assert [int(n.rsplit("-", 1)[1]) for n in names] == list(range(16)), names
    expected = sorted(n.rsplit("/", 1)[1] for n in names)
    for m in ens:
        assert children_at(ens, m, seq) == expected, m.sid


# ============================================================================ sessions

def test_session_moves_between_observer_and_follower(observed):
    """A client of an observer moves to a follower when the observer stops, and back to the
    observer when the follower stops: the same session id and password throughout, never
    LOST, and its ephemerals (made through either) stay, owned by that session."""
    ens = observed
    o = ens.observers()[0]
    f = ens.followers()[0]
    leader = ens.leader()
    base = unique("obs-move")
    c = ens.client([o, f], timeout=10.0, randomize_hosts=False)
    assert peer_port(c) == o.port
    states = []
    c.add_listener(states.append)
    c.create(base, b"")
    c.create(f"{base}/e1", b"", ephemeral=True)
    session = c.client_id

    def on(member):
        wait_until(lambda: c.state == KazooState.CONNECTED and peer_port(c) == member.port,
                   timeout=30, interval=0.05,
                   message=f"client did not reconnect to member {member.sid}")
        assert c.client_id == session
        assert KazooState.LOST not in states

    o.stop()
    on(f)
    c.create(f"{base}/e2", b"", ephemeral=True)
    ens.start_member(o)
    f.stop()
    on(o)
    c.create(f"{base}/e3", b"", ephemeral=True)
    check = ens.client(leader)
    check.sync(base)
    for name in ("e1", "e2", "e3"):
        st = check.exists(f"{base}/{name}")
        assert st is not None and st.ephemeralOwner == session[0], name
    ens.start_member(f)
    for m in (o, f):
        assert children_at(ens, m, base) == ["e1", "e2", "e3"]
    ens.close_client(c)
    check.sync(base)
    wait_until(lambda: check.get_children(base) == [], timeout=20, interval=0.05,
               message="ephemerals stayed after the session closed")


# ============================================================================ catch-up

def test_observer_restart_catches_up_by_diff(observed):
    """An observer misses 20 creates, a set and a delete, then restarts: it serves as an
    observer again with the same data and stats as every voter, after exactly one sync, a DIFF
    (ZooKeeper logs: the observer's `Getting a diff from the leader`, the leader's `Sending
    DIFF`)."""
    ens = observed
    o = ens.observers()[1]
    base = unique("obs-diff")
    c = ens.client(ens.voters())
    write_nodes(c, base, [f"before-{i}" for i in range(5)])
    o.stop()
    write_nodes(c, base, [f"missed-{i}" for i in range(20)], data=b"m")
    c.set(f"{base}/before-0", b"changed")
    c.delete(f"{base}/before-1")
    ens.start_member(o)
    assert o.mode() == "observer"
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 1 + 4 + 20
    assert tree[f"{base}/before-0"][0] == b"changed"
    assert_synced_by(ens, o, "DIFF")
    assert mntr(ens.leader())["zk_synced_observers"] == "2"


def test_observer_restart_with_wiped_datadir_catches_up_by_snap(observed):
    """An observer restarts with an empty dataDir: it gets a SNAP (exactly one sync), holds
    the same data as the voters, and then applies new writes."""
    ens = observed
    o = ens.observers()[0]
    base = unique("obs-snap")
    c = ens.client(ens.voters())
    write_nodes(c, base, [f"before-{i}" for i in range(5)])
    o.stop()
    o.wipe()
    write_nodes(c, base, [f"missed-{i}" for i in range(5)])
    ens.start_member(o)
    assert o.mode() == "observer"
    assert len(assert_same_everywhere(ens, base)) == 11
    assert_synced_by(ens, o, "SNAP")
    c.create(f"{base}/after", b"a")
    oc = ens.client(o)
    oc.sync(base)
    assert oc.get(f"{base}/after")[0] == b"a"


# ============================================================================ hostile peers

def test_participant_claiming_to_be_an_observer_and_garbage(observed, impl):
    """A connection to the leader's quorum port sending OBSERVERINFO with a voter's sid, and
    garbage on the quorum port and on the observers' election ports. ZooKeeper 3.8 does not
    check the learner type against the config: it answers the impostor with LEADERINFO, syncs
    it (SNAP, NEWLEADER) and drops it when no ACK of NEWLEADER comes (after about
    syncLimit * tickTime). Either way (Corral may refuse at once) the genuine voter keeps its
    vote: with the other follower stopped while the impostor is connected, writes still
    commit (leader + that voter), and the ensemble, observers included, goes on with the data
    intact."""
    ens = observed
    leader = ens.leader()
    f_claimed, f_other = ens.followers()
    base = unique("obs-impostor")
    c = ens.client(leader)
    c.create(base, b"kept")
    outcome = {}

    def impostor():
        try:
            with socket.create_connection((leader.host, leader.quorum_port), timeout=10) as s:
                s.sendall(quorum_packet(OBSERVERINFO, 0, learner_info(f_claimed.sid)))
                s.settimeout(60)
                got = b""
                t0 = time.monotonic()
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        if not got and len(chunk) >= 4 and \
                                struct.unpack(">i", chunk[:4])[0] == LEADERINFO:
                            s.sendall(quorum_packet(ACKEPOCH, 0, struct.pack(">i", 0)))
                        got += chunk
                except (ConnectionResetError, socket.timeout) as e:
                    outcome["error"] = type(e).__name__
                outcome["closed_after"] = time.monotonic() - t0
                outcome["received"] = len(got)
        except OSError as e:
            outcome["error"] = f"{type(e).__name__}: {e}"

    t = threading.Thread(target=impostor, daemon=True)
    t.start()
    for o in ens.observers():
        send_and_wait_close(o.election_port, b"\x00\x01garbage" * 10, timeout=8)
    send_and_wait_close(leader.quorum_port, b"\x00\x00\x00\x63" + b"\x01" * 40, timeout=8)

    # The genuine voter still counts: leader + f_claimed commit without f_other.
    f_other.stop()
    c.create(f"{base}/with-one-follower", b"")
    assert f_claimed.mode() == "follower"
    wait_until(lambda: mntr(leader).get("zk_synced_followers") == "1", timeout=30,
               interval=0.1, message="the leader does not count exactly one follower")
    ens.start_member(f_other)

    t.join(90)
    assert not t.is_alive(), "the impostor's connection was never closed"
    assert "closed_after" in outcome or "error" in outcome, outcome
    if "closed_after" in outcome:
        tick = ens.tick_time / 1000.0
        limit = (int(ens.settings["initLimit"]) + int(ens.settings["syncLimit"])) * tick + 10
        assert outcome["closed_after"] < limit, outcome
    modes = ens.wait_serving()
    assert sorted(modes.values()) == ["follower", "follower", "leader", "observer", "observer"]
    c.create(f"{base}/after", b"")
    tree = assert_same_everywhere(ens, base)
    assert sorted(tree) == [base, f"{base}/after", f"{base}/with-one-follower"]
    assert tree[base][0] == b"kept"


# ============================================================================ never counts

def test_observers_never_count(make_ensemble, record_timing):
    """Observers are not part of any quorum.

    Both observers killed: writes through the voters go on without a pause (the leader's
    zk_synced_observers drops to 0). Both observers up and synced, then both followers killed:
    the leader, though 2 observers are still connected and pinging, has 1 of 3 voters and stops
    serving (srvr `This ZooKeeper instance is not currently serving requests`); so do the
    observers: a write pending on an observer is not answered, a new session on an observer is
    refused, reads stop (no read-only mode). With one follower back, everything serves again and
    nothing acknowledged is lost."""
    ens = make_ensemble(5, observers=OBSERVERS, leader_sid=3)
    leader = ens.leader()
    followers = ens.followers()
    o4, o5 = ens.observers()
    base = unique("obs-count")
    w = BackgroundWriter(ens.client(ens.voters(), timeout=15.0), base, op_timeout=3.0).start()
    w.wait_progress(20)

    t_kill = time.monotonic()
    o4.kill9()
    o5.kill9()
    w.wait_progress(30, timeout=15)
    first = w.first_ack_issued_after(t_kill)
    assert first is not None
    record_timing("both observers kill -9 -> next write", first[1] - t_kill)
    assert first[1] - t_kill < 2.0, f"writes paused {first[1] - t_kill:.1f}s"
    wait_until(lambda: mntr(leader).get("zk_synced_observers") == "0", timeout=30,
               interval=0.1, message="the leader still counts the killed observers")
    assert mntr(leader)["zk_synced_followers"] == "2"

    o4.start()
    o5.start()
    ens.wait_serving()
    wait_until(lambda: mntr(leader).get("zk_synced_observers") == "2", timeout=30,
               interval=0.1, message="observers not synced again")
    oc = ens.client(o4, timeout=20.0)
    oc.create(f"{base}-obs", b"before")
    w.wait_progress(10)
    w.stop()

    for f in followers:
        f.kill9()
    wait_not_serving([leader, o4, o5])
    for m in (leader, o4, o5):
        assert m.four_letter("ruok") == "imok"
        assert m.four_letter("isro") == "null"
    pending = oc.set_async(f"{base}-obs", b"during")
    with pytest.raises((KazooTimeoutError, KazooException)):
        pending.get(timeout=2)
    with pytest.raises((KazooTimeoutError, KazooException)):
        oc.get_async(f"{base}-obs").get(timeout=1)
    for o in (o4, o5):
        assert not raw.try_handshake(o.port, timeout=2.0), f"observer {o.sid} took a session"

    ens.start_member(followers[0])
    modes = ens.wait_serving()
    assert sorted(modes.values()) == ["follower", "leader", "observer", "observer"], modes
    ens.start_member(followers[1])
    tree = assert_same_everywhere(ens, w.base)
    missing = [p for p in w.acked_paths() if p not in tree]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    data = {m.sid: children_at(ens, m, "/") for m in ens}
    assert len({tuple(v) for v in data.values()}) == 1, data
