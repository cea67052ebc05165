#!/bin/bash
# Seeds of config_fuzzer: shipped configs (etc/corral), Debian's ZooKeeper example and the zoo.cfg/dynamic/myid files real servers used and rewrote (make_corpus.py),
# merged into corpus/ with -merge=1. Usage: make_corpus.sh [FUZZ_BUILD_DIR] [CORRAL_BIN]
exec "$(dirname "$0")/../seeds/make_corpus.sh" config "$@"
