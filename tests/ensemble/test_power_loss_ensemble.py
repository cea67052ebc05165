"""Power loss in a 3-member ensemble (issue 19): each member's data dir is on its own
corral-crashfs disk (tests/crashfs), which keeps only what was made durable: txn logs,
snapshots, the epoch files and RocksDB alike.

Rounds of writers (tests/integration/harness/power_loss.py) with, at a random point, a power
cut of a quorum: either all three members or a random two, killed together and their disks cut.
After each restart every acknowledged write is there, no multi is half-applied, each writer's
order is kept, and every member holds the same tree. The seed is printed; CORRAL_POWER_LOSS_SEED
and CORRAL_POWER_LOSS_ROUNDS set it and the number of rounds (tests/README.md's long run).

Corral members run on the strict POSIX model (a name is durable once its directory is fsynced);
the reference run (every member ZooKeeper 3.8) and the mixed ensemble of the long run on the
journal model, since ZooKeeper never
fsyncs a directory (tests/integration/test_power_loss.py shows it losing data on the strict
model), with snapshot.trust.empty (its background snapshots are not fsynced).
"""
import os
import time

import pytest

from harness import crashfs
from harness import power_loss as pl
from harness.util import wait_until

pytestmark = pytest.mark.skipif(crashfs.available() is not None,
                                reason=str(crashfs.available()))

ROUNDS, SEED, WRITERS = pl.ROUNDS, pl.SEED, pl.WRITERS


class PowerLossEnsemble:
    def __init__(self, make_ensemble, impls, model):
        self.ens = make_ensemble(impls, settings=pl.server_settings("corral"), start=False,
                                 member_settings={sid + 1: pl.server_settings(impl)
                                                  for sid, impl in enumerate(impls)})
        self.disks = {}
        for m in self.ens.members:
            disk = crashfs.CrashFs(self.ens.dir, f"disk{m.sid}", [f"--metadata={model}"])
            # The data dir and myid exist, durably, before the first start.
            os.makedirs(os.path.join(disk.state, "data"))
            with open(os.path.join(disk.state, "data", "myid"), "w") as f:
                f.write(f"{m.sid}\n")
            disk.mount()
            m.data_dir = disk.path("data")
            self.disks[m.sid] = disk
        self.ens.start()

    def hosts(self):
        return self.ens.hosts()

    def power_cut(self, members):
        """Kills `members` together, then cuts their disks' power, then mounts them again."""
        for m in members:
            m.proc.kill()
        for m in members:
            m.kill9()  # waits for the exit
            m.stop()
        for m in members:
            self.disks[m.sid].power_cut()
            self.disks[m.sid].mount()

    def restart(self, members):
        for m in members:
            m.start()
        self.ens.wait_serving(90)

    def member_states(self):
        """sid -> the tree under /pl as that member serves it (after a sync)."""
        states = {}
        for m in self.ens.members:
            c = self.ens.client(m, timeout=30.0)
            try:
                c.sync(pl.ROOT)
                states[m.sid] = pl.read_state(c, WRITERS)
            finally:
                self.ens.close_client(c)
        return states

    def cleanup(self):
        for m in self.ens.members:
            m.stop()
        for disk in self.disks.values():
            disk.remove()


@pytest.fixture
def power_loss_ensemble(make_ensemble):
    made = []

    def make(impls, model):
        p = PowerLossEnsemble(make_ensemble, impls, model)
        made.append(p)
        return p
    yield make
    for p in made:
        p.cleanup()


def check_round(p, history, round_no):
    c = p.ens.client(timeout=30.0)
    try:
        pl.prepare(c, WRITERS)
        problems, next_seq = pl.check(c, history)
    finally:
        p.ens.close_client(c)
    states = p.member_states()
    first = states[1]
    for sid, state in states.items():
        if state != first:
            problems.append(f"member {sid} differs from member 1")
    return [f"round {round_no} (seed {SEED}): {x}" for x in problems], next_seq


# Every run: three members of the implementation under test. The long run
# (CORRAL_POWER_LOSS_ALL_MODELS=1) adds a mixed ensemble, two Corral members and one ZooKeeper
# member on the journal model (all ZooKeeper with --impl zookeeper).
SHAPES = [pytest.param(None, id="same")]
if os.environ.get("CORRAL_POWER_LOSS_ALL_MODELS") == "1":
    SHAPES.append(pytest.param(["corral", "corral", "zookeeper"], id="CCz"))


@pytest.mark.parametrize("shape", SHAPES)
def test_quorum_power_cuts_lose_no_acknowledged_write(power_loss_ensemble, make_ensemble, impl,
                                                      shape):
    impls = make_ensemble.impls_for(shape) if shape else [impl] * 3
    model = "journal" if "zookeeper" in impls else "strict"
    print(f"power-loss seed {SEED}, {ROUNDS} rounds, model {model}, members {impls}")
    rng = pl.make_rng(SEED)
    p = power_loss_ensemble(impls, model)
    history = pl.History(WRITERS)
    problems, next_seq = check_round(p, history, 0)
    for round_no in range(ROUNDS):
        assert not problems, "\n".join(problems)
        writers = pl.Writers(p.hosts(), history)
        writers.start(next_seq)
        before = history.total_acked()
        wait_until(lambda: history.total_acked() >= before + 10, timeout=60,
                   message="the writers made no progress")
        time.sleep(pl.crash_delay(rng))  # the random crash point
        victims = (list(p.ens.members) if rng.random() < 0.5
                   else rng.sample(list(p.ens.members), 2))
        print(f"round {round_no}: power cut of members {[m.sid for m in victims]}")
        p.power_cut(victims)
        writers.stop()
        p.restart(victims)
        problems, next_seq = check_round(p, history, round_no + 1)
    assert not problems, "\n".join(problems)
    assert history.total_acked() >= 10 * ROUNDS
    assert all(sum(c["file_syncs"] for c in d.power_cuts) > 0
               for d in p.disks.values() if d.power_cuts)
