#!/usr/bin/env bash
# Builds Corral and runs every test: GoogleTest units and fixture checks (ctest), then the
# end-to-end suites (pytest) against corral-server and against Apache ZooKeeper 3.8 (the
# reference run). Usage: bash tests/run-all.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
jobs=${CORRAL_JOBS:-2}

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build" -j "$jobs"
# A test that fails is run once more before the run fails: a few socket- and timer-timing unit
# tests (StallTest.OutputThatStopsMoving..., seen failing once in ~6 CI runs on 2 busy cores)
# can lose a race under full parallel load. A real defect fails both times.
ctest --test-dir "$build" --output-on-failure -j "$jobs" --repeat until-pass:2

# The SDK example, built out of tree against the installed SDK only (as a plugin author
# would), then its conformance suite.
prefix="$build/sdk-prefix"
cmake --install "$build" --prefix "$prefix" > /dev/null
cmake -S "$root/sdk/examples/acl_token" -B "$build/example-acl-token" -G Ninja \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$build/example-acl-token"
ctest --test-dir "$build/example-acl-token" --output-on-failure
export CORRAL_EXAMPLE_PLUGIN_DIR="$build/example-acl-token"

export CORRAL_BIN="$build/bin/corral-server"
export CORRAL_FIXTURE_PLUGIN_DIR="$build/tests/fixtures/plugins"
cd "$root"
# Kazoo and pytest are Debian packages, visible only to Debian's interpreter.
echo "== end-to-end: Apache ZooKeeper 3.8 (reference run) =="
/usr/bin/python3 -m pytest tests/integration -q --impl zookeeper
echo "== end-to-end: corral-server =="
/usr/bin/python3 -m pytest tests/integration -q --impl corral
# The same suite on the second storage plugin (tests of memlog's file formats skip, the
# storage.rocksdb tests run).
echo "== end-to-end: corral-server with storage=rocksdb =="
/usr/bin/python3 -m pytest tests/integration -q --impl corral --storage rocksdb
# Multi-process ensembles (ZAB): 3 and 5 members, mixed Corral + ZooKeeper, rolling
# replacement; the same tests with every member ZooKeeper are the reference run.
echo "== ensembles: Apache ZooKeeper 3.8 (reference run) =="
/usr/bin/python3 -m pytest tests/ensemble -q --impl zookeeper
echo "== ensembles: corral-server =="
/usr/bin/python3 -m pytest tests/ensemble -q --impl corral
