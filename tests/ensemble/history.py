"""Operation history of concurrent kazoo clients, and a checker for it.

Recording
---------
`History` holds `Op`s. A `Worker` (one thread, one kazoo session) performs operations on a
small set of registers (znodes /<root>/r0.. created with the value b"init", version 0) and
sequential creates under /<root>/seq, one operation at a time, and records each as invoked,
then ok / fail / unknown, with time.monotonic() stamps taken before the request is queued
and after its answer is back (so the real interval lies inside the recorded one). Kinds:

  write      set(key, unique value)                 -> Stat (version, mzxid)
  cas        set(key, unique value, version=v)      -> Stat; BadVersion = fail (no effect);
             v is the version of the `read` this worker made just before
  read       get(key)                               (may be stale: ZooKeeper reads are local)
  sync_read  sync(key) then get(key)
  qread      get(key) then multi([check(key, version)]): the check is ordered with the
             writes by the leader, so a successful qread is a linearizable read
  create     create(seq/c-, unique value, sequence=True, include_data=True) -> (path, Stat)

A timeout, connection loss, expired session or any error that is not a definite refusal by
the server makes a write `unknown` (it may or may not have taken effect, now or later). A read
that fails has no effect and is recorded as `fail`.

Checking (`check(history, final)`)
----------------------------------
Everything relies on facts of ZooKeeper's data model: every setData of a znode adds exactly 1
to its version and is one transaction with its own zxid (mzxid); every value written is unique,
so a value observed anywhere names the operation that wrote it. Checks, all sound for
indeterminate operations (an `unknown` write may have happened at any time after it was
invoked, or never):

  * consistency: a (key, version) has one value and one mzxid wherever it is observed (acks,
    reads, final state); mzxid grows with version; no zxid is used by two transactions; a
    value is only ever seen at one version (no write applied twice) and only on its own key;
    no value that no client wrote; never the value of a CAS that failed; a CAS that succeeded
    made exactly version expected+1; a write's ack and the reads agree on its version.
  * no acknowledged write lost: each register's final version is at least the highest
    acknowledged version; every acknowledged sequential create exists at the end with its own
    value, no create exists twice, nothing exists that no client created; sequence numbers
    grow with czxid. Every version up to the highest one seen must be explained by a write
    (acknowledged, or an unknown one that is not placed elsewhere).
  * linearizability per register of write / cas / qread: the versions order the writes, so
    the linearization order is fixed and a greedy pass (each operation at the earliest point
    allowed by its invocation and its predecessors) decides it exactly.
  * linearizable writes across registers and creates: an operation acknowledged before
    another was invoked has the smaller zxid.
  * session order (FIFO client order), per kazoo session: versions of a register never go
    back; a session that has seen zxid h never afterwards reads a register older than that
    register's last version with mzxid <= h; the zxid of its writes and creates is above
    every zxid it has seen; its sequence numbers grow.

Plain and sync reads are not required to be linearizable (ZooKeeper reads are served by the
member the client is connected to; `sync` is not a quorum operation, and a leader that lost
its quorum but has not noticed yet answers it at once). Reads that return a version older
than one acknowledged before they were invoked are counted as `stale_reads` /
`stale_sync_reads` in the statistics, not as violations.
"""
import bisect
import itertools
import math
import random
import threading
import time
from dataclasses import dataclass, field

INIT = b"init"
INF = math.inf

WRITE_KINDS = ("write", "cas")
READ_KINDS = ("read", "sync_read", "qread")


@dataclass
class Op:
    id: int
    process: int
    kind: str
    key: str
    value: bytes = None  # written value (write / cas / create)
    expected: int = None  # cas: expected version
    t_invoke: float = 0.0
    t_complete: float = None
    status: str = None  # None (pending), "ok", "fail", "unknown"
    version: int = None  # resulting (write/cas) or observed (reads) version
    mzxid: int = None  # mzxid (registers) / czxid (create)
    read_value: bytes = None
    path: str = None  # create: the node created
    session_invoke: int = None
    session_complete: int = None
    error: str = None
    member: int = None  # sid of the member the client was connected to at invocation

    @property
    def end(self):
        """Latest time the operation can have taken effect (inf when not acknowledged)."""
        return self.t_complete if self.status == "ok" else INF

    def short(self):
        s = f"#{self.id} p{self.process}{'' if self.member is None else f'@{self.member}'} " \
            f"{self.kind} {self.key}"
        if self.value is not None:
            s += f" {self.value.decode(errors='replace')}"
        if self.expected is not None:
            s += f" if v{self.expected}"
        end = "-" if self.t_complete is None else f"{self.t_complete:.3f}"
        s += f" [{self.t_invoke:.3f}, {end}]"
        s += f" {self.status}"
        if self.status == "ok":
            if self.kind in READ_KINDS:
                s += f" -> {self.read_value!r} v{self.version}"
            elif self.kind == "create":
                s += f" -> {self.path}"
            else:
                s += f" -> v{self.version}"
            if self.mzxid is not None:
                s += f" zxid {self.mzxid:#x}"
        elif self.error:
            s += f" ({self.error})"
        return s


class History:
    """Thread-safe list of Ops."""

    def __init__(self):
        self.ops = []
        self._lock = threading.Lock()
        self._ids = itertools.count()
        self.t0 = time.monotonic()

    def invoke(self, process, kind, key, session=None, **kw):
        op = Op(id=next(self._ids), process=process, kind=kind, key=key,
                t_invoke=time.monotonic(), session_invoke=session, **kw)
        with self._lock:
            self.ops.append(op)
        return op

    @staticmethod
    def complete(op, status, session=None, error=None, **result):
        op.t_complete = time.monotonic()
        op.session_complete = session
        op.error = error
        for k, v in result.items():
            setattr(op, k, v)
        op.status = status  # last: readers take a completed op as final

    def snapshot(self):
        with self._lock:
            return list(self.ops)

    def counts(self):
        out = {}
        for op in self.snapshot():
            k = (op.kind, op.status or "pending")
            out[k] = out.get(k, 0) + 1
        return out

    def acked_writes(self):
        return sum(1 for op in self.snapshot()
                   if op.status == "ok" and op.kind in ("write", "cas", "create"))


# ----------------------------------------------------------------------------- workload

DEFAULT_MIX = (("write", 25), ("cas", 15), ("read", 12), ("sync_read", 13), ("qread", 10),
               ("create", 25))


class Worker(threading.Thread):
    """One kazoo session performing random operations (drawn from `rng`) until stopped."""

    def __init__(self, history, process, client, keys, seq_parent, rng, op_timeout=5.0,
                 pause=0.01, mix=DEFAULT_MIX, server_of=None):
        super().__init__(name=f"worker-{process}", daemon=True)
        self.history = history
        self.process = process
        self.client = client
        self.keys = list(keys)
        self.seq_parent = seq_parent
        self.rng = rng
        self.op_timeout = op_timeout
        self.pause = pause
        self.kinds = [k for k, _ in mix]
        self.weights = [w for _, w in mix]
        self.server_of = server_of  # client -> sid it is connected to (diagnostics)
        self._stop_event = threading.Event()
        self._go = threading.Event()  # cleared by suspend(): no new operation
        self._go.set()
        self._idle = threading.Event()  # set while suspended with no operation in flight
        self._n = 0
        self.crash = None

    def stop(self):
        self._stop_event.set()
        self._go.set()

    def suspend(self):
        """Start no new operation until resume(); wait_suspended() waits for the one in
        flight."""
        self._idle.clear()
        self._go.clear()

    def resume(self):
        self._go.set()

    def wait_suspended(self, timeout):
        """True once suspended with no operation in flight (or the thread ended)."""
        return self._idle.wait(timeout) or not self.is_alive()

    def session(self):
        cid = self.client.client_id
        return cid[0] if cid else None

    def _invoke(self, kind, key, **kw):
        op = self.history.invoke(self.process, kind, key, self.session(), **kw)
        if self.server_of is not None:
            op.member = self.server_of(self.client)
        return op

    def _value(self, tag):
        self._n += 1
        return f"{tag}{self.process}-{self._n}".encode()

    def run(self):
        try:
            while not self._stop_event.is_set():
                if not self._go.is_set():
                    self._idle.set()
                    self._go.wait(0.05)
                    continue
                self._idle.clear()
                kind = self.rng.choices(self.kinds, self.weights)[0]
                key = self.rng.choice(self.keys)
                getattr(self, "_do_" + kind)(key)
                if self.pause:
                    self._stop_event.wait(self.pause)
        except BaseException as e:  # noqa: BLE001 - reported by the runner
            self.crash = e
            raise

    # -------------------------------------------------------------- operations
    def _wait(self, async_result):
        return async_result.get(timeout=self.op_timeout)

    def _write_error(self, op, e):
        from kazoo.exceptions import BadVersionError, NoNodeError
        name = type(e).__name__
        if isinstance(e, BadVersionError) and op.kind == "cas":
            self.history.complete(op, "fail", self.session(), error=name)
        elif isinstance(e, NoNodeError):
            # The registers exist from the start and are never deleted: definite, and odd.
            self.history.complete(op, "fail", self.session(), error=name)
        else:
            self.history.complete(op, "unknown", self.session(), error=name)

    def _do_write(self, key, expected=None):
        op = self._invoke("cas" if expected is not None else "write", key,
                          value=self._value("w"), expected=expected)
        try:
            st = self._wait(self.client.set_async(key, op.value,
                                                  -1 if expected is None else expected))
        except Exception as e:  # noqa: BLE001
            self._write_error(op, e)
            return
        self.history.complete(op, "ok", self.session(), version=st.version, mzxid=st.mzxid)

    def _do_cas(self, key):
        read = self._do_read(key)
        if read is not None and read.status == "ok":
            self._do_write(key, expected=read.version)

    def _do_read(self, key, kind="read"):
        op = self._invoke(kind, key)
        try:
            if kind == "sync_read":
                self._wait(self.client.sync_async(key))
            data, st = self._wait(self.client.get_async(key))
            if kind == "qread":
                tx = self.client.transaction()
                tx.check(key, st.version)
                results = self._wait(tx.commit_async())
                if not (len(results) == 1 and results[0] is True):
                    self.history.complete(op, "fail", self.session(),
                                          error=f"check: {results!r}")
                    return op
        except Exception as e:  # noqa: BLE001 - a failed read has no effect
            self.history.complete(op, "fail", self.session(), error=type(e).__name__)
            return op
        self.history.complete(op, "ok", self.session(), version=st.version, mzxid=st.mzxid,
                              read_value=data)
        return op

    def _do_sync_read(self, key):
        self._do_read(key, "sync_read")

    def _do_qread(self, key):
        self._do_read(key, "qread")

    def _do_create(self, key):
        op = self._invoke("create", self.seq_parent, value=self._value("c"))
        try:
            path, st = self._wait(self.client.create_async(
                f"{self.seq_parent}/c-", op.value, sequence=True, include_data=True))
        except Exception as e:  # noqa: BLE001
            self.history.complete(op, "unknown", self.session(), error=type(e).__name__)
            return
        self.history.complete(op, "ok", self.session(), path=path, mzxid=st.czxid)


def seq_number(path):
    return int(path.rsplit("-", 1)[1])


# ----------------------------------------------------------------------------- final state

@dataclass
class FinalState:
    """What the ensemble holds at the end (read after everything healed and the clients
    closed): registers {key: (value, version, mzxid)}, children of the sequential parent
    {path: (value, czxid)}; `init_zxid` {key: mzxid of version 0}."""
    registers: dict
    children: dict
    init_zxid: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------- checker

@dataclass
class CheckResult:
    violations: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    @property
    def ok(self):
        return not self.violations

    def summary(self, limit=20):
        lines = [f"checker: {'OK' if self.ok else f'{len(self.violations)} VIOLATION(S)'}"]
        lines += [f"  {k}: {v}" for k, v in self.stats.items()]
        for v in self.violations[:limit]:
            lines.append(f"  VIOLATION {v}")
        if len(self.violations) > limit:
            lines.append(f"  ... {len(self.violations) - limit} more")
        return "\n".join(lines)


class _Checker:
    def __init__(self, ops, final, keys):
        self.ops = [op for op in ops if op.status is not None]
        self.pending = [op for op in ops if op.status is None]
        self.final = final
        self.keys = sorted(keys)
        self.res = CheckResult()
        # key -> version -> {"value", "mzxid", "src"}
        self.versions = {k: {} for k in self.keys}
        self.writers = {}  # value -> op (write / cas / create)
        self.placed = {}  # op id -> version at which its value was observed

    def bad(self, text):
        self.res.violations.append(text)

    # -------------------------------------------------------------- observations
    def observe(self, key, version, value, mzxid, src):
        if key not in self.versions:
            self.bad(f"observation of unknown key {key} ({src})")
            return
        seen = self.versions[key].get(version)
        if seen is None:
            self.versions[key][version] = {"value": value, "mzxid": mzxid, "src": src}
        else:
            if seen["value"] != value:
                self.bad(f"{key} version {version} has two values: {seen['value']!r} "
                         f"({seen['src']}) and {value!r} ({src})")
            if mzxid is not None and seen["mzxid"] is not None and seen["mzxid"] != mzxid:
                self.bad(f"{key} version {version} has two mzxids: {seen['mzxid']:#x} "
                         f"({seen['src']}) and {mzxid:#x} ({src})")
            if seen["mzxid"] is None:
                seen["mzxid"] = mzxid
        if version == 0:
            if value != INIT:
                self.bad(f"{key} version 0 holds {value!r}, not the initial value ({src})")
            return
        w = self.writers.get(value)
        if w is None:
            self.bad(f"{key} version {version} holds {value!r}, which no client wrote ({src})")
            return
        if w.kind not in WRITE_KINDS or w.key != key:
            self.bad(f"{key} version {version} holds {value!r}, written by {w.short()} ({src})")
            return
        if w.status == "fail":
            self.bad(f"{key} version {version} holds the value of a write that failed: "
                     f"{w.short()} ({src})")
            return
        if w.status == "ok" and w.version != version:
            self.bad(f"{key}: {w.short()} was acknowledged as version {w.version} but its value "
                     f"is seen at version {version} ({src})")
        prev = self.placed.get(w.id)
        if prev is None:
            self.placed[w.id] = version
        elif prev != version:
            self.bad(f"{key}: the value of {w.short()} is seen at versions {prev} and {version} "
                     f"(applied twice) ({src})")

    def collect(self):
        for op in self.ops + self.pending:
            if op.kind in WRITE_KINDS or op.kind == "create":
                if op.value in self.writers:
                    self.bad(f"value {op.value!r} issued twice (test bug)")
                self.writers[op.value] = op
        for key, z in self.final.init_zxid.items():
            if key in self.versions:
                self.observe(key, 0, INIT, z, "setup")
        for op in self.ops:
            if op.status == "fail" and op.error == "NoNodeError":
                self.bad(f"register vanished: {op.short()}")
            if op.status != "ok":
                continue
            if op.kind in WRITE_KINDS:
                if op.kind == "cas" and op.version != op.expected + 1:
                    self.bad(f"CAS from version {op.expected} produced version {op.version}: "
                             f"{op.short()}")
                self.observe(op.key, op.version, op.value, op.mzxid, f"ack of #{op.id}")
            elif op.kind in READ_KINDS:
                self.observe(op.key, op.version, op.read_value, op.mzxid, f"{op.kind} #{op.id}")
        for key, (value, version, mzxid) in self.final.registers.items():
            self.observe(key, version, value, mzxid, "final state")

    # -------------------------------------------------------------- zxids
    def check_zxids(self):
        owner = {}
        for key, vs in self.versions.items():
            last = None
            for v in sorted(vs):
                z = vs[v]["mzxid"]
                if z is None:
                    continue
                if last is not None and z <= last[1]:
                    self.bad(f"{key}: version {v} has mzxid {z:#x}, not above version {last[0]}'s "
                             f"{last[1]:#x}")
                last = (v, z)
                if z in owner and owner[z] != (key, v):
                    self.bad(f"zxid {z:#x} used by two transactions: {owner[z]} and {(key, v)}")
                owner.setdefault(z, (key, v))
        for op in self.ops:
            if op.kind == "create" and op.status == "ok":
                z = op.mzxid
                if z in owner and owner[z] != op.path:
                    self.bad(f"zxid {z:#x} used by two transactions: {owner[z]} and {op.short()}")
                owner.setdefault(z, op.path)
        for path, (_, z) in self.final.children.items():
            if z in owner and owner[z] != path:
                self.bad(f"zxid {z:#x} used by two transactions: {owner[z]} and {path}")
            owner.setdefault(z, path)

    # -------------------------------------------------------------- lost writes
    def check_final(self):
        for key in self.keys:
            acked = [op for op in self.ops if op.key == key and op.kind in WRITE_KINDS
                     and op.status == "ok"]
            fin = self.final.registers.get(key)
            if fin is None:
                self.bad(f"{key} missing in the final state")
                continue
            top = max(acked, key=lambda op: op.version, default=None)
            if top is not None and top.version > fin[1]:
                self.bad(f"{key}: acknowledged write lost: {top.short()} but the final version "
                         f"is {fin[1]}")
        # sequential creates
        children = self.final.children
        creates = [op for op in self.ops if op.kind == "create"]
        by_path = {}
        for op in creates:
            if op.status != "ok":
                continue
            if op.path in by_path:
                self.bad(f"two creates acknowledged with the same path {op.path}: "
                         f"{by_path[op.path].short()} and {op.short()}")
            by_path[op.path] = op
            if op.path not in children:
                self.bad(f"acknowledged create lost: {op.short()}")
            elif children[op.path][0] != op.value:
                self.bad(f"{op.path} holds {children[op.path][0]!r}, but {op.short()} created it")
            elif children[op.path][1] != op.mzxid:
                self.bad(f"{op.path} has czxid {children[op.path][1]:#x}, acknowledged with "
                         f"{op.mzxid:#x}")
        seen_values = {}
        for path, (value, _) in children.items():
            w = self.writers.get(value)
            if w is None or w.kind != "create":
                self.bad(f"{path} holds {value!r}, which no create wrote")
                continue
            if value in seen_values:
                self.bad(f"create applied twice: {value!r} in {seen_values[value]} and {path}")
            seen_values[value] = path
            if w.status == "ok" and w.path != path:
                self.bad(f"{w.short()} acknowledged {w.path} but its value is in {path}")
        pairs = sorted({(z, seq_number(p)) for p, (_, z) in children.items()}
                       | {(op.mzxid, seq_number(op.path)) for op in by_path.values()})
        for (z1, s1), (z2, s2) in zip(pairs, pairs[1:]):
            if s2 <= s1:
                self.bad(f"sequence numbers do not grow with czxid: {s1} at {z1:#x}, "
                         f"{s2} at {z2:#x}")
                break

    # -------------------------------------------------------------- linearizability
    def writer_interval(self, key, v):
        if v == 0:
            return (-INF, self.final_t0, "setup")
        info = self.versions[key].get(v)
        w = self.writers.get(info["value"]) if info else None
        if w is None or w.key != key:
            return None
        return (w.t_invoke, w.end, w.short())

    def check_linearizable(self):
        for key in self.keys:
            vs = self.versions[key]
            if not vs:
                continue
            vmax = max(vs)
            reads = {}
            for op in self.ops:
                if op.key == key and op.kind == "qread" and op.status == "ok":
                    reads.setdefault(op.version, []).append(op)
            placed_ids = {wid for wid, v in self.placed.items()}
            spare = [op for op in self.ops + self.pending
                     if op.key == key and op.kind in WRITE_KINDS and op.status in (None, "unknown")
                     and op.id not in placed_ids]
            gaps = [v for v in range(1, vmax + 1) if self.writer_interval(key, v) is None]
            if len(gaps) > len(spare):
                self.bad(f"{key}: versions {gaps[:10]}{'...' if len(gaps) > 10 else ''} made by "
                         f"no recorded write ({len(gaps)} such versions, {len(spare)} "
                         f"unacknowledged writes to explain them)")
            p, p_src = -INF, "start"
            for v in range(0, vmax + 1):
                iv = self.writer_interval(key, v)
                if iv is None:
                    iv = (-INF, INF, f"an unacknowledged write (version {v})")
                start, end, what = iv
                if start > p:
                    p, p_src = start, what
                if p > end:
                    self.bad(f"{key} not linearizable: version {v} by {what} completed at "
                             f"{end:.3f}, but must follow {p_src} (not before {p:.3f})")
                    p = end
                slot_p, slot_src = p, p_src
                for r in reads.get(v, ()):
                    pr, src = (r.t_invoke, r.short()) if r.t_invoke > p else (p, p_src)
                    if pr > r.t_complete:
                        self.bad(f"{key} not linearizable: {r.short()} read version {v}, which "
                                 f"must follow {p_src} (not before {p:.3f})")
                        continue
                    if pr > slot_p:
                        slot_p, slot_src = pr, src
                p, p_src = slot_p, slot_src

    def check_write_order(self):
        """Across all registers and creates: acked before invoked => smaller zxid."""
        items = []
        for op in self.ops:
            if op.kind in WRITE_KINDS and op.id in self.placed:
                info = self.versions[op.key].get(self.placed[op.id])
                z = info["mzxid"] if info else None
            elif op.kind == "create" and op.status == "ok":
                z = op.mzxid
            else:
                continue
            if z is not None:
                items.append((z, op))
        # unacknowledged creates found in the final state take part too (never acked: end inf)
        by_value = {op.value: op for op in self.ops + self.pending if op.kind == "create"}
        for path, (value, z) in self.final.children.items():
            op = by_value.get(value)
            if op is not None and op.status != "ok":
                items.append((z, op))
        items.sort(key=lambda t: t[0])
        latest = None  # op with the latest invocation among smaller zxids
        for z, op in items:
            if latest is not None and latest[1].t_invoke > op.end:
                self.bad(f"writes out of real-time order: {op.short()} (zxid {z:#x}) was "
                         f"acknowledged before {latest[1].short()} (zxid {latest[0]:#x}) was "
                         f"invoked, yet has the larger zxid")
            if latest is None or op.t_invoke > latest[1].t_invoke:
                latest = (z, op)

    # -------------------------------------------------------------- sessions
    def check_sessions(self):
        # key -> sorted [(mzxid, version)] of every known version
        known = {}
        for key, vs in self.versions.items():
            known[key] = sorted((info["mzxid"], v) for v, info in vs.items()
                                if info["mzxid"] is not None)
        by_process = {}
        for op in self.ops:
            by_process.setdefault(op.process, []).append(op)
        segments = 0
        for proc, ops in by_process.items():
            ops.sort(key=lambda op: op.t_invoke)
            state = {}  # session -> (horizon zxid, {key: version}, last seq)
            for op in ops:
                if op.status != "ok" or op.session_invoke is None \
                        or op.session_invoke != op.session_complete:
                    continue
                if op.session_invoke not in state:
                    segments += 1
                    state[op.session_invoke] = [0, {}, None]
                st = state[op.session_invoke]
                h, last = st[0], st[1]
                sess = f"p{proc} session {op.session_invoke:#x}"
                if op.kind == "create":
                    if op.mzxid <= h:
                        self.bad(f"{sess}: create zxid {op.mzxid:#x} not above zxid {h:#x} "
                                 f"the session had seen: {op.short()}")
                    s = seq_number(op.path)
                    if st[2] is not None and s <= st[2]:
                        self.bad(f"{sess}: sequence number {s} after {st[2]}: {op.short()}")
                    st[2] = s
                    st[0] = max(h, op.mzxid)
                    continue
                v, z, key = op.version, op.mzxid, op.key
                # The newest version of `key` the session's server had already applied.
                lst = known.get(key, [])
                i = bisect.bisect_right(lst, (h, INF))
                need = max((ver for _, ver in lst[:i]), default=0)
                if op.kind in WRITE_KINDS:
                    if z is not None and z <= h:
                        self.bad(f"{sess}: write zxid {z:#x} not above zxid {h:#x} the session "
                                 f"had seen: {op.short()}")
                    if key in last and v <= last[key]:
                        self.bad(f"{sess}: wrote version {v} of {key} after seeing version "
                                 f"{last[key]}: {op.short()}")
                    if v <= need and i > 0:
                        self.bad(f"{sess}: had seen zxid {h:#x}, then wrote version {v} of {key} "
                                 f"although version {need} (mzxid <= {h:#x}) existed: "
                                 f"{op.short()}")
                else:
                    if key in last and v < last[key]:
                        self.bad(f"{sess}: read version {v} of {key} after seeing version "
                                 f"{last[key]}: {op.short()}")
                    if v < need:
                        self.bad(f"{sess}: had seen zxid {h:#x}, then read version {v} of {key} "
                                 f"although version {need} (mzxid <= {h:#x}) existed: "
                                 f"{op.short()}")
                last[key] = max(last.get(key, -1), v)
                if z is not None:
                    st[0] = max(h, z)
        self.res.stats["session_segments"] = segments

    # -------------------------------------------------------------- statistics
    def stats(self):
        s = self.res.stats
        counts = {}
        for op in self.ops + self.pending:
            k = f"{op.kind}:{op.status or 'pending'}"
            counts[k] = counts.get(k, 0) + 1
        s["ops"] = len(self.ops) + len(self.pending)
        s["acked_writes"] = sum(1 for op in self.ops if op.status == "ok"
                                and op.kind in ("write", "cas", "create"))
        s["unknown_writes"] = sum(1 for op in self.ops if op.status == "unknown")
        s["unknown_writes_seen_applied"] = sum(
            1 for op in self.ops if op.status == "unknown" and op.id in self.placed)
        s["by_kind"] = dict(sorted(counts.items()))
        s["final_versions"] = {k: v[1] for k, v in sorted(self.final.registers.items())}
        s["final_children"] = len(self.final.children)
        # informational staleness of non-linearizable reads
        acked = {}
        for op in self.ops:
            if op.kind in WRITE_KINDS and op.status == "ok":
                acked.setdefault(op.key, []).append((op.t_complete, op.version))
        for k in acked:
            acked[k].sort()
            run, out = -1, []
            for t, v in acked[k]:
                run = max(run, v)
                out.append((t, run))
            acked[k] = out
        for kind in ("read", "sync_read"):
            n = 0
            for op in self.ops:
                if op.kind == kind and op.status == "ok" and op.key in acked:
                    lst = acked[op.key]
                    i = bisect.bisect_left(lst, (op.t_invoke, -1))
                    if i > 0 and lst[i - 1][1] > op.version:
                        n += 1
            s[f"stale_{kind}s"] = n

    def run(self):
        self.final_t0 = getattr(self.final, "t_setup", INF)
        self.collect()
        self.check_zxids()
        self.check_final()
        self.check_linearizable()
        self.check_write_order()
        self.check_sessions()
        self.stats()
        return self.res


def check(history, final, keys, t_setup=None):
    """Check `history` (a History or a list of Ops) against `final` (FinalState). `keys`: the
    register paths. `t_setup`: monotonic time when the registers existed (version 0)."""
    ops = history.snapshot() if isinstance(history, History) else list(history)
    c = _Checker(ops, final, keys)
    if t_setup is not None:
        final.t_setup = t_setup
    return c.run()


def read_final_state(client, keys, seq_parent, timeout=60.0):
    """FinalState as read through `client` (after sync), with pipelined gets."""
    client.sync(seq_parent)
    regs = {}
    for key in keys:
        client.sync(key)
        data, st = client.get(key)
        regs[key] = (data, st.version, st.mzxid)
    names = client.get_children(seq_parent)
    pending = [(n, client.get_async(f"{seq_parent}/{n}")) for n in names]
    children = {}
    for n, a in pending:
        data, st = a.get(timeout=timeout)
        children[f"{seq_parent}/{n}"] = (data, st.czxid)
    return FinalState(registers=regs, children=children)


def make_rng(seed, *parts):
    return random.Random(":".join(str(p) for p in (seed,) + parts))
