"""frontend.thrift: every operation of sdk/thrift/corral.thrift and every error code a client can
provoke, with ZooKeeper's answers.

Each scenario runs twice on the implementation under test: through the ZooKeeper protocol
("jute" adapter, so the reference run proves the assertions on ZooKeeper 3.8) and through
Thrift ("thrift" adapter, Corral only). Tests marked corral_only are about Thrift itself (the
path and zxid a reply carries, the stat of a multi create, compact protocol); their docstrings
say so.
"""
import pytest

from harness import raw
from harness.raw import ACL, AddWatchMode, CreateFlags, Err, EventType, Perm, WatcherType
from harness.thrift_client import (ADAPTERS, THRIFT_MARKS, MultiFail, ZkFail, clients, kind,  # noqa: F401
                                   ev, make_thrift, op_check, op_create, op_delete, op_set,
                                   read_children, read_data, server_fixture, start_server_for,
                                   thrift_settings,
                                   wait_thrift_ready)
from harness.util import wait_until

# The front ends' own tests: whatever the storage (skipped in the --storage rocksdb run).
pytestmark = pytest.mark.frontend_only

ALICE = ("alice", "alice-secret")
EXTENDED = {"zookeeper.extendedTypesEnabled": True, "znode.container.checkIntervalMs": 1000}
REAP_TIMEOUT = 20.0


srv = server_fixture(name="thrift-ops")
# zookeeper.extendedTypesEnabled (TTL nodes), containers checked every second.
ext_srv = server_fixture(EXTENDED, "thrift-ops-extended")


@pytest.fixture
def c(kind, srv, clients):
    return clients(kind, srv)


@pytest.fixture
def base(c, node):
    c.create(node)
    return node


def fails(code, fn, *args, **kw):
    with pytest.raises(ZkFail) as info:
        fn(*args, **kw)
    assert info.value.code == code, f"expected {code}, got {info.value.code}"
    return info.value


# ---------------------------------------------------------------- nodes and data

def test_create_get_set_delete(c, base):
    p = f"{base}/n"
    path, st = c.create(p, b"hello")
    assert path == p
    assert (st.version, st.cversion, st.aversion, st.dataLength, st.numChildren) == (0, 0, 0, 5, 0)
    assert st.ephemeralOwner == 0 and st.czxid == st.mzxid == st.pzxid
    data, st2 = c.get_data(p)
    assert data == b"hello" and st2 == st
    assert c.exists(p) == st
    st3 = c.set_data(p, b"hi!!", 0)
    assert st3.version == 1 and st3.dataLength == 4 and st3.mzxid > st.mzxid
    assert st3.czxid == st.czxid
    assert c.get_data(p) == (b"hi!!", st3)
    assert c.set_data(p, b"", -1).version == 2
    c.delete(p, 2)
    assert c.exists(p) is None
    assert c.get_children(base)[0] == []


def test_null_and_empty_data(c, base):
    _, st = c.create(f"{base}/null", None)
    assert st.dataLength == 0
    assert c.get_data(f"{base}/null")[0] is None
    c.create(f"{base}/empty", b"")
    assert c.get_data(f"{base}/empty")[0] == b""
    c.set_data(f"{base}/empty", None)
    assert c.get_data(f"{base}/empty")[0] is None


def test_children_and_parent_stat(c, base):
    for name in ("b", "a", "c"):
        c.create(f"{base}/{name}")
    children, st = c.get_children(base)
    assert children == ["a", "b", "c"]
    assert st.numChildren == 3 and st.cversion == 3
    c.delete(f"{base}/b")
    children, st2 = c.get_children(base)
    assert children == ["a", "c"] and st2.cversion == 4 and st2.pzxid > st.pzxid


def test_sequential_names(c, base):
    S, ES = CreateFlags.PERSISTENT_SEQUENTIAL, CreateFlags.EPHEMERAL_SEQUENTIAL
    assert c.create(f"{base}/s-", mode=S)[0] == f"{base}/s-0000000000"
    assert c.create(f"{base}/s-", mode=S)[0] == f"{base}/s-0000000001"
    c.create(f"{base}/plain")  # any child creation advances the parent's counter
    path, st = c.create(f"{base}/e-", mode=ES)
    assert path == f"{base}/e-0000000003" and st.ephemeralOwner == c.session_id
    assert c.create(f"{base}/", mode=S)[0] == f"{base}/0000000004"


def test_ephemerals(c, base):
    path, st = c.create(f"{base}/eph", b"x", mode=CreateFlags.EPHEMERAL)
    assert st.ephemeralOwner == c.session_id
    c.create(f"{base}/e2", mode=CreateFlags.EPHEMERAL)
    c.create(f"{base}/persistent")
    assert c.get_ephemerals(base) == [f"{base}/e2", f"{base}/eph"]
    assert c.get_ephemerals(f"{base}/ep") == [f"{base}/eph"]  # a string prefix
    assert c.get_ephemerals(f"{base}/nothing") == []
    assert set(c.get_ephemerals("/")) >= {f"{base}/e2", f"{base}/eph"}
    fails(Err.NOCHILDRENFOREPHEMERALS, c.create, f"{base}/eph/kid")


def test_get_all_children_number(c, base):
    assert c.count(base) == 0
    for p in ("a", "a/b", "a/b/c", "d"):
        c.create(f"{base}/{p}")
    assert c.count(base) == 4
    assert c.count(f"{base}/a") == 2
    assert c.count(f"{base}/a/b/c") == 0
    assert c.count("/zookeeper") == 2
    fails(Err.NONODE, c.count, f"{base}/missing")


def test_sync(c, base):
    assert c.sync(base) == base
    assert c.sync("/missing/is/fine") == "/missing/is/fine"


def test_exists_and_reads_of_missing(c, base):
    assert c.exists(f"{base}/nope") is None
    fails(Err.NONODE, c.get_data, f"{base}/nope")
    fails(Err.NONODE, c.get_children, f"{base}/nope")
    fails(Err.NONODE, c.get_acl, f"{base}/nope")


# ---------------------------------------------------------------- error codes

def _eph_parent(c, base):
    c.create(f"{base}/eph", mode=CreateFlags.EPHEMERAL)


def _full(c, base):
    c.create(f"{base}/full")
    c.create(f"{base}/full/kid")


def _readonly(c, base):
    c.create(f"{base}/ro", b"r", acl=[ACL(Perm.READ, "world", "anyone")])


ERROR_CASES = {
    # name: (setup, call(c, base), code)
    "create-missing-parent": (None, lambda c, b: c.create(f"{b}/no/kid"), Err.NONODE),
    "delete-missing": (None, lambda c, b: c.delete(f"{b}/nope"), Err.NONODE),
    "set-missing": (None, lambda c, b: c.set_data(f"{b}/nope", b"x"), Err.NONODE),
    "setacl-missing": (None, lambda c, b: c.set_acl(f"{b}/nope", raw.OPEN_ACL_UNSAFE), Err.NONODE),
    "create-exists": (None, lambda c, b: c.create(b), Err.NODEEXISTS),
    "set-badversion": (None, lambda c, b: c.set_data(b, b"x", 5), Err.BADVERSION),
    "delete-badversion": (_full, lambda c, b: c.delete(f"{b}/full/kid", 3), Err.BADVERSION),
    "setacl-badversion": (None, lambda c, b: c.set_acl(b, raw.OPEN_ACL_UNSAFE, 4), Err.BADVERSION),
    "delete-notempty": (_full, lambda c, b: c.delete(f"{b}/full"), Err.NOTEMPTY),
    "ephemeral-parent": (_eph_parent, lambda c, b: c.create(f"{b}/eph/kid"),
                         Err.NOCHILDRENFOREPHEMERALS),
    "noauth-set": (_readonly, lambda c, b: c.set_data(f"{b}/ro", b"x"), Err.NOAUTH),
    "noauth-create": (_readonly, lambda c, b: c.create(f"{b}/ro/kid"), Err.NOAUTH),
    "invalidacl-empty": (None, lambda c, b: c.create(f"{b}/x", acl=[]), Err.INVALIDACL),
    "invalidacl-digest": (None, lambda c, b: c.create(f"{b}/x", acl=[ACL(31, "digest", "nocolon")]),
                          Err.INVALIDACL),
    "invalidacl-creator-unauthenticated": (None, lambda c, b: c.create(f"{b}/x", acl=raw.CREATOR_ALL_ACL),
                                           Err.INVALIDACL),
    "setacl-invalid": (None, lambda c, b: c.set_acl(b, [ACL(31, "world", "somebody")]), Err.INVALIDACL),
    "badpath-trailing-slash": (None, lambda c, b: c.create(f"{b}/"), Err.BADARGUMENTS),
    "badpath-relative": (None, lambda c, b: c.create("relative"), Err.BADARGUMENTS),
    "badpath-empty": (None, lambda c, b: c.create(""), Err.BADARGUMENTS),
    "badpath-dot": (None, lambda c, b: c.create(f"{b}/."), Err.BADARGUMENTS),
    "badpath-control-char": (None, lambda c, b: c.create(f"{b}/a\u0001b"), Err.BADARGUMENTS),
    "badpath-set": (None, lambda c, b: c.set_data(f"{b}//x", b""), Err.BADARGUMENTS),
    "badpath-delete": (None, lambda c, b: c.delete("relative"), Err.BADARGUMENTS),
    "badpath-exists-nul": (None, lambda c, b: c.exists(f"{b}\u0000"), Err.BADARGUMENTS),
    "delete-root": (None, lambda c, b: c.delete("/"), Err.BADARGUMENTS),
    "delete-zookeeper": (None, lambda c, b: c.delete("/zookeeper"), Err.BADARGUMENTS),
    "nowatcher": (None, lambda c, b: c.remove_watches(b, WatcherType.ANY), Err.NOWATCHER),
    "ttl-disabled": (None, lambda c, b: c.create(f"{b}/t", mode=CreateFlags.PERSISTENT_WITH_TTL,
                                                 ttl=1000), Err.UNIMPLEMENTED),
    "ttl-seq-disabled": (None, lambda c, b: c.create(f"{b}/t", ttl=1000,
                                                     mode=CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL),
                         Err.UNIMPLEMENTED),
}


@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_error_codes(c, base, case):
    setup, call, code = ERROR_CASES[case]
    if setup:
        setup(c, base)
    children = c.get_children(base)[0]
    fails(code, call, c, base)
    # nothing changed, and the connection and session go on
    assert c.get_children(base)[0] == children


# ---------------------------------------------------------------- ACLs and auth

def test_get_and_set_acl(c, base):
    acl, st = c.get_acl(base)
    assert acl == raw.OPEN_ACL_UNSAFE and st == c.exists(base)
    new = [ACL(Perm.READ | Perm.ADMIN, "world", "anyone"), ACL(Perm.ALL, "ip", "127.0.0.1")]
    st2 = c.set_acl(base, new, 0)
    assert st2.aversion == 1 and st2.version == st.version and st2.mzxid == st.mzxid
    acl2, st3 = c.get_acl(base)
    assert sorted(acl2) == sorted(new) and st3 == st2
    fails(Err.BADVERSION, c.set_acl, base, new, 0)
    assert c.set_acl(base, raw.OPEN_ACL_UNSAFE, -1).aversion == 2


def test_whoami_and_digest_auth(c, base):
    assert c.whoami() == [("ip", "127.0.0.1")]
    c.add_auth("digest", "%s:%s" % ALICE)
    assert c.whoami() == [("digest", "alice"), ("ip", "127.0.0.1")]
    # CREATOR_ALL_ACL ("auth" scheme) expands to the session's digest id
    c.create(f"{base}/mine", b"m", acl=raw.CREATOR_ALL_ACL)
    assert c.get_acl(f"{base}/mine")[0] == [ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))]
    assert c.get_data(f"{base}/mine")[0] == b"m"


def test_digest_acl_noauth_until_add_auth(kind, srv, clients, base):
    owner = clients("jute", srv)
    owner.add_auth("digest", "%s:%s" % ALICE)
    p = f"{base}/alice"
    owner.create(p, b"a", acl=[ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))])
    c = clients(kind, srv)
    fails(Err.NOAUTH, c.get_data, p)
    fails(Err.NOAUTH, c.set_data, p, b"x")
    fails(Err.NOAUTH, c.get_children, p)
    c.add_auth("digest", "alice:wrong")
    fails(Err.NOAUTH, c.get_data, p)
    c.add_auth("digest", "%s:%s" % ALICE)
    assert c.get_data(p)[0] == b"a"
    assert c.set_data(p, b"b").version == 1


def test_bad_auth_scheme_fails_and_ends_the_connection(c):
    fails(Err.AUTHFAILED, c.add_auth, "nosuchscheme", "x")
    assert c.connection_closed(timeout=5)


# ---------------------------------------------------------------- multi

def test_multi_success(c, base):
    c.create(f"{base}/del")
    c.create(f"{base}/set", b"0")
    results = c.multi([
        op_create(f"{base}/c1", b"x"),
        op_create(f"{base}/s-", mode=CreateFlags.PERSISTENT_SEQUENTIAL),
        op_delete(f"{base}/del"),
        op_set(f"{base}/set", b"new", 0),
        op_check(f"{base}/set", 1),
        op_create(f"{base}/e", mode=CreateFlags.EPHEMERAL),
    ])
    assert results[0] == ("create", f"{base}/c1")
    assert results[1] == ("create", f"{base}/s-0000000003")  # after del, set, c1
    assert results[2] == ("delete",)
    assert results[3][0] == "set" and results[3][1].version == 1 and results[3][1].dataLength == 3
    assert results[4] == ("check",)
    assert results[5] == ("create", f"{base}/e")
    # one transaction: one zxid for all
    assert c.exists(f"{base}/c1").czxid == results[3][1].mzxid
    assert c.exists(f"{base}/e").ephemeralOwner == c.session_id
    assert c.exists(f"{base}/del") is None


def test_multi_sub_ops_see_earlier_effects(c, base):
    p = f"{base}/n"
    results = c.multi([op_create(p, b"0"), op_set(p, b"1", 0), op_set(p, b"2", 1), op_check(p, 2),
                       op_create(f"{p}/tmp"), op_delete(f"{p}/tmp")])
    assert [r[0] for r in results] == ["create", "set", "set", "check", "create", "delete"]
    assert c.get_data(p)[0] == b"2"


def test_empty_multi_and_multi_read(c):
    assert c.multi([]) == []
    assert c.multi_read([]) == []


MULTI_FAILURES = {
    "nonode": (lambda b: op_set(f"{b}/nope", b""), Err.NONODE),
    "check-version": (lambda b: op_check(b, 7), Err.BADVERSION),
    "check-noread": (lambda b: op_check(f"{b}/noread", 0), Err.NOAUTH),
    "ephemeral-parent": (lambda b: op_create(f"{b}/eph/kid"), Err.NOCHILDRENFOREPHEMERALS),
    "exists": (lambda b: op_create(f"{b}/full"), Err.NODEEXISTS),
    "badpath": (lambda b: op_create(f"{b}/full/"), Err.BADARGUMENTS),
    "notempty": (lambda b: op_delete(f"{b}/full"), Err.NOTEMPTY),
    "set-version": (lambda b: op_set(b, b"", 3), Err.BADVERSION),
    "invalidacl": (lambda b: op_create(f"{b}/x", acl=[ACL(31, "digest", "nocolon")]), Err.INVALIDACL),
}


@pytest.mark.parametrize("failing", list(MULTI_FAILURES))
def test_multi_is_atomic(c, base, failing):
    bad, code = MULTI_FAILURES[failing]
    c.create(f"{base}/eph", mode=CreateFlags.EPHEMERAL)
    c.create(f"{base}/full")
    c.create(f"{base}/full/kid")
    c.create(f"{base}/noread", acl=[ACL(Perm.ALL & ~Perm.READ, "world", "anyone")])
    before = c.exists(base)
    ops = [op_create(f"{base}/first"), op_set(base, b"changed"), op_check(base, 1), bad(base),
           op_create(f"{base}/last")]
    with pytest.raises(MultiFail) as info:
        c.multi(ops)
    e = info.value
    assert (e.code, e.index) == (code, 3)
    assert e.codes == [0, 0, 0, code, Err.RUNTIMEINCONSISTENCY]
    # nothing applied
    assert c.exists(f"{base}/first") is None and c.exists(f"{base}/last") is None
    after = c.exists(base)
    assert (after.version, after.cversion, after.numChildren) == \
        (before.version, before.cversion, before.numChildren)


def test_multi_read_with_per_op_errors(c, base):
    c.create(f"{base}/a", b"A")
    c.create(f"{base}/a/k")
    c.create(f"{base}/secret", b"s", acl=[ACL(Perm.WRITE, "world", "anyone")])
    results = c.multi_read([read_data(f"{base}/a"), read_children(f"{base}/a"),
                            read_data(f"{base}/missing"), read_children(f"{base}/missing"),
                            read_data(f"{base}/secret"), read_children(base)])
    assert results[0] == ("data", b"A", c.exists(f"{base}/a"))
    assert results[1] == ("children", ["k"])
    assert results[2] == ("error", Err.NONODE)
    assert results[3] == ("error", Err.NONODE)
    assert results[4] == ("error", Err.NOAUTH)
    assert results[5] == ("children", ["a", "secret"])


def test_failed_multi_fires_no_watch(kind, srv, clients, base):
    w, c = clients(kind, srv), clients(kind, srv)
    w.get_data(base, watch=True)
    with pytest.raises(MultiFail):
        c.multi([op_set(base, b"1"), op_check(base, 99)])
    w.assert_no_event()
    c.multi([op_set(base, b"1"), op_set(base, b"2")])
    assert w.wait_events(1) == [ev(EventType.NODE_DATA_CHANGED, base)]
    w.assert_no_event()  # fired once


# ---------------------------------------------------------------- watches (registration)

def test_add_and_remove_watches(kind, srv, clients, base):
    w, c = clients(kind, srv), clients(kind, srv)
    fails(Err.NOWATCHER, w.remove_watches, base, WatcherType.DATA)
    w.get_data(base, watch=True)
    w.get_children(base, watch=True)
    w.remove_watches(base, WatcherType.DATA)
    fails(Err.NOWATCHER, w.remove_watches, base, WatcherType.DATA)
    c.set_data(base, b"x")
    w.assert_no_event()  # neither the data event nor a "watch removed" event
    c.create(f"{base}/k")
    assert w.wait_events(1) == [ev(EventType.NODE_CHILDREN_CHANGED, base)]
    w.add_watch(base, AddWatchMode.PERSISTENT)
    w.remove_watches(base, WatcherType.ANY)
    fails(Err.NOWATCHER, w.remove_watches, base, WatcherType.ANY)
    c.set_data(base, b"y")
    w.assert_no_event()


# ---------------------------------------------------------------- containers and TTL

@pytest.fixture
def ec(kind, ext_srv, clients):
    return clients(kind, ext_srv)


@pytest.fixture
def ebase(ec, node):
    ec.create(node)
    return node


def test_container_created_and_reaped(ec, ebase):
    box = f"{ebase}/box"
    path, st = ec.create(box, b"c", mode=CreateFlags.CONTAINER)
    assert path == box and st.ephemeralOwner == 0
    ec.create(f"{box}/k")
    ec.delete(f"{box}/k")
    wait_until(lambda: ec.exists(box) is None, timeout=REAP_TIMEOUT, interval=0.1)


def test_container_on_default_server_needs_no_extended_types(c, base):
    path, st = c.create(f"{base}/box", mode=CreateFlags.CONTAINER)
    assert path == f"{base}/box" and st.ephemeralOwner == 0


def test_ttl_nodes(ec, ebase):
    t = f"{ebase}/ttl"
    path, st = ec.create(t, b"x", mode=CreateFlags.PERSISTENT_WITH_TTL, ttl=300)
    assert path == t and st.ephemeralOwner == 0 and st.dataLength == 1
    path, st = ec.create(f"{ebase}/s-", mode=CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl=60000)
    assert path == f"{ebase}/s-0000000001"
    wait_until(lambda: ec.exists(t) is None, timeout=REAP_TIMEOUT, interval=0.1)
    assert ec.exists(path) is not None  # its TTL is a minute


@pytest.mark.parametrize("ttl", [0, -1, 1 << 40])
def test_ttl_out_of_range(ec, ebase, ttl):
    fails(Err.BADARGUMENTS, ec.create, f"{ebase}/bad", mode=CreateFlags.PERSISTENT_WITH_TTL, ttl=ttl)
    assert ec.exists(f"{ebase}/bad") is None


def test_ttl_in_multi(ec, ebase):
    results = ec.multi([op_create(f"{ebase}/mt", mode=CreateFlags.PERSISTENT_WITH_TTL, ttl=60000),
                        op_create(f"{ebase}/mc", mode=CreateFlags.CONTAINER)])
    assert results == [("create", f"{ebase}/mt"), ("create", f"{ebase}/mc")]


# ---------------------------------------------------------------- Thrift specifics

@pytest.mark.parametrize("kind", [pytest.param("thrift", marks=THRIFT_MARKS)])
def test_thrift_errors_carry_path_message_and_zxid(c, base):
    """Thrift only: ZkError's path (the path the call named), message and zxid."""
    before = c.cl.ping(0).zxid
    for call, path in [(lambda: c.delete(f"{base}/nope"), f"{base}/nope"),
                       (lambda: c.get_data(f"{base}/nope"), f"{base}/nope"),
                       (lambda: c.create(f"{base}/no/kid"), f"{base}/no/kid"),
                       (lambda: c.set_data(base, b"", 9), base)]:
        with pytest.raises(ZkFail):
            call()
        e = c.last_error
        assert e.path == path
        assert e.message  # ZooKeeper's text for the code
        assert e.zxid >= before
        assert e.events == []


@pytest.mark.parametrize("kind", [pytest.param("thrift", marks=THRIFT_MARKS)])
def test_thrift_result_zxids(c, base):
    """Thrift only: a write's result zxid is its transaction's (as ZooKeeper's reply header)."""
    cl = c.cl
    r = cl.create(f"{base}/z", b"")
    assert r.zxid == r.stat.czxid and r.events == []
    s = cl.set_data(f"{base}/z", b"1")
    assert s.zxid == s.stat.mzxid > r.zxid
    g = cl.get_data(f"{base}/z")
    assert g.zxid >= s.zxid
    assert cl.last_zxid >= g.zxid


@pytest.mark.parametrize("kind", [pytest.param("thrift", marks=THRIFT_MARKS)])
def test_thrift_multi_create_result_has_stat(c, base):
    """Thrift only: CreateOpResult carries the path for every create, and the Stat only for a
    container create (like ZooKeeper's multi, whose plain create result has the path alone)."""
    from harness.thrift_client import T
    tt = T.tt
    acl = c.to_acl(raw.OPEN_ACL_UNSAFE)
    r = c.cl.multi([tt.Op(create=tt.CreateOp(path=f"{base}/a", data=b"xy", acl=acl)),
                    tt.Op(create=tt.CreateOp(path=f"{base}/k", data=b"xyz", acl=acl,
                                             mode=CreateFlags.CONTAINER))])
    a, k = r.results[0].create, r.results[1].create
    assert a.path == f"{base}/a" and a.stat is None
    assert k.path == f"{base}/k" and k.stat is not None
    assert k.stat.dataLength == 3 and k.stat.czxid == r.zxid
    assert c.exists(f"{base}/k") == c.stat(k.stat)
    assert c.exists(f"{base}/a").czxid == r.zxid


@pytest.mark.corral_only
def test_thrift_compact_protocol(server_factory, make_thrift):
    """Thrift only: a server with thrift.protocol=compact serves a compact client."""
    from harness.thrift_client import require_thrift
    require_thrift()
    s = server_factory.start(thrift_settings(**{"thrift.protocol": "compact"}), name="thrift-compact")
    try:
        wait_thrift_ready(s)
        cl = make_thrift(s)
        assert cl.protocol == "compact"
        r = cl.create("/compact", b"\x00\x01\xff")
        assert r.path == "/compact"
        assert cl.get_data("/compact").data == b"\x00\x01\xff"
        assert cl.whoami().identities[0].authScheme == "ip"
    finally:
        server_factory.stop(s)
