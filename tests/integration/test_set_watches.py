"""setWatches (101) / setWatches2 (105): re-arming watches after a reconnect (client-protocol.md §4, §10)."""
from kazoo.recipe.watchers import DataWatch

from harness import raw
from harness.raw import Err, EventType, Op, WatcherEvent, Xid
from harness.util import wait_until

CREATED, DELETED, CHANGED, CHILD = (EventType.NODE_CREATED, EventType.NODE_DELETED,
                                    EventType.NODE_DATA_CHANGED, EventType.NODE_CHILDREN_CHANGED)


def ev(t, path):
    return WatcherEvent(t, 3, path)


def settle(conn):
    assert conn.call(Op.EXISTS, raw.path_watch_body("/", False)).err == 0


def set_watches(conn, rel, data=(), exist=(), child=(), persistent=None, recursive=None):
    """Send setWatches (or setWatches2 when persistent/recursive given); return
    (immediate events in order, reply)."""
    if persistent is None and recursive is None:
        body = raw.set_watches_body(rel, data, exist, child)
        op = Op.SET_WATCHES
    else:
        body = raw.set_watches2_body(rel, data, exist, child, persistent or (), recursive or ())
        op = Op.SET_WATCHES2
    conn.send_request(op, body, xid=Xid.SET_WATCHES)
    events = []
    while True:
        rep = conn.read_reply()
        if rep.xid == -1:
            events.append(rep.event())
            continue
        assert rep.xid == Xid.SET_WATCHES
        return events, rep


def test_set_watches_reply_layout(make_raw, base):
    c = make_raw()
    z = c.ping().zxid
    events, rep = set_watches(c, z, data=[base])
    assert events == []
    assert rep.err == 0 and rep.body == b""
    assert rep.zxid == z  # last processed zxid


def test_data_watch_branches(make_raw, base):
    c, w = make_raw(), make_raw()
    assert w.create(f"{base}/old", b"")[0] == 0
    rel = w.ping().zxid
    assert w.create(f"{base}/new", b"")[0] == 0
    assert w.set_data(f"{base}/old2", b"")[0] == Err.NONODE
    events, rep = set_watches(c, rel, data=[f"{base}/missing", f"{base}/new", f"{base}/old"])
    assert rep.err == 0
    # missing -> NodeDeleted; mzxid > rel -> NodeDataChanged; old -> registered silently
    assert events == [ev(DELETED, f"{base}/missing"), ev(CHANGED, f"{base}/new")]
    assert w.set_data(f"{base}/old", b"x")[0] == 0
    assert c.next_event() == ev(CHANGED, f"{base}/old")
    # the immediately-fired watches are not registered any more
    assert w.set_data(f"{base}/new", b"x")[0] == 0
    settle(c)
    c.no_event()


def test_exist_watch_branches(make_raw, base):
    c, w = make_raw(), make_raw()
    rel = w.ping().zxid
    events, rep = set_watches(c, rel, exist=[base, f"{base}/later"])
    assert rep.err == 0
    assert events == [ev(CREATED, base)]  # node exists -> NodeCreated
    assert w.create(f"{base}/later")[0] == 0
    assert c.next_event() == ev(CREATED, f"{base}/later")


def test_child_watch_branches(make_raw, base):
    c, w = make_raw(), make_raw()
    for p in ("quiet", "busy"):
        assert w.create(f"{base}/{p}")[0] == 0
    rel = w.ping().zxid
    assert w.create(f"{base}/busy/k")[0] == 0
    events, rep = set_watches(c, rel, child=[f"{base}/gone", f"{base}/busy", f"{base}/quiet"])
    assert events == [ev(DELETED, f"{base}/gone"), ev(CHILD, f"{base}/busy")]
    assert w.create(f"{base}/quiet/k")[0] == 0
    assert c.next_event() == ev(CHILD, f"{base}/quiet")


def test_immediate_events_in_list_order(make_raw, base):
    c, w = make_raw(), make_raw()
    assert w.create(f"{base}/n")[0] == 0
    assert w.create(f"{base}/n/k")[0] == 0
    events, rep = set_watches(c, 0, data=[f"{base}/n", f"{base}/x"], exist=[f"{base}/n"],
                              child=[f"{base}/n", f"{base}/y"])
    assert events == [ev(CHANGED, f"{base}/n"), ev(DELETED, f"{base}/x"),
                      ev(CREATED, f"{base}/n"),
                      ev(CHILD, f"{base}/n"), ev(DELETED, f"{base}/y")]


def test_relative_zxid_ahead_registers_everything(make_raw, base):
    c, w = make_raw(), make_raw()
    assert w.create(f"{base}/n")[0] == 0
    ahead = w.ping().zxid + 1_000_000
    events, rep = set_watches(c, ahead, data=[f"{base}/n"], exist=[f"{base}/e"],
                              child=[f"{base}/n"])
    assert events == [] and rep.err == 0
    assert w.set_data(f"{base}/n", b"x")[0] == 0
    assert c.next_event() == ev(CHANGED, f"{base}/n")
    assert w.create(f"{base}/e")[0] == 0
    assert c.next_event() == ev(CREATED, f"{base}/e")
    assert w.create(f"{base}/n/k")[0] == 0
    assert c.next_event() == ev(CHILD, f"{base}/n")


def test_set_watches2_persistent_registered_unconditionally(make_raw, base):
    c, w = make_raw(), make_raw()
    events, rep = set_watches(c, 0, persistent=[f"{base}/p"], recursive=[f"{base}/r"])
    assert events == [] and rep.err == 0 and rep.body == b""
    assert w.create(f"{base}/p")[0] == 0
    assert c.next_event() == ev(CREATED, f"{base}/p")
    assert w.create(f"{base}/r")[0] == 0
    assert c.next_event() == ev(CREATED, f"{base}/r")
    assert w.create(f"{base}/r/deep")[0] == 0
    assert c.next_event() == ev(CREATED, f"{base}/r/deep")
    assert w.set_data(f"{base}/p", b"1")[0] == 0
    assert c.next_event() == ev(CHANGED, f"{base}/p")  # persistent: still armed


def test_set_watches2_with_one_shot_lists(make_raw, base):
    c = make_raw()
    events, rep = set_watches(c, 0, data=[f"{base}/missing"], persistent=[], recursive=[])
    assert events == [ev(DELETED, f"{base}/missing")]


def test_set_watches2_truncated_is_marshalling_error(make_raw, base):
    c = make_raw()
    body = raw.set_watches_body(0, [base], [], [])  # lacks the two persistent vectors
    rep = c.call(Op.SET_WATCHES2, body, xid=Xid.SET_WATCHES)
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert c.exists("/")[0] == 0


def test_kazoo_datawatch_resyncs_after_reconnect(make_zk, make_raw, node):
    """kazoo 2.8 does not send setWatches: on connection loss it fires its watchers with a
    NONE event and the DataWatch recipe re-reads after reconnecting. This checks that path
    end to end (session takeover closes kazoo's connection, §4)."""
    zk = make_zk()
    zk.create(node, b"0")
    seen = []
    DataWatch(zk, node, func=lambda data, stat: seen.append(data))
    wait_until(lambda: seen == [b"0"], timeout=10)
    sid, pw = zk.client_id
    thief = make_raw(handshake=False)
    assert thief.handshake(session_id=sid, passwd=pw).session_id == sid
    writer = make_raw()
    assert writer.set_data(node, b"1")[0] == 0
    wait_until(lambda: seen and seen[-1] == b"1", timeout=15)
    wait_until(lambda: zk.connected, timeout=15)
    assert zk.client_id[0] == sid
    assert thief.is_closed(timeout=10)  # kazoo took the session back
