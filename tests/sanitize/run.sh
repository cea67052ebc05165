#!/usr/bin/env bash
# Builds the whole tree with sanitizers and runs the unit tests and the end-to-end suites on it
# (standalone, and 3-member ensembles), failing on any sanitizer report.
#
#   bash tests/sanitize/run.sh address [build-dir]   # ASan + UBSan (default build-dir: build-asan)
#   bash tests/sanitize/run.sh thread  [build-dir]   # TSan (default build-dir: build-tsan)
#
# Reports go to files (log_path), one per process, in <build-dir>/sanitizer-reports; the run
# fails if any is there at the end, and prints them. Suppressions (tests/sanitize/*.supp) name
# frames in third-party libraries only, each with its reason. Not part of CI (see README.md):
# an ASan build and run take longer than CI's budget on 2 cores.
set -euo pipefail
mode=${1:?usage: run.sh address|thread [build-dir]}
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$mode" in
  address) build=${2:-$root/build-asan} ;;
  thread) build=${2:-$root/build-tsan} ;;
  *) echo "run.sh: mode must be address or thread" >&2; exit 64 ;;
esac
jobs=${CORRAL_JOBS:-2}
reports="$build/sanitizer-reports"

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_SANITIZE="$mode"
cmake --build "$build" -j "$jobs"
rm -rf "$reports"
mkdir -p "$reports"

supp="$root/tests/sanitize"
common="log_path=$reports/report:print_summary=1"
if [ "$mode" = address ]; then
  # verify_asan_link_order=0: tests/clockshift's LD_PRELOAD shim comes before the ASan runtime.
  # quarantine_size_mb=64: the memory-bound tests allow for it (corral_rss_allowance).
  export ASAN_OPTIONS="$common:halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:verify_asan_link_order=0:quarantine_size_mb=64"
  export UBSAN_OPTIONS="$common:halt_on_error=1:print_stacktrace=1"
  export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
else
  # history_size: the pipeline's strands hand work between threads far apart in time.
  export TSAN_OPTIONS="$common:halt_on_error=0:history_size=4:second_deadlock_stack=1:suppressions=$supp/tsan.supp"
fi
# Slower binaries: the harness's start and stop timeouts are scaled by this factor.
export CORRAL_TEST_SLOWDOWN=${CORRAL_TEST_SLOWDOWN:-3}
export CORRAL_TEST_SANITIZER=$mode

status=0
skip=()
if [ "$mode" = thread ]; then
  # RocksDB (Debian's librocksdb, not built with TSan) does its work on its own threads with
  # synchronization TSan cannot see, in memory it allocates: the races reported in the unit
  # tests that open a database are inside it, and no suppression reaches a report whose only
  # RocksDB frame is where its heap block was allocated. Those tests run under ASan + UBSan.
  skip=(-E '/rocksdb|^RocksdbStorageTest\.')
fi
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 "${skip[@]}" || status=1

export CORRAL_BIN="$build/bin/corral-server"
export CORRAL_FIXTURE_PLUGIN_DIR="$build/tests/fixtures/plugins"
cd "$root"
echo "== end-to-end (standalone) on the $mode build =="
/usr/bin/python3 -m pytest tests/integration -q --impl corral -p no:cacheprovider || status=1
echo "== ensembles (3 members) on the $mode build =="
# The files come first: pytest reads tests/ensemble/conftest.py (which adds --impl) from them.
/usr/bin/python3 -m pytest -q -p no:cacheprovider \
  tests/ensemble/test_ensemble_basic.py tests/ensemble/test_faults.py::test_faults_seeded \
  tests/ensemble/test_power_loss_ensemble.py tests/ensemble/test_observers.py --impl corral || status=1

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
  echo "== sanitizer reports ($mode) =="
  for f in $found; do echo "--- $f"; cat "$f"; done
  status=1
else
  echo "== no sanitizer report ($mode) =="
fi
exit $status
