"""addWatch (persistent / persistent-recursive), checkWatches, removeWatches (client-protocol.md §6, §10)."""
import pytest

from harness import raw
from harness.raw import ACL, AddWatchMode, Err, EventType, Op, Perm, WatcherEvent, WatcherType

CREATED, DELETED, CHANGED, CHILD = (EventType.NODE_CREATED, EventType.NODE_DELETED,
                                    EventType.NODE_DATA_CHANGED, EventType.NODE_CHILDREN_CHANGED)
PERSISTENT, RECURSIVE = AddWatchMode.PERSISTENT, AddWatchMode.PERSISTENT_RECURSIVE


def ev(t, path):
    return WatcherEvent(t, 3, path)


def settle(conn):
    assert conn.call(Op.EXISTS, raw.path_watch_body("/", False)).err == 0


def check(conn, path, wtype):
    rep = conn.call(Op.CHECK_WATCHES, raw.watch_type_body(path, wtype))
    assert rep.body == b""
    return rep.err


def remove(conn, path, wtype):
    rep = conn.call(Op.REMOVE_WATCHES, raw.watch_type_body(path, wtype))
    assert rep.body == b""
    return rep.err


def test_add_watch_reply_layout(rc, base):
    rep = rc.call(Op.ADD_WATCH, raw.add_watch_body(base, PERSISTENT))
    assert rep.err == 0
    assert rep.body == b"\x00\x00\x00\x00"


@pytest.mark.parametrize("mode", [2, -1, 100])
def test_add_watch_bad_mode(rc, base, mode):
    rep = rc.call(Op.ADD_WATCH, raw.add_watch_body(base, mode))
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert rc.exists("/")[0] == 0


@pytest.mark.parametrize("path", ["/definitely/missing", "", "a", "/bad//path/"])
def test_add_watch_no_existence_or_path_check(rc, path):
    for mode in (PERSISTENT, RECURSIVE):
        rep = rc.call(Op.ADD_WATCH, raw.add_watch_body(path, mode))
        assert rep.err == 0 and rep.body == b"\x00\x00\x00\x00"


def test_persistent_watch_fires_repeatedly(make_raw, base):
    w, c = make_raw(), make_raw()
    p = f"{base}/n"
    assert w.add_watch(p, PERSISTENT) == 0  # on a missing node
    assert c.create(p)[0] == 0
    assert w.next_event() == ev(CREATED, p)
    assert c.set_data(p, b"1")[0] == 0
    assert w.next_event() == ev(CHANGED, p)
    assert c.set_data(p, b"2")[0] == 0
    assert w.next_event() == ev(CHANGED, p)
    assert c.create(f"{p}/k")[0] == 0
    assert w.next_event() == ev(CHILD, p)
    assert c.create(f"{p}/k/deeper")[0] == 0  # not a direct child: nothing
    assert c.set_data(f"{p}/k", b"x")[0] == 0
    settle(w)
    w.no_event()
    assert c.delete(f"{p}/k/deeper") == 0
    assert c.delete(f"{p}/k") == 0
    assert w.next_event() == ev(CHILD, p)
    assert c.delete(p) == 0
    assert w.next_event() == ev(DELETED, p)
    assert c.create(p)[0] == 0  # still armed after the delete
    assert w.next_event() == ev(CREATED, p)


def test_persistent_recursive_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    r = f"{base}/r"
    assert w.add_watch(r, RECURSIVE) == 0
    assert c.create(r)[0] == 0
    assert w.next_event() == ev(CREATED, r)
    assert c.create(f"{r}/a")[0] == 0
    assert w.next_event() == ev(CREATED, f"{r}/a")  # no NodeChildrenChanged on r
    assert c.create(f"{r}/a/b", b"")[0] == 0
    assert w.next_event() == ev(CREATED, f"{r}/a/b")
    assert c.set_data(f"{r}/a/b", b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, f"{r}/a/b")
    assert c.delete(f"{r}/a/b") == 0
    assert w.next_event() == ev(DELETED, f"{r}/a/b")
    assert c.set_data(r, b"y")[0] == 0
    assert w.next_event() == ev(CHANGED, r)
    # siblings with the same string prefix are not descendants
    assert c.create(f"{base}/rr")[0] == 0
    assert c.set_data(base, b"z")[0] == 0
    settle(w)
    w.no_event()


def test_recursive_watch_plus_one_shot_child_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, RECURSIVE) == 0
    assert w.get_children(base, watch=True)[0] == 0
    assert c.create(f"{base}/k")[0] == 0
    got = sorted([w.next_event(), w.next_event()])
    assert got == sorted([ev(CREATED, f"{base}/k"), ev(CHILD, base)])
    assert c.create(f"{base}/k2")[0] == 0
    assert w.next_event() == ev(CREATED, f"{base}/k2")  # the child watch was one-shot
    settle(w)
    w.no_event()


def test_dedup_with_persistent_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert w.get_data(base, watch=True)[0] == 0
    assert w.exists(base, watch=True)[0] == 0
    assert w.add_watch(base, PERSISTENT) == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    settle(w)
    w.no_event()


def test_dedup_recursive_and_persistent_on_same_path(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, PERSISTENT) == 0
    assert w.add_watch(base, RECURSIVE) == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    settle(w)
    w.no_event()


def test_recursive_watch_respects_read_acl(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, RECURSIVE) == 0
    secret = f"{base}/secret"
    assert c.create(secret, b"", acl=[ACL(Perm.ALL & ~Perm.READ, "world", "anyone")])[0] == 0
    assert c.set_data(secret, b"x")[0] == 0
    assert c.create(f"{base}/open")[0] == 0
    assert w.next_event() == ev(CREATED, f"{base}/open")
    assert c.create(f"{secret}/kid")[0] == 0  # world-readable grandchild
    assert w.next_event() == ev(CREATED, f"{secret}/kid")
    settle(w)
    w.no_event()


# ---------------------------------------------------------------- checkWatches / removeWatches

def test_check_watches_one_shot_types(make_raw, base):
    w = make_raw()
    assert check(w, base, WatcherType.DATA) == Err.NOWATCHER
    assert check(w, base, WatcherType.CHILDREN) == Err.NOWATCHER
    assert check(w, base, WatcherType.ANY) == Err.NOWATCHER
    assert w.get_data(base, watch=True)[0] == 0
    assert check(w, base, WatcherType.DATA) == 0
    assert check(w, base, WatcherType.ANY) == 0
    assert check(w, base, WatcherType.CHILDREN) == Err.NOWATCHER
    assert w.get_children(base, watch=True)[0] == 0
    assert check(w, base, WatcherType.CHILDREN) == 0


def test_check_watches_exists_on_missing_counts_as_data(make_raw, base):
    w = make_raw()
    assert w.exists(f"{base}/n", watch=True)[0] == Err.NONODE
    assert check(w, f"{base}/n", WatcherType.DATA) == 0


@pytest.mark.parametrize("mode", [PERSISTENT, RECURSIVE])
def test_check_watches_persistent(make_raw, base, mode):
    w = make_raw()
    assert w.add_watch(base, mode) == 0
    for t in (WatcherType.DATA, WatcherType.CHILDREN, WatcherType.ANY):
        assert check(w, base, t) == 0


@pytest.mark.parametrize("op", [Op.CHECK_WATCHES, Op.REMOVE_WATCHES])
@pytest.mark.parametrize("wtype", [0, 4, -1])
def test_watch_type_out_of_range(make_raw, base, op, wtype):
    w = make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    rep = w.call(op, raw.watch_type_body(base, wtype))
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert check(w, base, WatcherType.DATA) == 0


def test_remove_one_shot_data_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert remove(w, base, WatcherType.DATA) == Err.NOWATCHER
    assert w.get_data(base, watch=True)[0] == 0
    assert w.get_children(base, watch=True)[0] == 0
    assert remove(w, base, WatcherType.DATA) == 0
    assert remove(w, base, WatcherType.DATA) == Err.NOWATCHER
    assert check(w, base, WatcherType.CHILDREN) == 0
    assert c.set_data(base, b"x")[0] == 0
    settle(w)
    w.no_event()  # no removal frame, no data event
    assert c.create(f"{base}/k")[0] == 0
    assert w.next_event() == ev(CHILD, base)


def test_remove_any(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert w.get_children(base, watch=True)[0] == 0
    assert remove(w, base, WatcherType.ANY) == 0
    assert check(w, base, WatcherType.ANY) == Err.NOWATCHER
    assert c.set_data(base, b"x")[0] == 0
    assert c.create(f"{base}/k")[0] == 0
    settle(w)
    w.no_event()


def test_remove_children_part_of_persistent_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, PERSISTENT) == 0
    assert remove(w, base, WatcherType.CHILDREN) == 0
    assert c.create(f"{base}/k")[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)  # data part still active
    settle(w)
    w.no_event()


def test_remove_data_part_of_persistent_watch(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, PERSISTENT) == 0
    assert remove(w, base, WatcherType.DATA) == 0
    assert c.set_data(base, b"x")[0] == 0
    assert c.create(f"{base}/k")[0] == 0
    assert w.next_event() == ev(CHILD, base)  # child part still active
    settle(w)
    w.no_event()


@pytest.mark.parametrize("mode", [PERSISTENT, RECURSIVE])
def test_remove_any_persistent(make_raw, base, mode):
    w, c = make_raw(), make_raw()
    assert w.add_watch(base, mode) == 0
    assert remove(w, base, WatcherType.ANY) == 0
    assert remove(w, base, WatcherType.ANY) == Err.NOWATCHER
    assert c.set_data(base, b"x")[0] == 0
    assert c.create(f"{base}/k")[0] == 0
    settle(w)
    w.no_event()


def test_remove_watches_is_per_connection(make_raw, base):
    w1, w2, c = make_raw(), make_raw(), make_raw()
    assert w1.get_data(base, watch=True)[0] == 0
    assert w2.get_data(base, watch=True)[0] == 0
    assert remove(w1, base, WatcherType.DATA) == 0
    assert remove(w1, base, WatcherType.DATA) == Err.NOWATCHER
    assert c.set_data(base, b"x")[0] == 0
    assert w2.next_event() == ev(CHANGED, base)
    settle(w1)
    w1.no_event()


def test_fired_watch_is_gone_for_check(make_raw, base):
    w, c = make_raw(), make_raw()
    assert w.get_data(base, watch=True)[0] == 0
    assert c.set_data(base, b"x")[0] == 0
    assert w.next_event() == ev(CHANGED, base)
    assert check(w, base, WatcherType.DATA) == Err.NOWATCHER
