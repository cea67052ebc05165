#!/usr/bin/python3
"""Writes the seed corpus of frontend_thrift_call_fuzzer: for each protocol (first byte 0:
binary, 1: compact), an openSession frame followed by real call frames, encoded by the
generated Python stubs (build/sdk/thrift/gen-py, python3-thrift). Run from the repository root
after a build: /usr/bin/python3 tests/fuzz/frontend_thrift/make_corpus.py"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "build", "sdk", "thrift", "gen-py"))

from corral_thrift import Corral  # noqa: E402
from corral_thrift import ttypes as tt  # noqa: E402
from thrift.protocol import TBinaryProtocol, TCompactProtocol  # noqa: E402
from thrift.Thrift import TMessageType  # noqa: E402
from thrift.transport import TTransport  # noqa: E402

OPEN = [tt.ACL(perms=31, id=tt.Id(scheme="world", id="anyone"))]


def message(protocol_class, name, args, seqid):
    buf = TTransport.TMemoryBuffer()
    p = protocol_class(buf)
    p.writeMessageBegin(name, TMessageType.CALL, seqid)
    args.write(p)
    p.writeMessageEnd()
    payload = buf.getvalue()
    return struct.pack(">i", len(payload)) + payload


CALLS = {
    "ping": [("ping", Corral.ping_args(waitMs=100))],
    "create": [("create", Corral.create_args(path="/a", data=b"x", acl=OPEN, mode=tt.CreateMode.EPHEMERAL_SEQUENTIAL))],
    "create_ttl": [("create", Corral.create_args(path="/t", data=b"", acl=OPEN, mode=tt.CreateMode.PERSISTENT_WITH_TTL, ttl=1000))],
    "get_set": [("getData", Corral.getData_args(path="/a", watch=True)),
                ("setData", Corral.setData_args(path="/a", data=b"new", version=3))],
    "children_exists": [("getChildren", Corral.getChildren_args(path="/", watch=False)),
                        ("exists", Corral.exists_args(path="/none", watch=True))],
    "acl_auth": [("addAuth", Corral.addAuth_args(scheme="digest", auth=b"u:p")),
                 ("setACL", Corral.setACL_args(path="/a", acl=OPEN, version=-1)),
                 ("getACL", Corral.getACL_args(path="/a"))],
    "multi": [("multi", Corral.multi_args(ops=[
        tt.Op(create=tt.CreateOp(path="/m", data=b"1", acl=OPEN)),
        tt.Op(setData=tt.SetDataOp(path="/m", data=b"2")),
        tt.Op(check=tt.CheckOp(path="/m", version=1)),
        tt.Op(remove=tt.DeleteOp(path="/m"))]))],
    "multi_read": [("multiRead", Corral.multiRead_args(ops=[
        tt.ReadOp(getData="/a"), tt.ReadOp(getChildren="/")]))],
    "watches": [("addWatch", Corral.addWatch_args(path="/w", mode=tt.AddWatchMode.PERSISTENT_RECURSIVE)),
                ("removeWatches", Corral.removeWatches_args(path="/w", type=tt.WatcherType.ANY)),
                ("setWatches", Corral.setWatches_args(relativeZxid=5, dataWatches=["/d"], existWatches=[],
                                                      childWatches=["/c"], persistentWatches=[],
                                                      persistentRecursiveWatches=["/r"]))],
    "misc": [("sync", Corral.sync_args(path="/")), ("whoAmI", Corral.whoAmI_args()),
             ("getEphemerals", Corral.getEphemerals_args(prefixPath="/")),
             ("getAllChildrenNumber", Corral.getAllChildrenNumber_args(path="/")),
             ("closeSession", Corral.closeSession_args())],
}


def main():
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for tag, (byte, cls) in {"binary": (0, TBinaryProtocol.TBinaryProtocol),
                             "compact": (1, TCompactProtocol.TCompactProtocol)}.items():
        opening = message(cls, "openSession", Corral.openSession_args(
            request=tt.OpenSessionRequest(timeoutMs=30000, sessionId=0, password=b"")), 0)
        for name, calls in CALLS.items():
            body = opening + b"".join(message(cls, n, args, i + 1) for i, (n, args) in enumerate(calls))
            with open(os.path.join(out, f"{tag}-{name}"), "wb") as f:
                f.write(bytes([byte]) + body)


if __name__ == "__main__":
    main()
