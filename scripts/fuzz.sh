#!/bin/sh
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, starting from fuzz/corpus/<target>
# (kept in the tree) with the dictionary fuzz/<target>.dict when there is one, and a scratch corpus
# under BUILD. Findings land in BUILD/fuzz-findings/. CI (.ci/run) runs it with a few seconds each.
set -eu
build=${1:-build-fuzz}
seconds=${2:-60}
top=$(cd "$(dirname "$0")/.." && pwd)
found=0
mkdir -p "$build/fuzz-findings"
for target in "$build"/fuzz/fuzz-*; do
  [ -x "$target" ] || continue
  name=$(basename "$target")
  work="$build/fuzz-corpus/$name"
  mkdir -p "$work"
  seeds="$top/fuzz/corpus/$name"
  [ -d "$seeds" ] || seeds=""
  dict=""
  [ -f "$top/fuzz/$name.dict" ] && dict="-dict=$top/fuzz/$name.dict"
  echo "fuzz: $name for ${seconds}s"
  # shellcheck disable=SC2086 # $dict and $seeds: one word or none
  if ! "$target" -max_total_time="$seconds" -print_final_stats=1 $dict \
      -artifact_prefix="$build/fuzz-findings/$name-" "$work" $seeds 2>"$build/fuzz-$name.log"; then
    echo "fuzz: $name FAILED, see $build/fuzz-$name.log and $build/fuzz-findings/" >&2
    found=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/fuzz-$name.log" | sed 's/^/  /' || true
done
exit $found
