"""Fault scenarios for proxied ensembles: client load recorded in a History, a nemesis that
applies faults drawn from random.Random(seed), then heal, final state and the history checker.

Used by test_faults.py (short, seeded, CI) and fault_run.py (long runs). See README.md
("Fault injection").
"""
import collections
import logging
import os
import threading
import time
from dataclasses import dataclass, field

from link_proxy import ProxiedEnsemble  # first: harness_ensemble puts harness on sys.path
from harness.util import WaitTimeout, wait_until  # noqa: E402
from history import INIT, History, Worker, check, make_rng, read_final_state  # noqa: E402

# Faster failure detection than the suite's defaults (leader loss in syncLimit * tickTime =
# 3 s). minSessionTimeout is 2 * tickTime = 2 s; the clients ask for 10 s.
FAULT_SETTINGS = {"tickTime": 1000, "initLimit": 10, "syncLimit": 3}

FAULTS = ("kill_leader", "kill_follower", "pause_leader", "partition_leader", "oneway_drop",
          "delay")
# Faults on an observer (the ensemble must have some: Ensemble(observers=...)).
OBSERVER_FAULTS = ("kill_observer", "pause_observer", "partition_observer")

DEFAULT_SEED = 20261206


def seed_from_env(default=DEFAULT_SEED):
    v = os.environ.get("CORRAL_FAULT_SEED", "").strip()
    return int(v, 0) if v else default


@dataclass
class Timing:
    """Ranges (seconds) from which the nemesis draws how long a fault lasts."""
    kill_down: tuple = (1.0, 4.0)
    pause: tuple = (1.5, 6.0)  # below and above syncLimit * tickTime
    partition: tuple = (3.0, 7.0)
    drop: tuple = (3.0, 7.0)
    delay_hold: tuple = (3.0, 6.0)
    delay_ms: tuple = (20.0, 200.0)
    jitter_ms: tuple = (0.0, 100.0)
    settle: tuple = (0.5, 2.0)  # quiet time between faults, after the ensemble serves again


@dataclass
class Report:
    seed: int
    impls: list
    faults: list = field(default_factory=list)  # (t, text)
    errors: list = field(default_factory=list)  # liveness / harness failures
    result: object = None  # history.CheckResult
    counts: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)
    divergence: list = field(default_factory=list)
    tap_summary: str = ""
    history: object = None  # history.History of the run (its ops name the member they used)

    @property
    def ok(self):
        return not self.errors and not self.divergence and self.result is not None \
            and self.result.ok

    def summary(self):
        lines = [f"seed {self.seed} ({'CORRAL_FAULT_SEED=' + str(self.seed)}), members "
                 f"{', '.join(f'{i + 1}={x}' for i, x in enumerate(self.impls))}"]
        lines.append("durations: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.durations.items()))
        lines.append(f"faults applied ({len(self.faults)}):")
        lines += [f"  +{t:6.1f}s {text}" for t, text in self.faults]
        if self.tap_summary:
            lines.append(self.tap_summary)
        for e in self.errors:
            lines.append(f"ERROR {e}")
        for d in self.divergence:
            lines.append(f"DIVERGENCE {d}")
        if self.result is not None:
            lines.append(self.result.summary())
        return "\n".join(lines)


class RingLog(logging.Handler):
    """Keeps the last `size` records of a kazoo client's logger (its requests and responses
    with their xids at DEBUG), to show what a session did before something went wrong."""

    def __init__(self, size=300):
        super().__init__(logging.DEBUG)
        self.records = collections.deque(maxlen=size)

    def emit(self, record):
        try:
            self.records.append(f"{record.created % 1000:8.3f} {record.getMessage()}"[:300])
        except Exception:  # noqa: BLE001 - never break the client over a log line
            pass

    def text(self, last=60):
        return "\n".join(list(self.records)[-last:])


class Workload:
    """`clients` kazoo sessions, client i connected first to member i % n (then the others, in
    order), each running a history Worker on the registers and the sequential parent."""

    def __init__(self, ens, seed, root="/hist", keys=3, clients=None, op_timeout=5.0,
                 session_timeout=10.0, pause=0.01):
        self.ens = ens
        self.seed = seed
        self.root = root
        self.keys = [f"{root}/r{i}" for i in range(keys)]
        self.seq_parent = f"{root}/seq"
        self.n_clients = clients or max(4, len(ens.members) + 1)
        self.op_timeout = op_timeout
        self.session_timeout = session_timeout
        self.pause = pause
        self.history = History()
        self.workers = []
        self.init_zxid = {}
        self.t_setup = None
        self.ring = {}  # process -> RingLog of its kazoo client
        self.client_crashes = []  # text per crashed kazoo connection thread
        self._old_excepthook = None

    def setup(self):
        c = self.ens.client()
        try:
            c.ensure_path(self.root)
            for k in self.keys:
                _, st = c.create(k, INIT, include_data=True)
                self.init_zxid[k] = st.mzxid
            c.create(self.seq_parent, b"")
        finally:
            self.ens.close_client(c)
        self.t_setup = time.monotonic()

    def start(self):
        members = self.ens.members
        n = len(members)
        self._old_excepthook = threading.excepthook
        threading.excepthook = self._thread_crashed
        for i in range(self.n_clients):
            order = [members[(i + j) % n] for j in range(n)]
            logger = logging.getLogger(f"faults.kazoo.{id(self)}.{i}")
            logger.setLevel(logging.DEBUG)
            logger.propagate = False
            self.ring[i] = RingLog()
            logger.addHandler(self.ring[i])
            c = self.ens.client(order, timeout=self.session_timeout, randomize_hosts=False,
                                logger=logger)
            w = Worker(self.history, i, c, self.keys, self.seq_parent,
                       make_rng(self.seed, "worker", i), op_timeout=self.op_timeout,
                       pause=self.pause, server_of=self.server_of)
            self.workers.append(w)
        for w in self.workers:
            w.start()
        return self

    def server_of(self, client):
        """sid of the member `client` is connected to (None if unknown)."""
        try:
            port = client._connection._socket.getpeername()[1]
        except (AttributeError, OSError, TypeError):
            return None
        for m in self.ens.members:
            if m.port == port:
                return m.sid
        return None

    def _thread_crashed(self, args):
        """threading.excepthook: a kazoo connection thread that dies leaves its session
        unusable (every later request times out). kazoo's only raise there is a reply whose
        xid is not the oldest pending request's: the server answered out of request order
        (ZooKeeper answers a session's requests in order)."""
        for w in self.workers:
            conn = getattr(w.client, "_connection", None)
            if conn is not None and getattr(conn, "_connection_routine", None) is args.thread:
                ops = [op for op in self.history.snapshot() if op.process == w.process][-8:]
                self.client_crashes.append(
                    f"kazoo connection thread of worker {w.process} died at "
                    f"{time.monotonic() - self.history.t0:.1f}s (history time): "
                    f"{args.exc_type.__name__}: {args.exc_value}; the session's last ops "
                    f"(member = sid the client was connected to at invocation):\n    "
                    + "\n    ".join(op.short() for op in ops)
                    + "\n  its kazoo log (requests / responses with xids):\n"
                    + self.ring[w.process].text())
                return
        if self._old_excepthook is not None:
            self._old_excepthook(args)

    def acks(self):
        return self.history.acked_writes()

    def check_workers(self):
        for w in self.workers:
            if w.crash is not None:
                raise AssertionError(f"worker {w.process} crashed: {w.crash!r}")

    def wait_progress(self, n=5, timeout=60.0):
        target = self.acks() + n

        def progressed():
            self.check_workers()
            return self.acks() >= target
        wait_until(progressed, timeout, interval=0.1,
                   message=f"no progress: fewer than {n} writes acknowledged in {timeout}s")

    def suspend(self, timeout=None):
        """No new operation from any worker until resume(); returns once none is in flight
        (an operation ends within op_timeout)."""
        for w in self.workers:
            w.suspend()
        timeout = timeout if timeout is not None else self.op_timeout * 2 + 5
        for w in self.workers:
            assert w.wait_suspended(timeout), f"worker {w.process} still busy after {timeout}s"

    def resume(self):
        for w in self.workers:
            w.resume()

    def stop(self):
        for w in self.workers:
            w.stop()
        for w in self.workers:
            w.join(self.op_timeout * 4 + 10)
        stuck = [w.process for w in self.workers if w.is_alive()]
        for w in self.workers:
            self.ens.close_client(w.client)
        if self._old_excepthook is not None:
            threading.excepthook = self._old_excepthook
            self._old_excepthook = None
        if stuck:
            raise AssertionError(f"workers {stuck} did not stop")
        self.check_workers()


class Nemesis:
    """Applies faults by name, with durations and targets drawn from `rng`. Each fault waits
    first until every member serves (one leader) and the clients make progress."""

    def __init__(self, ens, workload, rng, log, timing=None, serve_timeout=120.0,
                 progress_timeout=60.0):
        self.ens = ens
        self.workload = workload
        self.rng = rng
        self.log = log
        self.timing = timing or Timing()
        self.serve_timeout = serve_timeout
        self.progress_timeout = progress_timeout
        self.applied = []
        self._stop = threading.Event()
        self.error = None

    def stop(self):
        self._stop.set()

    def _hold(self, rng_range):
        """Wait a duration drawn from rng_range (cut short by stop()); returns the time
        actually waited."""
        t = time.monotonic()
        self._stop.wait(self.rng.uniform(*rng_range))
        return time.monotonic() - t

    def stabilize(self):
        t = time.monotonic()
        self.ens.wait_serving(timeout=self.serve_timeout)
        self.workload.wait_progress(5, timeout=self.progress_timeout)
        return time.monotonic() - t

    def run(self, names):
        try:
            for name in names:
                if self._stop.is_set():
                    break
                self.stabilize()
                self._stop.wait(self.rng.uniform(*self.timing.settle))
                t = time.monotonic()
                # A fault's name, or a step of a test's own: a callable taking the Nemesis
                # and returning the text to log (test_mixed_storage.py).
                text = name(self) if callable(name) else getattr(self, name)()
                self.applied.append(text)
                self.log(text, t)
            took = self.stabilize()
            self.log(f"serving again {took:.1f}s after the last fault", None)
        except BaseException as e:  # noqa: BLE001 - reported by the runner
            self.error = e

    def _others(self, m):
        return [x for x in self.ens.members if x is not m]

    # -------------------------------------------------------------- faults
    def kill_leader(self):
        L = self.ens.leader(timeout=self.serve_timeout)
        L.kill9()
        down = self._hold(self.timing.kill_down)
        L.start()
        return f"kill -9 leader {L.sid} ({L.impl}), restarted after {down:.1f}s"

    def kill_follower(self):
        F = self.rng.choice(self.ens.followers(timeout=self.serve_timeout))
        F.kill9()
        down = self._hold(self.timing.kill_down)
        F.start()
        return f"kill -9 follower {F.sid} ({F.impl}), restarted after {down:.1f}s"

    def kill_observer(self):
        O = self.rng.choice(self.ens.observers())
        O.kill9()
        down = self._hold(self.timing.kill_down)
        O.start()
        return f"kill -9 observer {O.sid} ({O.impl}), restarted after {down:.1f}s"

    def pause_observer(self):
        O = self.rng.choice(self.ens.observers())
        O.sigstop()
        held = self._hold(self.timing.pause)
        O.sigcont()
        return f"SIGSTOP observer {O.sid} ({O.impl}) for {held:.1f}s, SIGCONT"

    def partition_observer(self):
        O = self.rng.choice(self.ens.observers())
        mode = self.rng.choice(["refuse", "blackhole", "hang"])
        self.ens.isolate(O, mode)
        held = self._hold(self.timing.partition)
        self.ens.heal()
        others = ",".join(str(m.sid) for m in self._others(O))
        return f"partition observer {{{O.sid}}} | {{{others}}} ({mode}) for {held:.1f}s, healed"

    def pause_leader(self):
        L = self.ens.leader(timeout=self.serve_timeout)
        L.sigstop()
        held = self._hold(self.timing.pause)
        L.sigcont()
        return f"SIGSTOP leader {L.sid} ({L.impl}) for {held:.1f}s, SIGCONT"

    def partition_leader(self):
        L = self.ens.leader(timeout=self.serve_timeout)
        mode = self.rng.choice(["refuse", "blackhole", "hang"])
        self.ens.isolate(L, mode)
        held = self._hold(self.timing.partition)
        self.ens.heal()
        return f"partition {{{L.sid}}} | {{{','.join(str(m.sid) for m in self._others(L))}}} " \
               f"({mode}) for {held:.1f}s, healed"

    def oneway_drop(self):
        L = self.ens.leader(timeout=self.serve_timeout)
        F = self.rng.choice(self.ens.followers(timeout=self.serve_timeout))
        a, b = (L, F) if self.rng.random() < 0.5 else (F, L)
        mode = self.rng.choice(["discard", "stall"])
        self.ens.drop(a, b, mode)
        held = self._hold(self.timing.drop)
        self.ens.heal()
        role = lambda m: "leader" if m is L else "follower"  # noqa: E731
        return f"one-way drop {a.sid} ({role(a)}) -> {b.sid} ({role(b)}) ({mode}) for " \
               f"{held:.1f}s, healed"

    def delay(self):
        L = self.ens.leader(timeout=self.serve_timeout)
        ms = self.rng.uniform(*self.timing.delay_ms)
        jitter = self.rng.uniform(*self.timing.jitter_ms)
        if self.rng.random() < 0.5:
            which = "every link"
            pairs = [(a, b) for i, a in enumerate(self.ens.members)
                     for b in self.ens.members[i + 1:]]
        else:
            which = f"the links of leader {L.sid}"
            pairs = [(L, m) for m in self._others(L)]
        for a, b in pairs:
            self.ens.delay(a, b, ms, jitter)
        held = self._hold(self.timing.delay_hold)
        self.ens.heal()
        return f"delay {ms:.0f}+U(0,{jitter:.0f}) ms on {which} for {held:.1f}s, healed"


def fault_sequence(rng, count=None, faults=FAULTS):
    """Every fault once in a seeded order (count <= len), or `count` faults: shuffled rounds of
    all of them."""
    out = []
    while len(out) < (count if count is not None else len(faults)):
        round_ = list(faults)
        rng.shuffle(round_)
        out += round_
    return out[:count if count is not None else len(faults)]


def heal_everything(ens, timeout=120.0):
    ens.heal()
    for m in ens.members:
        if m.stopped_by_signal:
            m.sigcont()
        if not m.alive():
            m.start()
    return ens.wait_serving(timeout=timeout)


def final_states(ens, workload, timeout=60.0):
    """sid -> FinalState, read through a client of each member."""
    out = {}
    for m in ens.members:
        try:
            c = ens.client(m, start_timeout=timeout)
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"cannot open a session on member {m.sid} ({m.impl}, "
                                 f"{m.mode()}): {type(e).__name__}: {e}") from e
        try:
            out[m.sid] = read_final_state(c, workload.keys, workload.seq_parent)
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"cannot read the final state through member {m.sid} "
                                 f"({m.impl}, {m.mode()}): {type(e).__name__}: {e}") from e
        finally:
            ens.close_client(c)
    return out


def compare_states(states):
    """Differences between members' final states (empty list when all equal)."""
    sids = sorted(states)
    ref = states[sids[0]]
    diffs = []
    for sid in sids[1:]:
        s = states[sid]
        for k in ref.registers:
            if ref.registers[k] != s.registers.get(k):
                diffs.append(f"{k}: member {sids[0]} {ref.registers[k]} vs member {sid} "
                             f"{s.registers.get(k)}")
        a, b = set(ref.children), set(s.children)
        if a != b:
            diffs.append(f"children: member {sids[0]} has {len(a - b)} that member {sid} lacks "
                         f"(e.g. {sorted(a - b)[:3]}), member {sid} has {len(b - a)} extra "
                         f"(e.g. {sorted(b - a)[:3]})")
        for p in a & b:
            if ref.children[p] != s.children[p]:
                diffs.append(f"{p}: member {sids[0]} {ref.children[p]} vs member {sid} "
                             f"{s.children[p]}")
                break
    return diffs


def run_scenario(ens, seed, faults=None, duration=None, log=print, timing=None, clients=None,
                 keys=3):
    """Start `ens` (a ProxiedEnsemble, not started), run the load and the nemesis (the fault
    names in `faults`, or a seeded sequence repeated until `duration` seconds passed; an item
    of `faults` may also be a callable step(nemesis) -> text, run in its turn), heal,
    read the final state through every member and check the history. Returns a Report; the
    caller cleans up the ensemble."""
    rng = make_rng(seed, "nemesis")
    report = Report(seed=seed, impls=list(ens.impls))
    t0 = time.monotonic()

    def note(text, t_fault=None):
        """A fault (applied at monotonic t_fault) or, with t_fault None, a progress line."""
        t = (t_fault if t_fault is not None else time.monotonic()) - t0
        if t_fault is not None:
            report.faults.append((t, text))
        log(f"[faults +{t:6.1f}s] {text}")

    ens.start()
    report.durations["start"] = time.monotonic() - t0
    load = Workload(ens, seed, clients=clients, keys=keys)
    load.setup()
    load.start()
    nemesis = Nemesis(ens, load, rng, note, timing=timing)
    try:
        load.wait_progress(20, timeout=60)
        t_faults = time.monotonic()
        if duration is None:
            names = list(faults) if faults is not None else fault_sequence(rng)
            nemesis.run(names)
        else:
            def forever():
                while time.monotonic() - t_faults < duration:
                    yield from fault_sequence(rng, faults=faults or FAULTS)
            stopper = threading.Timer(duration, nemesis.stop)
            stopper.daemon = True
            stopper.start()
            try:
                nemesis.run(forever())
            finally:
                stopper.cancel()
        report.durations["faults"] = time.monotonic() - t_faults
        if nemesis.error is not None:
            report.errors.append(f"during faults: {type(nemesis.error).__name__}: "
                                 f"{nemesis.error}")
        t_heal = time.monotonic()
        heal_everything(ens)
        load.wait_progress(10, timeout=90)
        report.durations["heal"] = time.monotonic() - t_heal
    except (WaitTimeout, AssertionError) as e:
        report.errors.append(f"{type(e).__name__}: {e}")
        try:
            heal_everything(ens)
        except (WaitTimeout, AssertionError) as e2:
            report.errors.append(f"after heal: {type(e2).__name__}: {e2}")
    finally:
        load.stop()
    report.errors += [f"client protocol: {c}" for c in load.client_crashes]
    t_check = time.monotonic()
    report.counts = load.history.counts()
    report.history = load.history
    states = None
    deadline = time.monotonic() + 60
    while True:
        try:
            states = final_states(ens, load)
        except Exception as e:  # noqa: BLE001 - a member not serving yet
            if time.monotonic() > deadline:
                report.errors.append(f"final state: {e}")
                break
            time.sleep(1)
            continue
        diffs = compare_states(states)
        if not diffs or time.monotonic() > deadline:
            report.divergence = diffs
            break
        time.sleep(1)  # let a lagging member apply the last transactions
    if getattr(ens, "tap", None) is not None:
        report.tap_summary = ens.tap.summary()
        found = ens.tap.findings()
        report.errors += [f"quorum protocol: {f}" for f in found[:8]]
        if len(found) > 8:
            kinds = {}
            for f in found:
                kinds[f.split(":", 1)[0]] = kinds.get(f.split(":", 1)[0], 0) + 1
            report.errors.append(f"quorum protocol: ... {len(found) - 8} more findings "
                                 f"(all: {kinds})")
    if states:
        final = states[min(states)]
        final.init_zxid = dict(load.init_zxid)
        report.result = check(load.history, final, load.keys, t_setup=load.t_setup)
    report.durations["check"] = time.monotonic() - t_check
    report.durations["total"] = time.monotonic() - t0
    return report


def make_ensemble(impls, seed, corral_bin=None, name="faults", keep=False, settings=None,
                  **kw):
    """A ProxiedEnsemble (not started) with FAULT_SETTINGS; `kw` goes to Ensemble (e.g.
    observers=(4, 5))."""
    s = dict(FAULT_SETTINGS)
    s.update(settings or {})
    return ProxiedEnsemble(impls, seed=seed, settings=s, corral_bin=corral_bin, name=name,
                           keep=keep, **kw)
