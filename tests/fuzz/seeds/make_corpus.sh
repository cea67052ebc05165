#!/bin/bash
# Regenerates the seeds of one fuzz target from real servers and merges them into its corpus/
# (libFuzzer -merge=1: only inputs that add coverage are kept). Needs Apache ZooKeeper 3.8, a
# built corral-server and the clang fuzz build (tests/fuzz/README.md).
#
#   tests/fuzz/seeds/make_corpus.sh TARGET [FUZZ_BUILD_DIR] [CORRAL_BIN]
#
# TARGET: txn_log, snapshot, config, election, quorum or admin_http. FUZZ_BUILD_DIR defaults to
# ./build-fuzz, CORRAL_BIN to build/bin/corral-server. The raw seeds are left in a temp folder
# (printed) for inspection.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=$1
build=${2:-$root/build-fuzz}
corral=${3:-$root/build/bin/corral-server}
seeds=$(mktemp -d /tmp/corral-fuzz-seeds-XXXXXX)
case $target in
  txn_log|snapshot) /usr/bin/python3 "$here/data_dir_seeds.py" "$seeds" --corral-bin "$corral"; dir=$seeds/$target ;;
  election|quorum) /usr/bin/python3 "$here/ensemble_seeds.py" "$seeds" --corral-bin "$corral"; dir=$seeds/$target ;;
  admin_http) /usr/bin/python3 "$here/http_seeds.py" "$seeds" --corral-bin "$corral"; dir=$seeds/$target ;;
  config)
    /usr/bin/python3 "$here/data_dir_seeds.py" "$seeds" --corral-bin "$corral"
    /usr/bin/python3 "$here/ensemble_seeds.py" "$seeds" --corral-bin "$corral"
    /usr/bin/python3 "$root/tests/fuzz/config/make_corpus.py" "$seeds/config-input" "$seeds"
    dir=$seeds/config-input ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
mkdir -p "$root/tests/fuzz/$target/corpus"
nice -n 10 "$build/bin/${target}_fuzzer" -merge=1 -max_len=262144 "$root/tests/fuzz/$target/corpus" "$dir"
echo "raw seeds: $dir"
