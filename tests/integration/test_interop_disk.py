"""Moving a dataDir between Apache ZooKeeper 3.8 and Corral (issue 5, disk-formats.md).

These tests run BOTH servers by design, whatever --impl says: Apache ZooKeeper writes a data
dir (nodes of every kind, ACLs, sequentials, containers, TTL nodes, multi, failed txns,
ephemerals of a session that survives a SIGKILL, several log files and snapshots) and Corral
starts on it; then the reverse. After each move the whole tree must match node by node (data,
Stat, ACL, children) and the surviving session must be able to reattach with its id and
password. Compressed snapshots (gz, snappy) are moved both ways too.

They need the Corral binary (--corral-bin / CORRAL_BIN) and skip without it.
"""
import os
import shutil
import tempfile

import pytest

from harness import raw
from harness.raw import ACL, Op, Perm
from harness.servers import Server

# storage.memlog's files move both ways; storage.rocksdb's import and export have their own
# tests (test_rocksdb_storage.py).
pytestmark = pytest.mark.memlog_files

# Every write of the workload, small enough that snapCount=10 gives several logs and snapshots.
SETTINGS = {
    "snapCount": 10,
    "zookeeper.extendedTypesEnabled": "true",
    "preAllocSize": 64,
}
SESSION_TIMEOUT = 40000  # outlives every restart of a test; maxSessionTimeout = 20 ticks = 40 s


# ----------------------------------------------------------------------------- helpers

class Pair:
    """Servers of both implementations sharing one data dir; all stopped at the end."""

    def __init__(self, corral_bin, keep):
        self.corral_bin = corral_bin
        self.keep = keep
        self.root = tempfile.mkdtemp(prefix="corral-it-interop-")
        self.data_dir = os.path.join(self.root, "data")
        os.makedirs(self.data_dir)
        self.servers = []

    def start(self, impl, settings=None, **kw):
        merged = dict(SETTINGS)
        merged.update(settings or {})
        merged.update(kw)
        srv = Server(impl, merged, corral_bin=self.corral_bin, name=f"{impl}{len(self.servers)}")
        srv.data_dir = self.data_dir
        self.servers.append(srv)
        srv.start()
        return srv

    def version2(self):
        return os.path.join(self.data_dir, "version-2")

    def files(self, prefix):
        return sorted(f for f in os.listdir(self.version2()) if f.startswith(prefix + "."))

    def close(self):
        for srv in self.servers:
            srv.cleanup(keep=self.keep)
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def pair(pytestconfig):
    corral_bin = pytestconfig.getoption("--corral-bin")
    if not (os.path.isfile(corral_bin) and os.access(corral_bin, os.X_OK)):
        pytest.skip(f"corral-server not found at {corral_bin}")
    p = Pair(corral_bin, pytestconfig.getoption("--keep-server-dirs"))
    yield p
    p.close()


def ok(rep):
    assert rep.err == 0, f"request failed with {rep.err}"
    return rep


def populate(port, base="/it"):
    """Writes nodes of every kind; returns the live session (raw connection) whose ephemerals
    must survive a SIGKILL. Every txn type ZooKeeper logs appears at least once."""
    c = raw.connect(port, timeout=SESSION_TIMEOUT)
    open_acl = raw.OPEN_ACL_UNSAFE
    digest_acl = [ACL(Perm.ALL, "digest", raw.digest_id("user", "secret")),
                  ACL(Perm.READ, "world", "anyone")]
    ok(c.call(Op.CREATE, raw.create_body(base, b"root data")))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/plain", b"x" * 100)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/empty", b"")))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/null", None)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/bin", bytes(range(256)))))
    for _ in range(3):
        ok(c.call(Op.CREATE, raw.create_body(f"{base}/seq-", b"s", flags=raw.CreateFlags.PERSISTENT_SEQUENTIAL)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/secure", b"pw", acl=digest_acl)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/readonly", b"r", acl=raw.READ_ACL_UNSAFE)))
    ok(c.call(Op.CREATE2, raw.create_body(f"{base}/c2", b"create2")))
    ok(c.call(Op.SET_DATA, raw.set_data_body(f"{base}/plain", b"y" * 50, 0)))
    ok(c.call(Op.SET_ACL, raw.set_acl_body(f"{base}/empty", open_acl + [ACL(Perm.READ, "ip", "127.0.0.1")], 0)))
    ok(c.call(Op.CREATE_CONTAINER, raw.create_body(f"{base}/container", b"", flags=raw.CreateFlags.CONTAINER)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/container/child", b"c")))
    ok(c.call(Op.CREATE_TTL, raw.create_ttl_body(f"{base}/ttl", b"t", ttl=3600000)))
    # a successful multi (create, setData, check) and a failed one (logged as error txns)
    ok(c.call(Op.MULTI, raw.multi_body([raw.m_create(f"{base}/m1", b"1"),
                                          raw.m_set_data(f"{base}/m1", b"2"),
                                          raw.m_check(f"{base}/m1", 1)])))
    rep = c.call(Op.MULTI, raw.multi_body([raw.m_create(f"{base}/m2", b"1"),
                                            raw.m_delete(f"{base}/missing")]))
    assert [r.err for r in raw.parse_multi_response(rep.r)] == [0, raw.Err.NONODE]
    # failed write (error txn) and a delete of a sequential node
    assert c.call(Op.CREATE, raw.create_body(f"{base}/plain", b"again")).err == raw.Err.NODEEXISTS
    ok(c.call(Op.DELETE, raw.delete_body(f"{base}/seq-0000000004")))
    # a closed session with an ephemeral: closeSession carries the path
    gone = raw.connect(port, timeout=SESSION_TIMEOUT)
    ok(gone.call(Op.CREATE, raw.create_body(f"{base}/gone", b"", flags=raw.CreateFlags.EPHEMERAL)))
    gone.end_session()
    # ephemerals of the live session
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/eph", b"e", flags=raw.CreateFlags.EPHEMERAL)))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/ephseq-", b"e", flags=raw.CreateFlags.EPHEMERAL_SEQUENTIAL)))
    for i in range(12):  # enough txns for a few log rolls with snapCount=10
        ok(c.call(Op.SET_DATA, raw.set_data_body(f"{base}/c2", b"v%d" % i)))
    return c


def more_writes(port, base="/it"):
    c = raw.connect(port)
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/after", b"written by the second server")))
    for i in range(12):
        ok(c.call(Op.SET_DATA, raw.set_data_body(f"{base}/after", b"a%d" % i)))
    ok(c.call(Op.DELETE, raw.delete_body(f"{base}/readonly")))
    ok(c.call(Op.CREATE, raw.create_body(f"{base}/seq-", b"s", flags=raw.CreateFlags.PERSISTENT_SEQUENTIAL)))
    c.end_session()


def dump_tree(port):
    """{path: (data, Stat, ACL list, sorted children)} of the whole tree."""
    c = raw.connect(port)
    out = {}
    stack = ["/"]
    while stack:
        p = stack.pop()
        rep = ok(c.call(Op.GET_DATA, raw.path_watch_body(p)))
        data, stat = rep.r.buffer(), rep.r.stat()
        rep = ok(c.call(Op.GET_ACL, raw.path_body(p)))
        acl = sorted(tuple(a) for a in rep.r.acl())
        rep = ok(c.call(Op.GET_CHILDREN, raw.path_watch_body(p)))
        kids = sorted(rep.r.strings())
        out[p] = (data, stat, acl, kids)
        stack.extend((p.rstrip("/") + "/" + k) for k in kids)
    c.end_session()
    return out


def assert_same_tree(expected, actual):
    assert sorted(expected) == sorted(actual), "different node sets"
    for path in sorted(expected):
        assert actual[path] == expected[path], f"node {path} differs"


def reattach(port, session_id, passwd):
    """A reconnect with the old id and password; returns the ConnectResponse."""
    c = raw.RawConnection(port)
    try:
        return c.handshake(timeout=SESSION_TIMEOUT, session_id=session_id, passwd=passwd)
    finally:
        c.close()


# ----------------------------------------------------------------------------- tests

def test_zookeeper_data_dir_opens_in_corral_and_back(pair):
    zk = pair.start("zookeeper")
    live = populate(zk.port)
    sid, pw = live.session_id, live.passwd
    zk.kill()  # SIGKILL: the live session and its ephemerals stay in the data dir
    live.close()
    assert len(pair.files("log")) >= 2, pair.files("log")
    assert len(pair.files("snapshot")) >= 2, pair.files("snapshot")

    zk = pair.start("zookeeper")
    expected = dump_tree(zk.port)
    zk.stop()
    assert expected["/it/eph"][1].ephemeralOwner == sid

    corral = pair.start("corral")
    assert_same_tree(expected, dump_tree(corral.port))
    resp = reattach(corral.port, sid, pw)
    assert resp.session_id == sid and resp.timeout > 0, resp

    # ... and back: Corral writes, ZooKeeper reads.
    more_writes(corral.port)
    after = dump_tree(corral.port)
    corral.stop()
    zk = pair.start("zookeeper")
    assert_same_tree(after, dump_tree(zk.port))
    assert reattach(zk.port, sid, pw).session_id == sid
    zk.stop()
    with open(zk.log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    assert "CRC" not in text and "Unable to load database" not in text, text[-3000:]


def test_corral_data_dir_opens_in_zookeeper_and_back(pair):
    corral = pair.start("corral")
    live = populate(corral.port)
    sid, pw = live.session_id, live.passwd
    corral.kill()
    live.close()
    assert len(pair.files("log")) >= 2, pair.files("log")

    corral = pair.start("corral")
    expected = dump_tree(corral.port)
    corral.stop()
    # Corral snapshots in the background: at the latest the startup one is there now.
    assert len(pair.files("snapshot")) >= 2, pair.files("snapshot")
    assert expected["/it/eph"][1].ephemeralOwner == sid

    zk = pair.start("zookeeper")
    assert_same_tree(expected, dump_tree(zk.port))
    assert reattach(zk.port, sid, pw).session_id == sid
    more_writes(zk.port)
    after = dump_tree(zk.port)
    zk.kill()

    corral = pair.start("corral")
    assert_same_tree(after, dump_tree(corral.port))
    corral.stop()
    with open(corral.log_path, "rb") as f:
        text = f.read().decode("utf-8", "replace")
    # ZooKeeper's logs carry TxnDigests: Corral's replay recomputes every one of them.
    assert "digest mismatch" not in text, text[-3000:]
    assert "mismatches 0" in text


@pytest.mark.parametrize("method", ["gz", "snappy"])
def test_compressed_snapshots_both_ways(pair, method):
    corral = pair.start("corral", {"zookeeper.snapshot.compression.method": method})
    c = raw.connect(corral.port)
    ok(c.call(Op.CREATE, raw.create_body("/z", b"compressed " * 20)))
    ok(c.call(Op.CREATE, raw.create_body("/z/child", b"c")))
    c.end_session()
    corral.stop()
    corral = pair.start("corral", {"zookeeper.snapshot.compression.method": method})
    expected = dump_tree(corral.port)
    corral.stop()
    compressed = [f for f in pair.files("snapshot") if f.endswith("." + method)]
    assert compressed, pair.files("snapshot")
    # Only the compressed snapshots remain: ZooKeeper must decode Corral's.
    for f in pair.files("snapshot"):
        if not f.endswith("." + method):
            os.remove(os.path.join(pair.version2(), f))
    zk = pair.start("zookeeper", {"zookeeper.snapshot.compression.method": method})
    assert_same_tree(expected, dump_tree(zk.port))
    c = raw.connect(zk.port)
    ok(c.call(Op.SET_DATA, raw.set_data_body("/z/child", b"zk")))
    c.end_session()
    zk.stop()
    zk = pair.start("zookeeper", {"zookeeper.snapshot.compression.method": method})
    expected = dump_tree(zk.port)
    zk.stop()
    newest = max(pair.files("snapshot"), key=lambda f: int(f.split(".")[1], 16))
    assert newest.endswith("." + method), pair.files("snapshot")
    # Remove the logs: Corral must get everything from ZooKeeper's compressed snapshot.
    for f in pair.files("log"):
        os.remove(os.path.join(pair.version2(), f))
    for f in pair.files("snapshot"):
        if f != newest:
            os.remove(os.path.join(pair.version2(), f))
    corral = pair.start("corral")
    assert_same_tree(expected, dump_tree(corral.port))
