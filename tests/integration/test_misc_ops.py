"""ping, sync, sasl, reconfig, standalone check, reply zxids (client-protocol.md §3, §5, §6)."""
import socket
import struct

import pytest

from harness import raw
from harness.raw import Err, Op, Xid


def test_ping_reply(rc, base):
    rep = rc.call(Op.CREATE, raw.create_body(f"{base}/a"))
    ping = rc.ping()
    assert (ping.xid, ping.err) == (Xid.PING, 0)
    assert ping.body == b""
    assert ping.zxid == rep.zxid  # last processed zxid


def test_reads_carry_last_processed_zxid(rc, base):
    rep = rc.call(Op.SET_DATA, raw.set_data_body(base, b"x", -1))
    for op, body in [(Op.EXISTS, raw.path_watch_body(base, False)),
                     (Op.GET_DATA, raw.path_watch_body(base, False)),
                     (Op.GET_CHILDREN, raw.path_watch_body(base, False)),
                     (Op.GET_ACL, raw.path_body(base)),
                     (Op.EXISTS, raw.path_watch_body(f"{base}/missing", False))]:
        assert rc.call(op, body).zxid == rep.zxid


def test_sync(rc, base):
    z = rc.ping().zxid
    rep = rc.call(Op.SYNC, raw.path_body(base))
    assert rep.err == 0
    assert rep.r.string() == base and rep.r.at_end()
    assert rep.zxid >= z


def test_sasl_without_sasl_configured(rc):
    rep = rc.call(Op.SASL, raw.Writer().buffer(b"token").bytes(), xid=9)
    assert (rep.xid, rep.zxid, rep.err) == (9, 0, 0)
    assert rep.body == b"\xff\xff\xff\xff"  # null token
    assert rc.exists("/")[0] == 0


def test_reconfig_disabled(rc):
    rep = rc.call(Op.RECONFIG, raw.reconfig_body("server.2=127.0.0.1:2888:3888", "", "", -1))
    assert rep.err == Err.RECONFIGDISABLED and rep.body == b""
    assert rc.exists("/")[0] == 0


def test_get_config_node(rc):
    err, (data, stat) = rc.get_data("/zookeeper/config")
    assert err == 0
    assert stat.dataLength == len(data or b"")


def test_standalone_check_does_not_break_connection(rc, base):
    """3.8.0 sends no reply to a standalone check (13); a new server may answer it with an
    error. Either way later requests on the connection are answered normally."""
    rc.send_request(Op.CHECK, raw.check_body(base, 0), xid=50)
    xid = rc.send_request(Op.EXISTS, raw.path_watch_body(base, False), xid=51)
    first = rc.read_reply()
    if first.xid == 50:
        assert first.err != 0 and first.body == b""
        first = rc.read_reply()
    assert first.xid == xid and first.err == 0


@pytest.mark.zookeeper_only
def test_standalone_check_gets_no_reply_on_zookeeper(rc, base):
    rc.send_request(Op.CHECK, raw.check_body(base, 0), xid=50)
    with pytest.raises(socket.timeout):
        rc.read_frame(0.5)
    assert rc.exists(base)[0] == 0


def test_close_session_reply_is_last_frame(make_raw, base):
    c = make_raw()
    c.send_request(Op.GET_DATA, raw.path_watch_body(base, False), xid=1)
    c.send_request(Op.CLOSE_SESSION, xid=2)
    frames = c.read_all_until_closed(timeout=10)
    replies = [raw.Reply(f) for f in frames]
    assert [r.xid for r in replies] == [1, 2]
    assert replies[1].err == 0 and replies[1].body == b""


def test_requests_pipelined_after_close_session_never_succeed(make_raw, base):
    """Usually only the closeSession reply arrives; 3.8.0 sometimes (about 1 in 20) also answers
    a request queued behind closeSession with err -112 (SessionExpired) before closing."""
    c = make_raw()
    f1 = struct.pack(">ii", 1, Op.CLOSE_SESSION)
    f2 = struct.pack(">ii", 2, Op.GET_DATA) + raw.path_watch_body(base, False)
    c.send_raw(struct.pack(">i", len(f1)) + f1 + struct.pack(">i", len(f2)) + f2)
    replies = [raw.Reply(f) for f in c.read_all_until_closed(timeout=10)]
    assert replies[0].xid == 1 and replies[0].err == 0
    for r in replies[1:]:
        assert (r.xid, r.err, r.body) == (2, Err.SESSIONEXPIRED, b"")


def test_kazoo_basic_ops(zk, node):
    zk.ensure_path(f"{node}/x/y")
    assert zk.exists(f"{node}/x/y") is not None
    assert zk.sync(node) == node
    assert sorted(zk.get_children(node)) == ["x"]
