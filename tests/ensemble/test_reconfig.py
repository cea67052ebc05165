"""Dynamic reconfiguration (`reconfig`, opcode 16): the /zookeeper/config node and its
watches, the files beside zoo.cfg, errors and access rules, joiners that never answer, removing
the leader, adding and removing real participants and observers, restarts after a reconfig,
and zkCli.sh. Every assertion describes what an Apache ZooKeeper 3.8 ensemble does
(--impl zookeeper must pass); the same tests run on Corral. Helpers: reconfig_support.py;
kazoo's own TestReconfig: test_reconfig_kazoo.py; the whole suite: README.md.
"""
import os
import time

import pytest
from kazoo.exceptions import (BadArgumentsError, BadVersionError, NewConfigNoQuorumError,
                              NoAuthError)
from kazoo.protocol.states import EventType
from kazoo.security import ACL, Id, make_digest_acl, make_acl

from harness.util import wait_until
from harness_ensemble import (BackgroundWriter, assert_same_everywhere, dump_tree,
                              reserve_ports)
from test_ensemble_basic import unique

from reconfig_support import (
    BAD_ARGUMENTS, BAD_VERSION, CHANGED, CONFIG_NODE, FIRST_VERSION, MARSHALLING_ERROR,
    NEW_CONFIG_NO_QUORUM, NO_AUTH, RECONFIG_DISABLED, RECONFIG_SETTINGS, START_TIMEOUT,
    SUPER_DIGEST, SUPER_DIGEST_KEY, TEST_TIME_LIMIT, ConfigWatch, assert_config_text,
    assert_dynamic_config, conf_membership, config_at, config_lines, initial_config_text,
    mntr, normalize_transcript, parse_config, raw_reconfig, read_kv, reconfig,
    reconfig_tolerating_loss, spec_of, specs, super_client, time_limit, unused_spec,
    wait_config_everywhere, wait_exit, wait_mntr, wait_mode, zkcli, zkcli_configs)

READ_ONLY_WORLD = [ACL(1, Id("world", "anyone"))]


def started(make_ensemble, shape=3, settings=None, **kw):
    """make_ensemble with sid 3 leading and a bounded start (START_TIMEOUT)."""
    ens = make_ensemble(shape, settings=settings, start=False, **kw)
    ens.start(leader_sid=3, timeout=START_TIMEOUT)
    return ens


def fresh(make_ensemble, extra=None, **kw):
    """3 members with reconfigEnabled and the super user, sid 3 leading."""
    settings = dict(RECONFIG_SETTINGS)
    settings.update(extra or {})
    return started(make_ensemble, 3, settings, **kw)


@pytest.fixture(autouse=True)
def _time_limit(make_ensemble):
    """The test (not the cleanup of its ensembles, which depends on nothing here: set up
    before, ended after) is stopped after TEST_TIME_LIMIT."""
    with time_limit(TEST_TIME_LIMIT):
        yield


def assert_config_stat(stat, data, version):
    """The Stat ZooKeeper keeps on /zookeeper/config."""
    assert (stat.czxid, stat.ctime, stat.version, stat.cversion, stat.aversion,
            stat.ephemeralOwner, stat.numChildren, stat.pzxid) == (0, 0, -1, 0, -1, 0, 0, 0), stat
    assert stat.mzxid == version, f"mzxid {stat.mzxid:#x} != version {version:#x}"
    assert stat.dataLength == len(data)


def writes_through_each(ens, base, members=None, timeout=5.0):
    """One create through each member, each acknowledged within `timeout` s."""
    for m in members or ens.running():
        c = ens.client(m)
        try:
            c.ensure_path(base)
            c.create_async(f"{base}/via-{m.sid}-", b"x", sequence=True).get(timeout=timeout)
        finally:
            ens.close_client(c)


def points_at(member, servers, version):
    """Whether the member's zoo.cfg already names its dynamic file of `version`."""
    try:
        assert_dynamic_config(member, servers, version)
        return True
    except (AssertionError, OSError):
        return False


# ============================================================================ fixtures

@pytest.fixture(scope="module")
def reconfigurable_shared(module_ensemble_factory):
    """3 members with reconfigEnabled and the super user, sid 3 leading, shared by the tests
    that leave the membership as they found it (they may make new config versions)."""
    ens = module_ensemble_factory(3, settings=dict(RECONFIG_SETTINGS), start=False)
    ens.start(leader_sid=3, timeout=START_TIMEOUT)
    return ens


@pytest.fixture
def reconfigurable(reconfigurable_shared):
    ens = reconfigurable_shared
    ens.ensure_running(START_TIMEOUT)
    before = config_at(ens, ens.leader())[0]
    assert before == specs(ens.initial_members()), f"membership changed: {before}"
    yield ens
    for c in list(ens.clients):
        ens.close_client(c)
    # A failed test may have left joiners in: put the initial membership back.
    if config_at(ens, ens.leader())[0] != before:
        reconfig(super_client(ens, ens.leader()),
                 new_members=",".join(config_lines(before)))
        for c in list(ens.clients):
            ens.close_client(c)


# ============================================================================ config node, files

def test_initial_config_node_conf_and_files(make_ensemble):
    """A fresh ensemble with reconfigEnabled=true: /zookeeper/config on every member is
    exactly the server lines as configured (sid order) and `version=100000000` (the first
    leader's NEWLEADER zxid), no trailing newline; Stat czxid 0, ctime 0, version -1,
    aversion -1, mzxid 0x100000000; ACL world:anyone READ only. `conf` lists the same lines
    after `membership:`. Each member has rewritten its zoo.cfg: the server.N lines moved to
    `zoo.cfg.dynamic.100000000`, `dynamicConfigFile=<that absolute path>` added, every
    other key kept, and the original saved as `zoo.cfg.bak`."""
    ens = fresh(make_ensemble)
    expected = initial_config_text(ens)
    servers = specs(ens.members)
    for m in ens:
        c = ens.client(m)
        data, stat = c.get(CONFIG_NODE)
        assert data.decode() == expected, m.sid
        assert_config_stat(stat, data, FIRST_VERSION)
        acl, _ = c.get_acls(CONFIG_NODE)
        assert list(acl) == READ_ONLY_WORLD, acl
        assert conf_membership(m) == expected.split("\n"), m.sid

        wait_until(lambda: points_at(m, servers, FIRST_VERSION), 30, message=f"{m!r}: no zoo.cfg.dynamic.100000000")
        assert_dynamic_config(m, servers, FIRST_VERSION)
        with open(m.config_path + ".bak") as f:
            assert f.read() == m.written_config
        original = read_kv(m.config_path + ".bak")
        now = read_kv(m.config_path)
        kept = {k: v for k, v in original.items()
                if k != "_lines" and not k.startswith("server.")}
        assert {k: v for k, v in now.items() if k not in ("_lines", "dynamicConfigFile")} \
            == kept, m.sid


def test_reconfig_disabled(make_ensemble):
    """reconfigEnabled=false (also the default): a reconfig through any member, with or without
    the super user, valid or not, gets ReconfigDisabled (-123) with an empty body, and the
    session goes on. /zookeeper/config holds the static config with `version=0` (mzxid 0),
    `conf` too; zoo.cfg is not rewritten and there is no dynamic file and no .bak."""
    ens = started(make_ensemble, 3, {"reconfigEnabled": False, SUPER_DIGEST_KEY: SUPER_DIGEST})
    expected = "\n".join(config_lines(specs(ens.members)) + ["version=0"])
    for m in ens:
        for kw in (dict(joining=unused_spec(9, "observer")), dict(leaving="1"),
                   dict(joining="some thing"), dict(new_members="server.1=x")):
            assert raw_reconfig(m, **kw).err == RECONFIG_DISABLED, (m.sid, kw)
            assert raw_reconfig(m, auth=None, **kw).err == RECONFIG_DISABLED, (m.sid, kw)
        data, stat = ens.client(m).get(CONFIG_NODE)
        assert data.decode() == expected
        assert_config_stat(stat, data, 0)
        assert conf_membership(m) == expected.split("\n")
        assert m.server_written_config() is None, m.read_config()
        assert m.dynamic_config_files() == {}
        assert not os.path.exists(m.config_path + ".bak")
    writes_through_each(ens, unique("disabled"))


# ============================================================================ errors

def test_reconfig_needs_write_access_to_the_config_node(make_ensemble):
    """Without the super user a reconfig gets NoAuth (-102), through a follower or the
    leader, and so does a digest user; such users cannot setData or setACL the node either.
    The super user may grant WRITE on /zookeeper/config to a digest user (aversion 0 after;
    getACL masks the digest as `bob:x` for everyone but the super user), who can then
    reconfig (and still not setACL)."""
    ens = fresh(make_ensemble)
    leader, follower = ens.leader(), ens.followers()[0]
    dead = unused_spec(100, "observer")
    for m in (leader, follower):
        assert raw_reconfig(m, joining=dead, auth=None).err == NO_AUTH
        assert raw_reconfig(m, joining=dead, auth=("bob", "pw")).err == NO_AUTH
    plain = ens.client(follower)
    with pytest.raises(NoAuthError):
        reconfig(plain, joining=dead)
    bob = ens.client(follower, auth_data=[("digest", "bob:pw")])
    with pytest.raises(NoAuthError):
        reconfig(bob, joining=dead)
    with pytest.raises(NoAuthError):
        bob.set(CONFIG_NODE, b"server.1=x")
    with pytest.raises(NoAuthError):
        bob.set_acls(CONFIG_NODE, [make_acl("world", "anyone", all=True)])
    wait_config_everywhere(ens, specs(ens.members), FIRST_VERSION)

    su = super_client(ens, leader)
    grant = [make_acl("world", "anyone", read=True), make_digest_acl("bob", "pw", write=True)]
    st = su.set_acls(CONFIG_NODE, grant)
    assert st.aversion == 0
    # getACL shows a digest id in full to a client with ADMIN on the node (super) only;
    # others get the password part masked as `x`.
    masked = [grant[0], ACL(2, Id("digest", "bob:x"))]
    assert list(su.get_acls(CONFIG_NODE)[0]) == grant
    for m in ens:
        c = ens.client(m)
        c.sync(CONFIG_NODE)
        assert list(c.get_acls(CONFIG_NODE)[0]) == masked, m.sid
    data, _ = reconfig(bob, joining=dead)
    sid, spec = spec_of(dead)
    assert parse_config(data)[0] == {**specs(ens.members), sid: spec}
    data, _ = reconfig(bob, leaving=str(sid))
    assert parse_config(data)[0] == specs(ens.members)
    with pytest.raises(NoAuthError):
        bob.set_acls(CONFIG_NODE, [make_acl("world", "anyone", all=True)])


def test_skip_acl_lets_anyone_reconfig(make_ensemble):
    """With skipACL=yes (a zoo.cfg key) and no super user configured, an unauthenticated
    client's reconfig succeeds."""
    ens = started(make_ensemble, 3, {"reconfigEnabled": True, "skipACL": "yes"})
    plain = ens.client(ens.followers()[0])
    dead = unused_spec(100, "observer")
    data, _ = reconfig(plain, joining=dead)
    sid, spec = spec_of(dead)
    assert parse_config(data)[0] == {**specs(ens.members), sid: spec}
    data, stat = reconfig(plain, leaving=str(sid))
    v = assert_config_text(data, specs(ens.members))
    wait_config_everywhere(ens, specs(ens.members), v)


def test_bad_arguments(reconfigurable):
    """Refused with BadArguments (-8): a joiner that is not `server.N=...`, a joiner without
    a client port (`host:q:e:role` only), leaving fewer than 2 voters (standaloneEnabled is
    true by default) or none, a non-incremental config of one voter or of garbage. A leaving
    sid or a joiner's `server.N` that is not a number gets MarshallingError (-5). Arguments are checked before the
    ACL: the same bad input without the super user is BadArguments too. Nothing changes."""
    ens = reconfigurable
    leader, follower = ens.leader(), ens.followers()[0]
    servers, v, _, _ = config_at(ens, leader)
    q, e = unused_spec(9).split("=", 1)[1].split(":")[1:3]
    one = f"server.1={servers[1]}"
    cases = [
        (dict(joining="some thing"), BAD_ARGUMENTS),
        (dict(joining=f"server.9=127.0.0.1:{q}:{e}:participant"), BAD_ARGUMENTS),
        (dict(leaving="1,2"), BAD_ARGUMENTS),
        (dict(leaving="1,2,3"), BAD_ARGUMENTS),
        (dict(new_members=one), BAD_ARGUMENTS),
        (dict(new_members="garbage"), BAD_ARGUMENTS),
        (dict(leaving="abc"), MARSHALLING_ERROR),
        (dict(joining=f"server.x=127.0.0.1:{q}:{e}:participant;2181"), MARSHALLING_ERROR),
    ]
    for kw, err in cases:
        for m in (follower, leader):
            assert raw_reconfig(m, **kw).err == err, (m.sid, kw)
    assert raw_reconfig(follower, joining="some thing", auth=None).err == BAD_ARGUMENTS
    assert raw_reconfig(follower, leaving="1,2", auth=None).err == BAD_ARGUMENTS
    with pytest.raises(BadArgumentsError):
        reconfig(super_client(ens, follower), joining="some thing")
    wait_config_everywhere(ens, servers, v)
    writes_through_each(ens, unique("badargs"))


def test_new_config_without_quorum(reconfigurable):
    """NewConfigNoQuorum (-13) when a majority of the new config's voters is not connected
    and synced with the leader: a non-incremental config of one member and two that nobody
    runs, or three unknown participants joining three members. Nothing changes."""
    ens = reconfigurable
    leader, follower = ens.leader(), ens.followers()[0]
    servers, v, _, _ = config_at(ens, leader)
    dead = [unused_spec(10 + i) for i in range(3)]
    bulk = ",".join([f"server.1={servers[1]}"] + dead[:2])
    for m in (follower, leader):
        assert raw_reconfig(m, new_members=bulk).err == NEW_CONFIG_NO_QUORUM
        assert raw_reconfig(m, joining=",".join(dead)).err == NEW_CONFIG_NO_QUORUM
    with pytest.raises(NewConfigNoQuorumError):
        reconfig(super_client(ens, follower), new_members=bulk)
    wait_config_everywhere(ens, servers, v)
    writes_through_each(ens, unique("noquorum"))


def test_from_config_version(reconfigurable):
    """A reconfig conditioned on a config version (fromConfig) other than the current one
    gets BadVersion (-103), before the ACL check (also without the super user). With the
    current version it succeeds: the reply header zxid, the new version and the Stat's
    mzxid are the same number. The old version is then stale (BadVersion)."""
    ens = reconfigurable
    leader, follower = ens.leader(), ens.followers()[0]
    servers, v, _, _ = config_at(ens, leader)
    dead = unused_spec(100, "observer")
    sid, spec = spec_of(dead)
    assert raw_reconfig(follower, joining=dead, from_config=v + 1).err == BAD_VERSION
    assert raw_reconfig(follower, joining=dead, from_config=v + 1, auth=None).err == BAD_VERSION
    su = super_client(ens, follower)
    with pytest.raises(BadVersionError):
        reconfig(su, joining=dead, from_config=v + 1)

    rep = raw_reconfig(follower, joining=dead, from_config=v)
    assert rep.err == 0, rep
    v2 = assert_config_text(rep.data, {**servers, sid: spec})
    assert v2 > v
    assert rep.zxid == v2 == rep.stat.mzxid
    assert_config_stat(rep.stat, rep.data, v2)
    assert raw_reconfig(follower, leaving=str(sid), from_config=v).err == BAD_VERSION
    with pytest.raises(BadVersionError):
        reconfig(su, leaving=str(sid), from_config=v)
    data, stat = reconfig(su, leaving=str(sid), from_config=v2)
    v3 = assert_config_text(data, servers)
    assert v3 > v2 and stat.mzxid == v3
    wait_config_everywhere(ens, servers, v3)


def test_incremental_reconfig_without_change_makes_a_new_version(reconfigurable):
    """An incremental reconfig that changes nothing still commits a new config version with
    the same servers: leaving a sid that is not in the config, or all three lists null
    (so retrying an incremental reconfig after a ConnectionLoss does no harm)."""
    ens = reconfigurable
    follower = ens.followers()[0]
    servers, v, _, _ = config_at(ens, follower)
    su = super_client(ens, follower)
    data, _ = reconfig(su, leaving="42")
    v2 = assert_config_text(data, servers)
    data, _ = reconfig(su)
    v3 = assert_config_text(data, servers)
    assert v < v2 < v3
    wait_config_everywhere(ens, servers, v3)


# ============================================================================ watches, every member

def test_config_change_seen_on_every_member(make_ensemble):
    """A reconfig (follower 1 removed, by the super user through the leader) returns the new
    config and the node's Stat (mzxid = version). A data watch on /zookeeper/config fires
    once (NodeDataChanged) on every member, which then reads the same data and Stat (but
    mtime: each member stamps its own clock), `conf` too. The removed member is not shut
    down: it stays a non-voting follower (srvr Mode follower, leader's mntr
    zk_synced_non_voting_followers 1 and zk_quorum_size 2), its `conf` no longer lists it,
    and it serves reads and writes. Joining it back as a
    participant (`;host:clientPort` spec) fires the watches again and makes it vote."""
    ens = fresh(make_ensemble)
    leader, removed = ens.member(3), ens.member(1)
    clients = {m.sid: ens.client(m) for m in ens}
    watches = {sid: ConfigWatch(c) for sid, c in clients.items()}
    for w in watches.values():
        w.arm()
    su = super_client(ens, leader)
    data, stat = reconfig(su, leaving="1")
    after = specs([ens.member(2), ens.member(3)])
    v = assert_config_text(data, after)
    assert v > FIRST_VERSION
    assert_config_stat(stat, data, v)
    for sid, w in watches.items():
        assert w.wait(1) == [CHANGED], sid
        got, st = clients[sid].get(CONFIG_NODE)
        # mtime is each member's own clock when it applied the reconfig: not compared.
        assert (got, st._replace(mtime=0)) == (data, stat._replace(mtime=0)), sid
        assert sorted(conf_membership(ens.member(sid))) == sorted(data.decode().split("\n"))
    for sid, c in clients.items():  # a sync's reply follows any event sent before it
        c.sync(CONFIG_NODE)
        assert len(watches[sid].events) == 1, (sid, watches[sid].events)

    assert removed.mode() == "follower"
    wait_mntr(leader, "zk_synced_non_voting_followers", 1)
    assert mntr(leader)["zk_quorum_size"] == "2"
    base = unique("removed")
    clients[1].create(base, b"via removed")
    clients[2].sync(base)
    assert clients[2].get(base)[0] == b"via removed"

    for w in watches.values():
        w.events.clear()
        w.arm()
    data, stat = reconfig(su, joining=removed.server_spec())
    back = {**after, **specs([removed], client=True)}
    v2 = assert_config_text(data, back)
    for sid, w in watches.items():
        assert w.wait(1) == [CHANGED], sid
    wait_config_everywhere(ens, back, v2)
    wait_mntr(leader, "zk_synced_non_voting_followers", 0)
    assert mntr(leader)["zk_quorum_size"] == "3"
    assert removed.mode() == "follower"


# ============================================================================ joiners nobody runs

def test_joining_members_that_do_not_answer(reconfigurable, record_timing):
    """kazoo's TestReconfig case, on loopback: an observer and two participants that nobody
    runs (their ports refuse connections) join 3 members in one reconfig. The config lists
    them as given, with the `N=` shorthand read as `server.N=`, a missing role as
    participant and a bare client port as `0.0.0.0:port`. The ensemble keeps serving with
    5 voters of which 3 answer: same leader, a write through every member acknowledged
    within 5 s, leader's zk_quorum_size 5. Removing them brings the servers back."""
    ens = reconfigurable
    leader = ens.leader()
    servers, v, _, _ = config_at(ens, leader)
    obs = unused_spec(100, "observer")
    part = unused_spec(101)
    q, e, c = reserve_ports(3)
    short = f"102=127.0.0.1:{q}:{e};{c}"
    su = super_client(ens, ens.followers()[0])
    t = time.monotonic()
    data, _ = reconfig(su, joining=",".join([obs, part, short]))
    record_timing("reconfig adding 3 silent joiners", time.monotonic() - t)
    joined = dict(servers)
    for line in (obs, part):
        sid, spec = spec_of(line)
        joined[sid] = spec
    joined[102] = f"127.0.0.1:{q}:{e}:participant;0.0.0.0:{c}"
    v2 = assert_config_text(data, joined)
    assert v2 > v
    wait_config_everywhere(ens, joined, v2)
    writes_through_each(ens, unique("silent"), timeout=5.0)
    assert ens.leader() is leader
    assert mntr(leader)["zk_quorum_size"] == "5"

    data, _ = reconfig(su, leaving="100,101,102")
    v3 = assert_config_text(data, servers)
    wait_config_everywhere(ens, servers, v3)
    writes_through_each(ens, unique("silent-gone"), timeout=5.0)
    assert mntr(leader)["zk_quorum_size"] == "3"


# ============================================================================ removing the leader

def test_remove_leader_hands_off(make_ensemble, record_timing):
    """Removing the leader (sid 3) under continuous writes through the two followers: the old
    leader answers the reconfig (a client on a follower may get ConnectionLoss instead, the
    reconfig still commits), designates one of the remaining members, which leads; writes
    pause briefly (the longest pause is recorded) and no acknowledged write is lost. The old leader becomes a
    non-voting follower (srvr Mode follower, new leader's zk_synced_non_voting_followers 1,
    zk_quorum_size 2), still current, and every member reads the new config."""
    ens = fresh(make_ensemble)
    old = ens.member(3)
    assert ens.leader() is old
    base = unique("handoff")
    w = BackgroundWriter(ens.client(ens.members[:2]), base).start()
    w.wait_progress(20)
    su = super_client(ens, old)
    t0 = time.monotonic()
    reply = reconfig_tolerating_loss(su, leaving="3")
    after = specs(ens.members[:2])
    if reply is not None:
        assert_config_text(reply[0], after)
    w.wait_progress(20, timeout=60)
    # The hand-off pause: the longest time without an acknowledged write around it.
    acks = sorted(a for _, a, _ in w.acked if a >= t0 - 1.0)
    pause = max(b - a for a, b in zip(acks, acks[1:]))
    record_timing("leader removed: longest write pause", pause)
    assert pause < 10.0, pause
    wait_mode(old, "follower")
    modes = ens.wait_serving()
    new_leader = next(ens.member(s) for s, mode in modes.items() if mode == "leader")
    assert new_leader.sid in (1, 2), modes
    wait_mntr(new_leader, "zk_synced_non_voting_followers", 1)
    assert mntr(new_leader)["zk_quorum_size"] == "2"
    v = wait_config_everywhere(ens, after)
    assert f"server.3={old.server_line().split('=', 1)[1]}" not in conf_membership(old)
    w.wait_progress(10)
    w.stop()
    c = ens.client(new_leader)
    tree = dump_tree(c, base)
    missing = [p for p in w.acked_paths() if p not in tree]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    assert_same_everywhere(ens, base)
    c3 = ens.client(old)
    c3.create(base + "-via-old", b"x")
    c.sync(base + "-via-old")
    assert c.exists(base + "-via-old")
    assert config_at(ens, old)[1] == v


# ============================================================================ real joiners

def test_add_participant_syncs_serves_votes_then_removed(make_ensemble):
    """A new member started with the current config plus itself as a participant (ZooKeeper's
    documented procedure for a joiner) syncs as a non-voting follower (leader's mntr
    zk_synced_non_voting_followers 1), adopts the last committed config (its zoo.cfg
    rewritten to the dynamic file of that version, which lacks it) and has the data. After
    `reconfig -add` (its spec with a client port) every member reads the new config, the
    leader counts 4 voters; it serves writes and its watches fire. It votes: with member 1
    removed and member 2 stopped, the leader commits with it alone. Removed again, it is a
    non-voting follower outside the config."""
    ens = fresh(make_ensemble)
    leader = ens.member(3)
    base = unique("joiner")
    lc = ens.client(leader)
    lc.create(base, b"root")
    for i in range(30):
        lc.create(f"{base}/n{i:02d}", str(i).encode())
    servers, v, _, _ = config_at(ens, leader)

    spare = ens.add_spare(peer_lines=config_lines(servers))
    assert [l.split("=")[0] for l in spare.config_server_lines()] == \
        ["server.1", "server.2", "server.3", "server.4"]
    ens.start_member(spare)
    assert wait_mode(spare, "follower") == "follower"
    wait_mntr(leader, "zk_synced_non_voting_followers", 1)
    assert config_at(ens, spare)[:2] == (servers, v)
    wait_until(lambda: points_at(spare, servers, v), 30, message="joiner's dynamic file")
    assert_dynamic_config(spare, servers, v)
    assert_same_everywhere(ens, base)

    su = super_client(ens, leader)
    data, stat = reconfig(su, joining=spare.server_spec())
    joined = {**servers, **specs([spare], client=True)}
    v2 = assert_config_text(data, joined)
    wait_config_everywhere(ens, joined, v2)
    wait_mntr(leader, "zk_synced_non_voting_followers", 0)
    assert mntr(leader)["zk_quorum_size"] == "4"
    assert spare.mode() == "follower"
    for m in ens:
        wait_until(lambda: points_at(m, joined, v2), 30, message=f"{m!r} dynamic file")
        assert_dynamic_config(m, joined, v2)

    sc = ens.client(spare)
    watch = ConfigWatch(sc)
    sc.create(f"{base}/via-joiner", b"j")
    events = []
    sc.get(base, watch=lambda ev: events.append((ev.type, ev.path)))
    lc.set(base, b"changed")
    wait_until(lambda: events, 10, message="watch via the joiner")
    assert events == [(EventType.CHANGED, base)]
    assert_same_everywhere(ens, base)

    # It votes: {2, 3, 4} with 2 down commits only with the joiner's ACK.
    data, _ = reconfig(su, leaving="1")
    three = {k: s for k, s in joined.items() if k != 1}
    assert_config_text(data, three)
    ens.member(1).stop()
    ens.member(1).retired = True
    ens.member(2).stop()
    ens.wait_serving()
    lc.create_async(f"{base}/with-joiner-only", b"q").get(timeout=10)
    ens.start_member(ens.member(2))
    assert_same_everywhere(ens, base)

    watch.arm()
    data, _ = reconfig(su, leaving=str(spare.sid))
    final = {k: s for k, s in three.items() if k != spare.sid}
    v4 = assert_config_text(data, final)
    assert watch.wait(1) == [CHANGED]
    wait_config_everywhere(ens, final, v4)
    assert spare.mode() == "follower"
    wait_mntr(ens.leader(), "zk_synced_non_voting_followers", 1)
    assert not [l for l in conf_membership(spare) if l.startswith(f"server.{spare.sid}=")]


def test_add_observer_syncs_serves_then_removed(make_ensemble):
    """A new member started with the current config plus itself as an observer (peerType
    observer) runs as a non-voting follower until it is in the config. `reconfig -add`
    with its observer spec makes it an observer (srvr Mode observer, leader's
    zk_synced_observers 1, zk_quorum_size still 3): it serves writes, its data watches fire
    for writes elsewhere. Removed, it is a non-voting follower again."""
    ens = fresh(make_ensemble)
    leader = ens.member(3)
    base = unique("obsjoin")
    lc = ens.client(leader)
    lc.create(base, b"root")
    servers, v, _, _ = config_at(ens, leader)
    spare = ens.add_spare(role="observer", peer_lines=config_lines(servers))
    assert spare.config_server_lines()[-1].endswith(":observer")
    ens.start_member(spare)
    wait_mode(spare, "follower")
    wait_mntr(leader, "zk_synced_non_voting_followers", 1)

    su = super_client(ens, ens.member(1))
    data, _ = reconfig(su, joining=spare.server_spec())
    joined = {**servers, **specs([spare], client=True)}
    assert joined[spare.sid].split(";")[0].endswith(":observer")
    v2 = assert_config_text(data, joined)
    wait_mode(spare, "observer")
    wait_config_everywhere(ens, joined, v2)
    wait_mntr(leader, "zk_synced_observers", 1)
    wait_mntr(leader, "zk_synced_non_voting_followers", 0)
    assert mntr(leader)["zk_quorum_size"] == "3"

    oc = ens.client(spare)
    oc.create(f"{base}/via-observer", b"o")
    events = []
    oc.sync(base)
    oc.get(base, watch=lambda ev: events.append((ev.type, ev.path)))
    lc.set(base, b"changed")
    wait_until(lambda: events, 10, message="watch via the observer")
    assert events == [(EventType.CHANGED, base)]
    assert oc.get(base)[0] == b"changed"
    assert_same_everywhere(ens, base)

    data, _ = reconfig(su, leaving=str(spare.sid))
    v3 = assert_config_text(data, servers)
    wait_mode(spare, "follower")
    wait_config_everywhere(ens, servers, v3)
    wait_mntr(leader, "zk_synced_observers", 0)
    wait_mntr(leader, "zk_synced_non_voting_followers", 1)


# ============================================================================ files, restarts


def test_dynamic_file_and_restart_of_every_member(make_ensemble):
    """After a reconfig (member 1 removed) every member, the removed one too, writes
    `zoo.cfg.dynamic.<hex version>` with the new servers and points its zoo.cfg at it; the
    first file stays. All members stopped and the remaining two started again: they serve
    with that config (same version, `conf` the same) and the data. The removed member
    does not start: it is not in its own config (ZooKeeper exits: `My id 1 not in the peer
    list`)."""
    ens = fresh(make_ensemble)
    base = unique("restart-all")
    lc = ens.client(ens.member(3))
    lc.create(base, b"root")
    for i in range(20):
        lc.create(f"{base}/n{i:02d}", str(i).encode())
    before = dump_tree(lc, base)
    data, _ = reconfig(super_client(ens, ens.member(3)), leaving="1")
    after = specs(ens.members[1:])
    v = assert_config_text(data, after)
    for m in ens:
        # ZooKeeper writes the dynamic file, then rewrites zoo.cfg: wait for both.
        wait_until(lambda: points_at(m, after, v), 30, message=f"{m!r} dynamic file and zoo.cfg")
        files = assert_dynamic_config(m, after, v)
        assert sorted(files) == [FIRST_VERSION, v], m.sid

    for m in ens:
        m.stop()
    for m in ens.members[1:]:
        m.start()
    ens.wait_serving()
    assert ens.leader().sid in (2, 3)
    wait_config_everywhere(ens, after, v)
    for m in ens.members[1:]:
        assert_dynamic_config(m, after, v)
        assert sorted(conf_membership(m)) == sorted(config_lines(after) + [f"version={v:x}"])
        c = ens.client(m)
        assert dump_tree(c, base) == before
    writes_through_each(ens, unique("restarted"))

    removed = ens.member(1)
    removed.start()
    code = wait_exit(removed, 60)
    assert code != 0
    if removed.impl == "zookeeper":
        assert "My id 1 not in the peer list" in removed.log_since_start()
    removed.retired = True


def test_restarted_members_keep_the_new_config(make_ensemble):
    """A member that was down during a reconfig (an observer nobody runs joined) learns the
    new config when it comes back (its /zookeeper/config, `conf` and dynamic file); a
    follower restarted after the reconfig and then the restarted leader keep it, and the
    ensemble serves under it."""
    ens = fresh(make_ensemble)
    leader = ens.member(3)
    ens.member(2).stop()
    ens.wait_serving()
    dead = unused_spec(100, "observer")
    sid, spec = spec_of(dead)
    data, _ = reconfig(super_client(ens, leader), joining=dead)
    joined = {**specs(ens.members), sid: spec}
    v = assert_config_text(data, joined)

    def check(m):
        wait_config_everywhere(ens, joined, v)
        wait_until(lambda: points_at(m, joined, v), 30, message=f"{m!r} dynamic file")
        assert_dynamic_config(m, joined, v)
        assert sorted(conf_membership(m)) == sorted(config_lines(joined) + [f"version={v:x}"])

    ens.start_member(ens.member(2))  # missed the reconfig
    check(ens.member(2))
    ens.restart(ens.member(1))       # a follower restarted after it
    check(ens.member(1))
    ens.restart(leader)              # the leader: a new election under the new config
    check(leader)
    ens.wait_serving()
    writes_through_each(ens, unique("kept"))


# ============================================================================ zkCli.sh

def zkcli_script(ens, dead):
    members = ",".join(m.server_spec() for m in ens.members)
    return ["config",
            "reconfig -remove 1",                       # no auth: Insufficient permission
            "addauth digest super:test",
            "reconfig -remove 1",
            f"reconfig -add {dead}",
            f"reconfig -members {members}",
            "reconfig -v 1 -remove 2",                  # BadVersion
            "reconfig -add garbage",                    # BadArguments
            "config"]


def test_zkcli_reconfig(make_ensemble):
    """ZooKeeper's zkCli.sh against the leader: `config` prints the config; `reconfig`
    without `addauth digest super:...` fails with `Insufficient permission : `; with it,
    `reconfig -remove`, `-add` (a silent observer) and `-members` (every member with its
    client port) each print `Committed new configuration:` and the new config; a wrong
    `-v` gives `version No is not valid : `, a bad server string `Arguments are not valid
    : `. Every member reads the final config."""
    ens = fresh(make_ensemble)
    dead = unused_spec(100, "observer")
    rc, out, err = zkcli(ens.member(3), zkcli_script(ens, dead))
    configs = zkcli_configs(out)
    full = specs(ens.members)
    two = {k: s for k, s in full.items() if k != 1}
    sid, spec = spec_of(dead)
    final = specs(ens.members, client=True)
    assert [c for c, _ in configs] == [full, two, {**two, sid: spec}, final, final], out
    versions = [v for _, v in configs]
    assert versions[0] == FIRST_VERSION
    assert versions[0] < versions[1] < versions[2] < versions[3] == versions[4]
    assert out.count("Committed new configuration:") == 3, out
    assert err.splitlines() == ["Insufficient permission : ", "version No is not valid : ",
                                "Arguments are not valid : "], err
    wait_config_everywhere(ens, final, versions[3])


def test_zkcli_transcript_same_as_zookeeper(make_ensemble, impl):
    """The same zkCli.sh session against a ZooKeeper ensemble and one of the impl under test
    (with --impl zookeeper: two ZooKeeper ensembles) prints the same transcript, once
    ports and versions are named and each config's lines sorted."""
    transcripts = []
    for kind in ("zookeeper", impl):
        ens = started(make_ensemble, ["zookeeper"] * 3 if kind == "zookeeper" else 3,
                      dict(RECONFIG_SETTINGS))
        dead = unused_spec(100, "observer")
        rc, out, err = zkcli(ens.member(3), zkcli_script(ens, dead))
        transcripts.append(normalize_transcript(out, err, ens))
        ens.cleanup()
    assert transcripts[1] == transcripts[0]
