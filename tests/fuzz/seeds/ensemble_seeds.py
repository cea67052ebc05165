#!/usr/bin/python3
"""Seeds for election_fuzzer, quorum_fuzzer and config_fuzzer: the bytes real ensembles exchange.

Ensembles of 3 (and 4, with an observer) members on loopback, every peer connection through the
link proxies of tests/ensemble/link_proxy.py (ProxiedEnsemble), whose writes are recorded per
connection and direction. Shapes: Apache ZooKeeper 3.8 only, corral-server only, mixed, Corral
with an observer (INFORM), snapshot sync forced (zookeeper.forceSnapshotSync: SNAP with the
snapshot inline), and reconfigEnabled ensembles of both implementations (reconfig txns,
COMMITANDACTIVATE / INFORMANDACTIVATE, configs in notifications and NEWLEADER). Workload: an
election, writes through every member (REQUEST from learners: create, setData, multi, delete,
sync, sessions), a follower stopped, written past and restarted (DIFF, or SNAP), the leader
stopped (a new election and epoch); reconfig shapes instead remove a member and add it back
(no restarts), without proxies: their traffic is read off the loopback interface (AF_PACKET,
needs root) and reassembled.

  /usr/bin/python3 tests/fuzz/seeds/ensemble_seeds.py OUT [--corral-bin PATH]

Writes:
  OUT/election/<shape>-<n>-<dir>  flags byte (bit 0: accepted side, the initial message first;
                                  read size 2^3) + the bytes one side read
  OUT/quorum/<shape>-<n>-<dir>    the bytes one side of a quorum connection read
  OUT/config/<shape>-<sid>        zoo.cfg NUL dynamic file NUL myid, as each member left them
                                  (dataDir and dynamicConfigFile made relative)
Streams are cut at 128 KiB."""
import argparse
import collections
import os
import socket
import struct
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "ensemble"))

import link_proxy  # noqa: E402
from harness_ensemble import Ensemble  # noqa: E402
from link_proxy import ProxiedEnsemble  # noqa: E402
from reconfig_support import RECONFIG_SETTINGS, SUPER_AUTH  # noqa: E402

MAX_STREAM = 128 * 1024

# (conn id, kind, sender sid, receiver sid, "fwd" | "back") -> bytes, in arrival order
RECORDED = collections.OrderedDict()
_original_write = link_proxy._Pipe._write


def _recording_write(self, data):
    key = (id(self.conn), self.conn.kind, self.a, self.b, "fwd" if self.src == "down" else "back")
    RECORDED.setdefault(key, bytearray()).extend(data)
    _original_write(self, data)


link_proxy._Pipe._write = _recording_write


class LoopbackSniffer:
    """Reconfig shapes run without proxies (a member adopting the leader's config would find
    its own entry at a proxy's address): their peer traffic is read off the loopback interface
    instead (AF_PACKET, root), TCP streams reassembled by sequence number, and recorded into
    RECORDED like the proxies' writes. `ports`: {port: (kind, sid)} of the members."""

    def __init__(self, ports):
        self.ports = ports
        self.segments = collections.defaultdict(dict)  # (src, sport, dst, dport) -> {seq: bytes}
        self.order = []
        self.stopping = False
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
        self.sock.bind(("lo", 0))
        self.sock.settimeout(0.2)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                frame, addr = self.sock.recvfrom(262144)
            except socket.timeout:
                continue
            if addr[2] != socket.PACKET_OUTGOING or len(frame) < 14 + 20:
                continue
            if struct.unpack_from(">H", frame, 12)[0] != 0x0800:
                continue
            ip = frame[14:]
            ihl = (ip[0] & 15) * 4
            total = struct.unpack_from(">H", ip, 2)[0]
            if ip[9] != 6 or len(ip) < ihl + 20:
                continue
            tcp = ip[ihl:total]
            sport, dport, seq = struct.unpack_from(">HHI", tcp, 0)
            payload = tcp[(tcp[12] >> 4) * 4:]
            if not payload or (sport not in self.ports and dport not in self.ports):
                continue
            key = (ip[12:16], sport, ip[16:20], dport)
            if key not in self.segments:
                self.order.append(key)
            self.segments[key].setdefault(seq, bytes(payload))

    def stop(self):
        self.stopping = True
        self.thread.join()
        self.sock.close()
        for n, key in enumerate(self.order):
            _, sport, _, dport = key
            segments = self.segments[key]
            data = bytearray()
            first = min(segments)
            for seq in sorted(segments, key=lambda q: (q - first) & 0xFFFFFFFF):
                chunk = segments[seq]
                offset = ((seq - first) & 0xFFFFFFFF) - len(data)
                if offset < 0:
                    chunk = chunk[-offset:]
                elif offset > 0:
                    break  # a gap: keep what is contiguous
                data.extend(chunk)
            if dport in self.ports:  # to a member's listening port: the dialler's bytes
                kind, sid = self.ports[dport]
                RECORDED[(("sniffed", n), kind, 0, sid, "fwd")] = data
            else:
                kind, sid = self.ports[sport]
                RECORDED[(("sniffed", n), kind, sid, 0, "back")] = data


def workload(ens, reconfig):
    leader = ens.leader()
    followers = [m for m in ens.running() if m is not leader and m.role != "observer"]
    for m in ens.running():
        c = ens.client(m)
        try:
            c.ensure_path("/fuzz")
            c.create(f"/fuzz/seq-{m.sid}-", b"x" * 20, sequence=True)
            c.create(f"/fuzz/eph-{m.sid}", b"e", ephemeral=True)
            c.set("/fuzz", b"via %d" % m.sid)
            t = c.transaction()
            t.create(f"/fuzz/multi-{m.sid}", b"m")
            t.set_data(f"/fuzz/multi-{m.sid}", b"n")
            t.check(f"/fuzz/multi-{m.sid}", 1)
            t.commit()
            c.sync("/fuzz")
            c.delete(f"/fuzz/multi-{m.sid}")
        finally:
            ens.close_client(c)
    if reconfig:
        # No restarts here: a member of a proxied ensemble that adopts the leader's config would
        # find its own entry at a proxy's address and could not bind it again.
        c = ens.client(leader, auth_data=SUPER_AUTH)
        try:
            removed = followers[-1]
            spec = removed.server_line().split("=", 1)[1]
            c.reconfig_async(None, str(removed.sid), None, -1).get(timeout=30)
            time.sleep(1)
            c.reconfig_async(f"server.{removed.sid}={spec};127.0.0.1:{removed.port}", None, None,
                             -1).get(timeout=30)
            c.create("/fuzz/after-reconfig", b"r")
        except Exception as error:  # the seeds are what was sent, whatever the outcome
            print("reconfig:", error)
        finally:
            ens.close_client(c)
        time.sleep(2)
        return
    # A follower behind: DIFF (or SNAP when forced) when it comes back.
    lagging = followers[0]
    ens.stop(lagging)
    c = ens.client(leader)
    for i in range(20):
        c.create("/fuzz/while-away-", b"w%d" % i, sequence=True)
    ens.close_client(c)
    ens.start_member(lagging)
    ens.wait_serving(60)
    # The leader goes: a new election, a new epoch.
    ens.stop(leader)
    ens.wait_serving(60, members=[m for m in ens.running()])
    c = ens.client([m for m in ens.running()])
    c.create("/fuzz/new-epoch", b"after")
    ens.close_client(c)
    time.sleep(1)


def relative_member_config(member):
    text = member.read_config()
    dynamic = b""
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0]
        if key == "dataDir":
            line = "dataDir=data"
        elif key == "dynamicConfigFile":
            path = line.split("=", 1)[1]
            try:
                with open(path, "rb") as f:
                    dynamic = f.read()
            except OSError:
                pass
            line = "dynamicConfigFile=" + os.path.basename(path)
        lines.append(line)
    try:
        with open(os.path.join(member.data_dir, "myid"), "rb") as f:
            myid = f.read()
    except OSError:
        myid = b"%d\n" % member.sid
    return ("\n".join(lines) + "\n").encode() + b"\0" + dynamic + b"\0" + myid


def save(out, shape, ens):
    counts = collections.Counter()
    for n, ((_, kind, a, b, direction), data) in enumerate(RECORDED.items()):
        if not data:
            continue
        data = bytes(data[:MAX_STREAM])
        if kind == "election":
            # fwd: what the acceptor read (initial message first); back: what the dialler read.
            flags = (1 if direction == "fwd" else 0) | (3 << 1)
            data = bytes([flags]) + data
        name = f"{shape}-{n}-{a}to{b}-{direction}".replace("0to", "to").replace("to0", "")
        with open(os.path.join(out, kind, name), "wb") as f:
            f.write(data)
        counts[kind] += 1
    for m in ens.members:
        with open(os.path.join(out, "config", f"{shape}-{m.sid}"), "wb") as f:
            f.write(relative_member_config(m))
        counts["config"] += 1
    RECORDED.clear()
    return counts


SHAPES = [
    ("zk3", ["zookeeper"] * 3, {}, {}),
    ("corral3", ["corral"] * 3, {}, {}),
    ("mixed", ["zookeeper", "corral", "corral"], {}, {}),
    ("corral-observer", ["corral"] * 4, {}, {"observers": (4,)}),
    ("zk-observer", ["zookeeper"] * 4, {}, {"observers": (4,)}),
    ("snap-mixed", ["corral", "zookeeper", "corral"], {"zookeeper.forceSnapshotSync": "true"}, {}),
    ("snap-corral", ["corral"] * 3, {"zookeeper.forceSnapshotSync": "true"}, {}),
    ("reconfig-zk", ["zookeeper"] * 3, dict(RECONFIG_SETTINGS), {}),
    ("reconfig-corral", ["corral"] * 3, dict(RECONFIG_SETTINGS), {}),
    ("reconfig-observer", ["corral", "corral", "zookeeper", "corral"], dict(RECONFIG_SETTINGS),
     {"observers": (4,)}),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--corral-bin", default=os.path.join(ROOT, "build", "bin", "corral-server"))
    parser.add_argument("--only", default=None, help="comma list of shapes")
    args = parser.parse_args()
    for sub in ("election", "quorum", "config"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    for shape, impls, settings, extra in SHAPES:
        if args.only and shape not in args.only.split(","):
            continue
        reconfig = bool(settings.get("reconfigEnabled"))
        sniffer = None
        if reconfig:
            ens = Ensemble(impls, settings=settings, corral_bin=args.corral_bin, name=f"fuzz-{shape}", **extra)
            ports = {}
            for m in ens.members:
                ports[m.quorum_port] = ("quorum", m.sid)
                ports[m.election_port] = ("election", m.sid)
            sniffer = LoopbackSniffer(ports)
        else:
            ens = ProxiedEnsemble(impls, settings=settings, corral_bin=args.corral_bin, name=f"fuzz-{shape}",
                                  tap=False, **extra)
        try:
            ens.start(timeout=90)
            workload(ens, reconfig=reconfig)
        except Exception as error:
            print(f"{shape}: {error!r} (keeping what was recorded)")
        finally:
            if sniffer:
                sniffer.stop()
            counts = save(args.out, shape, ens)
            ens.cleanup()
        print(shape, dict(counts))


if __name__ == "__main__":
    main()
