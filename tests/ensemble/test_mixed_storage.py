"""Mixed storage (marker `mixed`): a Corral member on storage.memlog (sid 1), an Apache
ZooKeeper member (sid 2) and a Corral member on storage.rocksdb (sid 3) in one ensemble, under
the history workload of test_faults.py (nemesis.run_scenario behind link proxies, so the
quorum tap also parses every learner <-> leader stream, SNAP payloads included).

Steps, in order, each once the ensemble serves and the clients made progress:

  1. the rocksdb member leads (forced if the first election chose another member: `lead`)
     and writes commit under it;
  2. it is isolated while leading (links hung) and takes writes nobody else logs; the others
     elect a leader (the ZooKeeper member, with equal data); healed, the rocksdb member must
     drop those txns: TRUNC, done with its undo records (the workload is suspended during
     this step only, see `isolate_rocks_leader`);
  3. kill -9 of the rocksdb member as a follower while writes go on: DIFF;
  4. its data dir wiped: a SNAP from a leader of another storage;
  5. the rocksdb member, rebuilt from that SNAP, leads again (forced);
  6. kill -9 of the memlog follower: DIFF from the rocksdb leader, older than the leader's
     in-memory window (commitLogCount 10), so read from the rocksdb log;
  7. the memlog member wiped: a SNAP streamed by the rocksdb leader;
  8. kill -9 of the rocksdb member while it leads; back, it catches up.

Then the history is checked (no acknowledged write lost, linearizable writes, ...) and every
member serves the same tree: data, the whole Stat and the children of every node, read
through each member's own client port. The ZooKeeper member has the middle sid: with equal
data it wins the elections the rocksdb member is not in (ZooKeeper orders votes by (epoch,
zxid, sid)), so it is the "other storage" that sends the TRUNC and the SNAP of steps 2 and 4.

With --impl zookeeper every member is ZooKeeper (same sids, same steps and expectations; the
`storage` settings are not written for ZooKeeper members), which checks the test itself: it
runs once there (`once_in_reference_run`). The seed is CORRAL_FAULT_SEED, as for
test_faults.py.
"""
import os
import re

import pytest

from harness.util import wait_until
from harness_ensemble import assert_same_everywhere, zxid_of
from nemesis import Timing
from reconfig_tier_support import once_in_reference_run
from test_faults import run_and_check

pytestmark = pytest.mark.mixed

# The rocksdb member serves DIFFs older than its last 10 committed txns from its log (with
# ZooKeeper's size rule out of the way); the same properties for a ZooKeeper member.
ROCKS_LEADER_SETTINGS = {"zookeeper.commitLogCount": 10, "zookeeper.snapshotSizeFactor": 1000}

# (impl, settings) per member, sid 1 first.
SHAPES = [
    pytest.param([("corral", {"storage": "memlog"}), ("zookeeper", {}),
                  ("corral", dict(ROCKS_LEADER_SETTINGS, storage="rocksdb"))],
                 id="memlog-Z-rocksdb"),
]

# Short quiet times between steps (CI time); the rest as test_faults.py.
TIMING = Timing(settle=(0.2, 0.6))
CATCH_UP_TIMEOUT = 30.0
PROBES = 5  # writes taken by the isolated leader (step 2)
# A ZooKeeper 3.8.0 follower's failed sync (see Steps._synced).
ZK_4394 = 'Cannot read field "hdr" because "pif" is null'


class Step:
    """A named step for run_scenario: called with the Nemesis, returns the text it logs."""

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn

    def __call__(self, nemesis):
        return self.fn(nemesis)

    def __repr__(self):
        return self.name


def role_of(m):
    return f"{m.sid} ({m.storage_plugin() or m.impl})"


def wait_caught_up(ens, m):
    """`m` has applied at least what the leader had applied when this was called. (A leader
    that has committed nothing in its epoch yet shows Zxid (epoch, 0), which no follower
    shows: then its last committed txn is not known here, and serving is enough.)"""
    target = zxid_of(ens.leader().srvr())
    if target & 0xFFFFFFFF == 0:
        return
    wait_until(lambda: (zxid_of(m.srvr() or "") or -1) >= target, CATCH_UP_TIMEOUT,
               interval=0.05, message=f"member {role_of(m)} did not reach zxid {target:#x}")


def diff_txns_sent(leader, learner):
    """For a Corral leader: the txn counts of the DIFFs it sent `learner` since the learner's
    last start (sync_planner.cc logs "DIFF follower sid N at ... (K txns)")."""
    pat = re.compile(rf"DIFF follower sid {learner.sid} at \S+ from 0x[0-9a-f]+ to "
                     rf"0x[0-9a-f]+ \((\d+) txns\)")
    return [int(x) for x in pat.findall(leader.log_since(learner.log_marks.get(leader.sid, 0)))]


class Steps:
    """The scenario's steps around `rocks` (the rocksdb member) and `memlog`. `seen` counts
    the roles `rocks` was checked to hold while writes were acknowledged; `syncs` lists
    (step, member sid, how it synced, leader sid)."""

    def __init__(self, ens, rocks, memlog):
        self.ens = ens
        self.rocks = rocks
        self.memlog = memlog
        self.seen = {"leader": 0, "follower": 0}
        self.syncs = []

    def _synced(self, step, m, expect, since=None):
        """`m` serves as a follower, caught up, and its log names one sync with the leader
        since its start (or log offset `since`), one of `expect`. Returns (mode, leader).

        A ZooKeeper 3.8.0 follower may fail a sync and sync again: a COMMIT that comes after
        NEWLEADER for a PROPOSAL sent before it is a NullPointerException in
        Learner.syncWithLeader (ZOOKEEPER-4394, fixed after 3.8.0), whichever implementation
        leads; each such failure allows one more sync (of any kind: a SNAP half taken is
        finished by a DIFF)."""
        ens = self.ens
        ens.wait_serving()
        assert m.mode() == "follower", ens.describe()
        leader = ens.leader()
        wait_caught_up(ens, m)
        modes = m.learner_sync_modes(since)
        text = m.log_since_start() if since is None else m.log_since(since)
        retries = text.count(ZK_4394) if m.impl == "zookeeper" else 0
        self.syncs.append((step, m.sid, modes, leader.sid))
        assert len(modes) == 1 + retries and modes[0] in expect, \
            f"{step}: member {role_of(m)} synced by {modes} with leader {role_of(leader)} " \
            f"({retries} ZOOKEEPER-4394 failures), expected one of {expect}"
        if m is self.rocks:
            self.seen["follower"] += 1
        return modes[0], leader

    def lead(self, step):
        """The rocksdb member leads, with writes committed under it. If another member leads,
        the move is forced: the third member SIGSTOPped, writes through the rocksdb member
        committed by the leader and it alone (so it has logged strictly more than the stopped
        one: answered on the rocksdb member, they are applied there), the leader kill -9, the
        third SIGCONT: only the rocksdb member can win, whatever the sids. The killed leader
        comes back and syncs from it. (The workload's clients are not used for those writes:
        most may sit on the stopped member.)"""
        def run(nem):
            ens, load, r = self.ens, nem.workload, self.rocks
            leader = ens.leader()
            how = "already leading"
            if leader is not r:
                third = next(m for m in ens.members if m not in (leader, r))
                c = ens.client(r)
                third.sigstop()
                try:
                    for _ in range(3):
                        c.create("/moved-", b"", sequence=True)
                    leader.kill9()
                finally:
                    third.sigcont()
                    ens.close_client(c)
                ens.wait_serving()
                assert ens.leader() is r, ens.describe()
                leader.start()
                mode, _ = self._synced(step, leader, ("DIFF", "TRUNC", "SNAP"))
                how = (f"forced: {role_of(third)} SIGSTOPped while {role_of(leader)} and "
                       f"{role_of(r)} committed, leader {role_of(leader)} kill -9, SIGCONT; "
                       f"{role_of(leader)} back, synced by {mode}")
            load.wait_progress(20, timeout=nem.progress_timeout)
            assert ens.leader() is r, ens.describe()
            self.seen["leader"] += 1
            return f"{step}: {role_of(r)} leads ({how}); 20 writes acknowledged under it"
        return Step(step, run)

    def isolate_rocks_leader(self, step):
        """The rocksdb leader's peer links hang: it takes PROBES creates (through a client of
        its own) that it logs and no follower receives, until the others elect a leader
        (after syncLimit). Healed, it follows and must drop them: TRUNC, undone from its undo
        records. The workload is suspended meanwhile, so that the new leader commits nothing
        before the old one is back: with a txn of the new epoch committed first, ZooKeeper's
        leader sends a SNAP instead ("Cannot send TRUNC to peer sid: 3 peer zxid is from
        different epoch") and the TRUNC would be left to chance."""
        def run(nem):
            ens, r, load = self.ens, self.rocks, nem.workload
            assert ens.leader() is r, ens.describe()
            mark = r.log_size()
            probe = ens.client(r)
            others = [m for m in ens.members if m is not r]
            load.suspend()
            try:
                ens.isolate(r, "hang")
                try:
                    for i in range(PROBES):
                        probe.create_async(f"/uncommitted-{i}", b"only the isolated leader")
                    ens.wait_serving(members=others)
                finally:
                    ens.heal()
                mode, leader = self._synced(step, r, ("TRUNC",), since=mark)
            finally:
                load.resume()
            ens.close_client(probe)
            c = ens.client(leader)
            try:
                c.sync("/")
                kept = [i for i in range(PROBES) if c.exists(f"/uncommitted-{i}")]
            finally:
                ens.close_client(c)
            assert not kept, f"uncommitted creates {kept} of the isolated leader exist"
            return (f"{step}: leader {role_of(r)} isolated (hang), {PROBES} creates through it, "
                    f"workload suspended; {role_of(leader)} elected; healed, {role_of(r)} "
                    f"follows, synced by {mode}; none of the creates exists")
        return Step(step, run)

    def kill9(self, step, m, role, expect, wipe=False):
        """kill -9 of `m` while it is `role`; writes acknowledged without it; optionally its
        data dir wiped; restarted, it follows and catches up by one of `expect`."""
        def run(nem):
            ens, load = self.ens, nem.workload
            assert m.mode() == role, ens.describe()
            m.kill9()
            ens.wait_serving()
            load.wait_progress(40, timeout=nem.progress_timeout)
            if wipe:
                m.wipe()
            m.start()
            mode, leader = self._synced(step, m, expect)
            assert leader is not m
            extra = ""
            if mode == "DIFF" and leader is self.rocks and m is self.memlog:
                sent = diff_txns_sent(leader, m) if leader.impl == "corral" else []
                if leader.impl == "corral":
                    assert len(sent) == 1 and sent[0] > ROCKS_LEADER_SETTINGS[
                        "zookeeper.commitLogCount"], f"DIFF txn counts in the leader's log: {sent}"
                extra = f" ({sent[0]} txns)" if sent else ""
            return (f"{step}: kill -9 {role} {role_of(m)}{', data wiped' if wipe else ''}, "
                    f"40 writes without it; back as a follower, caught up by {mode}{extra} "
                    f"from leader {role_of(leader)}")
        return Step(step, run)


def config_keys(m):
    """key -> value of the member's zoo.cfg."""
    out = {}
    for line in m.read_config().splitlines():
        if "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@pytest.mark.parametrize("shape", SHAPES)
def test_rocksdb_member_leads_and_follows_in_mixed_storage(request, impl, proxied, fault_seed,
                                                           shape, capsys, record_timing):
    """memlog, ZooKeeper and rocksdb members (sids 1, 2, 3) under the history workload: the
    rocksdb member leads, drops the txns it took while isolated (TRUNC), catches up after a
    kill -9 (DIFF), takes a SNAP from the ZooKeeper leader after a wipe, leads again, sends
    the memlog member a DIFF from its log and a SNAP, and catches up after a kill -9 as leader.
    The history checks, the quorum tap finds nothing, all three serve identical trees."""
    once_in_reference_run(request, impl)
    impls = [i for i, _ in shape] if impl == "corral" else ["zookeeper"] * len(shape)
    ens = proxied(impls, fault_seed, member_settings={
        sid: settings for sid, (_, settings) in enumerate(shape, 1)})
    memlog, zk, rocks = ens.members
    if impl == "corral":
        assert ens.storages() == {1: "memlog", 2: "zookeeper", 3: "rocksdb"}
    s = Steps(ens, rocks, memlog)
    steps = [
        s.lead("1 rocksdb leads"),
        s.isolate_rocks_leader("2 isolate rocksdb leader"),
        s.kill9("3 kill -9 rocksdb follower", rocks, "follower", ("DIFF",)),
        s.kill9("4 wipe rocksdb follower", rocks, "follower", ("SNAP",), wipe=True),
        s.lead("5 rocksdb leads again"),
        s.kill9("6 kill -9 memlog follower", memlog, "follower", ("DIFF",)),
        s.kill9("7 wipe memlog follower", memlog, "follower", ("SNAP",), wipe=True),
        s.kill9("8 kill -9 rocksdb leader", rocks, "leader", ("DIFF", "TRUNC", "SNAP")),
    ]
    label = ("mixed storage " + ", ".join(f"{m.sid}={m.storage_plugin() or m.impl}" for m in ens)
             + ("" if impl == "corral" else " (every member ZooKeeper)"))
    report = run_and_check(ens, fault_seed, steps, capsys, record_timing, label, timing=TIMING)
    with capsys.disabled():
        print(f"[mixed storage] syncs (step, member, how, leader): {s.syncs}")
    assert len(report.faults) == len(steps), report.summary()
    assert s.seen["leader"] == 2 and s.seen["follower"] >= 4, s.seen

    # Step 4: the rocksdb member's SNAP came from a member of another storage (the ZooKeeper
    # one unless the memlog one had logged more when step 2 began); step 7: it sent one.
    assert [x[3] for x in s.syncs if x[0].startswith("4 ")] in ([zk.sid], [memlog.sid]), s.syncs
    assert [x[3] for x in s.syncs if x[0].startswith("7 ")] == [rocks.sid], s.syncs

    # Same tree everywhere: data, every Stat field, children, node by node.
    tree = assert_same_everywhere(ens, "/", members=ens.members, full_stat=True)
    assert len(tree) > 100, len(tree)

    # Each member ran what it was given: `storage` only in the Corral members' zoo.cfg.
    for m in ens:
        cfg = config_keys(m)
        if m.impl == "zookeeper":
            assert "storage" not in cfg, (m, cfg)
        else:
            assert cfg.get("storage") == m.storage_plugin(), (m, cfg)
    if impl == "corral":
        assert os.path.isdir(os.path.join(rocks.data_dir, "rocksdb"))
        assert "[storage.rocksdb] opened" in rocks.log_since_start()
        assert os.path.isdir(os.path.join(memlog.data_dir, "version-2"))
        assert not os.path.exists(os.path.join(memlog.data_dir, "rocksdb"))
