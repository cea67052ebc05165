"""The workload and the checks of the power-loss rounds (test_power_loss.py, and
tests/ensemble/test_power_loss_ensemble.py).

Each writer has one write outstanding at a time, and each write is one multi of three ops:
create /pl/a/<w>-<seq> (a payload that depends only on w and seq), create /pl/b/<w>-<seq>, and
set /pl/reg/<w> to seq. A writer's seq goes on from round to round. After any crash, for every
writer:
  * every acknowledged seq is there (no lost acknowledged write), with its exact payload;
  * /pl/a and /pl/b hold the same seqs (a multi is all or nothing: nothing half-applied);
  * those seqs are 1..n with no hole, and /pl/reg/<w> is n (the writer's order is kept: a write
    that was never acknowledged may be there only if everything before it is).
"""
import hashlib
import os
import random
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NodeExistsError
from kazoo.handlers.threading import KazooTimeoutError

ROOT = "/pl"
WRITERS = 3
# CORRAL_POWER_LOSS_SEED replays a printed seed; CORRAL_POWER_LOSS_ROUNDS makes the long run.
SEED = int(os.environ.get("CORRAL_POWER_LOSS_SEED", str(int(time.time()) % 100000)))
ROUNDS = int(os.environ.get("CORRAL_POWER_LOSS_ROUNDS", "3"))


def server_settings(impl, **extra):
    """zoo.cfg settings of a server under power cuts. snapCount is small: logs roll and
    snapshots are taken every few dozen writes, so files are created and renamed (with their
    directory fsyncs) inside the rounds."""
    settings = {"snapCount": 40, "maxSessionTimeout": 60000}
    if impl == "zookeeper":
        # ZooKeeper 3.8 does not fsync the snapshots it takes in the background
        # (takeSnapshot(syncSnap=false)): after a power cut every snapshot may be empty, and it
        # then refuses to start ("No snapshot found, but there are log entries. Something is
        # broken!") unless told to trust an empty snapshot dir and replay its logs (it keeps
        # them all: no autopurge here).
        settings["snapshot.trust.empty"] = True
    settings.update(extra)
    return settings


def payload(writer, seq):
    """Deterministic bytes, 0..9 KB: some writes cross the 4 KB blocks of the model."""
    size = int.from_bytes(hashlib.sha256(f"{writer}/{seq}/size".encode()).digest()[:2], "big") % 9216
    seed = hashlib.sha256(f"{writer}/{seq}".encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def key(writer, seq):
    return f"{writer}-{seq:08d}"


class History:
    """What the writers were told, across every round."""

    def __init__(self, writers):
        self.writers = writers
        self.acked = {w: set() for w in range(writers)}
        self.unknown = {w: set() for w in range(writers)}  # sent, no answer (crash)

    def total_acked(self):
        return sum(len(s) for s in self.acked.values())


def prepare(client, writers):
    """The parents and registers (idempotent; after a crash some may already be there)."""
    for path in (ROOT, f"{ROOT}/a", f"{ROOT}/b", f"{ROOT}/reg"):
        client.ensure_path(path)
    for w in range(writers):
        try:
            client.create(f"{ROOT}/reg/{w}", b"0")
        except NodeExistsError:
            pass


class Writers:
    """`history.writers` threads, each with its own session on `hosts`, writing until stop()
    or until its first failure (the crash)."""

    def __init__(self, hosts, history, session_timeout=30.0, refusals_end_a_writer=False):
        # refusals_end_a_writer: a write answered with an error (a server refusing writes
        # after a disk error) ends its writer like a lost connection, instead of failing.
        self.refusals_end_a_writer = refusals_end_a_writer
        self.refusals = []
        self.hosts = hosts
        self.history = history
        self.session_timeout = session_timeout
        self.stopping = threading.Event()
        self.errors = []
        self.threads = []
        self.clients = []
        self.ended_by = {}  # writer -> the exception that ended it

    def start(self, first_seq):
        """first_seq: {writer: the next seq to write} (the register + 1 after a restart)."""
        for w in range(self.history.writers):
            client = KazooClient(hosts=self.hosts, timeout=self.session_timeout)
            client.start(timeout=30)
            self.clients.append(client)
            t = threading.Thread(target=self._run, args=(client, w, first_seq[w]), daemon=True,
                                 name=f"pl-writer-{w}")
            self.threads.append(t)
            t.start()

    def _run(self, client, w, seq):
        while not self.stopping.is_set():
            txn = client.transaction()
            txn.create(f"{ROOT}/a/{key(w, seq)}", payload(w, seq))
            txn.create(f"{ROOT}/b/{key(w, seq)}", b"")
            txn.set_data(f"{ROOT}/reg/{w}", str(seq).encode())
            self.history.unknown[w].add(seq)
            try:
                results = txn.commit()
            except (KazooException, KazooTimeoutError, OSError) as e:
                self.ended_by[w] = type(e).__name__
                return  # the crash: this seq stays unknown
            if any(isinstance(r, Exception) for r in results):
                (self.refusals if self.refusals_end_a_writer else self.errors).append(
                    f"writer {w} seq {seq}: {results}")
                return
            self.history.unknown[w].discard(seq)
            self.history.acked[w].add(seq)
            seq += 1

    def running(self):
        return sum(t.is_alive() for t in self.threads)

    def stop(self):
        self.stopping.set()
        for c in self.clients:
            try:
                c.stop()
                c.close()
            except Exception:  # a client of a dead server may fail to stop cleanly
                pass
        for t in self.threads:
            t.join(60)
        assert not any(t.is_alive() for t in self.threads), "a writer did not stop"
        assert not self.errors, f"writes failed other than by the crash: {self.errors}"


def read_state(client, writers):
    """{writer: (seqs under /pl/a, seqs under /pl/b, register)} plus payload mismatches."""
    def seqs(parent):
        out = {w: set() for w in range(writers)}
        if client.exists(parent) is None:  # lost with everything under it
            return out
        for name in client.get_children(parent):
            w, seq = name.split("-")
            out[int(w)].add(int(seq))
        return out
    a, b = seqs(f"{ROOT}/a"), seqs(f"{ROOT}/b")
    state = {}
    for w in range(writers):
        path = f"{ROOT}/reg/{w}"
        reg = int(client.get(path)[0].decode()) if client.exists(path) else 0
        state[w] = (a[w], b[w], reg)
    return state


def check(client, history, verify_payloads=True):
    """The problems found (empty: all good) and {writer: next seq}."""
    problems = []
    state = read_state(client, history.writers)
    next_seq = {}
    for w, (a, b, reg) in state.items():
        lost = sorted(history.acked[w] - a)
        if lost:
            problems.append(f"writer {w}: {len(lost)} acknowledged writes lost, e.g. {lost[:5]}")
        if a != b:
            problems.append(f"writer {w}: half-applied multis: only in /a {sorted(a - b)[:5]}, "
                            f"only in /b {sorted(b - a)[:5]}")
        top = max(a) if a else 0
        if a != set(range(1, top + 1)):
            holes = sorted(set(range(1, top + 1)) - a)
            problems.append(f"writer {w}: holes in the writer's order: {holes[:5]}")
        if reg != top:
            problems.append(f"writer {w}: register {reg} but last write {top}")
        extra = a - history.acked[w] - history.unknown[w]
        if extra:
            problems.append(f"writer {w}: writes never sent are there: {sorted(extra)[:5]}")
        if verify_payloads:
            for seq in sorted(a & history.acked[w]):
                data, _ = client.get(f"{ROOT}/a/{key(w, seq)}")
                if data != payload(w, seq):
                    problems.append(f"writer {w} seq {seq}: payload differs")
                    break
        # What was unknown is now known; a later round goes on after the register.
        history.acked[w] |= a & history.unknown[w]
        history.unknown[w].clear()
        next_seq[w] = top + 1
    return problems, next_seq


def crash_delay(rng, low=0.2, high=1.5):
    """The random point of a round: how long the writers run after their first acks."""
    return rng.uniform(low, high)


def make_rng(seed):
    return random.Random(seed)
