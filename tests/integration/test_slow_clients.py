"""A hostile client: it pipelines requests as fast as it can and never reads a reply.

What Apache ZooKeeper 3.8.0 does (measured with this harness: NIO factory, -Xmx512m, one
such client asking for a 100 KB znode or for exists("/")): it never stops reading the
connection, so it keeps taking requests and touching the session, and queues every reply in
the connection's unbounded outgoing queue (NIOServerCnxn.outgoingBuffers; Netty's channel
buffer is unbounded too). Replies to getData of one node share one serialized buffer
(ZooKeeper's response cache), so the heap grows by a few hundred bytes per request: RSS went
from 65 MB to ~600 MB (heap full) in 2-4 minutes; from there the JVM spends its time in
garbage collection and other clients wait up to 10 s per request. The connection is never
closed.

Corral bounds it instead (sdk::OutputLimits, kernel/admission): past 4 MiB of unsent output
the connection takes no new request and is not read, so its session is no longer touched; a
connection whose output makes no progress for its session timeout is closed (a client that
hears nothing for that long has given up anyway), and one past 64 MiB is closed at once.

The same test runs on both servers and asserts what each does: memory (Corral: tens of MB;
ZooKeeper: bounded only by its heap, -Xmx512m), other clients answered within a bounded time
on both, and the hostile connection closed by Corral within a few session timeouts but kept
open (and read) by ZooKeeper.
"""
import struct
import time

import pytest
from kazoo.client import KazooClient

from harness import raw
from harness.hostile import NeverReadingSender, rss_bytes
from harness.servers import corral_rss_allowance

TICK_MS = 1000
HOSTILE_TIMEOUT_MS = 2 * TICK_MS          # minSessionTimeout: the shortest the server grants
WINDOW_S = 4 * HOSTILE_TIMEOUT_MS / 1000  # how long the hostile client runs
BIG_DATA = b"x" * 100_000
# Corral: the 4 MiB soft limit, the batch being written and allocator slack.
CORRAL_RSS_GROWTH_MAX = 48 * 1024 * 1024
# ZooKeeper: the JVM heap (-Xmx512m in harness/servers.py) plus what the JVM keeps besides it
# (metaspace, code cache, thread stacks, direct buffers).
ZK_HEAP = 512 * 1024 * 1024
ZK_RSS_GROWTH_MAX = ZK_HEAP + 256 * 1024 * 1024
# Every request of the well-behaved client must be answered within this.
OTHER_CLIENT_MAX_LATENCY_S = 5.0


class HostileClient(NeverReadingSender):
    """A session whose connection gets pipelined requests (xid 1 over and over) from a thread
    until the server closes it or stop() is called; never reads."""

    def __init__(self, srv, op, body):
        self.conn = raw.RawConnection(srv.port, timeout=10)
        self.conn.handshake(timeout=HOSTILE_TIMEOUT_MS)
        assert self.conn.session_id != 0
        frame = struct.pack(">iii", 8 + len(body), 1, op) + body
        super().__init__(self.conn.sock, frame * max(1, 65536 // len(frame)))

    def stop(self):
        super().stop()
        self.conn.close()


@pytest.mark.parametrize("request_kind", ["getData-100KB", "exists"])
def test_client_that_never_reads(start_server, impl, request_kind):
    srv = start_server(tickTime=TICK_MS)
    zk = KazooClient(hosts=srv.hosts, timeout=10.0)
    zk.start(timeout=15)
    hostile = None
    try:
        zk.create("/big", BIG_DATA)
        if request_kind == "exists":
            op, body = raw.Op.EXISTS, raw.path_watch_body("/", False)
        else:
            op, body = raw.Op.GET_DATA, raw.path_watch_body("/big", False)
        baseline = rss_bytes(srv.proc.pid)

        hostile = HostileClient(srv, op, body)
        hostile.start()
        peak = baseline
        slowest = 0.0
        deadline = time.monotonic() + WINDOW_S
        while time.monotonic() < deadline:
            peak = max(peak, rss_bytes(srv.proc.pid))
            started = time.monotonic()
            assert zk.exists("/big") is not None
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.1)  # sampling period of the well-behaved client, not a wait
        peak = max(peak, rss_bytes(srv.proc.pid))
        growth = peak - baseline

        print(f"{impl} {request_kind}: RSS {baseline >> 20} -> {peak >> 20} MiB, slowest other "
              f"request {slowest * 1000:.0f} ms, hostile sent {hostile.sent >> 10} KiB, "
              f"closed by server: {hostile.closed_by_server.is_set()} ({hostile.error})")
        assert slowest < OTHER_CLIENT_MAX_LATENCY_S, f"another client waited {slowest:.1f} s"
        assert hostile.sent > 0
        if impl == "corral":
            assert growth < corral_rss_allowance(CORRAL_RSS_GROWTH_MAX), f"RSS grew by {growth >> 20} MiB"
            # Closed once its output stopped moving for its session timeout (the window is
            # four of them).
            assert hostile.closed_by_server.is_set(), "the hostile connection is still open"
        else:
            assert growth < ZK_RSS_GROWTH_MAX, f"RSS grew by {growth >> 20} MiB"
            # ZooKeeper keeps reading the connection: its session (timeout 2 s) is touched by
            # every request, so after four session timeouts it is still open.
            assert not hostile.closed_by_server.is_set(), "ZooKeeper closed the connection"
        # The well-behaved client is still fine afterwards.
        zk.set("/big", b"after")
        assert zk.get("/big")[0] == b"after"
    finally:
        if hostile is not None:
            hostile.stop()
        zk.stop()
        zk.close()

