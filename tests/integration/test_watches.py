"""One-shot watches: trigger rules, dedup, delivery order (client-protocol.md §10, §13)."""
import struct
import threading

from kazoo.protocol.states import EventType as KzEventType
from kazoo.recipe.watchers import ChildrenWatch, DataWatch

from harness import raw
from harness.raw import ACL, Err, EventType, Op, Perm, WatcherEvent
from harness.util import wait_until

CREATED, DELETED, CHANGED, CHILD = (EventType.NODE_CREATED, EventType.NODE_DELETED,
                                    EventType.NODE_DATA_CHANGED, EventType.NODE_CHILDREN_CHANGED)


def ev(t, path):
    return WatcherEvent(t, 3, path)


def settle(conn):
    """A round trip: every event caused by earlier changes has arrived after this."""
    assert conn.call(Op.EXISTS, raw.path_watch_body("/", False)).err == 0


def test_notification_frame_layout(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    payload = w.read_frame()
    p = base.encode()
    assert payload == (struct.pack(">iqi", -1, -1, 0) + struct.pack(">iii", CHANGED, 3, len(p)) + p)


def test_data_watch_fires_once_on_set_data(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert c.set_data(base, b"1")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    assert c.set_data(base, b"2")[0] == 0
    settle(w)
    w.no_event()


def test_data_watch_fires_on_delete(make_raw, base):
    w, c = make_raw(), make_raw()
    assert c.create(f"{base}/n")[0] == 0
    assert w.get_data(f"{base}/n", watch=True)[0] == 0
    assert c.delete(f"{base}/n") == 0
    assert w.next_event() == ev(DELETED, f"{base}/n")


def test_exists_watch_on_missing_node_fires_created(make_raw, base):
    w, c = make_raw(), make_raw()
    err, _ = w.exists(f"{base}/n", watch=True)
    assert err == Err.NONODE  # still registers a watch
    assert c.create(f"{base}/n")[0] == 0
    assert w.next_event() == ev(CREATED, f"{base}/n")
    assert c.set_data(f"{base}/n", b"x")[0] == 0
    settle(w)
    w.no_event()


def test_exists_watch_on_existing_node(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.exists(base, watch=True)[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    assert w.exists(base, watch=True)[0] == 0
    assert c.create(f"{base}/kid")[0] == 0  # child create: no event for a data/exist watch
    settle(w)
    w.no_event()
    assert c.delete(f"{base}/kid") == 0
    assert c.delete(base) == 0
    assert w.next_event() == ev(DELETED, base)


def test_child_watch_on_create_and_delete(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_children(base, watch=True)[0] == 0
    assert c.create(f"{base}/a")[0] == 0
    assert w.next_event() == ev(CHILD, base)
    assert w.get_children2(base, watch=True)[0] == 0
    assert c.set_data(f"{base}/a", b"x")[0] == 0  # child data change: nothing
    assert c.set_data(base, b"x")[0] == 0  # own data change with only a child watch: nothing
    settle(w)
    w.no_event()
    assert c.delete(f"{base}/a") == 0
    assert w.next_event() == ev(CHILD, base)


def test_child_watch_gets_node_deleted(make_raw, base):
    w, c = make_raw(), make_raw()
    assert c.create(f"{base}/p")[0] == 0
    assert w.get_children(f"{base}/p", watch=True)[0] == 0
    assert c.delete(f"{base}/p") == 0
    assert w.next_event() == ev(DELETED, f"{base}/p")


def test_create_fires_created_and_parent_children_changed(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.exists(f"{base}/n", watch=True)[0] == Err.NONODE
    assert w.get_children(base, watch=True)[0] == 0
    assert c.create(f"{base}/n")[0] == 0
    got = sorted([w.next_event(), w.next_event()])
    assert got == sorted([ev(CREATED, f"{base}/n"), ev(CHILD, base)])


def test_top_level_create_fires_on_root(make_raw, node):
    w, c = make_raw(), make_raw()
    assert w.get_children("/", watch=True)[0] == 0
    assert c.create(node)[0] == 0
    assert w.next_event() == ev(CHILD, "/")


def test_set_acl_fires_nothing(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert w.get_children(base, watch=True)[0] == 0
    assert c.set_acl(base, raw.OPEN_ACL_UNSAFE)[0] == 0
    settle(w)
    w.no_event()
    # the watches are still armed
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)


def test_get_data_and_children_on_missing_node_set_no_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(f"{base}/n", watch=True)[0] == Err.NONODE
    assert w.get_children(f"{base}/n", watch=True)[0] == Err.NONODE
    assert w.get_children2(f"{base}/n", watch=True)[0] == Err.NONODE
    assert c.create(f"{base}/n")[0] == 0
    assert c.create(f"{base}/n/k")[0] == 0
    settle(w)
    w.no_event()


def test_dedup_data_changed_per_connection(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert w.get_data(base, watch=True)[0] == 0
    assert w.exists(base, watch=True)[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    settle(w)
    w.no_event()


def test_dedup_node_deleted_per_connection(make_raw, base):
    w, c = make_raw(), make_raw()
    p = f"{base}/n"
    assert c.create(p)[0] == 0
    assert w.get_data(p, watch=True)[0] == 0
    assert w.exists(p, watch=True)[0] == 0
    assert w.get_children(p, watch=True)[0] == 0
    assert c.delete(p) == 0
    assert w.next_event() == ev(DELETED, p)
    settle(w)
    w.no_event()


def test_every_watching_connection_notified(make_raw, base):
    watchers = [make_raw() for _ in range(3)]
    c = make_raw()
    for w in watchers:
        assert w.get_data(base, watch=True)[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    for w in watchers:
        assert w.next_event() == ev(CHANGED, base)


def test_writer_gets_its_own_event_before_reply(make_raw, base):
    c = make_raw()
    assert c.get_data(base, watch=True)[0] == 0
    xid = c.send_request(Op.SET_DATA, raw.set_data_body(base, b"x", -1))
    first = c.read_reply()
    assert first.xid == -1 and first.event() == ev(CHANGED, base)
    second = c.read_reply()
    assert second.xid == xid and second.err == 0


def test_event_before_later_reply_across_sessions(make_raw, base):
    b, a = make_raw(), make_raw()
    assert b.get_data(base, watch=True)[0] == 0
    err, st = a.set_data(base, b"x")
    assert err == 0
    xid = b.send_request(Op.EXISTS, raw.path_watch_body(base, False))
    first = b.read_reply()
    assert first.header == raw.ReplyHeader(-1, -1, 0)
    assert first.event() == ev(CHANGED, base)
    second = b.read_reply()
    assert second.xid == xid and second.err == 0
    assert second.zxid >= st.mzxid


def test_event_ordering_many_changes(make_raw, base):
    """Interleaved writes/reads: every event precedes the first reply with a zxid >= its change."""
    w, c = make_raw(), make_raw()
    for i in range(20):
        assert w.get_data(base, watch=True)[0] == 0
        err, st = c.set_data(base, str(i).encode())
        xid = w.send_request(Op.GET_DATA, raw.path_watch_body(base, False))
        first = w.read_reply()
        assert first.xid == -1, f"iteration {i}: reply before event"
        second = w.read_reply()
        assert second.xid == xid and second.zxid >= st.mzxid
        assert second.r.buffer() == str(i).encode()


def test_watch_not_delivered_without_read_permission(make_raw, base):
    """Debian CVE-2024-23944 backport: events need READ on the node (parent for children)."""
    w, c = make_raw(), make_raw()
    p = f"{base}/hidden"
    assert c.create(p, b"", acl=[ACL(Perm.ALL & ~Perm.READ, "world", "anyone")])[0] == 0
    assert w.exists(p, watch=True)[0] == 0  # exists needs no permission
    assert c.set_data(p, b"x")[0] == 0
    settle(w)
    w.no_event()
    # a readable sibling still notifies
    assert c.create(f"{base}/open")[0] == 0
    assert w.exists(f"{base}/open", watch=True)[0] == 0
    assert c.set_data(f"{base}/open", b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, f"{base}/open")


def test_watches_survive_unrelated_failures(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert c.set_data(base, b"x", version=42)[0] == Err.BADVERSION
    settle(w)
    w.no_event()
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)


# ---------------------------------------------------------------- kazoo

def test_kazoo_one_shot_watches(make_zk, node):
    zk = make_zk()
    other = make_zk()
    zk.create(node, b"0")
    events = []
    got = threading.Event()

    def watcher(event):
        events.append(event)
        got.set()

    zk.get(node, watch=watcher)
    other.set(node, b"1")
    assert got.wait(10)
    assert events[0].type == KzEventType.CHANGED and events[0].path == node
    got.clear()
    zk.get_children(node, watch=watcher)
    other.create(f"{node}/kid")
    assert got.wait(10)
    assert events[1].type == KzEventType.CHILD and events[1].path == node
    got.clear()
    zk.exists(f"{node}/later", watch=watcher)
    other.create(f"{node}/later")
    assert got.wait(10)
    assert events[2].type == KzEventType.CREATED


def test_kazoo_recipes_data_and_children_watch(make_zk, node):
    zk = make_zk()
    other = make_zk()
    zk.create(node, b"start")
    data_seen = []
    children_seen = []
    DataWatch(zk, node, func=lambda data, stat: data_seen.append(data))
    ChildrenWatch(zk, node, func=lambda children: children_seen.append(sorted(children)))
    other.set(node, b"next")
    other.create(f"{node}/x")
    other.create(f"{node}/y")
    wait_until(lambda: data_seen and data_seen[-1] == b"next", timeout=10)
    wait_until(lambda: children_seen and children_seen[-1] == ["x", "y"], timeout=10)
    assert data_seen[0] == b"start"
    assert children_seen[0] == []
