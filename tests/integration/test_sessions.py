"""Session lifecycle: closeSession, expiry, reattach through kazoo (client-protocol.md §4, §5, §13)."""
import time

import pytest
from kazoo.protocol.states import EventType as KzEventType

from harness import raw
from harness.raw import CreateFlags, EventType, Op
from harness.util import wait_until


def test_close_session_reply_then_socket_closed(server, make_raw, base):
    a = make_raw()
    assert a.create(f"{base}/e", flags=CreateFlags.EPHEMERAL)[0] == 0
    before = a.ping().zxid
    rep = a.close_session()
    assert rep.err == 0
    assert rep.body == b""
    assert rep.zxid > before  # the closeSession txn's zxid
    assert a.is_closed(timeout=5)


def test_close_session_removes_ephemerals_and_fires_watches(server, make_raw, base):
    a = make_raw()
    watcher = make_raw()
    for name in ("e1", "e2"):
        assert a.create(f"{base}/{name}", b"", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert a.create(f"{base}/p", b"")[0] == 0
    assert watcher.exists(f"{base}/e1", watch=True)[0] == 0
    err, children = watcher.get_children(base, watch=True)
    assert err == 0 and sorted(children) == ["e1", "e2", "p"]
    a.close_session()
    events = []
    wait_until(lambda: events.extend(watcher.drain_events(0.2)) or len(events) >= 2, timeout=10)
    assert sorted(events) == sorted([
        raw.WatcherEvent(EventType.NODE_DELETED, 3, f"{base}/e1"),
        raw.WatcherEvent(EventType.NODE_CHILDREN_CHANGED, 3, base),
    ])
    err, children = watcher.get_children(base)
    assert err == 0 and children == ["p"]


def test_ephemeral_gone_right_after_close_session_reply(server, make_raw, base):
    a = make_raw()
    assert a.create(f"{base}/e", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert a.close_session().err == 0
    b = make_raw()
    err, stat = b.exists(f"{base}/e")
    assert err == raw.Err.NONODE


def test_session_survives_connection_loss_and_reattach(server, make_raw, base):
    a = make_raw(timeout=10000)
    assert a.create(f"{base}/e", flags=CreateFlags.EPHEMERAL)[0] == 0
    sid, pw = a.session_id, a.passwd
    a.close()  # TCP close, no closeSession
    b = make_raw(handshake=False)
    resp = b.handshake(session_id=sid, passwd=pw, timeout=10000)
    assert resp.session_id == sid
    err, stat = b.exists(f"{base}/e")
    assert err == 0 and stat.ephemeralOwner == sid
    # requests on the reattached connection work and see ephemerals of the session
    rep = b.call(Op.GET_EPHEMERALS, raw.path_body(base))
    assert rep.err == 0 and rep.r.strings() == [f"{base}/e"]
    b.close_session()


def test_reattach_with_wrong_password_cuts_the_connection_not_the_session(server, make_raw, base):
    """A handshake naming a live session with a wrong password gets the invalid-session answer
    (id 0, timeout 0), and, as ZooKeeper 3.8 does (it closes the session's current connection
    before it checks the password), the owner's connection is closed too; the session lives
    on and its owner re-attaches with the right password."""
    owner = make_raw(timeout=10000)
    assert owner.create(f"{base}/e", flags=CreateFlags.EPHEMERAL)[0] == 0
    sid, pw = owner.session_id, owner.passwd
    intruder = make_raw(handshake=False)
    resp = intruder.handshake(session_id=sid, passwd=b"x" * 16, timeout=10000)
    assert (resp.session_id, resp.timeout) == (0, 0)
    assert intruder.is_closed(timeout=10)
    assert owner.is_closed(timeout=10)
    again = make_raw(handshake=False)
    assert again.handshake(session_id=sid, passwd=pw, timeout=10000).session_id == sid
    err, stat = again.exists(f"{base}/e")
    assert err == 0 and stat.ephemeralOwner == sid


def test_kazoo_client_id_reattach_keeps_ephemeral(server, make_zk, node):
    a = make_zk()
    a.create(node, b"x", ephemeral=True)
    sid, pw = a.client_id
    b = make_zk(client_id=(sid, pw))
    assert b.client_id[0] == sid
    assert b.exists(node).ephemeralOwner == sid
    # closing through the second client ends the shared session: the ephemeral goes
    b.stop()
    c = make_zk()
    assert c.exists(node) is None


@pytest.fixture(scope="module")
def fast_server(server_factory):
    """tickTime 200 ms so that sessions can expire within ~1-2 s."""
    with server_factory.running({"tickTime": 200, "minSessionTimeout": 600,
                                 "maxSessionTimeout": 20000}, name="fast-ticks") as srv:
        yield srv


def test_session_expiry_removes_ephemerals_and_fires_node_deleted(fast_server):
    a = raw.connect(fast_server.port, timeout=600)
    watcher = raw.connect(fast_server.port, timeout=20000)
    try:
        assert a.session.timeout == 600
        path = "/expiry-eph"
        assert a.create(path, b"", flags=CreateFlags.EPHEMERAL) == (0, path)
        assert watcher.exists(path, watch=True)[0] == 0
        # a goes silent (no pings): the server expires the session
        ev = watcher.next_event(timeout=15)
        assert ev == raw.WatcherEvent(EventType.NODE_DELETED, 3, path)
        assert watcher.exists(path)[0] == raw.Err.NONODE
        # the expired session's connection is closed by the server
        assert a.is_closed(timeout=10)
        # and it can no longer be reattached
        with fast_server.raw() as c:
            resp = c.handshake(session_id=a.session_id, passwd=a.passwd)
            assert (resp.session_id, resp.timeout) == (0, 0)
            assert resp.passwd == b"\x00" * 16
    finally:
        a.close()
        watcher.close()


def test_pings_keep_session_alive(fast_server):
    a = raw.connect(fast_server.port, timeout=1000)
    try:
        path = "/ping-keepalive-eph"
        assert a.create(path, b"", flags=CreateFlags.EPHEMERAL)[0] == 0
        end = time.monotonic() + 3.0  # three times the session timeout
        while time.monotonic() < end:
            rep = a.ping()
            assert rep.header.err == 0 and rep.xid == raw.Xid.PING and rep.body == b""
            time.sleep(0.2)
        err, stat = a.exists(path)
        assert err == 0 and stat.ephemeralOwner == a.session_id
    finally:
        a.close()


def test_kazoo_watch_sees_expiry_of_raw_session(fast_server, make_zk):
    observer = make_zk(fast_server)
    owner = raw.connect(fast_server.port, timeout=600)
    try:
        path = "/kazoo-expiry"
        assert owner.create(path, b"", flags=CreateFlags.EPHEMERAL)[0] == 0
        events = []
        assert observer.exists(path, watch=events.append) is not None
        wait_until(lambda: events, timeout=15)
        assert events[0].type == KzEventType.DELETED
        assert events[0].path == path
    finally:
        owner.close()


def test_kazoo_with_expired_session_id_gets_new_session(fast_server, make_zk):
    owner = raw.connect(fast_server.port, timeout=600)
    sid, pw = owner.session_id, owner.passwd
    marker = "/kazoo-lost-marker"
    assert owner.create(marker, b"", flags=CreateFlags.EPHEMERAL)[0] == 0
    owner.close()
    probe = raw.connect(fast_server.port)
    try:
        # (reattach attempts would touch the session; watch its ephemeral instead)
        wait_until(lambda: probe.exists(marker)[0] == raw.Err.NONODE, timeout=15, interval=0.1)
    finally:
        probe.close()
    # kazoo gets the invalid-session reply (timeOut 0), drops the id and opens a new session
    zk = make_zk(fast_server, start=False, client_id=(sid, pw))
    zk.start(timeout=15)
    wait_until(lambda: zk.connected, timeout=15)
    assert zk.client_id[0] not in (0, sid)
