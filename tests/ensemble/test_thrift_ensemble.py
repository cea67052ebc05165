"""frontend.thrift on a 3-member ZAB ensemble: a Thrift client on one member and kazoo clients on
the others share one tree, its ephemerals, watches and ACLs; a Thrift session re-attaches on
another member and outlives its member's kill -9.

Corral only (the Thrift port is Corral's). Two shapes: every member Corral (Thrift on each),
and mixed, with the Thrift client on the Corral member of an ensemble led by ZooKeeper, whose
kazoo clients talk to the ZooKeeper members: Thrift sessions, writes and watches then cross the
quorum protocol too.
"""
import pytest

from harness.servers import free_port
from harness.thrift_client import T, close_quietly, needs_thrift, new_client
from harness.util import wait_until

pytestmark = [pytest.mark.corral_only, needs_thrift]

SHAPES = [
    pytest.param(["corral", "corral", "corral"], id="CCC"),
    pytest.param(["corral", "zookeeper", "zookeeper"], id="Czz-thrift-on-corral", marks=pytest.mark.mixed),
]


def thrift_ensemble(make_ensemble, shape):
    """The ensemble (ZooKeeper leads the mixed one), its Corral members serving Thrift too."""
    member_settings = {sid: {"frontends": "jute,thrift", "thrift.port": free_port(),
                             "thrift.address": "127.0.0.1"}
                       for sid, impl in enumerate(shape, 1) if impl == "corral"}
    leader = 3 if shape[2] == "zookeeper" else None
    return make_ensemble(shape, member_settings=member_settings, leader_sid=leader)


def corral_members(ens):
    return [m for m in ens if m.impl == "corral"]


@pytest.mark.parametrize("shape", SHAPES)
def test_thrift_and_kazoo_share_ephemerals_watches_and_acls(make_ensemble, shape):
    ens = thrift_ensemble(make_ensemble, shape)
    thrift_member = corral_members(ens)[-1]
    others = [m for m in ens if m is not thrift_member]
    th = new_client(thrift_member)
    kz = ens.client(others[0])
    try:
        # A Thrift ephemeral, seen through another member by kazoo.
        eph = th.create("/th-eph", b"t", mode=T.tt.CreateMode.EPHEMERAL).path
        kz.sync("/th-eph")
        assert kz.get(eph)[1].ephemeralOwner == th.session_id

        # kazoo's write through another member fires the Thrift client's watch; the event comes
        # before (in) the reply that shows the change.
        kz.create("/shared", b"v0")
        th.sync("/shared")
        assert th.get_data("/shared", watch=True).data == b"v0"
        kz.set("/shared", b"v1")
        th.take_events()
        wait_until(lambda: th.get_data("/shared").data == b"v1", timeout=10)
        events = th.take_events()
        assert [(e.type, e.path) for e in events] == [(T.tt.EventType.NODE_DATA_CHANGED, "/shared")]

        # The Thrift client's write fires kazoo's watch.
        fired = []
        kz.get("/shared", watch=fired.append)
        th.set_data("/shared", b"v2")
        wait_until(lambda: fired, timeout=10, message="kazoo's watch did not fire")
        assert fired[0].path == "/shared" and fired[0].type == "CHANGED"

        # ACLs and auth identities hold across protocols and members.
        kz.add_auth("digest", "alice:secret")
        from kazoo.security import make_digest_acl
        kz.create("/alice", b"private", acl=[make_digest_acl("alice", "secret", all=True)])
        th.sync("/alice")
        with pytest.raises(T.ZkError) as info:
            th.get_data("/alice")
        assert info.value.code == T.tt.ErrorCode.NOAUTH and info.value.path == "/alice"
        th.add_auth("digest", b"alice:secret")
        assert th.get_data("/alice").data == b"private"

        # Closing the Thrift session removes its ephemeral everywhere.
        th.close()
        wait_until(lambda: kz.exists(eph) is None, timeout=10, message="the Thrift ephemeral outlived its session")
    finally:
        close_quietly(th)


@pytest.mark.parametrize("shape", SHAPES[:1])
def test_thrift_session_moves_to_another_member_and_survives_a_kill(make_ensemble, shape):
    """A Thrift session opened on one member re-attaches on another with its id and password
    (its ephemeral stays), then its first member is killed -9: the session lives on."""
    ens = thrift_ensemble(make_ensemble, shape)
    first, second = corral_members(ens)[:2]
    th = new_client(first, timeout_ms=10000)
    try:
        eph = th.create("/moving", b"", mode=T.tt.CreateMode.EPHEMERAL).path
        session, zxid = th.session_id, th.last_zxid
        th.drop_connection()
        moved = T.CorralClient("127.0.0.1", second.settings["thrift.port"], timeout_ms=10000)
        moved.session_id, moved.password, moved.last_zxid = session, th.password, zxid
        moved.reattach()
        assert moved.session_id == session
        # It has seen its own create: the member it moved to answers at least that zxid.
        assert moved.exists(eph).stat.ephemeralOwner == session
        ens.kill9(first)
        kz = ens.client([m for m in ens if m is not first])
        assert kz.exists(eph).ephemeralOwner == session
        moved.set_data(eph, b"still here")
        assert moved.get_data(eph).data == b"still here"
        moved.close()
        wait_until(lambda: kz.exists(eph) is None, timeout=10)
    finally:
        close_quietly(th)
