"""Container and TTL nodes: creation rules and reaping (client-protocol.md §6 ops 19/21, §8, §11)."""
import pytest

from harness import raw
from harness.raw import CreateFlags, Err, EventType, Op
from harness.util import wait_until

REAPER_SETTINGS = {
    "zookeeper.extendedTypesEnabled": True,
    "znode.container.checkIntervalMs": 1000,
}
REAP_TIMEOUT = 20.0


@pytest.fixture(scope="module")
def ext_server(server_factory):
    with server_factory.running(REAPER_SETTINGS, name="extended-reaper") as srv:
        yield srv


@pytest.fixture
def ec(ext_server):
    c = raw.connect(ext_server.port)
    yield c
    c.close()


@pytest.fixture
def ebase(ec, node):
    assert ec.create(node)[0] == 0
    return node


def _gone(conn, path):
    return conn.exists(path)[0] == Err.NONODE


# ---------------------------------------------------------------- containers

def test_container_reaped_after_last_child_deleted(ec, ebase):
    c = f"{ebase}/c"
    assert ec.create(c, op=Op.CREATE_CONTAINER, flags=CreateFlags.CONTAINER)[0] == 0
    assert ec.create(f"{c}/k1")[0] == 0
    assert ec.create(f"{c}/k2")[0] == 0
    assert ec.delete(f"{c}/k1") == 0
    assert ec.exists(c)[0] == 0  # still has a child
    assert ec.exists(c, watch=True)[0] == 0
    assert ec.delete(f"{c}/k2") == 0
    ev = ec.next_event(timeout=REAP_TIMEOUT)
    assert ev == raw.WatcherEvent(EventType.NODE_DELETED, 3, c)
    assert _gone(ec, c)


def test_never_used_container_and_flag4_plain_node_not_reaped(ec, ebase):
    reaped = f"{ebase}/reaped"
    never_used = f"{ebase}/never"
    plain = f"{ebase}/plain"
    assert ec.create(never_used, op=Op.CREATE_CONTAINER, flags=4)[0] == 0
    assert ec.create(plain, flags=4)[0] == 0          # create(1) with flags 4: plain node
    assert ec.create(f"{plain}/k")[0] == 0
    assert ec.delete(f"{plain}/k") == 0
    assert ec.create(reaped, op=Op.CREATE_CONTAINER, flags=4)[0] == 0
    assert ec.create(f"{reaped}/k")[0] == 0
    assert ec.delete(f"{reaped}/k") == 0
    wait_until(lambda: _gone(ec, reaped), timeout=REAP_TIMEOUT, interval=0.1)
    # one more reaper cycle: a second real container created now must go as well
    again = f"{ebase}/again"
    assert ec.create(again, op=Op.CREATE_CONTAINER, flags=4)[0] == 0
    assert ec.create(f"{again}/k")[0] == 0
    assert ec.delete(f"{again}/k") == 0
    wait_until(lambda: _gone(ec, again), timeout=REAP_TIMEOUT, interval=0.1)
    assert ec.exists(never_used)[0] == 0
    assert ec.exists(plain)[0] == 0


def test_multi_container_create_is_reaped(ec, ebase):
    c = f"{ebase}/mc"
    err, results = ec.multi([raw.m_create(c, flags=4), raw.m_create(f"{c}/k")])
    assert err == 0
    assert [r.type for r in results] == [Op.CREATE2, Op.CREATE]
    assert results[0].value[0] == c and results[0].value[1].ephemeralOwner == 0
    assert ec.delete(f"{c}/k") == 0
    wait_until(lambda: _gone(ec, c), timeout=REAP_TIMEOUT, interval=0.1)


def test_multi_create_container_opcode_with_flags0_is_plain(ec, ebase):
    p = f"{ebase}/plain19"
    err, results = ec.multi([raw.m_create(p, flags=0, op=Op.CREATE_CONTAINER),
                             raw.m_create(f"{p}/k")])
    assert err == 0
    assert [r.type for r in results] == [Op.CREATE, Op.CREATE]
    assert ec.delete(f"{p}/k") == 0
    # a real container created after it is reaped; the plain node stays
    c = f"{ebase}/c"
    assert ec.create(c, op=Op.CREATE_CONTAINER, flags=4)[0] == 0
    assert ec.create(f"{c}/k")[0] == 0
    assert ec.delete(f"{c}/k") == 0
    wait_until(lambda: _gone(ec, c), timeout=REAP_TIMEOUT, interval=0.1)
    assert ec.exists(p)[0] == 0


# ---------------------------------------------------------------- TTL

def test_ttl_node_created_and_reaped(ec, ebase):
    t = f"{ebase}/ttl"
    err, (path, stat) = ec.create_ttl(t, ttl=500, data=b"x")
    assert err == 0 and path == t
    assert stat.ephemeralOwner == 0
    assert stat.dataLength == 1
    assert ec.exists(t, watch=True)[0] == 0
    ev = ec.next_event(timeout=REAP_TIMEOUT)
    assert ev == raw.WatcherEvent(EventType.NODE_DELETED, 3, t)


def test_ttl_node_with_child_not_reaped_until_empty(ec, ebase):
    t = f"{ebase}/ttlp"
    assert ec.create_ttl(t, ttl=300)[0] == 0
    assert ec.create(f"{t}/k")[0] == 0
    # a plain TTL sibling gets reaped in the meantime ...
    s = f"{ebase}/ttls"
    assert ec.create_ttl(s, ttl=300)[0] == 0
    wait_until(lambda: _gone(ec, s), timeout=REAP_TIMEOUT, interval=0.1)
    # ... but the parent with a child is still there
    assert ec.exists(t)[0] == 0
    assert ec.delete(f"{t}/k") == 0
    wait_until(lambda: _gone(ec, t), timeout=REAP_TIMEOUT, interval=0.1)


def test_sequential_ttl(ec, ebase):
    err, (path, stat) = ec.create_ttl(f"{ebase}/s-", ttl=60000,
                                      flags=CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL)
    assert err == 0 and path == f"{ebase}/s-0000000000"
    assert stat.ephemeralOwner == 0


def test_ttl_max_value_accepted(ec, ebase):
    assert ec.create_ttl(f"{ebase}/max", ttl=raw.MAX_TTL)[0] == 0


@pytest.mark.parametrize("ttl", [0, -1, 1 << 40])
def test_ttl_out_of_range_bad_arguments(ec, ebase, ttl):
    assert ec.create_ttl(f"{ebase}/bad", ttl=ttl)[0] == Err.BADARGUMENTS
    assert ec.create_ttl(f"{ebase}/bad", ttl=ttl,
                         flags=CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL)[0] == Err.BADARGUMENTS
    assert _gone(ec, f"{ebase}/bad")


@pytest.mark.parametrize("flags", [0, 1, 2, 4])
def test_ttl_opcode_with_non_ttl_flags_bad_arguments(ec, ebase, flags):
    # (only ttl >= 0 here: 3.8.0 crashes on a non-TTL mode with a negative ttl)
    assert ec.create_ttl(f"{ebase}/bad", ttl=1000, flags=flags)[0] == Err.BADARGUMENTS
    assert _gone(ec, f"{ebase}/bad")


@pytest.mark.parametrize("flags", [5, 6])
@pytest.mark.parametrize("op", [Op.CREATE, Op.CREATE2])
def test_ttl_flags_on_plain_create_bad_arguments_when_enabled(ec, ebase, flags, op):
    assert ec.create(f"{ebase}/bad", flags=flags, op=op)[0] == Err.BADARGUMENTS


def test_ttl_in_multi(ec, ebase):
    body = raw.create_ttl_body(f"{ebase}/mt", b"", raw.OPEN_ACL_UNSAFE, 5, 60000)
    err, results = ec.multi([(Op.CREATE_TTL, body)])
    assert err == 0
    assert len(results) == 1 and results[0].type == Op.CREATE2
    path, stat = results[0].value
    assert path == f"{ebase}/mt" and stat.ephemeralOwner == 0


def test_ttl_flags_in_multi_create_is_marshalling_error(ec, ebase):
    rep = ec.call(Op.MULTI, raw.multi_body([raw.m_create(f"{ebase}/x", flags=5)]))
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert _gone(ec, f"{ebase}/x")


# ---------------------------------------------------------------- extended types disabled

@pytest.mark.parametrize("flags", [5, 6])
def test_create_ttl_unimplemented_when_disabled(rc, base, flags):
    assert rc.create_ttl(f"{base}/t", ttl=1000, flags=flags)[0] == Err.UNIMPLEMENTED
    assert rc.exists(f"{base}/t")[0] == Err.NONODE
    assert rc.exists("/")[0] == 0  # connection stays open
