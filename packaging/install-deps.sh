#!/usr/bin/env bash
# Installs every Debian package Corral needs to build, test and benchmark, on Debian 12.
# Idempotent: packages already present are left as they are. Run as root (or via sudo).
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.74-dev libspdlog-dev libfmt-dev libjemalloc-dev nlohmann-json3-dev zlib1g-dev libssl-dev libsnappy-dev libdeflate-dev librocksdb-dev libsystemd-dev
  libthrift-dev thrift-compiler
  googletest libgtest-dev libgmock-dev
)
# The reference server and real clients the tests compare against (the JDK compiles the
# stand-in metrics provider of tests/integration/java for the reference server); systemd-analyze
# and man check the service units; libfuse3 builds corral-crashfs, the power-loss filesystem of
# the durability tests (tests/crashfs).
test_packages=(
  zookeeper zookeeper-bin libzookeeper-mt-dev openjdk-17-jdk-headless
  python3 python3-kazoo python3-pytest python3-thrift
  python3-matplotlib openssl
  systemd man-db
  fuse3 libfuse3-dev
)

missing=()
for package in "${build_packages[@]}" "${test_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
echo "install-deps: installing ${missing[*]}"
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
