#!/bin/bash
# Seeds of election_fuzzer: election-port traffic of 3- and 4-member ensembles, ZooKeeper, Corral and mixed (../seeds/ensemble_seeds.py),
# merged into corpus/ with -merge=1. Usage: make_corpus.sh [FUZZ_BUILD_DIR] [CORRAL_BIN]
exec "$(dirname "$0")/../seeds/make_corpus.sh" election "$@"
