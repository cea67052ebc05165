"""Framing and malformed input (client-protocol.md §1, §3, §6 unknown opcodes).

A broken client must only lose its own connection; other sessions stay unaffected."""
import os
import struct

import pytest

from harness import raw
from harness.raw import Err, Op

MAXBUF = raw.DEFAULT_JUTE_MAXBUFFER  # 1048575


def _send_quietly(conn, data):
    try:
        conn.send_raw(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def _set_data_frame(xid, path, data_len):
    payload = struct.pack(">ii", xid, Op.SET_DATA) + raw.set_data_body(path, b"d" * data_len, -1)
    return payload


def _data_len_for_frame(path, frame_len):
    # header 8 + string (4 + len) + buffer (4 + n) + version 4
    return frame_len - (8 + 4 + len(path) + 4 + 4)


@pytest.fixture
def bystander(make_raw):
    """An established session that must keep working whatever another connection does."""
    c = make_raw()
    yield c
    rep = c.call(Op.EXISTS, raw.path_watch_body("/", False))
    assert rep.err == 0, "an unrelated session was affected"


def test_frame_of_exactly_maxbuffer_is_accepted(server, make_raw, base, bystander):
    c = make_raw()
    n = _data_len_for_frame(base, MAXBUF)
    payload = _set_data_frame(1, base, n)
    assert len(payload) == MAXBUF
    c.send_frame(payload)
    rep = c.wait_reply(1, timeout=30)
    assert rep.err == 0
    stat = rep.r.stat()
    assert stat.dataLength == n
    # the reply to a read of it is larger than maxbuffer's data and is still sent
    rep = c.call(Op.GET_DATA, raw.path_watch_body(base, False), timeout=30)
    assert rep.err == 0
    assert len(rep.payload) > MAXBUF  # replies are not limited by jute.maxbuffer
    assert len(rep.r.buffer()) == n


def test_frame_one_over_maxbuffer_closes(server, make_raw, base, bystander):
    c = make_raw()
    payload = _set_data_frame(1, base, _data_len_for_frame(base, MAXBUF + 1))
    assert len(payload) == MAXBUF + 1
    _send_quietly(c, struct.pack(">i", len(payload)) + payload)
    assert c.read_all_until_closed(timeout=10) == []
    err, stat = bystander.exists(base)
    assert stat.dataLength == 0  # not applied


def test_oversized_first_frame_closes(server, bystander):
    with server.raw() as c:
        _send_quietly(c, struct.pack(">i", MAXBUF + 1) + b"\x00" * 64)
        assert c.read_all_until_closed(timeout=10) == []


@pytest.mark.parametrize("length", [-1, -100, -0x80000000])
def test_negative_length_closes(server, make_raw, bystander, length):
    c = make_raw()
    _send_quietly(c, struct.pack(">i", length) + b"\x00" * 16)
    assert c.read_all_until_closed(timeout=10) == []


def test_negative_length_as_first_frame_closes(server, bystander):
    with server.raw() as c:
        _send_quietly(c, struct.pack(">i", -5) + b"\x00" * 16)
        assert c.read_all_until_closed(timeout=10) == []


def test_zero_length_after_handshake_closes(server, make_raw, bystander):
    c = make_raw()
    _send_quietly(c, struct.pack(">i", 0))
    assert c.read_all_until_closed(timeout=10) == []


def test_non_connect_first_frame_closes(server, bystander):
    with server.raw() as c:
        c.send_frame(struct.pack(">ii", 1, Op.GET_DATA) + raw.path_watch_body("/", False))
        assert c.read_all_until_closed(timeout=10) == []


def test_truncated_connect_request_closes(server, bystander):
    with server.raw() as c:
        c.send_frame(raw.connect_request()[:20])
        assert c.read_all_until_closed(timeout=10) == []


def test_random_garbage_first_frame_closes(server, bystander):
    with server.raw() as c:
        _send_quietly(c, struct.pack(">i", 10) + os.urandom(10))
        assert c.read_all_until_closed(timeout=10) == []


def test_garbage_without_frame_structure_closes(server, bystander):
    with server.raw() as c:
        _send_quietly(c, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.read_all_until_closed(timeout=10) == []


def test_second_connect_request_is_unimplemented_then_closed(server, make_raw, bystander):
    c = make_raw()
    c.send_frame(raw.connect_request())
    rep = c.read_reply()
    # parsed as RequestHeader{xid 0, type 0}
    assert (rep.xid, rep.zxid, rep.err) == (0, -1, Err.UNIMPLEMENTED)
    assert rep.body == b""
    assert c.is_closed(timeout=5)


def test_truncated_record_is_marshalling_error_connection_stays(server, make_raw, bystander):
    c = make_raw()
    body = struct.pack(">i", 100) + b"/abc"  # string claims 100 bytes, frame has 4
    rep = c.call(Op.GET_DATA, body)
    assert rep.err == Err.MARSHALLINGERROR
    assert rep.body == b""
    assert c.exists("/")[0] == 0


def test_negative_string_length_is_marshalling_error(server, make_raw, bystander):
    c = make_raw()
    rep = c.call(Op.GET_DATA, struct.pack(">i", -7) + b"\x00")
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert c.exists("/")[0] == 0


def test_huge_string_length_in_small_frame_is_marshalling_error(server, make_raw, bystander):
    c = make_raw()
    rep = c.call(Op.CREATE, struct.pack(">i", 2_000_000) + b"/x" * 8)
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    assert c.exists("/")[0] == 0


def test_missing_fields_is_marshalling_error(server, make_raw, base, bystander):
    c = make_raw()
    # setData without the version int
    body = raw.Writer().string(base).buffer(b"x").bytes()
    rep = c.call(Op.SET_DATA, body)
    assert rep.err == Err.MARSHALLINGERROR and rep.body == b""
    err, (data, stat) = c.get_data(base)
    assert data == b"" and stat.version == 0


def test_trailing_bytes_after_record_are_ignored(server, make_raw, base, bystander):
    c = make_raw()
    rep = c.call(Op.SET_DATA, raw.set_data_body(base, b"hello", -1) + b"\xde\xad\xbe\xef" * 3)
    assert rep.err == 0
    assert rep.r.stat().version == 1
    rep = c.call(Op.EXISTS, raw.path_watch_body(base, False) + b"junk")
    assert rep.err == 0


@pytest.mark.parametrize("opcode", [0, 10, 23, 50, 99, 108, 200, -1, -12])
def test_unknown_opcode_is_unimplemented_then_closed(server, make_raw, bystander, opcode):
    c = make_raw()
    rep = c.call(opcode, b"", xid=77)
    assert (rep.xid, rep.zxid, rep.err) == (77, -1, Err.UNIMPLEMENTED)
    assert rep.body == b""
    assert c.is_closed(timeout=5)


@pytest.mark.parametrize("body", [b"", b"\x00\x00"], ids=["empty", "short"])
def test_create_session_opcode_from_client_is_marshalling_error(server, make_raw, bystander, body):
    c = make_raw()
    rep = c.call(Op.CREATE_SESSION, body, xid=5)
    assert (rep.xid, rep.err) == (5, Err.MARSHALLINGERROR) and rep.body == b""
    assert c.exists("/")[0] == 0  # connection stays open


@pytest.mark.zookeeper_only
def test_create_session_opcode_with_timeout_body_zookeeper_quirk(server, make_raw, bystander):
    """3.8.0 quirk (not in client-protocol.md): a client-sent createSession (-10) whose body is
    the 4-byte quorum form (int timeout) is processed as a createSession txn for the
    connection's own session, and the server answers with a second ConnectResponse (no
    ReplyHeader) carrying the same session id/password; the connection stays open.
    Corral should rather answer -5 (see the test above)."""
    c = make_raw()
    c.send_request(Op.CREATE_SESSION, struct.pack(">i", 5000), xid=5)
    resp = raw.parse_connect_response(c.read_frame())
    assert resp.session_id == c.session_id
    assert resp.passwd == c.passwd
    assert resp.timeout == c.session.timeout
    assert resp.length == 37
    assert c.exists("/")[0] == 0


@pytest.mark.parametrize("body_kind", ["jute", "rawpath"])
def test_delete_container_from_client_is_bad_arguments(server, make_raw, bystander, node, body_kind):
    c = make_raw()
    assert c.create(node, b"", op=Op.CREATE_CONTAINER)[0] == 0
    body = raw.path_body(node) if body_kind == "jute" else node.encode()
    rep = c.call(Op.DELETE_CONTAINER, body)
    assert rep.err == Err.BADARGUMENTS and rep.body == b""
    assert c.exists(node)[0] == 0  # untouched, connection open


def test_request_pipelining_replies_in_order(server, make_raw, base):
    c = make_raw()
    ops = [
        (Op.CREATE, raw.create_body(f"{base}/1")),
        (Op.GET_DATA, raw.path_watch_body(f"{base}/1", False)),
        (Op.CREATE, raw.create_body(f"{base}/2")),
        (Op.GET_DATA, raw.path_watch_body(f"{base}/2", False)),
        (Op.CREATE, raw.create_body(f"{base}/3")),
    ]
    frames = b"".join(struct.pack(">iii", 8 + len(body), i + 1, op) + body
                      for i, (op, body) in enumerate(ops))
    c.send_raw(frames)
    replies = [c.read_reply() for _ in ops]
    assert [r.xid for r in replies] == [1, 2, 3, 4, 5]
    assert all(r.err == 0 for r in replies)
    # each read carries the preceding write's zxid
    assert replies[1].zxid == replies[0].zxid
    assert replies[3].zxid == replies[2].zxid
    assert replies[0].zxid < replies[2].zxid < replies[4].zxid


def test_arbitrary_xids_are_echoed(server, make_raw):
    c = make_raw()
    for xid in (-77, 0, 0x7FFFFFFF, 12345):
        rep = c.call(Op.EXISTS, raw.path_watch_body("/", False), xid=xid)
        assert rep.xid == xid and rep.err == 0


@pytest.fixture(scope="module")
def small_buffer_server(server_factory):
    with server_factory.running({"jute.maxbuffer": 4096}, name="jute4096") as srv:
        yield srv


def test_configured_maxbuffer_limit_accepts_exact(small_buffer_server):
    c = raw.connect(small_buffer_server.port)
    try:
        assert c.create("/mb", b"")[0] == 0
        payload = _set_data_frame(1, "/mb", _data_len_for_frame("/mb", 4096))
        assert len(payload) == 4096
        c.send_frame(payload)
        assert c.wait_reply(1).err == 0
    finally:
        c.close()


def test_configured_maxbuffer_limit_closes_over(small_buffer_server):
    c = raw.connect(small_buffer_server.port)
    try:
        payload = _set_data_frame(1, "/mb2", _data_len_for_frame("/mb2", 4097))
        assert len(payload) == 4097
        _send_quietly(c, struct.pack(">i", len(payload)) + payload)
        assert c.read_all_until_closed(timeout=10) == []
    finally:
        c.close()
