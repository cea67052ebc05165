"""Interoperability with the Apache C client library (libzookeeper_mt), through a small
program (c_client/zkc_test.c) compiled at test time into a temp dir.

`zkc_test ops` runs synchronous API calls (zoo_create with ZOO_SEQUENCE|ZOO_EPHEMERAL,
zoo_create2, zoo_wget/zoo_wexists/zoo_wget_children2 watchers, zoo_set/zoo_set2, zoo_multi,
zoo_add_auth digest, zoo_get_acl/zoo_set_acl, ...) and prints one result a line;
`zkc_test expire` reports the session states until the server expires the session.
"""
import os
import shutil
import signal
import subprocess

import pytest

from harness import raw
from harness.raw import EventType

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "c_client", "zkc_test.c")
HEADERS = "/usr/include/zookeeper"

ZOK, ZRUNTIMEINCONSISTENCY = 0, -2
ZNONODE, ZNOAUTH, ZBADVERSION, ZNOCHILDRENFOREPHEMERALS = -101, -102, -103, -108
ZNODEEXISTS, ZNOTEMPTY, ZINVALIDACL, ZINVALIDSTATE = -110, -111, -114, -9


def _have_toolchain():
    return (shutil.which("cc") is not None and os.path.isfile(os.path.join(HEADERS, "zookeeper.h"))
            and os.path.isfile(SOURCE))


pytestmark = pytest.mark.skipif(not _have_toolchain(), reason="cc or libzookeeper-mt-dev missing")


@pytest.fixture(scope="module")
def zkc(tmp_path_factory):
    exe = str(tmp_path_factory.mktemp("c_client") / "zkc_test")
    p = subprocess.run(["cc", "-O1", "-DTHREADED", "-o", exe, SOURCE, f"-I{HEADERS}",
                        "-lzookeeper_mt"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return exe


class Output:
    """Parsed `TAG key=value ...` lines; EVENT lines in order in .events."""

    def __init__(self, text):
        self.text = text
        self.results = {}
        self.events = []
        for line in text.splitlines():
            tag, _, rest = line.partition(" ")
            fields = {}
            for item in rest.split(" "):
                k, sep, v = item.partition("=")
                if sep:
                    fields[k] = int(v) if v.lstrip("-").isdigit() else v
            if tag == "EVENT":
                if fields.get("tag") != "NONE":
                    self.events.append(fields)
            else:
                assert tag not in self.results, f"duplicate {tag}"
                self.results[tag] = fields

    def __getitem__(self, tag):
        assert tag in self.results, f"no {tag!r} line in output:\n{self.text}"
        return self.results[tag]


def test_c_api_scenario(server, zkc, node, rc):
    b = node
    p = subprocess.run([zkc, "ops", server.hosts, b], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    o = Output(p.stdout)
    sid = o["SESSION"]["id"]
    assert sid != 0

    assert o["create_base"] == {"rc": 0, "path": b}
    # ZOO_SEQUENCE|ZOO_EPHEMERAL: the counter is the parent's cversion
    assert o["create_seq0"] == {"rc": 0, "path": f"{b}/seq-0000000000"}
    assert o["create_seq1"] == {"rc": 0, "path": f"{b}/seq-0000000001"}
    # the created name is truncated to the caller's buffer (7 chars + NUL)
    assert o["create_trunc"] == {"rc": 0, "path": b[:7]}

    # zoo_create2 returns the new node's Stat
    assert o["create2_path"] == {"rc": 0, "path": f"{b}/c2"}
    st = o["create2_stat"]
    assert st["rc"] == 0 and st["czxid"] == st["mzxid"] == st["pzxid"] > 0
    assert (st["version"], st["cversion"], st["aversion"], st["owner"], st["dataLength"],
            st["numChildren"]) == (0, 0, 0, 0, 3, 0)
    est = o["create2_eph_stat"]
    assert est["owner"] == sid and est["dataLength"] == 0 and est["czxid"] > st["czxid"]
    cst = o["create2_container_stat"]
    assert cst["rc"] == 0 and cst["owner"] == 0 and cst["dataLength"] == 1
    assert o["create2_exists"]["rc"] == ZNODEEXISTS
    assert o["create_under_ephemeral"]["rc"] == ZNOCHILDRENFOREPHEMERALS
    assert o["create_no_parent"]["rc"] == ZNONODE

    # watches
    assert o["wget"] == {"rc": 0, "len": 3, "data": "abc", "version": 0}
    assert o["set"]["rc"] == 0
    assert o["set_badversion"]["rc"] == ZBADVERSION
    s2 = o["set2_stat"]
    assert s2["rc"] == 0 and s2["version"] == 2 and s2["dataLength"] == 5
    assert s2["czxid"] == st["czxid"] and s2["mzxid"] > st["mzxid"]
    assert o["get"] == {"rc": 0, "len": 5, "data": "hello", "version": 2}
    assert o["get_container"] == {"rc": 0, "len": 1}
    assert o["get_null_data"] == {"rc": 0, "len": -1}  # created with NULL data
    assert o["wexists_missing"]["rc"] == ZNONODE
    assert o["create_later"]["rc"] == 0
    later = o["wexists_present"]
    assert later["rc"] == 0 and later["czxid"] > s2["mzxid"]
    kids = o["wget_children2"]
    assert kids["rc"] == 0 and kids["count"] == 7
    assert kids["children"] == ",".join(["c2", "c2e", "cont", "later", "seq-0000000000",
                                         "seq-0000000001", "trunc-0000000002"])
    ks = o["wget_children2_stat"]
    assert ks["numChildren"] == 7 and ks["cversion"] == 7 and ks["pzxid"] == later["czxid"]
    assert ks["dataLength"] == 4
    assert o["delete_later"]["rc"] == 0
    assert o["get_children2_missing"]["rc"] == ZNONODE
    node_events = [(e["tag"], e["type"], e["path"]) for e in o.events if e["type"] != "SESSION"]
    assert node_events == [
        ("data", "CHANGED", f"{b}/c2"),
        ("exists", "CREATED", f"{b}/later"),
        # a delete triggers the node's watches before its parent's child watches
        ("exists2", "DELETED", f"{b}/later"),
        ("child", "CHILD", b),
    ]
    sessions = [(e["tag"], e["state"]) for e in o.events if e["type"] == "SESSION"]
    assert sessions == [("GLOBAL", "CONNECTED"), ("other", "CONNECTED")]

    # multi
    assert o["multi"] == {"rc": 0, "r0": 0, "r1": 0, "r2": 0, "r3": 0, "created": f"{b}/m1",
                          "set_version": 3}
    assert o["multi_fail"] == {"rc": ZBADVERSION, "r0": ZOK, "r1": ZBADVERSION,
                               "r2": ZRUNTIMEINCONSISTENCY}
    assert o["exists_m2"]["rc"] == ZNONODE
    assert o["exists_m1"]["rc"] == 0
    assert o["delete_badversion"]["rc"] == ZBADVERSION
    assert o["delete_notempty"]["rc"] == ZNOTEMPTY

    # auth and ACLs
    assert o["add_auth"]["rc"] == 0
    assert o["create_secure"]["rc"] == 0
    alice = raw.digest_id("alice", "secret")
    assert o["get_acl"] == {"rc": 0, "aversion": 0, "acl": f"digest:{alice}:31"}
    assert o["set_acl"]["rc"] == 0
    # the node is now world:anyone:r; without ADMIN the ACL check fails before the version
    assert o["set_acl_badversion"]["rc"] == ZNOAUTH
    assert o["get_acl_readonly"] == {"rc": 0, "aversion": 1, "acl": "world:anyone:1"}
    assert o["set_readonly"]["rc"] == ZNOAUTH
    assert o["create_creator_acl"]["rc"] == 0
    assert o["anon_create_creator_acl"]["rc"] == ZINVALIDACL
    assert o["anon_get"]["rc"] == ZNOAUTH
    assert o["anon_get_acl"]["rc"] == ZNOAUTH
    assert o["anon_set"]["rc"] == ZNOAUTH
    assert o["anon_get_readonly"] == {"rc": 0, "data": "r"}
    assert o["anon_add_auth_wrong"]["rc"] == 0  # digest auth never fails; it adds an id
    assert o["wrong_get"]["rc"] == ZNOAUTH
    assert o["alice_get"] == {"rc": 0, "data": "s"}
    assert o["other_children"]["children"] == ",".join(
        ["bad-acl", "c2", "c2e", "cont", "m1", "readonly", "secure", "seq-0000000000",
         "seq-0000000001"])
    assert o["close"]["rc"] == 0

    # zookeeper_close ended the session: its ephemerals are gone
    err, children = rc.get_children(b)
    assert err == 0
    assert sorted(children) == ["bad-acl", "c2", "cont", "m1", "readonly", "secure"]


@pytest.fixture(scope="module")
def fast_server(server_factory):
    """tickTime 200 ms so that sessions can expire within about a second."""
    with server_factory.running({"tickTime": 200, "minSessionTimeout": 600,
                                 "maxSessionTimeout": 20000}, name="c-fast-ticks") as srv:
        yield srv


def test_c_client_sees_session_expired_state(fast_server, zkc, node):
    """The C client is stopped (SIGSTOP) past its session timeout; the server expires the
    session (its ephemeral goes, a watcher of another session gets NodeDeleted); once resumed
    the client reconnects, is refused, and reports ZOO_EXPIRED_SESSION_STATE."""
    proc = subprocess.Popen([zkc, "expire", fast_server.hosts, node, "800"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watcher = raw.connect(fast_server.port)
    stopped = False
    try:
        head = []
        while True:
            line = proc.stdout.readline()
            assert line, "zkc_test ended early: " + "".join(head) + proc.stderr.read()
            head.append(line)
            if line.startswith("READY"):
                break
        o = Output("".join(head))
        assert o["create"]["rc"] == 0
        sid = o["SESSION"]["id"]
        assert o["SESSION"]["timeout"] == 800
        err, stat = watcher.exists(node, watch=True)
        assert err == 0 and stat.ephemeralOwner == sid

        proc.send_signal(signal.SIGSTOP)
        stopped = True
        ev = watcher.next_event(timeout=15)
        assert ev == raw.WatcherEvent(EventType.NODE_DELETED, 3, node)
        proc.send_signal(signal.SIGCONT)
        stopped = False

        rest, err_text = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(head) + rest + err_text
        o = Output("".join(head) + rest)
        states = [e["state"] for e in o.events if e["type"] == "SESSION"]
        assert states[0] == "CONNECTED" and states[-1] == "EXPIRED", states
        assert "EXPIRED" not in states[:-1]
        assert o["state_now"]["state"] == "EXPIRED"
        assert o["unrecoverable"]["rc"] == ZINVALIDSTATE
        assert o["exists_after_expiry"]["rc"] == ZINVALIDSTATE
        assert watcher.exists(node)[0] == ZNONODE
    finally:
        if stopped:
            proc.send_signal(signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        watcher.close()


def _read_until_ready(proc):
    head = []
    while True:
        line = proc.stdout.readline()
        assert line, "zkc_test ended early: " + "".join(head) + proc.stderr.read()
        head.append(line)
        if line.startswith("READY"):
            return head


def test_c_client_rearms_watches_after_reconnect(server, zkc, node, rc):
    """The C client re-arms its watches with setWatches when it reconnects. Changes made
    while it was cut off fire them at once: NodeDataChanged (data watch), NodeCreated (exists
    watch on a missing node), NodeChildrenChanged (child watch)."""
    from test_sessions_extra import FreezableProxy

    assert rc.create(node, b"v0")[0] == 0
    proxy = FreezableProxy(server.port)
    proc = subprocess.Popen([zkc, "rewatch", proxy.hosts, node], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        head = _read_until_ready(proc)
        o = Output("".join(head))
        assert o["wget"]["rc"] == 0 and o["wexists"]["rc"] == ZNONODE
        assert o["wget_children"]["rc"] == 0
        accepted = proxy.accepted
        proxy.cut()
        assert rc.set_data(node, b"v1")[0] == 0
        assert rc.create(f"{node}/missing", b"")[0] == 0
        proxy.restore()
        rest, err_text = proc.communicate(timeout=60)
        assert proc.returncode == 0, "".join(head) + rest + err_text
        assert proxy.accepted > accepted
        o = Output("".join(head) + rest)
        assert o["SESSION_AFTER"]["id"] == o["SESSION"]["id"]
        node_events = [(e["tag"], e["type"], e["path"]) for e in o.events
                       if e["type"] != "SESSION"]
        assert sorted(node_events) == sorted([
            ("data", "CHANGED", node),
            ("exists", "CREATED", f"{node}/missing"),
            ("child", "CHILD", node),
        ])
        states = [e["state"] for e in o.events if e["type"] == "SESSION"]
        assert states[0] == "CONNECTED" and "EXPIRED" not in states
        assert "CONNECTING" in states, states
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proxy.close()
