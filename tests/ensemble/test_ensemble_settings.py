"""zoo.cfg keys of the quorum with ZooKeeper's meaning: leaderServes, a server line's own client
port, quorumListenOnAllIPs."""
import socket

import pytest
from kazoo.client import KazooClient
from kazoo.handlers.threading import KazooTimeoutError


def test_leader_serves_no_keeps_clients_on_the_followers(make_ensemble):
    ens = make_ensemble(3, settings={"leaderServes": "no"}, start=False)
    for m in ens:
        m.start()
    followers = None
    # The leader does not serve clients: wait for two followers and one member that runs but
    # does not answer as serving.
    import time
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        modes = ens.modes()
        if sorted(v for v in modes.values() if v) == ["follower", "follower"]:
            followers = [ens.member(s) for s, v in modes.items() if v == "follower"]
            break
        time.sleep(0.2)
    assert followers, ens.describe()
    leader = next(m for m in ens if m not in followers)
    assert leader.alive()
    text = leader.four_letter("srvr")
    assert "not currently serving" in text, text
    c = ens.client(followers)
    c.create("/ls", b"via-follower")
    for f in followers:
        c2 = ens.client(f)
        c2.sync("/ls")
        assert c2.get("/ls")[0] == b"via-follower"
    lone = KazooClient(hosts=leader.hosts, timeout=3)
    with pytest.raises(KazooTimeoutError):
        lone.start(timeout=4)
    lone.stop()
    lone.close()


def test_quorum_listen_on_all_ips(make_ensemble):
    ens = make_ensemble(3, settings={"quorumListenOnAllIPs": "true"})
    leader = ens.leader()
    # The election port answers on another local address than the configured 127.0.0.1.
    addresses = [a for a in ("127.0.0.2",) if _can_bind(a)]
    for address in addresses:
        with socket.create_connection((address, leader.election_port), timeout=5):
            pass
    c = ens.client()
    c.create("/all-ips", b"ok")
    assert c.get("/all-ips")[0] == b"ok"


def _can_bind(address):
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


@pytest.mark.mixed
def test_learner_in_a_long_snap_ignores_the_leaders_pings(mixed):
    """A wiped learner loading a long SNAP (20k znodes, 8 MB) from a ZooKeeper leader that pings
    every 50 ms (tickTime 100) syncs once: pings around the sync, and the 3.8 leader reading the
    learner's next packet as the ACK of NEWLEADER, do not make it start over."""
    settings = {"tickTime": 100, "initLimit": 200, "syncLimit": 100}
    ens = mixed(["corral", "zookeeper", "zookeeper"], leader_sid=3, settings=settings)
    c = ens.client(ens.leader())
    c.ensure_path("/long-snap")
    payload = b"p" * 400
    for batch in range(100):
        t = c.transaction()
        for i in range(200):
            t.create(f"/long-snap/b{batch:03d}-{i:03d}", payload)
        assert all(r is True or isinstance(r, str) for r in t.commit())
    learner = ens.member(1)
    learner.stop()
    learner.wipe()
    ens.start_member(learner, timeout=120)
    c1 = ens.client(learner)
    c1.sync("/long-snap")
    assert len(c1.get_children("/long-snap")) == 20000
    if learner.impl == "corral":
        log = learner.log_since_start()
        assert log.count("SNAP sync") == 1 and "leaving leader" not in log, log[-3000:]
    else:
        assert learner.sync_modes_in_log() == ["SNAP"]
