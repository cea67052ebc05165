#!/bin/bash
# Seeds of quorum_fuzzer: quorum-port traffic (DIFF, SNAP, proposals, informs, requests, reconfig activations) of 3- and 4-member ensembles (../seeds/ensemble_seeds.py),
# merged into corpus/ with -merge=1. Usage: make_corpus.sh [FUZZ_BUILD_DIR] [CORRAL_BIN]
exec "$(dirname "$0")/../seeds/make_corpus.sh" quorum "$@"
