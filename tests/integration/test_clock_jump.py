"""Wall-clock jumps (the failure model, docs/failure-model.md): the server's wall clock is
stepped an hour forward, then an hour back, through libcorral_clockshift.so (LD_PRELOAD,
tests/clockshift); the monotonic clock is left alone, as an NTP step or `date -s` leaves it.

What a user sees, on Apache ZooKeeper 3.8 and Corral alike: sessions neither expire early nor
live forever (their timeouts run on the monotonic clock); Stat.mtime follows the wall clock,
backwards too; a TTL node's time to live is measured on the wall clock (now - mtime), so a
forward step expires it early. Nothing acknowledged is lost.
"""
import os
import time

import pytest

from harness import raw
from harness.raw import Err
from harness.util import wait_until

CLOCKSHIFT = os.path.join(os.path.dirname(os.environ.get("CORRAL_BIN", "")),
                          "libcorral_clockshift.so")
HOUR_MS = 3600 * 1000

pytestmark = [
    pytest.mark.skipif(not os.path.exists(CLOCKSHIFT),
                       reason=f"no {CLOCKSHIFT} (built with the tests, tests/clockshift)"),
    # Sessions and TTLs are the kernel's: the memlog run covers it.
    pytest.mark.storage_independent,
]

SETTINGS = {
    "zookeeper.extendedTypesEnabled": True,
    "znode.container.checkIntervalMs": 500,
    "tickTime": 500,  # session timeouts of 1..10 s, expiry checked every 500 ms
}
IDLE_SECONDS = 3.0  # longer than the shim's re-read (0.1 s) and many ticks, < the timeout


def mtime_of(conn, path):
    err, stat = conn.exists(path)
    assert err == Err.OK, err
    return stat.mtime


def test_sessions_and_data_survive_wall_clock_steps(start_server, tmp_path, node):
    offset_file = tmp_path / "clockshift"
    offset_file.write_text("0\n")
    srv = start_server(SETTINGS, name="clock-jump", extra_env={
        "LD_PRELOAD": CLOCKSHIFT, "CORRAL_CLOCKSHIFT_FILE": str(offset_file)})
    conn = raw.connect(srv.port, timeout=6000)
    assert conn.create(node)[0] == Err.OK
    before = mtime_of(conn, node)
    assert abs(before - time.time() * 1000) < 60_000
    assert conn.create_ttl(f"{node}/ttl", ttl=600_000)[0] == Err.OK

    # An hour forward while the session is idle: a session timeout on the wall clock would
    # have expired it at the first tick after the step.
    offset_file.write_text("3600\n")
    time.sleep(IDLE_SECONDS)  # the idle period is the test: no request touches the session
    assert conn.set_data(node, b"after +1h")[0] == Err.OK, "the session expired"
    assert mtime_of(conn, node) - before > HOUR_MS - 60_000, "the wall clock did not move"
    # The TTL reaper measures on the wall clock: a 10-minute node goes an hour early.
    wait_until(lambda: conn.exists(f"{node}/ttl")[0] == Err.NONODE, timeout=20,
               message="the TTL node outlived a wall clock an hour ahead")

    # An hour back from real time: mtime goes back with it, and a session whose client is
    # gone still expires (a wall-clock timeout would now be an hour away).
    gone = raw.connect(srv.port, timeout=2000)
    assert gone.create(f"{node}/eph", flags=raw.CreateFlags.EPHEMERAL)[0] == Err.OK
    offset_file.write_text("-3600\n")
    time.sleep(IDLE_SECONDS / 2)  # conn's session is 6 s; this keeps its idle under that
    assert conn.set_data(node, b"after -1h")[0] == Err.OK
    assert before - mtime_of(conn, node) > HOUR_MS - 60_000, "the wall clock did not go back"
    gone.close()  # no closeSession: only expiry removes the ephemeral node
    wait_until(lambda: conn.exists(f"{node}/eph")[0] == Err.NONODE, timeout=20, interval=0.5,
               message="a dead client's session did not expire after the clock went back")
    assert conn.exists(node)[0] == Err.OK
    conn.close()
