"""Thrift front end (frontend.thrift, sdk/thrift/corral.thrift) helpers for the end-to-end tests.

* The generated Python package `corral_thrift` (Corral.py, ttypes.py, constants.py and the
  hand-written client.py that the build copies in from sdk/thrift/python) is imported from
  $CORRAL_THRIFT_PY, default <repo>/build/sdk/thrift/gen-py. When it is missing, every Thrift
  test skips with that reason (SKIP_REASON); the ZooKeeper-protocol halves still run.
* Servers: thrift_settings() gives the settings of a Corral server with the Thrift front end
  on a free port; start_server_for() starts one (a plain server in the ZooKeeper run, where
  there is no Thrift) and waits until a Thrift session can be opened.
* Client adapters. A scenario that ZooKeeper defines is written once against an adapter and
  run through the ZooKeeper protocol ("jute": harness.raw, one session, any --impl, so the
  reference run checks the assertions on ZooKeeper 3.8) and through Thrift ("thrift": the
  CorralClient of corral_thrift.client, Corral only). kazoo 2.8 (Debian 12) cannot send half
  of the operations (containers, TTL, addWatch, removeWatches, multiRead, whoAmI,
  getEphemerals, getAllChildrenNumber) and checks paths itself, hence raw for the jute side;
  kazoo is used where a test is about interoperating with a real ZooKeeper client.
  Both adapters return the same neutral values: raw.Stat, raw.ACL, raw.WatcherEvent, sorted
  child lists, and raise ZkFail(code) / MultiFail(code, index, codes).
"""
import os
import sys
import time

import pytest

from . import raw
from .servers import free_port
from .util import wait_until

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
GEN_PY = os.environ.get("CORRAL_THRIFT_PY") or os.path.join(REPO_ROOT, "build", "sdk", "thrift",
                                                              "gen-py")


class _Thrift:
    """The imported generated package: Corral, tt (ttypes), CorralClient, ZkError, ..."""


def _load():
    pkg = os.path.join(GEN_PY, "corral_thrift")
    if not os.path.isdir(pkg):
        return None, (f"no generated Thrift Python package at {pkg} (build Corral with "
                      f"frontend.thrift, or set CORRAL_THRIFT_PY to the gen-py directory)")
    if GEN_PY not in sys.path:
        sys.path.insert(0, GEN_PY)
    try:
        from corral_thrift import Corral, ttypes
        from corral_thrift.client import CorralClient
        from thrift.Thrift import TApplicationException
        from thrift.transport.TTransport import TTransportException
    except ImportError as e:
        return None, f"cannot import corral_thrift (with client.py) from {GEN_PY}: {e}"
    t = _Thrift()
    t.Corral, t.tt, t.CorralClient = Corral, ttypes, CorralClient
    t.ZkError, t.TApplicationException = ttypes.ZkError, TApplicationException
    t.TTransportException = TTransportException
    return t, None


T, SKIP_REASON = _load()
AVAILABLE = T is not None

# pytest marks for Thrift-side tests and parameters
needs_thrift = pytest.mark.skipif(not AVAILABLE, reason=SKIP_REASON or "")
THRIFT_MARKS = [pytest.mark.corral_only, needs_thrift]
# parametrize("kind", ADAPTERS): the scenario through the ZooKeeper protocol and through Thrift
ADAPTERS = ["jute", pytest.param("thrift", marks=THRIFT_MARKS)]


def require_thrift():
    if not AVAILABLE:
        pytest.skip(SKIP_REASON)


# ----------------------------------------------------------------------------- servers

def thrift_settings(frontends="jute,thrift", **extra):
    """Settings of a Corral server with the Thrift front end on a free loopback port."""
    settings = {"frontends": frontends, "thrift.port": free_port(),
                "thrift.address": "127.0.0.1"}
    settings.update(extra)
    return settings


def thrift_port(srv):
    return srv.settings.get("thrift.port")


def has_thrift(srv):
    return srv.impl == "corral" and thrift_port(srv) is not None


def start_server_for(server_factory, settings=None, name=None, thrift=None):
    """A server for a module that runs both halves: in the Corral run (with the generated
    package present) it serves jute and Thrift; otherwise it is a plain server. `thrift`
    overrides the Thrift settings (e.g. {"thrift.maxFrameSize": 4096})."""
    settings = dict(settings or {})
    if server_factory.impl == "corral" and AVAILABLE:
        settings.update(thrift_settings(**(thrift or {})))
    srv = server_factory.start(settings, name=name)
    if has_thrift(srv):
        try:
            wait_thrift_ready(srv)
        except BaseException:
            server_factory.stop(srv)
            raise
    return srv


def server_fixture(settings=None, name="thrift", thrift=None):
    """A module-scoped `srv` fixture: start_server_for(settings, name, thrift), stopped after
    the module. In a test module: srv = server_fixture(FAST, "thrift-sessions")."""
    @pytest.fixture(scope="module")
    def srv(server_factory):
        s = start_server_for(server_factory, settings, name=name, thrift=thrift)
        yield s
        server_factory.stop(s)
    return srv


@pytest.fixture(params=ADAPTERS)
def kind(request):
    """The protocol a scenario runs through: "jute" (harness.raw, any --impl) or "thrift"."""
    return request.param


def wait_thrift_ready(srv, timeout=20.0):
    """Polls until a Thrift session can be opened (and closes it again)."""
    last = [None]

    def probe():
        c = T.CorralClient("127.0.0.1", thrift_port(srv), timeout_ms=30000,
                           protocol=srv.settings.get("thrift.protocol", "binary"),
                           io_timeout_ms=2000)
        try:
            c.open()
            c.close()
            return True
        except Exception as e:  # not listening yet, or not serving sessions yet
            last[0] = e
            c.drop_connection()
            return False

    try:
        wait_until(probe, timeout=timeout, interval=0.05)
    except AssertionError:
        raise AssertionError(f"no Thrift session on {srv} within {timeout}s: {last[0]!r}\n"
                             + srv.log_tail())


def new_client(srv, open=True, **kw):
    """A CorralClient on srv's Thrift port (session opened unless open=False)."""
    require_thrift()
    kw.setdefault("protocol", srv.settings.get("thrift.protocol", "binary"))
    c = T.CorralClient("127.0.0.1", thrift_port(srv), **kw)
    if open:
        c.open()
    return c


def close_quietly(client):
    try:
        client.close()
    except Exception:
        client.drop_connection()


# ----------------------------------------------------------------------------- adapters

class ZkFail(Exception):
    """A ZooKeeper error code, from either protocol."""

    def __init__(self, code, path=None):
        super().__init__(code, path)
        self.code = code
        self.path = path


class MultiFail(ZkFail):
    """A failed multi: the failing op's code and index, and every op's code (0 before the
    failing op, RUNTIMEINCONSISTENCY (-2) after it, as ZooKeeper answers)."""

    def __init__(self, code, index, codes):
        super().__init__(code)
        self.index = index
        self.codes = codes


def ev(etype, path):
    return raw.WatcherEvent(etype, raw.KeeperState.SYNC_CONNECTED, path)


# neutral multi / multiRead ops
def op_create(path, data=b"", acl=None, mode=0, ttl=0):
    return ("create", path, data, acl or raw.OPEN_ACL_UNSAFE, mode, ttl)


def op_delete(path, version=-1):
    return ("delete", path, version)


def op_set(path, data, version=-1):
    return ("set", path, data, version)


def op_check(path, version):
    return ("check", path, version)


def read_data(path):
    return ("get", path)


def read_children(path):
    return ("children", path)


class JuteAdapter:
    """The scenario through the ZooKeeper protocol (harness.raw), on any --impl."""

    kind = "jute"

    def __init__(self, srv, timeout_ms=30000):
        self.srv = srv
        self.timeout_ms = timeout_ms
        self.c = raw.connect(srv.port, timeout=timeout_ms)
        self.last_zxid = 0
        self._events = []  # notifications read while waiting for replies

    @property
    def session_id(self):
        return self.c.session_id

    @property
    def password(self):
        return self.c.passwd

    def close(self):
        self.c.end_session()

    def drop(self):
        """Closes the TCP connection; the session lives on (until it expires)."""
        self.c.close()

    def reattach(self, password=None):
        """The session over a new connection; ZkFail(SESSIONEXPIRED) when refused."""
        sid, pw = self.c.session_id, self.c.passwd if password is None else password
        self.c.close()
        conn = raw.RawConnection(self.srv.port)
        resp = conn.handshake(timeout=self.timeout_ms, session_id=sid, passwd=pw,
                              last_zxid=self.last_zxid)
        if resp.session_id == 0:  # ZooKeeper's "invalid session" reply: the client's SESSIONEXPIRED
            conn.close()
            raise ZkFail(raw.Err.SESSIONEXPIRED)
        self.c = conn
        # keep the identity of the session (password) even though the new response has it too
        return resp.session_id

    def connection_closed(self, timeout=5.0):
        return self.c.is_closed(timeout)

    def _call(self, op, body=b"", xid=None):
        rep = self.c.call(op, body, xid=xid)
        self._events.extend(self.c.events)
        self.c.events.clear()
        self.last_zxid = max(self.last_zxid, rep.zxid)
        return rep

    def _ok(self, rep):
        if rep.err:
            raise ZkFail(rep.err)
        return rep

    # ---- nodes
    def create(self, path, data=b"", acl=None, mode=0, ttl=0):
        acl = raw.OPEN_ACL_UNSAFE if acl is None else acl
        if mode in (raw.CreateFlags.PERSISTENT_WITH_TTL, raw.CreateFlags.PERSISTENT_SEQUENTIAL_WITH_TTL):
            rep = self._call(raw.Op.CREATE_TTL, raw.create_ttl_body(path, data, acl, mode, ttl))
        elif mode == raw.CreateFlags.CONTAINER:
            rep = self._call(raw.Op.CREATE_CONTAINER, raw.create_body(path, data, acl, mode))
        else:
            rep = self._call(raw.Op.CREATE2, raw.create_body(path, data, acl, mode))
        self._ok(rep)
        return rep.r.string(), rep.r.stat()

    def delete(self, path, version=-1):
        self._ok(self._call(raw.Op.DELETE, raw.delete_body(path, version)))

    def exists(self, path, watch=False):
        rep = self._call(raw.Op.EXISTS, raw.path_watch_body(path, watch))
        if rep.err == raw.Err.NONODE:
            return None
        return self._ok(rep).r.stat()

    def get_data(self, path, watch=False):
        rep = self._ok(self._call(raw.Op.GET_DATA, raw.path_watch_body(path, watch)))
        return rep.r.buffer(), rep.r.stat()

    def set_data(self, path, data, version=-1):
        return self._ok(self._call(raw.Op.SET_DATA, raw.set_data_body(path, data, version))).r.stat()

    def get_children(self, path, watch=False):
        rep = self._ok(self._call(raw.Op.GET_CHILDREN2, raw.path_watch_body(path, watch)))
        return sorted(rep.r.strings()), rep.r.stat()

    def get_acl(self, path):
        rep = self._ok(self._call(raw.Op.GET_ACL, raw.path_body(path)))
        return rep.r.acl(), rep.r.stat()

    def set_acl(self, path, acl, version=-1):
        return self._ok(self._call(raw.Op.SET_ACL, raw.set_acl_body(path, acl, version))).r.stat()

    def sync(self, path):
        return self._ok(self._call(raw.Op.SYNC, raw.path_body(path))).r.string()

    def get_ephemerals(self, prefix="/"):
        return sorted(self._ok(self._call(raw.Op.GET_EPHEMERALS, raw.path_body(prefix))).r.strings())

    def count(self, path):
        return self._ok(self._call(raw.Op.GET_ALL_CHILDREN_NUMBER, raw.path_body(path))).r.int()

    def multi(self, ops):
        subs = []
        for op in ops:
            if op[0] == "create":
                _, path, data, acl, mode, ttl = op
                if mode in (5, 6):
                    subs.append((raw.Op.CREATE_TTL, raw.create_ttl_body(path, data, acl, mode, ttl)))
                else:
                    subs.append(raw.m_create(path, data, acl, mode,
                                             op=raw.Op.CREATE_CONTAINER if mode == 4 else raw.Op.CREATE))
            elif op[0] == "delete":
                subs.append(raw.m_delete(op[1], op[2]))
            elif op[0] == "set":
                subs.append(raw.m_set_data(op[1], op[2], op[3]))
            else:
                subs.append(raw.m_check(op[1], op[2]))
        rep = self._ok(self._call(raw.Op.MULTI, raw.multi_body(subs)))
        results = raw.parse_multi_response(rep.r)
        if any(r.type == raw.Op.ERROR for r in results):
            codes = [r.value if r.type == raw.Op.ERROR else ("not an error", r) for r in results]
            index = next(i for i, c in enumerate(codes) if c not in (0, raw.Err.RUNTIMEINCONSISTENCY))
            raise MultiFail(codes[index], index, codes)
        out = []
        for r in results:
            if r.type in (raw.Op.CREATE, raw.Op.CREATE2):
                out.append(("create", r.value if r.type == raw.Op.CREATE else r.value[0]))
            elif r.type == raw.Op.SET_DATA:
                out.append(("set", r.value))
            else:
                out.append(({raw.Op.DELETE: "delete", raw.Op.CHECK: "check"}[r.type],))
        return out

    def multi_read(self, ops):
        subs = [raw.m_get_data(p) if kind == "get" else raw.m_get_children(p) for kind, p in ops]
        rep = self._ok(self._call(raw.Op.MULTI_READ, raw.multi_body(subs)))
        out = []
        for r in raw.parse_multi_response(rep.r):
            if r.type == raw.Op.GET_DATA:
                out.append(("data",) + tuple(r.value))
            elif r.type == raw.Op.GET_CHILDREN:
                out.append(("children", sorted(r.value)))
            else:
                out.append(("error", r.value))
        return out

    # ---- auth
    def add_auth(self, scheme, cred):
        self._ok(self._call(raw.Op.AUTH, raw.auth_body(scheme, cred), xid=raw.Xid.AUTH))

    def whoami(self):
        rep = self._ok(self._call(raw.Op.WHO_AM_I))
        return sorted(rep.r.vector(lambda r: (r.string(), r.string())))

    # ---- watches and events
    def add_watch(self, path, mode):
        self._ok(self._call(raw.Op.ADD_WATCH, raw.add_watch_body(path, mode)))

    def remove_watches(self, path, wtype=raw.WatcherType.ANY):
        self._ok(self._call(raw.Op.REMOVE_WATCHES, raw.watch_type_body(path, wtype)))

    def set_watches(self, rel, data=(), exist=(), child=(), persistent=(), recursive=()):
        if persistent or recursive:
            body = raw.set_watches2_body(rel, data, exist, child, persistent, recursive)
            op = raw.Op.SET_WATCHES2
        else:
            body = raw.set_watches_body(rel, data, exist, child)
            op = raw.Op.SET_WATCHES
        self._ok(self._call(op, body, xid=raw.Xid.SET_WATCHES))

    def round_trip(self):
        """A ping: every event queued before it has been received when it returns."""
        self._call(raw.Op.PING, b"", xid=raw.Xid.PING)

    def take_events(self):
        out = list(self._events)
        self._events.clear()
        return out

    def wait_events(self, n=1, timeout=10.0):
        """Waits until at least n events were received; returns (and takes) them all."""
        deadline = time.monotonic() + timeout
        while len(self._events) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                rep = self.c.read_reply(timeout=left)
            except OSError:  # socket.timeout
                break
            assert rep.xid == raw.Xid.NOTIFICATION, f"expected a notification, got {rep!r}"
            self._events.append(rep.event())
        return self.take_events()

    def assert_no_event(self):
        self.round_trip()
        assert self.take_events() == []


class ThriftAdapter:
    """The same scenario through Thrift (corral_thrift.client.CorralClient), Corral only."""

    kind = "thrift"

    def __init__(self, srv, timeout_ms=30000, client=None):
        self.srv = srv
        self.cl = client or new_client(srv, timeout_ms=timeout_ms)
        self.last_error = None

    @property
    def session_id(self):
        return self.cl.session_id

    def close(self):
        close_quietly(self.cl)

    @property
    def password(self):
        return self.cl.password

    @property
    def last_zxid(self):
        return self.cl.last_zxid

    def drop(self):
        """Closes the TCP connection; the session lives on (until it expires)."""
        self.cl.drop_connection()

    def reattach(self, password=None):
        saved = self.cl.password
        if password is not None:
            self.cl.password = password
        try:
            return self._do("reattach").sessionId
        finally:
            self.cl.password = saved

    def connection_closed(self, timeout=5.0):
        """True if the server closed the connection: the next call fails in the transport."""
        try:
            self.cl.ping(0)
        except T.TTransportException:
            return True
        except EOFError:
            return True
        return False

    def _do(self, method, *args):
        try:
            return getattr(self.cl, method)(*args)
        except T.ZkError as e:
            self.last_error = e
            if e.failedOp is not None or e.results is not None:
                codes = [r.error.code if r.error is not None else ("not an error", r)
                         for r in (e.results or [])]
                raise MultiFail(e.code, e.failedOp, codes) from e
            raise ZkFail(e.code, e.path) from e

    @staticmethod
    def stat(s):
        return raw.Stat(s.czxid, s.mzxid, s.ctime, s.mtime, s.version, s.cversion, s.aversion,
                        s.ephemeralOwner, s.dataLength, s.numChildren, s.pzxid)

    @staticmethod
    def to_acl(acl):
        if acl is None:
            return None
        return [T.tt.ACL(perms=a.perms, id=T.tt.Id(scheme=a.scheme, id=a.id)) for a in acl]

    @staticmethod
    def from_acl(acl):
        return [raw.ACL(a.perms, a.id.scheme, a.id.id) for a in acl]

    # ---- nodes
    def create(self, path, data=b"", acl=None, mode=0, ttl=0):
        r = self._do("create", path, data, self.to_acl(acl if acl is not None else raw.OPEN_ACL_UNSAFE),
                     mode, ttl)
        return r.path, self.stat(r.stat)

    def delete(self, path, version=-1):
        self._do("remove", path, version)

    def exists(self, path, watch=False):
        r = self._do("exists", path, watch)
        return None if r.stat is None else self.stat(r.stat)

    def get_data(self, path, watch=False):
        r = self._do("get_data", path, watch)
        return r.data, self.stat(r.stat)

    def set_data(self, path, data, version=-1):
        return self.stat(self._do("set_data", path, data, version).stat)

    def get_children(self, path, watch=False):
        r = self._do("get_children", path, watch)
        return sorted(r.children), self.stat(r.stat)

    def get_acl(self, path):
        r = self._do("get_acl", path)
        return self.from_acl(r.acl), self.stat(r.stat)

    def set_acl(self, path, acl, version=-1):
        return self.stat(self._do("set_acl", path, self.to_acl(acl), version).stat)

    def sync(self, path):
        return self._do("sync", path).path

    def get_ephemerals(self, prefix="/"):
        return sorted(self._do("get_ephemerals", prefix).paths)

    def count(self, path):
        return self._do("get_all_children_number", path).count

    def multi(self, ops):
        tt = T.tt
        tops = []
        for op in ops:
            if op[0] == "create":
                _, path, data, acl, mode, ttl = op
                tops.append(tt.Op(create=tt.CreateOp(path=path, data=data, acl=self.to_acl(acl),
                                                     mode=mode, ttl=ttl)))
            elif op[0] == "delete":
                tops.append(tt.Op(remove=tt.DeleteOp(path=op[1], version=op[2])))
            elif op[0] == "set":
                tops.append(tt.Op(setData=tt.SetDataOp(path=op[1], data=op[2], version=op[3])))
            else:
                tops.append(tt.Op(check=tt.CheckOp(path=op[1], version=op[2])))
        out = []
        for r in self._do("multi", tops).results:
            if r.create is not None:
                out.append(("create", r.create.path))
            elif r.setData is not None:
                out.append(("set", self.stat(r.setData.stat)))
            elif r.remove is not None:
                out.append(("delete",))
            elif r.check is not None:
                out.append(("check",))
            else:
                out.append(("unexpected", r))
        return out

    def multi_read(self, ops):
        tt = T.tt
        tops = [tt.ReadOp(getData=p) if kind == "get" else tt.ReadOp(getChildren=p)
                for kind, p in ops]
        out = []
        for r in self._do("multi_read", tops).results:
            if r.getData is not None:
                out.append(("data", r.getData.data, self.stat(r.getData.stat)))
            elif r.getChildren is not None:
                out.append(("children", sorted(r.getChildren.children)))
            elif r.error is not None:
                out.append(("error", r.error.code))
            else:
                out.append(("unexpected", r))
        return out

    # ---- auth
    def add_auth(self, scheme, cred):
        self._do("add_auth", scheme, cred)

    def whoami(self):
        return sorted((i.authScheme, i.user) for i in self._do("whoami").identities)

    # ---- watches and events
    def add_watch(self, path, mode):
        self._do("add_watch", path, mode)

    def remove_watches(self, path, wtype=raw.WatcherType.ANY):
        self._do("remove_watches", path, wtype)

    def set_watches(self, rel, data=(), exist=(), child=(), persistent=(), recursive=()):
        self._do("set_watches", rel, data, exist, child, persistent, recursive)

    def round_trip(self):
        self._do("ping", 0)

    @staticmethod
    def _event(e):
        return raw.WatcherEvent(e.type, e.state, e.path)

    def take_events(self):
        return [self._event(e) for e in self.cl.take_events()]

    def wait_events(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.cl.events) < n and time.monotonic() < deadline:
            self.cl.wait_for_events(max(0.0, deadline - time.monotonic()))
        return self.take_events()

    def assert_no_event(self):
        self.round_trip()
        assert self.take_events() == []


def make_adapter(kind, srv, **kw):
    if kind == "thrift":
        require_thrift()
        return ThriftAdapter(srv, **kw)
    return JuteAdapter(srv, **kw)


@pytest.fixture
def clients():
    """clients(kind, srv, **kw) -> adapter; every adapter is closed after the test."""
    made = []

    def _make(kind, srv, **kw):
        a = make_adapter(kind, srv, **kw)
        made.append(a)
        return a

    yield _make
    for a in made:
        try:
            a.close()
        except Exception:
            pass


@pytest.fixture
def make_thrift():
    """make_thrift(srv, open=True, **CorralClient kwargs) -> CorralClient, closed afterwards."""
    made = []

    def _make(srv, open=True, **kw):
        c = new_client(srv, open=open, **kw)
        made.append(c)
        return c

    yield _make
    for c in made:
        close_quietly(c)
