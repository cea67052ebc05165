"""Dynamic reconfiguration under faults, on both implementations (ZooKeeper 3.8 shown to do
the same, /tmp notes in README.md "Dynamic reconfiguration"):

* A reconfig that a quorum of the *old* config acked but not one of the *new* stays pending:
  later writes wait with it (they need both quorums), the leader gives up once it has no
  synced quorum of the new config, no leader can be elected without one, and when the missing
  voter is back the next leader completes it (NEWLEADER carries the pending config) and commits
  the reconfig's own txn. Nothing acknowledged is lost.
* The leader is killed (kill -9) right after a reconfig was acknowledged: the new config stays
  in force under the next leader.
"""
import time

import pytest
from kazoo.exceptions import ConnectionLoss

from harness.util import wait_until
from harness_ensemble import BackgroundWriter, assert_same_everywhere, dump_tree
from test_ensemble_basic import unique

from reconfig_support import (RECONFIG_SETTINGS, START_TIMEOUT, TEST_TIME_LIMIT, config_at,
                              reconfig, specs, spec_of, super_client, time_limit,
                              unused_spec, wait_config_everywhere)

FAST_FAILURE = {"syncLimit": 2}  # the leader gives up a lost quorum after 2 ticks (4 s)


@pytest.fixture(autouse=True)
def _time_limit(make_ensemble):
    with time_limit(TEST_TIME_LIMIT):
        yield


def started(make_ensemble):
    settings = dict(RECONFIG_SETTINGS)
    settings.update(FAST_FAILURE)
    ens = make_ensemble(3, settings=settings, start=False)
    ens.start(leader_sid=3, timeout=START_TIMEOUT)
    return ens


def test_pending_reconfig_is_completed_by_the_next_leader(make_ensemble, record_timing):
    ens = started(make_ensemble)
    leader, stopped = ens.member(3), ens.member(2)
    base = unique("pending")
    w = BackgroundWriter(ens.client([ens.member(1), leader]), base, op_timeout=30.0).start()
    w.wait_progress(10)
    ghost_sid, ghost_spec = spec_of(unused_spec(9))
    # sid 2 frozen: still counted as synced for syncLimit, so the leader accepts a config of
    # {1, 2, 3, 9}; but only 1 and 3 can ack it: 2 of 4 is no quorum of the new config.
    ens.sigstop(stopped)
    su = super_client(ens, leader)
    pending = su.reconfig_async(f"server.{ghost_sid}={ghost_spec}", None, None, -1)
    t0 = time.monotonic()
    # The leader quits once its synced voters are no quorum of the pending config, and nobody
    # can lead {1, 3} alone: no member serves while sid 2 is frozen.
    wait_until(lambda: all(m.mode() is None for m in (ens.member(1), leader)), 30, interval=0.1,
               message="a member kept serving without a quorum of the pending config")
    record_timing("pending reconfig: leader gave up after", time.monotonic() - t0)
    assert not pending.ready() or pending.exception is not None, "the reconfig cannot have committed"
    ens.sigcont(stopped)
    modes = ens.wait_serving(timeout=60)
    record_timing("pending reconfig: serving again after SIGCONT", time.monotonic() - t0)
    try:
        data, _ = pending.get(timeout=30)
        assert f"server.{ghost_sid}={ghost_spec}" in data.decode()
    except ConnectionLoss:
        pass  # its server lost the quorum: the outcome is read below
    after = specs(ens.members)
    after[ghost_sid] = ghost_spec
    version = wait_config_everywhere(ens, after, timeout=30)
    assert version > 0x100000000
    w.wait_progress(10, timeout=60)
    w.stop()
    c = ens.client(ens.member(1))
    tree = dump_tree(c, base)
    missing = [p for p in w.acked_paths() if p not in tree]
    assert not missing, f"{len(missing)} acknowledged writes lost: {missing[:5]}"
    assert_same_everywhere(ens, base)
    assert sum(1 for mode in modes.values() if mode == "leader") == 1


def test_config_survives_the_leader_killed_right_after_it(make_ensemble):
    ens = started(make_ensemble)
    leader = ens.member(3)
    su = super_client(ens, ens.member(1))
    ghost_sid, ghost_spec = spec_of(unused_spec(8, role="observer"))
    data, stat = reconfig(su, joining=f"server.{ghost_sid}={ghost_spec}", leaving="2")
    ens.kill9(leader)
    remaining = [ens.member(1), ens.member(3)]
    after = specs(remaining)
    after[ghost_sid] = ghost_spec
    # sid 1 alone is no quorum of {1, 3}: the old leader comes back, and the config holds.
    ens.start_member(leader)
    version = wait_config_everywhere(ens, after, members=remaining, timeout=60)
    assert version == stat.mzxid
    assert config_at(ens, ens.member(2))[0] == after, "the removed member follows on, knowing the new config"
    c = ens.client(remaining)
    c.create(unique("after-kill"), b"x")
