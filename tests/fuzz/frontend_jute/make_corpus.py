#!/usr/bin/env python3
"""Writes the seed corpus: a ConnectRequest frame followed by real request frames (the bytes a
ZooKeeper client sends, client-protocol.md §4/§6/§8). Run from this folder: ./make_corpus.py"""
import os
import struct

def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def b(v): return b"\x01" if v else b"\x00"
def s(v): return i32(-1) if v is None else i32(len(v)) + v
def vec(items): return i32(len(items)) + b"".join(items)
def frame(payload): return i32(len(payload)) + payload
def req(xid, op, body=b""): return frame(i32(xid) + i32(op) + body)

OPEN_ACL = vec([i32(31) + s(b"world") + s(b"anyone")])
CONNECT = frame(i32(0) + i64(0) + i32(30000) + i64(0) + s(b"\x00" * 16) + b(False))

seeds = {
    "ping": req(-2, 11),
    "create": req(1, 1, s(b"/a") + s(b"data") + OPEN_ACL + i32(0)),
    "create2_seq": req(2, 15, s(b"/a/s-") + s(None) + OPEN_ACL + i32(2)),
    "create_ttl": req(3, 21, s(b"/t") + s(b"") + OPEN_ACL + i32(5) + i64(1000)),
    "get_data_watch": req(4, 4, s(b"/a") + b(True)),
    "set_data": req(5, 5, s(b"/a") + s(b"new") + i32(-1)),
    "get_children2": req(6, 12, s(b"/") + b(False)),
    "set_acl": req(7, 7, s(b"/a") + OPEN_ACL + i32(0)),
    "auth_digest": req(-4, 100, i32(0) + s(b"digest") + s(b"user:pass")),
    "set_watches": req(-8, 101, i64(5) + vec([s(b"/d")]) + vec([]) + vec([s(b"/c")])),
    "set_watches2": req(-8, 105, i64(5) + vec([s(b"/d")]) + vec([]) + vec([]) + vec([s(b"/p")]) + vec([])),
    "multi": req(8, 14,
                 i32(1) + b(False) + i32(-1) + s(b"/m") + s(b"") + OPEN_ACL + i32(0)
                 + i32(13) + b(False) + i32(-1) + s(b"/m") + i32(0)
                 + i32(2) + b(False) + i32(-1) + s(b"/m") + i32(-1)
                 + i32(-1) + b(True) + i32(-1)),
    "multi_read": req(9, 22,
                      i32(4) + b(False) + i32(-1) + s(b"/a") + b(False)
                      + i32(8) + b(False) + i32(-1) + s(b"/") + b(False)
                      + i32(-1) + b(True) + i32(-1)),
    "reconfig": req(10, 16, s(b"server.2=127.0.0.1:2888:3888") + s(None) + s(None) + i64(-1)),
    "add_watch": req(11, 106, s(b"/w") + i32(1)),
    "sasl": req(12, 102, s(None)),
    "whoami_close": req(13, 107) + req(14, -11),
    "truncated": frame(i32(15) + i32(4) + i32(10) + b"/ab"),
}
os.makedirs("corpus", exist_ok=True)
for name, body in seeds.items():
    with open(os.path.join("corpus", name), "wb") as f:
        f.write(CONNECT + body)
print(f"{len(seeds)} seeds")
