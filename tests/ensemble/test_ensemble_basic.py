"""Multi-member ensembles: roles, replication, sessions across members, failover, catch-up
(DIFF / SNAP), quorum loss, mixed Corral+ZooKeeper ensembles and a rolling replacement.

Every assertion describes what an Apache ZooKeeper 3.8 ensemble does (the reference run,
--impl zookeeper, must pass); the same tests run against Corral members (--impl corral).
"""
import itertools
import threading
import time

import pytest
from kazoo.protocol.states import EventType, KazooState

from harness import raw
from harness.util import wait_until
from harness_ensemble import (NOT_SERVING, BackgroundWriter, assert_same_everywhere,
                              parse_mntr, parse_srvr)

_ids = itertools.count(1)


def unique(prefix):
    return f"/{prefix}-{next(_ids)}-{int(time.time() * 1000) % 100000}"


def leader_only_mntr_keys():
    # Keys ZooKeeper 3.8 prints in mntr only on the leader (observed; zk_followers of
    # 3.4/3.5 is gone, zk_learners counts followers + observers).
    return ("zk_learners", "zk_synced_followers", "zk_synced_non_voting_followers",
            "zk_synced_observers", "zk_pending_syncs", "zk_leader_uptime",
            "zk_last_proposal_size", "zk_min_proposal_size", "zk_max_proposal_size")


def write_nodes(client, base, names, data=b"v"):
    client.ensure_path(base)
    for n in names:
        client.create(f"{base}/{n}", data)


def children_at(ens, member, path):
    c = ens.client(member)
    try:
        c.sync(path)
        return sorted(c.get_children(path))
    finally:
        ens.close_client(c)


def peer_port(client):
    sock = getattr(client._connection, "_socket", None)
    try:
        return sock.getpeername()[1] if sock is not None else None
    except OSError:
        return None


def assert_synced_by(ens, member, expected):
    """`member` caught up with the leader by `expected` ('DIFF' / 'SNAP'), once, after its last
    start, as far as ZooKeeper logs tell: the member's own log if it is ZooKeeper, the leader's
    log if the leader is ZooKeeper (both when both are). A Corral follower under a Corral leader
    leaves nothing to read; then only the data comparison done by the caller counts."""
    leader = ens.leader()
    seen = {}
    if member.impl == "zookeeper":
        seen["member log"] = member.sync_modes_in_log()
    if leader.impl == "zookeeper":
        seen["leader log"] = leader.sync_modes_sent_to(member)
    for source, modes in seen.items():
        assert modes == [expected], (f"member {member.sid} ({member.impl}) synced by {modes} "
                                     f"per the {source}, expected [{expected!r}]")


# ============================================================================ roles

def test_one_leader_two_followers(ensemble3):
    modes = ensemble3.wait_serving()
    assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
    leader = ensemble3.leader()
    srvr = parse_srvr(leader.four_letter("srvr"))
    assert srvr["Mode"] == "leader"
    assert "Zxid" in srvr and srvr["Zxid"].startswith("0x")

    ml = parse_mntr(leader.four_letter("mntr"))
    assert ml["zk_server_state"] == "leader"
    assert ml["zk_peer_state"] == "leading - broadcast"
    assert ml["zk_synced_followers"] == "2"
    assert ml["zk_learners"] == "2"
    assert ml["zk_synced_observers"] == "0"
    assert ml["zk_quorum_size"] == "3"
    assert "zk_followers" not in ml  # 3.8 reports zk_learners / zk_synced_followers only

    for f in ensemble3.followers():
        assert parse_srvr(f.four_letter("srvr"))["Mode"] == "follower"
        mf = parse_mntr(f.four_letter("mntr"))
        assert mf["zk_server_state"] == "follower"
        assert mf["zk_peer_state"] == "following - broadcast"
        assert mf["zk_quorum_size"] == "3"
        present = [k for k in leader_only_mntr_keys() if k in mf]
        assert not present, f"leader-only mntr keys on a follower: {present}"
        assert f.four_letter("ruok") == "imok"


# ============================================================================ replication

def test_writes_through_every_member_read_same(ensemble3):
    base = unique("everywhere")
    clients = {m.sid: ensemble3.client(m) for m in ensemble3}
    clients[1].create(base, b"")
    clients[1].create(f"{base}/shared", b"0")
    for sid, c in clients.items():
        c.create(f"{base}/by-{sid}", f"from {sid}".encode())
        c.set(f"{base}/shared", f"set by {sid}".encode())
    clients[2].delete(f"{base}/by-1")

    for sid, c in clients.items():
        c.sync(base)
        assert sorted(c.get_children(base)) == ["by-2", "by-3", "shared"], sid
        data, st = c.get(f"{base}/shared")
        assert (data, st.version) == (b"set by 3", 3), sid
        assert c.get(f"{base}/by-2")[0] == b"from 2"
    tree = assert_same_everywhere(ensemble3, base)
    assert len(tree) == 4


def test_sequential_names_distinct_and_increasing(ensemble3):
    base = unique("seq")
    clients = [ensemble3.client(m) for m in ensemble3]
    clients[0].create(base, b"")
    # One after the other, round robin through the members: strictly increasing.
    names = [clients[i % 3].create(f"{base}/n-", b"", sequence=True) for i in range(24)]
    counters = [int(n.rsplit("-", 1)[1]) for n in names]
    assert counters == sorted(counters) and len(set(counters)) == 24, names
    assert counters == list(range(24)), counters  # cversion of a fresh parent counts from 0

    # Concurrently through the three members: all distinct, each client's own increasing.
    got = {}

    def burst(i):
        got[i] = [clients[i].create(f"{base}/c-", b"", sequence=True) for _ in range(15)]

    threads = [threading.Thread(target=burst, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(got) == 3
    for i, lst in got.items():
        ctr = [int(n.rsplit("-", 1)[1]) for n in lst]
        assert ctr == sorted(ctr), (i, lst)
    all_names = [n for lst in got.values() for n in lst]
    assert len(set(all_names)) == 45
    suffixes = sorted(int(n.rsplit("-", 1)[1]) for n in all_names)
    assert suffixes == list(range(24, 24 + 45))  # one shared parent counter

    expected = sorted(n.rsplit("/", 1)[1] for n in names + all_names)
    for m in ensemble3:
        assert children_at(ensemble3, m, base) == expected


# ============================================================================ ephemerals

def test_ephemeral_gone_at_other_member_after_close(ensemble3):
    a, b = ensemble3.members[0], ensemble3.members[1]
    base = unique("eph-close")
    ca = ensemble3.client(a)
    cb = ensemble3.client(b)
    ca.create(base, b"")
    ca.create(f"{base}/e", b"x", ephemeral=True)
    owner = ca.client_id[0]
    cb.sync(base)
    st = cb.exists(f"{base}/e")
    assert st is not None and st.ephemeralOwner == owner

    gone = threading.Event()
    cb.exists(f"{base}/e", watch=lambda ev: gone.set() if ev.type == EventType.DELETED else None)
    ensemble3.close_client(ca)  # closeSession
    assert gone.wait(20), "ephemeral not deleted at member B after the owner closed its session"
    for m in ensemble3:
        assert children_at(ensemble3, m, base) == []


def test_ephemeral_gone_at_other_member_after_expiry(ensemble3, record_timing):
    """The owner's connection is dropped without closeSession (raw socket closed): the node
    stays until the session times out, then the leader expires the session everywhere."""
    a, b = ensemble3.members[0], ensemble3.members[1]
    base = unique("eph-expire")
    cb = ensemble3.client(b)
    cb.create(base, b"")
    conn = raw.connect(a.port, timeout=4000)  # 4000 ms = minSessionTimeout (2 * tickTime)
    try:
        assert conn.session.timeout == 4000
        err, _ = conn.create(f"{base}/e", b"x", flags=raw.CreateFlags.EPHEMERAL)
        assert err == 0
        session_id = conn.session_id
    finally:
        conn.close()  # TCP close, no closeSession
    t_drop = time.monotonic()
    cb.sync(base)
    st = cb.exists(f"{base}/e")
    assert st is not None and st.ephemeralOwner == session_id, "removed before expiry"

    def gone():
        cb.sync(base)
        return cb.exists(f"{base}/e") is None

    wait_until(gone, timeout=30, interval=0.1, message="ephemeral not removed after expiry")
    elapsed = time.monotonic() - t_drop
    record_timing("session drop -> ephemeral gone (timeout 4 s)", elapsed)
    assert elapsed >= 3.0, f"removed after {elapsed:.1f}s, before the 4 s session timeout"
    for m in ensemble3:
        assert children_at(ensemble3, m, base) == []


# ============================================================================ watches

def test_watches_on_b_fire_for_change_via_a(ensemble3):
    a, b = ensemble3.members[0], ensemble3.members[2]
    base = unique("watch")
    ca = ensemble3.client(a)
    cb = ensemble3.client(b)
    ca.create(base, b"0")
    cb.sync(base)
    events = {"data": [], "child": [], "exists": []}
    fired = {k: threading.Event() for k in events}

    def cb_for(kind):
        def _cb(ev):
            events[kind].append(ev)
            fired[kind].set()
        return _cb

    cb.get(base, watch=cb_for("data"))
    cb.get_children(base, watch=cb_for("child"))
    assert cb.exists(f"{base}-new", watch=cb_for("exists")) is None

    ca.set(base, b"1")
    ca.create(f"{base}/kid", b"")
    ca.create(f"{base}-new", b"")
    for kind in events:
        assert fired[kind].wait(20), f"{kind} watch on member {b.sid} did not fire"
    assert [(e.type, e.path) for e in events["data"]] == [(EventType.CHANGED, base)]
    assert [(e.type, e.path) for e in events["child"]] == [(EventType.CHILD, base)]
    assert [(e.type, e.path) for e in events["exists"]] == [(EventType.CREATED, f"{base}-new")]
    # The change is visible at B once the watch fired (no sync needed).
    assert cb.get(base)[0] == b"1"
    ca.delete(f"{base}-new")


# ============================================================================ sessions

def test_session_moves_to_another_member(ensemble3):
    """A client on follower A reconnects to member B when A stops; same session, its
    ephemerals stay; it can write and create ephemerals through B."""
    fa, fb = ensemble3.followers()
    leader = ensemble3.leader()
    base = unique("move")
    c = ensemble3.client([fa, fb], timeout=10.0, randomize_hosts=False)
    assert peer_port(c) == fa.port
    states = []
    c.add_listener(states.append)
    c.create(base, b"")
    c.create(f"{base}/e1", b"", ephemeral=True)
    sid, passwd = c.client_id

    fa.stop()
    wait_until(lambda: c.state == KazooState.CONNECTED and peer_port(c) == fb.port,
               timeout=30, interval=0.05, message="client did not reconnect to member B")
    assert c.client_id == (sid, passwd)
    assert KazooState.LOST not in states
    c.create(f"{base}/e2", b"", ephemeral=True)
    other = ensemble3.client(leader)
    other.sync(base)
    for name in ("e1", "e2"):
        st = other.exists(f"{base}/{name}")
        assert st is not None and st.ephemeralOwner == sid, name

    ensemble3.start_member(fa)
    assert sorted(children_at(ensemble3, fa, base)) == ["e1", "e2"]


# ============================================================================ failover

def test_leader_kill9_new_leader_elected(make_ensemble, record_timing):
    ens = make_ensemble(3)
    old = ens.leader()
    survivors = [m for m in ens if m is not old]
    writer_client = ens.client(survivors, timeout=15.0)
    w = BackgroundWriter(writer_client, unique("failover"), op_timeout=3.0).start()
    w.wait_progress(30)

    t_kill = time.monotonic()
    old.kill9()
    first = None

    def written_after_kill():
        nonlocal first
        first = w.first_ack_issued_after(t_kill)
        return first is not None

    wait_until(written_after_kill, timeout=60, interval=0.02,
               message="no write succeeded after the leader was killed")
    record_timing("leader kill -9 -> first successful write", first[1] - t_kill)

    modes = ens.wait_serving(members=survivors)
    assert sorted(modes.values()) == ["follower", "leader"], modes
    new = ens.leader()
    assert new is not old
    w.wait_progress(20)
    w.stop()

    acked = w.acked_paths()
    tree = assert_same_everywhere(ens, w.base, survivors)
    missing = [p for p in acked if p not in tree]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    assert parse_mntr(new.four_letter("mntr"))["zk_synced_followers"] == "1"

    # The old leader comes back as a follower and catches up.
    ens.start_member(old)
    assert old.mode() == "follower"
    assert_same_everywhere(ens, w.base)


def test_follower_restart_catches_up_by_diff(make_ensemble):
    ens = make_ensemble(3)
    base = unique("diff")
    f = ens.followers()[0]
    others = [m for m in ens if m is not f]
    c = ens.client(others)
    write_nodes(c, base, [f"before-{i}" for i in range(10)])
    f.stop()
    write_nodes(c, base, [f"missed-{i}" for i in range(20)], data=b"m")
    c.set(f"{base}/before-0", b"changed")
    c.delete(f"{base}/before-1")
    ens.start_member(f)
    assert f.mode() == "follower"
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 1 + 9 + 20
    assert tree[f"{base}/before-0"][0] == b"changed"
    assert_synced_by(ens, f, "DIFF")


def test_follower_restart_with_wiped_datadir_catches_up_by_snap(make_ensemble):
    ens = make_ensemble(3)
    base = unique("snap")
    f = ens.followers()[-1]
    others = [m for m in ens if m is not f]
    c = ens.client(others)
    write_nodes(c, base, [f"before-{i}" for i in range(10)])
    f.stop()
    f.wipe()
    write_nodes(c, base, [f"missed-{i}" for i in range(10)])
    ens.start_member(f)
    assert f.mode() == "follower"
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 21
    assert_synced_by(ens, f, "SNAP")
    # And it takes part in new writes.
    c.create(f"{base}/after", b"a")
    assert_same_everywhere(ens, base)


def test_sigstopped_follower_catches_up_after_sigcont(make_ensemble):
    """A frozen (SIGSTOP) follower does not block writes (2 of 3 commit); after SIGCONT,
    within syncLimit, it applies what it missed."""
    ens = make_ensemble(3)
    base = unique("frozen")
    f = ens.followers()[0]
    others = [m for m in ens if m is not f]
    c = ens.client(others)
    c.ensure_path(base)
    f.sigstop()
    t0 = time.monotonic()
    write_nodes(c, base, [f"n{i}" for i in range(20)])
    assert time.monotonic() - t0 < 8, "writes blocked by a frozen follower"
    f.sigcont()
    ens.wait_serving()
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 21


def test_sigstopped_leader_is_replaced(make_ensemble, record_timing):
    """A frozen leader: the followers time out (syncLimit * tickTime, here 2 * 2000 ms) and
    elect a new leader; after SIGCONT the old leader rejoins as a follower."""
    ens = make_ensemble(3, settings={"syncLimit": 2})
    old = ens.leader()
    survivors = [m for m in ens if m is not old]
    base = unique("frozen-leader")
    c = ens.client(survivors, timeout=15.0)
    write_nodes(c, base, ["a", "b"])
    t0 = time.monotonic()
    old.sigstop()
    modes = ens.wait_serving(timeout=60, members=survivors)
    assert sorted(modes.values()) == ["follower", "leader"], modes
    record_timing("leader SIGSTOP -> new leader serving (syncLimit=2)", time.monotonic() - t0)
    c.create(f"{base}/c", b"")
    old.sigcont()
    wait_until(lambda: old.mode() == "follower", timeout=60, interval=0.1,
               message="old leader did not rejoin as follower")
    ens.wait_serving()
    tree = assert_same_everywhere(ens, base)
    assert sorted(p.rsplit("/", 1)[1] for p in tree if p != base) == ["a", "b", "c"]


# ============================================================================ quorum loss

def test_quorum_loss_and_recovery(make_ensemble):
    from kazoo.client import KazooClient
    from kazoo.handlers.threading import KazooTimeoutError

    ens = make_ensemble(3)
    base = unique("quorum")
    c = ens.client()
    write_nodes(c, base, ["x", "y"])
    ens.close_client(c)
    leader = ens.leader()
    f1, f2 = ens.followers()

    f1.stop()
    f2.stop()
    wait_until(lambda: NOT_SERVING in (leader.four_letter("srvr") or ""), timeout=30,
               interval=0.05, message="lone member still serving")
    assert leader.four_letter("srvr") == NOT_SERVING + "\n"
    assert leader.four_letter("mntr") == NOT_SERVING + "\n"
    assert leader.four_letter("ruok") == "imok"  # the process is alive
    assert not raw.try_handshake(leader.port, timeout=2.0)
    lone = KazooClient(hosts=leader.hosts, timeout=4.0)
    try:
        with pytest.raises(KazooTimeoutError):
            lone.start(timeout=3)
    finally:
        lone.stop()
        lone.close()

    ens.start_member(f2)
    modes = ens.wait_serving()
    assert sorted(modes.values()) == ["follower", "leader"]
    c = ens.client([leader, f2])
    assert sorted(c.get_children(base)) == ["x", "y"]
    c.create(f"{base}/z", b"")
    ens.start_member(f1)
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 4


# ============================================================================ five members

def test_five_members_survive_two_kills(make_ensemble, record_timing):
    ens = make_ensemble(5)
    modes = ens.wait_serving()
    assert sorted(modes.values()) == ["follower"] * 4 + ["leader"]
    assert parse_mntr(ens.leader().four_letter("mntr"))["zk_synced_followers"] == "4"
    leader = ens.leader()
    victim_f = ens.followers()[0]
    survivors = [m for m in ens if m not in (leader, victim_f)]
    w = BackgroundWriter(ens.client(survivors, timeout=15.0), unique("five"),
                         op_timeout=3.0).start()
    w.wait_progress(20)
    victim_f.kill9()
    w.wait_progress(20)
    t_kill = time.monotonic()
    leader.kill9()
    wait_until(lambda: w.first_ack_issued_after(t_kill) is not None, timeout=60,
               interval=0.02, message="no write after killing the leader of 5")
    first = w.first_ack_issued_after(t_kill)
    record_timing("5 members, leader kill -9 -> first write", first[1] - t_kill)
    modes = ens.wait_serving(members=survivors)
    assert sorted(modes.values()) == ["follower", "follower", "leader"], modes
    w.wait_progress(20)
    w.stop()
    tree = assert_same_everywhere(ens, w.base, survivors)
    missing = [p for p in w.acked_paths() if p not in tree]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"


# ============================================================================ mixed

# (shape, leader sid, sid restarted after missing writes (DIFF), sid restarted wiped (SNAP)).
# The leader is steered: with equal data the highest sid wins the first election, so the
# highest sid is started first and must win.
MIXED = [
    pytest.param(["zookeeper", "zookeeper", "corral"], 3, 1, 2, id="zzC-corral-leader"),
    pytest.param(["corral", "zookeeper", "zookeeper"], 3, 2, 1, id="Czz-corral-follower"),
    pytest.param(["zookeeper", "corral", "corral"], 3, 2, 1, id="zcC-corral-leader"),
    pytest.param(["corral", "corral", "zookeeper"], 3, 1, 2, id="ccZ-corral-followers"),
]


@pytest.mark.mixed
@pytest.mark.parametrize("shape,leader_sid,diff_sid,snap_sid", MIXED)
def test_mixed_ensemble(mixed, shape, leader_sid, diff_sid, snap_sid):
    ens = mixed(shape, leader_sid=leader_sid)
    assert ens.impls == mixed.impls_for(shape)
    leader = ens.leader()
    assert leader.sid == leader_sid
    assert sorted(ens.modes().values()) == ["follower", "follower", "leader"]

    base = unique("mixed")
    clients = {m.sid: ens.client(m) for m in ens}
    clients[1].create(base, b"")
    for sid, c in clients.items():
        write_nodes(c, base, [f"m{sid}-{i}" for i in range(5)], data=f"{sid}".encode())
        c.set(base, f"last {sid}".encode())
    tree = assert_same_everywhere(ens, base)
    assert len(tree) == 16 and tree[base][0] == b"last 3"
    for c in list(clients.values()):
        ens.close_client(c)

    # DIFF: a member misses writes while down.
    d = ens.member(diff_sid)
    d.stop()
    c = ens.client([m for m in ens if m is not d])
    write_nodes(c, base, [f"diff-{i}" for i in range(15)])
    c.delete(f"{base}/m1-0")
    ens.start_member(d)
    assert d.mode() == "follower"
    assert len(assert_same_everywhere(ens, base)) == 30
    assert_synced_by(ens, d, "DIFF")
    ens.close_client(c)

    # SNAP: a member comes back with an empty dataDir.
    s = ens.member(snap_sid)
    s.stop()
    s.wipe()
    c = ens.client([m for m in ens if m is not s])
    write_nodes(c, base, [f"snap-{i}" for i in range(5)])
    ens.start_member(s)
    assert s.mode() == "follower"
    assert len(assert_same_everywhere(ens, base)) == 35
    assert_synced_by(ens, s, "SNAP")
    assert ens.leader().sid == leader_sid


# ============================================================================ rolling

@pytest.mark.rolling
def test_rolling_replacement(make_ensemble, impl, record_timing):
    """A ZooKeeper ensemble under continuous writes has each member replaced, one at a time,
    by the implementation under test on the same dataDir, myid and ports, then back to
    ZooKeeper. Every acknowledged write is on every member at the end."""
    replacement = impl
    ens = make_ensemble(["zookeeper"] * 3)
    w = BackgroundWriter(ens.client(timeout=20.0), unique("rolling"), op_timeout=5.0).start()
    w.wait_progress(10)
    t0 = time.monotonic()
    steps = [(m.sid, replacement) for m in ens] + [(m.sid, "zookeeper") for m in ens]
    for sid, new_impl in steps:
        m = ens.member(sid)
        was = m.mode()
        m.stop()
        ens.start_member(m, impl=new_impl)
        assert m.impl == new_impl
        print(f"member {sid} ({was}) -> {new_impl}: {ens.describe()}")
        w.wait_progress(10)
    record_timing(f"rolling replacement zookeeper -> {replacement} -> zookeeper (6 restarts)",
                  time.monotonic() - t0)
    w.stop()
    acked = set(w.acked_paths())
    assert len(acked) >= 70
    tree = assert_same_everywhere(ens, w.base)
    missing = sorted(acked - set(tree))
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    assert ens.impls == ["zookeeper"] * 3
