"""create / create2 / createContainer: modes, sequential numbering, errors (client-protocol.md §6, §7, §11)."""
import pytest
from kazoo.exceptions import (NodeExistsError, NoChildrenForEphemeralsError, NoNodeError)

from harness import raw
from harness.raw import CreateFlags, Err, Op


def test_create_returns_path_and_node_is_readable(rc, base):
    rep = rc.call(Op.CREATE, raw.create_body(f"{base}/a", b"data"))
    assert rep.err == 0
    assert rep.r.string() == f"{base}/a"
    assert rep.r.at_end()
    err, (data, stat) = rc.get_data(f"{base}/a")
    assert data == b"data"
    assert stat.czxid == stat.mzxid == stat.pzxid
    assert stat.czxid <= rep.zxid


def test_create2_returns_path_and_stat(rc, base):
    rep = rc.call(Op.CREATE2, raw.create_body(f"{base}/a", b"xyz"))
    assert rep.err == 0
    path, stat = rep.r.string(), rep.r.stat()
    assert rep.r.at_end()
    assert path == f"{base}/a"
    assert stat.czxid == stat.mzxid == stat.pzxid == rep.zxid
    assert stat.ctime == stat.mtime and stat.ctime > 0
    assert (stat.version, stat.cversion, stat.aversion) == (0, 0, 0)
    assert stat.ephemeralOwner == 0
    assert (stat.dataLength, stat.numChildren) == (3, 0)
    assert rc.exists(f"{base}/a") == (0, stat)


def test_create_reply_zxid_advances(rc, base):
    z1 = rc.call(Op.CREATE, raw.create_body(f"{base}/a")).zxid
    z2 = rc.call(Op.CREATE, raw.create_body(f"{base}/b")).zxid
    assert z2 > z1


def test_null_and_empty_data(rc, base):
    assert rc.create(f"{base}/null", None)[0] == 0
    assert rc.create(f"{base}/empty", b"")[0] == 0
    rep = rc.call(Op.GET_DATA, raw.path_watch_body(f"{base}/null", False))
    assert rep.r.int() == -1  # null buffer
    assert rep.r.stat().dataLength == 0
    rep = rc.call(Op.GET_DATA, raw.path_watch_body(f"{base}/empty", False))
    assert rep.r.int() == 0
    assert rep.r.stat().dataLength == 0


def test_ephemeral_owner_is_session(rc, base):
    err, (path, stat) = rc.create(f"{base}/e", flags=CreateFlags.EPHEMERAL, op=Op.CREATE2)
    assert err == 0 and stat.ephemeralOwner == rc.session_id
    err, (path, stat) = rc.create(f"{base}/es-", flags=CreateFlags.EPHEMERAL_SEQUENTIAL,
                                  op=Op.CREATE2)
    assert err == 0 and stat.ephemeralOwner == rc.session_id
    assert path == f"{base}/es-0000000001"


def test_missing_parent_is_no_node(rc, base):
    for flags in (0, 1, 2, 3):
        assert rc.create(f"{base}/missing/x", flags=flags)[0] == Err.NONODE


def test_existing_node_is_node_exists(rc, base):
    assert rc.create(f"{base}/a")[0] == 0
    assert rc.create(f"{base}/a")[0] == Err.NODEEXISTS
    assert rc.create(f"{base}/a", flags=CreateFlags.EPHEMERAL)[0] == Err.NODEEXISTS
    assert rc.create(f"{base}/a", op=Op.CREATE2)[0] == Err.NODEEXISTS


def test_failed_create_consumes_zxid(rc, base):
    z1 = rc.call(Op.CREATE, raw.create_body(f"{base}/a")).zxid
    rep = rc.call(Op.CREATE, raw.create_body(f"{base}/a"))
    assert rep.err == Err.NODEEXISTS and rep.body == b""
    assert rep.zxid > z1
    rep2 = rc.call(Op.CREATE, raw.create_body(f"{base}/nope/x"))
    assert rep2.err == Err.NONODE and rep2.zxid > rep.zxid


def test_children_of_ephemeral_rejected(rc, base):
    assert rc.create(f"{base}/e", flags=CreateFlags.EPHEMERAL)[0] == 0
    for flags in (0, 1, 2, 3):
        assert rc.create(f"{base}/e/c", flags=flags)[0] == Err.NOCHILDRENFOREPHEMERALS
    assert rc.create(f"{base}/e/c", op=Op.CREATE_CONTAINER, flags=4)[0] == \
        Err.NOCHILDRENFOREPHEMERALS


@pytest.mark.parametrize("flags", [7, 8, -1, 100])
def test_invalid_flags_bad_arguments(rc, base, flags):
    assert rc.create(f"{base}/x", flags=flags)[0] == Err.BADARGUMENTS
    assert rc.create(f"{base}/x", flags=flags, op=Op.CREATE2)[0] == Err.BADARGUMENTS
    assert rc.exists(f"{base}/x")[0] == Err.NONODE


@pytest.mark.parametrize("flags", [5, 6])
@pytest.mark.parametrize("op", [Op.CREATE, Op.CREATE2])
def test_ttl_flags_without_extended_types_unimplemented(rc, base, flags, op):
    assert rc.create(f"{base}/x", flags=flags, op=op)[0] == Err.UNIMPLEMENTED
    assert rc.exists(f"{base}/x")[0] == Err.NONODE


def test_sequential_numbering_example(rc, base):
    """The worked example of client-protocol.md §11."""
    a = f"{base}/a"
    assert rc.create(a)[0] == 0
    S = CreateFlags.PERSISTENT_SEQUENTIAL
    assert rc.create(f"{a}/s-", flags=S) == (0, f"{a}/s-0000000000")
    assert rc.create(f"{a}/s-", flags=S) == (0, f"{a}/s-0000000001")
    assert rc.create(f"{a}/", flags=S) == (0, f"{a}/0000000002")
    assert rc.create(f"{a}/x") == (0, f"{a}/x")
    assert rc.create(f"{a}/s-", flags=CreateFlags.EPHEMERAL_SEQUENTIAL) == (0, f"{a}/s-0000000004")
    assert rc.delete(f"{a}/x") == 0
    assert rc.create(f"{a}/s-", flags=S) == (0, f"{a}/s-0000000005")
    err, stat = rc.exists(a)
    assert stat.cversion == 7
    assert stat.numChildren == 5


def test_sequential_counter_after_create_and_delete(rc, base):
    """A parent with 2 creates and 2 deletes shows cversion 4 and hands out suffix 2."""
    p = f"{base}/p"
    assert rc.create(p)[0] == 0
    for n in ("a", "b"):
        assert rc.create(f"{p}/{n}")[0] == 0
    for n in ("a", "b"):
        assert rc.delete(f"{p}/{n}") == 0
    assert rc.exists(p)[1].cversion == 4
    assert rc.create(f"{p}/q", flags=CreateFlags.PERSISTENT_SEQUENTIAL) == (0, f"{p}/q0000000002")


def test_failed_create_does_not_advance_counter(rc, base):
    p = f"{base}/p"
    assert rc.create(p)[0] == 0
    assert rc.create(f"{p}/x")[0] == 0
    assert rc.create(f"{p}/x")[0] == Err.NODEEXISTS
    assert rc.create(f"{p}/s", flags=CreateFlags.PERSISTENT_SEQUENTIAL) == (0, f"{p}/s0000000001")


def test_sequential_collision(rc, base):
    p = f"{base}/p"
    assert rc.create(p)[0] == 0
    assert rc.create(f"{p}/t0000000001")[0] == 0  # plain create: counter 0 -> 1
    S = CreateFlags.PERSISTENT_SEQUENTIAL
    assert rc.create(f"{p}/t", flags=S)[0] == Err.NODEEXISTS  # t0000000001 exists
    assert rc.create(f"{p}/t", flags=S)[0] == Err.NODEEXISTS  # counter did not move
    assert rc.create(f"{p}/u", flags=S) == (0, f"{p}/u0000000001")  # other prefix: fine
    assert rc.create(f"{p}/t", flags=S) == (0, f"{p}/t0000000002")


def test_sequential_suffix_on_dot_prefixes(rc, base):
    p = f"{base}/p"
    assert rc.create(p)[0] == 0
    S = CreateFlags.PERSISTENT_SEQUENTIAL
    assert rc.create(f"{p}/.", flags=S) == (0, f"{p}/.0000000000")
    assert rc.create(f"{p}/..", flags=S) == (0, f"{p}/..0000000001")


def test_create_container_opcode_flags(rc, base):
    """Container-ness comes from opcode 19; flags 1 does not make it ephemeral, flags 2 adds
    a suffix; exposed ephemeralOwner of a container is 0."""
    rep = rc.call(Op.CREATE_CONTAINER, raw.create_body(f"{base}/c4", b"", raw.OPEN_ACL_UNSAFE, 4))
    assert rep.err == 0
    path, stat = rep.r.string(), rep.r.stat()  # Create2Response
    assert rep.r.at_end()
    assert path == f"{base}/c4" and stat.ephemeralOwner == 0
    err, (path, stat) = rc.create(f"{base}/c1", flags=1, op=Op.CREATE_CONTAINER)
    assert err == 0 and stat.ephemeralOwner == 0
    err, (path, stat) = rc.create(f"{base}/c2-", flags=2, op=Op.CREATE_CONTAINER)
    assert err == 0 and path == f"{base}/c2-0000000002"
    err, (path, stat) = rc.create(f"{base}/c0", flags=0, op=Op.CREATE_CONTAINER)
    assert err == 0 and stat.ephemeralOwner == 0


def test_create_container_flags1_survives_session_close(server, make_raw, base):
    a = make_raw()
    assert a.create(f"{base}/c", flags=1, op=Op.CREATE_CONTAINER)[0] == 0
    a.close_session()
    b = make_raw()
    assert b.exists(f"{base}/c")[0] == 0


def test_create_with_container_flag_is_plain_node(rc, base):
    err, path = rc.create(f"{base}/c", flags=4)
    assert (err, path) == (0, f"{base}/c")
    err, (path, stat) = rc.create(f"{base}/c2", flags=4, op=Op.CREATE2)
    assert err == 0 and stat.ephemeralOwner == 0


def test_zookeeper_node_rules(rc):
    assert rc.create("/zookeeper")[0] == Err.NODEEXISTS
    assert rc.create("/zookeeper/corral-it-x") == (0, "/zookeeper/corral-it-x")
    assert rc.delete("/zookeeper/corral-it-x") == 0


def test_builtin_nodes(rc):
    err, children = rc.get_children("/zookeeper")
    assert err == 0 and sorted(children) == ["config", "quota"]
    err, (data, stat) = rc.get_data("/zookeeper/config")
    assert err == 0
    err, (acl, stat) = rc.get_acl("/zookeeper/config")
    assert acl == [raw.ACL(raw.Perm.READ, "world", "anyone")]
    err, (acl, stat) = rc.get_acl("/zookeeper")
    assert acl == raw.OPEN_ACL_UNSAFE


# ---------------------------------------------------------------- through kazoo

def test_kazoo_create_variants(zk, node):
    assert zk.create(node, b"v") == node
    with pytest.raises(NodeExistsError):
        zk.create(node)
    with pytest.raises(NoNodeError):
        zk.create(f"{node}/a/b")
    assert zk.create(f"{node}/a/b", b"deep", makepath=True) == f"{node}/a/b"
    assert zk.get(f"{node}/a/b")[0] == b"deep"
    p1 = zk.create(f"{node}/q-", sequence=True)
    p2 = zk.create(f"{node}/q-", sequence=True)
    assert p1 == f"{node}/q-0000000001" and p2 == f"{node}/q-0000000002"
    e = zk.create(f"{node}/eph", ephemeral=True)
    with pytest.raises(NoChildrenForEphemeralsError):
        zk.create(f"{e}/child")
    path, stat = zk.create(f"{node}/withstat", b"12", include_data=True)
    assert path == f"{node}/withstat" and stat.dataLength == 2 and stat.version == 0


def test_pipelined_sequential_creates_under_the_root(make_zk):
    """Four sequential creates directly under "/", pipelined with kazoo's async API as a new
    user would, get four consecutive names, and the root's cversion/pzxid follow them.
    (Corral once named two of them alike and answered NodeExists.)"""
    zk = make_zk()
    before = zk.exists("/")
    prefix = f"/pipelined-root-{before.cversion}-"
    pending = [zk.create_async(prefix, b"", sequence=True) for _ in range(4)]
    names = [p.get(timeout=10) for p in pending]
    try:
        counters = [int(name[len(prefix):]) for name in names]
        assert counters == list(range(counters[0], counters[0] + 4)), names
        after = zk.exists("/")
        assert after.cversion == before.cversion + 4
        assert after.pzxid == zk.exists(names[-1]).czxid
    finally:
        for name in names:
            zk.delete(name)
