#!/bin/sh
# Runs every benchmark: the compiled BUILD/bench/bench-* programs and the bench/*/run.sh
# scripts (which start their own peers). Each prints its figures and ratios; nothing is
# asserted. BENCH_SECONDS sets the length of each measurement of the compiled ones.
set -eu
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
status=0
for prog in "$build"/bench/bench-*; do
  [ -x "$prog" ] || continue
  echo "== $(basename "$prog")"
  "$prog" ${BENCH_SECONDS:-1} || status=1
  echo
done
for script in "$top"/bench/*/run.sh; do
  [ -f "$script" ] || continue
  echo "== bench/$(basename "$(dirname "$script")")"
  sh "$script" "$build" || status=1
  echo
done
exit $status
