"""zookeeper.enforce.auth.enabled / enforce.auth.schemes: a connection must authenticate with
one of the enforced schemes before anything else; otherwise its first request is answered
with SessionClosedRequireSaslAuth (-124, zxid 0) and the connection is closed."""
import pytest
from kazoo.client import KazooClient

from harness import raw
from harness.raw import Err, Op, Xid

ENFORCED = {"zookeeper.enforce.auth.enabled": "true", "zookeeper.enforce.auth.schemes": "digest"}


@pytest.fixture(scope="module")
def enforced(server_factory):
    with server_factory.running(ENFORCED, name="enforced") as srv:
        yield srv


def test_unauthenticated_request_is_refused_and_connection_closed(enforced, make_raw):
    c = make_raw(srv=enforced)
    rep = c.call(Op.GET_DATA, raw.path_watch_body("/", False))
    assert rep.header.err == Err.SESSIONCLOSEDREQUIRESASLAUTH
    assert rep.header.zxid == 0
    assert c.is_closed()


def test_ping_is_refused_too(enforced, make_raw):
    c = make_raw(srv=enforced)
    rep = c.call(Op.PING, b"", xid=Xid.PING)
    assert rep.header.err == Err.SESSIONCLOSEDREQUIRESASLAUTH
    assert c.is_closed()


def test_authenticated_connection_works(enforced, make_raw):
    c = make_raw(srv=enforced)
    rep = c.call(Op.AUTH, raw.auth_body("digest", "user:pass"), xid=Xid.AUTH)
    assert rep.header.err == 0
    err, _ = c.get_data("/")
    assert err == 0


def test_other_scheme_does_not_count(enforced, make_raw):
    c = make_raw(srv=enforced)
    rep = c.call(Op.AUTH, raw.auth_body("ip", ""), xid=Xid.AUTH)
    assert rep.header.err == 0
    err, _ = c.get_data("/")
    assert err == Err.SESSIONCLOSEDREQUIRESASLAUTH


def test_kazoo_with_auth_data(enforced):
    zk = KazooClient(hosts=enforced.hosts, auth_data=[("digest", "u:p")], timeout=10)
    zk.start(timeout=15)
    try:
        zk.create("/enforced-ok", b"x")
        assert zk.get("/enforced-ok")[0] == b"x"
        zk.delete("/enforced-ok")
    finally:
        zk.stop()
