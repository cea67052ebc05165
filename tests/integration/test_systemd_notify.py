"""corral-server as a systemd Type=notify service (issue: Debian packages with systemd units).

The test owns the $NOTIFY_SOCKET, as the service manager would: a datagram socket that
corral-server's sd_notify(3) calls reach. Apache ZooKeeper has no sd_notify support (Debian's
package runs it from a SysV script), so these are Corral-only and skip in the reference run.
"""
import os
import signal
import socket
import tempfile
import time

import pytest
from kazoo.client import KazooClient

from harness import raw
from harness.process import ServerProcess
from harness.servers import free_port

pytestmark = [pytest.mark.corral_only, pytest.mark.storage_independent]

WAIT = 20.0


class ManagerSocket:
    """The service manager's end: every datagram the server sends, in order."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)

    def next(self, timeout=WAIT):
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(4096).decode()
        except socket.timeout:
            return None

    def until(self, predicate, timeout=WAIT, on_message=None):
        """Messages up to and including the first that satisfies `predicate`."""
        seen = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = self.next(max(0.01, deadline - time.monotonic()))
            if message is None:
                break
            seen.append(message)
            if on_message:
                on_message(message)
            if predicate(message):
                return seen
        raise AssertionError(f"no matching message within {timeout}s; got {seen!r}")

    def close(self):
        self.sock.close()


def fields(message):
    return dict(line.split("=", 1) for line in message.split("\n") if "=" in line)


def status_zxid(message):
    """The last zxid a STATUS= line reports, or -1."""
    status = fields(message).get("STATUS", "")
    marker = "last zxid 0x"
    if marker not in status:
        return -1
    return int(status.split(marker, 1)[1].split(",")[0], 16)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="corral-notify-") as directory:
        yield directory


@pytest.fixture
def manager(workdir):
    sock = ManagerSocket(workdir)
    yield sock
    sock.close()


@pytest.fixture
def launch(request, workdir):
    corral_bin = request.config.getoption("--corral-bin")
    started = []

    def _launch(config, env_extra):
        # Only the variables the test gives: none inherited from a test run under systemd.
        env = {key: None for key in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM")}
        env.update(env_extra)
        log_path = os.path.join(workdir, f"server-{os.path.basename(config)}.log")
        process = ServerProcess(corral_bin, config, log_path, env=env)
        started.append(process)
        return process

    yield _launch
    for process in started:
        process.kill()


def standalone_config(workdir, port):
    path = os.path.join(workdir, "standalone.cfg")
    with open(path, "w") as f:
        f.write(f"dataDir={workdir}/data\nclientPort={port}\nclientPortAddress=127.0.0.1\n"
                "tickTime=2000\nadmin.enableServer=false\n")
    return path


def test_ready_only_after_the_port_answers_then_status_and_stopping(workdir, manager, launch):
    port = free_port()
    server = launch(standalone_config(workdir, port), {"NOTIFY_SOCKET": manager.path})
    handshake_at_ready = []

    def on_message(message):
        if "READY=1" in message.split("\n"):
            # Checked the moment READY arrives, before anything else: the port serves sessions.
            handshake_at_ready.append(raw.try_handshake(port, timeout=2.0))

    before = manager.until(lambda m: "READY=1" in m.split("\n"), on_message=on_message)
    assert handshake_at_ready == [True], server.output()
    assert all(set(fields(m)) == {"STATUS"} for m in before[:-1]), before
    assert before[0].startswith("STATUS=starting"), before
    ready = fields(before[-1])
    assert ready["STATUS"].startswith("standalone, last zxid 0x"), ready

    # A write moves the last zxid; the status follows within a tick or two.
    zk = KazooClient(hosts=f"127.0.0.1:{port}")
    zk.start(timeout=WAIT)
    try:
        zk.create("/notify-status", b"x")
        zxid = zk.exists("/notify-status").mzxid
    finally:
        zk.stop()
        zk.close()
    manager.until(lambda m: status_zxid(m) >= zxid)

    server.proc.send_signal(signal.SIGTERM)
    stopping = manager.until(lambda m: "STOPPING=1" in m.split("\n"))
    assert fields(stopping[-1])["STATUS"].startswith("stopping"), stopping
    assert server.proc.wait(WAIT) == 0, server.output()
    assert not any("READY=1" in m for m in stopping), "READY sent twice"


def test_watchdog_pings_at_half_the_timeout(workdir, manager, launch):
    port = free_port()
    # WatchdogSec=1 as systemd passes it. systemd also sets WATCHDOG_PID to the main PID,
    # which a test cannot know before the fork; without it libsystemd accepts the variables
    # (the unit test checks a WATCHDOG_PID naming another process is ignored).
    server = launch(standalone_config(workdir, port),
                    {"NOTIFY_SOCKET": manager.path, "WATCHDOG_USEC": "1000000"})
    manager.until(lambda m: "READY=1" in m.split("\n"))
    pings = []
    start = time.monotonic()
    manager.until(lambda m: m == "WATCHDOG=1" and len(pings) >= 4,
                  on_message=lambda m: pings.append(time.monotonic()) if m == "WATCHDOG=1" else None)
    elapsed = pings[-1] - pings[0]
    # Five pings, four gaps of half of 1 s each: about 2 s, never slower than the timeout.
    assert 1.2 < elapsed < 4 * 1.0, (elapsed, pings, start)
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) < 1.0, gaps
    assert server.stop() == 0


def test_watchdog_pings_stop_when_the_server_stalls(workdir, manager, launch):
    port = free_port()
    server = launch(standalone_config(workdir, port),
                    {"NOTIFY_SOCKET": manager.path, "WATCHDOG_USEC": "400000"})
    manager.until(lambda m: "READY=1" in m.split("\n"))
    manager.until(lambda m: m == "WATCHDOG=1")
    os.kill(server.proc.pid, signal.SIGSTOP)
    try:
        # Drain what was already queued, then nothing for longer than the timeout.
        while manager.next(timeout=0.25) is not None:
            pass
        assert manager.next(timeout=0.8) is None
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    manager.until(lambda m: m == "WATCHDOG=1")
    assert server.stop() == 0


def test_failed_start_reports_why_and_never_ready(workdir, manager, launch):
    path = os.path.join(workdir, "broken.cfg")
    with open(path, "w") as f:
        f.write(f"dataDir={workdir}/data\nclientPort=notaport\n")
    server = launch(path, {"NOTIFY_SOCKET": manager.path})
    assert server.proc.wait(WAIT) == 2, server.output()
    messages = manager.until(lambda m: fields(m).get("STATUS", "").startswith("failed"))
    assert fields(messages[-1])["STATUS"] == "failed: exit status 2 (config error); see the log"
    assert not any("READY=1" in m or "STOPPING=1" in m for m in messages), messages


def ensemble_configs(workdir, members=3):
    ports = [(free_port(), free_port(), free_port()) for _ in range(members)]
    servers = "".join(f"server.{i + 1}=127.0.0.1:{quorum}:{election}\n"
                      for i, (_, quorum, election) in enumerate(ports))
    paths = []
    for i, (client, _, _) in enumerate(ports):
        data = os.path.join(workdir, f"data{i + 1}")
        os.makedirs(data)
        with open(os.path.join(data, "myid"), "w") as f:
            f.write(f"{i + 1}\n")
        path = os.path.join(workdir, f"member{i + 1}.cfg")
        with open(path, "w") as f:
            f.write(f"dataDir={data}\nclientPort={client}\nclientPortAddress=127.0.0.1\n"
                    "tickTime=200\ninitLimit=10\nsyncLimit=5\nadmin.enableServer=false\n" + servers)
        paths.append((path, client))
    return paths


def test_ensemble_member_is_ready_only_once_it_joins_a_quorum(workdir, manager, launch):
    (config1, port1), (config2, _), _ = ensemble_configs(workdir)
    member1 = launch(config1, {"NOTIFY_SOCKET": manager.path})
    looking = manager.until(lambda m: fields(m).get("STATUS", "").startswith("looking"))
    assert not any("READY=1" in m for m in looking), looking
    # Alone, it keeps electing (tickTime 200 ms: many rounds in 3 s) and is never ready.
    silence_until = time.monotonic() + 3.0
    while time.monotonic() < silence_until:
        message = manager.next(timeout=max(0.01, silence_until - time.monotonic()))
        assert message is None or "READY=1" not in message.split("\n"), message
    assert not raw.try_handshake(port1, timeout=1.0)
    assert member1.proc.poll() is None, member1.output()

    launch(config2, {})
    ready = manager.until(lambda m: "READY=1" in m.split("\n"))[-1]
    role = fields(ready)["STATUS"].split(",")[0]
    assert role in ("leader", "follower"), ready
    # Ready means serving: a client on member 1 writes through the quorum at once.
    zk = KazooClient(hosts=f"127.0.0.1:{port1}")
    zk.start(timeout=WAIT)
    try:
        zk.create("/joined", b"1")
        assert zk.get("/joined")[0] == b"1"
    finally:
        zk.stop()
        zk.close()
    assert member1.stop() == 0
