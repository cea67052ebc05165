"""frontend.thrift's resource limits: a client that keeps calling and never reads its replies
or the watch events they carry, and thrift.maxConnections.

Corral only: the Thrift port has no ZooKeeper counterpart. The ZooKeeper-protocol side of the
never-reading client (and what ZooKeeper 3.8 does with it) is test_slow_clients.py; this is the
same rule on the Thrift port, where watch events wait inside the server for the next reply and
so count against the same output limits.
"""
import time

import pytest

from harness import raw
from harness.hostile import NeverReadingSender, rss_bytes
from harness.servers import corral_rss_allowance
from harness.thrift_client import T, needs_thrift, new_client, start_server_for
from harness.thrift_wire import (closed_by_server, connect, frame, message, open_session,
                                 parse_reply, read_frame)
from harness.util import wait_until

pytestmark = [pytest.mark.corral_only, pytest.mark.frontend_only, needs_thrift]

TICK_MS = 500
HOSTILE_TIMEOUT_MS = 2 * TICK_MS          # minSessionTimeout: the shortest the server grants
WINDOW_S = 6 * HOSTILE_TIMEOUT_MS / 1000  # how long the writer runs while the hostile client calls
CORRAL_RSS_GROWTH_MAX = 48 * 1024 * 1024  # the 4 MiB soft limit, the batch in flight, allocator slack
OTHER_CLIENT_MAX_LATENCY_S = 5.0


def call(sock, name, args, seqid, result_cls):
    sock.sendall(frame(message(name, args, seqid)))
    _, _, _, value = parse_reply(read_frame(sock), result_cls)
    assert getattr(value, "error", None) is None and value.success is not None, value
    return value.success


def ping_flooder(sock):
    """Pipelined pings (each reply would carry the session's queued watch events), never read."""
    chunk = b"".join(frame(message("ping", T.Corral.ping_args(waitMs=0), q)) for q in range(1000))
    return NeverReadingSender(sock, chunk).start()


@pytest.fixture
def srv(server_factory):
    s = start_server_for(server_factory, {"tickTime": TICK_MS}, name="thrift-limits",
                         thrift={"thrift.maxConnections": 3})
    yield s
    server_factory.stop(s)


def test_client_that_never_reads_its_replies_and_events(srv):
    """The never-reading session watches a busy subtree: its replies and held events are
    bounded (RSS), other clients are answered, its connection is closed and its session
    expires (its ephemeral goes)."""
    writer = new_client(srv)
    writer.create("/slow", b"")
    hostile = connect(srv)
    open_session(hostile, timeout_ms=HOSTILE_TIMEOUT_MS)
    acl = [T.tt.ACL(perms=31, id=T.tt.Id(scheme="world", id="anyone"))]
    call(hostile, "create", T.Corral.create_args(path="/slow/owner", data=b"", acl=acl,
                                                 mode=T.tt.CreateMode.EPHEMERAL, ttl=0),
         2, T.Corral.create_result)
    call(hostile, "addWatch", T.Corral.addWatch_args(path="/slow", mode=T.tt.AddWatchMode.PERSISTENT_RECURSIVE),
         3, T.Corral.addWatch_result)
    baseline = rss_bytes(srv.proc.pid)
    flooder = ping_flooder(hostile)
    try:
        peak, slowest, writes = baseline, 0.0, 0
        deadline = time.monotonic() + WINDOW_S
        while time.monotonic() < deadline:
            started = time.monotonic()
            writer.set_data("/slow", b"e" * 512)  # one event for the hostile session each
            slowest = max(slowest, time.monotonic() - started)
            writes += 1
            if writes % 50 == 0:
                peak = max(peak, rss_bytes(srv.proc.pid))
        peak = max(peak, rss_bytes(srv.proc.pid))
        print(f"RSS {baseline >> 20} -> {peak >> 20} MiB, {writes} writes (events), slowest "
              f"{slowest * 1000:.0f} ms, hostile sent {flooder.sent >> 10} KiB, closed: "
              f"{flooder.closed_by_server.is_set()} ({flooder.error})")
        assert slowest < OTHER_CLIENT_MAX_LATENCY_S, f"another client waited {slowest:.1f} s"
        assert peak - baseline < corral_rss_allowance(CORRAL_RSS_GROWTH_MAX), f"RSS grew by {(peak - baseline) >> 20} MiB"
        # Its output stopped moving for its session timeout (the window is six of them).
        assert flooder.closed_by_server.wait(5 * HOSTILE_TIMEOUT_MS / 1000) or closed_by_server(hostile)
        wait_until(lambda: writer.exists("/slow/owner").stat is None, timeout=10,
                   message="the never-reading session's ephemeral is still there")
        assert writer.get_data("/slow").data == b"e" * 512
    finally:
        flooder.stop()
        hostile.close()
        writer.close()


def test_max_connections_refuses_the_next_connection_until_one_closes(srv):
    clients = [new_client(srv) for _ in range(3)]
    try:
        # Refused with a reset: seen in connect() itself or on the first read.
        try:
            extra = connect(srv)
        except ConnectionResetError:
            pass
        else:
            assert closed_by_server(extra), "a fourth Thrift connection was kept open"
            extra.close()
        # The jute port has limits of its own: it still serves.
        with raw.connect(srv.port) as jute:
            assert jute.exists("/")[0] == 0
        clients.pop().close()
        later = wait_until(lambda: _try_client(srv), timeout=10,
                           message="no Thrift connection after one of three closed")
        later.create("/after-limit", b"ok")
        clients.append(later)
        assert clients[0].get_data("/after-limit").data == b"ok"
    finally:
        for c in clients:
            c.close()


def _try_client(srv):
    try:
        return new_client(srv, io_timeout_ms=2000)
    except Exception:
        return None
