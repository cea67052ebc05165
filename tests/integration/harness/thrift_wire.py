"""Raw Thrift wire helpers (binary protocol, framed) for tests that send what a generated client
would not: hand-made frames, pipelined calls, a client that never reads. The generated
package comes from harness.thrift_client (T)."""
import socket
import struct
import time

from .thrift_client import T, thrift_port


def connect(srv):
    """A TCP connection to the server's Thrift port (no session yet)."""
    s = socket.create_connection(("127.0.0.1", thrift_port(srv)), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def message(name, args=None, seqid=1, mtype=None):
    """One binary-protocol message (unframed): `args` is a generated *_args struct."""
    from thrift.protocol import TBinaryProtocol
    from thrift.Thrift import TMessageType
    from thrift.transport import TTransport
    buf = TTransport.TMemoryBuffer()
    p = TBinaryProtocol.TBinaryProtocol(buf)
    p.writeMessageBegin(name, TMessageType.CALL if mtype is None else mtype, seqid)
    if args is None:
        p.writeStructBegin("args")
        p.writeFieldStop()
        p.writeStructEnd()
    else:
        args.write(p)
    p.writeMessageEnd()
    return buf.getvalue()


def read_frame(sock, timeout=10.0):
    """The next frame's payload; None when the server closed the connection."""
    sock.settimeout(timeout)
    data = b""
    try:
        while len(data) < 4:
            chunk = sock.recv(4 - len(data))
            if not chunk:
                return None
            data += chunk
        (n,) = struct.unpack(">i", data)
        payload = b""
        while len(payload) < n:
            chunk = sock.recv(n - len(payload))
            if not chunk:
                return None
            payload += chunk
        return payload
    except ConnectionResetError:
        return None


def parse_reply(payload, result_cls):
    """(fname, mtype, seqid, value): value is a TApplicationException or the *_result."""
    from thrift.protocol import TBinaryProtocol
    from thrift.Thrift import TApplicationException, TMessageType
    from thrift.transport import TTransport
    p = TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(payload))
    fname, mtype, seqid = p.readMessageBegin()
    if mtype == TMessageType.EXCEPTION:
        value = TApplicationException()
        value.read(p)
    else:
        value = result_cls()
        value.read(p)
    return fname, mtype, seqid, value


def closed_by_server(sock, timeout=5.0):
    """True if the server closes the connection within `timeout` (frames before the close
    are read and dropped)."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def open_session(sock, seqid=1, timeout_ms=10000):
    """openSession on a raw connection; the OpenSessionResult."""
    sock.sendall(frame(message("openSession", T.Corral.openSession_args(
        request=T.tt.OpenSessionRequest(timeoutMs=timeout_ms, sessionId=0, password=b"")), seqid)))
    fname, mtype, rseqid, value = parse_reply(read_frame(sock), T.Corral.openSession_result)
    assert (fname, rseqid) == ("openSession", seqid) and value.success is not None, value
    return value.success


def ping(sock, seqid):
    sock.sendall(frame(message("ping", T.Corral.ping_args(waitMs=0), seqid)))
    payload = read_frame(sock)
    assert payload is not None, "connection closed"
    return parse_reply(payload, T.Corral.ping_result)
