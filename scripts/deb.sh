#!/bin/sh
# Builds the Debian packages kedge and libkedge-dev (debian/) from a copy of this tree, so that
# dpkg-buildpackage's results (written next to the source tree) land in OUT, not beside the
# checkout; then runs lintian on them. Usage: scripts/deb.sh OUT   (make deb: OUT=build/deb)
# Needs dpkg-dev, debhelper, lintian and the Build-Depends of debian/control.
set -eu
OUT=${1:?usage: scripts/deb.sh OUT}
SRC=$(cd "$(dirname "$0")/.." && pwd)
for t in dpkg-buildpackage dh; do
  command -v "$t" >/dev/null 2>&1 || {
    echo "deb.sh: $t is missing (apt-get install dpkg-dev debhelper)" >&2
    exit 1
  }
done
version=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
rm -rf "$OUT/src" "$OUT"/*.deb "$OUT"/*.changes "$OUT"/*.buildinfo
mkdir -p "$OUT/src/kedge-$version"
# The tree as it is (uncommitted changes included), without build directories and git.
(cd "$SRC" && tar --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - .) |
  (cd "$OUT/src/kedge-$version" && tar -xf -)
(cd "$OUT/src/kedge-$version" && dpkg-buildpackage -us -uc -b) >"$OUT/build.log" 2>&1 || {
  tail -30 "$OUT/build.log" >&2
  echo "deb.sh: dpkg-buildpackage failed; the whole log is $OUT/build.log" >&2
  exit 1
}
mv "$OUT"/src/*.deb "$OUT"/src/*.changes "$OUT"/src/*.buildinfo "$OUT"/
rm -rf "$OUT/src"
ls "$OUT"/*.deb
if command -v lintian >/dev/null 2>&1; then
  # Errors fail the build; warnings are listed (docs/packaging.md says why each remains).
  lintian --fail-on error --suppress-tags-from-file "$SRC/debian/lintian-known" \
    "$OUT"/kedge_"$version"_*.changes
else
  echo "deb.sh: lintian is not installed: not checked" >&2
fi
