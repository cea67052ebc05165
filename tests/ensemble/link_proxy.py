"""TCP proxies between ensemble members, owned by the tests, for fault injection.

Every peer-to-peer connection of an ensemble goes through a proxy: for each directed pair of
members (i, j) and each port kind ("quorum", "election") there is one listening proxy,
proxy(i->j, kind), which forwards to member j's real port. Member i's zoo.cfg lists itself with
its real ports and every other member j at the address of proxy(i->j) (`ProxiedEnsemble`).
ZooKeeper tolerates members whose server.N lines differ (static config, version 0 everywhere)
and Corral does not compare them. Client ports are not proxied.

Election port detail (quorum-protocol.md §3): the initiator's initial message announces its own
election address, and ZooKeeper 3.8 dials *that* address when it calls a smaller sid back
(QuorumCnxManager.handleConnection: connectOne(sid, electionAddr)). The proxy therefore rewrites
the announced address on the way in (i->j: "address of i" becomes the address of proxy(j->i)),
so the call-back goes through a proxy too.

Faults, applied to the *flow of bytes from member a to member b* (on every connection between
them, whichever side initiated it, on both port kinds unless `kinds` says otherwise):

  cut(a, b, mode)   both directions. Existing connections are closed at once (RST both ways).
                    New connections: mode "refuse" accepts and resets them at once (as a closed
                    port would, seen from a connect that already succeeded), "blackhole" accepts
                    and holds them silently (bytes discarded, nothing forwarded) until the cut
                    heals, then closes them. Mode "hang" keeps existing connections open but
                    stalls both directions (a real partition: TCP retransmits until it heals) and
                    holds new ones like "blackhole".
  drop(a, b, mode)  one way: bytes from a to b are not delivered while b -> a still flows.
                    Mode "discard" throws them away; a connection that lost bytes is reset when
                    the drop heals (its byte stream is no longer framed correctly). Mode "stall"
                    stops reading from a (TCP flow control backs up to a's socket, as with a
                    one-way packet loss that TCP keeps retransmitting); the bytes flow on heal.
  delay(a, b, ms, jitter_ms)  every chunk from a to b is delivered `ms` + U(0, jitter_ms)
                    later, in order (a chunk never overtakes an earlier one).

The random draws of a flow (delay jitter) come from random.Random(f"{seed}:{a}->{b}"), one
generator per directed flow, so a given seed gives every flow the same sequence of delays.

All proxies of a `ProxyNet` run on one asyncio event loop in a daemon thread; the control
methods may be called from any thread and return once the change is in effect.
"""
import asyncio
import collections
import random
import socket
import struct
import threading
import time

from harness_ensemble import HOST, Ensemble, Member, reserve_ports  # puts harness on sys.path
from harness.servers import Server  # noqa: E402  (isort: after harness_ensemble)
from quorum_tap import QuorumTap  # noqa: E402
KINDS = ("quorum", "election")

# How long a proxy keeps retrying the connect to its target (refused: member down or, for a
# quorum port, not leading yet) before it closes the accepted connection. Without the proxy the
# peer's own connect would be refused and retried; holding the accepted connection for a while
# keeps that retry loop close to what a direct connection sees.
DEFAULT_CONNECT_PATIENCE = 1.0


def _sid(m):
    return m if isinstance(m, int) else m.sid


class FlowState:
    """Fault state of the bytes sent from member a to member b."""

    def __init__(self, seed, a, b):
        self.a, self.b = a, b
        self.rng = random.Random(f"{seed}:{a}->{b}")
        self.drop = None  # None | "discard" | "stall"
        self.drop_kinds = KINDS
        self.delay_ms = 0.0
        self.jitter_ms = 0.0
        self.delay_kinds = KINDS

    def chunk_delay(self, kind):
        if kind not in self.delay_kinds or (self.delay_ms <= 0 and self.jitter_ms <= 0):
            return 0.0
        return (self.delay_ms + self.rng.uniform(0.0, self.jitter_ms)) / 1000.0

    def dropping(self, kind):
        return self.drop if kind in self.drop_kinds else None

    def describe(self):
        parts = []
        if self.drop:
            parts.append(f"drop={self.drop}{'' if self.drop_kinds == KINDS else self.drop_kinds}")
        if self.delay_ms or self.jitter_ms:
            parts.append(f"delay={self.delay_ms:.0f}+U(0,{self.jitter_ms:.0f})ms")
        return ",".join(parts)


class _Side(asyncio.Protocol):
    """One socket of a proxied connection: 'down' (accepted from the initiator) or 'up' (to the
    target)."""

    def __init__(self, conn, which):
        self.conn = conn
        self.which = which
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport
        try:
            transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP,
                                                          socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass
        self.conn.side_made(self)

    def data_received(self, data):
        self.conn.data(self.which, data)

    def eof_received(self):
        self.conn.source_ended(self.which)
        return False

    def connection_lost(self, exc):
        self.conn.source_ended(self.which)

    def pause_writing(self):
        self.conn.backpressure(self.which, True)

    def resume_writing(self):
        self.conn.backpressure(self.which, False)


class _Pipe:
    """One direction of a proxied connection: bytes from member `a` (source side) to member `b`
    (destination side)."""

    def __init__(self, conn, a, b, src, dst, rewrite_hello):
        self.conn = conn
        self.a, self.b = a, b
        self.src, self.dst = src, dst  # 'down' / 'up'
        self.held = []  # chunks not deliverable yet (stall, target not connected yet)
        self.hello = bytearray() if rewrite_hello else None
        self.last_due = 0.0
        self.queue = collections.deque()  # (due time, chunk), in order
        self.timer = None
        self.ended = False  # the source closed: close dst after the queued chunks
        self.pause_reasons = set()

    @property
    def flow(self):
        return self.conn.net.flow(self.a, self.b)

    # -------------------------------------------------------------- input
    def feed(self, data):
        if self.hello is not None:
            self.hello += data
            data = self._rewrite_hello()
            if data is None:
                return
        if self.conn.blackholed:
            self.conn.net.count(self.conn.link, "blackholed", len(data))
            return
        self.held.append(bytes(data))
        self.pump()

    def _rewrite_hello(self):
        """The election initial message: protocol version (long < 0), sid (long), addrLen (int),
        addr. Returns the bytes to forward once it is complete (None before)."""
        buf = self.hello
        if len(buf) < 8:
            return None
        (version,) = struct.unpack_from(">q", buf, 0)
        if version >= 0:  # legacy: the first long is the sid, nothing else
            self.hello = None
            return bytes(buf)
        if len(buf) < 20:
            return None
        sid, length = struct.unpack_from(">qi", buf, 8)
        if length < 0 or length > 4096:
            self.hello = None
            return bytes(buf)
        if len(buf) < 20 + length:
            return None
        rest = bytes(buf[20 + length:])
        self.hello = None
        back = self.conn.net.links.get((self.b, sid, "election"))
        if back is None:  # not a member we proxy: leave it alone
            return bytes(buf[:20 + length]) + rest
        addr = f"{HOST}:{back.listen_port}".encode()
        self.conn.net.count(self.conn.link, "hello_rewritten", 1)
        return struct.pack(">qqi", version, sid, len(addr)) + addr + rest

    # -------------------------------------------------------------- output
    def pump(self):
        """Deliver or discard what is held, as the flow's state allows."""
        conn = self.conn
        if conn.closed:
            self.held.clear()
            return
        mode = self.flow.dropping(conn.kind)
        if conn.hung:
            mode = "stall"
        if mode == "discard":
            n = sum(len(c) for c in self.held)
            self.held.clear()
            if n:
                conn.tainted = True
                conn.net.count(conn.link, "discarded", n)
            self._resume("stall")
            return
        if mode == "stall":
            if self.held:
                self._pause("stall")
            return
        self._resume("stall")
        if conn.side(self.dst) is None:  # target not connected yet
            return
        while self.held:
            self._send(self.held.pop(0))
        self._maybe_finish()

    def _send(self, data):
        """Write now, or queue behind earlier chunks until its due time (FIFO: a chunk never
        overtakes an earlier one, whatever the delays drawn)."""
        loop = self.conn.net.loop
        now = loop.time()
        due = max(now + self.flow.chunk_delay(self.conn.kind), self.last_due)
        self.last_due = due
        if not self.queue and due <= now:
            self._write(data)
            return
        self.queue.append((due, data))
        if self.timer is None:
            self.timer = loop.call_at(self.queue[0][0], self._drain)

    def _drain(self):
        self.timer = None
        loop = self.conn.net.loop
        now = loop.time()
        while self.queue and self.queue[0][0] <= now:
            self._write(self.queue.popleft()[1])
        if self.queue:
            self.timer = loop.call_at(self.queue[0][0], self._drain)
        self._maybe_finish()

    def _maybe_finish(self):
        """After the source closed: close the connection once everything it sent is out."""
        if self.ended and not self.queue and not self.held:
            self.conn.close()

    def _write(self, data):
        side = self.conn.side(self.dst)
        if side is None or side.transport is None or side.transport.is_closing():
            return
        side.transport.write(data)
        self.conn.net.count(self.conn.link, f"bytes_{'fwd' if self.src == 'down' else 'back'}",
                            len(data))
        if self.conn.tap is not None:
            self.conn.tap.feed("up" if self.src == "down" else "down", data)

    def source_ended(self):
        self.ended = True
        if self.conn.blackholed or self.flow.dropping(self.conn.kind) == "discard":
            self.held.clear()
        self._maybe_finish()

    # -------------------------------------------------------------- reading from the source
    def _pause(self, reason):
        if reason in self.pause_reasons:
            return
        self.pause_reasons.add(reason)
        side = self.conn.side(self.src)
        if side is not None and side.transport is not None and not side.transport.is_closing():
            side.transport.pause_reading()

    def _resume(self, reason):
        if reason not in self.pause_reasons:
            return
        self.pause_reasons.discard(reason)
        if self.pause_reasons:
            return
        side = self.conn.side(self.src)
        if side is not None and side.transport is not None and not side.transport.is_closing():
            side.transport.resume_reading()


class _Conn:
    """One connection accepted by proxy(src->dst, kind) and its connection to the target."""

    def __init__(self, link):
        self.link = link
        self.net = link.net
        self.kind = link.kind
        self.down = None
        self.up = None
        self.closed = False
        self.tainted = False  # bytes were discarded: reset on heal
        self.blackholed = False
        self.hung = False
        # quorum_tap.TapConnection watching this learner -> leader connection (quorum port)
        self.tap = (self.net.tap.open(link.src, link.dst)
                    if self.net.tap is not None and link.kind == "quorum" else None)
        self.fwd = _Pipe(self, link.src, link.dst, "down", "up",
                         rewrite_hello=link.kind == "election")
        self.back = _Pipe(self, link.dst, link.src, "up", "down", rewrite_hello=False)

    def side(self, which):
        return self.down if which == "down" else self.up

    def pipe_from(self, which):
        return self.fwd if which == "down" else self.back

    def side_made(self, side):
        if side.which == "down":
            self.down = side
            self.link.start(self)
        else:
            self.up = side
            if self.closed:
                side.transport.abort()
                return
            self.fwd.pump()
            self.back.pump()

    def data(self, which, data):
        if not self.closed:
            self.pipe_from(which).feed(data)

    def source_ended(self, which):
        if not self.closed:
            self.pipe_from(which).source_ended()

    def backpressure(self, which, on):
        # `which` can no longer take writes: stop reading from the other side.
        pipe = self.fwd if which == "up" else self.back
        (pipe._pause if on else pipe._resume)("backpressure")

    def close(self, reset=False):
        if self.closed:
            return
        self.closed = True
        if self.tap is not None:
            self.tap.close()
        for side in (self.down, self.up):
            if side is None or side.transport is None:
                continue
            if reset:
                try:
                    side.transport.get_extra_info("socket").setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except (OSError, AttributeError):
                    pass
                side.transport.abort()
            else:
                side.transport.close()
        self.link.conns.discard(self)

    def refresh(self):
        self.fwd.pump()
        self.back.pump()


class LinkProxy:
    """proxy(src->dst, kind): listens on `listen_port`, forwards to `target_port`."""

    def __init__(self, net, src, dst, kind, listen_port, target_port):
        self.net = net
        self.src, self.dst, self.kind = src, dst, kind
        self.listen_port = listen_port
        self.target_port = target_port
        self.conns = set()
        self.server = None

    @property
    def key(self):
        return (self.src, self.dst, self.kind)

    async def open(self):
        self.server = await self.net.loop.create_server(
            self._accepted, HOST, self.listen_port, reuse_address=True)

    def _accepted(self):
        return _Side(_Conn(self), "down")  # its connection_made calls start()

    def start(self, conn):
        self.net.count(self, "accepted", 1)
        cut = self.net.cut_mode(self.src, self.dst, self.kind)
        if cut == "refuse":
            self.net.count(self, "refused", 1)
            conn.close(reset=True)
            return
        self.conns.add(conn)
        if cut in ("blackhole", "hang"):
            self.net.count(self, "held", 1)
            conn.blackholed = True
            return
        self.net.loop.create_task(self._connect_up(conn))

    async def _connect_up(self, conn):
        loop = self.net.loop
        deadline = loop.time() + self.net.connect_patience
        while not conn.closed:
            try:
                await asyncio.wait_for(
                    loop.create_connection(lambda: _Side(conn, "up"), HOST, self.target_port),
                    timeout=5.0)
                return
            except (OSError, asyncio.TimeoutError):
                if loop.time() >= deadline:
                    self.net.count(self, "target_unreachable", 1)
                    conn.close(reset=True)
                    return
                await asyncio.sleep(0.05)

    def close(self):
        if self.server is not None:
            self.server.close()
        for conn in list(self.conns):
            conn.close(reset=True)

    def __repr__(self):
        return (f"<proxy {self.src}->{self.dst} {self.kind} "
                f":{self.listen_port}->:{self.target_port}>")


class ProxyNet:
    """All proxies of one ensemble, their fault state, and the event loop thread they run on."""

    def __init__(self, seed=0, connect_patience=DEFAULT_CONNECT_PATIENCE, tap=None):
        self.seed = seed
        self.connect_patience = connect_patience
        self.tap = tap  # quorum_tap.QuorumTap (or None)
        self.links = {}  # (src, dst, kind) -> LinkProxy
        self._flows = {}  # (a, b) -> FlowState
        self._cuts = {}  # frozenset({a, b}) -> (mode, kinds)
        self.stats = {}  # (src, dst, kind) -> {counter: n}
        self.events = []  # (monotonic time, text) of every fault change
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="link-proxies", daemon=True)
        self._thread.start()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    # -------------------------------------------------------------- plumbing
    def _call(self, fn, *args, timeout=30.0):
        """Run fn(*args) on the loop thread (a coroutine function is awaited) and return its
        result."""
        async def runner():
            r = fn(*args)
            if asyncio.iscoroutine(r):
                r = await r
            return r
        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(timeout)

    def add_link(self, src, dst, kind, listen_port, target_port):
        link = LinkProxy(self, src, dst, kind, listen_port, target_port)
        self._call(link.open)
        self.links[link.key] = link
        return link

    def flow(self, a, b):
        f = self._flows.get((a, b))
        if f is None:
            f = self._flows[(a, b)] = FlowState(self.seed, a, b)
        return f

    def cut_mode(self, a, b, kind):
        c = self._cuts.get(frozenset((a, b)))
        if c is None or kind not in c[1]:
            return None
        return c[0]

    def count(self, link, name, n):
        s = self.stats.setdefault(link.key, {})
        s[name] = s.get(name, 0) + n

    def _conns_between(self, a, b, kinds=KINDS):
        for (s, d, k), link in self.links.items():
            if k in kinds and {s, d} == {a, b}:
                yield from list(link.conns)

    def _note(self, text):
        self.events.append((time.monotonic(), text))

    # -------------------------------------------------------------- faults
    def cut(self, a, b, mode="refuse", kinds=KINDS):
        a, b = _sid(a), _sid(b)
        assert mode in ("refuse", "blackhole", "hang"), mode

        def apply():
            self._cuts[frozenset((a, b))] = (mode, tuple(kinds))
            for conn in self._conns_between(a, b, kinds):
                if mode == "hang":
                    conn.hung = True
                    conn.refresh()
                else:
                    conn.close(reset=True)
        self._call(apply)
        self._note(f"cut {a}<->{b} {mode} {'/'.join(kinds)}")

    def uncut(self, a, b):
        a, b = _sid(a), _sid(b)

        def apply():
            self._cuts.pop(frozenset((a, b)), None)
            for conn in self._conns_between(a, b):
                if conn.blackholed:
                    conn.close(reset=True)
                elif conn.hung:
                    conn.hung = False
                    conn.refresh()
        self._call(apply)
        self._note(f"uncut {a}<->{b}")

    def drop(self, a, b, mode="discard", kinds=KINDS):
        """Bytes from a to b are not delivered (b -> a still flows)."""
        a, b = _sid(a), _sid(b)
        assert mode in ("discard", "stall"), mode

        def apply():
            f = self.flow(a, b)
            f.drop, f.drop_kinds = mode, tuple(kinds)
            for conn in self._conns_between(a, b, kinds):
                conn.refresh()
        self._call(apply)
        self._note(f"drop {a}->{b} {mode} {'/'.join(kinds)}")

    def undrop(self, a, b):
        a, b = _sid(a), _sid(b)

        def apply():
            f = self.flow(a, b)
            f.drop = None
            for conn in self._conns_between(a, b):
                if conn.tainted:
                    conn.close(reset=True)
                else:
                    conn.refresh()
        self._call(apply)
        self._note(f"undrop {a}->{b}")

    def delay(self, a, b, ms, jitter_ms=0.0, both=True, kinds=KINDS):
        a, b = _sid(a), _sid(b)

        def apply():
            for x, y in ((a, b), (b, a)) if both else ((a, b),):
                f = self.flow(x, y)
                f.delay_ms, f.jitter_ms, f.delay_kinds = float(ms), float(jitter_ms), tuple(kinds)
        self._call(apply)
        self._note(f"delay {a}{'<->' if both else '->'}{b} {ms}+U(0,{jitter_ms})ms")

    def heal(self):
        """Remove every cut, drop and delay."""
        for pair in list(self._cuts):
            self.uncut(*sorted(pair))
        for (a, b), f in list(self._flows.items()):
            if f.drop:
                self.undrop(a, b)

        def nodelay():
            for f in self._flows.values():
                f.delay_ms = f.jitter_ms = 0.0
        self._call(nodelay)
        self._note("heal")

    def faults(self):
        """A short text of the faults in effect (empty when healed)."""
        out = [f"cut {'<->'.join(map(str, sorted(p)))} {m}" for p, (m, _) in self._cuts.items()]
        out += [f"{a}->{b} {f.describe()}" for (a, b), f in sorted(self._flows.items())
                if f.describe()]
        return "; ".join(out)

    def connection_count(self):
        return self._call(lambda: sum(len(l.conns) for l in self.links.values()))

    def close(self):
        if not self.loop.is_running():
            return
        try:
            self._call(lambda: [l.close() for l in self.links.values()], timeout=10)
        except Exception:  # noqa: BLE001 - best effort at cleanup
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


# ----------------------------------------------------------------------------- ensemble

class ProxiedMember(Member):
    """A Member whose zoo.cfg names every *other* member at the address of the proxy
    (this member -> that member), and itself at its real ports."""

    def _config_lines(self, keys):
        text = Server._config_lines(self, keys)
        if self.role == "observer":
            text += "peerType=observer\n"
        return text + "".join(self.ensemble.server_line_seen_by(self, m) + "\n"
                              for m in self.ensemble.members)


class ProxiedEnsemble(Ensemble):
    """An Ensemble whose peer-to-peer traffic goes through a ProxyNet (see the module doc).

    Fault helpers (members given as Member or sid): cut / uncut, partition(A, B), isolate(m),
    drop / undrop (one way), delay, heal(). `net` is the ProxyNet (its `events` list every
    change, `stats` the bytes and connections per proxy). `tap` is a quorum_tap.QuorumTap on
    every learner -> leader connection (tap=False: none)."""

    def __init__(self, impls, seed=0, connect_patience=DEFAULT_CONNECT_PATIENCE, tap=True,
                 **kw):
        super().__init__(impls, **kw)
        for m in self.members:
            m.__class__ = ProxiedMember  # only _config_lines differs
        self.tap = QuorumTap(impl_of=lambda sid: self.member(sid).impl) if tap else None
        self.net = ProxyNet(seed, connect_patience=connect_patience, tap=self.tap)
        n = len(self.members)
        ports = reserve_ports(2 * n * (n - 1))
        try:
            for a in self.members:
                for b in self.members:
                    if a is not b:
                        self.net.add_link(a.sid, b.sid, "quorum", ports.pop(), b.quorum_port)
                        self.net.add_link(a.sid, b.sid, "election", ports.pop(),
                                          b.election_port)
        except BaseException:
            self.net.close()
            raise

    def server_line_seen_by(self, viewer, m):
        if m is viewer:
            return m.server_line()
        q = self.net.links[(viewer.sid, m.sid, "quorum")].listen_port
        e = self.net.links[(viewer.sid, m.sid, "election")].listen_port
        return f"server.{m.sid}={HOST}:{q}:{e}:{m.role}"

    # -------------------------------------------------------------- faults
    def cut(self, a, b, mode="refuse", kinds=KINDS):
        self.net.cut(a, b, mode, kinds)

    def uncut(self, a, b):
        self.net.uncut(a, b)

    def partition(self, side_a, side_b, mode="refuse"):
        """No traffic between any member of side_a and any member of side_b."""
        for a in side_a:
            for b in side_b:
                self.net.cut(a, b, mode)

    def isolate(self, member, mode="refuse"):
        self.partition([member], [m for m in self.members if m is not member], mode)

    def drop(self, a, b, mode="discard", kinds=KINDS):
        self.net.drop(a, b, mode, kinds)

    def undrop(self, a, b):
        self.net.undrop(a, b)

    def delay(self, a, b, ms, jitter_ms=0.0, both=True, kinds=KINDS):
        self.net.delay(a, b, ms, jitter_ms, both, kinds)

    def heal(self):
        self.net.heal()

    def cleanup(self):
        try:
            super().cleanup()
        finally:
            self.net.close()
