"""Hostile or broken peers on the election and quorum ports: garbage, truncated and huge
frames, an unknown sid, a sid announcing another member's address, an old protocol version, a
learner claiming to be ahead of the leader. Each is dropped; the ensemble keeps serving and
loses nothing. Runs on ZooKeeper (reference) and Corral; where Corral logs the reason, the
Corral run also checks that the log names it.
"""
import socket
import struct
import time

import pytest

from harness_ensemble import HOST, assert_same_everywhere

PROTOCOL_V1 = -65536
FOLLOWERINFO = 11
LEADERINFO = 17
ACKEPOCH = 18


def initial_message(sid, address):
    raw = address.encode()
    return struct.pack(">qqi", PROTOCOL_V1, sid, len(raw)) + raw


def quorum_packet(kind, zxid, data=None):
    body = struct.pack(">iq", kind, zxid)
    body += struct.pack(">i", -1) if data is None else struct.pack(">i", len(data)) + data
    return body + struct.pack(">i", -1)


def learner_info(sid, protocol=0x10000, config_version=0):
    return struct.pack(">qiq", sid, protocol, config_version)


def send_and_wait_close(port, payload, timeout=15.0):
    """Sends `payload`; returns whatever came back until the peer closed (or the timeout)."""
    with socket.create_connection((HOST, port), timeout=5) as s:
        s.sendall(payload)
        s.settimeout(timeout)
        received = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def still_serving(ens, path):
    """Every member runs and serves; a write through the leader reads back everywhere."""
    for m in ens:
        m.check_alive()
    ens.wait_serving(60)
    leader = ens.leader()
    c = ens.client(leader)
    c.create(path, b"after", makepath=True)
    for m in ens:
        c2 = ens.client(m)
        c2.sync(path)
        assert c2.get(path)[0] == b"after", f"sid {m.sid}"


def corral_logged(ens, impl, marks, *phrases):
    if impl != "corral":
        return
    text = "".join(m.log_since(marks[m.sid]) for m in ens)
    for phrase in phrases:
        assert phrase in text, f"no log line with {phrase!r}:\n{ens.log_tails(30)}"


def log_marks(ens):
    return {m.sid: m.log_size() for m in ens}


def test_garbage_on_every_election_port(ensemble3, impl):
    ens = ensemble3
    marks = log_marks(ens)
    for m in ens:
        send_and_wait_close(m.election_port, b"\x00\x01garbage" * 10, timeout=8)
        send_and_wait_close(m.election_port, b"\xff" * 64, timeout=8)
    still_serving(ens, "/hostile/election-garbage")
    corral_logged(ens, impl, marks, "bad initial message")


def test_unknown_sid_and_huge_frame_on_the_election_port(ensemble3, impl):
    ens = ensemble3
    marks = log_marks(ens)
    target = ens.member(1)
    # sid 99 is nobody.
    send_and_wait_close(target.election_port, initial_message(99, f"{HOST}:1"), timeout=8)
    # A known, larger sid (so the connection is kept) followed by a 2 GiB frame length and
    # then a truncated frame: the member must drop the connection, not allocate or wait forever.
    highest = max(m.sid for m in ens)
    if highest != target.sid:
        with socket.create_connection((HOST, target.election_port), timeout=5) as s:
            s.sendall(initial_message(highest, f"{HOST}:{ens.member(highest).election_port}"))
            s.sendall(struct.pack(">i", 0x7fffffff) + b"\x00" * 16)
            s.settimeout(15)
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
    still_serving(ens, "/hostile/election-huge")
    corral_logged(ens, impl, marks, "not a member")


def test_sid_announcing_another_members_address(ensemble3, impl):
    ens = ensemble3
    marks = log_marks(ens)
    target = ens.member(1)
    impostor_of = ens.member(2)
    # sid 3 announcing sid 2's election address.
    send_and_wait_close(target.election_port,
                        initial_message(3, f"{HOST}:{impostor_of.election_port}") + b"\x00" * 4, timeout=8)
    still_serving(ens, "/hostile/impostor")
    corral_logged(ens, impl, marks, "the election address of server.2")


def test_garbage_and_bad_learners_on_the_quorum_port(ensemble3, impl):
    ens = ensemble3
    leader = ens.leader()
    marks = log_marks(ens)
    # Garbage: a packet type that is no FOLLOWERINFO, then a huge data length.
    send_and_wait_close(leader.quorum_port, b"\x00\x00\x00\x63" + b"\x01" * 40, timeout=15)
    send_and_wait_close(leader.quorum_port, struct.pack(">iqi", FOLLOWERINFO, 0, 0x7ffffff0) + b"x" * 8,
                        timeout=15)
    # An unknown sid.
    send_and_wait_close(leader.quorum_port, quorum_packet(FOLLOWERINFO, 0, learner_info(77)), timeout=15)
    # A pre-3.4 protocol version.
    follower = next(m for m in ens if m is not leader)
    send_and_wait_close(leader.quorum_port,
                        quorum_packet(FOLLOWERINFO, 0, learner_info(follower.sid, protocol=0x0)), timeout=15)
    still_serving(ens, "/hostile/quorum-garbage")
    corral_logged(ens, impl, marks, "not a member of this ensemble", "protocol 0x0")


def test_learner_claiming_to_be_ahead_of_the_leader_is_dropped(make_ensemble, impl):
    ens = make_ensemble(3)
    c = ens.client()
    c.create("/hostile-ahead", b"kept")
    leader = ens.leader()
    victim = next(m for m in ens if m is not leader)
    victim.stop()  # its sid is free for the impostor
    ens.wait_serving(60, members=[m for m in ens if m is not victim])
    marks = log_marks(ens)
    with socket.create_connection((HOST, leader.quorum_port), timeout=10) as s:
        s.sendall(quorum_packet(FOLLOWERINFO, 0x7fff0000 << 32, learner_info(victim.sid)))
        s.settimeout(15)
        got = b""
        try:
            while len(got) < 20:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except OSError:
            pass
        if len(got) >= 12 and struct.unpack(">i", got[:4])[0] == LEADERINFO:
            # ACKEPOCH: currentEpoch and last zxid far beyond the leader's.
            s.sendall(quorum_packet(ACKEPOCH, (0x7fff0000 << 32) | 5, struct.pack(">i", 0x7fff0000)))
            try:
                while s.recv(65536):
                    pass
            except OSError:
                pass
    still_serving_members = [m for m in ens if m is not victim]
    for m in still_serving_members:
        m.check_alive()
    ens.wait_serving(60, members=still_serving_members)
    corral_logged(ens, impl, marks, "ahead of the leader")
    ens.start_member(victim)
    still_serving(ens, "/hostile/after-ahead")
    c.sync("/hostile-ahead")
    assert c.get("/hostile-ahead")[0] == b"kept"
    assert_same_everywhere(ens)
