"""Pipelined writes and syncs on a follower are answered in order, and the follower keeps
serving. Found by the fault suite's quorum tap: a Corral leader answered a learner's SYNC before
proposing the writes that learner forwarded just before it (a ZooKeeper follower then wedged,
kazoo saw "xids do not match"), and a Corral follower handed the kernel a SYNC before a commit
still waiting for its own log (the session hung). Runs on ZooKeeper (reference) and Corral, alone
and mixed with Corral as leader and as follower."""
import socket
import struct

import pytest

from harness import raw
from harness.raw import ConnectionClosed, Op, path_body, set_data_body

SHAPES = [
    pytest.param(None, id="impl"),
    pytest.param(["zookeeper", "zookeeper", "corral"], id="zzC-corral-leader", marks=pytest.mark.mixed),
    pytest.param(["corral", "zookeeper", "zookeeper"], id="Czz-corral-follower", marks=pytest.mark.mixed),
]


def pipelined_replies(port, pattern, repeat):
    """Sends `pattern` (w = setData, s = sync) `repeat` times without waiting; the reply xids."""
    conn = raw.connect(port, timeout=20000)
    frames = bytearray()
    xid = 0
    for _ in range(repeat):
        for kind in pattern:
            xid += 1
            op, body = (Op.SET_DATA, set_data_body("/order", b"v")) if kind == "w" else (Op.SYNC, path_body("/order"))
            payload = struct.pack(">ii", xid, op) + body
            frames += struct.pack(">i", len(payload)) + payload
    conn.send_raw(bytes(frames))
    got = []
    try:
        while len(got) < xid:
            got.append(conn.read_reply(timeout=15).xid)
    except (ConnectionClosed, socket.timeout):
        pass
    conn.close()
    return xid, got


@pytest.mark.parametrize("shape", SHAPES)
def test_pipelined_writes_and_syncs_on_a_follower_answer_in_order(make_ensemble, mixed, shape):
    ens = make_ensemble(3, leader_sid=3) if shape is None else mixed(shape, leader_sid=3)
    follower = ens.member(1)
    assert follower.mode() == "follower"
    c = ens.client(ens.leader())
    c.create("/order", b"v0")
    for pattern, repeat, rounds in (("ws", 200, 1), ("ws", 2, 20), ("wws", 3, 10)):
        for _ in range(rounds):
            sent, got = pipelined_replies(follower.port, pattern, repeat)
            assert got == list(range(1, sent + 1)), \
                f"pattern {pattern!r}x{repeat}: {len(got)}/{sent} replies, first ones {got[:8]}"
    # The follower still serves new sessions and their writes.
    after = ens.client(follower, start_timeout=20)
    after.set("/order", b"after")
    after.sync("/order")
    assert after.get("/order")[0] == b"after"
