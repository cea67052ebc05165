"""storage.rocksdb (issue 16): a ZooKeeper data dir imported on the first start, an export that
Apache ZooKeeper starts on, restart without replay, its metrics, and damaged files that stop the
start with an error naming them instead of an empty tree.

Corral-only by nature (they test a Corral plugin and its files), but the data dirs come from and
go to the real Apache ZooKeeper 3.8: they run with --storage rocksdb (rocksdb_only).
"""
import glob
import os
import shutil
import signal
import subprocess

import pytest

from harness import raw
from harness.raw import Op
from harness.servers import Server, ServerStartError
from harness.util import wait_until
from test_durability import flip_byte, log_records
from test_interop_disk import Pair, assert_same_tree, dump_tree, more_writes, populate, reattach

pytestmark = pytest.mark.rocksdb_only


@pytest.fixture
def pair(pytestconfig):
    p = Pair(pytestconfig.getoption("--corral-bin"), pytestconfig.getoption("--keep-server-dirs"))
    yield p
    p.close()


def tool(pytestconfig, *args):
    binary = os.path.join(os.path.dirname(pytestconfig.getoption("--corral-bin")), "corral-rocksdb")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=60)


def log_of(srv):
    with open(srv.log_path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def expect_start_failure(srv):
    with pytest.raises(ServerStartError):
        srv.start(timeout=30)
    assert srv.proc.returncode != 0
    return log_of(srv)


def mntr(srv):
    text = srv.four_letter("mntr")
    pairs = (line.split("\t", 1) for line in text.splitlines() if "\t" in line)
    return {k[3:] if k.startswith("zk_") else k: v for k, v in pairs}


def test_zookeeper_data_dir_is_imported_then_exported_back(pair, pytestconfig):
    zk = pair.start("zookeeper")
    live = populate(zk.port)
    sid, pw = live.session_id, live.passwd
    zk.kill()  # the live session and its ephemerals stay in the data dir
    live.close()
    zk = pair.start("zookeeper")
    expected = dump_tree(zk.port)
    zk.stop()

    corral = pair.start("corral", storage="rocksdb")
    text = log_of(corral)
    assert "importing the ZooKeeper-format files" in text and "import done" in text, text[-3000:]
    assert_same_tree(expected, dump_tree(corral.port))
    assert reattach(corral.port, sid, pw).session_id == sid
    more_writes(corral.port)
    after = dump_tree(corral.port)
    corral.stop()

    # The second start opens the database: no second import.
    again = pair.start("corral", storage="rocksdb")
    assert "importing" not in log_of(again)
    assert_same_tree(after, dump_tree(again.port))
    again.stop()

    # Export, and Apache ZooKeeper starts on the exported dir with the same tree.
    out = os.path.join(pair.root, "exported")
    result = tool(pytestconfig, "export", pair.data_dir, out)
    assert result.returncode == 0, result.stderr
    # corral-logtool reads what export wrote: the snapshot's nodes and the retained txns.
    logtool = os.path.join(os.path.dirname(pytestconfig.getoption("--corral-bin")), "corral-logtool")
    exported = sorted(os.listdir(os.path.join(out, "version-2")))
    snap = [f for f in exported if f.startswith("snapshot.")]
    logs = [f for f in exported if f.startswith("log.")]
    assert len(snap) == 1 and len(logs) == 1, exported
    dumped = subprocess.run([logtool, "snapshot", os.path.join(out, "version-2", snap[0]), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert dumped.returncode == 0 and "/it/after" in dumped.stdout, dumped.stderr
    dumped = subprocess.run([logtool, "log", os.path.join(out, "version-2", logs[0]), "--json"],
                            capture_output=True, text=True, timeout=60)
    assert dumped.returncode == 0 and "/it/after" in dumped.stdout, dumped.stderr
    pair.data_dir = out
    zk = pair.start("zookeeper")
    assert_same_tree(after, dump_tree(zk.port))


def test_damaged_zookeeper_log_stops_the_import_naming_file_and_offset(pair):
    zk = pair.start("zookeeper", snapCount=100000)  # one log holds every txn after snapshot.0
    populate(zk.port).close()
    zk.kill()
    log = pair.files("log")[-1]
    records = log_records(os.path.join(pair.version2(), log))
    assert len(records) >= 10
    off, length = records[len(records) // 2]
    flip_byte(os.path.join(pair.version2(), log), off + 12 + length // 2)
    for attempt in range(2):  # and again: a failed import never leaves an empty tree behind
        srv = Server("corral", {"storage": "rocksdb"}, corral_bin=pair.corral_bin, name=f"damaged{attempt}")
        srv.data_dir = pair.data_dir
        pair.servers.append(srv)
        text = expect_start_failure(srv)
        assert log in text and f"offset {off}" in text, text[-3000:]


def write_and_stop(pair, count=300):
    srv = pair.start("corral", storage="rocksdb", **{"4lw.commands.whitelist": "*"})
    c = raw.connect(srv.port)
    assert c.call(Op.CREATE, raw.create_body("/r", b"")).err == 0
    for i in range(count):
        assert c.call(Op.CREATE, raw.create_body(f"/r/n{i:04d}", b"v" * 200)).err == 0
    c.end_session()
    srv.stop()
    return os.path.join(pair.data_dir, "rocksdb")


def test_restart_opens_instead_of_replaying(pair):
    db = write_and_stop(pair)
    assert glob.glob(os.path.join(db, "*.sst")), "a clean stop flushes the memtables"
    srv = pair.start("corral", storage="rocksdb", **{"4lw.commands.whitelist": "*"})
    m = mntr(srv)
    assert float(m["sum_startup_txns_loaded"]) == 0
    assert int(m["znode_count"]) == 300 + 1 + 4 + 1  # + the built-in nodes and ZooKeeper's "/" alias
    for key in ("rocksdb_block_cache_hit", "rocksdb_sst_bytes", "rocksdb_compaction_write_bytes",
                "rocksdb_stall_micros", "rocksdb_block_cache_usage_bytes"):
        assert key in m, key
    assert int(m["rocksdb_sst_bytes"]) > 0


@pytest.mark.parametrize("damage", ["sst_footer", "missing_sst", "missing_manifest", "missing_current"])
def test_damaged_database_is_a_clear_error_never_an_empty_tree(pair, damage):
    db = write_and_stop(pair)
    ssts = sorted(glob.glob(os.path.join(db, "*.sst")))
    assert ssts
    if damage == "sst_footer":
        named = os.path.basename(ssts[-1])
        with open(ssts[-1], "r+b") as f:
            f.seek(-8, os.SEEK_END)
            f.write(b"\0" * 8)  # the table's magic number
    elif damage == "missing_sst":
        named = os.path.basename(ssts[-1])
        os.remove(ssts[-1])
    elif damage == "missing_manifest":
        manifest = glob.glob(os.path.join(db, "MANIFEST-*"))[0]
        named = os.path.basename(manifest)
        os.remove(manifest)
    else:
        named = "CURRENT"
        os.remove(os.path.join(db, "CURRENT"))
    srv = Server("corral", {"storage": "rocksdb"}, corral_bin=pair.corral_bin, name=damage)
    srv.data_dir = pair.data_dir
    pair.servers.append(srv)
    text = expect_start_failure(srv)
    assert named.split(".")[0].lstrip("0") in text or named in text, text[-3000:]


def _mount_tmpfs(path, size):
    if os.geteuid() != 0:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True).returncode == 0


NOTREADONLY = -119


# A 96 MiB disk: memtables small enough that a flush fits in what the reserve keeps free (with
# the default 64 MB cache, up to 24 MB of memtables would wait for a flush that cannot fit).
SMALL_DISK_SETTINGS = {"rocksdb.minFreeDiskMb": 8, "rocksdb.cacheSizeMb": 8, "rocksdb.writeBufferMb": 1,
                       "maxSessionTimeout": 180000}
# Sessions that outlive the test's longest idle stretch: filling the disk and RocksDB's
# recovery once space returns each hold a session's writes for tens of seconds on a busy
# machine, and an expired session closes the connection the test is waiting on (seen once in
# a CI run: ConnectionClosed while the create after the refill was held).
LONG_SESSION_MS = 180000


def test_full_disk_refuses_writes_keeps_reads_and_recovers(pair, tmp_path):
    """A full disk: writes get an error (NotReadOnly, as a read-only server answers them) and the
    server stays up; reads go on; once space returns, writes are accepted again; nothing
    acknowledged is lost. (Apache ZooKeeper stops instead: test_durability's disk-full test.)"""
    mount = tmp_path / "small"
    mount.mkdir()
    if not _mount_tmpfs(str(mount), "96m"):
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        pair.data_dir = str(mount / "data")
        os.makedirs(pair.data_dir)
        srv = pair.start("corral", storage="rocksdb", **SMALL_DISK_SETTINGS)
        filler = mount / "filler"
        c = raw.connect(srv.port, timeout=LONG_SESSION_MS)
        assert c.call(Op.CREATE, raw.create_body("/full", b"")).err == 0
        # A second session, opened while there is room (opening one is a txn too).
        r = raw.connect(srv.port, timeout=LONG_SESSION_MS)
        # Most of the disk goes to another file: the writes below fill the rest.
        free = shutil.disk_usage(str(mount)).free
        with open(filler, "wb") as f:
            f.write(b"\0" * (free - 24 * 1024 * 1024))
        acked, refused, held = [], None, False
        payload = os.urandom(4000)  # incompressible: SST files do not shrink it
        for i in range(20000):
            try:
                rep = c.call(Op.CREATE, raw.create_body(f"/full/n{i:05d}", payload), timeout=5)
            except TimeoutError:
                # Accepted before the disk filled, and held: RocksDB cannot write until it has
                # room again (a flush or compaction needs more than what is left).
                held = True
                break
            if rep.err != 0:
                refused = rep.err
                break
            acked.append(f"n{i:05d}")
        assert refused == NOTREADONLY or held, (refused, len(acked))
        assert acked, "some writes fit before the disk filled"
        assert srv.alive()
        assert "the disk is full" in log_of(srv)
        # The other session: its writes are refused, its reads go on.
        assert r.call(Op.CREATE, raw.create_body("/full/refused", b"r")).err == NOTREADONLY
        rep = r.call(Op.GET_CHILDREN, raw.path_watch_body("/full"))
        assert rep.err == 0 and set(acked) <= set(rep.r.strings())
        rep = r.call(Op.GET_DATA, raw.path_watch_body(f"/full/{acked[-1]}"))
        assert rep.err == 0 and rep.r.buffer() == payload
        # Space returns: writes are accepted again.
        os.remove(filler)
        wait_until(lambda: r.call(Op.CREATE, raw.create_body("/full/after", b"a"), timeout=30).err == 0,
                   timeout=60)
        r.end_session()
        c.end_session()
        srv.stop()
        again = pair.start("corral", storage="rocksdb", **SMALL_DISK_SETTINGS)
        names = set(children_of(again.port, "/full"))
        assert set(acked) | {"after"} <= names
        # Full again, then SIGTERM: the server exits in time. (RocksDB stalls writes while
        # memtables cannot be flushed; a log write waiting inside RocksDB used to keep the
        # process from ever stopping.)
        with open(filler, "wb") as f:
            f.write(b"\0" * max(0, shutil.disk_usage(str(mount)).free - 24 * 1024 * 1024))
        c = raw.connect(again.port)
        for i in range(20000):
            try:
                if c.call(Op.CREATE, raw.create_body(f"/full/m{i:05d}", payload), timeout=5).err != 0:
                    break  # refused
            except TimeoutError:
                break  # accepted, and held until RocksDB can write again (e.g. a compaction's headroom)
        again.proc.send_signal(signal.SIGTERM)
        try:
            again.proc.wait(15)
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not stop within 15 s of SIGTERM with its disk full\n"
                        + log_of(again)[-3000:])
        again.stop()
    finally:
        for srv in pair.servers:
            srv.cleanup(keep=False)
        pair.servers.clear()
        subprocess.run(["umount", str(mount)], capture_output=True)


def children_of(port, path):
    c = raw.connect(port)
    rep = c.call(Op.GET_CHILDREN, raw.path_watch_body(path))
    names = rep.r.strings() if rep.err == 0 else None
    c.end_session()
    return names
