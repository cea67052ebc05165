"""getChildren / getChildren2 / getAllChildrenNumber / getEphemerals (client-protocol.md §6)."""
from harness import raw
from harness.raw import CreateFlags, Err, Op


def test_get_children(rc, base):
    names = ["b", "a", "c-1", "z z", "\u00e9t\u00e9"]
    for n in names:
        assert rc.create(f"{base}/{n}")[0] == 0
    assert rc.create(f"{base}/a/deeper")[0] == 0
    rep = rc.call(Op.GET_CHILDREN, raw.path_watch_body(base, False))
    assert rep.err == 0
    children = rep.r.strings()
    assert rep.r.at_end()
    assert sorted(children) == sorted(names)


def test_get_children_empty_and_missing(rc, base):
    assert rc.get_children(base) == (0, [])
    rep = rc.call(Op.GET_CHILDREN, raw.path_watch_body(f"{base}/nope", False))
    assert rep.err == Err.NONODE and rep.body == b""
    rep = rc.call(Op.GET_CHILDREN2, raw.path_watch_body(f"{base}/nope", False))
    assert rep.err == Err.NONODE and rep.body == b""


def test_get_children2_returns_stat(rc, base):
    for n in ("x", "y"):
        assert rc.create(f"{base}/{n}")[0] == 0
    rep = rc.call(Op.GET_CHILDREN2, raw.path_watch_body(base, False))
    assert rep.err == 0
    children, stat = rep.r.strings(), rep.r.stat()
    assert rep.r.at_end()
    assert sorted(children) == ["x", "y"]
    assert stat == rc.exists(base)[1]
    assert stat.numChildren == 2


def test_get_children_of_root_and_empty_path(rc):
    err, root = rc.get_children("/")
    assert err == 0 and "zookeeper" in root
    err, empty = rc.get_children("")
    assert err == 0 and sorted(empty) == sorted(root)


def test_many_children(rc, base):
    n = 300
    for i in range(n):
        assert rc.create(f"{base}/child-{i:04d}", b"")[0] == 0
    err, (children, stat) = rc.get_children2(base)
    assert len(children) == n and stat.numChildren == n
    assert sorted(children) == [f"child-{i:04d}" for i in range(n)]


def test_get_all_children_number(rc, base):
    def count(path):
        rep = rc.call(Op.GET_ALL_CHILDREN_NUMBER, raw.path_body(path))
        if rep.err:
            assert rep.body == b""
            return rep.err, None
        v = rep.r.int()
        assert rep.r.at_end()
        return 0, v

    assert count(base) == (0, 0)
    for p in ("a", "a/b", "a/b/c", "d"):
        assert rc.create(f"{base}/{p}")[0] == 0
    assert count(base) == (0, 4)
    assert count(f"{base}/a") == (0, 2)
    assert count(f"{base}/a/b/c") == (0, 0)
    assert count(f"{base}/missing") == (Err.NONODE, None)
    assert count("/zookeeper") == (0, 2)
    err, total = count("/")
    assert err == 0 and total >= 4 + 1 + 3  # base subtree + base + /zookeeper and its 2 kids
    # "" is not quite "/": 3.8.0 counts every node key starting with "/", i.e. the root too
    # (observed: one more than for "/"; client-protocol.md §12 says it answers as for "/")
    assert count("") == (0, total + 1)


def _ephemerals(conn, prefix):
    rep = conn.call(Op.GET_EPHEMERALS, raw.path_body(prefix))
    assert rep.err == 0
    out = rep.r.strings()
    assert rep.r.at_end()
    return sorted(out)


def test_get_ephemerals_prefix_match(make_raw, base):
    a = make_raw()
    other = make_raw()
    for p in ("eph", "e2", "x"):
        assert a.create(f"{base}/{p}", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert a.create(f"{base}/persistent")[0] == 0
    assert other.create(f"{base}/eother", flags=CreateFlags.EPHEMERAL)[0] == 0
    mine = sorted(f"{base}/{p}" for p in ("eph", "e2", "x"))
    assert _ephemerals(a, base) == mine
    # plain string prefix, not a path-component match
    assert _ephemerals(a, f"{base}/e") == sorted([f"{base}/eph", f"{base}/e2"])
    assert _ephemerals(a, f"{base}/ep") == [f"{base}/eph"]
    assert _ephemerals(a, f"{base}/nothing") == []
    assert _ephemerals(other, base) == [f"{base}/eother"]


def test_get_ephemerals_all(make_raw, base):
    a = make_raw()
    assert a.create(f"{base}/e1", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert a.create(f"{base}/e2", flags=CreateFlags.EPHEMERAL_SEQUENTIAL)[0] == 0
    expected = sorted([f"{base}/e1", f"{base}/e20000000001"])
    assert _ephemerals(a, "/") == expected
    assert _ephemerals(a, "") == expected
    assert _ephemerals(a, None) == expected


def test_get_ephemerals_none(make_raw):
    a = make_raw()
    assert _ephemerals(a, "/") == []


def test_kazoo_children(zk, node):
    zk.create(node)
    for n in ("a", "b", "c"):
        zk.create(f"{node}/{n}", n.encode())
    assert sorted(zk.get_children(node)) == ["a", "b", "c"]
    children, stat = zk.get_children(node, include_data=True)
    assert sorted(children) == ["a", "b", "c"] and stat.numChildren == 3
