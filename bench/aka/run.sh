#!/bin/sh
# bench/aka: full 5G AKA runs per second (TS 33.501 6.1.3.2: POST ue-authentications, the
# UDM's vector with its SQN durably stored, PUT 5g-aka-confirmation, KSEAF compared, Kedge
# derived) with p50/p99 latency. kedge-udmd (SQLite, WAL, synchronous=FULL, group commit) and
# kedge-ausfd run as real daemons started here; the UE side is kedge-aka-load
# (tests/integration/aka-load.c: ue_core UEs on one event loop, SQNms in memory).
#
# Two peers measured in the same run, for context:
# - SQLite's commit rate with synchronous=FULL on the same file system (one fsync each): the
#   AKA rate a UDM could reach with one durable transaction per vector. Above it, the UDM's
#   group commit is what makes durable SQNs affordable; the UDM's own commit counter gives the
#   vectors per fsync.
# - The SBI runtime's plain POST echo rate (h2load against kedge-sbi-testd, same TLS 1.3 and
#   HTTP/2, one worker): one AKA costs four SBI exchanges (SEAF->AUSF twice, AUSF->UDM twice)
#   plus the client side, so echo/4 is a ceiling for AKA/s on the same cores.
# Nothing is asserted. All processes share this machine's CPUs (nproc below).
# Usage: sh bench/aka/run.sh [BUILD_DIR]
#   env: DURATION=10 WARMUP=1 UES=2000 CONCURRENCY=64 LIGHT=4 CLIENTS=2 UDM_WORKERS=1
#        AUSF_WORKERS=1 MAX_BATCH=256 (the UDM's group_commit.max_batch)
#        INFLIGHT="1 4 16 24 32 48 64 128 256" ROUNDS=3 POINT=4 (seconds per point of the curve)
#        UDMD=, AUSFD=, AKA_LOAD=: paths of another kedge-udmd, kedge-ausfd, kedge-aka-load to
#        measure (before/after a change, or a wrapper that runs it under valgrind; default the build's)
#        EDGE=1 (the AUSF derives and durably stores Kedge at each success, SQLite key store
#        with its group commit, as a run of SPEC.md 0 does; EDGE=0: no edge keys, as bench/aka
#        measured before issue 17's AKA work); with EDGE=1 the peak is measured again without
#        edge keys at the end (kedge-ausfd restarted; NO_EDGE_PEAK=0 leaves it out)
# Two operating points: CONCURRENCY registrations in flight (throughput), then LIGHT in flight
# for half as long (latency without queueing), each with where a run's time went (the daemons'
# own per-route request clocks; stages below). Then the curve: AKA rate, p50/p99 and the
# daemons' memory per registration in flight (RSS of kedge-ausfd + kedge-udmd during the run
# minus before any load, / in flight) at each INFLIGHT, ROUNDS rounds (median).
# With the load in a closed loop, mean latency = in flight / rate (Little's law): at 64 in flight
# and 5,200/s the mean alone is 12 ms, so p99 < 10 ms at >= 5,000/s needs fewer in flight, or
# more rate; at 1, 4 or 16 in flight 5,000/s would need a mean under 0.2, 0.8 or 3.2 ms. So the
# target is one figure (issue 17: "p99 < 10 ms at >= 5,000 runs/s"): aka.runs_per_s_at_p99_10ms,
# the highest rate on the curve (median over the rounds of each point) whose p99 (median) is
# below 10 ms, target >= 5000; the per-point rates and p99s carry none. KEDGE_BENCH_QUICK=1: one
# short round.
# KEDGE_BENCH_OUT=DIR: also DIR/aka.json (via bench/report/kbench.py).
set -eu
BUILD=${1:-build}
if [ "${KEDGE_BENCH_QUICK:-0}" = 1 ]; then
  DURATION=${DURATION:-0.8} WARMUP=${WARMUP:-0.3} ROUNDS=${ROUNDS:-1} POINT=${POINT:-0.8} UES=${UES:-600} ECHO_WARM=1000
fi
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-1}
INFLIGHT=${INFLIGHT:-1 4 16 24 32 48 64 128 256}
ROUNDS=${ROUNDS:-3}
POINT=${POINT:-4}
ECHO_WARM=${ECHO_WARM:-5000}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
UES=${UES:-2000}
CONCURRENCY=${CONCURRENCY:-64}
LIGHT=${LIGHT:-4}
CLIENTS=${CLIENTS:-2}
UDM_WORKERS=${UDM_WORKERS:-1}
AUSF_WORKERS=${AUSF_WORKERS:-1}
MAX_BATCH=${MAX_BATCH:-256}
EDGE=${EDGE:-1}
BIN=$BUILD/bin
AKA_LOAD=${AKA_LOAD:-$BIN/kedge-aka-load}
for prog in kedge kedge-udmd kedge-ausfd kedge-aka-load kedge-sbi-testd; do
  [ -x "$BIN/$prog" ] || { echo "bench/aka: $BIN/$prog missing (build with tests on)"; exit 1; }
done
. "$(dirname "$0")/../lib.sh"
bench_scratch

# start NAME PROGRAM CONFIG: runs it with --ports-file; sets NAME_PID, NAME_PORT and
# NAME_METRICS_PORT.
start() {
  prog=$2
  case $prog in */*) ;; *) prog=$BIN/$prog ;; esac
  "$prog" --config "$3" --ports-file "$T/$1.ports" 2>>"$T/$1.log" &
  PIDS="$PIDS $!"
  eval "$1_PID=$!"
  i=0
  while [ ! -s "$T/$1.ports" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  [ -s "$T/$1.ports" ] || { echo "bench/aka: $2 did not start:"; cat "$T/$1.log"; exit 1; }
  eval "$1_PORT=$(sed -n 's/^port=//p' "$T/$1.ports")"
  eval "$1_METRICS_PORT=$(sed -n 's/^metrics_port=//p' "$T/$1.ports")"
}
metric() { # metric NAME PORT
  curl -s --max-time 5 "http://127.0.0.1:$2/metrics" | grep "^$1 " | sed 's/.* //'
}

"$BIN/kedge" pki init "$T/pki" >/dev/null
"$BIN/kedge" master-key "$T/master.key" >/dev/null
SNN=5G:mnc001.mcc001.3gppnetwork.org

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
# --- peer 1: SQLite commits with synchronous=FULL, one row per transaction ---
COMMITS=${COMMITS:-2000}
[ "${KEDGE_BENCH_QUICK:-0}" = 1 ] && COMMITS=300
sqlite3 "$T/fsync.sqlite" "PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER);
  INSERT INTO t VALUES (1, 0);" >/dev/null
{
  echo "PRAGMA synchronous=FULL;"
  i=0
  while [ $i -lt $COMMITS ]; do echo "UPDATE t SET v = v + 1 WHERE k = 1;"; i=$((i + 1)); done
} >"$T/commits.sql"
t0=$(date +%s.%N)
sqlite3 "$T/fsync.sqlite" <"$T/commits.sql"
t1=$(date +%s.%N)
FSYNC_RATE=$(echo "$t0 $t1" | awk -v n=$COMMITS '{ printf "%.0f", n / ($2 - $1) }')

# --- peer 2: the SBI runtime's POST echo (h2load) ---
ECHO_RATE=?
if command -v h2load >/dev/null 2>&1; then
  cat >"$T/testd.yaml" <<EOF
log: {level: warn}
sbi:
  port: 0
  workers: 1
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt, client_verification: optional}
  metrics: {enabled: false}
EOF
  start TESTD kedge-sbi-testd "$T/testd.yaml"
  printf '{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"%s"}' "$SNN" >"$T/body.json"
  h2args="-c $CLIENTS -m $(( (CONCURRENCY + CLIENTS - 1) / CLIENTS )) -d $T/body.json -H content-type:application/json"
  h2load -n "$ECHO_WARM" $h2args "https://127.0.0.1:$TESTD_PORT/test/v1/echo" >/dev/null 2>&1 || true
  out=$(h2load -D "$DURATION" $h2args "https://127.0.0.1:$TESTD_PORT/test/v1/echo" 2>&1 || true)
  ECHO_RATE=$(echo "$out" | sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
  kill "$TESTD_PID" 2>/dev/null || true
fi

# --- 5G AKA: UDM + AUSF ---
cat >"$T/udm.yaml" <<EOF
log: {level: warn}
sbi:
  port: 0
  workers: $UDM_WORKERS
  tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}
udm:
  database: $T/udm.sqlite
  master_key: $T/master.key
  allowed_consumers: [ausf.kedge.test]
  group_commit: {max_batch: $MAX_BATCH}
EOF
"$BIN/kedge-aka-load" generate --count "$UES" --out "$T/subscribers.csv"
"$BIN/kedge-udmd" subscriber import --config "$T/udm.yaml" "$T/subscribers.csv" >/dev/null
start UDM "${UDMD:-kedge-udmd}" "$T/udm.yaml"
cat >"$T/ausf.yaml" <<EOF
log: {level: warn}
sbi:
  port: 0
  workers: $AUSF_WORKERS
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
udm:
  uri: https://127.0.0.1:$UDM_PORT
ue_authentication:
  # an unconfirmed context lives context_expiry; a confirmed authentication is kept for a DELETE
  # until edge.key_lifetime, up to max_confirmed (100,000 by default, ~336 B each: 34 MB when
  # full, docs/operations.md Memory). Filling that table took the first ~30 s of a run and
  # swamped the memory per registration in flight measured here; 1,000 fill in the warm-up.
  context_expiry: 2s
  max_confirmed: 1000
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
EOF
if [ "$EDGE" = 1 ]; then
  "$BIN/kedge" master-key "$T/ausf-master.key" >/dev/null
  cat >>"$T/ausf.yaml" <<EOF
edge:
  enabled: true
  derive: always
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf-master.key
keystore: "sqlite:$T/ausf-keys.sqlite"
EOF
fi
start AUSF "${AUSFD:-kedge-ausfd}" "$T/ausf.yaml"
RSS0=$(awk '/^VmRSS:/ {s += $2} END {print s + 0}' "/proc/$UDM_PID/status" "/proc/$AUSF_PID/status")
cat >"$T/ue.yaml" <<EOF
usim:
  supi: imsi-001010000000000
  k: 00000000000000000000000000000000
  opc: 00000000000000000000000000000000
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/unused.sqn
ausf:
  uri: https://127.0.0.1:$AUSF_PORT
  ca: $T/pki/ca.crt
  cert: $T/pki/seaf.crt
  key: $T/pki/seaf.key
  timeout: 10s
EOF
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read

echo "bench/aka: $(nproc) CPU(s) shared by the UE driver, kedge-ausfd ($AUSF_WORKERS worker, edge keys $([ "$EDGE" = 1 ] && echo "stored in SQLite" || echo off)) and kedge-udmd ($UDM_WORKERS worker, group_commit.max_batch $MAX_BATCH); $UES UEs over $CLIENTS connection(s), ${DURATION}s after ${WARMUP}s warm-up; load average $(cut -d' ' -f1-3 /proc/loadavg)"
# aka NAME IN_FLIGHT SECONDS: one measurement; sets NAME_rate, NAME_p50, NAME_p99, NAME_cpu (CPU
# microseconds per AKA run of the three processes together, from /proc: robust to other load
# on the machine, unlike the rate).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
SUCCESS='kedge_ausf_ue_authentications_total{result="success"}'
# durations PORT: the sum and count lines of the request-duration histograms of the daemon on
# PORT (/metrics: from a request's first header to its answer, per route)
durations() {
  curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | grep '^kedge_sbi_request_duration_seconds_\(sum\|count\){'
}
# stages FILE_BEFORE FILE_AFTER IN_FLIGHT RATE: where an AKA run's time went, from the daemons'
# own clocks over the same window (docs/performance-latency.md "Third round"): the means of the
# AUSF's two routes and of the UDM's two inside them; the rest of a run (mean = in flight / rate,
# Little's law) is outside the AUSF's clocks: the load tool, the wire, requests not yet read.
stages() {
  awk -v n="$3" -v rate="$4" 'FNR == NR { b[$1] = $2; next } { d[$1] = $2 - b[$1] }
    function mean(route, method,   k, c) {
      for (k in d) if (index(k, "_sum{method=\"" method "\",route=\"" route "\"}")) {
        c = k; sub(/_sum\{/, "_count{", c)
        return d[c] > 0 ? d[k] / d[c] * 1000 : 0
      }
      return 0
    }
    END {
      post = mean("/nausf-auth/v1/ue-authentications", "POST")
      put = mean("/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation", "PUT")
      run = rate > 0 ? n / rate * 1000 : 0
      printf "    where a run went (means): AUSF ue-authentications %.2f ms (UDM generate-auth-data %.2f), AUSF 5g-aka-confirmation %.2f ms (UDM auth-events %.2f), outside the AUSF'"'"'s clocks %.2f ms of the %.2f ms run\n",
        post, mean("/nudm-ueau/v1/{supiOrSuci}/security-information/generate-auth-data", "POST"),
        put, mean("/nudm-ueau/v1/{supi}/auth-events", "POST"), run - post - put, run
    }' "$1" "$2"
}
aka() {
  s0=$(metric "$SUCCESS" "$AUSF_METRICS_PORT")
  u0=$(ticks "$UDM_PID") a0=$(ticks "$AUSF_PID")
  { durations "$AUSF_METRICS_PORT"; durations "$UDM_METRICS_PORT"; } >"$T/$1.dur0"
  "$AKA_LOAD" run --config "$T/ue.yaml" --subscribers "$T/subscribers.csv" \
    --concurrency "$2" --clients "$CLIENTS" --warmup "$WARMUP" --duration "$3" \
    >"$T/$1.out" 2>"$T/$1.err" || true
  u1=$(ticks "$UDM_PID") a1=$(ticks "$AUSF_PID")
  s1=$(metric "$SUCCESS" "$AUSF_METRICS_PORT")
  { durations "$AUSF_METRICS_PORT"; durations "$UDM_METRICS_PORT"; } >"$T/$1.dur1"
  echo "  $2 in flight:"
  grep -v '^result ' "$T/$1.out" | sed 's/^aka-load: /    /'
  head -3 "$T/$1.err"
  result=$(grep '^result ' "$T/$1.out" || echo "result rate=0")
  stages "$T/$1.dur0" "$T/$1.dur1" "$2" "$(echo "$result" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')"
  eval "$1_rate=$(echo "$result" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')"
  eval "$1_p50=$(echo "$result" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')"
  eval "$1_p99=$(echo "$result" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')"
  eval "$1_n=$(echo "$result" | sed -n 's/.* registrations=\([0-9]*\).*/\1/p')"
  # the ticks cover the whole run (warm-up too): divided by the AKA runs the AUSF confirmed in
  # the same window, not by the measured registrations alone (that overstated the cost by the
  # warm-up's share: +37 % with KEDGE_BENCH_QUICK's 0.3 s + 0.8 s)
  eval "$1_daemons_ticks=$((u1 - u0 + a1 - a0))"
  eval "$1_ausf_ticks=$((a1 - a0))"
  eval "$1_udm_ticks=$((u1 - u0))"
  eval "$1_runs=$((s1 - s0))"
  eval "$1_load_cpu=$(echo "$result" | sed -n 's/.* cpu_us_per_run=\([0-9.]*\).*/\1/p')"
}
# --- the curve: rate, latency and memory vs registrations in flight ---
rss_kb() { awk '/^VmRSS:/ {s += $2} END {print s + 0}' "/proc/$UDM_PID/status" "/proc/$AUSF_PID/status"; }
curve() {
RSS_IDLE=$RSS0
echo "curve: $ROUNDS round(s) of ${POINT}s per point after ${WARMUP}s warm-up; RSS of kedge-ausfd + kedge-udmd before any load $RSS_IDLE kB:"
for r in $(seq "$ROUNDS"); do
  for n in $INFLIGHT; do
    "$AKA_LOAD" run --config "$T/ue.yaml" --subscribers "$T/subscribers.csv" \
      --concurrency "$n" --clients "$CLIENTS" --warmup "$WARMUP" --duration "$POINT" \
      >"$T/curve.out" 2>"$T/curve.err" &
    lp=$!
    # RSS in the middle of the measured window (the contexts of n registrations live)
    sleep "$(awk -v w="$WARMUP" -v d="$POINT" 'BEGIN {print w + d / 2}')"
    rss=$(rss_kb)
    rss_split="AUSF $(awk '/^VmRSS:/ {print $2}' "/proc/$AUSF_PID/status") + UDM $(awk '/^VmRSS:/ {print $2}' "/proc/$UDM_PID/status")"
    wait "$lp" || true
    result=$(grep '^result ' "$T/curve.out" || echo "result rate=0 p50_ms=0 p99_ms=0 failed=0")
    rate=$(echo "$result" | sed -n 's/.* rate=\([0-9.]*\).*/\1/p')
    p50=$(echo "$result" | sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p')
    p99=$(echo "$result" | sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p')
    failed=$(echo "$result" | sed -n 's/.* failed=\([0-9]*\).*/\1/p')
    per=$(awk -v a="$rss" -v b="$RSS_IDLE" -v n="$n" 'BEGIN {printf "%.0f", (a - b) * 1024 / n}')
    echo "$n $rate $p50 $p99 $per" >>"$T/curve.$n"
    printf '  round %d %4d in flight: %8.0f /s  p50 %7.2f ms  p99 %7.2f ms  RSS %d kB (%s): %s B per registration in flight%s\n' \
      "$r" "$n" "${rate:-0}" "${p50:-0}" "${p99:-0}" "$rss" "$rss_split" "$per" \
      "$([ "${failed:-0}" = 0 ] || echo "; $failed FAILED")"
  done
done
}
curve # first: the memory per registration in flight is read against the RSS before any load
v0=$(metric 'kedge_udm_auth_vectors_total{result="ok"}' "$UDM_METRICS_PORT")
c0=$(metric kedge_udm_sqn_commits_total "$UDM_METRICS_PORT")
aka peak "$CONCURRENCY" "$DURATION"
v1=$(metric 'kedge_udm_auth_vectors_total{result="ok"}' "$UDM_METRICS_PORT")
c1=$(metric kedge_udm_sqn_commits_total "$UDM_METRICS_PORT")
aka light "$LIGHT" "$(awk -v d="$DURATION" 'BEGIN {print d / 2 + 0.5}')"
awk -v rate="${peak_rate:-0}" -v p50="${peak_p50:-0}" -v p99="${peak_p99:-0}" \
  -v lrate="${light_rate:-0}" -v lp50="${light_p50:-0}" -v lp99="${light_p99:-0}" \
  -v conc="$CONCURRENCY" -v light="$LIGHT" -v v=$((v1 - v0)) -v c=$((c1 - c0)) \
  -v dticks="$peak_daemons_ticks" -v hz="$(getconf CLK_TCK)" -v n="${peak_runs:-0}" \
  -v aticks="$peak_ausf_ticks" -v uticks="$peak_udm_ticks" -v lcpu="${peak_load_cpu:-0}" \
  -v fs="$FSYNC_RATE" -v echo_rate="${ECHO_RATE:-?}" 'BEGIN {
  printf "%-58s %10.0f /s  p50 %.2f ms, p99 %.2f ms\n",
         "5G AKA runs (UE + AUSF + UDM, durable SQNs), " conc " in flight", rate, p50, p99
  printf "%-58s %10.0f /s  p50 %.2f ms, p99 %.2f ms\n",
         "5G AKA runs, " light " in flight (latency at light load)", lrate, lp50, lp99
  if (n > 0) {
    printf "%-58s %10.0f us CPU per AKA run (kedge-ausfd %.0f + kedge-udmd %.0f)\n", "daemons",
           dticks / hz / n * 1e6, aticks / hz / n * 1e6, uticks / hz / n * 1e6
    printf "%-58s %10.0f us CPU per AKA run (all three processes: %.0f)\n", "load tool (kedge-aka-load)",
           lcpu, dticks / hz / n * 1e6 + lcpu
  }
  if (c > 0)
    printf "%-58s %10.1f vectors per commit (%d vectors, %d commits: SQNs and AuthEvents, %.2f fsyncs per AKA run)\n",
           "UDM group commit", v / c, v, c, (n > 0 ? c / n : 0)
  printf "%-58s %10.0f /s  -> AKA/s is %.1fx that\n", "peer: SQLite commits, synchronous=FULL (one fsync each)", fs, (fs > 0 ? rate / fs : 0)
  if (echo_rate != "?" && (echo_rate > 0))
    printf "%-58s %10.0f /s  -> 4 x AKA/s is %.2f of that\n", "peer: SBI runtime POST echo (h2load, 1 worker)", echo_rate, (4 * rate / echo_rate)
}'

# --- the other flow: the same peak without edge keys, so both are visible in one run (issue 17) ---
if [ "$EDGE" = 1 ] && [ "${NO_EDGE_PEAK:-1}" = 1 ]; then
  kill "$AUSF_PID" 2>/dev/null || true
  wait "$AUSF_PID" 2>/dev/null || true
  sed '/^edge:/,$d' "$T/ausf.yaml" >"$T/ausf-noedge.yaml" # the edge block and keystore are last
  rm -f "$T/AUSF.ports"
  start AUSF "${AUSFD:-kedge-ausfd}" "$T/ausf-noedge.yaml"
  sed -i "s|^  uri: https://127.0.0.1:.*|  uri: https://127.0.0.1:$AUSF_PORT|" "$T/ue.yaml" # its new port
  aka noedge "$CONCURRENCY" "$DURATION"
  awk -v rate="${noedge_rate:-0}" -v p50="${noedge_p50:-0}" -v p99="${noedge_p99:-0}" -v conc="$CONCURRENCY" \
    -v dticks="$noedge_daemons_ticks" -v hz="$(getconf CLK_TCK)" -v n="${noedge_runs:-0}" \
    -v aticks="$noedge_ausf_ticks" -v uticks="$noedge_udm_ticks" -v lcpu="${noedge_load_cpu:-0}" 'BEGIN {
    printf "%-58s %10.0f /s  p50 %.2f ms, p99 %.2f ms\n",
           "5G AKA runs without edge keys, " conc " in flight", rate, p50, p99
    if (n > 0)
      printf "%-58s %10.0f us CPU per AKA run (kedge-ausfd %.0f + kedge-udmd %.0f; load tool %.0f)\n",
             "daemons without edge keys", dticks / hz / n * 1e6, aticks / hz / n * 1e6,
             uticks / hz / n * 1e6, lcpu
  }'
fi

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
med() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }
echo "curve, median of $ROUNDS (load average $LOAD_BEFORE before, $LOAD_AFTER after):"
best=
for n in $INFLIGHT; do
  rate=$(cut -d' ' -f2 "$T/curve.$n" | med)
  p99=$(cut -d' ' -f4 "$T/curve.$n" | med)
  per=$(cut -d' ' -f5 "$T/curve.$n" | med)
  printf '  %4d in flight: %8.0f AKA runs/s, p50 %7.2f ms, p99 %7.2f ms, mean by Little %6.2f ms, %s B per registration in flight\n' \
    "$n" "$rate" "$(cut -d' ' -f3 "$T/curve.$n" | med)" "$p99" \
    "$(awk -v n="$n" -v r="$rate" 'BEGIN {print (r > 0 ? n / r * 1000 : 0)}')" "$per"
  if awk -v r="$rate" -v p="$p99" 'BEGIN {exit !(r >= 5000 && p < 10)}'; then best="${best:+$best, }$n"; fi
  # the highest rate whose p99 is below 10 ms (issue 17's target, one figure for the curve)
  if awk -v r="$rate" -v p="$p99" -v b="${at10_rate:-0}" 'BEGIN {exit !(p > 0 && p < 10 && r > b)}'; then
    at10_rate=$rate at10_n=$n
  fi
done
echo "highest rate with p99 < 10 ms: ${at10_rate:-0} AKA runs/s$([ -n "${at10_n:-}" ] && echo " ($at10_n in flight)" || echo " (no point of this run)") (target >= 5000)"
echo "target (>= 5000 AKA runs/s with p99 < 10 ms) met at: ${best:-no point of this run}"
last=${INFLIGHT##* }
prev=$(echo "$INFLIGHT" | awk '{print $(NF - 1)}')
# round 1 only: later rounds reuse what the allocator kept from the first one
echo "memory per registration in flight: $(paste -d' ' "$T/curve.$prev" "$T/curve.$last" | head -1 |
  awk -v m="$prev" -v n="$last" '{printf "%.0f\n", ($10 * n - $5 * m) / (n - m)}') B" \
  "(RSS growth of the daemons from $prev to $last in flight in the first round, per registration added)"

[ -n "${KEDGE_BENCH_OUT:-}" ] || exit 0
KBENCH=${KBENCH:-$SRC/bench/report/kbench.py}
[ -f "$KBENCH" ] || { echo "bench/aka: $KBENCH missing: no result file written"; exit 0; }
mkdir -p "$KEDGE_BENCH_OUT"
OUT=$KEDGE_BENCH_OUT/aka.json
quick=
[ "${KEDGE_BENCH_QUICK:-0}" = 1 ] && quick=--quick
kb() { python3 "$KBENCH" "$@"; }
for n in $INFLIGHT; do
  while read -r _ rate p50 p99 per; do
    # shellcheck disable=SC2086
    # no target per point: issue 17's is one figure, aka.runs_per_s_at_p99_10ms below (with
    # N in flight the mean latency is N / rate, so at 128 or 256 in flight no p99 under 10 ms
    # exists below 12,800 or 25,600 runs/s)
    kb add "$OUT" --bench aka $quick --id "aka.p99_ms_at_${n}_in_flight" --unit ms --better lower \
      --label "5G AKA p99 with $n registrations in flight" --value "$p99"
    # shellcheck disable=SC2086
    kb add "$OUT" --bench aka $quick --id "aka.runs_per_s_at_${n}_in_flight" --unit "runs/s" \
      --better higher --label "5G AKA runs/s with $n registrations in flight" --value "$rate"
  done <"$T/curve.$n"
  c=$(cut -d' ' -f2 "$T/curve.$n" | med)
  kb point "$OUT" --bench aka --curve aka.rate_vs_in_flight --title "5G AKA runs/s vs registrations in flight" \
    --x "registrations in flight" --y "AKA runs/s" --log-x --series "kedge-ausfd + kedge-udmd" "$n" "$c"
  c=$(cut -d' ' -f4 "$T/curve.$n" | med)
  kb point "$OUT" --bench aka --curve aka.p99_vs_in_flight --title "5G AKA p99 vs registrations in flight" \
    --x "registrations in flight" --y "p99 ms" --log-x --series "kedge-ausfd + kedge-udmd" "$n" "$c"
  c=$(cut -d' ' -f5 "$T/curve.$n" | med)
  kb point "$OUT" --bench aka --curve aka.rss_per_in_flight --title "daemons' RSS growth per registration in flight" \
    --x "registrations in flight" --y "bytes" --log-x --series "kedge-ausfd + kedge-udmd" "$n" "$c"
done
# shellcheck disable=SC2086
kb add "$OUT" --bench aka $quick --id aka.runs_per_s_at_p99_10ms --unit "runs/s" --better higher \
  --label "5G AKA: highest runs/s on the curve with p99 < 10 ms (median of $ROUNDS round(s) per point$([ -n "${at10_n:-}" ] && echo "; $at10_n in flight"))" \
  --value "${at10_rate:-0}" --target min=5000
# per context: the RSS growth between the two largest points over the registrations added (at
# small counts RSS minus idle is mostly buffers and caches that the first requests allocate)
last=${INFLIGHT##* }
prev=$(echo "$INFLIGHT" | awk '{print $(NF - 1)}')
paste -d' ' "$T/curve.$prev" "$T/curve.$last" | head -1 | while read -r _ _ _ _ a _ _ _ _ b; do
  # shellcheck disable=SC2086
  kb add "$OUT" --bench aka $quick --id aka.rss_bytes_per_in_flight --unit B --better lower \
    --label "RSS growth of kedge-ausfd + kedge-udmd per registration in flight, $prev -> $last in flight (first round)" \
    --value "$(awk -v a="$a" -v b="$b" -v m="$prev" -v n="$last" 'BEGIN {printf "%.0f", (b * n - a * m) / (n - m)}')"
done
if [ -n "${peak_runs:-}" ] && [ "$peak_runs" -gt 0 ]; then
  # shellcheck disable=SC2086
  kb add "$OUT" --bench aka $quick --id aka.daemons_cpu_us_per_run --unit us --better lower \
    --label "CPU of kedge-ausfd + kedge-udmd per AKA run ($CONCURRENCY in flight)" \
    --value "$(awk -v t="$peak_daemons_ticks" -v hz="$(getconf CLK_TCK)" -v n="$peak_runs" 'BEGIN {printf "%.1f", t / hz / n * 1e6}')"
  # shellcheck disable=SC2086
  [ -n "${peak_load_cpu:-}" ] && kb add "$OUT" --bench aka $quick --id aka.load_cpu_us_per_run --unit us \
    --better lower --label "CPU of the load tool (kedge-aka-load) per AKA run ($CONCURRENCY in flight)" \
    --value "$peak_load_cpu"
  if [ "${c1:-0}" -gt "${c0:-0}" ]; then
    # shellcheck disable=SC2086
    kb add "$OUT" --bench aka $quick --id aka.udm_vectors_per_commit --unit vectors --better higher \
      --label "UDM group commit: vectors per SQLite commit (fsync) at $CONCURRENCY in flight" \
      --value "$(awk -v v=$((v1 - v0)) -v c=$((c1 - c0)) 'BEGIN {printf "%.1f", v / c}')"
  fi
fi
if [ -n "${noedge_runs:-}" ] && [ "$noedge_runs" -gt 0 ]; then
  # shellcheck disable=SC2086
  kb add "$OUT" --bench aka $quick --id aka.noedge_runs_per_s --unit "runs/s" --better higher \
    --label "5G AKA runs/s without edge keys ($CONCURRENCY in flight)" --value "${noedge_rate:-0}"
  # shellcheck disable=SC2086
  kb add "$OUT" --bench aka $quick --id aka.noedge_daemons_cpu_us_per_run --unit us --better lower \
    --label "CPU of kedge-ausfd + kedge-udmd per AKA run without edge keys ($CONCURRENCY in flight)" \
    --value "$(awk -v t="$noedge_daemons_ticks" -v hz="$(getconf CLK_TCK)" -v n="$noedge_runs" 'BEGIN {printf "%.1f", t / hz / n * 1e6}')"
  # shellcheck disable=SC2086
  [ -n "${noedge_load_cpu:-}" ] && kb add "$OUT" --bench aka $quick --id aka.noedge_load_cpu_us_per_run \
    --unit us --better lower --value "$noedge_load_cpu" \
    --label "CPU of the load tool (kedge-aka-load) per AKA run without edge keys ($CONCURRENCY in flight)"
fi
kb note "$OUT" --bench aka "$(nproc) CPUs shared by the UE driver, kedge-ausfd ($AUSF_WORKERS worker, edge keys $([ "$EDGE" = 1 ] && echo "stored in SQLite" || echo off)), kedge-udmd ($UDM_WORKERS worker, group_commit.max_batch $MAX_BATCH) and anything else running; load average $LOAD_BEFORE before, $LOAD_AFTER after"
kb note "$OUT" --bench aka "highest rate with p99 < 10 ms: ${at10_rate:-0} runs/s$([ -n "${at10_n:-}" ] && echo " at $at10_n in flight"); target (>= 5000 runs/s with p99 < 10 ms) met at: ${best:-no point of this run}; closed loop: mean latency = in flight / rate (Little's law)"
echo "bench/aka: wrote $OUT"
