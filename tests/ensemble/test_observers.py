"""Observers, observer masters and read-only mode.

An observer is a member that is not a voter: `server.N=...:observer` in every member's config
and `peerType=observer` in its own. It syncs from the leader like a follower (OBSERVERINFO,
DIFF / SNAP, then INFORM packets instead of PROPOSAL + COMMIT), serves reads and watches,
forwards writes and syncs, and never counts: not in elections, not in commits, not in the
leader's quorum check. With `observerMasterPort=P` set on every member, each follower also
serves observers (ObserverMaster) at its own address on port P, and observers attach to a
follower instead of the leader. With `readonlymode.enabled=true` (a JVM system property for
ZooKeeper, a zoo.cfg key for Corral) a member cut off from the quorum serves read-only
sessions.

Every assertion describes what an Apache ZooKeeper 3.8 ensemble does (the reference run,
--impl zookeeper, must pass); the same tests run against Corral members (--impl corral).
See README.md ("Observers, observer masters, read-only mode").
"""
import json
import re
import socket
import struct
import threading
import time
import urllib.request

import pytest
from kazoo.exceptions import (BadVersionError, KazooException, NodeExistsError,
                              NotReadOnlyCallError)
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.protocol.states import EventType, KazooState, KeeperState

from harness import raw
from harness.util import wait_until
from harness_ensemble import (HOST, NOT_SERVING, BackgroundWriter, assert_same_everywhere,
                              parse_mntr, parse_srvr, reserve_ports)
from test_ensemble_basic import (assert_synced_by, children_at, leader_only_mntr_keys,
                                 peer_port, unique, write_nodes)
from test_hostile_peers import quorum_packet, learner_info, send_and_wait_close

OBSERVERS = (4, 5)  # sids 4 and 5 of 5 members: 3 voters, 2 observers

OBSERVERINFO = 16
LEADERINFO = 17
ACKEPOCH = 18
NOTREADONLY = -119

# The keys of one entry of the AdminServer `observers` list (ZooKeeper 3.8.0, observed).
OBSERVER_ENTRY_KEYS = {"remote_socket_address", "sid", "established", "queued_packets",
                       "queued_packets_size", "packets_received", "packets_sent", "requests",
                       "last_zxid"}


# ============================================================================ helpers

def admin_settings(host, port):
    """zoo.cfg keys of an AdminServer on host:port (both servers read the same keys)."""
    return {"admin.enableServer": True, "admin.serverAddress": host, "admin.serverPort": port}


def with_admin(sids, hosts=None):
    """member_settings giving every member in `sids` its own AdminServer port."""
    ports = reserve_ports(len(sids))
    return {sid: admin_settings((hosts or {}).get(sid, HOST), port)
            for sid, port in zip(sids, ports)}


def admin_command(member, name, timeout=10.0):
    """GET /commands/<name> on the member's AdminServer; the decoded JSON object."""
    host = member.settings["admin.serverAddress"]
    port = member.settings["admin.serverPort"]
    url = f"http://{host}:{port}/commands/{name}"
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.status == 200
        return json.loads(r.read())


def mntr(member):
    return parse_mntr(member.four_letter("mntr"))


def master_of(observer):
    """The sid the observer says it learns from (mntr zk_observer_master_id), or None."""
    v = mntr(observer).get("zk_observer_master_id")
    return int(v) if v is not None else None


def masters_in_log(observer):
    """ZooKeeper observer: (sid, host, port) of each learner master it attached to since its
    last start, in order, from `Observer: Observing new leader sid=N addr=/host:port`."""
    out = []
    for line in observer.log_since_start().splitlines():
        m = re.search(r"Observing new leader sid=(\d+) addr=\S*?/?([\d.]+):(\d+)", line)
        if m:
            out.append((int(m.group(1)), m.group(2), int(m.group(3))))
    return out


class Watches:
    """Data, child and exists watches of one client, recorded as (kind, type, path)."""

    def __init__(self, client):
        self.client = client
        self.events = []
        self._cond = threading.Condition()

    def _cb(self, kind):
        def cb(ev):
            with self._cond:
                self.events.append((kind, ev.type, ev.path))
                self._cond.notify_all()
        return cb

    def data(self, path):
        return self.client.get(path, watch=self._cb("data"))

    def child(self, path):
        return self.client.get_children(path, watch=self._cb("child"))

    def exists(self, path):
        return self.client.exists(path, watch=self._cb("exists"))

    def wait(self, n, timeout=20.0):
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.events) >= n, timeout)
        assert ok, f"{len(self.events)} of {n} watch events within {timeout}s: {self.events}"
        return sorted(self.events, key=str)

    def take(self, n, timeout=20.0):
        got = self.wait(n, timeout)
        with self._cond:
            self.events.clear()
        return got


def raw_connect_reply(member, read_only=True, session_id=0, passwd=b"\x00" * 16, timeout=8.0):
    """Sends a ConnectRequest; returns ("response", ConnectResponse), ("header", (xid, zxid,
    err)) for a 16-byte frame, ("closed", None) or ("silent", None)."""
    c = raw.RawConnection(member.port, host=member.host)
    try:
        c.send_frame(raw.connect_request(timeout=10000, session_id=session_id, passwd=passwd,
                                         read_only=read_only))
        try:
            payload = c.read_frame(timeout)
        except raw.ConnectionClosed:
            return "closed", None
        except socket.timeout:
            return "silent", None
        if len(payload) == 16:
            return "header", struct.unpack(">iqi", payload)
        return "response", raw.parse_connect_response(payload)
    finally:
        c.close()


def wait_not_serving(members, timeout=30.0):
    wait_until(lambda: all(m.four_letter("srvr") == NOT_SERVING + "\n" for m in members),
               timeout=timeout, interval=0.05,
               message=f"still serving: {[(m.sid, m.mode()) for m in members]}")


# ============================================================================ fixtures

@pytest.fixture(scope="module")
def observed_shared(module_ensemble_factory):
    """3 voters + 2 observers of the impl under test, sid 3 leading, an AdminServer on every
    member; shared by the module's tests that leave every member running."""
    return module_ensemble_factory(5, observers=OBSERVERS, leader_sid=3,
                                   member_settings=with_admin(range(1, 6)))


@pytest.fixture
def observed(observed_shared):
    observed_shared.ensure_running()
    yield observed_shared
    for c in list(observed_shared.clients):
        observed_shared.close_client(c)


@pytest.fixture(scope="module")
def om_shared(module_ensemble_factory):
    """3 voters + 2 observers on distinct loopback addresses (sid N at 127.0.0.(N+1)) with
    observerMasterPort set on every member (one port number, each member's own address), an
    AdminServer on every member."""
    port = reserve_ports(1)[0]
    hosts = {sid: f"127.0.0.{sid + 1}" for sid in range(1, 6)}
    ens = module_ensemble_factory(5, observers=OBSERVERS, leader_sid=3, distinct_hosts=True,
                                  settings={"observerMasterPort": port},
                                  member_settings=with_admin(range(1, 6), hosts))
    ens.observer_master_port = port
    return ens


@pytest.fixture
def om(om_shared):
    om_shared.ensure_running()
    yield om_shared
    for c in list(om_shared.clients):
        om_shared.close_client(c)


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


# ============================================================================ read-only mode

RO_SETTINGS = {"readonlymode.enabled": True}


def test_read_only_member_serves_read_only_sessions(make_ensemble, record_timing):
    """readonlymode.enabled=true with localSessionsEnabled=true. ZooKeeper 3.8's read-only
    server takes local sessions only (see the next test), so this is the configuration in
    which read-only clients work.

    With both followers stopped, the former leader and the observer each start a read-only
    server a few seconds later: srvr has the line `READ-ONLY mode; serving only read-only
    clients` and `Mode: read-only`, isro says `ro`, mntr `zk_server_state read-only`. A kazoo
    client with read_only=True connects (CONNECTED_RO), reads data and children, and every
    write (create, set, delete, sync) fails with NotReadOnlyCallError. A client without
    read_only is refused (the connection is closed). When a follower is back, isro says `rw`
    again; a read-only kazoo client that was connected to the member finds the r/w server by
    itself (its read-only session is unknown to the quorum: LOST, then a new session) and can
    write."""
    ens = make_ensemble(4, observers=(4,), leader_sid=3,
                        settings=dict(RO_SETTINGS, localSessionsEnabled=True))
    lone = ens.leader()
    f1, f2 = ens.followers()
    o = ens.member(4)
    c = ens.client(lone)
    c.create("/ro", b"data")
    c.create("/ro/kid", b"")
    ens.close_client(c)
    for m in ens:
        assert m.four_letter("isro") == "rw"

    t0 = time.monotonic()
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro" and o.four_letter("isro") == "ro",
               timeout=60, interval=0.1,
               message=f"not read-only: {lone.four_letter('isro')} {o.four_letter('isro')}")
    record_timing("2 followers stopped -> lone voter and observer read-only",
                  time.monotonic() - t0)
    for m in (lone, o):
        srvr = m.four_letter("srvr")
        assert "READ-ONLY mode; serving only read-only clients\n" in srvr, srvr
        assert parse_srvr(srvr)["Mode"] == "read-only"
        assert mntr(m)["zk_server_state"] == "read-only"

        rc = ens.client(m, read_only=True)
        assert rc.client_state == KeeperState.CONNECTED_RO
        assert rc.get("/ro")[0] == b"data"
        assert rc.get_children("/ro") == ["kid"]
        assert rc.exists("/ro/none") is None
        for call in (lambda: rc.create("/ro/new", b""),
                     lambda: rc.set("/ro", b"x"),
                     lambda: rc.delete("/ro/kid"),
                     lambda: rc.sync("/ro")):
            with pytest.raises(NotReadOnlyCallError):
                call()
        assert rc.get("/ro")[0] == b"data"
        ens.close_client(rc)

        kind, _ = raw_connect_reply(m, read_only=False)
        assert kind == "closed", f"member {m.sid}: a not-read-only client got {kind}"

    rc = ens.client([lone, f1, f2], read_only=True, randomize_hosts=False)
    assert rc.client_state == KeeperState.CONNECTED_RO and peer_port(rc) == lone.port
    states = []
    rc.add_listener(states.append)
    t1 = time.monotonic()
    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1,
               message="the former lone member is not r/w again")
    wait_until(lambda: rc.client_state == KeeperState.CONNECTED, timeout=60, interval=0.1,
               message=f"the read-only client found no r/w server: {rc.client_state}")
    record_timing("follower back -> read-only client r/w again", time.monotonic() - t1)
    rc.create("/ro/after", b"rw")
    ens.start_member(f2)
    wait_until(lambda: o.four_letter("isro") == "rw", timeout=60, interval=0.1,
               message="the observer is not r/w again")
    tree = assert_same_everywhere(ens, "/ro")
    assert sorted(tree) == ["/ro", "/ro/after", "/ro/kid"]


def test_read_only_member_refuses_global_sessions(make_ensemble):
    """readonlymode.enabled=true, global sessions (the default). A read-only member refuses an
    existing session reconnecting read-only ("Refusing global session reconnection in RO
    mode": the connection is closed) and a client without read_only (closed). `isro` says
    `ro`. With the quorum back the existing session reconnects, and a read-only client gets a
    normal ConnectResponse with readOnly false."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    f1, f2 = ens.followers()
    existing = raw.connect(lone.port, timeout=30000, read_only=True)
    session_id, passwd = existing.session_id, existing.passwd
    existing.close()
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")

    kind, _ = raw_connect_reply(lone, read_only=True, session_id=session_id, passwd=passwd)
    assert kind == "closed", kind
    kind, _ = raw_connect_reply(lone, read_only=False)
    assert kind == "closed", kind

    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1)
    kind, resp = raw_connect_reply(lone, read_only=True, session_id=session_id, passwd=passwd)
    assert kind == "response" and resp.session_id == session_id and resp.read_only is False
    kind, resp = raw_connect_reply(lone, read_only=True)
    assert kind == "response" and resp.session_id != 0 and resp.read_only is False


@pytest.mark.known_difference(
    "corral", reason="Corral's read-only sessions are always local: a new read-only session is "
                     "served without localSessionsEnabled=true (test_read_only_sessions_are_local_"
                     "without_local_sessions_enabled); ZooKeeper 3.8 answers it with a bare "
                     "NOTREADONLY header (ZOOKEEPER-3863, documented by apache/zookeeper#1922)")
def test_read_only_new_global_session_gets_a_notreadonly_header(make_ensemble):
    """readonlymode.enabled=true, global sessions (the default). ZooKeeper 3.8's read-only
    server cannot create a global session: a new session asked by a read-only client is
    answered with a bare 16-byte reply header (xid 0, err -119 NOTREADONLY, from
    ReadOnlyRequestProcessor refusing the createSession) instead of a ConnectResponse, so no
    read-only client connects unless localSessionsEnabled=true."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    for f in ens.followers():
        f.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")
    kind, header = raw_connect_reply(lone, read_only=True)
    assert kind == "header", (kind, header)
    xid, _zxid, err = header
    assert (xid, err) == (0, NOTREADONLY)


@pytest.mark.corral_only
def test_read_only_sessions_are_local_without_local_sessions_enabled(make_ensemble):
    """Corral-only (a known difference, see the test above): with readonlymode.enabled=true and
    the default localSessionsEnabled=false, a read-only member still serves read-only clients,
    on sessions local to it (ConnectResponse readOnly true), refusing writes with NOTREADONLY;
    such a session is unknown to the quorum once it is back (the client gets a new one)."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    f1, f2 = ens.followers()
    c = ens.client(lone)
    c.create("/local-ro", b"v")
    ens.close_client(c)
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")
    kind, resp = raw_connect_reply(lone, read_only=True)
    assert kind == "response" and resp.session_id != 0 and resp.read_only is True, (kind, resp)
    rc = ens.client(lone, read_only=True)
    assert rc.client_state == KeeperState.CONNECTED_RO
    assert rc.get("/local-ro")[0] == b"v"
    with pytest.raises(NotReadOnlyCallError):
        rc.create("/local-ro/new", b"")
    ens.close_client(rc)
    # A read-only session dropped without closing it (as a client cut off would be).
    ro = raw.connect(lone.port, timeout=30000, read_only=True)
    ro_session, ro_passwd = ro.session_id, ro.passwd
    ro.close()
    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1)
    kind, resp = raw_connect_reply(lone, read_only=True, session_id=ro_session, passwd=ro_passwd)
    assert kind == "response" and resp.session_id == 0, (kind, resp)  # expired: never global


# ============================================================================ observer masters

def followers_masters(ens):
    """sid of each follower -> its zk_synced_observers (observers attached to it)."""
    return {f.sid: int(mntr(f).get("zk_synced_observers", "0")) for f in ens.followers()}


def wait_attached(ens, timeout=30.0):
    """Wait until each observer serves with a follower as its master; returns observer sid ->
    master sid."""
    fsids = {f.sid for f in ens.followers()}
    got = {}

    def ok():
        got.clear()
        got.update({o.sid: master_of(o) for o in ens.observers()})
        return all(v in fsids for v in got.values())
    wait_until(ok, timeout, interval=0.1,
               message=f"observers not attached to followers: {got}")
    return dict(got)


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
    lc = ens.client(leader)
    lc.create(base, b"v0")
    o4, o5 = ens.observers()
    c4, c5 = ens.client(o4), ens.client(o5)
    w5 = Watches(c5)
    c5.sync(base)
    w5.data(base)
    c4.set(base, b"from observer 4")
    assert w5.take(1) == [("data", EventType.CHANGED, base)]
    assert c5.get(base)[0] == b"from observer 4"
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
    lc = ens.client(leader)
    lc.create(base, b"v0")
    o4, o5 = ens.observers()
    c4, c5 = ens.client(o4), ens.client(o5)
    w5 = Watches(c5)
    c5.sync(base)
    w5.data(base)
    c4.set(base, b"via observer 4")
    assert w5.take(1) == [("data", EventType.CHANGED, base)]
    assert c5.get(base)[0] == b"via observer 4"

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
