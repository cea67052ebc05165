"""Dynamic reconfiguration across implementations (marker `mixed`): a Corral member added by
`reconfig` to a ZooKeeper ensemble and a ZooKeeper member added to a Corral one, the leader
removed with the designated leader of the other implementation, and members re-roled
(observer -> participant, participant -> observer) under a leader of the other
implementation. With --impl zookeeper every member is ZooKeeper (same shapes, same steps),
which checks the tests themselves. Helpers: reconfig_tier_support.py, reconfig_support.py;
the suite: README.md ("Dynamic reconfiguration").
"""
import time

import pytest
from kazoo.protocol.states import EventType

from harness.util import wait_until
from harness_ensemble import assert_same_everywhere
from test_ensemble_basic import unique, write_nodes

from reconfig_support import (TEST_TIME_LIMIT, assert_config_text, conf_membership, config_at, mntr,
                              reconfig_tolerating_loss, specs, super_client, time_limit,
                              wait_mntr, wait_mode)
from reconfig_tier_support import (SessionStates, add_by_reconfig, assert_same_config_node,
                                   lost_acks, once_in_reference_run, remove_by_reconfig,
                                   start_joiner, started, writer, writer_stall)

pytestmark = pytest.mark.mixed


@pytest.fixture(autouse=True)
def _time_limit(make_ensemble):
    with time_limit(TEST_TIME_LIMIT):
        yield


def watch_fires_through(client, path, writer_client, value):
    """A data watch set through `client` fires once (NodeDataChanged on `path`) for a set made
    through `writer_client`; the value is then current through `client`."""
    events = []
    client.sync(path)
    client.get(path, watch=lambda ev: events.append((ev.type, ev.path)))
    writer_client.set(path, value)
    wait_until(lambda: events, 10, message=f"watch on {path} did not fire")
    assert events == [(EventType.CHANGED, path)]
    assert client.get(path)[0] == value


# ============================================================================ a member of the other impl joins

JOINS = [
    pytest.param(["zookeeper"] * 3, "corral", id="zzz+C-corral-joins-zookeeper"),
    pytest.param(["corral"] * 3, "zookeeper", id="ccc+Z-zookeeper-joins-corral"),
]


def commits_with_its_vote_then_nothing_lost(ens, leader, lc, w, base, name):
    """With member 2 stopped, a write through the leader commits only if the member under
    test acks it (the voters are {2, 3, 4}); then member 2 returns, the writer `w` stops,
    and no acknowledged write is lost and every member holds the same data."""
    ens.member(2).stop()
    lc.create_async(f"{base}/{name}", b"q").get(timeout=10)
    assert ens.leader() is leader
    w.wait_progress(5)
    ens.start_member(ens.member(2))
    w.wait_progress(10)
    w.stop()
    assert not lost_acks(w, lc), "acknowledged writes lost"
    assert_same_everywhere(ens, base)
    assert_same_everywhere(ens, base + "-w")


@pytest.mark.parametrize("shape,joiner", JOINS)
def test_member_of_other_impl_joins_votes_then_original_leaves(request, impl, make_ensemble,
                                                                shape, joiner, record_timing):
    """3 members of one implementation (sid 3 leading) under a continuous writer. A member of
    the other implementation started with the committed config plus itself (ZooKeeper's
    joiner procedure) syncs as a non-voting follower: it reads the committed config (without
    itself) and the earlier data. `reconfig -add` through a follower makes it a voter: the
    same /zookeeper/config bytes and mzxid on all four, the leader's zk_quorum_size 4,
    zk_synced_followers 3, no non-voting follower. A write through it is seen everywhere and
    a watch through it fires. Then an original member (sid 1) is removed through the
    joiner: it stays a non-voting follower that serves; the joiner's vote is needed (with
    member 2 stopped, the leader commits with the joiner's ACK, and stays leader). Every
    acknowledged write is on every member at the end."""
    once_in_reference_run(request, impl)
    impls = make_ensemble.impls_for(shape + [joiner])
    ens = started(make_ensemble, impls[:3])
    leader = ens.member(3)
    assert ens.leader() is leader
    base = unique("mixjoin")
    lc = ens.client(leader)
    write_nodes(lc, base, [f"n{i:02d}" for i in range(30)])
    w = writer(ens, ens.members[1:3], base + "-w")
    w.wait_progress(10)

    t = time.monotonic()
    spare, servers, v = start_joiner(ens, impls[3])
    record_timing(f"{spare.impl} joiner started -> non-voting follower", time.monotonic() - t)
    assert config_at(ens, spare)[:2] == (servers, v)
    assert_same_everywhere(ens, base)

    su = super_client(ens, ens.member(1))  # a follower: the reconfig is forwarded
    t = time.monotonic()
    joined, v2 = add_by_reconfig(ens, su, spare, servers)
    record_timing("reconfig -add of the joiner", time.monotonic() - t)
    assert v2 > v
    assert_same_config_node(ens, joined, v2)
    wait_mntr(leader, "zk_synced_non_voting_followers", 0)
    m = mntr(leader)
    assert (m["zk_quorum_size"], m["zk_synced_followers"]) == ("4", "3"), m
    assert spare.mode() == "follower"
    assert ens.leader() is leader

    sc = ens.client(spare)
    sc.create(f"{base}/via-joiner", spare.impl.encode())
    watch_fires_through(sc, base, lc, b"changed via the leader")
    assert_same_everywhere(ens, base)
    w.wait_progress(10)

    # An original member leaves, through the joiner.
    removed = ens.member(1)
    sj = super_client(ens, spare)
    three, v3 = remove_by_reconfig(ens, sj, [1], joined)
    assert_same_config_node(ens, three, v3)
    wait_mode(removed, "follower")
    wait_mntr(leader, "zk_synced_non_voting_followers", 1)
    m = mntr(leader)
    assert (m["zk_quorum_size"], m["zk_synced_followers"]) == ("3", "3"), m
    assert not [l for l in conf_membership(removed) if l.startswith("server.1=")]
    rc = ens.client(removed)
    rc.create(f"{base}/via-removed", b"r")
    sc.sync(f"{base}/via-removed")
    assert sc.exists(f"{base}/via-removed")

    # The joiner votes: of {2, 3, 4} with 2 down, only its ACK makes a quorum.
    commits_with_its_vote_then_nothing_lost(ens, leader, lc, w, base, "with-joiner-vote")
    assert_same_config_node(ens, three, v3)


# ============================================================================ leader removal

HANDOFFS = [
    pytest.param(["corral", "corral", "zookeeper"], id="ccZ-zookeeper-leader-removed"),
    pytest.param(["zookeeper", "zookeeper", "corral"], id="zzC-corral-leader-removed"),
]


@pytest.mark.parametrize("shape", HANDOFFS)
def test_leader_removed_hands_off_to_other_impl(request, impl, make_ensemble, shape,
                                                record_timing):
    """Sid 3 leads; the other two are of the other implementation, so the designated leader
    (a remaining voter that acked the reconfig) is too. The leader is removed under two
    continuous writers (one on members 1, 2, one on the leader only). The reconfig commits (a
    client may get ConnectionLoss instead of the reply); member 1 or 2 leads; the first
    write after it is recorded; exactly one member says leader; the old leader is a
    non-voting follower (srvr Mode follower, new leader's zk_synced_non_voting_followers 1,
    zk_quorum_size 2) that still serves: its own writer goes on through it. The writes via
    members 1, 2 stall less than 5 s (recorded; ZooKeeper 0.15-0.39 s). The config node
    is the same everywhere; no acknowledged write is lost."""
    once_in_reference_run(request, impl)
    ens = started(make_ensemble, make_ensemble.impls_for(shape))
    old = ens.member(3)
    assert ens.leader() is old
    base = unique("mixhandoff")
    w12 = writer(ens, ens.members[:2], base + "-a")
    w3 = writer(ens, [old], base + "-b")
    w12.wait_progress(20)
    w3.wait_progress(10)
    servers, v, _, _ = config_at(ens, old)

    su = super_client(ens, old)
    t0 = time.monotonic()
    reply = reconfig_tolerating_loss(su, leaving="3")
    after = specs(ens.members[:2])
    w12.wait_progress(20, timeout=60)
    first = w12.first_ack_issued_after(t0)
    assert first[1] - t0 < 10.0, first
    wait_mode(old, "follower")
    modes = ens.wait_serving()
    new_leader = next(ens.member(s) for s, mode in modes.items() if mode == "leader")
    assert new_leader.sid in (1, 2), modes
    assert new_leader.impl == ens.member(1).impl
    wait_mntr(new_leader, "zk_synced_non_voting_followers", 1)
    assert mntr(new_leader)["zk_quorum_size"] == "2"
    got, v2, _, _ = config_at(ens, new_leader)
    assert got == after, got
    if reply is not None:
        assert_config_text(reply[0], after, v2)
        assert reply[1].mzxid == v2
    assert_same_config_node(ens, after, v2)
    assert v2 > v
    assert not [l for l in conf_membership(old) if l.startswith("server.3=")]

    w3.wait_progress(10, timeout=60)  # writes through the removed leader go on
    w12.wait_progress(10)
    stall = writer_stall(w12, t0, time.monotonic())
    record_timing(f"{old.impl} leader removed: longest write stall (members 1, 2)", stall)
    assert stall < 5.0, stall  # ZooKeeper: 0.15-0.33 s
    w12.stop()
    w3.stop()
    nc = ens.client(new_leader)
    assert not lost_acks(w12, nc), "acknowledged writes lost (members 1, 2)"
    assert not lost_acks(w3, nc), "acknowledged writes lost (old leader)"
    assert_same_everywhere(ens, base + "-a")
    assert_same_everywhere(ens, base + "-b")
    modes = ens.modes()
    assert list(modes.values()).count("leader") == 1, modes
    assert modes[3] == "follower" and modes[new_leader.sid] == "leader", modes


# ============================================================================ re-roles

REROLES = [
    pytest.param(["corral", "zookeeper", "zookeeper", "corral"],
                 id="CzZ-C-corral-reroled-under-zookeeper-leader"),
    pytest.param(["zookeeper", "corral", "corral", "zookeeper"],
                 id="ZcC-Z-zookeeper-reroled-under-corral-leader"),
]


@pytest.mark.parametrize("shape", REROLES)
def test_observer_and_participant_reroled(request, impl, make_ensemble, shape):
    """3 voters (sid 3 leading) and observer 4; members 1 and 4 are of the other
    implementation than the leader. Under a continuous writer: `reconfig -add` of observer
    4's spec as a participant makes it a follower (the leader's zk_synced_observers 0,
    zk_synced_followers 3, zk_quorum_size 4); `-add` of follower 1's spec as an observer
    makes it an observer (zk_synced_observers 1, zk_quorum_size 3). The config node is the
    same bytes everywhere after each. A session on member 4 survives its re-role (never
    LOST, its ephemeral stays). Member 4 votes: with member 2 stopped the leader commits with
    it. Both serve writes and watches; no acknowledged write is lost."""
    once_in_reference_run(request, impl)
    ens = started(make_ensemble, make_ensemble.impls_for(shape), observers=(4,))
    leader, obs, part = ens.member(3), ens.member(4), ens.member(1)
    assert ens.leader() is leader and obs.mode() == "observer"
    base = unique("mixrerole")
    lc = ens.client(leader)
    lc.create(base, b"0")
    w = writer(ens, [ens.member(2), leader], base + "-w")
    w.wait_progress(10)
    states = SessionStates()
    oc = states.watch("on 4", ens.client(obs))
    session = oc.client_id
    oc.create(f"{base}/eph-4", b"e", ephemeral=True)
    pc = states.watch("on 1", ens.client(part))
    servers, v, _, _ = config_at(ens, leader)
    su = super_client(ens, ens.member(2))

    voters4, v2 = add_by_reconfig(ens, su, obs, servers, role="participant")
    obs.role = "participant"
    wait_mode(obs, "follower")
    assert_same_config_node(ens, voters4, v2)
    wait_mntr(leader, "zk_synced_observers", 0)
    wait_mntr(leader, "zk_synced_followers", 3)
    assert mntr(leader)["zk_quorum_size"] == "4"
    w.wait_progress(5)

    voters3, v3 = add_by_reconfig(ens, su, part, voters4, role="observer")
    part.role = "observer"
    wait_mode(part, "observer")
    assert_same_config_node(ens, voters3, v3)
    wait_mntr(leader, "zk_synced_observers", 1)
    wait_mntr(leader, "zk_synced_followers", 2)
    assert mntr(leader)["zk_quorum_size"] == "3"
    assert ens.leader() is leader

    wait_until(lambda: oc.connected, 30, message="client of member 4 not reconnected")
    assert oc.client_id == session
    assert oc.exists(f"{base}/eph-4").ephemeralOwner == session[0]
    for c, m in ((oc, obs), (pc, part)):
        wait_until(lambda: c.connected, 30, message=f"client of {m!r} not reconnected")
        c.create(f"{base}/via-{m.sid}", m.impl.encode())
        watch_fires_through(c, base, lc, f"set after re-role, watched via {m.sid}".encode())

    # Member 4 votes: of {2, 3, 4} with 2 down, only its ACK makes a quorum.
    commits_with_its_vote_then_nothing_lost(ens, leader, lc, w, base, "with-4-vote")
    assert not states.lost(), states.lost()
