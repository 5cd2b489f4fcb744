#!/bin/sh
# Runs every benchmark and writes one report (docs/performance.md): the compiled
# BUILD/bench/bench-* programs and the bench/*/run.sh scripts (which start their own peers).
# Each prints its figures and ratios as before, and writes its result file (KEDGE_BENCH_OUT,
# bench/report/kbench.py); then the report is built from them:
#   bench/results/<UTC date>-<host>/report.md, report.json, one SVG per curve (gnuplot),
#   machine.json, logs/<bench>.log. Nothing is asserted: a benchmark that fails is named in
#   the report and the exit status, the others still run.
# Usage: scripts/bench.sh [--quick] [--out DIR] [--only NAME[,NAME...]] [BUILD_DIR]
#   --quick  one run per figure, short measurements, key store curve to 100k keys: a smoke run
#            of all benchmarks in under 3 minutes on a 2-core machine (KEDGE_BENCH_QUICK=1)
#   (full)   3 runs per figure (KEDGE_BENCH_RUNS=3), the key store curve to 10M keys for SQLite
#            (1M for Redis): under 30 minutes on the same machine
#   --out    the result directory (default bench/results/<UTC date>-<host>)
#   --only   these benchmarks only (kdf, suci, keystore, sbi, ecs, aka, keyrequest, attack,
#            revoke, import, ...)
# env: BENCH_DIR: where the SQLite files go (default /var/tmp: a disk, not tmpfs).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KBENCH="/usr/bin/python3 $top/bench/report/kbench.py"
quick=0 out= only= build=build
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --only) only=${2:?--only needs names}; shift ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench.sh: unknown option $1 (--quick, --out DIR, --only NAMES)" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
[ -d "$build/bench" ] || { echo "bench.sh: $build/bench missing: build first (make)" >&2; exit 2; }
build=$(cd "$build" && pwd)
out=${out:-$top/bench/results/$(date -u +%Y%m%dT%H%MZ)-$(hostname -s)}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
export BENCH_DIR=${BENCH_DIR:-/var/tmp}
if [ "$quick" = 1 ]; then
  runs=1
  export KEDGE_BENCH_QUICK=1
  secs=0.3 suci_secs=1 curve=10000,100000
else
  runs=3
  unset KEDGE_BENCH_QUICK
  secs=${BENCH_SECONDS:-1} suci_secs=1 curve=10000,100000,1000000,10000000
fi
export KEDGE_BENCH_RUNS=$runs
wanted() { [ -z "$only" ] || case ",$only," in *",$1,"*) true ;; *) false ;; esac; }

# Short settings of the scripts for --quick (their own defaults otherwise); bench/ecs, bench/aka
# and bench/keyrequest shorten themselves under KEDGE_BENCH_QUICK=1.
quick_env() {
  case $1 in
    sbi) echo "REQUESTS=20000" ;;
    attack) echo "SECS=3 PROBES=12 IDLE=300" ;;
    revoke) echo "ROUNDS=10" ;;
    import) echo "N=50000" ;;
  esac
}

$KBENCH machine "$out" before --runs "$runs" $([ "$quick" = 1 ] && echo --quick)
echo "bench.sh: $([ "$quick" = 1 ] && echo quick || echo full) run, $runs run(s) per figure, into $out; load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0 failed= logs=
t_start=$(date +%s)

# The compiled programs: one process per run, each run's result file merged into $out.
for prog in "$build"/bench/bench-*; do
  [ -x "$prog" ] || continue
  name=${prog##*/bench-}
  [ -f "$top/bench/$name/run.sh" ] && continue # driven by its run.sh (bench-ecs, bench-keyrequest...)
  wanted "$name" || continue
  echo "== $name"
  log=$out/logs/$name.log
  : >"$log"
  r=1
  while [ $r -le $runs ]; do
    tmp=$(mktemp -d)
    args=$secs
    [ "$name" = suci ] && args=$suci_secs
    # the key store curve once (its first run), not once per run: it takes minutes at 10M
    { KEDGE_BENCH_OUT=$tmp KEYSTORE_CURVE=$([ "$name" = keystore ] && [ $r = 1 ] && echo "$curve") \
        "$prog" "$args" 2>&1 || echo "$?" >"$tmp/failed"; } | tee -a "$log"
    [ ! -f "$tmp/failed" ] || { status=1; failed="$failed $name"; }
    [ -f "$tmp/$name.json" ] && $KBENCH merge "$tmp/$name.json" "$out/$name.json"
    rm -rf "$tmp"
    r=$((r + 1))
  done
  logs="$logs $log"
  echo
done

# The scripts: each makes its KEDGE_BENCH_RUNS runs itself (they share an expensive set-up).
for script in "$top"/bench/*/run.sh; do
  [ -f "$script" ] || continue
  name=$(basename "$(dirname "$script")")
  wanted "$name" || continue
  echo "== bench/$name"
  log=$out/logs/$name.log
  t0=$(date +%s)
  rm -f "$out/logs/$name.failed"
  { env KEDGE_BENCH_OUT="$out" $([ "$quick" = 1 ] && quick_env "$name") \
      sh "$script" "$build" 2>&1 || echo "$?" >"$out/logs/$name.failed"; } | tee "$log"
  [ ! -f "$out/logs/$name.failed" ] || { status=1; failed="$failed $name"; }
  echo "   ($(($(date +%s) - t0)) s)"
  logs="$logs $log"
  echo
done

$KBENCH machine "$out" after
[ -z "$failed" ] || echo "bench.sh: failed:$failed" | tee "$out/logs/failed.log"
$KBENCH report "$out" --log $logs
echo "bench.sh: $(($(date +%s) - t_start)) s; report: $out/report.md"
exit $status
