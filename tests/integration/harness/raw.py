"""A raw ZooKeeper client-protocol client, for what kazoo cannot send.

Everything here is written from the wire description in
/work/shared/reference/client-protocol.md (jute encoding, frames, headers, records).
All integers are big-endian.  A frame is `int32 len` + payload.
"""
import base64
import hashlib
import socket
import struct
import time
from collections import namedtuple


# ----------------------------------------------------------------------------- constants

class Op:
    NOTIFICATION = 0
    CREATE = 1
    DELETE = 2
    EXISTS = 3
    GET_DATA = 4
    SET_DATA = 5
    GET_ACL = 6
    SET_ACL = 7
    GET_CHILDREN = 8
    SYNC = 9
    PING = 11
    GET_CHILDREN2 = 12
    CHECK = 13
    MULTI = 14
    CREATE2 = 15
    RECONFIG = 16
    CHECK_WATCHES = 17
    REMOVE_WATCHES = 18
    CREATE_CONTAINER = 19
    DELETE_CONTAINER = 20
    CREATE_TTL = 21
    MULTI_READ = 22
    AUTH = 100
    SET_WATCHES = 101
    SASL = 102
    GET_EPHEMERALS = 103
    GET_ALL_CHILDREN_NUMBER = 104
    SET_WATCHES2 = 105
    ADD_WATCH = 106
    WHO_AM_I = 107
    CREATE_SESSION = -10
    CLOSE_SESSION = -11
    ERROR = -1


class Err:
    OK = 0
    SYSTEMERROR = -1
    RUNTIMEINCONSISTENCY = -2
    DATAINCONSISTENCY = -3
    CONNECTIONLOSS = -4
    MARSHALLINGERROR = -5
    UNIMPLEMENTED = -6
    OPERATIONTIMEOUT = -7
    BADARGUMENTS = -8
    NONODE = -101
    NOAUTH = -102
    BADVERSION = -103
    NOCHILDRENFOREPHEMERALS = -108
    NODEEXISTS = -110
    NOTEMPTY = -111
    SESSIONEXPIRED = -112
    INVALIDACL = -114
    AUTHFAILED = -115
    NOWATCHER = -121
    RECONFIGDISABLED = -123
    SESSIONCLOSEDREQUIRESASLAUTH = -124


class Xid:
    NOTIFICATION = -1
    PING = -2
    AUTH = -4
    SET_WATCHES = -8


class EventType:
    NONE = -1
    NODE_CREATED = 1
    NODE_DELETED = 2
    NODE_DATA_CHANGED = 3
    NODE_CHILDREN_CHANGED = 4


class KeeperState:
    SYNC_CONNECTED = 3


class WatcherType:
    CHILDREN = 1
    DATA = 2
    ANY = 3


class AddWatchMode:
    PERSISTENT = 0
    PERSISTENT_RECURSIVE = 1


class Perm:
    READ = 1
    WRITE = 2
    CREATE = 4
    DELETE = 8
    ADMIN = 16
    ALL = 31


class CreateFlags:
    PERSISTENT = 0
    EPHEMERAL = 1
    PERSISTENT_SEQUENTIAL = 2
    EPHEMERAL_SEQUENTIAL = 3
    CONTAINER = 4
    PERSISTENT_WITH_TTL = 5
    PERSISTENT_SEQUENTIAL_WITH_TTL = 6


ACL = namedtuple("ACL", "perms scheme id")
OPEN_ACL_UNSAFE = [ACL(Perm.ALL, "world", "anyone")]
CREATOR_ALL_ACL = [ACL(Perm.ALL, "auth", "")]
READ_ACL_UNSAFE = [ACL(Perm.READ, "world", "anyone")]

Stat = namedtuple("Stat", "czxid mzxid ctime mtime version cversion aversion "
                          "ephemeralOwner dataLength numChildren pzxid")
STAT_SIZE = 68
ReplyHeader = namedtuple("ReplyHeader", "xid zxid err")
WatcherEvent = namedtuple("WatcherEvent", "type state path")
ConnectResponse = namedtuple("ConnectResponse",
                             "protocol_version timeout session_id passwd read_only length")
MultiResult = namedtuple("MultiResult", "type err value")

MAX_TTL = (1 << 40) - 1
CONTAINER_EPHEMERAL_OWNER = -0x8000000000000000
DEFAULT_JUTE_MAXBUFFER = 0xFFFFF


# ----------------------------------------------------------------------------- jute

class Writer:
    def __init__(self):
        self._parts = []

    def int(self, v):
        self._parts.append(struct.pack(">i", v))
        return self

    def long(self, v):
        self._parts.append(struct.pack(">q", v))
        return self

    def bool(self, v):
        self._parts.append(b"\x01" if v else b"\x00")
        return self

    def byte(self, v):
        self._parts.append(struct.pack(">b", v))
        return self

    def string(self, s):
        if s is None:
            return self.int(-1)
        if isinstance(s, str):
            s = s.encode("utf-8", "surrogatepass")
        self.int(len(s))
        self._parts.append(s)
        return self

    def buffer(self, b):
        if b is None:
            return self.int(-1)
        self.int(len(b))
        self._parts.append(bytes(b))
        return self

    def raw(self, b):
        self._parts.append(bytes(b))
        return self

    def vector(self, items, write_item):
        if items is None:
            return self.int(-1)
        self.int(len(items))
        for it in items:
            write_item(self, it)
        return self

    def strings(self, items):
        return self.vector(items, lambda w, s: w.string(s))

    def acl(self, acls):
        def item(w, a):
            w.int(a[0]).string(a[1]).string(a[2])
        return self.vector(acls, item)

    def bytes(self):
        return b"".join(self._parts)


class Reader:
    def __init__(self, data, offset=0):
        self.data = bytes(data)
        self.pos = offset

    def _take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"short read: need {n} at {self.pos}, have {len(self.data)}")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def int(self):
        return struct.unpack(">i", self._take(4))[0]

    def long(self):
        return struct.unpack(">q", self._take(8))[0]

    def bool(self):
        return self._take(1) != b"\x00"

    def buffer(self):
        n = self.int()
        if n == -1:
            return None
        return self._take(n)

    def string(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8", "surrogatepass")

    def vector(self, read_item):
        n = self.int()
        if n == -1:
            return None
        return [read_item(self) for _ in range(n)]

    def strings(self):
        return self.vector(lambda r: r.string())

    def stat(self):
        return Stat(self.long(), self.long(), self.long(), self.long(), self.int(), self.int(),
                    self.int(), self.long(), self.int(), self.int(), self.long())

    def acl(self):
        return self.vector(lambda r: ACL(r.int(), r.string(), r.string()))

    def remaining(self):
        return len(self.data) - self.pos

    def at_end(self):
        return self.pos == len(self.data)

    def rest(self):
        b = self.data[self.pos:]
        self.pos = len(self.data)
        return b


# ----------------------------------------------------------------------------- request records

def connect_request(timeout=30000, session_id=0, passwd=b"\x00" * 16, last_zxid=0,
                    protocol_version=0, read_only=False):
    """ConnectRequest payload (no length prefix).  read_only=None omits the trailing byte
    (an 'old' client)."""
    w = Writer().int(protocol_version).long(last_zxid).int(timeout).long(session_id).buffer(passwd)
    if read_only is not None:
        w.bool(read_only)
    return w.bytes()


def create_body(path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0):
    return Writer().string(path).buffer(data).acl(acl).int(flags).bytes()


def create_ttl_body(path, data=b"", acl=OPEN_ACL_UNSAFE, flags=CreateFlags.PERSISTENT_WITH_TTL,
                    ttl=1000):
    return Writer().string(path).buffer(data).acl(acl).int(flags).long(ttl).bytes()


def delete_body(path, version=-1):
    return Writer().string(path).int(version).bytes()


def path_watch_body(path, watch=False):
    """exists / getData / getChildren / getChildren2."""
    return Writer().string(path).bool(watch).bytes()


def set_data_body(path, data, version=-1):
    return Writer().string(path).buffer(data).int(version).bytes()


def path_body(path):
    """getACL / sync / getEphemerals / getAllChildrenNumber."""
    return Writer().string(path).bytes()


def set_acl_body(path, acl, version=-1):
    return Writer().string(path).acl(acl).int(version).bytes()


def check_body(path, version):
    return Writer().string(path).int(version).bytes()


def watch_type_body(path, wtype):
    """checkWatches / removeWatches."""
    return Writer().string(path).int(wtype).bytes()


def add_watch_body(path, mode):
    return Writer().string(path).int(mode).bytes()


def auth_body(scheme, auth, auth_type=0):
    if isinstance(auth, str):
        auth = auth.encode()
    return Writer().int(auth_type).string(scheme).buffer(auth).bytes()


def set_watches_body(relative_zxid, data=(), exist=(), child=()):
    return (Writer().long(relative_zxid).strings(list(data)).strings(list(exist))
            .strings(list(child)).bytes())


def set_watches2_body(relative_zxid, data=(), exist=(), child=(), persistent=(), recursive=()):
    return (Writer().long(relative_zxid).strings(list(data)).strings(list(exist))
            .strings(list(child)).strings(list(persistent)).strings(list(recursive)).bytes())


def reconfig_body(joining="", leaving="", new_members="", cur_config_id=-1):
    return (Writer().string(joining).string(leaving).string(new_members)
            .long(cur_config_id).bytes())


def multi_header(op_type, done, err):
    return Writer().int(op_type).bool(done).int(err).bytes()


MULTI_TERMINATOR = multi_header(-1, True, -1)


def multi_body(ops):
    """ops: list of (op_type, record_bytes); terminator appended."""
    parts = [multi_header(t, False, -1) + body for t, body in ops]
    return b"".join(parts) + MULTI_TERMINATOR


# convenience sub-op builders for multi / multiRead
def m_create(path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0, op=Op.CREATE):
    return (op, create_body(path, data, acl, flags))


def m_delete(path, version=-1):
    return (Op.DELETE, delete_body(path, version))


def m_set_data(path, data, version=-1):
    return (Op.SET_DATA, set_data_body(path, data, version))


def m_check(path, version):
    return (Op.CHECK, check_body(path, version))


def m_get_data(path, watch=False):
    return (Op.GET_DATA, path_watch_body(path, watch))


def m_get_children(path, watch=False):
    return (Op.GET_CHILDREN, path_watch_body(path, watch))


# ----------------------------------------------------------------------------- response parsing

def parse_connect_response(payload):
    r = Reader(payload)
    pv = r.int()
    to = r.int()
    sid = r.long()
    pw = r.buffer()
    ro = None
    if r.remaining() >= 1:
        ro = r.bool()
    return ConnectResponse(pv, to, sid, pw, ro, len(payload))


def parse_event(reader):
    return WatcherEvent(reader.int(), reader.int(), reader.string())


def parse_multi_response(reader):
    """Parse a multi/multiRead response body into a list of MultiResult (terminator checked)."""
    results = []
    while True:
        t, done, err = reader.int(), reader.bool(), reader.int()
        if done:
            assert (t, err) == (-1, -1), f"bad multi terminator {(t, done, err)}"
            break
        if t == Op.CREATE:
            value = reader.string()
        elif t == Op.CREATE2:
            value = (reader.string(), reader.stat())
        elif t in (Op.DELETE, Op.CHECK):
            value = None
        elif t == Op.SET_DATA:
            value = reader.stat()
        elif t == Op.GET_CHILDREN:
            value = reader.strings()
        elif t == Op.GET_DATA:
            value = (reader.buffer(), reader.stat())
        elif t == Op.ERROR:
            value = reader.int()
        else:
            raise AssertionError(f"unexpected multi result type {t}")
        results.append(MultiResult(t, err, value))
    assert reader.at_end(), f"{reader.remaining()} trailing bytes after multi response"
    return results


# ----------------------------------------------------------------------------- auth helpers

def digest_id(user, password):
    """The id the digest provider stores for user:password (user:base64(sha1(user:password)))."""
    h = hashlib.sha1(f"{user}:{password}".encode()).digest()
    return f"{user}:{base64.b64encode(h).decode()}"


def session_password(session_id):
    """Password ZooKeeper derives for a session id: java.util.Random(sid ^ 0xB3415C00).nextBytes(16)."""
    mask = (1 << 48) - 1
    seed = ((session_id ^ 0xB3415C00) ^ 0x5DEECE66D) & mask
    out = bytearray()
    while len(out) < 16:
        seed = (seed * 0x5DEECE66D + 0xB) & mask
        r = seed >> 16
        for _ in range(4):
            if len(out) < 16:
                out.append(r & 0xFF)
                r >>= 8
    return bytes(out)


# ----------------------------------------------------------------------------- connection

class ConnectionClosed(Exception):
    """The server closed the TCP connection."""


class Reply:
    """A reply frame: header fields plus the body as a Reader."""

    def __init__(self, payload):
        self.payload = payload
        r = Reader(payload)
        self.xid, self.zxid, self.err = r.int(), r.long(), r.int()
        self.body = r.rest()
        self.r = Reader(self.body)

    @property
    def header(self):
        return ReplyHeader(self.xid, self.zxid, self.err)

    def event(self):
        return parse_event(Reader(self.body))

    def __repr__(self):
        return f"Reply(xid={self.xid}, zxid={self.zxid:#x}, err={self.err}, body={self.body[:64].hex()})"


class RawConnection:
    """One TCP connection speaking raw frames.  Use handshake() to establish a session."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""
        self._closed = False
        self.next_xid = 1
        self.events = []          # WatcherEvents read while waiting for replies
        self.session = None       # ConnectResponse after handshake

    # -- low level
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.sock.sendall(struct.pack(">i", len(payload)) + payload)

    def _fill(self, n, deadline):
        while len(self._buf) < n:
            if self._closed:
                raise ConnectionClosed()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("timed out waiting for data")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(max(65536, n - len(self._buf)))
            except (ConnectionResetError, BrokenPipeError):
                chunk = b""
            if not chunk:
                self._closed = True
                raise ConnectionClosed()
            self._buf += chunk

    def read_frame(self, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        self._fill(4, deadline)
        (n,) = struct.unpack(">i", self._buf[:4])
        self._fill(4 + n, deadline)
        payload = self._buf[4:4 + n]
        self._buf = self._buf[4 + n:]
        return payload

    def read_reply(self, timeout=None):
        return Reply(self.read_frame(timeout))

    def read_all_until_closed(self, timeout=None):
        """Read frames until the server closes; return the list of payloads.
        Raises socket.timeout if the connection stays open."""
        frames = []
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            try:
                frames.append(self.read_frame(max(0.0, deadline - time.monotonic())))
            except ConnectionClosed:
                return frames

    def is_closed(self, timeout=5.0):
        """True if the server closes the connection within `timeout` (frames arriving before
        the close are discarded); False if it is still open then."""
        try:
            self.read_all_until_closed(timeout)
            return True
        except socket.timeout:
            return False

    def expect_silence(self, timeout=0.3):
        """Assert that nothing arrives (and no close) within `timeout`."""
        try:
            payload = self.read_frame(timeout)
        except socket.timeout:
            return
        except ConnectionClosed:
            raise AssertionError("connection closed unexpectedly")
        raise AssertionError(f"unexpected frame {payload.hex()}")

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def end_session(self, timeout=2.0):
        """Best effort: close the session (so it does not linger until expiry and add an
        unexpected txn later), then the socket."""
        if self.session is not None and self.session.session_id and not self._closed:
            try:
                self.send_request(Op.CLOSE_SESSION, xid=0x7FFFFFF0)
                self.read_all_until_closed(timeout)
            except (OSError, ConnectionClosed, ValueError, AssertionError):
                pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- session
    def handshake(self, timeout=30000, session_id=0, passwd=b"\x00" * 16, last_zxid=0,
                  protocol_version=0, read_only=False, read_timeout=None):
        self.send_frame(connect_request(timeout, session_id, passwd, last_zxid,
                                        protocol_version, read_only))
        resp = parse_connect_response(self.read_frame(read_timeout))
        self.session = resp
        return resp

    @property
    def session_id(self):
        return self.session.session_id

    @property
    def passwd(self):
        return self.session.passwd

    # -- requests
    def send_request(self, op, body=b"", xid=None):
        if xid is None:
            xid = self.next_xid
            self.next_xid += 1
        self.send_frame(struct.pack(">ii", xid, op) + body)
        return xid

    def call(self, op, body=b"", xid=None, timeout=None):
        """Send a request and return its Reply; notifications read meanwhile go to .events."""
        xid = self.send_request(op, body, xid)
        return self.wait_reply(xid, timeout)

    def wait_reply(self, xid, timeout=None):
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            rep = self.read_reply(max(0.0, deadline - time.monotonic()))
            if rep.xid == Xid.NOTIFICATION and xid != Xid.NOTIFICATION:
                self.events.append(rep.event())
                continue
            if rep.xid != xid:
                raise AssertionError(f"expected reply xid {xid}, got {rep!r}")
            return rep

    def next_event(self, timeout=5.0):
        if self.events:
            return self.events.pop(0)
        rep = self.read_reply(timeout)
        if rep.xid != Xid.NOTIFICATION:
            raise AssertionError(f"expected a notification, got {rep!r}")
        assert (rep.zxid, rep.err) == (-1, 0), rep
        return rep.event()

    def no_event(self, timeout=0.3):
        """Assert that no notification is pending or arrives within timeout."""
        assert not self.events, f"unexpected events {self.events}"
        self.expect_silence(timeout)

    def drain_events(self, timeout=0.3):
        """Collect events until `timeout` passes without a new one."""
        out = list(self.events)
        self.events.clear()
        while True:
            try:
                out.append(self.next_event(timeout))
            except socket.timeout:
                return out

    # -- typed helpers (return (err, value)) ------------------------------------------
    def create(self, path, data=b"", acl=OPEN_ACL_UNSAFE, flags=0, op=Op.CREATE):
        rep = self.call(op, create_body(path, data, acl, flags))
        if rep.err:
            assert rep.body == b"", rep
            return rep.err, None
        if op == Op.CREATE:
            return 0, rep.r.string()
        return 0, (rep.r.string(), rep.r.stat())

    def create_ttl(self, path, ttl, data=b"", acl=OPEN_ACL_UNSAFE,
                   flags=CreateFlags.PERSISTENT_WITH_TTL):
        rep = self.call(Op.CREATE_TTL, create_ttl_body(path, data, acl, flags, ttl))
        if rep.err:
            return rep.err, None
        return 0, (rep.r.string(), rep.r.stat())

    def delete(self, path, version=-1):
        rep = self.call(Op.DELETE, delete_body(path, version))
        assert rep.body == b"", rep
        return rep.err

    def exists(self, path, watch=False):
        rep = self.call(Op.EXISTS, path_watch_body(path, watch))
        return rep.err, (rep.r.stat() if rep.err == 0 else None)

    def get_data(self, path, watch=False):
        rep = self.call(Op.GET_DATA, path_watch_body(path, watch))
        if rep.err:
            return rep.err, None
        return 0, (rep.r.buffer(), rep.r.stat())

    def set_data(self, path, data, version=-1):
        rep = self.call(Op.SET_DATA, set_data_body(path, data, version))
        return rep.err, (rep.r.stat() if rep.err == 0 else None)

    def get_children(self, path, watch=False):
        rep = self.call(Op.GET_CHILDREN, path_watch_body(path, watch))
        return rep.err, (rep.r.strings() if rep.err == 0 else None)

    def get_children2(self, path, watch=False):
        rep = self.call(Op.GET_CHILDREN2, path_watch_body(path, watch))
        if rep.err:
            return rep.err, None
        return 0, (rep.r.strings(), rep.r.stat())

    def get_acl(self, path):
        rep = self.call(Op.GET_ACL, path_body(path))
        if rep.err:
            return rep.err, None
        return 0, (rep.r.acl(), rep.r.stat())

    def set_acl(self, path, acl, version=-1):
        rep = self.call(Op.SET_ACL, set_acl_body(path, acl, version))
        return rep.err, (rep.r.stat() if rep.err == 0 else None)

    def add_auth(self, scheme, auth):
        rep = self.call(Op.AUTH, auth_body(scheme, auth), xid=Xid.AUTH)
        return rep.err

    def add_watch(self, path, mode):
        rep = self.call(Op.ADD_WATCH, add_watch_body(path, mode))
        return rep.err

    def multi(self, ops, op=Op.MULTI):
        rep = self.call(op, multi_body(ops))
        if rep.err:
            return rep.err, None
        return 0, parse_multi_response(rep.r)

    def ping(self):
        return self.call(Op.PING, b"", xid=Xid.PING)

    def close_session(self):
        rep = self.call(Op.CLOSE_SESSION)
        return rep


def connect(port, timeout=30000, read_only=False, **kw):
    """Open a connection and establish a new session; asserts the session is valid."""
    c = RawConnection(port)
    try:
        resp = c.handshake(timeout=timeout, read_only=read_only, **kw)
    except BaseException:
        c.close()
        raise
    if resp.session_id == 0:
        c.close()
        raise AssertionError(f"handshake refused: {resp}")
    return c


def try_handshake(port, timeout=2.0):
    """Readiness probe: True if a new session can be established (it is closed again)."""
    try:
        c = RawConnection(port, timeout=timeout)
    except OSError:
        return False
    try:
        resp = c.handshake(timeout=30000, read_timeout=timeout)
        if resp.session_id == 0:
            return False
        try:
            c.call(Op.CLOSE_SESSION, timeout=timeout)
        except (ConnectionClosed, socket.timeout, OSError):
            pass
        return True
    except (ConnectionClosed, socket.timeout, OSError, ValueError, struct.error):
        return False
    finally:
        c.close()


def four_letter(port, word, extra=b"", host="127.0.0.1", timeout=10.0):
    """Send a four-letter word on a fresh connection; return everything the server writes
    (decoded) until it closes the connection."""
    if isinstance(word, str):
        word = word.encode()
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(word + extra)
        chunks = []
        deadline = time.monotonic() + timeout
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks).decode("utf-8", "replace")
