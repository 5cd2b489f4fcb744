#!/bin/sh
# Runs every benchmark: bench/*/run.sh scripts and the compiled bench programs in
# BUILD_DIR/bench. Benchmarks print figures and ratios; nothing is asserted.
# Usage: sh scripts/bench.sh [BUILD_DIR]
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
status=0
for script in "$ROOT"/bench/*/run.sh; do
  [ -f "$script" ] || continue
  echo "== $script"
  sh "$script" "$BUILD" || status=1
done
for prog in "$BUILD"/bench/bench-*; do
  [ -x "$prog" ] || continue
  echo "== $prog"
  "$prog" || status=1
done
exit $status
