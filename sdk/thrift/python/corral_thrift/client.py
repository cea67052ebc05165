"""A small ZooKeeper-like client for Corral's Thrift front end (frontend.thrift).

This module ships inside the generated `corral_thrift` package, next to Corral.py and
ttypes.py, and needs nothing but python3-thrift:

    from corral_thrift.client import CorralClient
    from corral_thrift.ttypes import CreateMode, ErrorCode, ZkError

    zk = CorralClient("127.0.0.1", 9090, on_event=print)
    zk.open()
    zk.create("/app", b"v1", mode=CreateMode.PERSISTENT)
    print(zk.get_data("/app", watch=True).data)
    try:
        zk.create("/app", b"again")
    except ZkError as e:
        assert e.code == ErrorCode.NODEEXISTS
    zk.close()

Every method mirrors one call of sdk/thrift/corral.thrift and returns the generated result
struct; a ZooKeeper error raises the generated `ZkError` (its `code` is KeeperException.Code).

Watch events. Every reply, result or ZkError alike, carries the watch events the server
queued for the session before answering. The client hands them out *before* it returns the
result or raises the error (ZooKeeper's ordering guarantee: a watcher hears of a change
before the caller sees any reply that shows it). They go to `on_event(WatchEvent)` when given,
and are kept in `events` (a deque the caller drains with take_events()) unless
`record_events=False`. `on_event` runs on the calling thread with the connection lock held:
it must not call the client (re-register a watch after the call that delivered the event).

Keep-alive. The server expires a session that hears nothing for its timeout. Call something,
for example ping() or wait_for_events(), at least every `session_timeout_ms / 3`, or pass
`heartbeat=True` to have a background thread ping while the client is otherwise idle (the
events such a ping brings are delivered on that thread).

Thread-safety: one lock is held around each call (send and receive), so a client may be
shared by threads; calls are answered in order.
"""
from __future__ import annotations

import collections
import threading
import time
from typing import Callable

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TProtocol import TProtocolException
from thrift.transport import TSocket, TSSLSocket, TTransport

from . import Corral
from .ttypes import ACL, Id, OpenSessionRequest, WatchEvent, WatcherType, ZkError

ANY_VERSION = -1


def open_acl_unsafe() -> list[ACL]:
    """ZooDefs.Ids.OPEN_ACL_UNSAFE: anyone may do anything."""
    return [ACL(perms=31, id=Id(scheme="world", id="anyone"))]


class CorralClient:
    def __init__(self, host: str, port: int, timeout_ms: int = 10000,
                 protocol: str = "binary", ssl_context=None,
                 on_event: Callable[[WatchEvent], None] | None = None,
                 record_events: bool = True, heartbeat: bool = False,
                 io_timeout_ms: int | None = None):
        """timeout_ms: the session timeout asked for (the server clamps it; see
        session_timeout_ms after open()). protocol: "binary" or "compact", as the server's
        thrift.protocol. ssl_context: an ssl.SSLContext for a thrift.secure server; it alone
        decides verification (check_hostname, CA, client certificate). on_event,
        record_events, heartbeat: see the module's doc. io_timeout_ms: how long a call may
        wait for its answer (default max(timeout_ms, 5000)); ping(wait_ms) adds wait_ms."""
        if protocol not in ("binary", "compact"):
            raise ValueError(f"protocol must be 'binary' or 'compact', not {protocol!r}")
        self.host, self.port = host, port
        self.timeout_ms = timeout_ms
        self.protocol = protocol
        self.ssl_context = ssl_context
        self.on_event = on_event
        self.record_events = record_events
        self.io_timeout_ms = io_timeout_ms or max(timeout_ms, 5000)
        self.events: collections.deque[WatchEvent] = collections.deque()
        self.session_id = 0
        self.password = b""
        self.session_timeout_ms = 0    # negotiated by openSession
        self.read_only = False
        self.last_zxid = 0             # the largest zxid seen in any reply
        self._lock = threading.RLock()
        self._delivering = False       # set while on_event runs (re-entry guard)
        self._socket = None
        self._transport = None
        self._client: Corral.Client | None = None
        self._last_call = time.monotonic()
        self._want_heartbeat = heartbeat
        self._heartbeat: threading.Thread | None = None
        self._stop = threading.Event()

    # ------------------------------------------------------------------ connection
    def _connect(self):
        """A new framed connection (closing the old one, if any)."""
        self._close_transport()
        if self.ssl_context is not None:
            sock = TSSLSocket.TSSLSocket(self.host, self.port, ssl_context=self.ssl_context,
                                         validate_callback=lambda cert, hostname: None)
        else:
            sock = TSocket.TSocket(self.host, self.port)
        sock.setTimeout(self.io_timeout_ms)
        transport = TTransport.TFramedTransport(sock)
        proto = (TCompactProtocol.TCompactProtocol if self.protocol == "compact"
                 else TBinaryProtocol.TBinaryProtocol)(transport)
        transport.open()
        self._socket, self._transport = sock, transport
        self._client = Corral.Client(proto)

    def _close_transport(self):
        if self._transport is not None:
            try:
                self._transport.close()
            except Exception:
                pass
        self._socket = self._transport = self._client = None

    @property
    def connected(self) -> bool:
        return self._transport is not None and self._transport.isOpen()

    @property
    def raw(self) -> Corral.Client:
        """The generated client of the current connection (for send_*/recv_* pipelining:
        hold `lock` meanwhile, and deliver the replies' events yourself)."""
        return self._client

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def _open_session(self, request: OpenSessionRequest):
        with self._lock:
            self._connect()
            try:
                info = self._call("openSession", request)
            except BaseException:
                self._close_transport()  # a refused session leaves nothing to talk to
                raise
            self.session_id, self.password = info.sessionId, info.password
            self.session_timeout_ms, self.read_only = info.timeoutMs, info.readOnly
            if self._want_heartbeat and (self._heartbeat is None
                                         or not self._heartbeat.is_alive()):
                self._stop.clear()
                self._heartbeat = threading.Thread(target=self._heartbeat_loop, daemon=True,
                                                   name="corral-heartbeat")
                self._heartbeat.start()
            return info

    def open(self, read_only: bool = False):
        """Connects and creates a new session; returns the SessionInfo."""
        return self._open_session(OpenSessionRequest(timeoutMs=self.timeout_ms,
                                                     sessionId=0, password=b"",
                                                     lastZxidSeen=self.last_zxid,
                                                     readOnly=read_only))

    def reattach(self):
        """Re-attaches the stored session over a NEW connection (after a dropped one).
        Raises ZkError SESSIONEXPIRED when the session is gone. Watches do not move with
        the session: re-register them with set_watches(last_zxid, ...)."""
        if not self.session_id:
            raise RuntimeError("no session to re-attach; call open() first")
        return self._open_session(OpenSessionRequest(timeoutMs=self.timeout_ms,
                                                     sessionId=self.session_id,
                                                     password=self.password,
                                                     lastZxidSeen=self.last_zxid,
                                                     readOnly=self.read_only))

    def close(self):
        """Ends the session (its ephemerals go at once), then closes the connection."""
        self._stop.set()
        with self._lock:
            try:
                if self.connected and self.session_id:
                    return self._call("closeSession")
            finally:
                self._close_transport()
                self.session_id, self.password = 0, b""

    def drop_connection(self):
        """Closes the socket and keeps the session (for reattach())."""
        with self._lock:
            self._close_transport()

    # ------------------------------------------------------------------ calls and events
    def _call(self, name: str, *args, io_timeout_ms: int | None = None):
        with self._lock:
            if self._delivering:
                raise RuntimeError("on_event must not call the client")
            if self._client is None:
                raise TTransport.TTransportException(TTransport.TTransportException.NOT_OPEN,
                                                     "not connected")
            if io_timeout_ms is not None:
                self._socket.setTimeout(io_timeout_ms)
            try:
                result = getattr(self._client, name)(*args)
            except ZkError as e:
                self.deliver(e.events, e.zxid)
                raise
            except (TTransport.TTransportException, TProtocolException, OSError, EOFError):
                self._close_transport()  # the stream is out of step or gone
                raise
            finally:
                self._last_call = time.monotonic()
                if io_timeout_ms is not None and self._socket is not None:
                    self._socket.setTimeout(self.io_timeout_ms)
            self.deliver(result.events, result.zxid)
            return result

    def deliver(self, events, zxid=None):
        """Hands out a reply's events, oldest first, and notes its zxid. _call does this for
        every reply; use it for replies read with raw recv_* calls."""
        with self._lock:
            if zxid is not None and zxid > self.last_zxid:
                self.last_zxid = zxid
            for event in events or ():
                if self.record_events:
                    self.events.append(event)
                if self.on_event is not None:
                    self._delivering = True
                    try:
                        self.on_event(event)
                    finally:
                        self._delivering = False

    def take_events(self) -> list[WatchEvent]:
        """The recorded events so far, oldest first; clears the record."""
        with self._lock:
            out = list(self.events)
            self.events.clear()
            return out

    def wait_for_events(self, timeout_s: float) -> list[WatchEvent]:
        """Pings (long-poll) until a reply brings at least one event or timeout_s passes;
        returns the events those pings brought ([] on timeout). They are delivered as
        usual too (on_event, events). Each wait is at most a third of the session timeout,
        so the session stays alive meanwhile."""
        deadline = time.monotonic() + timeout_s
        slice_ms = max(1, (self.session_timeout_ms or self.timeout_ms) // 3)
        while True:
            left_ms = int((deadline - time.monotonic()) * 1000)
            result = self.ping(max(0, min(left_ms, slice_ms)))
            if result.events:
                return list(result.events)
            if left_ms <= 0:
                return []

    def _heartbeat_loop(self):
        while not self._stop.is_set():
            period = max(0.05, (self.session_timeout_ms or self.timeout_ms) / 3000.0)
            idle = time.monotonic() - self._last_call
            if idle < period:
                self._stop.wait(period - idle)
                continue
            try:
                with self._lock:
                    if self._stop.is_set() or not self.connected:
                        self._last_call = time.monotonic()
                        continue
                    self.ping(0)
            except Exception:
                pass  # the next caller sees the broken connection or the ended session

    # ------------------------------------------------------------------ session calls
    def ping(self, wait_ms: int = 0):
        return self._call("ping", wait_ms, io_timeout_ms=self.io_timeout_ms + max(0, wait_ms))

    def add_auth(self, scheme: str, auth: bytes | str):
        return self._call("addAuth", scheme, auth.encode() if isinstance(auth, str) else auth)

    def whoami(self):
        return self._call("whoAmI")

    # ------------------------------------------------------------------ nodes
    def create(self, path: str, data: bytes | None = b"", acl=None, mode: int = 0,
               ttl: int = 0):
        """mode: a CreateMode; data None creates the node with null data."""
        return self._call("create", path, data, acl if acl is not None else open_acl_unsafe(),
                          mode, ttl)

    def remove(self, path: str, version: int = ANY_VERSION):
        return self._call("remove", path, version)

    def exists(self, path: str, watch: bool = False):
        return self._call("exists", path, watch)

    def get_data(self, path: str, watch: bool = False):
        return self._call("getData", path, watch)

    def set_data(self, path: str, data: bytes | None, version: int = ANY_VERSION):
        return self._call("setData", path, data, version)

    def get_children(self, path: str, watch: bool = False):
        return self._call("getChildren", path, watch)

    def get_acl(self, path: str):
        return self._call("getACL", path)

    def set_acl(self, path: str, acl, version: int = ANY_VERSION):
        return self._call("setACL", path, acl, version)

    def sync(self, path: str):
        return self._call("sync", path)

    def get_ephemerals(self, prefix_path: str = "/"):
        return self._call("getEphemerals", prefix_path)

    def get_all_children_number(self, path: str):
        return self._call("getAllChildrenNumber", path)

    def multi(self, ops):
        """ops: a list of ttypes.Op. On failure ZkError carries failedOp and results."""
        return self._call("multi", list(ops))

    def multi_read(self, ops):
        """ops: a list of ttypes.ReadOp; a failing op gives an OpError result, not a raise."""
        return self._call("multiRead", list(ops))

    # ------------------------------------------------------------------ watches
    def add_watch(self, path: str, mode: int):
        """mode: AddWatchMode.PERSISTENT or PERSISTENT_RECURSIVE."""
        return self._call("addWatch", path, mode)

    def remove_watches(self, path: str, watcher_type: int = WatcherType.ANY):
        """NOWATCHER when the session has no such watch on the path."""
        return self._call("removeWatches", path, watcher_type)

    def set_watches(self, relative_zxid: int | None = None, data=(), exist=(), child=(),
                    persistent=(), persistent_recursive=()):
        """Re-registers watches after reattach(); relative_zxid defaults to last_zxid."""
        zxid = self.last_zxid if relative_zxid is None else relative_zxid
        return self._call("setWatches", zxid, list(data), list(exist), list(child),
                          list(persistent), list(persistent_recursive))

    def __enter__(self):
        if not self.session_id:
            self.open()
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        except Exception:
            pass
