"""frontend.thrift next to frontend.jute: one tree, one set of sessions, watches and ACLs.

A real ZooKeeper client (kazoo) and a peer share the server. The peer is a Thrift client
("thrift", Corral only) or, for the reference run, a second ZooKeeper-protocol client
("jute", any --impl): the assertions are the same, so the reference run proves they describe
ZooKeeper. The server ticks every 200 ms so that a 600 ms session expires within a second.
"""
import threading

import pytest
from kazoo.protocol.states import EventType as KzEventType
from kazoo.security import make_digest_acl

from harness import raw
from harness.raw import ACL, CreateFlags, Err, EventType, Perm
from harness.thrift_client import (ADAPTERS, MultiFail, ZkFail, clients, ev, kind, op_check,  # noqa: F401
                                   op_create, server_fixture, start_server_for)
from harness.util import wait_until

# The front ends' own tests: whatever the storage (skipped in the --storage rocksdb run).
pytestmark = pytest.mark.frontend_only

FAST = {"tickTime": 200, "minSessionTimeout": 600, "maxSessionTimeout": 20000}
ALICE = ("alice", "alice-secret")


srv = server_fixture(FAST, "thrift-cross")


@pytest.fixture
def peer(kind, srv, clients):
    return clients(kind, srv)


@pytest.fixture(scope="module")
def server(srv):
    """conftest's make_zk connects kazoo clients to this module's server."""
    return srv


@pytest.fixture
def kz(make_zk):
    return make_zk()


@pytest.fixture
def base(kz, node):
    kz.create(node, b"")
    return node


class KzWatch:
    """Collects kazoo watch callbacks (they run on kazoo's event thread)."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def __call__(self, event):
        with self.cond:
            self.events.append((event.type, event.path))
            self.cond.notify_all()

    def wait(self, n=1, timeout=10.0):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.events) >= n, timeout), self.events
            return list(self.events)


# ---------------------------------------------------------------- one tree, one set of sessions

def test_kazoo_ephemeral_seen_by_peer(kz, peer, base):
    kz.create(f"{base}/k", b"from kazoo", ephemeral=True)
    data, st = peer.get_data(f"{base}/k")
    assert data == b"from kazoo"
    assert st.ephemeralOwner == kz.client_id[0]
    assert peer.get_children(base)[0] == ["k"]
    assert peer.get_ephemerals(base) == []  # not the peer's


def test_peer_ephemeral_seen_by_kazoo(kz, peer, base):
    peer.create(f"{base}/p", b"from peer", mode=CreateFlags.EPHEMERAL)
    data, st = kz.get(f"{base}/p")
    assert data == b"from peer"
    assert st.ephemeralOwner == peer.session_id
    peer.close()
    assert kz.exists(f"{base}/p") is None


def test_kazoo_session_close_removes_its_ephemerals_for_peer(make_zk, peer, base):
    k = make_zk()
    k.create(f"{base}/k", ephemeral=True)
    assert peer.exists(f"{base}/k", watch=True) is not None
    k.stop()
    assert peer.wait_events(1) == [ev(EventType.NODE_DELETED, f"{base}/k")]
    assert peer.exists(f"{base}/k") is None


def test_peer_session_expiry_removes_its_ephemerals_for_kazoo(kind, srv, clients, kz, base):
    p = clients(kind, srv, timeout_ms=600)
    p.create(f"{base}/e", mode=CreateFlags.EPHEMERAL)
    w = KzWatch()
    assert kz.exists(f"{base}/e", watch=w) is not None
    p.drop()
    assert w.wait(1, timeout=15) == [(KzEventType.DELETED, f"{base}/e")]
    assert kz.exists(f"{base}/e") is None


def test_sequence_counter_is_shared(kz, peer, base):
    assert kz.create(f"{base}/s-", sequence=True) == f"{base}/s-0000000000"
    assert peer.create(f"{base}/s-", mode=CreateFlags.PERSISTENT_SEQUENTIAL)[0] == f"{base}/s-0000000001"
    assert kz.create(f"{base}/s-", sequence=True) == f"{base}/s-0000000002"


def test_multi_both_ways(kz, peer, base):
    t = kz.transaction()
    t.create(f"{base}/a", b"1")
    t.create(f"{base}/b", b"2")
    t.commit()
    assert peer.get_children(base)[0] == ["a", "b"]
    with pytest.raises(MultiFail) as info:
        peer.multi([op_create(f"{base}/c"), op_check(f"{base}/a", 5)])
    assert (info.value.code, info.value.index) == (Err.BADVERSION, 1)
    assert kz.exists(f"{base}/c") is None
    peer.multi([op_create(f"{base}/c", b"3"), op_check(f"{base}/a", 0)])
    assert kz.get(f"{base}/c")[0] == b"3"


# ---------------------------------------------------------------- watches across protocols

def test_kazoo_writes_fire_peer_watches(kz, peer, base):
    peer.get_data(base, watch=True)
    assert peer.exists(f"{base}/n", watch=True) is None
    peer.get_children(base, watch=True)
    kz.set(base, b"x")
    kz.create(f"{base}/n")
    got = peer.wait_events(3)
    assert sorted(got) == sorted([ev(EventType.NODE_DATA_CHANGED, base),
                                  ev(EventType.NODE_CREATED, f"{base}/n"),
                                  ev(EventType.NODE_CHILDREN_CHANGED, base)])
    # and the peer sees the change once it has the events
    assert peer.get_data(base)[0] == b"x"


def test_peer_writes_fire_kazoo_watches(kz, peer, base):
    data_w, child_w, exist_w = KzWatch(), KzWatch(), KzWatch()
    kz.get(base, watch=data_w)
    kz.get_children(base, watch=child_w)
    assert kz.exists(f"{base}/n", watch=exist_w) is None
    peer.set_data(base, b"y")
    peer.create(f"{base}/n", b"")
    assert data_w.wait() == [(KzEventType.CHANGED, base)]
    assert child_w.wait() == [(KzEventType.CHILD, base)]
    assert exist_w.wait() == [(KzEventType.CREATED, f"{base}/n")]
    assert kz.get(base)[0] == b"y"


# ---------------------------------------------------------------- ACLs and identities

def test_kazoo_digest_acl_is_enforced_on_peer(make_zk, peer, base):
    owner = make_zk(auth_data=[("digest", "%s:%s" % ALICE)])
    p = f"{base}/alice"
    owner.create(p, b"secret", acl=[make_digest_acl(*ALICE, all=True)])
    for call in (lambda: peer.get_data(p), lambda: peer.set_data(p, b"x"),
                 lambda: peer.get_children(p), lambda: peer.create(f"{p}/kid")):
        with pytest.raises(ZkFail) as info:
            call()
        assert info.value.code == Err.NOAUTH
    peer.add_auth("digest", "alice:not-the-password")
    with pytest.raises(ZkFail) as info:
        peer.get_data(p)
    assert info.value.code == Err.NOAUTH
    peer.add_auth("digest", "%s:%s" % ALICE)
    assert peer.get_data(p)[0] == b"secret"
    assert peer.get_acl(p)[0] == [ACL(Perm.ALL, "digest", raw.digest_id(*ALICE))]
    # what the peer writes now, kazoo's owner reads
    peer.set_data(p, b"changed by peer")
    assert owner.get(p)[0] == b"changed by peer"


def test_peer_creator_acl_is_enforced_on_kazoo(make_zk, peer, base):
    peer.add_auth("digest", "%s:%s" % ALICE)
    p = f"{base}/mine"
    peer.create(p, b"m", acl=raw.CREATOR_ALL_ACL)
    from kazoo.exceptions import NoAuthError
    stranger = make_zk()
    with pytest.raises(NoAuthError):
        stranger.get(p)
    alice = make_zk(auth_data=[("digest", "%s:%s" % ALICE)])
    assert alice.get(p)[0] == b"m"


def test_ip_acls_see_the_peer_address(kz, peer, base):
    kz.create(f"{base}/local", b"l", acl=[make_acl("ip", "127.0.0.1")])
    kz.create(f"{base}/net", b"n", acl=[make_acl("ip", "127.0.0.0/8")])
    kz.create(f"{base}/far", b"f", acl=[make_acl("ip", "10.0.0.0/8")])
    assert peer.get_data(f"{base}/local")[0] == b"l"
    assert peer.get_data(f"{base}/net")[0] == b"n"
    with pytest.raises(ZkFail) as info:
        peer.get_data(f"{base}/far")
    assert info.value.code == Err.NOAUTH


def make_acl(scheme, ident):
    from kazoo.security import make_acl as kz_make_acl
    return kz_make_acl(scheme, ident, all=True)


def test_whoami_identities_match_a_zookeeper_client(kind, srv, clients):
    """The peer's identities are those a ZooKeeper-protocol client on the same host has."""
    zk_client, p = clients("jute", srv), clients(kind, srv)
    assert p.whoami() == zk_client.whoami() == [("ip", "127.0.0.1")]
    for c in (zk_client, p):
        c.add_auth("digest", "%s:%s" % ALICE)
        c.add_auth("digest", "bob:bob-secret")
    assert p.whoami() == zk_client.whoami() == [("digest", "alice"), ("digest", "bob"),
                                                ("ip", "127.0.0.1")]


def test_sync_then_read_sees_kazoo_write(kz, peer, base):
    kz.set(base, b"latest")
    assert peer.sync(base) == base
    assert peer.get_data(base)[0] == b"latest"
    wait_until(lambda: peer.exists(base).version == 1, timeout=5)


# ---------------------------------------------------------------- TLS

@pytest.mark.corral_only
def test_thrift_tls_has_the_x509_identity_of_the_secure_client_port(server_factory, tmp_path_factory,
                                                                    node):
    """Corral only (Thrift): thrift.secure serves TLS with the server's ssl.* context: the
    same client certificate gives the same x509 identity, and so the same ACL rights, on the
    Thrift port as on secureClientPort. Also exercises CorralClient(ssl_context=...)."""
    from harness.thrift_client import require_thrift, thrift_settings
    require_thrift()
    from harness.thrift_client import T
    from test_tls import TlsRaw, client_context, secure_port, tls_settings, who_am_i
    from tls_certs import CertificateSet
    certs = CertificateSet(str(tmp_path_factory.mktemp("thrift-tls-certs")))
    settings = tls_settings("corral", certs)
    settings.update(thrift_settings(**{"thrift.secure": True}))
    s = server_factory.start(settings, name="thrift-tls")
    try:
        ctx = client_context(certs, certs.client_a)
        wait_until(lambda: _tls_open(s, ctx), timeout=20, interval=0.1)
        cl = T.CorralClient("127.0.0.1", settings["thrift.port"], ssl_context=ctx)
        cl.open()
        ids = sorted((i.authScheme, i.user) for i in cl.whoami().identities)
        jute = TlsRaw(secure_port(s), client_context(certs, certs.client_a))
        jute.handshake()
        assert ids == who_am_i(jute)
        assert ("x509", certs.client_a.subject) in ids
        # a node only client_a may read, created over jute/TLS, is readable over Thrift/TLS
        assert jute.create(node, b"x509", acl=[(raw.Perm.ALL, "x509", certs.client_a.subject)])[0] == 0
        assert cl.get_data(node).data == b"x509"
        other = T.CorralClient("127.0.0.1", settings["thrift.port"],
                               ssl_context=client_context(certs, certs.client_b))
        other.open()
        with pytest.raises(T.ZkError) as info:
            other.get_data(node)
        assert info.value.code == Err.NOAUTH
        other.close()
        cl.close()
        jute.end_session()
        # without a client certificate (ssl.clientAuth=need) there is no session
        bare = T.CorralClient("127.0.0.1", settings["thrift.port"], ssl_context=client_context(certs),
                              io_timeout_ms=5000)
        with pytest.raises(Exception):
            bare.open()
        bare.drop_connection()
    finally:
        server_factory.stop(s)


def _tls_open(srv, ctx):
    from harness.thrift_client import T
    c = T.CorralClient("127.0.0.1", srv.settings["thrift.port"], ssl_context=ctx, io_timeout_ms=2000)
    try:
        c.open()
        c.close()
        return True
    except Exception:
        c.drop_connection()
        return False
