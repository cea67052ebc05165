#!/usr/bin/python3
"""Seeds for txn_log_fuzzer and snapshot_fuzzer: the txn logs and snapshots that real servers
write. Apache ZooKeeper 3.8 and corral-server each run the workload of
tests/integration/test_interop_disk.py (nodes of every kind, ACLs, sequentials, containers,
TTL nodes, multi, failed txns, closed sessions with ephemerals; snapCount=10 so several logs
and snapshots), are killed (-9), restarted (a snapshot at start) and written to again; once
with plain snapshots, once with zookeeper.snapshot.compression.method=gz and once with snappy.
Every log.* and snapshot.* file of the data dir is copied to OUT/txn_log and OUT/snapshot
(logs are cut after their last record plus 16 zero bytes: the preallocated rest of the file is
zeros and reads the same).

  /usr/bin/python3 tests/fuzz/seeds/data_dir_seeds.py OUT [--corral-bin PATH]

Also writes each server's zoo.cfg to OUT/config (the config fuzzer's seeds, with dataDir made
relative as that target wants)."""
import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from harness.servers import Server  # noqa: E402
import test_interop_disk as interop  # noqa: E402  (its workload: populate, more_writes)


def trimmed_log(data):
    end = len(data.rstrip(b"\0"))
    return data[:min(len(data), end + 16)]


def copy_files(version2, out, tag):
    for name in sorted(os.listdir(version2)):
        path = os.path.join(version2, name)
        with open(path, "rb") as f:
            data = f.read()
        if name.startswith("log."):
            target = os.path.join(out, "txn_log", f"{tag}-{name}")
            data = trimmed_log(data)
        elif name.startswith("snapshot."):
            target = os.path.join(out, "snapshot", f"{tag}-{name}")
        else:
            continue
        with open(target, "wb") as f:
            f.write(data)


def relative_config(path):
    lines = []
    with open(path) as f:
        for line in f:
            if line.startswith("dataDir=") or line.startswith("dataLogDir="):
                line = line.split("=", 1)[0] + "=data\n"
            lines.append(line)
    return "".join(lines)


def run(impl, compression, corral_bin, out):
    root = tempfile.mkdtemp(prefix=f"corral-fuzz-seeds-{impl}-")
    data_dir = os.path.join(root, "data")
    os.makedirs(data_dir)
    settings = dict(interop.SETTINGS)
    if compression:
        settings["zookeeper.snapshot.compression.method"] = compression
    servers = []

    def start():
        srv = Server(impl, settings, corral_bin=corral_bin, name=f"{impl}{len(servers)}")
        srv.data_dir = data_dir
        servers.append(srv)
        srv.start()
        return srv

    try:
        srv = start()
        live = interop.populate(srv.port)
        srv.kill()
        live.close()
        srv = start()
        interop.more_writes(srv.port)
        srv.stop()
        tag = f"{impl}-{compression or 'plain'}"
        copy_files(os.path.join(data_dir, "version-2"), out, tag)
        with open(os.path.join(out, "config", f"{tag}.cfg"), "w") as f:
            f.write(relative_config(srv.config_path))
    finally:
        for s in servers:
            s.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--corral-bin", default=os.path.join(ROOT, "build", "bin", "corral-server"))
    args = parser.parse_args()
    for sub in ("txn_log", "snapshot", "config"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
    for impl in ("zookeeper", "corral"):
        for compression in (None, "gz", "snappy"):
            run(impl, compression, args.corral_bin, args.out)
    for sub in ("txn_log", "snapshot", "config"):
        print(sub, len(os.listdir(os.path.join(args.out, sub))))


if __name__ == "__main__":
    main()
