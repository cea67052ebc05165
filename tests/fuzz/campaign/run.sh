#!/usr/bin/env bash
# One leg of a fuzz campaign: runs a libFuzzer target until the campaign's total for it reaches
# TOTAL executions (default 10,000,000), over the kept corpus, new inputs in a work folder.
#
#   bash tests/fuzz/campaign/run.sh TARGET [TOTAL] [FUZZ_BUILD_DIR] [WORK_DIR]
#
# TARGET is a folder of tests/fuzz (txn_log, snapshot, config, election, quorum, admin_http,
# frontend_jute, frontend_thrift). Each leg appends runN.log to WORK_DIR/TARGET (default
# /var/tmp/corral-fuzz); summary.py adds the legs up. A leg may be stopped at any time (kill its
# PID): the next one goes on from the executions logged. Afterwards merge the new inputs into
# the corpus (README.md) and put any crash input, fixed, into TARGET/regressions.
set -euo pipefail
target=${1:?usage: run.sh TARGET [TOTAL] [FUZZ_BUILD_DIR] [WORK_DIR]}
total=${2:-10000000}
root=$(cd "$(dirname "$0")/../../.." && pwd)
build=${3:-$root/build-fuzz}
work=${4:-/var/tmp/corral-fuzz}/$target
case "$target" in
  frontend_jute) binary=frontend_jute_request_fuzzer ;;
  frontend_thrift) binary=frontend_thrift_call_fuzzer ;;
  *) binary=${target}_fuzzer ;;
esac
# -max_len: the largest input worth mutating per target (kept corpora stay small; a bigger
# input reaches no new code, it only runs slower).
case "$target" in
  txn_log|snapshot) max_len=16384 ;;
  frontend_jute|frontend_thrift) max_len=8192 ;;
  *) max_len=4096 ;;
esac
[ -x "$build/bin/$binary" ] || { echo "run.sh: no $build/bin/$binary (build with -DCORRAL_FUZZ=ON)" >&2; exit 2; }
mkdir -p "$work/new" "$work/artifacts"
done_so_far=$(/usr/bin/python3 "$root/tests/fuzz/campaign/summary.py" --work "$(dirname "$work")" --execs "$target")
left=$((total - done_so_far))
if [ "$left" -le 0 ]; then echo "$target: $done_so_far executions already"; exit 0; fi
n=1
while [ -e "$work/run$n.log" ]; do n=$((n + 1)); done
corpus="$root/tests/fuzz/$target/corpus"
echo "$target: leg $n, $left executions to go (log $work/run$n.log)"
# malloc_context_size=0: ASan's allocation stacks cost most of a short input's time.
ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0} nice -n "${CORRAL_FUZZ_NICE:-10}" \
  "$build/bin/$binary" -runs="$left" -max_len="$max_len" -timeout=30 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$work/new" "$corpus" 2>&1 |
  grep -v --line-buffered -E '^(CorruptData|error): ' > "$work/run$n.log" || true
# The decoders' own error lines (corral-logtool on a damaged file) are left out of the log.
tail -n 12 "$work/run$n.log" | grep -E '^#|stat::|crash-|ERROR' || true
if ls "$work/artifacts" | grep -q .; then echo "$target: findings in $work/artifacts" >&2; exit 1; fi
