"""getData / setData / exists / delete / getACL / setACL and the Stat they expose (client-protocol.md §6, §7)."""
import pytest
from kazoo.exceptions import BadVersionError, NoNodeError, NotEmptyError

from harness import raw
from harness.raw import Err, Op


def test_exists_missing_has_no_body(rc, base):
    rep = rc.call(Op.EXISTS, raw.path_watch_body(f"{base}/nope", False))
    assert rep.err == Err.NONODE and rep.body == b""


def test_get_data_missing(rc, base):
    rep = rc.call(Op.GET_DATA, raw.path_watch_body(f"{base}/nope", False))
    assert rep.err == Err.NONODE and rep.body == b""


def test_get_data_returns_data_and_same_stat_as_exists(rc, base):
    assert rc.set_data(base, b"hello")[0] == 0
    err, (data, stat) = rc.get_data(base)
    assert (err, data) == (0, b"hello")
    assert rc.exists(base) == (0, stat)
    err, (acl, stat2) = rc.get_acl(base)
    assert stat2 == stat


def test_set_data_stat_changes(rc, base):
    _, before = rc.exists(base)
    rep = rc.call(Op.SET_DATA, raw.set_data_body(base, b"abc", -1))
    assert rep.err == 0
    after = rep.r.stat()
    assert rep.r.at_end()
    assert after.mzxid == rep.zxid
    assert after.mtime >= before.mtime
    assert after.version == before.version + 1
    assert after.dataLength == 3
    assert (after.czxid, after.ctime, after.pzxid) == (before.czxid, before.ctime, before.pzxid)
    assert (after.cversion, after.aversion, after.numChildren) == \
        (before.cversion, before.aversion, before.numChildren)
    # identical data still bumps version and mzxid
    err, again = rc.set_data(base, b"abc")
    assert again.version == after.version + 1 and again.mzxid > after.mzxid


def test_set_data_with_version(rc, base):
    err, st = rc.set_data(base, b"1", version=0)
    assert err == 0 and st.version == 1
    rep = rc.call(Op.SET_DATA, raw.set_data_body(base, b"2", 0))
    assert rep.err == Err.BADVERSION and rep.body == b""
    assert rep.zxid > st.mzxid  # a failed write consumes a zxid
    err, st = rc.set_data(base, b"2", version=1)
    assert err == 0 and st.version == 2
    assert rc.get_data(base)[1][0] == b"2"


def test_set_data_missing_node(rc, base):
    rep = rc.call(Op.SET_DATA, raw.set_data_body(f"{base}/nope", b"x", -1))
    assert rep.err == Err.NONODE and rep.body == b""


def test_set_data_null_data(rc, base):
    assert rc.set_data(base, b"xyz")[0] == 0
    err, st = rc.set_data(base, None)
    assert err == 0 and st.dataLength == 0
    rep = rc.call(Op.GET_DATA, raw.path_watch_body(base, False))
    assert rep.r.int() == -1


def test_parent_stat_on_child_create_and_delete(rc, base):
    _, p0 = rc.exists(base)
    rep = rc.call(Op.CREATE, raw.create_body(f"{base}/c", b"d"))
    _, p1 = rc.exists(base)
    assert p1.cversion == p0.cversion + 1
    assert p1.numChildren == p0.numChildren + 1
    assert p1.pzxid == rep.zxid
    assert (p1.mzxid, p1.version, p1.mtime, p1.dataLength) == \
        (p0.mzxid, p0.version, p0.mtime, p0.dataLength)
    # child setData: nothing changes on the parent
    assert rc.set_data(f"{base}/c", b"other")[0] == 0
    assert rc.exists(base)[1] == p1
    rep = rc.call(Op.DELETE, raw.delete_body(f"{base}/c", -1))
    assert rep.err == 0 and rep.body == b""
    _, p2 = rc.exists(base)
    assert p2.cversion == p1.cversion + 1
    assert p2.numChildren == p1.numChildren - 1
    assert p2.pzxid == rep.zxid
    assert p2.mzxid == p0.mzxid and p2.version == p0.version


def test_cversion_exposed_formula(rc, base):
    # stored cversion counts creates; exposed = 2 * creates - numChildren
    for n in range(3):
        assert rc.create(f"{base}/{n}")[0] == 0
    assert rc.exists(base)[1].cversion == 3
    assert rc.delete(f"{base}/0") == 0
    assert rc.exists(base)[1].cversion == 4
    assert rc.delete(f"{base}/1") == 0
    st = rc.exists(base)[1]
    assert (st.cversion, st.numChildren) == (5, 1)


def test_root_stat(rc):
    err, st = rc.exists("/")
    assert err == 0
    assert (st.czxid, st.mzxid, st.ctime, st.mtime) == (0, 0, 0, 0)
    assert (st.version, st.aversion, st.ephemeralOwner) == (0, 0, 0)
    err, children = rc.get_children("/")
    assert st.numChildren == len(children)
    assert "zookeeper" in children


def test_delete_versions(rc, base):
    p = f"{base}/d"
    assert rc.create(p)[0] == 0
    assert rc.set_data(p, b"x")[0] == 0  # version 1
    rep = rc.call(Op.DELETE, raw.delete_body(p, 0))
    assert rep.err == Err.BADVERSION and rep.body == b""
    assert rc.delete(p, 5) == Err.BADVERSION
    assert rc.delete(p, 1) == 0
    assert rc.exists(p)[0] == Err.NONODE
    assert rc.create(p)[0] == 0
    assert rc.delete(p, -1) == 0


def test_delete_errors(rc, base):
    assert rc.delete(f"{base}/nope") == Err.NONODE
    assert rc.create(f"{base}/p")[0] == 0
    assert rc.create(f"{base}/p/c")[0] == 0
    z = rc.ping().zxid
    rep = rc.call(Op.DELETE, raw.delete_body(f"{base}/p", -1))
    assert rep.err == Err.NOTEMPTY
    assert rep.zxid > z  # error txn consumed a zxid
    assert rc.exists(f"{base}/p")[0] == 0


@pytest.mark.parametrize("path", ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
def test_delete_system_nodes_bad_arguments(rc, path):
    assert rc.delete(path) == Err.BADARGUMENTS
    assert rc.exists(path)[0] == 0


def test_set_acl_stat_and_versions(rc, base):
    _, before = rc.exists(base)
    acl = [raw.ACL(raw.Perm.ALL, "world", "anyone")]
    rep = rc.call(Op.SET_ACL, raw.set_acl_body(base, acl, 0))
    assert rep.err == 0
    st = rep.r.stat()
    assert rep.r.at_end()
    assert st.aversion == before.aversion + 1
    assert (st.mzxid, st.mtime, st.version, st.cversion, st.pzxid) == \
        (before.mzxid, before.mtime, before.version, before.cversion, before.pzxid)
    # version compares aversion
    rep = rc.call(Op.SET_ACL, raw.set_acl_body(base, acl, 0))
    assert rep.err == Err.BADVERSION and rep.body == b""
    assert rep.zxid > st.mzxid
    err, st2 = rc.set_acl(base, acl, version=1)
    assert err == 0 and st2.aversion == 2
    err, st3 = rc.set_acl(base, acl, version=-1)
    assert err == 0 and st3.aversion == 3
    assert rc.get_acl(base) == (0, (acl, st3))


def test_set_acl_missing(rc, base):
    assert rc.set_acl(f"{base}/nope", raw.OPEN_ACL_UNSAFE)[0] == Err.NONODE


def test_get_acl_missing(rc, base):
    rep = rc.call(Op.GET_ACL, raw.path_body(f"{base}/nope"))
    assert rep.err == Err.NONODE and rep.body == b""


def test_get_acl_layout(rc, base):
    rep = rc.call(Op.GET_ACL, raw.path_body(base))
    assert rep.err == 0
    acl = rep.r.acl()
    stat = rep.r.stat()
    assert rep.r.at_end()
    assert acl == raw.OPEN_ACL_UNSAFE
    assert stat == rc.exists(base)[1]


def test_acl_duplicates_removed(rc, base):
    acl = raw.OPEN_ACL_UNSAFE * 3
    assert rc.create(f"{base}/d", acl=acl)[0] == 0
    assert rc.get_acl(f"{base}/d")[1][0] == raw.OPEN_ACL_UNSAFE


def test_acl_perms_not_range_checked(rc, base):
    acl = [raw.ACL(99, "world", "anyone")]
    assert rc.create(f"{base}/p99", acl=acl)[0] == 0
    assert rc.get_acl(f"{base}/p99")[1][0] == acl
    acl0 = [raw.ACL(0, "world", "anyone")]
    assert rc.create(f"{base}/p0", acl=acl0)[0] == 0
    # stored verbatim, but perms 0 grants nothing: getACL needs READ or ADMIN
    assert rc.get_acl(f"{base}/p0")[0] == Err.NOAUTH
    assert rc.exists(f"{base}/p0")[0] == 0


# ---------------------------------------------------------------- kazoo

def test_kazoo_data_roundtrip(zk, node):
    zk.create(node, b"one")
    data, stat = zk.get(node)
    assert data == b"one" and stat.version == 0
    st = zk.set(node, b"two", version=0)
    assert st.version == 1
    with pytest.raises(BadVersionError):
        zk.set(node, b"three", version=0)
    with pytest.raises(BadVersionError):
        zk.delete(node, version=0)
    zk.create(f"{node}/c")
    with pytest.raises(NotEmptyError):
        zk.delete(node)
    zk.delete(node, recursive=True)
    assert zk.exists(node) is None
    with pytest.raises(NoNodeError):
        zk.get(node)
    with pytest.raises(NoNodeError):
        zk.set(node, b"x")
