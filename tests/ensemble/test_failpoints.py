"""Corral-only safety tests: crashes at chosen points of the quorum protocol, made with
consensus.zab's failpoints (CORRAL_ZAB_FAILPOINTS, plugins/consensus_zab/failpoints.h). ZooKeeper
has no such points, so these run with --impl corral only; the property each one checks is ZAB's
own: no acknowledged write is lost, no unacknowledged txn that only a crashed member logged
survives, and every member ends with the same data.
"""
import contextlib
import os
import time

import pytest
from kazoo.exceptions import ConnectionLoss, OperationTimeoutError, SessionExpiredError

from harness_ensemble import assert_same_everywhere

pytestmark = pytest.mark.corral_only

FAILPOINTS_ENV = "CORRAL_ZAB_FAILPOINTS"


@contextlib.contextmanager
def failpoints(spec):
    """Members started inside the block get `spec` (the environment is copied at spawn)."""
    old = os.environ.get(FAILPOINTS_ENV)
    os.environ[FAILPOINTS_ENV] = spec
    try:
        yield
    finally:
        if old is None:
            del os.environ[FAILPOINTS_ENV]
        else:
            os.environ[FAILPOINTS_ENV] = old


def wait_exit(member, timeout=30.0):
    deadline = time.monotonic() + timeout
    while member.proc.poll() is None:
        assert time.monotonic() < deadline, f"{member!r} did not hit its failpoint\n{member.log_tail()}"
        time.sleep(0.05)
    assert "failpoint" in member.log_since_start(), member.log_tail()
    member.wanted_running = False


def write_indeterminate(client, path, value):
    """A write whose answer may never come (its leader crashes)."""
    try:
        client.set(path, value)
        return True
    except (ConnectionLoss, OperationTimeoutError, SessionExpiredError):
        return False


def test_follower_crashing_between_logging_and_acking_loses_nothing(make_ensemble):
    ens = make_ensemble(3, leader_sid=3)
    follower = ens.member(1)
    follower.stop()
    with failpoints("follower.logged_before_ack"):
        ens.start_member(follower, wait=True)
    c = ens.client(ens.member(3))
    acked = []
    for i in range(20):  # the follower dies on the first; the other two keep the quorum
        c.create(f"/fp-ack-{i}", str(i).encode())
        acked.append(f"/fp-ack-{i}")
    wait_exit(follower)
    ens.start_member(follower)  # restarts from its log, holding the txn it never acked
    for member in ens:
        c2 = ens.client(member)
        c2.sync("/")
        for path in acked:
            assert c2.exists(path), f"{path} missing at sid {member.sid}"
    assert_same_everywhere(ens)


def test_new_leader_holding_an_uncommitted_proposal_commits_it(make_ensemble):
    ens = make_ensemble(3, leader_sid=3)
    old_leader = ens.member(3)
    old_leader.stop()
    # Commits after the restart: the session below (1), the create (2), the set (3) is the one
    # a quorum logs and nobody is told is committed.
    with failpoints("leader.quorum_before_commit@3"):
        ens.start_member(old_leader, wait=False)
        ens.wait_serving(60, members=[old_leader])
    assert ens.leader().sid == 3
    c = ens.client(ens.member(1))
    c.create("/fp-pending", b"before")
    write_indeterminate(c, "/fp-pending", b"quorum-logged")
    wait_exit(old_leader)
    new_leader = ens.leader()
    assert new_leader.sid in (1, 2)
    ens.start_member(old_leader)
    for member in ens:
        c2 = ens.client(member)
        c2.sync("/fp-pending")
        assert c2.get("/fp-pending")[0] == b"quorum-logged", f"sid {member.sid}"
    assert_same_everywhere(ens)


def test_txn_only_the_crashed_leader_logged_is_truncated_away(make_ensemble):
    ens = make_ensemble(3, leader_sid=3)
    old_leader = ens.member(3)
    old_leader.stop()
    with failpoints("leader.logged_before_send@3"):
        ens.start_member(old_leader, wait=False)
        ens.wait_serving(60, members=[old_leader])
    c = ens.client(ens.member(1))
    c.create("/fp-trunc", b"kept")
    write_indeterminate(c, "/fp-trunc", b"never-acked")  # only the leader logs it, then dies
    wait_exit(old_leader)
    ens.leader()  # sid 1 or 2 leads; no write yet, so the old leader's extra txn is TRUNCated
    with failpoints("follower.trunc_before_epoch"):
        ens.start_member(old_leader, wait=False)
        wait_exit(old_leader)
    assert "TRUNC" in old_leader.log_since_start() or "truncat" in old_leader.log_since_start().lower()
    ens.start_member(old_leader)  # an interrupted TRUNC: the restart syncs again
    for member in ens:
        c2 = ens.client(member)
        c2.sync("/fp-trunc")
        assert c2.get("/fp-trunc")[0] == b"kept", f"sid {member.sid}"
    c.set("/fp-trunc", b"after")
    assert_same_everywhere(ens)


def test_interrupted_snap_is_taken_again(make_ensemble):
    ens = make_ensemble(3, leader_sid=3)
    c = ens.client(ens.member(3))
    c.ensure_path("/fp-snap")
    payload = b"x" * 1000
    for i in range(300):  # ~300 KB: the SNAP stream is long enough to be cut in the middle
        c.create(f"/fp-snap/n{i:04d}", payload)
    follower = ens.member(1)
    follower.stop()
    follower.wipe()
    with failpoints("follower.snap_midway"):
        ens.start_member(follower, wait=False)
        wait_exit(follower)
    ens.start_member(follower)
    c1 = ens.client(follower)
    c1.sync("/fp-snap")
    assert len(c1.get_children("/fp-snap")) == 300
    assert_same_everywhere(ens)
