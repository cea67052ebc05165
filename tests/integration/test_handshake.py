"""Session handshake: ConnectRequest / ConnectResponse layout and negotiation (client-protocol.md §4)."""
import struct

import pytest

from harness import raw
from harness.raw import Op, Xid


def test_new_session_response_layout(server):
    with server.raw() as c:
        c.send_frame(raw.connect_request(timeout=10000))
        payload = c.read_frame()
        # int protocolVersion, int timeOut, long sessionId, buffer passwd(16), bool readOnly
        assert len(payload) == 37
        resp = raw.parse_connect_response(payload)
        assert resp.protocol_version == 0
        assert resp.timeout == 10000
        assert resp.session_id != 0
        assert len(resp.passwd) == 16
        assert payload[16:20] == struct.pack(">i", 16)
        assert resp.read_only is False


def test_old_client_without_readonly_byte_gets_36_bytes(server):
    with server.raw() as c:
        resp = c.handshake(timeout=10000, read_only=None)
        assert resp.length == 36
        assert resp.read_only is None
        assert resp.session_id != 0
        # the session is usable
        rep = c.call(Op.EXISTS, raw.path_watch_body("/", False))
        assert rep.err == 0
        assert len(rep.body) == raw.STAT_SIZE


def test_readonly_request_on_rw_server_answers_false(server):
    with server.raw() as c:
        resp = c.handshake(read_only=True)
        assert resp.length == 37
        assert resp.read_only is False
        assert resp.session_id != 0


def test_protocol_version_ignored(server):
    with server.raw() as c:
        resp = c.handshake(protocol_version=7)
        assert resp.session_id != 0
        assert resp.protocol_version == 0


@pytest.mark.parametrize("passwd", [b"\x00" * 16, bytes(range(1, 17)), b"", None],
                         ids=["zeros", "nonzero", "empty", "null"])
def test_new_session_password_contents_ignored(server, passwd):
    with server.raw() as c:
        resp = c.handshake(passwd=passwd)
        assert resp.session_id != 0
        assert len(resp.passwd) == 16


def test_session_ids_distinct_and_standalone_layout(server):
    ids = []
    for _ in range(3):
        with server.raw() as c:
            ids.append(c.handshake().session_id)
    assert len(set(ids)) == 3
    for sid in ids:
        # standalone server: top byte = server id 1
        assert (sid >> 56) & 0xFF == 1, hex(sid)


def test_password_is_derived_from_session_id(server):
    """Any server must validate passwords the same way (client-protocol.md §4)."""
    assert raw.session_password(0x1000012345).hex() == "f7a45e0ff4dcbcb829885747f0b3eb9e"
    assert raw.session_password(0x100003ef6e00000).hex() == "12585cde37dd9e3d40661840d851e38e"
    with server.raw() as c:
        resp = c.handshake()
        assert resp.passwd == raw.session_password(resp.session_id)


@pytest.mark.parametrize("requested,expected", [
    (0, 4000), (-5, 4000), (1000, 4000), (3999, 4000), (4000, 4000), (4001, 4001),
    (39999, 39999), (40000, 40000), (40001, 40000), (1000000, 40000),
])
def test_timeout_clamped_to_default_bounds(server, requested, expected):
    """tickTime 2000 -> minSessionTimeout 4000, maxSessionTimeout 40000 by default."""
    with server.raw() as c:
        resp = c.handshake(timeout=requested)
        assert resp.session_id != 0
        assert resp.timeout == expected


def test_timeout_clamped_to_configured_bounds(start_server):
    srv = start_server(minSessionTimeout=5000, maxSessionTimeout=9000)
    for requested, expected in [(0, 5000), (4999, 5000), (5000, 5000), (7000, 7000),
                                (9000, 9000), (9001, 9000), (100000, 9000)]:
        with srv.raw() as c:
            resp = c.handshake(timeout=requested)
            assert resp.timeout == expected, requested


def test_last_zxid_ahead_of_server_is_refused(server):
    with server.raw() as c:
        c.send_frame(raw.connect_request(last_zxid=0x7FFFFFFF00000000))
        assert c.read_all_until_closed(timeout=5) == []


def test_last_zxid_behind_server_is_accepted(server, rc):
    rep = rc.ping()
    with server.raw() as c:
        resp = c.handshake(last_zxid=rep.zxid)
        assert resp.session_id != 0


def test_reattach_keeps_session_and_closes_old_connection(server, make_raw):
    a = make_raw(timeout=6000)
    assert a.session.timeout == 6000
    node = "/handshake-reattach-eph"
    assert a.create(node, b"", flags=raw.CreateFlags.EPHEMERAL) == (0, node)
    b = make_raw(handshake=False)
    resp = b.handshake(session_id=a.session_id, passwd=a.passwd, timeout=8000)
    assert resp.session_id == a.session_id
    assert resp.passwd == a.passwd
    assert resp.timeout == 8000  # the newly requested timeout, clamped
    assert a.is_closed(timeout=5)
    err, stat = b.exists(node)
    assert err == 0
    assert stat.ephemeralOwner == a.session_id
    b.close_session()


def test_reattach_timeout_is_clamped(server, make_raw):
    a = make_raw(timeout=6000)
    b = make_raw(handshake=False)
    resp = b.handshake(session_id=a.session_id, passwd=a.passwd, timeout=10 ** 6)
    assert resp.session_id == a.session_id
    assert resp.timeout == 40000


def _assert_invalid_session_reply(resp, with_ro=True):
    assert resp.timeout == 0
    assert resp.session_id == 0
    assert resp.passwd == b"\x00" * 16
    assert resp.protocol_version == 0
    if with_ro:
        assert resp.length == 37 and resp.read_only is False
    else:
        assert resp.length == 36 and resp.read_only is None


def test_wrong_password_gets_invalid_session_reply(server, make_raw):
    a = make_raw()
    node = "/handshake-wrongpw-eph"
    assert a.create(node, b"", flags=raw.CreateFlags.EPHEMERAL)[0] == 0
    bad = bytes(x ^ 0xFF for x in a.passwd)
    b = make_raw(handshake=False)
    resp = b.handshake(session_id=a.session_id, passwd=bad)
    _assert_invalid_session_reply(resp)
    assert b.is_closed(timeout=5)
    # the attempt also closed the connection holding the session ...
    assert a.is_closed(timeout=5)
    # ... but the session itself survives and can be reattached with the right password
    c = make_raw(handshake=False)
    resp = c.handshake(session_id=a.session_id, passwd=a.passwd)
    assert resp.session_id == a.session_id
    err, stat = c.exists(node)
    assert err == 0 and stat.ephemeralOwner == a.session_id
    c.close_session()


def test_wrong_password_old_client_layout(server, make_raw):
    a = make_raw()
    b = make_raw(handshake=False)
    resp = b.handshake(session_id=a.session_id, passwd=b"\x01" * 16, read_only=None)
    _assert_invalid_session_reply(resp, with_ro=False)
    assert b.is_closed(timeout=5)


def test_unknown_session_id_is_invalid_even_with_generated_password(server):
    sid = 0x01000000DEAD0001
    with server.raw() as c:
        resp = c.handshake(session_id=sid, passwd=raw.session_password(sid))
        _assert_invalid_session_reply(resp)
        assert c.is_closed(timeout=5)


def test_closed_session_cannot_be_reattached(server, make_raw):
    a = make_raw()
    sid, pw = a.session_id, a.passwd
    a.close_session()
    with server.raw() as c:
        resp = c.handshake(session_id=sid, passwd=pw)
        _assert_invalid_session_reply(resp)
        assert c.is_closed(timeout=5)


def test_requests_pipelined_with_connect_are_processed_in_order(server, make_raw):
    """ConnectRequest + auth + setWatches + getData + whoAmI in one write (§4)."""
    setup = make_raw()
    path = "/handshake-pipelined"
    assert setup.create(path, b"v")[0] == 0
    c = make_raw(handshake=False)
    frames = [raw.connect_request()]
    frames.append(struct.pack(">ii", Xid.AUTH, Op.AUTH) + raw.auth_body("digest", "user:pass"))
    # data watch with relativeZxid 0 on a node modified after zxid 0 -> immediate NodeDataChanged
    frames.append(struct.pack(">ii", Xid.SET_WATCHES, Op.SET_WATCHES)
                  + raw.set_watches_body(0, data=[path]))
    frames.append(struct.pack(">ii", 1, Op.GET_DATA) + raw.path_watch_body(path, False))
    frames.append(struct.pack(">ii", 2, Op.WHO_AM_I))
    c.send_raw(b"".join(struct.pack(">i", len(f)) + f for f in frames))
    resp = raw.parse_connect_response(c.read_frame())
    assert resp.session_id != 0
    auth = c.read_reply()
    assert auth.header == raw.ReplyHeader(Xid.AUTH, 0, 0)
    ev = c.read_reply()
    assert ev.header == raw.ReplyHeader(-1, -1, 0)
    assert ev.event() == raw.WatcherEvent(raw.EventType.NODE_DATA_CHANGED, 3, path)
    sw = c.read_reply()
    assert (sw.xid, sw.err) == (Xid.SET_WATCHES, 0)
    assert sw.body == b""
    gd = c.read_reply()
    assert (gd.xid, gd.err) == (1, 0)
    assert gd.r.buffer() == b"v"
    who = c.read_reply()
    assert (who.xid, who.err) == (2, 0)
    infos = who.r.vector(lambda r: (r.string(), r.string()))
    assert sorted(infos) == [("digest", "user"), ("ip", "127.0.0.1")]
