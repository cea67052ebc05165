#!/usr/bin/python3
"""Regenerates sdk/testing/data/zk38_fuzzy/ : a FUZZY snapshot written by a real Apache ZooKeeper
3.8 (Debian package) plus the txn logs needed to replay it, and the final tree (expected.json).

    /usr/bin/python3 sdk/testing/data/make_zk38_fuzzy.py            # generate, then verify
    /usr/bin/python3 sdk/testing/data/make_zk38_fuzzy.py --verify   # only verify the files

What it does:
  1. Runs ZooKeeper standalone on 127.0.0.1 in a temp dir (harness.servers.Server, as
     tests/integration does) with snapCount=2000 (a snapshot every 1000..2000 txns, taken by a
     background thread while requests keep being applied), preAllocSize=64 KiB, extended types
     on, forceSync=no (page cache survives SIGKILL of the process), maxSessionTimeout=600 s.
  2. Populates /f/<dd>/<nnn> (BASE_DIRS x BASE_CHILDREN small znodes, pipelined async creates).
  3. Runs WRITERS concurrent kazoo clients (one thread each, WINDOW requests in flight, per-thread
     random.Random(SEED + i)): creates (plain, sequential, null/empty data, digest ACLs, READ-only,
     ip ACL), setData, deletes, setACL, multi (successful and failing), failing creates, and
     ephemerals that the writer's closeSession removes. A "live" session creates
     ephemerals (plain and sequential), deletes and sets some, and stays open until the kill.
  4. Stops the writers, dumps the whole tree from "/" with kazoo (data, Stat, ACL of every node),
     reads `srvr` (Zxid), then SIGKILLs the server by PID: no shutdown snapshot.
  5. Parses every snapshot and log (format: /work/shared/reference/disk-formats.md), checking
     the Adler32 of every log record and both snapshot checksums, picks the NEWEST snapshot
     that is provably fuzzy, keeps it and the logs FileTxnLog.getLogFiles would read for it
     (the newest log starting at <= Z+1 and every later one), cuts their preallocated zeros
     (12 zero bytes kept as the clean end of each log) and writes expected.json.
  6. Verifies (also --verify alone): copies version-2/ to a temp dataDir, restarts the real
     ZooKeeper on it, checks that it replayed up to last_zxid, dumps the tree with kazoo at once
     (sessions last 600 s, so the live session's ephemerals are still there) and requires
     exactly expected.json's node set, data, Stat and ACLs.

How fuzziness is proven: a snapshot's name is DataTree.lastProcessedZxid read when
serialisation STARTS (FileTxnSnapLog.save), so a snapshot of a quiescent tree contains no zxid
larger than its name. The script parses the snapshot body (FileHeader, sessions, ACL map,
nodes until the "/" marker, checksum1 == Adler32 of all preceding bytes, "/", ZxidDigest
{zxid, version, digest}, checksum2, "/") and takes the largest czxid/mzxid/pzxid of its nodes:
if it is greater than the name zxid, some txn newer than the name was applied to the tree
while it was being written, i.e. the snapshot is fuzzy. The ZxidDigest zxid (the last txn
applied when the trailer was written, after all nodes) is recorded too and is normally larger
still. expected.json["fuzzy_evidence"] holds these numbers and an example node.

The result is not byte-reproducible (thread interleaving, timestamps, session ids); the seed
fixes each thread's op sequence.

expected.json: header keys (snapshot_file, snapshot_name_zxid, last_zxid, fuzzy_evidence, ...),
then "nodes": one JSON array per znode, sorted by path, fields as in "node_fields":
[path, data, czxid, mzxid, ctime, mtime, version, cversion, aversion, ephemeralOwner,
dataLength, numChildren, pzxid, acl]. The Stat is the client Stat as kazoo returns it (cversion
in the client form = stored cversion*2 - numChildren, e.g. -2 for /zookeeper; dataLength and
numChildren derived). "acl" is an index into "acl_lists" (each ACL [perms, scheme, id]). "data"
is lower-case hex, "" for an empty byte array, null for null data (the server sends buffer
length -1 and kazoo returns None; the snapshot stores -1 too).

Replay check: the restarted standalone server writes snapshot.<last replayed zxid> at startup;
--verify requires snapshot.<last_zxid> to appear. (srvr's Zxid after the restart is 2 higher:
the harness's readiness probe opens and closes a session.) The generation run cross-checks the
last logged zxid against srvr's Zxid read just before the kill.
"""
import argparse
import json
import logging
import os
import random
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness.servers import Server  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402
from kazoo.exceptions import KazooException  # noqa: E402
from kazoo.security import (ACL, Id, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE,  # noqa: E402
                            make_digest_acl, make_digest_acl_credential)

OUT = os.path.join(HERE, "zk38_fuzzy")
SEED = 20240611
BASE_DIRS = 50          # /f/00 .. /f/49
BASE_CHILDREN = 200     # /f/dd/000 .. /f/dd/199
WRITERS = 4
OPS_PER_WRITER = 4500
WINDOW = 16             # async requests in flight per writer
LIVE_EPHEMERALS = 40
SESSION_TIMEOUT_S = 600.0
SETTINGS = {
    "zookeeper.extendedTypesEnabled": "true",
    "zookeeper.forceSync": "no",
    "preAllocSize": 64,
    "snapCount": 2000,
    "maxSessionTimeout": 600000,
}
STAT_FIELDS = ["czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion",
               "ephemeralOwner", "dataLength", "numChildren", "pzxid"]
NODE_FIELDS = ["path", "data"] + STAT_FIELDS + ["acl"]  # one JSON array per node
USER, PASSWORD = "user", "secret"
ACL_KINDS = {
    "digest_rw": [make_digest_acl(USER, PASSWORD, all=True), ACL(1, Id("world", "anyone"))],
    "digest_only": [make_digest_acl(USER, PASSWORD, all=True)],
    "read_only": READ_ACL_UNSAFE,
    "ip": [ACL(31, Id("ip", "127.0.0.1"))],
}

SNAP_MAGIC = 0x5A4B534E  # "ZKSN"
LOG_MAGIC = 0x5A4B4C47   # "ZKLG"


# ----------------------------------------------------------------------------- on-disk parsing

class Jute:
    def __init__(self, buf, pos=0):
        self.buf, self.pos = buf, pos

    def _take(self, fmt):
        v = struct.unpack_from(fmt, self.buf, self.pos)[0]
        self.pos += struct.calcsize(fmt)
        return v

    def int(self):
        return self._take(">i")

    def long(self):
        return self._take(">q")

    def buffer(self):
        n = self.int()
        if n < 0:
            return None
        if self.pos + n > len(self.buf):
            raise ValueError("truncated buffer")
        b = self.buf[self.pos:self.pos + n]
        self.pos += n
        return b

    def ustring(self):
        b = self.buffer()
        return None if b is None else b.decode("utf-8")


def parse_snapshot(path):
    """Returns a dict (sessions, acl_map, nodes, digest) or raises ValueError if the file is not
    a complete snapshot with valid checksums."""
    with open(path, "rb") as f:
        buf = f.read()
    r = Jute(buf)
    try:
        magic, _version, _dbid = r.int(), r.int(), r.long()
        if magic != SNAP_MAGIC:
            raise ValueError("bad magic")
        sessions = {}
        for _ in range(r.int()):
            sid = r.long()
            sessions[sid] = r.int()
        acl_map = {}
        for _ in range(r.int()):
            key = r.long()
            n = r.int()
            acls = []
            for _ in range(max(n, 0)):
                perms = r.int()
                acls.append((perms, r.ustring(), r.ustring()))
            acl_map[key] = acls
        nodes = []
        while True:
            p = r.ustring()
            if p == "/":
                break
            data = r.buffer()
            acl_key = r.long()
            czxid, mzxid, ctime, mtime = r.long(), r.long(), r.long(), r.long()
            version, cversion, aversion = r.int(), r.int(), r.int()
            eph, pzxid = r.long(), r.long()
            nodes.append({"path": p, "data": data, "acl_key": acl_key, "czxid": czxid,
                          "mzxid": mzxid, "ctime": ctime, "mtime": mtime, "version": version,
                          "cversion": cversion, "aversion": aversion, "ephemeralOwner": eph,
                          "pzxid": pzxid})
        end = r.pos
        if r.long() != zlib.adler32(buf[:end]):
            raise ValueError("checksum1 mismatch")
        if r.ustring() != "/":
            raise ValueError("no seal after checksum1")
        digest = None
        if r.pos < len(buf):
            dzxid, dver = r.long(), r.int()
            dval = r.long() if dver >= 2 else r.ustring()
            end = r.pos
            if r.long() != zlib.adler32(buf[:end]):
                raise ValueError("checksum2 mismatch")
            if r.ustring() != "/":
                raise ValueError("no seal after checksum2")
            digest = {"zxid": dzxid, "version": dver, "digest": dval}
        if r.pos != len(buf):
            raise ValueError("trailing bytes")
    except struct.error as e:
        raise ValueError(f"truncated: {e}")
    return {"sessions": sessions, "acl_map": acl_map, "nodes": nodes, "digest": digest}


def parse_log(path):
    """[(zxid, type)] of every record up to the first zero length; checks Adler32 and 0x42."""
    with open(path, "rb") as f:
        buf = f.read()
    magic = struct.unpack_from(">i", buf, 0)[0]
    if magic != LOG_MAGIC:
        raise ValueError(f"{path}: bad magic")
    pos, out = 16, []
    while pos + 12 <= len(buf):
        crc, n = struct.unpack_from(">qi", buf, pos)
        if n == 0:
            break
        entry = buf[pos + 12:pos + 12 + n]
        if len(entry) != n or buf[pos + 12 + n:pos + 13 + n] != b"\x42":
            raise ValueError(f"{path}: partial record at {pos}")
        if zlib.adler32(entry) != crc:
            raise ValueError(f"{path}: CRC mismatch at {pos}")
        _cid, _cxid, zxid, _time, typ = struct.unpack_from(">qiqqi", entry, 0)
        out.append((zxid, typ))
        pos += 12 + n + 1
    return out


def zxid_of(name):
    return int(name.split(".")[1], 16)


def fuzzy_evidence(snap, name_zxid):
    """Largest czxid/mzxid/pzxid in the snapshot's nodes, how many nodes have each field above
    the name zxid, and the ZxidDigest trailer."""
    best, above = None, {"czxid": 0, "mzxid": 0, "pzxid": 0}
    for n in snap["nodes"]:
        for field in above:
            if n[field] > name_zxid:
                above[field] += 1
                if best is None or n[field] > best[2]:
                    best = (n["path"] or "/", field, n[field])
    ev = {"nodes_with_field_above_name_zxid": above}
    if best:
        ev.update({"max_node_zxid": best[2], "max_node_zxid_hex": hex(best[2]),
                   "example_path": best[0], "example_field": best[1]})
    if snap["digest"]:
        ev.update({"digest_zxid": snap["digest"]["zxid"],
                   "digest_zxid_hex": hex(snap["digest"]["zxid"]),
                   "digest_value": snap["digest"]["digest"]})
    return ev


# ----------------------------------------------------------------------------- kazoo helpers

def connect(port, timeout=SESSION_TIMEOUT_S):
    zk = KazooClient(hosts=f"127.0.0.1:{port}", timeout=timeout, connection_retry=None)
    zk.start(timeout=30)
    zk.add_auth("digest", f"{USER}:{PASSWORD}")
    return zk


def hexdata(b):
    return None if b is None else b.hex()


def dump_tree(zk):
    """{path: {"data": hex|None, "stat": [...], "acl": [[perms, scheme, id], ...]}}"""
    nodes, level = {}, ["/"]
    while level:
        nxt = []
        for i in range(0, len(level), 256):
            chunk = level[i:i + 256]
            calls = [(p, zk.get_async(p), zk.get_acls_async(p), zk.get_children_async(p))
                     for p in chunk]
            for p, g, a, c in calls:
                data, stat = g.get(timeout=120)
                acls, astat = a.get(timeout=120)
                kids = c.get(timeout=120)
                assert tuple(stat) == tuple(astat), p
                assert stat.numChildren == len(kids), p
                nodes[p] = {"data": hexdata(data), "stat": list(stat),
                            "acl": [[x.perms, x.id.scheme, x.id.id] for x in acls]}
                nxt += [("/" if p == "/" else p + "/") + k for k in kids]
        level = nxt
    return nodes


def srvr_zxid(server):
    out = server.four_letter("srvr")
    m = re.search(r"Zxid: (0x[0-9a-fA-F]+)", out)
    return int(m.group(1), 16), out


def rand_data(rng):
    k = rng.random()
    if k < 0.05:
        return None
    if k < 0.10:
        return b""
    return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 7)))


# ----------------------------------------------------------------------------- workload

def populate(zk, rng):
    zk.create("/f", b"fuzzy")
    pending = []
    for d in range(BASE_DIRS):
        pending.append(zk.create_async(f"/f/{d:02d}", rand_data(rng)))
    for r in pending:
        r.get(timeout=60)
    zk.create("/f/eph", b"")
    paths = [f"/f/{d:02d}/{c:03d}" for d in range(BASE_DIRS) for c in range(BASE_CHILDREN)]
    for i in range(0, len(paths), 256):
        rs = [zk.create_async(p, rand_data(rng)) for p in paths[i:i + 256]]
        for r in rs:
            r.get(timeout=60)


def writer(port, idx, errors, counts):
    rng = random.Random(SEED + 1 + idx)
    zk = connect(port, timeout=60.0)
    mine = [d for d in range(BASE_DIRS) if d % WRITERS == idx]
    known = [f"/f/{d:02d}/{c:03d}" for d in mine for c in range(BASE_CHILDREN)]
    serial = 0
    ops = 0
    try:
        while ops < OPS_PER_WRITER:
            batch = []
            for _ in range(WINDOW):
                ops += 1
                d = f"/f/{rng.choice(mine):02d}"
                k = rng.random()
                if k < 0.30 and known:
                    batch.append(("set", None, zk.set_async(rng.choice(known), rand_data(rng) or b"x")))
                elif k < 0.48:
                    serial += 1
                    p = f"{d}/w{idx}-{serial}"
                    batch.append(("create", p, zk.create_async(p, rand_data(rng))))
                elif k < 0.56:
                    batch.append(("create", "seq", zk.create_async(f"{d}/s-", rand_data(rng), sequence=True)))
                elif k < 0.62:
                    serial += 1
                    p = f"{d}/a{idx}-{serial}"
                    kind = rng.choice(sorted(ACL_KINDS))
                    batch.append(("create", p if kind != "read_only" else None,
                                  zk.create_async(p, rand_data(rng), acl=ACL_KINDS[kind])))
                elif k < 0.76 and known:
                    p = known.pop(rng.randrange(len(known)))
                    batch.append(("delete", p, zk.delete_async(p)))
                elif k < 0.86:
                    serial += 1
                    p = f"{d}/m{idx}-{serial}"
                    t = zk.transaction()
                    t.create(p, b"m1")
                    t.set_data(p, b"m2")
                    t.check(p, 1)
                    if known and rng.random() < 0.3:
                        t.delete(known.pop(rng.randrange(len(known))))
                    batch.append(("multi", p, t.commit_async()))
                elif k < 0.89:
                    t = zk.transaction()  # fails on the check: logged as error sub-txns
                    t.set_data(rng.choice(known) if known else d, b"never")
                    t.check(d, 12345)
                    batch.append(("multi", None, t.commit_async()))
                elif k < 0.93 and known:
                    p = rng.choice(known)
                    acl = OPEN_ACL_UNSAFE + [ACL(1, Id("ip", "127.0.0.1"))]
                    batch.append(("setacl", None, zk.set_acls_async(p, acl)))
                elif k < 0.96:
                    p = f"{d}/{rng.randrange(BASE_CHILDREN):03d}"  # usually exists: error txn
                    batch.append(("create", None, zk.create_async(p, b"dup")))
                else:
                    serial += 1
                    p = f"/f/eph/x{idx}-{serial}"
                    batch.append(("eph", None, zk.create_async(p, b"gone", ephemeral=True)))
            for kind, p, r in batch:
                try:
                    res = r.get(timeout=120)
                    counts[kind] = counts.get(kind, 0) + 1
                    if kind == "create" and p == "seq":
                        known.append(res)
                    elif kind in ("create", "multi") and p:
                        known.append(p)
                except KazooException as e:
                    counts[f"{kind}:{type(e).__name__}"] = counts.get(f"{kind}:{type(e).__name__}", 0) + 1
    except Exception as e:  # noqa: BLE001
        errors.append(f"writer {idx}: {e!r}")
    finally:
        zk.stop()   # closeSession: removes this writer's ephemerals
        zk.close()


def live_ephemerals(live, rng, stop):
    made = []
    for i in range(LIVE_EPHEMERALS):
        if i % 3 == 0:
            made.append(live.create("/f/eph/live-", rand_data(rng), ephemeral=True, sequence=True))
        else:
            made.append(live.create(f"/f/eph/l{i:02d}", rand_data(rng), ephemeral=True))
        if i % 7 == 6:
            live.delete(made.pop(rng.randrange(len(made))))
        if i % 5 == 4:
            live.set(rng.choice(made), b"updated")
        time.sleep(0.15)
        if stop.is_set():
            break
    return made


# ----------------------------------------------------------------------------- generate / verify

def choose_snapshot(v2):
    """[(name, zxid, evidence)] of valid snapshots, newest first; the first fuzzy one wins."""
    found = []
    for name in sorted((n for n in os.listdir(v2) if n.startswith("snapshot.")), key=zxid_of, reverse=True):
        z = zxid_of(name)
        try:
            snap = parse_snapshot(os.path.join(v2, name))
        except ValueError as e:
            print(f"  {name}: skipped ({e})")
            continue
        ev = fuzzy_evidence(snap, z)
        fuzzy = ev.get("max_node_zxid", 0) > z
        print(f"  {name}: {len(snap['nodes'])} nodes, fuzzy={fuzzy} {ev}")
        found.append((name, z, fuzzy, ev, snap))
    return found


def needed_logs(v2, snap_zxid):
    """As FileTxnLog.getLogFiles(dir, Z+1): the newest log starting at <= Z+1 and all later."""
    logs = sorted((n for n in os.listdir(v2) if n.startswith("log.")), key=zxid_of)
    start = max((zxid_of(n) for n in logs if zxid_of(n) <= snap_zxid + 1), default=0)
    return [n for n in logs if zxid_of(n) >= start]


def write_expected(path, header, nodes, acl_lists):
    with open(path, "w") as f:
        f.write("{\n")
        for k, v in header.items():
            f.write(f"  {json.dumps(k)}: {json.dumps(v, sort_keys=False)},\n")
        f.write(f'  "acl_lists": {json.dumps(acl_lists)},\n')
        f.write('  "nodes": [\n')
        lines = [json.dumps(n, separators=(",", ":")) for n in nodes]
        f.write(",\n".join(lines))
        f.write("\n  ]\n}\n")


def compact_nodes(tree):
    acl_lists, index, out = [], {}, []
    for p in sorted(tree):
        n = tree[p]
        key = json.dumps(n["acl"])
        if key not in index:
            index[key] = len(acl_lists)
            acl_lists.append(n["acl"])
        out.append([p, n["data"]] + n["stat"] + [index[key]])
    return out, acl_lists


def expand_nodes(expected):
    assert expected["node_fields"] == NODE_FIELDS
    return {n[0]: {"data": n[1], "stat": n[2:-1], "acl": expected["acl_lists"][n[-1]]}
            for n in expected["nodes"]}


def generate(keep):
    rng = random.Random(SEED)
    root = tempfile.mkdtemp(prefix="corral-fuzzy-")
    data = os.path.join(root, "data")
    zk_server = Server("zookeeper", dict(SETTINGS), name="zk-fuzzy")
    zk_server.data_dir = data
    clients = []
    try:
        zk_server.start()
        print(f"ZooKeeper on port {zk_server.port}, dir {zk_server.dir}")
        main_zk = connect(zk_server.port)
        clients.append(main_zk)
        t0 = time.monotonic()
        populate(main_zk, rng)
        print(f"populated in {time.monotonic() - t0:.1f}s")
        live = connect(zk_server.port)
        clients.append(live)
        live_sid = live.client_id[0]
        errors, counts, stop = [], {}, threading.Event()
        threads = [threading.Thread(target=writer, args=(zk_server.port, i, errors, counts))
                   for i in range(WRITERS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        live_ephemerals(live, random.Random(SEED - 1), stop)
        for t in threads:
            t.join()
        print(f"writers done in {time.monotonic() - t0:.1f}s: {dict(sorted(counts.items()))}")
        if errors:
            raise RuntimeError("; ".join(errors))
        tree = dump_tree(main_zk)
        last_live, srvr = srvr_zxid(zk_server)
        version = re.search(r"Zookeeper version: ([^\n,]+)", srvr).group(1).strip()
        zk_server.kill()
        print(f"dumped {len(tree)} nodes; srvr Zxid {hex(last_live)}; killed pid {zk_server.proc.pid}")
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass
        clients = []

        v2 = os.path.join(data, "version-2")
        found = choose_snapshot(v2)
        fuzzy = [f for f in found if f[2]]
        if not fuzzy:
            raise RuntimeError("no fuzzy snapshot was written; rerun")
        name, z, _, evidence, snap = fuzzy[0]
        logs = needed_logs(v2, z)
        records = []
        for n in logs:
            records += parse_log(os.path.join(v2, n))
        zxids = [r[0] for r in records if r[0] > z]
        assert zxids and zxids[0] == z + 1, "logs do not start right after the snapshot"
        assert zxids == list(range(z + 1, zxids[-1] + 1)), "gap in the logs"
        last = zxids[-1]
        assert last == last_live, f"last logged zxid {hex(last)} != srvr Zxid {hex(last_live)}"
        types = {}
        for zx, typ in records:
            if zx > z:
                types[str(typ)] = types.get(str(typ), 0) + 1

        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(os.path.join(OUT, "version-2"))
        files = {}
        for n in [name] + logs:
            with open(os.path.join(v2, n), "rb") as f:
                content = f.read()
            if n.startswith("log."):
                content = content.rstrip(b"\0")
                content = content.ljust(16, b"\0")  # a record-less log: keep its whole header
                content += b"\0" * 12  # explicit zero record header: the clean end of the log
            with open(os.path.join(OUT, "version-2", n), "wb") as f:
                f.write(content)
            files[n] = len(content)
        nodes, acl_lists = compact_nodes(tree)
        header = {
            "generator": "sdk/testing/data/make_zk38_fuzzy.py",
            "zookeeper_version": version,
            "seed": SEED,
            "settings": SETTINGS,
            "snapshot_file": name,
            "snapshot_name_zxid": z,
            "snapshot_name_zxid_hex": hex(z),
            "snapshot_node_count": len(snap["nodes"]),
            "snapshot_sessions": {hex(k): v for k, v in sorted(snap["sessions"].items())},
            "log_files": logs,
            "files": files,
            "last_zxid": last,
            "last_zxid_hex": hex(last),
            "replayed_txn_types": dict(sorted(types.items(), key=lambda kv: int(kv[0]))),
            "fuzzy_evidence": evidence,
            "other_snapshots": [{"file": f[0], "fuzzy": f[2], **{k: f[3].get(k) for k in
                                 ("max_node_zxid", "digest_zxid")}} for f in found if f[0] != name],
            "live_session_id": live_sid,
            "live_session_id_hex": hex(live_sid),
            "session_timeout_ms": int(SESSION_TIMEOUT_S * 1000),
            "node_count": len(nodes),
            "node_fields": NODE_FIELDS,
            "stat_note": "client Stat as returned by getData: cversion = stored*2 - numChildren; "
                         "dataLength 0 for null and empty data",
            "data_encoding": "lower-case hex; \"\" = empty byte array; null = null data "
                             "(created with data null, sent as buffer length -1)",
            "acl_encoding": "index into acl_lists; each ACL is [perms, scheme, id]",
            "int_note": "session ids (ephemeralOwner, live_session_id) exceed 2^53: parse as int64",
        }
        write_expected(os.path.join(OUT, "expected.json"), header, nodes, acl_lists)
        total = sum(files.values()) + os.path.getsize(os.path.join(OUT, "expected.json"))
        print(f"chose {name} (Z={hex(z)}), logs {logs}, last zxid {hex(last)}; {len(nodes)} nodes; "
              f"{total} bytes written")
    finally:
        for c in clients:
            try:
                c.stop()
                c.close()
            except Exception:  # noqa: BLE001
                pass
        zk_server.kill()
        zk_server.cleanup(keep=keep)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def verify(keep):
    with open(os.path.join(OUT, "expected.json")) as f:
        expected = json.load(f)
    want = expand_nodes(expected)
    v2_out = os.path.join(OUT, "version-2")
    on_disk = {n: os.path.getsize(os.path.join(v2_out, n)) for n in os.listdir(v2_out)}
    assert on_disk == expected["files"], f"version-2/ holds {on_disk}, expected.json lists {expected['files']}"
    root = tempfile.mkdtemp(prefix="corral-fuzzy-verify-")
    data = os.path.join(root, "data")
    shutil.copytree(os.path.join(OUT, "version-2"), os.path.join(data, "version-2"))
    srv = Server("zookeeper", dict(SETTINGS), name="zk-fuzzy-verify")
    srv.data_dir = data
    zk = None
    try:
        srv.start()
        # A standalone server writes snapshot.<last replayed zxid> at startup: proof that it
        # replayed exactly up to last_zxid. (srvr's Zxid is 2 higher: the harness's readiness
        # probe opens and closes a session, createSession + closeSession txns.)
        replayed = f"snapshot.{expected['last_zxid']:x}"
        assert os.path.exists(os.path.join(data, "version-2", replayed)), \
            f"no {replayed} after restart: {sorted(os.listdir(os.path.join(data, 'version-2')))}"
        zxid, _ = srvr_zxid(srv)
        assert zxid >= expected["last_zxid"], f"restarted at {hex(zxid)}, want {expected['last_zxid_hex']}"
        zk = connect(srv.port)
        got = dump_tree(zk)
        bad = []
        for p in sorted(set(want) | set(got)):
            if p not in got:
                bad.append(f"missing {p}")
            elif p not in want:
                bad.append(f"unexpected {p}")
            elif got[p] != want[p]:
                diff = [STAT_FIELDS[i] for i in range(len(STAT_FIELDS)) if got[p]["stat"][i] != want[p]["stat"][i]]
                bad.append(f"{p}: got {got[p]} want {want[p]} (stat fields {diff})")
        with open(srv.log_path, errors="replace") as f:
            notes = [ln.rstrip() for ln in f if "mismatch" in ln.lower() or " ERROR " in ln]
        for ln in notes[:10]:
            print(f"  server log: {ln[:300]}")
        if bad:
            print("\n".join(bad[:40]))
            raise SystemExit(f"verify FAILED: {len(bad)} differences")
        print(f"verify OK: ZooKeeper restarted on {expected['snapshot_file']} + {expected['log_files']}, "
              f"wrote {replayed}; {len(got)} nodes identical (data, Stat, ACL)")
    finally:
        if zk is not None:
            zk.stop()
            zk.close()
        srv.kill()
        srv.cleanup(keep=keep)
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verify", action="store_true", help="only verify the existing files")
    ap.add_argument("--keep", action="store_true", help="keep the temp server dirs")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not args.verify:
        generate(args.keep)
    verify(args.keep)


if __name__ == "__main__":
    main()
