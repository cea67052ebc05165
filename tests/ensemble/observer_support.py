"""Shared parts of the observer suites (test_observers.py, test_read_only_mode.py,
test_observer_masters.py, test_observers_mixed.py): constants, raw-protocol helpers, and the
shared 3 voters + 2 observers ensembles (`observed`, and `om` with observer masters on
distinct loopback addresses). See README.md ("Observers, observer masters, read-only mode").
"""
import json
import re
import socket
import struct
import threading
import urllib.request

from kazoo.protocol.states import EventType

from harness import raw
from harness.util import wait_until
from harness_ensemble import HOST, NOT_SERVING, parse_mntr, reserve_ports

OBSERVERS = (4, 5)  # sids 4 and 5 of 5 members: 3 voters, 2 observers

OBSERVERINFO = 16
LEADERINFO = 17
ACKEPOCH = 18
NOTREADONLY = -119

# The keys of one entry of the AdminServer `observers` list (ZooKeeper 3.8.0, observed).
OBSERVER_ENTRY_KEYS = {"remote_socket_address", "sid", "established", "queued_packets",
                       "queued_packets_size", "packets_received", "packets_sent", "requests",
                       "last_zxid"}


# ============================================================================ helpers

def admin_settings(host, port):
    """zoo.cfg keys of an AdminServer on host:port (both servers read the same keys)."""
    return {"admin.enableServer": True, "admin.serverAddress": host, "admin.serverPort": port}


def with_admin(sids, hosts=None):
    """member_settings giving every member in `sids` its own AdminServer port."""
    ports = reserve_ports(len(sids))
    return {sid: admin_settings((hosts or {}).get(sid, HOST), port)
            for sid, port in zip(sids, ports)}


def admin_command(member, name, timeout=10.0):
    """GET /commands/<name> on the member's AdminServer; the decoded JSON object."""
    host = member.settings["admin.serverAddress"]
    port = member.settings["admin.serverPort"]
    url = f"http://{host}:{port}/commands/{name}"
    with urllib.request.urlopen(url, timeout=timeout) as r:
        assert r.status == 200
        return json.loads(r.read())


def mntr(member):
    return parse_mntr(member.four_letter("mntr"))


def master_of(observer):
    """The sid the observer says it learns from (mntr zk_observer_master_id), or None."""
    v = mntr(observer).get("zk_observer_master_id")
    return int(v) if v is not None else None


def masters_in_log(observer):
    """ZooKeeper observer: (sid, host, port) of each learner master it attached to since its
    last start, in order, from `Observer: Observing new leader sid=N addr=/host:port`."""
    out = []
    for line in observer.log_since_start().splitlines():
        m = re.search(r"Observing new leader sid=(\d+) addr=\S*?/?([\d.]+):(\d+)", line)
        if m:
            out.append((int(m.group(1)), m.group(2), int(m.group(3))))
    return out


class Watches:
    """Data, child and exists watches of one client, recorded as (kind, type, path)."""

    def __init__(self, client):
        self.client = client
        self.events = []
        self._cond = threading.Condition()

    def _cb(self, kind):
        def cb(ev):
            with self._cond:
                self.events.append((kind, ev.type, ev.path))
                self._cond.notify_all()
        return cb

    def data(self, path):
        return self.client.get(path, watch=self._cb("data"))

    def child(self, path):
        return self.client.get_children(path, watch=self._cb("child"))

    def exists(self, path):
        return self.client.exists(path, watch=self._cb("exists"))

    def wait(self, n, timeout=20.0):
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.events) >= n, timeout)
        assert ok, f"{len(self.events)} of {n} watch events within {timeout}s: {self.events}"
        return sorted(self.events, key=str)

    def take(self, n, timeout=20.0):
        got = self.wait(n, timeout)
        with self._cond:
            self.events.clear()
        return got


def raw_connect_reply(member, read_only=True, session_id=0, passwd=b"\x00" * 16, timeout=8.0):
    """Sends a ConnectRequest; returns ("response", ConnectResponse), ("header", (xid, zxid,
    err)) for a 16-byte frame, ("closed", None) or ("silent", None)."""
    c = raw.RawConnection(member.port, host=member.host)
    try:
        c.send_frame(raw.connect_request(timeout=10000, session_id=session_id, passwd=passwd,
                                         read_only=read_only))
        try:
            payload = c.read_frame(timeout)
        except raw.ConnectionClosed:
            return "closed", None
        except socket.timeout:
            return "silent", None
        if len(payload) == 16:
            return "header", struct.unpack(">iqi", payload)
        return "response", raw.parse_connect_response(payload)
    finally:
        c.close()


def wait_not_serving(members, timeout=30.0):
    wait_until(lambda: all(m.four_letter("srvr") == NOT_SERVING + "\n" for m in members),
               timeout=timeout, interval=0.05,
               message=f"still serving: {[(m.sid, m.mode()) for m in members]}")


def write_via_one_observer_seen_on_the_other(ens, base, text):
    """A set through observer 4 fires a data watch on observer 5 and reads back there; returns
    the clients of the leader (which created `base`), observer 4 and observer 5."""
    lc = ens.client(ens.leader())
    lc.create(base, b"v0")
    o4, o5 = ens.observers()
    c4, c5 = ens.client(o4), ens.client(o5)
    w5 = Watches(c5)
    c5.sync(base)
    w5.data(base)
    c4.set(base, text)
    assert w5.take(1) == [("data", EventType.CHANGED, base)]
    assert c5.get(base)[0] == text
    return lc, c4, c5


# ============================================================================ observer masters

def followers_masters(ens):
    """sid of each follower -> its zk_synced_observers (observers attached to it)."""
    return {f.sid: int(mntr(f).get("zk_synced_observers", "0")) for f in ens.followers()}


def wait_attached(ens, timeout=30.0):
    """Wait until each observer serves with a follower as its master; returns observer sid ->
    master sid."""
    fsids = {f.sid for f in ens.followers()}
    got = {}

    def ok():
        got.clear()
        got.update({o.sid: master_of(o) for o in ens.observers()})
        return all(v in fsids for v in got.values())
    wait_until(ok, timeout, interval=0.1,
               message=f"observers not attached to followers: {got}")
    return dict(got)
