"""A full disk on a Corral FOLLOWER (marker `mixed`; Corral-only: skipped with --impl zookeeper).

storage.rocksdb keeps serving when its disk fills instead of stopping (plugins/storage_rocksdb
README, "Full disk"): below `rocksdb.minFreeDiskMb` free (64 MiB, or 10% of a smaller disk)
clients' writes are answered NotReadOnly, reads go on, and a txn-log write that still meets
ENOSPC is held and retried until space returns. tests/integration/test_rocksdb_storage.py
checks this on a standalone server, whose own refusals keep its disk from filling up. A
follower cannot refuse its leader's txns: they keep coming and must be logged, so there the
log really meets ENOSPC.

Shape: sid 1 is Corral on storage.rocksdb, its dataDir on a small tmpfs that the test mounts
(root only, else skipped); sids 2 and 3 are Apache ZooKeeper 3.8 and sid 3 leads, so the quorum
is the two ZooKeeper members and writes never wait for the full member. Apache ZooKeeper has no
such mode (a ZooKeeper server stops on a full disk), hence no reference run.
"""
import errno
import os
import shutil
import subprocess

import pytest
from kazoo.exceptions import ConnectionLoss, NoNodeError, NotReadOnlyCallError
from kazoo.handlers.threading import KazooTimeoutError

from harness.util import wait_until
from harness_ensemble import assert_same_everywhere

pytestmark = pytest.mark.mixed

SHAPE = ["corral", "zookeeper", "zookeeper"]
LEADER_SID = 3  # with equal data the highest sid wins the first election
TMPFS_SIZE = "96m"  # the reserve is then 10% of it (9 MiB), below the 64 MiB default
# RocksDB preallocates 1.1 write buffers for its WAL: with the default 16 MiB buffer ~17 MiB of
# txns would still fit on a disk that statvfs calls full. With 1 MiB, FULL_DISK_BYTES of txns
# meet ENOSPC in the follower's log (and its memtable flushes) within a second or two.
ROCKS_SETTINGS = {"storage": "rocksdb", "rocksdb.writeBufferMb": 1}
PAYLOAD = 32 * 1024  # random bytes: nothing compresses them
FULL_DISK_BYTES = 3 * 1024 * 1024  # written through the leader while the follower's disk is full
OP_TIMEOUT = 10.0  # any single client call; a member that stops answering fails the test
CATCH_UP_TIMEOUT = 60.0


def mount_tmpfs(path, size):
    """A tmpfs of `size` at `path` (as test_rocksdb_storage's _mount_tmpfs); False if this
    process may not mount."""
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True).returncode == 0


def fill(path):
    """Write `path` until the filesystem has no free block left (ENOSPC), so that every later
    write of the follower to that disk that needs a new block fails for lack of space."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for chunk in (1 << 20, 4096):
            block = b"\0" * chunk
            while True:
                try:
                    os.write(fd, block)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
    finally:
        os.close(fd)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def assert_running(member):
    """The member's own process (by PID) still runs: a full disk must not stop it."""
    assert member.alive() and pid_alive(member.proc.pid), \
        f"{member!r} stopped (exit {member.proc.returncode})\n{member.log_tail(20)}"


def done(async_result):
    """The result of a kazoo async call, waited for at most OP_TIMEOUT (kazoo's blocking calls
    wait forever for a member that keeps the connection but never answers)."""
    return async_result.get(timeout=OP_TIMEOUT)


def get(client, path):
    return done(client.get_async(path))[0]


def assert_writes_refused(client, path):
    """Every kind of write through the full member is refused as a read-only server refuses
    it, and the session goes on."""
    for call in (lambda: client.create_async(f"{path}/refused", b"x"),
                 lambda: client.set_async(path, b"x"),
                 lambda: client.delete_async(path)):
        with pytest.raises(NotReadOnlyCallError):
            done(call())


def has_all(client, acked):
    """`client` reads every acknowledged path with its acknowledged value (no sync: what its
    member has applied). A connection lost meanwhile (the member rejoining its leader) or a
    read left unanswered counts as not yet."""
    try:
        return all(get(client, path) == value for path, value in acked.items())
    except (NoNodeError, ConnectionLoss, KazooTimeoutError):
        return False


def test_full_disk_follower_refuses_writes_keeps_reading_and_catches_up(mixed, impl):
    """The Corral follower's disk fills up completely while the ZooKeeper quorum goes on
    writing.

    While full: every write through the ZooKeeper leader succeeds; through the follower,
    create / set / delete are answered NotReadOnly and reads go on; its log writes wait for
    space, so the leader drops it (as any follower that cannot ACK within syncLimit), and it
    then stops serving clients; its process stays up (Apache ZooKeeper's exits). Space back:
    the follower rejoins,
    reads every write acknowledged meanwhile, a sync then read sees the latest value, writes
    through it are accepted again; in the end all three members hold every acknowledged write
    with its final value, and the same tree."""
    if impl != "corral":
        pytest.skip("storage.rocksdb's full-disk handling is a Corral-only feature (a full disk "
                    "stops Apache ZooKeeper); this test needs a Corral follower")
    ens = mixed(SHAPE, start=False, member_settings={1: ROCKS_SETTINGS})
    rocks, leader = ens.member(1), ens.member(LEADER_SID)
    os.makedirs(rocks.data_dir, exist_ok=True)
    if not mount_tmpfs(rocks.data_dir, TMPFS_SIZE):
        pytest.skip("cannot mount a small tmpfs for the follower's dataDir (needs root)")
    filler = os.path.join(rocks.data_dir, "filler")
    try:
        ens.start(leader_sid=LEADER_SID)
        assert rocks.mode() == "follower" and rocks.storage_plugin() == "rocksdb", \
            ens.describe()
        lc = ens.client(leader)
        fc = ens.client(rocks)
        acked = {}  # path -> the value of its last acknowledged write

        def write(path, value, create=True):
            done(lc.create_async(path, value) if create else lc.set_async(path, value))
            acked[path] = value

        # 1. Data the follower holds before its disk fills.
        write("/full", b"")
        write("/full/counter", b"0")
        for i in range(20):
            write(f"/full/before-{i:02d}", os.urandom(PAYLOAD))
        before = dict(acked)
        wait_until(lambda: has_all(fc, before), CATCH_UP_TIMEOUT, interval=0.05,
                   message="the follower did not apply the first writes")

        # 2. The disk fills: the follower refuses clients' writes from its next check of the
        # free space (once a second when idle).
        mark = rocks.log_size()
        fill(filler)
        assert shutil.disk_usage(rocks.data_dir).free == 0
        wait_until(lambda: "the disk is full" in rocks.log_since(mark), 10, interval=0.05,
                   message=f"the follower did not see its disk full\n{rocks.log_tail(20)}")
        assert_writes_refused(fc, "/full/before-00")

        assert get(fc, "/full/before-00") == before["/full/before-00"], "reads go on"

        # 3. The ZooKeeper quorum goes on writing, more than the follower could log. The
        # follower holds its log writes until space returns (it cannot ACK, so the leader
        # drops it after syncLimit, like any follower that falls behind); it must not stop.
        for i in range(FULL_DISK_BYTES // PAYLOAD):
            write(f"/full/during-{i:03d}", os.urandom(PAYLOAD))
            write("/full/counter", str(i + 1).encode(), create=False)
            if i % 16 == 15:
                assert_running(rocks)
        assert_running(rocks)
        # Its leader drops it (no ACK within syncLimit): it stops answering clients instead of
        # serving reads from a state it can no longer keep up to date, and keeps running.
        waited = [0]  # writes made while waiting, each a new counter value

        def stopped_serving():
            waited[0] += 1
            write("/full/counter", f"wait-{waited[0]}".encode(), create=False)
            return rocks.mode(timeout=1.0) is None
        wait_until(stopped_serving, 40, interval=0.2,
                   message=f"the follower kept serving after its leader dropped it\n{rocks.log_tail(20)}")
        assert_running(rocks)

        # 4. Space returns: the follower catches up and accepts writes again.
        os.remove(filler)
        wait_until(lambda: has_all(fc, acked), CATCH_UP_TIMEOUT, interval=0.1,
                   message=f"the follower did not catch up after space returned\n"
                           f"{rocks.log_tail(30)}")
        assert_running(rocks)
        write("/full/counter", b"latest", create=False)
        done(fc.sync_async("/full/counter"))
        assert get(fc, "/full/counter") == b"latest"

        def follower_writes():
            try:
                done(fc.create_async("/full/after", b"through the follower"))
            except NotReadOnlyCallError:
                return False
            return True
        wait_until(follower_writes, 10, interval=0.1,
                   message="writes through the follower still refused after space returned")
        acked["/full/after"] = b"through the follower"
        assert "disk space is back: accepting writes again" in rocks.log_since(mark)

        # 5. Nothing acknowledged was lost, on any member.
        for m in ens:
            c = ens.client(m)
            done(c.sync_async("/full"))
            for path, value in acked.items():
                assert get(c, path) == value, f"member {m.sid}: {path}"
            ens.close_client(c)
        assert_same_everywhere(ens, "/full", members=ens.members)
        assert_running(rocks)
    finally:
        # The member first (by PID), so that nothing holds the mount.
        rocks.stop()
        subprocess.run(["umount", rocks.data_dir], capture_output=True)
