#!/bin/sh
# Runs every benchmark and writes one report (docs/performance.md): the compiled
# BUILD/bench/bench-* programs and the bench/*/run.sh scripts (which start their own peers).
# Each prints its figures and ratios as before, and writes its result file (KEDGE_BENCH_OUT,
# bench/report/kbench.py); then the report is built from them:
#   bench/results/<UTC date>-<host>/report.md, report.json, one SVG per curve (gnuplot),
#   machine.json, time.tsv, logs/<bench>.log. Nothing is asserted: a benchmark that fails is named in
#   the report and the exit status, the others still run.
# Usage: scripts/bench.sh [--quick] [--plan] [--out DIR] [--only NAME[,NAME...]] [BUILD_DIR]
#   --quick  one run per figure, short measurements, key store curve to 100k keys: a smoke run
#            of all benchmarks in under 3 minutes on a 2-core machine (KEDGE_BENCH_QUICK=1)
#   (full)   3 runs per figure (KEDGE_BENCH_RUNS=3), the key store curve to 10M keys for SQLite
#            (1M for Redis): under 30 minutes on the same machine
#   --out    the result directory (default bench/results/<UTC date>-<host>)
#   --plan   print the planned time of each benchmark (its formula) and the total; run nothing
#   --only   these benchmarks only (kdf, suci, keystore, sbi, ecs, aka, keyrequest, attack,
#            revoke, import, ...)
# env: BENCH_DIR: where the SQLite files go (default /var/tmp: a disk, not tmpfs).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KBENCH="/usr/bin/python3 $top/bench/report/kbench.py"
quick=0 out= only= build=build plan_only=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1 ;;
    --plan) plan_only=1 ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --only) only=${2:?--only needs names}; shift ;;
    -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "bench.sh: unknown option $1 (--quick, --out DIR, --only NAMES, --plan)" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
[ -d "$build/bench" ] || { echo "bench.sh: $build/bench missing: build first (make)" >&2; exit 2; }
build=$(cd "$build" && pwd)
out=${out:-$top/bench/results/$(date -u +%Y%m%dT%H%MZ)-$(hostname -s)}
if [ "$plan_only" = 0 ]; then
  mkdir -p "$out/logs"
  out=$(cd "$out" && pwd)
fi
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

# ---- the time budget (docs/performance.md "Time budget") ----
# A full run must take under 30 minutes and --quick under 3 on a quiet 2-core machine. plan NAME
# prints one benchmark's planned seconds and how they add up: its configured durations (rounds x
# points x seconds, from the same defaults its program or script uses, and the environment),
# counts divided by the rates the 2-core machine gives, and its set-up (daemons, peers,
# populating) as measured there (bench/results/<run>/time.tsv, `actual` column). The plan is
# printed at the start; report.md's "Time" table puts the actual time of each benchmark beside it.
budget=$([ "$quick" = 1 ] && echo 180 || echo 1800)
# setting NAME VAR DEFAULT: the value the benchmark will see (quick_env, the environment, its default)
setting() {
  v=
  [ "$quick" = 1 ] && v=$(quick_env "$1" | tr ' ' '\n' | sed -n "s/^$2=//p")
  [ -n "$v" ] || v=$(eval "echo \${$2:-}")
  echo "${v:-$3}"
}
count() { echo "$1" | tr ', ' '\n\n' | grep -c .; }
total() { echo "$1" | tr ', ' '\n\n' | awk -v max="${2:-0}" 'NF { s += (max && $1 > max) ? max : $1 } END { print s + 0 }'; }
plan() { # plan NAME -> "SECONDS FORMULA"
  local q r n d w pt rr ni cm k nt nl ck sc pr ro c rmax rs cc cn cur rq e f
  q=$quick r=$runs
  case $1 in
    kdf) f="$r x (5 operations x best of 3 x $secs s + 0.5)" e="$r * (15 * $secs + 0.5)" ;;
    suci) f="$r x (3 rounds x (5 + 2/3) measurements x $suci_secs s + 1)" e="$r * (17 * $suci_secs + 1)" ;;
    keystore)
      c=$curve
      rmax=${KEYSTORE_CURVE_REDIS_MAX:-1000000}
      rs=$(echo "$c" | tr ',' '\n' | awk -v m="$rmax" 'NF && $1 <= m')
      f="$r x (6 x $secs s + 3 set-up); curve once: SQLite bulk load of $(total "$c") rows (each size from empty) at 10 us + $(count "$c") sizes x $r x $secs s; Redis $(echo "$rs" | tail -1) puts at 50 us + $(count "$rs") sizes x $r x $secs s"
      e="$r * (6 * $secs + 3) + $(total "$c") * 10e-6 + $(count "$c") * $r * $secs + $(echo "$rs" | tail -1) * 50e-6 + $(count "$rs") * $r * $secs" ;;
    sbi)
      n=$(setting sbi REQUESTS 100000)
      f="$r x 3 servers x ($n requests at 60,000/s + 1) + 3 set-up" e="$r * 3 * ($n / 60000 + 1) + 3" ;;
    ecs)
      n=$([ "$q" = 1 ] && echo "${N:-1000}" || echo "${N:-20000}")
      rr=$([ "$q" = 1 ] && echo "${RUNS:-1}" || echo "${RUNS:-3}")
      cc=$([ "$q" = 1 ] && echo "${CURVE_CLIENTS:-10 100 1000}" || echo "${CURVE_CLIENTS:-10 100 1000 10000}")
      cn=$([ "$q" = 1 ] && echo "${CURVE_N:-300}" || echo "${CURVE_N:-4000}")
      cur=$(echo "$cc" | tr ' ' '\n' | awk -v n="$cn" 'NF { s += ($1 * 2 > n ? $1 * 2 : n) } END { print s + 0 }')
      rq=$([ "$q" = 1 ] && echo $((n * 2)) || echo "$n")
      f="tool check 10 x $((n * 5)) GETs at 60,000/s + $rr rounds x $n handshakes at 2,500/s (kedge-ecsd), 1,000/s (stunnel4), 2,000/s (s_server) + EDGE-4: $n handshakes at 2,500/s, $rq requests at 1,500/s (kedge-ecsd) and 700/s (stunnel4 + nginx) + curves $cur handshakes x 4 servers at 1,500/s + ${COLD:-2000} cold at 500/s + 10 set-up"
      e="10 * $n * 5 / 60000 + $rr * ($n / 2500 + $n / 1000 + $n / 2000 + $n / 4 / 5000) + $n / 2500 + $rq / 1500 + $rq / 700 + $cur * 4 / 1500 + ${COLD:-2000} / 500 + 10" ;;
    aka)
      d=$([ "$q" = 1 ] && echo "${DURATION:-0.8}" || echo "${DURATION:-10}")
      w=$([ "$q" = 1 ] && echo "${WARMUP:-0.3}" || echo "${WARMUP:-1}")
      pt=$([ "$q" = 1 ] && echo "${POINT:-0.8}" || echo "${POINT:-4}")
      rr=$([ "$q" = 1 ] && echo "${ROUNDS:-1}" || echo "${ROUNDS:-3}")
      ni=$(count "${INFLIGHT:-1 4 16 24 32 48 64 128 256}")
      cm=$([ "$q" = 1 ] && echo 300 || echo "${COMMITS:-2000}")
      f="echo $d s + $cm commits at 387/s + curve $rr rounds x $ni points x (2 x $w + 1.5 x $pt s) + peak $w+$d s + light $w+$d/2 s + peak without edge keys $w+$d s + 17 set-up"
      e="$d + $cm / 387 + $rr * $ni * (2 * $w + 1.5 * $pt) + ($w + $d) + ($w + $d / 2 + 0.5) + ($w + $d) + 17" ;;
    keyrequest)
      k=$([ "$q" = 1 ] && echo "${KEYS:-10000}" || echo "${KEYS:-1000000}")
      d=$([ "$q" = 1 ] && echo "${DURATION:-0.8}" || echo "${DURATION:-5}")
      w=$([ "$q" = 1 ] && echo "${WARMUP:-0.3}" || echo "${WARMUP:-2}")
      rr=$([ "$q" = 1 ] && echo "${ROUNDS:-1}" || echo "${ROUNDS:-3}")
      nt=$([ "$q" = 1 ] && echo 3 || echo 5)
      ck=$([ "$q" = 1 ] && echo 0 || echo 4)
      nl=$(count "${LOADS:-10 50 80}")
      ns=$(count "${SUSTAIN_STEPS:-60 75 90 100}")
      f="populate 2 x $k keys at 20,000/s + tool check $ck x ($w+$d s) + peak $rr rounds x $nt targets x ($w+$d s) + open-loop peak up to $ns steps x 3 targets x ($w+$d s) + open loop $rr x $nl loads x 4 targets x ($w+$d s) + 15 set-up"
      e="2 * $k / 20000 + ($ck + $rr * $nt + $ns * 3 + $rr * $nl * 4) * ($w + $d) + 15" ;;
    attack)
      sc=$(setting attack SECS 10) pr=$(setting attack PROBES 60)
      f="3 phases x $sc s + 1 + 2 probes x $pr/10 s + 12 set-up" e="3 * $sc + 1 + 2 * $pr / 10 + 12" ;;
    revoke)
      ro=$(setting revoke ROUNDS 60)
      f="$ro rounds x 0.35 s (3 s_client handshakes, 1 registration) + 8 set-up" e="$ro * 0.35 + 8" ;;
    import)
      n=$(setting import N 1000000)
      f="CSV of $n + $r x $n x (8 us kedge + 4 us sqlite3 + 2 us export) + 3 set-up" e="$n * 2e-6 + $r * $n * 14e-6 + 3" ;;
    *) f="no plan" e=0 ;;
  esac
  echo "$(awk "BEGIN { printf \"%d\", ($e) + 0.5 }") $f"
}
names=
for prog in "$build"/bench/bench-*; do
  name=${prog##*/bench-}
  [ -x "$prog" ] && [ ! -f "$top/bench/$name/run.sh" ] && wanted "$name" && names="$names $name"
done
for script in "$top"/bench/*/run.sh; do
  name=$(basename "$(dirname "$script")")
  [ -f "$script" ] && wanted "$name" && names="$names $name"
done
planned_total=0
echo "bench.sh: planned time (budget $budget s on a quiet 2-core machine):"
for name in $names; do
  p=$(plan "$name")
  printf '  %-11s %5s s  %s\n' "$name" "${p%% *}" "${p#* }"
  planned_total=$((planned_total + ${p%% *}))
done
echo "  total       $planned_total s of $budget s$([ "$planned_total" -gt "$budget" ] && echo ": OVER BUDGET")"
[ "$plan_only" = 0 ] || exit 0
printf 'name\tplanned_s\tactual_s\tplan\n' >"$out/time.tsv"
# timed NAME SECONDS: one benchmark's planned and actual time into time.tsv
timed() {
  p=$(plan "$1")
  printf '%s\t%s\t%s\t%s\n' "$1" "${p%% *}" "$2" "${p#* }" >>"$out/time.tsv"
}

$KBENCH machine "$out" before --runs "$runs" $([ "$quick" = 1 ] && echo --quick)
echo "bench.sh: $([ "$quick" = 1 ] && echo quick || echo full) run, $runs run(s) per figure, into $out; load average $(cut -d' ' -f1-3 /proc/loadavg)"
status=0 failed= logs=
t_start=$(date +%s)

# The compiled programs: one process per run, each run's result file merged into $out.
run_prog() {
  prog=$1
  name=${prog##*/bench-}
  echo "== $name"
  log=$out/logs/$name.log
  : >"$log"
  t0=$(date +%s)
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
  timed "$name" $(($(date +%s) - t0))
  echo "   ($(($(date +%s) - t0)) s)"
  logs="$logs $log"
  echo
}
# bench/keystore runs last: its curve loads 10M rows into SQLite and 1M into Redis, and the
# 5G AKA curve measured right after it was about a fifth slower than on its own (issue 17,
# docs/performance.md "Time budget"); nothing measured after it can inherit that.
for prog in "$build"/bench/bench-*; do
  [ -x "$prog" ] || continue
  name=${prog##*/bench-}
  [ -f "$top/bench/$name/run.sh" ] && continue # driven by its run.sh (bench-ecs, bench-keyrequest...)
  [ "$name" != keystore ] || continue
  wanted "$name" || continue
  run_prog "$prog"
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
  timed "$name" $(($(date +%s) - t0))
  echo "   ($(($(date +%s) - t0)) s)"
  logs="$logs $log"
  echo
done
[ ! -x "$build/bench/bench-keystore" ] || ! wanted keystore || run_prog "$build/bench/bench-keystore"

$KBENCH machine "$out" after
[ -z "$failed" ] || echo "bench.sh: failed:$failed" | tee "$out/logs/failed.log"
$KBENCH report "$out" --log $logs
echo "bench.sh: $(($(date +%s) - t_start)) s; report: $out/report.md"
exit $status
