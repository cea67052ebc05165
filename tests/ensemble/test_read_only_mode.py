"""Read-only mode (readonlymode.enabled): a member cut off from the quorum serves read-only
clients, refuses writes, and returns to normal service with the quorum. A JVM system property for
ZooKeeper, a zoo.cfg key for Corral. Reference: Apache ZooKeeper 3.8 (--impl zookeeper).
"""
import time

import pytest
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.protocol.states import KeeperState

from harness import raw
from harness.util import wait_until
from harness_ensemble import assert_same_everywhere, parse_srvr
from test_ensemble_basic import peer_port

from observer_support import (
    NOTREADONLY, mntr, raw_connect_reply)


# ============================================================================ read-only mode

RO_SETTINGS = {"readonlymode.enabled": True}


def test_read_only_member_serves_read_only_sessions(make_ensemble, record_timing):
    """readonlymode.enabled=true with localSessionsEnabled=true. ZooKeeper 3.8's read-only
    server takes local sessions only (see the next test), so this is the configuration in
    which read-only clients work.

    With both followers stopped, the former leader and the observer each start a read-only
    server a few seconds later: srvr has the line `READ-ONLY mode; serving only read-only
    clients` and `Mode: read-only`, isro says `ro`, mntr `zk_server_state read-only`. A kazoo
    client with read_only=True connects (CONNECTED_RO), reads data and children, and every
    write (create, set, delete, sync) fails with NotReadOnlyCallError. A client without
    read_only is refused (the connection is closed). When a follower is back, isro says `rw`
    again; a read-only kazoo client that was connected to the member finds the r/w server by
    itself (its read-only session is unknown to the quorum: LOST, then a new session) and can
    write."""
    ens = make_ensemble(4, observers=(4,), leader_sid=3,
                        settings=dict(RO_SETTINGS, localSessionsEnabled=True))
    lone = ens.leader()
    f1, f2 = ens.followers()
    o = ens.member(4)
    c = ens.client(lone)
    c.create("/ro", b"data")
    c.create("/ro/kid", b"")
    ens.close_client(c)
    for m in ens:
        assert m.four_letter("isro") == "rw"

    t0 = time.monotonic()
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro" and o.four_letter("isro") == "ro",
               timeout=60, interval=0.1,
               message=f"not read-only: {lone.four_letter('isro')} {o.four_letter('isro')}")
    record_timing("2 followers stopped -> lone voter and observer read-only",
                  time.monotonic() - t0)
    for m in (lone, o):
        srvr = m.four_letter("srvr")
        assert "READ-ONLY mode; serving only read-only clients\n" in srvr, srvr
        assert parse_srvr(srvr)["Mode"] == "read-only"
        assert mntr(m)["zk_server_state"] == "read-only"

        rc = ens.client(m, read_only=True)
        assert rc.client_state == KeeperState.CONNECTED_RO
        assert rc.get("/ro")[0] == b"data"
        assert rc.get_children("/ro") == ["kid"]
        assert rc.exists("/ro/none") is None
        for call in (lambda: rc.create("/ro/new", b""),
                     lambda: rc.set("/ro", b"x"),
                     lambda: rc.delete("/ro/kid"),
                     lambda: rc.sync("/ro")):
            with pytest.raises(NotReadOnlyCallError):
                call()
        assert rc.get("/ro")[0] == b"data"
        ens.close_client(rc)

        kind, _ = raw_connect_reply(m, read_only=False)
        assert kind == "closed", f"member {m.sid}: a not-read-only client got {kind}"

    rc = ens.client([lone, f1, f2], read_only=True, randomize_hosts=False)
    assert rc.client_state == KeeperState.CONNECTED_RO and peer_port(rc) == lone.port
    states = []
    rc.add_listener(states.append)
    t1 = time.monotonic()
    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1,
               message="the former lone member is not r/w again")
    wait_until(lambda: rc.client_state == KeeperState.CONNECTED, timeout=60, interval=0.1,
               message=f"the read-only client found no r/w server: {rc.client_state}")
    record_timing("follower back -> read-only client r/w again", time.monotonic() - t1)
    rc.create("/ro/after", b"rw")
    ens.start_member(f2)
    wait_until(lambda: o.four_letter("isro") == "rw", timeout=60, interval=0.1,
               message="the observer is not r/w again")
    tree = assert_same_everywhere(ens, "/ro")
    assert sorted(tree) == ["/ro", "/ro/after", "/ro/kid"]


def test_read_only_member_refuses_global_sessions(make_ensemble):
    """readonlymode.enabled=true, global sessions (the default). A read-only member refuses an
    existing session reconnecting read-only ("Refusing global session reconnection in RO
    mode": the connection is closed) and a client without read_only (closed). `isro` says
    `ro`. With the quorum back the existing session reconnects, and a read-only client gets a
    normal ConnectResponse with readOnly false."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    f1, f2 = ens.followers()
    existing = raw.connect(lone.port, timeout=30000, read_only=True)
    session_id, passwd = existing.session_id, existing.passwd
    existing.close()
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")

    kind, _ = raw_connect_reply(lone, read_only=True, session_id=session_id, passwd=passwd)
    assert kind == "closed", kind
    kind, _ = raw_connect_reply(lone, read_only=False)
    assert kind == "closed", kind

    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1)
    kind, resp = raw_connect_reply(lone, read_only=True, session_id=session_id, passwd=passwd)
    assert kind == "response" and resp.session_id == session_id and resp.read_only is False
    kind, resp = raw_connect_reply(lone, read_only=True)
    assert kind == "response" and resp.session_id != 0 and resp.read_only is False


@pytest.mark.known_difference(
    "corral", reason="Corral's read-only sessions are always local: a new read-only session is "
                     "served without localSessionsEnabled=true (test_read_only_sessions_are_local_"
                     "without_local_sessions_enabled); ZooKeeper 3.8 answers it with a bare "
                     "NOTREADONLY header (ZOOKEEPER-3863, documented by apache/zookeeper#1922)")
def test_read_only_new_global_session_gets_a_notreadonly_header(make_ensemble):
    """readonlymode.enabled=true, global sessions (the default). ZooKeeper 3.8's read-only
    server cannot create a global session: a new session asked by a read-only client is
    answered with a bare 16-byte reply header (xid 0, err -119 NOTREADONLY, from
    ReadOnlyRequestProcessor refusing the createSession) instead of a ConnectResponse, so no
    read-only client connects unless localSessionsEnabled=true."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    for f in ens.followers():
        f.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")
    kind, header = raw_connect_reply(lone, read_only=True)
    assert kind == "header", (kind, header)
    xid, _zxid, err = header
    assert (xid, err) == (0, NOTREADONLY)


@pytest.mark.corral_only
def test_read_only_sessions_are_local_without_local_sessions_enabled(make_ensemble):
    """Corral-only (a known difference, see the test above): with readonlymode.enabled=true and
    the default localSessionsEnabled=false, a read-only member still serves read-only clients,
    on sessions local to it (ConnectResponse readOnly true), refusing writes with NOTREADONLY;
    such a session is unknown to the quorum once it is back (the client gets a new one)."""
    ens = make_ensemble(3, leader_sid=3, settings=RO_SETTINGS)
    lone = ens.leader()
    f1, f2 = ens.followers()
    c = ens.client(lone)
    c.create("/local-ro", b"v")
    ens.close_client(c)
    f1.stop()
    f2.stop()
    wait_until(lambda: lone.four_letter("isro") == "ro", timeout=60, interval=0.1,
               message="the lone member is not read-only")
    kind, resp = raw_connect_reply(lone, read_only=True)
    assert kind == "response" and resp.session_id != 0 and resp.read_only is True, (kind, resp)
    rc = ens.client(lone, read_only=True)
    assert rc.client_state == KeeperState.CONNECTED_RO
    assert rc.get("/local-ro")[0] == b"v"
    with pytest.raises(NotReadOnlyCallError):
        rc.create("/local-ro/new", b"")
    ens.close_client(rc)
    # A read-only session dropped without closing it (as a client cut off would be).
    ro = raw.connect(lone.port, timeout=30000, read_only=True)
    ro_session, ro_passwd = ro.session_id, ro.passwd
    ro.close()
    ens.start_member(f1)
    wait_until(lambda: lone.four_letter("isro") == "rw", timeout=60, interval=0.1)
    kind, resp = raw_connect_reply(lone, read_only=True, session_id=ro_session, passwd=ro_passwd)
    assert kind == "response" and resp.session_id == 0, (kind, resp)  # expired: never global
