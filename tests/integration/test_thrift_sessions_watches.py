"""frontend.thrift: sessions (open, close, expiry, re-attach, wrong password) and watches
(one-shot, persistent, recursive, setWatches after re-attach, the event-before-reply order),
then the Thrift-only mechanics: events inside replies, ping's long poll and pipelining.

The scenarios ZooKeeper defines run through the ZooKeeper protocol ("jute", any --impl) and
through Thrift ("thrift", Corral only) with the same assertions. The server ticks every 200 ms
so that a 600 ms session expires within about a second.
"""
import threading
import time

import pytest

from harness.raw import AddWatchMode, CreateFlags, Err, EventType
from harness.thrift_client import (ADAPTERS, THRIFT_MARKS, ZkFail, clients, ev, kind,  # noqa: F401
                                   make_thrift, server_fixture, start_server_for)

# The front ends' own tests: whatever the storage (skipped in the --storage rocksdb run).
pytestmark = pytest.mark.frontend_only

CREATED, DELETED, CHANGED, CHILD = (EventType.NODE_CREATED, EventType.NODE_DELETED,
                                    EventType.NODE_DATA_CHANGED, EventType.NODE_CHILDREN_CHANGED)
FAST = {"tickTime": 200, "minSessionTimeout": 600, "maxSessionTimeout": 20000}
SHORT_MS = 600
THRIFT_ONLY = [pytest.param("thrift", marks=THRIFT_MARKS)]


srv = server_fixture(FAST, "thrift-sessions")


@pytest.fixture
def base(srv, clients, node):
    c = clients("jute", srv)
    c.create(node)
    c.close()
    return node


@pytest.fixture
def pair(kind, srv, clients):
    """(watcher, writer), both of the kind under test."""
    return clients(kind, srv), clients(kind, srv)


# ---------------------------------------------------------------- sessions

def test_close_session_removes_ephemerals_at_once(kind, srv, clients, base):
    a, observer = clients(kind, srv), clients(kind, srv)
    a.create(f"{base}/e", mode=CreateFlags.EPHEMERAL)
    observer.exists(f"{base}/e", watch=True)
    assert observer.exists(f"{base}/e").ephemeralOwner == a.session_id
    a.close()
    assert observer.exists(f"{base}/e") is None
    assert observer.take_events() == [ev(DELETED, f"{base}/e")]


def test_expiry_removes_ephemerals_and_reattach_fails(kind, srv, clients, base):
    a = clients(kind, srv, timeout_ms=SHORT_MS)
    observer = clients(kind, srv)
    a.create(f"{base}/e", mode=CreateFlags.EPHEMERAL)
    observer.exists(f"{base}/e", watch=True)
    a.drop()  # no closeSession: the session lives until it expires
    assert observer.wait_events(1, timeout=15) == [ev(DELETED, f"{base}/e")]
    assert observer.exists(f"{base}/e") is None
    with pytest.raises(ZkFail) as info:
        a.reattach()
    assert info.value.code == Err.SESSIONEXPIRED


def test_reattach_after_dropped_connection(kind, srv, clients, base):
    a = clients(kind, srv, timeout_ms=10000)
    sid = a.session_id
    a.create(f"{base}/e", mode=CreateFlags.EPHEMERAL)
    a.drop()
    assert a.reattach() == sid
    assert a.exists(f"{base}/e").ephemeralOwner == sid
    assert a.get_ephemerals(base) == [f"{base}/e"]
    a.set_data(f"{base}/e", b"still mine")
    a.close()
    assert clients(kind, srv).exists(f"{base}/e") is None


def test_reattach_with_wrong_password_is_session_expired(kind, srv, clients, base):
    a = clients(kind, srv, timeout_ms=10000)
    sid = a.session_id
    a.create(f"{base}/e", mode=CreateFlags.EPHEMERAL)
    a.drop()
    with pytest.raises(ZkFail) as info:
        a.reattach(password=bytes(x ^ 0xFF for x in a.password))
    assert info.value.code == Err.SESSIONEXPIRED
    # the session itself is untouched: the right password still re-attaches it
    assert a.reattach() == sid
    assert a.exists(f"{base}/e").ephemeralOwner == sid


def test_set_watches_after_reattach(kind, srv, clients, base):
    """Watches stay with the connection; setWatches re-arms them on the new one and fires
    at once those whose node changed after relativeZxid."""
    for name in ("changed", "quiet", "parent"):
        clients("jute", srv).create(f"{base}/{name}")
    a = clients(kind, srv, timeout_ms=10000)
    other = clients(kind, srv)
    a.get_data(f"{base}/changed", watch=True)
    a.get_data(f"{base}/quiet", watch=True)
    a.exists(f"{base}/later", watch=True)
    a.get_children(f"{base}/parent", watch=True)
    a.add_watch(f"{base}/rec", AddWatchMode.PERSISTENT_RECURSIVE)
    rel = a.last_zxid
    a.drop()
    other.set_data(f"{base}/changed", b"x")
    other.create(f"{base}/later")
    a.reattach()
    a.set_watches(rel, data=[f"{base}/changed", f"{base}/quiet"], exist=[f"{base}/later"],
                  child=[f"{base}/parent"], recursive=[f"{base}/rec"])
    assert sorted(a.wait_events(2)) == sorted([ev(CHANGED, f"{base}/changed"),
                                               ev(CREATED, f"{base}/later")])
    # the others are armed again
    other.set_data(f"{base}/quiet", b"y")
    assert a.wait_events(1) == [ev(CHANGED, f"{base}/quiet")]
    other.create(f"{base}/parent/k")
    assert a.wait_events(1) == [ev(CHILD, f"{base}/parent")]
    other.create(f"{base}/rec")
    other.create(f"{base}/rec/deep")
    assert a.wait_events(2) == [ev(CREATED, f"{base}/rec"), ev(CREATED, f"{base}/rec/deep")]
    # the immediately fired watch was one-shot
    other.set_data(f"{base}/changed", b"z")
    a.assert_no_event()


def test_watches_do_not_follow_the_session_without_set_watches(kind, srv, clients, base):
    a = clients(kind, srv, timeout_ms=10000)
    other = clients(kind, srv)
    a.get_data(base, watch=True)
    a.drop()
    a.reattach()
    other.set_data(base, b"x")
    a.assert_no_event()


# ---------------------------------------------------------------- watches

def test_one_shot_data_watch(pair, base):
    w, c = pair
    w.get_data(base, watch=True)
    c.set_data(base, b"1")
    assert w.wait_events(1) == [ev(CHANGED, base)]
    c.set_data(base, b"2")
    w.assert_no_event()


def test_exists_watch_on_missing_node_and_child_watch(pair, base):
    w, c = pair
    assert w.exists(f"{base}/n", watch=True) is None
    w.get_children(base, watch=True)
    c.create(f"{base}/n")
    assert sorted(w.wait_events(2)) == sorted([ev(CREATED, f"{base}/n"), ev(CHILD, base)])
    w.get_data(f"{base}/n", watch=True)
    c.delete(f"{base}/n")
    assert w.wait_events(1) == [ev(DELETED, f"{base}/n")]
    w.assert_no_event()


def test_persistent_watch(pair, base):
    w, c = pair
    p = f"{base}/n"
    w.add_watch(p, AddWatchMode.PERSISTENT)
    c.create(p)
    assert w.wait_events(1) == [ev(CREATED, p)]
    c.set_data(p, b"1")
    assert w.wait_events(1) == [ev(CHANGED, p)]
    c.set_data(p, b"2")
    assert w.wait_events(1) == [ev(CHANGED, p)]
    c.create(f"{p}/k")
    assert w.wait_events(1) == [ev(CHILD, p)]
    c.create(f"{p}/k/deeper")  # not a direct child
    w.assert_no_event()
    c.delete(f"{p}/k/deeper")
    c.delete(f"{p}/k")
    c.delete(p)
    assert w.wait_events(2) == [ev(CHILD, p), ev(DELETED, p)]


def test_persistent_recursive_watch(pair, base):
    w, c = pair
    r = f"{base}/r"
    w.add_watch(r, AddWatchMode.PERSISTENT_RECURSIVE)
    c.create(r)
    c.create(f"{r}/a")
    c.create(f"{r}/a/b")
    c.set_data(f"{r}/a/b", b"x")
    c.delete(f"{r}/a/b")
    assert w.wait_events(5) == [ev(CREATED, r), ev(CREATED, f"{r}/a"), ev(CREATED, f"{r}/a/b"),
                                ev(CHANGED, f"{r}/a/b"), ev(DELETED, f"{r}/a/b")]
    c.create(f"{base}/rr")  # same string prefix, not a descendant
    w.assert_no_event()


def test_event_arrives_before_the_reply_that_shows_the_change(pair, base):
    """A watches base, B changes it; A's next call returns the new data, and by then A has
    been given the event (ZooKeeper's ordering guarantee)."""
    a, b = pair
    for i in range(10):
        assert a.get_data(base, watch=True)[0] == (str(i - 1).encode() if i else b"")
        b.set_data(base, str(i).encode())
        data, stat = a.get_data(base)
        assert data == str(i).encode()
        assert a.take_events() == [ev(CHANGED, base)], f"iteration {i}"


def test_writer_sees_its_own_event_with_its_write(kind, srv, clients, base):
    c = clients(kind, srv)
    c.get_data(base, watch=True)
    c.set_data(base, b"x")
    assert c.take_events() == [ev(CHANGED, base)]


# ---------------------------------------------------------------- Thrift mechanics

@pytest.fixture
def thrift_pair(srv, make_thrift):
    return make_thrift(srv), make_thrift(srv)


@pytest.mark.corral_only
def test_event_is_in_the_reply_events(thrift_pair, base):
    """Thrift only: the event travels in the `events` of the watcher's next reply, and the
    client (corral_thrift.client) hands it to on_event before it returns that reply."""
    a, b = thrift_pair
    seen, returned = [], [False]
    a.on_event = lambda e: seen.append((e.type, e.path, returned[0]))
    a.get_data(base, watch=True)
    b.set_data(base, b"x")
    r = a.get_data(base)
    returned[0] = True
    assert [(e.type, e.state, e.path) for e in r.events] == [(CHANGED, 3, base)]
    assert seen == [(CHANGED, base, False)]  # delivered before get_data returned
    assert [(e.type, e.path) for e in a.take_events()] == [(CHANGED, base)]
    # the writer's own reply has none
    assert b.get_data(base).events == []


@pytest.mark.corral_only
def test_ping_long_poll_returns_when_an_event_is_queued(thrift_pair, base):
    """Thrift only: ping(waitMs) waits, and returns as soon as an event is queued."""
    a, b = thrift_pair
    t0 = time.monotonic()
    assert a.ping(400).events == []  # nothing happens: it waits (about) the whole 400 ms
    assert time.monotonic() - t0 >= 0.35
    a.get_data(base, watch=True)
    timer = threading.Timer(0.3, lambda: b.set_data(base, b"x"))
    t0 = time.monotonic()
    timer.start()
    try:
        r = a.ping(10000)
    finally:
        timer.join()
    assert time.monotonic() - t0 < 5.0
    assert [(e.type, e.path) for e in r.events] == [(CHANGED, base)]


@pytest.mark.corral_only
def test_ping_returns_early_when_a_pipelined_call_arrives(thrift_pair, base):
    """Thrift only: a client may keep one ping outstanding and still send calls behind it:
    the next call ends the wait, and the answers come in order."""
    a, _ = thrift_pair
    a.set_data(base, b"data")
    with a.lock:
        t0 = time.monotonic()
        a.raw.send_ping(10000)
        a.raw.send_getData(base, False)
        a.raw.send_exists(f"{base}/none", False)
        p = a.raw.recv_ping()
        g = a.raw.recv_getData()
        x = a.raw.recv_exists()
        elapsed = time.monotonic() - t0
    assert elapsed < 5.0
    assert p.events == [] and g.data == b"data" and x.stat is None
    assert a.get_data(base).data == b"data"  # the connection goes on


@pytest.mark.corral_only
def test_ping_wait_is_capped_by_the_session_timeout(srv, make_thrift, base):
    """Thrift only: ping waits at most the session timeout, and a client that keeps pinging
    keeps its session (a 600 ms session lives through three long polls)."""
    a = make_thrift(srv, timeout_ms=SHORT_MS)
    assert a.session_timeout_ms == SHORT_MS
    a.create(f"{base}/e", b"", mode=CreateFlags.EPHEMERAL)
    t0 = time.monotonic()
    for _ in range(3):
        a.ping(5000)
    assert time.monotonic() - t0 < 3 * SHORT_MS / 1000 + 3.0
    assert a.exists(f"{base}/e").stat.ephemeralOwner == a.session_id


@pytest.mark.corral_only
def test_wait_for_events_and_heartbeat(srv, make_thrift, base):
    """Thrift only (corral_thrift.client): wait_for_events long-polls until an event comes;
    heartbeat=True keeps an idle 600 ms session alive."""
    a = make_thrift(srv, timeout_ms=SHORT_MS, heartbeat=True)
    b = make_thrift(srv)
    a.create(f"{base}/e", b"", mode=CreateFlags.EPHEMERAL)
    a.get_data(base, watch=True)
    assert a.wait_for_events(0.2) == []
    threading.Timer(0.2, lambda: b.set_data(base, b"x")).start()
    got = a.wait_for_events(10)
    assert [(e.type, e.path) for e in got] == [(CHANGED, base)]
    time.sleep(4 * SHORT_MS / 1000)  # idle for four session timeouts: only the heartbeat pings
    assert b.exists(f"{base}/e").stat.ephemeralOwner == a.session_id


@pytest.mark.corral_only
def test_close_session_closes_the_connection(srv, make_thrift, base):
    """Thrift only: after closeSession the server closes the connection."""
    from harness.thrift_client import T
    a = make_thrift(srv)
    with a.lock:
        r = a.raw.closeSession()
        assert r.events == []
        with pytest.raises((T.TTransportException, EOFError, OSError)):
            a.raw.ping(0)
    a.drop_connection()
