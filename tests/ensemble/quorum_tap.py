"""A passive tap on learner <-> leader connections (quorum port), fed by the link proxies.

It parses the QuorumPacket stream in both directions (quorum-protocol.md §5, including the
inline SNAP payload of §7.3) and checks one rule a ZooKeeper 3.8 learner depends on: the leader
answers the requests a learner forwards, in the order it forwarded them, for as long as the
connection lasts.

  * REQUEST (1) from the learner: (sessionId, cxid, type). The leader's answer is the PROPOSAL
    (2) whose TxnHeader has that clientId and cxid (an ErrorTxn for a failed request) and then
    the COMMIT (4) of that zxid, or, for type 9 (sync), the next SYNC (7) packet. An observer
    gets neither PROPOSAL nor COMMIT: its answer is the INFORM (8) of the committed txn (same
    data as the PROPOSAL), which is proposal and commit in one.
  * REVALIDATE (6) from the learner: answered by a REVALIDATE for that session.

ZooKeeper's follower matches a commit to its own pending write only when it is the head of its
queue of local writes (CommitProcessor: "commits are received in order"); a request the leader
never proposes, or proposes after a later one, leaves that follower's CommitProcessor waiting
forever: it goes on applying commits but never answers its own clients' writes again (new
sessions included). The tap reports:

  * skipped   - the leader proposed a later request of the learner while an earlier one (not a
                sync) was not proposed yet;
  * out-of-order - a forwarded request completed (the COMMIT of its proposal, or the SYNC of a
                sync) before an earlier forwarded one: ZooKeeper's follower keeps ONE queue of
                its local writes and syncs and matches a commit only against its head;
  * stuck     - a forwarded request unanswered for more than `stuck_after` seconds while the
                connection stayed open (checked by `findings()`).

Requests still pending when a connection closes are fine (the learner resets). Any parse error
disables the tap for that connection (noted), never the proxy.
"""
import struct
import threading
import time

PACKET_NAMES = {1: "REQUEST", 2: "PROPOSAL", 3: "ACK", 4: "COMMIT", 5: "PING", 6: "REVALIDATE",
                7: "SYNC", 8: "INFORM", 9: "COMMITANDACTIVATE", 10: "NEWLEADER",
                11: "FOLLOWERINFO", 12: "UPTODATE", 13: "DIFF", 14: "TRUNC", 15: "SNAP",
                16: "OBSERVERINFO", 17: "LEADERINFO", 18: "ACKEPOCH", 19: "INFORMANDACTIVATE"}
OP_NAMES = {1: "create", 2: "delete", 5: "setData", 7: "setACL", 9: "sync", 13: "check",
            14: "multi", 15: "create2", 16: "reconfig", 19: "createContainer",
            20: "deleteContainer", 21: "createTTL", -10: "createSession", -11: "closeSession",
            -1: "error"}


class _Incomplete(Exception):
    pass


class _R:
    def __init__(self, buf, pos=0):
        self.b, self.p = buf, pos

    def take(self, n):
        if self.p + n > len(self.b):
            raise _Incomplete()
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def buffer(self):
        n = self.int()
        return None if n < 0 else bytes(self.take(n))

    def ustring(self):
        n = self.int()
        return None if n < 0 else bytes(self.take(n)).decode("utf-8", "replace")


def _packet(r):
    t = r.int()
    zxid = r.long()
    data = r.buffer()
    n = r.int()
    for _ in range(max(n, 0)):
        r.ustring()
        r.ustring()
    return t, zxid, data


def _skip_snapshot(r):
    """The SNAP payload: sessions, ACL map, nodes up to path "/", "BenWasHere"."""
    for _ in range(r.int()):
        r.take(12)
    for _ in range(r.int()):
        r.long()
        n = r.int()
        for _ in range(max(n, 0)):
            r.int()
            r.ustring()
            r.ustring()
    while True:
        path = r.ustring()
        if path == "/":
            break
        r.buffer()
        r.long()
        r.take(60)  # StatPersisted
    sig = r.ustring()
    if sig != "BenWasHere":
        raise ValueError(f"snapshot signature {sig!r}")


class _Direction:
    def __init__(self):
        self.buf = bytearray()
        self.in_snap = False
        self.dead = None


class TapConnection:
    """One learner -> leader connection (learner = the proxy link's src)."""

    def __init__(self, tap, learner, leader):
        self.tap = tap
        self.learner, self.leader = learner, leader
        self.opened = time.monotonic()
        self.closed = None
        self.dirs = {"up": _Direction(), "down": _Direction()}  # up: learner -> leader
        self.pending = []  # [t, kind, sessionId, cxid, type] in forwarding order
        self.stats = {"requests": 0, "proposals_matched": 0, "syncs": 0, "revalidates": 0}
        self.name = f"learner {learner} -> leader {leader}"

    def feed(self, which, data):
        d = self.dirs[which]
        if d.dead:
            return
        d.buf += data
        pos = 0
        try:
            while True:
                r = _R(d.buf, pos)
                try:
                    if d.in_snap:
                        _skip_snapshot(r)
                        d.in_snap = False
                    else:
                        t, zxid, payload = _packet(r)
                        if which == "up":
                            self._from_learner(t, zxid, payload)
                        else:
                            self._from_leader(t, zxid, payload)
                            if t == 15:
                                d.in_snap = True
                except _Incomplete:
                    break
                pos = r.p
        except Exception as e:  # noqa: BLE001 - never break the proxy
            d.dead = f"{type(e).__name__}: {e}"
            self.tap.note(f"{self.name}: tap off ({which}): {d.dead}")
        del d.buf[:pos]

    def _from_learner(self, t, zxid, data):
        now = time.monotonic()
        if t == 1 and data is not None and len(data) >= 16:
            sid, cxid, typ = struct.unpack_from(">qii", data, 0)
            # [time, state, session, cxid, type(, zxid once proposed)]; state: request ->
            # proposed -> (completed: removed); sync; revalidate; skipped (reported)
            self.pending.append([now, "sync" if typ == 9 else "request", sid, cxid, typ])
            self.stats["requests"] += 1
        elif t == 6 and data is not None and len(data) >= 8:
            (sid,) = struct.unpack_from(">q", data, 0)
            self.pending.append([now, "revalidate", sid, None, None])

    def _from_leader(self, t, zxid, data):
        if t == 2 and data is not None and len(data) >= 32:
            client, cxid, tzxid, _time, typ = struct.unpack_from(">qiqqi", data, 0)
            for i, p in enumerate(self.pending):
                if p[1] == "request" and p[2] == client and p[3] == cxid:
                    skipped = [q for q in self.pending[:i] if q[1] == "request"]
                    for q in skipped:
                        self.tap.finding(
                            "skipped", f"{self.name}: proposed {_desc(p)} as zxid {tzxid:#x} "
                            f"(type {OP_NAMES.get(typ, typ)}) while the earlier forwarded "
                            f"{_desc(q)} ({time.monotonic() - q[0]:.1f}s ago) is not proposed")
                        q[1] = "skipped"
                    p[1] = "proposed"
                    p.append(tzxid)
                    self.stats["proposals_matched"] += 1
                    break
        elif t == 4:
            for i, p in enumerate(self.pending):
                if p[1] == "proposed" and p[5] == zxid:
                    self._complete(i, f"COMMIT {zxid:#x}")
                    break
        elif t == 8 and data is not None and len(data) >= 32:
            # INFORM (to an observer, once the txn committed): proposal and commit at once.
            client, cxid, tzxid, _time, typ = struct.unpack_from(">qiqqi", data, 0)
            for i, p in enumerate(self.pending):
                if p[1] == "request" and p[2] == client and p[3] == cxid:
                    p[1] = "proposed"
                    p.append(tzxid)
                    self.stats["proposals_matched"] += 1
                    self._complete(i, f"INFORM {tzxid:#x}")
                    break
        elif t == 7:
            for i, p in enumerate(self.pending):
                if p[1] == "sync":
                    self._complete(i, "SYNC")
                    self.stats["syncs"] += 1
                    return
            self.tap.note(f"{self.name}: SYNC with no sync pending")
        elif t == 6 and data is not None and len(data) >= 8:
            (sid,) = struct.unpack_from(">q", data, 0)
            for i, p in enumerate(self.pending):
                if p[1] == "revalidate" and p[2] == sid:
                    del self.pending[i]
                    self.stats["revalidates"] += 1
                    return

    def _complete(self, i, how):
        """The i-th pending entry completes (COMMIT of its proposal, or SYNC). A ZooKeeper
        follower's CommitProcessor needs its forwarded writes and syncs to complete in the
        order it forwarded them."""
        p = self.pending[i]
        earlier = [q for q in self.pending[:i] if q[1] in ("request", "proposed", "sync")]
        if earlier:
            q = earlier[0]
            self.tap.finding(
                "out-of-order",
                f"{self.name}: {how} completes the forwarded {_desc(p)} before the earlier "
                f"forwarded {_desc(q)} (forwarded {p[0] - q[0]:.3f}s before it, "
                f"{'proposed as ' + hex(q[5]) if q[1] == 'proposed' else q[1]}) completed: a "
                f"ZooKeeper follower takes that commit for a remote one and stops answering "
                f"its own clients' writes")
            for e in earlier:
                e[1] = "skipped"  # reported once
        del self.pending[i]

    def close(self):
        if self.closed is None:
            self.closed = time.monotonic()

    def stuck(self, older_than):
        now = time.monotonic()
        end = self.closed or now
        return [p for p in self.pending
                if p[1] in ("request", "proposed", "sync", "revalidate")
                and end - p[0] > older_than]


def _desc(p):
    t, kind, sid, cxid, typ = p[:5]
    if kind == "revalidate":
        return f"REVALIDATE of session {sid:#x}"
    proposed = f", proposed as {p[5]:#x}" if len(p) > 5 else ""
    return f"REQUEST {OP_NAMES.get(typ, typ)} (session {sid:#x}, cxid {cxid}{proposed})"


class QuorumTap:
    """Collects TapConnections of a ProxyNet (pass as ProxyNet(tap=...))."""

    def __init__(self, impl_of=None, stuck_after=15.0):
        self.impl_of = impl_of or (lambda sid: "?")
        self.stuck_after = stuck_after
        self.conns = []
        self.notes = []
        self.found = []
        self._lock = threading.Lock()

    def open(self, learner, leader):
        c = TapConnection(self, learner, leader)
        with self._lock:
            self.conns.append(c)
        return c

    def note(self, text):
        with self._lock:
            self.notes.append((time.monotonic(), text))

    def finding(self, kind, text):
        with self._lock:
            self.found.append((time.monotonic(), kind, text))

    def findings(self):
        """Violations found so far: skipped requests, and requests unanswered for more than
        stuck_after seconds on a connection that stayed open that long."""
        out = [f"{kind}: {text}" for _, kind, text in self.found]
        for c in list(self.conns):
            stuck = c.stuck(self.stuck_after)
            for p in stuck[:5]:
                out.append(f"stuck: {c.name} ({self.impl_of(c.learner)} learner, "
                           f"{self.impl_of(c.leader)} leader): forwarded {_desc(p)} "
                           f"unanswered for {(c.closed or time.monotonic()) - p[0]:.1f}s"
                           + (" (then the connection closed)" if c.closed else
                              " (connection still open)"))
        return out

    def summary(self):
        req = sum(c.stats["requests"] for c in self.conns)
        return (f"quorum tap: {len(self.conns)} learner connections, {req} forwarded requests, "
                f"{len(self.found)} skipped, notes {len(self.notes)}")
