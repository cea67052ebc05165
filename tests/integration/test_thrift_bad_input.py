"""frontend.thrift: what the Thrift port does with bytes that are not a proper call, and that
the server goes on serving everyone else afterwards.

Corral only: these are the Thrift transport's own rules (framing, thrift.maxFrameSize,
TApplicationException, the session handshake), which ZooKeeper has no counterpart of. After
every case a second client opens a session and reads and writes on the same server.
"""
import socket
import struct

import pytest

from harness.thrift_client import (T, make_thrift, needs_thrift, new_client,  # noqa: F401
                                   start_server_for, thrift_port)
from harness.thrift_wire import (closed_by_server, connect, frame, message, open_session, ping,
                                 parse_reply, read_frame)

pytestmark = [pytest.mark.corral_only, pytest.mark.frontend_only, needs_thrift]

MAX_FRAME = 4096


@pytest.fixture(scope="module")
def srv(server_factory):
    s = start_server_for(server_factory, name="thrift-bad-input",
                         thrift={"thrift.maxFrameSize": MAX_FRAME})
    yield s
    server_factory.stop(s)


def assert_server_healthy(srv):
    """A new client opens a session, writes, reads and closes; the process is alive."""
    assert srv.alive()
    c = new_client(srv)
    try:
        path = c.create("/healthy-", b"ok", mode=T.tt.CreateMode.EPHEMERAL_SEQUENTIAL).path
        assert c.get_data(path).data == b"ok"
    finally:
        c.close()


# ---------------------------------------------------------------- framing

def test_garbage_bytes_close_the_connection(srv):
    s = connect(srv)
    s.sendall(b"GET / HTTP/1.1\r\nHost: corral\r\n\r\n")  # "GET " is a 1.2 GB frame length
    assert closed_by_server(s)
    s.close()
    assert_server_healthy(srv)


@pytest.mark.parametrize("length", [MAX_FRAME + 1, 1 << 30, -1, -(1 << 31)])
def test_frame_length_out_of_range_closes_the_connection(srv, length):
    s = connect(srv)
    s.sendall(struct.pack(">i", length) + b"\x00" * 64)
    assert closed_by_server(s)
    s.close()
    assert_server_healthy(srv)


def test_call_over_max_frame_size_loses_the_connection(srv, make_thrift):
    c = make_thrift(srv)
    c.create("/big", b"x" * (MAX_FRAME - 200))  # fits in one frame
    with pytest.raises((T.TTransportException, OSError, EOFError)):
        c.set_data("/big", b"y" * (MAX_FRAME + 100))
    assert not c.connected
    assert_server_healthy(srv)
    # the session survives the connection
    c.reattach()
    assert c.get_data("/big").data == b"x" * (MAX_FRAME - 200)
    c.remove("/big")


def test_half_sent_frame_then_close(srv):
    for cut in (2, 4, 30):
        s = connect(srv)
        payload = message("ping", T.Corral.ping_args(waitMs=0), 1)
        s.sendall(frame(payload)[:cut])
        s.close()
    assert_server_healthy(srv)


def test_malformed_message_in_a_frame(srv):
    """Bytes that frame but do not parse: a TApplicationException or a closed connection
    (the server cannot know the seqid of a message whose header is garbage)."""
    s = connect(srv)
    s.sendall(frame(b"\x01\x02\x03\x04garbage-garbage"))
    try:
        payload = read_frame(s, timeout=5)
    except socket.timeout:
        pytest.fail("neither an answer nor a close within 5 s")
    if payload is not None:
        _, mtype, _, value = parse_reply(payload, T.Corral.ping_result)
        assert isinstance(value, T.TApplicationException), value
    s.close()
    assert_server_healthy(srv)


def test_empty_frame(srv):
    s = connect(srv)
    s.sendall(frame(b""))
    try:
        payload = read_frame(s, timeout=5)
    except socket.timeout:
        pytest.fail("neither an answer nor a close within 5 s")
    assert payload is None or isinstance(parse_reply(payload, T.Corral.ping_result)[3],
                                         T.TApplicationException)
    s.close()
    assert_server_healthy(srv)


def test_compact_client_on_binary_server(srv):
    c = T.CorralClient("127.0.0.1", thrift_port(srv), protocol="compact", io_timeout_ms=5000)
    with pytest.raises((T.TApplicationException, T.TTransportException, EOFError, OSError)):
        c.open()
    c.drop_connection()
    assert_server_healthy(srv)


# ---------------------------------------------------------------- messages

def test_unknown_method_is_a_tapplication_exception(srv):
    s = connect(srv)
    open_session(s)
    s.sendall(frame(message("noSuchMethod", None, seqid=42)))
    payload = read_frame(s)
    assert payload is not None, "the server closed the connection instead of answering"
    fname, mtype, seqid, value = parse_reply(payload, T.Corral.ping_result)
    assert isinstance(value, T.TApplicationException)
    assert value.type == T.TApplicationException.UNKNOWN_METHOD
    assert (fname, seqid) == ("noSuchMethod", 42)
    # the connection and its session go on
    fname, _, seqid, value = ping(s, 43)
    assert (fname, seqid) == ("ping", 43) and value.success is not None
    s.close()
    assert_server_healthy(srv)


def test_call_before_open_session_is_bad_arguments(srv, make_thrift):
    c = T.CorralClient("127.0.0.1", thrift_port(srv))
    c._connect()  # a connection without openSession
    try:
        for call in (lambda: c.ping(0), lambda: c.get_data("/"), lambda: c.create("/x", b"")):
            with pytest.raises(T.ZkError) as info:
                call()
            assert info.value.code == T.tt.ErrorCode.BADARGUMENTS
            assert info.value.events == []
    finally:
        c.drop_connection()
    assert make_thrift(srv).exists("/x").stat is None
    assert_server_healthy(srv)


def test_second_open_session_is_bad_arguments(srv):
    """A connection carries at most one session: a second openSession fails, the first
    session goes on."""
    s = connect(srv)
    first = open_session(s, seqid=1)
    s.sendall(frame(message("openSession", T.Corral.openSession_args(
        request=T.tt.OpenSessionRequest(timeoutMs=10000, sessionId=0, password=b"")), 2)))
    fname, _, seqid, value = parse_reply(read_frame(s), T.Corral.openSession_result)
    assert (fname, seqid) == ("openSession", 2)
    assert value.error is not None and value.error.code == T.tt.ErrorCode.BADARGUMENTS, value
    s.sendall(frame(message("whoAmI", T.Corral.whoAmI_args(), 3)))
    _, _, _, value = parse_reply(read_frame(s), T.Corral.whoAmI_result)
    assert value.success is not None
    s.close()
    assert first.sessionId != 0
    assert_server_healthy(srv)


def test_arguments_that_do_not_decode(srv):
    """A call whose arguments are cut short (no field stop) is a PROTOCOL_ERROR
    TApplicationException; the connection stays."""
    s = connect(srv)
    open_session(s)
    whole = message("getData", T.Corral.getData_args(path="/", watch=False), seqid=9)
    s.sendall(frame(whole[:-2]))  # drop the args' and the message's field stops
    payload = read_frame(s)
    assert payload is not None, "the server closed the connection instead of answering"
    fname, _, seqid, value = parse_reply(payload, T.Corral.getData_result)
    assert isinstance(value, T.TApplicationException), value
    assert value.type == T.TApplicationException.PROTOCOL_ERROR
    assert (fname, seqid) == ("getData", 9)
    assert ping(s, 10)[3].success is not None
    s.close()
    assert_server_healthy(srv)


def test_reply_message_type_closes_the_connection(srv):
    from thrift.Thrift import TMessageType
    s = connect(srv)
    open_session(s)
    s.sendall(frame(message("ping", T.Corral.ping_args(waitMs=0), 3, mtype=TMessageType.REPLY)))
    assert closed_by_server(s)
    s.close()
    assert_server_healthy(srv)


def test_reply_seqids_echo_the_calls(srv):
    """Pipelined calls are answered in order, each with its own seqid."""
    s = connect(srv)
    open_session(s, seqid=7)
    s.sendall(b"".join(frame(message("ping", T.Corral.ping_args(waitMs=0), q)) for q in (100, 5, -3)))
    got = [parse_reply(read_frame(s), T.Corral.ping_result)[2] for _ in range(3)]
    assert got == [100, 5, -3]
    s.close()


def test_many_bad_connections_then_healthy(srv):
    for i in range(20):
        s = connect(srv)
        s.sendall([b"\xff\xff\xff\xff", b"\x00\x00\x00\x05abc", b"\x7f" * 9, b""][i % 4])
        s.close()
    assert_server_healthy(srv)
