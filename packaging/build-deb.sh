#!/usr/bin/env bash
# Builds Corral's Debian packages and checks them with lintian.
#
#   bash packaging/build-deb.sh OUTDIR
#
# Installs the build dependencies (packaging/install-deps.sh and Debian's packaging tools),
# stages the source tree with packaging/debian as debian/, runs dpkg-buildpackage -us -uc -b
# (debhelper, dh with CMake) and leaves every .deb (and the -dbgsym .ddeb files, .buildinfo and
# .changes) in OUTDIR, with lintian's report in OUTDIR/lintian.txt. Fails when lintian reports
# an error or a warning.
#
# Environment:
#   CORRAL_JOBS          parallel build jobs (default 2)
#   CORRAL_DEB_WORKDIR   where to stage (default: a new temporary folder, removed afterwards);
#                        given, it is kept and a second build reuses the compiled objects
#   CORRAL_DEB_VERSION   package version to build instead of debian/changelog's (a new
#                        changelog entry is added in the staged copy): an upgrade to test
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 64
fi
root=$(cd "$(dirname "$0")/.." && pwd)
outdir=$(realpath -m "$1")
jobs=${CORRAL_JOBS:-2}

bash "$root/packaging/install-deps.sh"
tools=(debhelper dpkg-dev lintian man-db)
missing=()
for package in "${tools[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "build-deb: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
if [ -n "${CORRAL_DEB_WORKDIR:-}" ]; then
  workdir=$(realpath -m "$CORRAL_DEB_WORKDIR")
  mkdir -p "$workdir"
  keep_workdir=1
else
  workdir=$(mktemp -d /tmp/corral-deb.XXXXXX)
  keep_workdir=0
fi
cleanup() { if [ "$keep_workdir" = 0 ]; then rm -rf "$workdir"; fi; }
trap cleanup EXIT

# Stage the sources: the checkout's files as they are in the working tree (tracked and new,
# not ignored, not deleted), never build trees. A kept work folder keeps only its build tree
# (obj-*); tar keeps the files' times, so only what changed is compiled again.
stage="$workdir/corral"
mkdir -p "$stage"
find "$stage" -mindepth 1 -maxdepth 1 ! -name 'obj-*' -exec rm -rf {} +
if git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard \
     | while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done \
     | tar --null -T - -cf -) | tar -C "$stage" -xf -
else
  (cd "$root" && tar --exclude='./build*' --exclude='./.git' -cf - .) | tar -C "$stage" -xf -
fi
rm -rf "$stage/debian"
cp -a "$root/packaging/debian" "$stage/debian"

if [ -n "${CORRAL_DEB_VERSION:-}" ]; then
  version=$CORRAL_DEB_VERSION
  {
    echo "corral ($version) unstable; urgency=medium"
    echo
    echo "  * Rebuilt by packaging/build-deb.sh with CORRAL_DEB_VERSION set."
    echo
    echo " -- $(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Maintainer)  $(date -R)"
    echo
    cat "$root/packaging/debian/changelog"
  } > "$stage/debian/changelog"
fi

# A kept work folder keeps its build tree (-nc): only what changed is compiled again.
clean_flag=()
if [ "$keep_workdir" = 1 ] && [ -d "$stage/obj-$(dpkg-architecture -qDEB_HOST_GNU_TYPE)" ]; then
  clean_flag=(-nc)
fi
rm -f "$workdir"/*.deb "$workdir"/*.ddeb "$workdir"/*.buildinfo "$workdir"/*.changes
(cd "$stage" && dpkg-buildpackage -us -uc -b "-j$jobs" "${clean_flag[@]}")

mkdir -p "$outdir"
shopt -s nullglob
artifacts=("$workdir"/*.deb "$workdir"/*.ddeb "$workdir"/*.buildinfo "$workdir"/*.changes)
cp "${artifacts[@]}" "$outdir"/
echo "build-deb: corral $version packages in $outdir:"
(cd "$outdir" && ls -l ./*.deb ./*.ddeb 2>/dev/null)

# lintian on every package built (the .changes names them all, debug symbols included).
changes=("$outdir"/corral_"${version}"_*.changes)
lintian_status=0
lintian --fail-on error,warning --display-info --info "${changes[0]}" > "$outdir/lintian.txt" 2>&1 \
  || lintian_status=$?
cat "$outdir/lintian.txt"
if [ "$lintian_status" -ne 0 ]; then
  echo "build-deb: lintian reported errors or warnings (exit $lintian_status)" >&2
  exit 1
fi
echo "build-deb: lintian clean (no errors, no warnings)"
