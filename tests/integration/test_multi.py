"""multi (14) and multiRead (22) (client-protocol.md §8)."""
import pytest
from kazoo.exceptions import NoNodeError, RolledBackError

from harness import raw
from harness.raw import CreateFlags, Err, Op, MultiResult


def test_multi_success_result_records(rc, base):
    assert rc.create(f"{base}/del")[0] == 0
    assert rc.create(f"{base}/set", b"0")[0] == 0
    rep = rc.call(Op.MULTI, raw.multi_body([
        raw.m_create(f"{base}/c1", b"x"),
        raw.m_create(f"{base}/c2", b"y", op=Op.CREATE2),
        raw.m_delete(f"{base}/del"),
        raw.m_set_data(f"{base}/set", b"new"),
        raw.m_check(f"{base}/set", 1),
    ]))
    assert rep.err == 0
    results = raw.parse_multi_response(rep.r)
    assert [(r.type, r.err) for r in results] == [
        (Op.CREATE, 0), (Op.CREATE, 0), (Op.DELETE, 0), (Op.SET_DATA, 0), (Op.CHECK, 0)]
    assert results[0].value == f"{base}/c1"
    assert results[1].value == f"{base}/c2"  # create2 inside multi gives a type-1 result
    stat = results[3].value
    assert stat.version == 1 and stat.dataLength == 3
    # all sub-ops share one zxid, which is the reply zxid
    assert stat.mzxid == rep.zxid
    assert rc.exists(f"{base}/c1")[1].czxid == rep.zxid
    assert rc.exists(f"{base}/c2")[1].czxid == rep.zxid
    assert rc.exists(f"{base}/del")[0] == Err.NONODE


def test_multi_failure_encoding(rc, base):
    """The exact example of §15: [create ok, delete missing, setData]."""
    z = rc.ping().zxid
    rep = rc.call(Op.MULTI, raw.multi_body([
        raw.m_create(f"{base}/a"),
        raw.m_delete(f"{base}/missing"),
        raw.m_set_data(base, b"x"),
    ]))
    assert rep.err == 0
    assert rep.zxid > z  # consumed a zxid
    expected = (raw.multi_header(-1, False, 0) + b"\x00\x00\x00\x00"
                + raw.multi_header(-1, False, -101) + bytes.fromhex("ffffff9b")
                + raw.multi_header(-1, False, -2) + bytes.fromhex("fffffffe")
                + raw.MULTI_TERMINATOR)
    assert rep.body == expected
    # nothing applied
    assert rc.exists(f"{base}/a")[0] == Err.NONODE
    assert rc.exists(base)[1].version == 0


@pytest.mark.parametrize("failing,code", [
    ("nonode", Err.NONODE),
    ("check", Err.BADVERSION),
    ("ephemeral-parent", Err.NOCHILDRENFOREPHEMERALS),
    ("exists", Err.NODEEXISTS),
    ("badpath", Err.BADARGUMENTS),
    ("notempty", Err.NOTEMPTY),
    ("setdata-version", Err.BADVERSION),
])
def test_multi_sub_op_failures(rc, base, failing, code):
    assert rc.create(f"{base}/eph", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert rc.create(f"{base}/full")[0] == 0
    assert rc.create(f"{base}/full/kid")[0] == 0
    bad = {
        "nonode": raw.m_set_data(f"{base}/nope", b""),
        "check": raw.m_check(base, 7),
        "ephemeral-parent": raw.m_create(f"{base}/eph/kid"),
        "exists": raw.m_create(f"{base}/full"),
        "badpath": raw.m_create(f"{base}/bad/"),
        "notempty": raw.m_delete(f"{base}/full"),
        "setdata-version": raw.m_set_data(base, b"", 3),
    }[failing]
    if failing == "badpath":
        # the parent must exist for a trailing-slash path to be -8 (§12)
        assert rc.create(f"{base}/bad")[0] == 0
    ops = [raw.m_create(f"{base}/first"), raw.m_check(base, 0), bad, raw.m_create(f"{base}/last")]
    err, results = rc.multi(ops)
    assert err == 0
    assert results == [MultiResult(-1, 0, 0), MultiResult(-1, 0, 0), MultiResult(-1, code, code),
                       MultiResult(-1, Err.RUNTIMEINCONSISTENCY, Err.RUNTIMEINCONSISTENCY)]
    assert rc.exists(f"{base}/first")[0] == Err.NONODE


def test_multi_sub_ops_see_earlier_effects(rc, base):
    p = f"{base}/n"
    err, results = rc.multi([
        raw.m_create(p, b"0"),
        raw.m_set_data(p, b"1", 0),
        raw.m_set_data(p, b"2", 1),
        raw.m_check(p, 2),
        raw.m_create(f"{p}/tmp"),
        raw.m_delete(f"{p}/tmp"),
        raw.m_create(f"{p}/s-", flags=CreateFlags.PERSISTENT_SEQUENTIAL),
        raw.m_create(f"{p}/s-", flags=CreateFlags.PERSISTENT_SEQUENTIAL),
    ])
    assert err == 0
    assert [r.type for r in results] == [Op.CREATE, Op.SET_DATA, Op.SET_DATA, Op.CHECK,
                                         Op.CREATE, Op.DELETE, Op.CREATE, Op.CREATE]
    assert results[2].value.version == 2
    assert results[6].value == f"{p}/s-0000000001"
    assert results[7].value == f"{p}/s-0000000002"
    assert rc.get_data(p)[1][0] == b"2"
    assert sorted(rc.get_children(p)[1]) == ["s-0000000001", "s-0000000002"]


def test_multi_ephemeral_create(rc, base):
    err, results = rc.multi([raw.m_create(f"{base}/e", flags=CreateFlags.EPHEMERAL)])
    assert err == 0 and results[0] == MultiResult(Op.CREATE, 0, f"{base}/e")
    assert rc.exists(f"{base}/e")[1].ephemeralOwner == rc.session_id


def test_empty_multi_and_multi_read(rc):
    for op in (Op.MULTI, Op.MULTI_READ):
        rep = rc.call(op, raw.MULTI_TERMINATOR)
        assert rep.err == 0
        assert rep.body == raw.MULTI_TERMINATOR


@pytest.mark.parametrize("sub", ["getData", "getChildren", "sync", "exists"])
def test_multi_with_read_or_foreign_sub_op_is_marshalling_error(rc, base, sub):
    op = {
        "getData": raw.m_get_data(base),
        "getChildren": raw.m_get_children(base),
        "sync": (Op.SYNC, raw.path_body(base)),
        "exists": (Op.EXISTS, raw.path_watch_body(base, False)),
    }[sub]
    z = rc.ping().zxid
    rep = rc.call(Op.MULTI, raw.multi_body([raw.m_create(f"{base}/x"), op]))
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert rep.zxid > z  # a rejected multi still consumed a zxid
    assert rc.exists(f"{base}/x")[0] == Err.NONODE
    assert rc.exists("/")[0] == 0


@pytest.mark.parametrize("sub", ["create", "setData", "delete", "check"])
def test_multi_read_with_write_sub_op_is_marshalling_error(rc, base, sub):
    op = {
        "create": raw.m_create(f"{base}/x"),
        "setData": raw.m_set_data(base, b"x"),
        "delete": raw.m_delete(base),
        "check": raw.m_check(base, 0),
    }[sub]
    z = rc.ping().zxid
    rep = rc.call(Op.MULTI_READ, raw.multi_body([raw.m_get_data(base), op]))
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert rep.zxid == z  # a rejected multiRead did not consume a zxid
    assert rc.exists(f"{base}/x")[0] == Err.NONODE


def test_multi_read_results(rc, base):
    assert rc.create(f"{base}/a", b"A")[0] == 0
    assert rc.create(f"{base}/a/k")[0] == 0
    assert rc.create(f"{base}/secret", b"s", acl=[raw.ACL(raw.Perm.WRITE, "world", "anyone")])[0] == 0
    rep = rc.call(Op.MULTI_READ, raw.multi_body([
        raw.m_get_data(f"{base}/a"),
        raw.m_get_children(f"{base}/a"),
        raw.m_get_data(f"{base}/missing"),
        raw.m_get_children(f"{base}/missing"),
        raw.m_get_data(f"{base}/secret"),
        raw.m_get_children(base),
    ]))
    assert rep.err == 0
    results = raw.parse_multi_response(rep.r)
    _, stat_a = rc.exists(f"{base}/a")
    assert results[0] == MultiResult(Op.GET_DATA, 0, (b"A", stat_a))
    assert results[1] == MultiResult(Op.GET_CHILDREN, 0, ["k"])
    assert results[2] == MultiResult(-1, Err.NONODE, Err.NONODE)
    assert results[3] == MultiResult(-1, Err.NONODE, Err.NONODE)
    assert results[4] == MultiResult(-1, Err.NOAUTH, Err.NOAUTH)
    assert results[5].type == Op.GET_CHILDREN and sorted(results[5].value) == ["a", "secret"]


def test_multi_read_watch_flag_ignored(make_raw, base):
    reader = make_raw()
    writer = make_raw()
    err, results = reader.multi([raw.m_get_data(base, watch=True),
                                 raw.m_get_children(base, watch=True)], op=Op.MULTI_READ)
    assert err == 0
    assert writer.set_data(base, b"changed")[0] == 0
    assert writer.create(f"{base}/kid")[0] == 0
    reader.exists("/")  # a round trip after the changes
    reader.no_event(0.3)


def test_multi_fires_watches_once(make_raw, base):
    watcher = make_raw()
    writer = make_raw()
    assert watcher.get_data(base, watch=True)[0] == 0
    err, _ = writer.multi([raw.m_set_data(base, b"1"), raw.m_set_data(base, b"2")])
    assert err == 0
    ev = watcher.next_event()
    assert ev == raw.WatcherEvent(raw.EventType.NODE_DATA_CHANGED, 3, base)
    watcher.exists("/")
    watcher.no_event(0.2)


def test_failed_multi_fires_no_watch(make_raw, base):
    watcher = make_raw()
    writer = make_raw()
    assert watcher.get_data(base, watch=True)[0] == 0
    err, results = writer.multi([raw.m_set_data(base, b"1"), raw.m_check(base, 99)])
    assert err == 0 and results[1].err == Err.BADVERSION
    watcher.exists("/")
    watcher.no_event(0.3)


def test_kazoo_transaction(zk, node):
    zk.create(node)
    t = zk.transaction()
    t.create(f"{node}/a", b"1")
    t.set_data(node, b"parent")
    t.check(node, 1)
    results = t.commit()
    assert results[0] == f"{node}/a"
    assert results[1].version == 1
    assert results[2] is True
    t = zk.transaction()
    t.create(f"{node}/b")
    t.delete(f"{node}/missing")
    results = t.commit()
    assert isinstance(results[0], RolledBackError)
    assert isinstance(results[1], NoNodeError)
    assert zk.exists(f"{node}/b") is None


def test_check_sub_op_needs_read(rc, base):
    """(client-protocol.md §7 marks this "(verify)"; observed on 3.8.0: check needs READ)."""
    noread = f"{base}/noread"
    readonly = f"{base}/readonly"
    assert rc.create(noread, acl=[raw.ACL(raw.Perm.ALL & ~raw.Perm.READ, "world", "anyone")])[0] == 0
    assert rc.create(readonly, acl=[raw.ACL(raw.Perm.READ, "world", "anyone")])[0] == 0
    assert rc.multi([raw.m_check(noread, 0)]) == (0, [MultiResult(-1, Err.NOAUTH, Err.NOAUTH)])
    assert rc.multi([raw.m_check(readonly, 0)]) == (0, [MultiResult(Op.CHECK, 0, None)])


def test_bare_checks_never_block_the_connection(start_server):
    """A check outside multi is not answered by ZooKeeper 3.8, yet it must not hold an
    outstanding slot for ever: past globalOutstandingLimit (default 1000) of them a getData
    on the same connection is still answered (Corral once stopped reading the connection for
    good). The checks go in batches of 100, each followed by a getData: ZooKeeper 3.8's own
    throttle counts requests in process and is released only by replies, so a single burst
    far above the limit can stall ZooKeeper itself on a busy machine."""
    from harness.raw import RawConnection
    srv = start_server(globalOutstandingLimit=1000)
    conn = RawConnection(srv.port)
    try:
        conn.handshake()
        assert conn.create("/checked", b"x")[0] == 0
        for batch in range(12):
            for _ in range(100):
                conn.send_request(Op.CHECK, raw.check_body("/checked", 0))
            rep = conn.call(Op.GET_DATA, raw.path_watch_body("/checked", False), timeout=10)
            assert rep.err == 0, batch
            assert rep.r.buffer() == b"x"
    finally:
        conn.close()
