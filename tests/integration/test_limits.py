"""Connection limits: maxClientCnxns per client address (admin-and-ops.md §4)."""
from harness import raw
from harness.util import wait_until


def _try_session(srv):
    """Return an established RawConnection, or None if the server refuses/closes."""
    c = raw.RawConnection(srv.port, timeout=5)
    try:
        resp = c.handshake(read_timeout=5)
        if resp.session_id:
            return c
    except (raw.ConnectionClosed, OSError):
        pass
    c.close()
    return None


def _refused_without_reply(srv):
    try:
        extra = raw.RawConnection(srv.port, timeout=5)
    except OSError:
        return True  # closed by the server while connecting
    with extra:
        try:
            extra.send_frame(raw.connect_request())
        except OSError:
            pass
        return extra.read_all_until_closed(timeout=5) == []


def test_max_client_cnxns_per_address(start_server):
    srv = start_server(maxClientCnxns=3)
    conns = []
    try:
        for _ in range(3):
            c = _try_session(srv)
            assert c is not None
            conns.append(c)
        # the fourth connection from 127.0.0.1 is closed without a ConnectResponse
        assert _refused_without_reply(srv)
        # the existing connections are unaffected
        for c in conns:
            assert c.exists("/")[0] == 0
        # after one goes away, a new one is accepted again
        conns.pop().close_session()
        c = wait_until(lambda: _try_session(srv), timeout=10, interval=0.1)
        conns.append(c)
        assert c.exists("/")[0] == 0
    finally:
        for c in conns:
            c.close()


def test_many_connections_by_default(server):
    conns = []
    try:
        for _ in range(20):
            c = _try_session(server)
            assert c is not None
            conns.append(c)
        for c in conns:
            assert c.exists("/")[0] == 0
    finally:
        for c in conns:
            c.close()
