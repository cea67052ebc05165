"""Fault injection under client load, checked by the history checker (short seeded runs).

A 3-member ensemble runs behind link proxies (link_proxy.py: every peer-to-peer connection,
quorum and election ports, goes through a proxy the test owns). Several kazoo sessions, spread
over the members, write, compare-and-set, read and create sequential nodes throughout, and
record every operation (history.py). A nemesis driven by random.Random(seed) applies, in a
seeded order: kill -9 of the leader and restart, kill -9 of a follower and restart,
SIGSTOP/SIGCONT of the leader, a partition isolating the leader, a one-way drop between the
leader and a follower, added delay. Then everything heals, the final state is read through
every member (they must agree) and the history is checked: no acknowledged write lost,
linearizable writes / CAS / quorum reads per register, zxid order of writes matches real time,
per-session order, nothing applied twice. A kazoo connection thread that dies (a reply out of
request order) and the quorum tap's findings (a leader completing a learner's forwarded
requests out of order: quorum_tap.py) fail the test too.

`test_faults_observers` runs 3 voters and 2 observers, with history clients connected first
to the observers too, and faults that hit observers (kill -9, SIGSTOP, partition) besides a
leader and a follower fault.

The seed is CORRAL_FAULT_SEED (default nemesis.DEFAULT_SEED); it is printed with the faults
applied. The long run is fault_run.py. Both are described in README.md ("Fault injection").
"""
import pytest

from history import make_rng
from nemesis import FAULTS, OBSERVER_FAULTS, run_scenario

# Fixtures `fault_seed` and `proxied`: conftest.py (shared with test_mixed_storage.py).

MIXED_SHAPES = [
    pytest.param(["zookeeper", "zookeeper", "corral"], id="zzC"),
    pytest.param(["zookeeper", "corral", "corral"], id="zCC"),
]


def run_and_check(ens, seed, faults, capsys, record_timing, label, **scenario):
    """run_scenario (`scenario`: its other arguments, e.g. timing) with the run logged live;
    asserts the report is ok and returns it."""
    def log(line):
        with capsys.disabled():
            print(line, flush=True)

    log(f"\n[faults] {label}: seed {seed} (CORRAL_FAULT_SEED={seed}), members "
        f"{', '.join(f'{m.sid}={m.impl}' for m in ens)}, faults "
        f"{faults or 'every fault once, seeded order'}")
    report = run_scenario(ens, seed, faults=faults, log=log, **scenario)
    res = report.result
    counts = res.stats if res is not None else {}
    log(f"[faults] {label}: {'PASS' if report.ok else 'FAIL'} seed {seed}: "
        f"{counts.get('ops', 0)} ops, {counts.get('acked_writes', 0)} acknowledged writes, "
        f"{counts.get('unknown_writes', 0)} unknown, {len(report.faults)} faults, "
        f"{report.durations.get('total', 0):.0f}s")
    record_timing(f"fault run ({len(report.faults)} faults, seed {seed})",
                  report.durations.get("total", 0))
    assert report.ok, f"seed {seed} (rerun with CORRAL_FAULT_SEED={seed})\n{report.summary()}"
    return report


def test_faults_seeded(proxied, impl, fault_seed, capsys, record_timing):
    """Every fault once, in a seeded order, on 3 members of the implementation under test."""
    ens = proxied([impl] * 3, fault_seed)
    report = run_and_check(ens, fault_seed, None, capsys, record_timing, "3 members")
    assert len(report.faults) == len(FAULTS)
    assert report.result.stats["acked_writes"] > 100


@pytest.mark.mixed
@pytest.mark.parametrize("shape", MIXED_SHAPES)
def test_faults_mixed(proxied, impl, fault_seed, shape, capsys, record_timing):
    """Three seeded faults (always one on the leader) on a mixed ensemble (with --impl
    zookeeper, the same shape with every member ZooKeeper)."""
    impls = list(shape) if impl == "corral" else ["zookeeper"] * len(shape)
    rng = make_rng(fault_seed, "mixed", "".join(x[0] for x in shape))
    leader_faults = [f for f in FAULTS if "leader" in f]
    faults = [rng.choice(leader_faults)]
    faults += rng.sample([f for f in FAULTS if f not in faults], 2)
    rng.shuffle(faults)
    ens = proxied(impls, fault_seed)
    shape_id = "".join("C" if x == "corral" else "z" for x in shape)
    report = run_and_check(ens, fault_seed, faults, capsys, record_timing,
                           f"mixed {shape_id}" + ("" if impls == list(shape) else
                                                  " (every member ZooKeeper)"))
    assert len(report.faults) == 3


def test_faults_observers(proxied, impl, fault_seed, capsys, record_timing):
    """3 voters and 2 observers of the implementation under test. Six history clients, the
    4th and 5th connected first to the observers (client i starts at member i mod 5), so
    observers forward writes, syncs and quorum reads and serve plain reads. Faults, in a
    seeded order: each observer fault once (kill -9 and restart, SIGSTOP/SIGCONT, isolation),
    one of kill / pause of the leader, and a kill of a follower. An observer down or cut off
    never stops writes (it does not vote); its clients move to other members with their
    sessions. The checker must find per-session order kept and no acknowledged write lost;
    the tap checks that the leader answers each observer's forwarded requests (INFORM, SYNC)
    in the order they were forwarded."""
    rng = make_rng(fault_seed, "observers")
    faults = list(OBSERVER_FAULTS) + [rng.choice(["kill_leader", "pause_leader"]),
                                      "kill_follower"]
    rng.shuffle(faults)
    ens = proxied([impl] * 5, fault_seed, observers=(4, 5))
    report = run_and_check(ens, fault_seed, faults, capsys, record_timing,
                           "3 voters + 2 observers")
    assert len(report.faults) == len(faults)
    assert report.result.stats["acked_writes"] > 100
    # The observers did serve the history: acknowledged operations made through each of them.
    served = {}
    for op in report.history.snapshot():
        if op.status == "ok":
            served[op.member] = served.get(op.member, 0) + 1
    for sid in (4, 5):
        assert served.get(sid, 0) >= 20, f"operations acknowledged per member: {served}"
