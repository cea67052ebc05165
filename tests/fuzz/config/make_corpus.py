#!/usr/bin/python3
"""Seeds for config_fuzzer: real zoo.cfg files in its input form,
`zoo.cfg` NUL `dynamic config file` NUL `myid`, with dataDir (and dataLogDir) made relative
("data") and dynamicConfigFile reduced to its file name, as the target requires (it refuses to
let a config read outside its scratch folder).

Sources:
  - etc/corral/*.cfg and etc/corral/read-tier/*.cfg (the shipped configs; members get their
    myid from the file name);
  - Debian's ZooKeeper example /etc/zookeeper/conf_example/zoo.cfg (when installed);
  - SEEDS_DIR/config/*: what tests/fuzz/seeds/data_dir_seeds.py and ensemble_seeds.py captured
    (the zoo.cfg of every server they ran, and for ensembles the zoo.cfg, dynamic file and
    myid each member left, including the files ZooKeeper and Corral rewrite after a reconfig).

  /usr/bin/python3 tests/fuzz/config/make_corpus.py OUT [SEEDS_DIR]

Writes the seeds to OUT (then merge them into corpus/ with config_fuzzer -merge=1)."""
import glob
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def relative(text):
    out = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in ("dataDir", "dataLogDir"):
            line = f"{key}=data"
        elif key == "dynamicConfigFile":
            line = "dynamicConfigFile=" + os.path.basename(line.split("=", 1)[1].strip())
        out.append(line)
    return "\n".join(out) + "\n"


def write(out, data):
    with open(os.path.join(out, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def main():
    out = sys.argv[1]
    seeds = sys.argv[2] if len(sys.argv) > 2 else None
    os.makedirs(out, exist_ok=True)
    count = 0
    shipped = sorted(glob.glob(os.path.join(ROOT, "etc", "corral", "*.cfg")) +
                     glob.glob(os.path.join(ROOT, "etc", "corral", "*", "*.cfg")) +
                     glob.glob("/etc/zookeeper/conf_example/zoo.cfg"))
    for path in shipped:
        with open(path) as f:
            text = relative(f.read()).encode()
        member = re.search(r"-(\d+)\.cfg$", path)
        write(out, text)
        if member:
            write(out, text + b"\0\0" + member.group(1).encode() + b"\n")
            count += 1
        count += 1
    if seeds:
        for path in sorted(glob.glob(os.path.join(seeds, "config", "*"))):
            with open(path, "rb") as f:
                data = f.read()
            if b"\0" not in data:
                data = relative(data.decode()).encode()
            write(out, data)
            count += 1
    print(count, "seeds")


if __name__ == "__main__":
    main()
