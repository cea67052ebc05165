"""Sessions seen through kazoo when the network between client and server fails.

A TCP proxy (`FreezableProxy`) sits between the client and the server. `cut()` closes every
proxied connection and refuses new ones until `restore()`; the server then sees the client
go silent, exactly like a partition. Used to make the server expire a kazoo session (LOST,
ephemerals removed, other sessions' watches fired) or to let a client resume its session.
"""
import socket
import threading

import pytest
from kazoo.exceptions import NoNodeError
from kazoo.protocol.states import EventType as KzEventType
from kazoo.protocol.states import KazooState
from kazoo.recipe.lock import Lock
from kazoo.recipe.watchers import DataWatch

from harness import raw
from harness.raw import CreateFlags, EventType
from harness.util import wait_until


class FreezableProxy:
    """A loopback TCP forwarder to `port` that can cut and restore the network.
    `.hosts` makes it usable wherever a server is expected (make_zk(proxy))."""

    def __init__(self, port, host="127.0.0.1"):
        self.target = (host, port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.hosts = f"{host}:{self.port}"
        self.cut_off = False
        self.accepted = 0
        self._lock = threading.Lock()
        self._socks = set()
        self._closed = False
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def _accept_loop(self):
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                if self.cut_off or self._closed:
                    client.close()
                    continue
                self.accepted += 1
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        """Drop every proxied connection and refuse new ones."""
        with self._lock:
            self.cut_off = True
            socks, self._socks = self._socks, set()
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def restore(self):
        with self._lock:
            self.cut_off = False

    def close(self):
        self._closed = True
        self.cut()
        self.listener.close()


@pytest.fixture(scope="module")
def server(server_factory):
    """tickTime 200 ms: a 1 s session expires about a second after its client goes quiet.
    (Replaces the default module server, so make_zk() connects here.)"""
    with server_factory.running({"tickTime": 200, "minSessionTimeout": 600,
                                 "maxSessionTimeout": 20000}, name="fast-ticks-extra") as srv:
        yield srv


@pytest.fixture
def fast_server(server):
    return server


@pytest.fixture
def proxy(fast_server):
    p = FreezableProxy(fast_server.port)
    yield p
    p.close()


def _states(client):
    states = []
    client.add_listener(states.append)
    return states


def test_expired_session_lost_ephemerals_removed_watches_fire(fast_server, proxy, make_zk, node):
    observer = make_zk()
    victim = make_zk(proxy, timeout=1.0)
    states = _states(victim)
    observer.create(node)
    sid, pw = victim.client_id
    for i in range(20):
        victim.create(f"{node}/e{i:02d}", b"", ephemeral=True)
    victim.create(f"{node}/persistent", b"stays")

    deleted = []
    assert observer.exists(f"{node}/e00", watch=deleted.append) is not None
    child_events = []
    assert len(observer.get_children(node, watch=child_events.append)) == 21
    raw_watcher = raw.connect(fast_server.port)
    try:
        assert raw_watcher.get_data(f"{node}/e19", watch=True)[0] == 0

        proxy.cut()
        # the server expires the session: ephemerals go, watches of other sessions fire
        assert raw_watcher.next_event(timeout=15) == \
            raw.WatcherEvent(EventType.NODE_DELETED, 3, f"{node}/e19")
        wait_until(lambda: deleted and child_events, timeout=10)
        assert [(e.type, e.path) for e in deleted] == [(KzEventType.DELETED, f"{node}/e00")]
        assert [(e.type, e.path) for e in child_events] == [(KzEventType.CHILD, node)]
        assert observer.get_children(node) == ["persistent"]
        with fast_server.raw() as probe:  # the expired session cannot be resumed
            assert probe.handshake(session_id=sid, passwd=pw).session_id == 0
    finally:
        raw_watcher.close()

    proxy.restore()
    # kazoo learns of the expiry on reconnecting (LOST), then starts a new session
    wait_until(lambda: KazooState.LOST in states, timeout=20)
    wait_until(lambda: victim.connected and victim.client_id[0] not in (0, sid), timeout=20)
    assert states[0] == KazooState.SUSPENDED
    assert victim.get(f"{node}/persistent")[0] == b"stays"
    victim.create(f"{node}/e-new", ephemeral=True)
    assert observer.exists(f"{node}/e-new").ephemeralOwner == victim.client_id[0]


def test_lock_of_expired_session_passes_to_waiter(fast_server, proxy, make_zk, node):
    holder_client = make_zk(proxy, timeout=1.0)
    waiter_client = make_zk()
    holder, waiter = Lock(holder_client, node, "holder"), Lock(waiter_client, node, "waiter")
    assert holder.acquire(timeout=10)
    got = threading.Event()
    threading.Thread(target=lambda: waiter.acquire(timeout=30) and got.set(),
                     daemon=True).start()
    wait_until(lambda: waiter.contenders() == ["holder", "waiter"], timeout=10)
    proxy.cut()
    assert got.wait(15)  # the server expired the holder; its lock node is gone
    assert waiter.contenders() == ["waiter"]
    waiter.release()


def test_short_partition_resumes_same_session(fast_server, proxy, make_zk, node):
    zk = make_zk(proxy, timeout=6.0)
    states = _states(zk)
    writer = make_zk()
    sid = zk.client_id[0]
    zk.create(node, b"0")
    zk.create(f"{node}/eph", b"", ephemeral=True)
    seen = []
    DataWatch(zk, node, func=lambda data, stat: seen.append(data))
    wait_until(lambda: seen == [b"0"], timeout=10)
    accepted = proxy.accepted

    proxy.cut()
    wait_until(lambda: KazooState.SUSPENDED in states, timeout=10)
    writer.set(node, b"1")  # changed while the client is disconnected
    proxy.restore()
    wait_until(lambda: zk.connected and proxy.accepted > accepted, timeout=15)
    assert zk.client_id[0] == sid
    assert KazooState.LOST not in states
    wait_until(lambda: seen[-1] == b"1", timeout=10)
    # the session's ephemeral survived the partition
    assert writer.exists(f"{node}/eph").ephemeralOwner == sid
    writer.set(node, b"2")
    wait_until(lambda: seen[-1] == b"2", timeout=10)


def test_expiry_removes_ephemeral_sequentials_and_sequence_numbering(fast_server, make_zk,
                                                                      node):
    """Expiry deletes the session's ephemeral sequentials. The parent's cversion counts the
    deletions, but ZooKeeper 3.8 numbers the next sequential child from the cversion as it
    was before the session's deletions (observed: s-0000000003 while cversion is 6)."""
    zk = make_zk()
    zk.create(node)
    owner = raw.connect(fast_server.port, timeout=600)
    try:
        names = [owner.create(f"{node}/s-", flags=CreateFlags.EPHEMERAL_SEQUENTIAL)[1]
                 for _ in range(3)]
        assert names == [f"{node}/s-{i:010d}" for i in range(3)]
        wait_until(lambda: zk.get_children(node) == [], timeout=15, interval=0.1)
    finally:
        owner.close()
    assert zk.exists(node).cversion == 6
    assert zk.create(f"{node}/s-", sequence=True) == f"{node}/s-0000000003"
    stat = zk.exists(node)
    assert stat.cversion == 7 and stat.numChildren == 1
    with pytest.raises(NoNodeError):
        zk.get(f"{node}/s-0000000000")


def test_close_session_then_immediate_disconnect_churn(start_server):
    """Many clients that send closeSession and drop the socket as soon as the reply arrives
    (what the C client's zookeeper_close does), from several threads at once. Every request
    of every new session must be answered and the server must stay up. (Own server: a
    failure here may take the server down.)"""
    server = start_server()
    threads, per_thread = 4, 250
    failures = []

    def churn(t):
        for i in range(per_thread):
            stage = "connect"
            try:
                c = raw.connect(server.port)
                try:
                    stage = "exists"
                    assert c.exists("/")[0] == 0
                    stage = "create"
                    assert c.create(f"/churn-{t}-{i}", flags=CreateFlags.EPHEMERAL)[0] == 0
                    stage = "closeSession"
                    assert c.close_session().err == 0
                finally:
                    c.close()
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(f"thread {t} iteration {i} {stage}: {type(e).__name__} {e}")
                return

    workers = [threading.Thread(target=churn, args=(t,), daemon=True) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    exit_code = None if server.alive() else server.proc.returncode
    assert failures == [] and exit_code is None, (f"server exit code {exit_code}", failures)
    with server.session() as c:
        err, children = c.get_children("/")
        assert err == 0 and not [n for n in children if n.startswith("churn-")]
