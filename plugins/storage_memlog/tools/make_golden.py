#!/usr/bin/python3
"""Regenerates tests/unit/storage_memlog/golden/ from a real Apache ZooKeeper 3.8 (Debian package).

    /usr/bin/python3 plugins/storage_memlog/tools/make_golden.py

Runs ZooKeeper standalone on 127.0.0.1 in a temp dir (preAllocSize=4 KiB so logs stay small,
extended types on), runs the interop workload (tests/integration/test_interop_disk.populate:
every txn type), SIGKILLs it (a live session with ephemerals persists), restarts it three times
(plain, gz, snappy snapshot compression: each restart writes snapshot.<last zxid>[.gz|.snappy])
and copies version-2/ with the trailing preallocated zeros of each log cut off.
"""
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from harness.servers import Server  # noqa: E402
import test_interop_disk as workload  # noqa: E402

OUT = os.path.join(REPO, "tests", "unit", "storage_memlog", "golden", "zk38")


def main():
    root = tempfile.mkdtemp(prefix="corral-golden-")
    data = os.path.join(root, "data")
    settings = {"zookeeper.extendedTypesEnabled": "true", "preAllocSize": 4, "snapCount": 1000000}
    servers = []
    try:
        def start(extra=None):
            s = Server("zookeeper", dict(settings, **(extra or {})), name=f"zk{len(servers)}")
            s.data_dir = data
            servers.append(s)
            s.start()
            return s

        zk = start()
        live = workload.populate(zk.port)
        zk.kill()
        live.close()
        start().stop()
        start({"zookeeper.snapshot.compression.method": "gz"}).stop()
        start({"zookeeper.snapshot.compression.method": "snappy"}).stop()
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)
        v2 = os.path.join(data, "version-2")
        for name in sorted(os.listdir(v2)):
            with open(os.path.join(v2, name), "rb") as f:
                content = f.read()
            if name.startswith("log."):
                content = content.rstrip(b"\0")
                content += b"\0" * 12  # keep an explicit zero record header: the clean end of the log
            with open(os.path.join(OUT, name), "wb") as f:
                f.write(content)
            print(f"{name}: {len(content)} bytes")
    finally:
        for s in servers:
            s.cleanup()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
