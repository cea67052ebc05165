"""Interoperability with Apache ZooKeeper's Java CLI, zkCli.sh (org.apache.zookeeper.ZooKeeperMain).

Each test runs one zkCli session fed a script on stdin (see harness/zkcli.py) and checks the
printed results. Values the server does not define (zxids, times, session ids) are compared
only by relation, never by value.
"""
import re

import pytest

from harness import raw, zkcli
from harness.raw import CreateFlags
from harness.zkcli import parse_acl, parse_stat

pytestmark = pytest.mark.skipif(not zkcli.available(), reason="zkCli.sh not installed")

NO_OUTPUT = []  # commands that succeed silently print nothing


@pytest.fixture(scope="module")
def server(server_factory):
    """TTL nodes need extendedTypesEnabled."""
    with server_factory.running({"zookeeper.extendedTypesEnabled": True},
                                name="zkcli-extended") as srv:
        yield srv


def cli(srv, commands):
    return zkcli.run(srv.hosts, commands)


def test_create_modes_and_ls_stat(server, node, rc):
    b = node
    r = cli(server, [
        f"create {b} d1",                      # 0
        f"create {b}/c1 x",                    # 1
        f"create -s -e {b}/s- e",              # 2
        f"create -s {b}/p- p",                 # 3
        f"create -e {b}/eph",                  # 4
        f"create -c {b}/cont",                 # 5
        f"create -t 100000 {b}/ttl t",         # 6
        f"create -s -t 100000 {b}/ttls-",      # 7
        f"create {b}",                         # 8 exists
        f"create {b}/missing/x",               # 9 no parent
        f"create -e {b}/eph/x",                # 10 child of an ephemeral
        f"create -e -t 100 {b}/bad",           # 11 (client-side check)
        f"ls -s -w {b}",                       # 12
        f"stat {b}/eph",                       # 13
        f"stat {b}/s-0000000001",              # 14
        f"stat {b}/cont",                      # 15
        f"stat {b}/ttl",                       # 16
        f"create {b}/after",                   # 17 fires the ls -w child watch
        f"ls {b}",                             # 18
        f"stat {b}/nope",                      # 19
        f"get {b}/c1",                         # 20
    ])
    assert r[0] == [f"Created {b}"]
    assert r[1] == [f"Created {b}/c1"]
    assert r[2] == [f"Created {b}/s-0000000001"]
    assert r[3] == [f"Created {b}/p-0000000002"]
    assert r[4] == [f"Created {b}/eph"]
    assert r[5] == [f"Created {b}/cont"]
    assert r[6] == [f"Created {b}/ttl"]
    assert r[7] == [f"Created {b}/ttls-0000000006"]
    assert r[8] == [f"Node already exists: {b}"]
    assert r[9] == [f"Node does not exist: {b}/missing/x"]
    assert r[10] == [f"Ephemerals cannot have children: {b}/eph/x"]
    assert r[11] == ["TTLs cannot be used with Ephemeral znodes"]

    children = ["c1", "cont", "eph", "p-0000000002", "s-0000000001", "ttl", "ttls-0000000006"]
    stat, rest = parse_stat(r[12])
    assert rest == ["[" + ", ".join(children) + "]"]
    assert stat["numChildren"] == 7 and stat["cversion"] == 7
    assert stat["dataLength"] == 2 and stat["dataVersion"] == 0
    assert stat["ephemeralOwner"] == 0

    eph, rest = parse_stat(r[13])
    assert rest == []
    assert eph["ephemeralOwner"] != 0
    seq_eph, _ = parse_stat(r[14])
    assert seq_eph["ephemeralOwner"] == eph["ephemeralOwner"]
    assert seq_eph["dataLength"] == 1
    # the parent's pZxid is the zxid of the last child created (ttls-...), after eph
    assert stat["pZxid"] > eph["cZxid"] > seq_eph["cZxid"] > stat["cZxid"]
    # containers and TTL nodes report ephemeralOwner 0 to clients
    cont, _ = parse_stat(r[15])
    ttl, _ = parse_stat(r[16])
    assert cont["ephemeralOwner"] == 0 and ttl["ephemeralOwner"] == 0
    assert ttl["dataLength"] == 1

    assert r[17] == [f"Created {b}/after"]
    assert r[18] == ["[" + ", ".join(sorted(children + ["after"])) + "]"]
    assert r[19] == [f"Node does not exist: {b}/nope"]
    assert r[20] == ["x"]
    assert r.node_events() == [("NodeChildrenChanged", b)]

    # the CLI session is gone: its ephemerals with it, the rest stays
    err, kids = rc.get_children(b)
    assert err == 0
    assert sorted(kids) == sorted(set(children + ["after"]) - {"eph", "s-0000000001"})


def test_get_set_versions_and_watches(server, node):
    b = node
    r = cli(server, [
        f"create {b} v0",                      # 0
        f"get -s {b}",                         # 1
        f"get -w {b}",                         # 2
        f"set {b} v1",                         # 3 fires the get -w watch
        f"set -v 5 {b} bad",                   # 4
        f"set -v 1 {b} v2",                    # 5
        f"set -s -v 2 {b} value-3",            # 6
        f"stat -w {b}",                        # 7
        f"set {b} v4",                         # 8 fires the stat -w watch
        f"get {b}",                            # 9
        f"stat -w {b}/absent",                 # 10 exists watch on a missing node
        f"create {b}/absent",                  # 11 fires it: NodeCreated
        f"get -w {b}/absent",                  # 12 empty data prints "null"
        f"delete {b}/absent",                  # 13 fires it: NodeDeleted
        f"set {b}/absent x",                   # 14
        f"get -s {b}",                         # 15
    ])
    assert r[0] == [f"Created {b}"]
    st1, rest = parse_stat(r[1])
    assert rest == ["v0"]
    assert st1["dataVersion"] == 0 and st1["dataLength"] == 2
    assert st1["cZxid"] == st1["mZxid"] == st1["pZxid"]
    assert r[2] == ["v0"]
    assert r[3] == NO_OUTPUT
    assert r[4] == [f"version No is not valid : {b}"]
    assert r[5] == NO_OUTPUT
    st6, rest = parse_stat(r[6])
    assert rest == []
    assert st6["dataVersion"] == 3 and st6["dataLength"] == 7
    assert st6["mZxid"] > st1["mZxid"] and st6["cZxid"] == st1["cZxid"]
    st7, rest = parse_stat(r[7])
    assert rest == [] and st7 == st6
    assert r[8] == NO_OUTPUT
    assert r[9] == ["v4"]
    assert r[10] == [f"Node does not exist: {b}/absent"]
    assert r[11] == [f"Created {b}/absent"]
    assert r[12] == ["null"]
    assert r[13] == NO_OUTPUT
    assert r[14] == [f"Node does not exist: {b}/absent"]
    st15, rest = parse_stat(r[15])
    assert rest == ["v4"]
    assert st15["dataVersion"] == 4 and st15["cversion"] == 2 and st15["numChildren"] == 0
    assert st15["pZxid"] > st15["mZxid"]  # the child create/delete came after the last set
    assert r.node_events() == [
        ("NodeDataChanged", b),
        ("NodeDataChanged", b),
        ("NodeCreated", f"{b}/absent"),
        ("NodeDeleted", f"{b}/absent"),
    ]


def test_delete_deleteall_and_recursive_ls(server, node):
    b = node
    r = cli(server, [
        f"create {b}",                         # 0
        f"create {b}/a",                       # 1
        f"create {b}/a/b",                     # 2
        f"create {b}/a/b/c",                   # 3
        f"create {b}/z",                       # 4
        f"ls -R {b}",                          # 5
        f"ls -R {b}/a/b/c",                    # 6
        f"ls -R {b}/nope",                     # 7
        f"delete {b}/a",                       # 8 not empty
        f"delete -v 3 {b}/z",                  # 9 bad version
        f"set {b}/z x",                        # 10
        f"delete -v 1 {b}/z",                  # 11
        f"delete {b}/z",                       # 12 gone
        f"getAllChildrenNumber {b}",           # 13
        f"deleteall {b}/a -b 1",               # 14
        f"ls {b}",                             # 15
        f"getAllChildrenNumber {b}",           # 16
        f"deleteall {b}",                      # 17
        f"ls {b}",                             # 18
        f"deleteall {b}",                      # 19
    ])
    assert r[5][0] == b
    assert sorted(r[5]) == sorted([b, f"{b}/a", f"{b}/z", f"{b}/a/b", f"{b}/a/b/c"])
    for i, p in enumerate(r[5]):  # each node is printed after its parent
        parent = p.rsplit("/", 1)[0]
        if p != b:
            assert parent in r[5][:i]
    assert r[6] == [f"{b}/a/b/c"]
    assert r[7] == [f"Node does not exist: {b}/nope"]
    assert r[8] == [f"Node not empty: {b}/a"]
    assert r[9] == [f"version No is not valid : {b}/z"]
    assert r[10] == NO_OUTPUT
    assert r[11] == NO_OUTPUT
    assert r[12] == [f"Node does not exist: {b}/z"]
    assert r[13] == ["3"]
    assert r[14] == NO_OUTPUT
    assert r[15] == ["[]"]
    assert r[16] == ["0"]
    assert r[17] == NO_OUTPUT
    assert r[18] == [f"Node does not exist: {b}"]
    assert r[19] == [f"Node does not exist: {b}"]


def whoami_set(lines):
    assert lines[0] == "Auth scheme: User"
    return sorted(lines[1:])


def test_acl_auth_and_digest_masking(server, node):
    b = node
    alice = raw.digest_id("alice", "secret")
    bob = raw.digest_id("bob", "pw")
    r = cli(server, [
        "whoami",                                              # 0
        "addauth digest alice:secret",                         # 1
        "whoami",                                              # 2
        f"create {b} top",                                     # 3
        f"create {b}/fake data digest:alice:fakehash:cdrwa",   # 4
        f"getAcl {b}/fake",                                    # 5 no permission at all
        f"create {b}/own data auth::cdrwa",                    # 6
        f"getAcl {b}/own",                                     # 7
        f"setAcl {b}/own auth:alice:secret:rwa,world:anyone:r",  # 8
        f"getAcl -s {b}/own",                                  # 9
        f"setAcl -v 0 {b}/own world:anyone:r",                 # 10 bad aclVersion
        f"setAcl -v 1 {b}/own world:anyone:r,digest:bob:x:a",  # 11
        f"getAcl {b}/own",                                     # 12 no ADMIN any more: masked
        f"setAcl {b}/own ip:127.0.0.1:cdrwa",                  # 13 no ADMIN
        f"get {b}/own",                                        # 14 READ via world
        f"set {b}/own x",                                      # 15 no WRITE
        f"create {b}/priv data auth::cdrwa",                   # 16
        "addauth digest bob:pw",                               # 17
        f"create {b}/both x auth::cdrwa",                      # 18 one ACL per digest identity
        f"getAcl {b}/both",                                    # 19
        "whoami",                                              # 20
        f"create {b}/bad x foo:bar:cdrwa",                     # 21 unknown scheme
        f"connect {server.hosts}",                             # 22 new session, no auth
        "whoami",                                              # 23
        f"get {b}/priv",                                       # 24
        f"getAcl {b}/priv",                                    # 25
        f"set {b}/priv x",                                     # 26
        f"ls {b}/priv",                                        # 27
        f"create {b}/priv/c",                                  # 28
        f"setAcl -R {b} world:anyone:cdrw",                    # 29 only {b} itself is allowed
        f"getAcl {b}",                                         # 30
        "addauth digest alice:wrong",                          # 31
        f"get {b}/priv",                                       # 32
        "addauth digest alice:secret",                         # 33
        f"get {b}/priv",                                       # 34
        f"getAcl {b}/priv",                                    # 35
        f"delete {b}/priv",                                    # 36 DELETE is the parent's
    ])
    assert whoami_set(r[0]) == ["ip: 127.0.0.1"]
    assert r[1] == NO_OUTPUT
    assert whoami_set(r[2]) == ["digest: alice", "ip: 127.0.0.1"]
    assert r[4] == [f"Created {b}/fake"]
    assert r[5] == [f"Insufficient permission : {b}/fake"]
    assert parse_acl(r[7]) == [("digest", alice, "cdrwa")]
    assert r[8] == NO_OUTPUT
    stat, rest = parse_stat(r[9])
    assert parse_acl(rest) == [("digest", alice, "rwa"), ("world", "anyone", "r")]
    assert stat["aclVersion"] == 1 and stat["dataLength"] == 4
    assert r[10] == [f"version No is not valid : {b}/own"]
    assert r[11] == NO_OUTPUT
    assert parse_acl(r[12]) == [("world", "anyone", "r"), ("digest", "bob:x", "a")]
    assert r[13] == [f"Insufficient permission : {b}/own"]
    assert r[14] == ["data"]
    assert r[15] == [f"Insufficient permission : {b}/own"]
    assert r[16] == [f"Created {b}/priv"]
    assert r[18] == [f"Created {b}/both"]
    assert parse_acl(r[19]) == [("digest", alice, "cdrwa"), ("digest", bob, "cdrwa")]
    assert whoami_set(r[20]) == ["digest: alice", "digest: bob", "ip: 127.0.0.1"]
    assert r[21] == [f"KeeperErrorCode = InvalidACL for {b}/bad", f"Acl is not valid : {b}/bad"]
    assert whoami_set(r[23]) == ["ip: 127.0.0.1"]
    for i in (24, 25, 26, 27):
        assert r[i] == [f"Insufficient permission : {b}/priv"], (i, r[i])
    assert r[28] == [f"Insufficient permission : {b}/priv/c"]
    # the CLI prints "KeeperErrorCode = NoAuth for P" (no newline) per node it cannot
    # change, in its visiting order, then "Insufficient permission : P" for one of them
    assert len(r[29]) == 1, r[29]
    denied = re.findall(rf"KeeperErrorCode = NoAuth for ({re.escape(b)}/[a-z]+)", r[29][0])
    assert sorted(denied) == [f"{b}/both", f"{b}/fake", f"{b}/own", f"{b}/priv"]
    assert re.search(rf"Insufficient permission : {re.escape(b)}/[a-z]+$", r[29][0])
    assert parse_acl(r[30]) == [("world", "anyone", "cdrw")]
    assert r[31] == NO_OUTPUT
    assert r[32] == [f"Insufficient permission : {b}/priv"]
    assert r[34] == ["data"]
    assert parse_acl(r[35]) == [("digest", alice, "cdrwa")]
    assert r[36] == NO_OUTPUT


def test_ephemerals_children_number_sync_version(server, node, make_raw):
    b = node
    owner = make_raw()
    assert owner.create(b)[0] == 0
    assert owner.create(f"{b}/p")[0] == 0
    assert owner.create(f"{b}/p/q")[0] == 0
    assert owner.create(f"{b}/e1", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert owner.create(f"{b}/p/e2", flags=CreateFlags.EPHEMERAL)[0] == 0
    assert owner.create(f"{b}-sibling", flags=CreateFlags.EPHEMERAL)[0] == 0
    r = cli(server, [
        f"create -e {b}/mine",                 # 0
        f"getEphemerals {b}",                  # 1 this session's ephemerals only
        "getEphemerals",                       # 2
        f"getEphemerals {b}/nope",             # 3
        f"getAllChildrenNumber {b}",           # 4
        f"getAllChildrenNumber {b}/p/q",       # 5
        f"getAllChildrenNumber {b}/nope",      # 6
        f"sync {b}",                           # 7
        f"sync {b}/nope",                      # 8 sync does not check the path
        "version",                             # 9
    ])
    assert r[0] == [f"Created {b}/mine"]
    assert r[1] == [f"[{b}/mine]"]
    assert r[2] == [f"[{b}/mine]"]
    assert r[3] == ["[]"]
    assert r[4] == ["5"]
    assert r[5] == ["0"]
    assert r[6] == [f"Node does not exist: {b}/nope"]
    assert r[7] == ["Sync is OK"]
    assert r[8] == ["Sync is OK"]
    assert len(r[9]) == 1 and r[9][0].startswith("ZooKeeper CLI version: 3.8")


def test_get_ephemerals_is_a_string_prefix_match(server, node, make_raw):
    """getEphemerals PREFIX matches paths by string prefix, not by path component."""
    b = node
    owner = make_raw()
    assert owner.create(b)[0] == 0
    r = cli(server, [
        f"create -e {b}/e1",
        f"create -e {b}-x",
        f"create -e {b}/e2",
        f"getEphemerals {b}",
        f"getEphemerals {b}/",
        f"getEphemerals {b}-",
    ])
    # the order of the list is the server's (a hash set in ZooKeeper): compare as sets
    def listed(lines):
        assert len(lines) == 1 and lines[0].startswith("[") and lines[0].endswith("]"), lines
        return sorted(x for x in lines[0][1:-1].split(", ") if x)
    assert listed(r[3]) == sorted([f"{b}/e1", f"{b}/e2", f"{b}-x"])
    assert r[4] == ["Path must not end with / character"]  # checked by the client
    assert listed(r[5]) == [f"{b}-x"]


def test_persistent_watches_and_removewatches(server, node):
    b = node
    r = cli(server, [
        f"create {b}",                                 # 0
        f"create {b}/a",                               # 1
        f"addWatch -m PERSISTENT_RECURSIVE {b}",       # 2
        f"create {b}/a/r",                             # 3 NodeCreated
        f"set {b}/a/r x",                              # 4 NodeDataChanged
        f"delete {b}/a/r",                             # 5 NodeDeleted
        f"removewatches {b} -a",                       # 6 PersistentWatchRemoved
        f"create {b}/a/r2",                            # 7 no event
        f"addWatch -m PERSISTENT {b}/a",               # 8
        f"set {b}/a y",                                # 9 NodeDataChanged
        f"create {b}/a/k",                             # 10 NodeChildrenChanged
        f"set {b}/a/k z",                              # 11 not for a PERSISTENT watch
        f"removewatches {b}/a",                        # 12 PersistentWatchRemoved
        f"removewatches {b}/a",                        # 13 none left
        f"get -w {b}/a",                               # 14
        f"removewatches {b}/a -d",                     # 15 DataWatchRemoved
        f"ls -w {b}",                                  # 16
        f"removewatches {b} -c",                       # 17 ChildWatchRemoved
        f"set {b}/a w",                                # 18 no event
    ])
    for i in (2, 4, 5, 6, 9, 11, 12, 15, 18):
        assert r[i] == NO_OUTPUT, (i, r[i])
    assert r[13] == [f"KeeperErrorCode = No such watcher for {b}/a"]
    assert r[16] == ["[a]"]
    assert r.node_events() == [
        ("NodeCreated", f"{b}/a/r"),
        ("NodeDataChanged", f"{b}/a/r"),
        ("NodeDeleted", f"{b}/a/r"),
        ("PersistentWatchRemoved", b),
        ("NodeDataChanged", f"{b}/a"),
        ("NodeChildrenChanged", f"{b}/a"),
        ("PersistentWatchRemoved", f"{b}/a"),
        ("DataWatchRemoved", f"{b}/a"),
        ("ChildWatchRemoved", b),
    ]


@pytest.mark.known_difference("corral", reason="Corral does not maintain /zookeeper/quota/<path>/zookeeper_stats yet")
def test_quota_stats_tracked_by_server(server, node):
    """setquota writes /zookeeper/quota/<path>/zookeeper_limits; the server keeps
    zookeeper_stats (count of nodes and bytes of data in the subtree) up to date."""
    b = node
    r = cli(server, [
        f"create {b} 12345",
        f"setquota -N 10 {b}",
        f"listquota {b}",
        f"create {b}/a abc",
        f"create {b}/a/b",
        f"set {b} 1234567890",
        f"listquota {b}",
        f"delete {b}/a/b",
        f"listquota {b}",
        f"delquota {b}",
        f"listquota {b}",
    ])
    assert r[2] == [
        f"absolute path is /zookeeper/quota{b}/zookeeper_limits",
        f"Output quota for {b} count=-1,bytes=-1=;byteHardLimit=-1;countHardLimit=10",
        f"Output stat for {b} count=1,bytes=5",
    ]
    assert r[6][2] == f"Output stat for {b} count=3,bytes=13"
    assert r[8][2] == f"Output stat for {b} count=2,bytes=13"
    assert r[10][-1] == f"quota for {b} does not exist."


def test_one_command_mode_exit_codes(server, node, rc):
    assert rc.create(node, b"payload")[0] == 0
    code, out = zkcli.run_one(server.hosts, "get", node)
    assert code == 0
    assert out.rstrip("\n").split("\n")[-1] == "payload"
    code, out = zkcli.run_one(server.hosts, "get", node + "/nope")
    assert code == 1
    assert out.rstrip("\n").split("\n")[-1] == f"Node does not exist: {node}/nope"


def test_ttl_create_rejected_without_extended_types(start_server, node):
    srv = start_server()
    r = cli(srv, [
        f"create -t 1000 {node}",
        f"create -c {node}-c",
        f"ls {node}",
    ])
    assert r[0] == [f"KeeperErrorCode = Unimplemented for {node}"]
    assert r[1] == [f"Created {node}-c"]
    assert r[2] == [f"Node does not exist: {node}"]
