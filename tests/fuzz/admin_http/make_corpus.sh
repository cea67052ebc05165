#!/bin/bash
# Seeds of admin_http_fuzzer: the bytes curl sends to ZooKeeper's AdminServer and to admin.http (../seeds/http_seeds.py),
# merged into corpus/ with -merge=1. Usage: make_corpus.sh [FUZZ_BUILD_DIR] [CORRAL_BIN]
exec "$(dirname "$0")/../seeds/make_corpus.sh" admin_http "$@"
