#!/bin/bash
# Seeds of txn_log_fuzzer: txn logs written by Apache ZooKeeper 3.8 and corral-server (../seeds/data_dir_seeds.py),
# merged into corpus/ with -merge=1. Usage: make_corpus.sh [FUZZ_BUILD_DIR] [CORRAL_BIN]
exec "$(dirname "$0")/../seeds/make_corpus.sh" txn_log "$@"
