#!/bin/sh
# bench/keyrequest: the AUSF's key service, POST /nausf-auth/v1/kedge-keys/retrieve
# (Nausf_UEAuthentication_keyrequest, SPEC.md 3), over mutual TLS 1.3 + HTTP/2, with KEYS edge
# keys stored, on the SQLite and the Redis key store, beside nginx serving a static JSON file of
# the size of a key answer (same certificate, same CA, same number of workers), all in one run.
# Nothing is asserted; every figure and ratio is printed with the target of issue 5 beside it.
#
# One load tool for every server: build/bench/bench-keyrequest load (bench/keyrequest/loadgen.c,
# libevent + OpenSSL + nghttp2). h2load has no client-certificate option and sends one fixed
# body; every key request here names a random stored Kedge ID, with the ECS's certificate. The
# tool is first checked against h2load on a plain endpoint (nginx's file, no client
# certificate) and both rates are printed.
#
# Steps:
#  1. populate: KEYS keys through kedge_keystore_put() (the AUSF's own path, sealing and group
#     commit included; bench-keyrequest populate), into SQLite, then into a redis-server of
#     our own; wall and CPU time;
#  2. footprint: SQLite file (+ WAL) / KEYS after the last close (which checkpoints), with the
#     table and each index from sqlite3's dbstat; Redis: INFO used_memory after - before;
#  3. kedge-ausfd on each store (edge.enabled, keyrequest.allowed_consumers: ecs.kedge.test,
#     client_verification required), one key answer checked against the populated Kedge and
#     kept as nginx's file; a short --verify pass (every 200 carries the Kedge asked for);
#  4. peak: closed loop, CONNS connections x STREAMS streams, WARMUP + DURATION s each, ROUNDS
#     rounds through all targets in turn (the median is kept: the machine is shared):
#     kedge SQLite, kedge SQLite with the audit log on (log level info, to a file), kedge
#     Redis (CPU of kedge-ausfd + redis-server), nginx GET of the file, nginx POST of the same
#     request body (error_page 405 =200: nginx's static module refuses POST);
#  5. the open loop's own peak: the highest rate of SUSTAIN_STEPS (% of the closed-loop peak)
#     each server answers in the open loop (>= 95% of the schedule, nothing lost, p99 <=
#     SUSTAIN_P99_MS), printed beside the closed-loop peak so that a reader sees what "50%" is of;
#  6. 10/50/80% load: open loop at that % of each one's median closed-loop peak (issue 17's
#     definition); latency from the scheduled send time, so a stall is not hidden by the client
#     waiting (coordinated omission). Beside each of these measurements, the machine's own
#     floor over the same window: cyclictest (rt-tests) wakes an ordinary (SCHED_OTHER, like
#     every server here) thread on the servers' CPU, and one on the tool's, every 1 ms and
#     records how late each wake-up ran. No server answers a request before it is scheduled,
#     so that lateness's p99/p999 is the part of a p99/p999 that no server can remove (the
#     report's "vs_sched_floor" lines; docs/performance-latency.md, fourth session).
#
# Connections. The closed loop keeps CONNS x STREAMS requests in flight (1,000: enough to find
# the peak). The open loop uses OPEN_CONNS connections, for kedge and nginx alike, because that
# is what an AUSF's key service has in a deployment: a few consumers (the NEF, which relays
# every out-of-domain ECS, and a few ECSs in the operator's domain), each with one HTTP/2
# connection and many streams (RFC 9113 9.1: one connection per server). The requests due in
# one tick of the tool on one connection go out in one TLS write; spread over 10 connections at
# 100 us ticks each connection carried about one request per write at 50% of peak, a write and a
# read per request on both sides that a deployment's few consumers do not cause.
# Server CPU per request is read from /proc over the measured window.
#
# Usage: sh bench/keyrequest/run.sh [BUILD_DIR]
#   env: KEYS=1000000 WORKERS=1 CONNS=10 STREAMS=100 WARMUP=2 DURATION=5 ROUNDS=3
#        OPEN_CONNS=4: connections of the open loop (above)
#        SUSTAIN_STEPS="60 75 90 100" SUSTAIN_P99_MS=20: the open loop's own peak (step 5)
#        DATA_DIR=dir for the SQLite file (default: the run's temporary directory)
#        REDIS=1 (0: no Redis backend)
#        POPULATE_ARGS: more for bench-keyrequest populate (e.g. --window 16384 --max-batch 8192)
#        PIN=1 (0: unpinned): with 2 CPUs or more, every server (kedge-ausfd, redis-server,
#          nginx) runs on CPU 0 and the load tool on the last CPU (taskset), so that the tool
#          and the server it measures never queue for one CPU; nginx is pinned like kedge
#        REDIS_CPU=server (tool: on the load tool's CPU; any: unpinned): where redis-server
#          runs when pinned (docs/performance-latency.md: which placement is the fairest)
#        LOADS="10 50 80": the open loop's loads, % of each one's peak (the result file needs all three)
#        AUSFD_B=PATH: another kedge-ausfd build, measured on SQLite beside this one (peak and
#          open loop, interleaved: "kedge-ausfd B"), e.g. main's to see what a change did
#        FLOOR=1 (0: no cyclictest beside the open loop; without cyclictest installed, none)
set -eu
. "$(dirname "$0")/../lib.sh"
BUILD=${1:-build}
if [ "${KEDGE_BENCH_QUICK:-0}" = 1 ]; then # a smoke run, well under a minute
  KEYS=${KEYS:-10000} ROUNDS=${ROUNDS:-1} WARMUP=${WARMUP:-0.3} DURATION=${DURATION:-0.8} VERIFY_SECONDS=0.5
fi
KEYS=${KEYS:-1000000}
VERIFY_SECONDS=${VERIFY_SECONDS:-1}
WORKERS=${WORKERS:-1}
CONNS=${CONNS:-10}
OPEN_CONNS=${OPEN_CONNS:-4}
SUSTAIN_STEPS=${SUSTAIN_STEPS:-60 75 90 100}
SUSTAIN_P99_MS=${SUSTAIN_P99_MS:-20}
STREAMS=${STREAMS:-100}
WARMUP=${WARMUP:-2}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
REDIS=${REDIS:-1}
PIN=${PIN:-1}
REDIS_CPU=${REDIS_CPU:-server}
LOADS=${LOADS:-10 50 80}
AUSFD_B=${AUSFD_B:-}
FLOOR=${FLOOR:-1}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(cd "$BUILD/bin" && pwd)
TOOL=$(cd "$BUILD/bench" && pwd)/bench-keyrequest
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in "$NGINX" h2load curl sqlite3; do
  command -v "$tool" >/dev/null 2>&1 || { echo "bench/keyrequest: $tool missing (scripts/deps.sh)"; exit 1; }
done
if [ "$REDIS" = 1 ]; then
  for tool in redis-server redis-cli; do
    command -v $tool >/dev/null 2>&1 || { echo "bench/keyrequest: $tool missing (scripts/deps.sh)"; exit 1; }
  done
fi

ON_SERVER= ON_TOOL= PINNED="unpinned"
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  ON_SERVER="taskset -c 0" ON_TOOL="taskset -c $(($(nproc) - 1))"
  PINNED="servers on CPU 0, load tool on CPU $(($(nproc) - 1))"
fi
# The floor's threads: one on CPU 0 (the servers'), one on the last CPU (the tool's) when pinned.
CYCLICTEST=
if [ "$FLOOR" = 1 ]; then
  CYCLICTEST=$(command -v cyclictest || true)
  [ -n "$CYCLICTEST" ] || echo "bench/keyrequest: cyclictest missing (scripts/deps.sh bench: rt-tests): no floor measured"
fi
FLOOR_CPUS=0
[ "$(nproc)" -ge 2 ] && FLOOR_CPUS="0,$(($(nproc) - 1))"
case $REDIS_CPU in
  server) ON_REDIS=$ON_SERVER ;;
  tool) ON_REDIS=$ON_TOOL PINNED="$PINNED, redis-server with the load tool" ;;
  any) ON_REDIS= PINNED="$PINNED, redis-server unpinned" ;;
  *) echo "bench/keyrequest: REDIS_CPU must be server, tool or any"; exit 1 ;;
esac

bench_scratch
DATA=${DATA_DIR:-$T}
DB="$DATA/keyrequest-$$.sqlite"
bench_cleanup_more() { rm -f "$DB" "$DB-wal" "$DB-shm"; } # DATA_DIR may be outside T

# num NAME: the value of NAME= in each line (whole names: p99_ms is not send_lag_p99_ms)
num() { tr ' ' '\n' | sed -n "s/^$1=\([0-9.]*\)$/\1/p"; }
# children PID: the processes whose parent is PID (nginx's workers)
children() { awk -v p="$1" '$4 == p {print $1}' /proc/[0-9]*/stat 2>/dev/null | paste -sd, -; }
median() { sort -n | awk '{v[NR] = $1} END {print NR ? v[int((NR + 1) / 2)] : 0}'; }

"$BIN/kedge" pki init "$T/pki" >/dev/null
"$BIN/kedge" master-key "$T/master.key" >/dev/null
chmod 0755 "$T" # nginx workers run as an unprivileged user when started by root

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench/keyrequest: $KEYS keys; kedge-ausfd and nginx with $WORKERS worker(s) each; load tool:" \
  "$CONNS connections x $STREAMS streams, ${WARMUP}+${DURATION} s per measurement, $ROUNDS rounds" \
  "(median); $(nproc) CPU(s) shared by servers, load tool and anything else running; $PINNED"

# ---- 1, 2: populate and measure the footprint ----
populate() { # populate URI IDS -> prints the tool's line; sets P_LINE
  # shellcheck disable=SC2086
  P_LINE=$("$TOOL" populate --keystore "$1" --master-key "$T/master.key" --count "$KEYS" \
    --out "$2" ${POPULATE_ARGS:-})
}
populate "sqlite:$DB" "$T/ids-sqlite"
SQ_POP=$P_LINE
db_bytes=$(stat -c %s "$DB")
wal_bytes=$(stat -c %s "$DB-wal" 2>/dev/null || echo 0)
parts=$(sqlite3 "$DB" "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY name" 2>/dev/null |
  awk -F'|' -v k="$KEYS" '$1 != "sqlite_schema" {printf "%s%s %.1f", sep, $1, $2 / k; sep = ", "}')

if [ "$REDIS" = 1 ]; then
  tries=0
  while :; do
    RPORT=$(peer_port $((tries + 3)))
    $ON_REDIS redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$T" \
      >"$T/redis.log" 2>&1 &
    RPID=$!
    PIDS="$PIDS $RPID"
    i=0
    while [ $i -lt 40 ] && ! redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
    redis-cli -p "$RPORT" ping >/dev/null 2>&1 && kill -0 "$RPID" 2>/dev/null && break
    tries=$((tries + 1))
    [ $tries -lt 10 ] || { cat "$T/redis.log"; echo "bench/keyrequest: redis-server did not start"; exit 1; }
  done
  mem0=$(redis-cli -p "$RPORT" info memory | tr -d '\r' | sed -n 's/^used_memory://p')
  populate "redis://127.0.0.1:$RPORT" "$T/ids-redis" 2>/dev/null
  RD_POP=$P_LINE
  mem1=$(redis-cli -p "$RPORT" info memory | tr -d '\r' | sed -n 's/^used_memory://p')
fi

# ---- 3: the AUSFs and nginx ----
ausf_conf() { # ausf_conf FILE KEYSTORE LOGLEVEL
  keyrequest_ausf_conf "$1" "$2" "$3" "$T" "$WORKERS"
}
start_ausf() { # start_ausf NAME KEYSTORE LOGLEVEL [BINARY] -> NAME_PID, NAME_PORT
  ausf_conf "$T/$1.yaml" "$2" "$3"
  $ON_SERVER "${4:-$BIN/kedge-ausfd}" --config "$T/$1.yaml" --ports-file "$T/$1.ports" 2>"$T/$1.log" &
  eval "$1_PID=$!"
  PIDS="$PIDS $!"
  i=0
  while [ ! -s "$T/$1.ports" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  [ -s "$T/$1.ports" ] || { cat "$T/$1.log"; echo "bench/keyrequest: kedge-ausfd did not start"; exit 1; }
  eval "$1_PORT=$(sed -n 's/^port=//p' "$T/$1.ports")"
}
start_ausf SQ "sqlite:$DB" warn
start_ausf SQA "sqlite:$DB" info # the audit log: one line per answer (to a file)
[ "$REDIS" = 1 ] && start_ausf RD "redis://127.0.0.1:$RPORT" warn
[ -n "$AUSFD_B" ] && start_ausf SB "sqlite:$DB" warn "$AUSFD_B"
PATH_KR=/nausf-auth/v1/kedge-keys/retrieve

# One key answer, checked against the Kedge populated for its ID: it becomes nginx's file.
first_id=$(head -1 "$T/ids-sqlite" | cut -d' ' -f1)
first_kedge=$(head -1 "$T/ids-sqlite" | cut -d' ' -f2)
curl -sS --http2 --cacert "$T/pki/ca.crt" --cert "$T/pki/ecs.crt" --key "$T/pki/ecs.key" \
  -H 'content-type: application/json' -d "{\"kedgeId\":\"$first_id\"}" -o "$T/key.json" \
  "https://127.0.0.1:$SQ_PORT$PATH_KR"
grep -q "\"kedge\":\"$first_kedge\"" "$T/key.json" ||
  { echo "bench/keyrequest: the AUSF did not return the stored Kedge: $(cat "$T/key.json")"; exit 1; }
chmod 0644 "$T/key.json"

mkdir -p "$T/nginx/tmp"
start_nginx() {
  NPORT=$1
  cat >"$T/nginx/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  open_file_cache max=16 inactive=60s;  # nginx at its best: no open(2) per request
  open_file_cache_valid 60s;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NPORT ssl http2;
    ssl_protocols TLSv1.3;
    ssl_certificate $T/pki/ausf.crt;
    ssl_certificate_key $T/pki/ausf.key;
    ssl_client_certificate $T/pki/ca.crt;
    # optional, not on: h2load (no client certificate) checks the load tool here; the load
    # tool always presents the ECS certificate, which nginx then verifies like kedge does
    ssl_verify_client optional;
    ssl_session_tickets off;
    http2_max_concurrent_streams 128;
    keepalive_requests 10000000;  # nginx ends an h2 connection after 1000 requests by default
    location = $PATH_KR {
      default_type application/json;
      alias $T/key.json;
      error_page 405 =200 \$uri;  # POST: the static module answers 405; serve the file anyway
    }
  }
}
CONF
  $ON_SERVER "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>>"$T/nginx/start.log" &
  NPID=$!
  listening "$NPORT" "$NPID"
}
tries=0
until start_nginx "$(peer_port "$tries")"; do
  tries=$((tries + 1))
  [ $tries -lt 10 ] || { cat "$T/nginx/start.log"; echo "bench/keyrequest: nginx did not start"; exit 1; }
done
PIDS="$PIDS $NPID"
NWORKERS=$(children "$NPID")
code=$(curl -sS --http2 --cacert "$T/pki/ca.crt" --cert "$T/pki/ecs.crt" --key "$T/pki/ecs.key" \
  -H 'content-type: application/json' -d "{\"kedgeId\":\"$first_id\"}" -o "$T/nginx.out" \
  -w '%{http_code}' "https://127.0.0.1:$NPORT$PATH_KR")
[ "$code" = 200 ] && cmp -s "$T/nginx.out" "$T/key.json" ||
  { echo "bench/keyrequest: nginx does not serve the key answer to POST ($code)"; exit 1; }

LCONNS=$CONNS # the closed loop's; the open loop's below
load() { # load IDS URL [args]: one measurement; prints the tool's line
  ids=$1 url=$2
  shift 2
  $ON_TOOL "$TOOL" load --url "$url" --ids "$ids" --ca "$T/pki/ca.crt" --conns "$LCONNS" \
    --streams "$STREAMS" --warmup "$WARMUP" --duration "$DURATION" "$@"
}
ecs() { echo "--cert $T/pki/ecs.crt --key $T/pki/ecs.key"; }

echo "populate   SQLite: $(echo "$SQ_POP" | sed 's/^populate: //; s/ through kedge_keystore_put ([^)]*)//')"
[ "$REDIS" = 1 ] && echo "           Redis:  $(echo "$RD_POP" | sed 's/^populate: //; s/ through kedge_keystore_put ([^)]*)//')"
awk -v d="$db_bytes" -v w="$wal_bytes" -v k="$KEYS" -v p="$parts" 'BEGIN {
  printf "footprint  SQLite: %d B file + %d B WAL after the last close (checkpointed) = %.1f B/key" \
    " (target <= 300)\n", d, w, (d + w) / k
  if (p != "") printf "           pages per key: %s\n", p
}'
[ "$REDIS" = 1 ] && awk -v a="$mem0" -v b="$mem1" -v k="$KEYS" 'BEGIN {
  printf "           Redis: used_memory %d -> %d B: %.1f B/key (in memory; reported, the target is for disk)\n",
    a, b, (b - a) / k }'
echo "answer     $(wc -c <"$T/key.json") octets of JSON (nginx serves the same octets)"

# Every 200 carries the Kedge populated for the ID asked for.
for b in SQ RD; do
  [ "$b" = RD ] && [ "$REDIS" != 1 ] && continue
  eval "port=\$${b}_PORT"
  ids=$T/ids-sqlite
  [ "$b" = RD ] && ids=$T/ids-redis
  # shellcheck disable=SC2046
  v=$("$TOOL" load --url "https://127.0.0.1:$port$PATH_KR" --ids "$ids" --ca "$T/pki/ca.crt" \
    $(ecs) --conns 2 --streams 10 --warmup 0.2 --duration "$VERIFY_SECONDS" --verify)
  echo "verify     $b: $(echo "$v" | num ok) answers 200 with the right Kedge," \
    "$(echo "$v" | num verify_failed) with another, $(echo "$v" | num other) not 200," \
    "$(echo "$v" | num errors) errors"
done

# ---- the load tool against h2load, on nginx's file without client certificates ----
NURL="https://127.0.0.1:$NPORT$PATH_KR"
if [ "${KEDGE_BENCH_QUICK:-0}" != 1 ]; then
h2=$(h2load -c "$CONNS" -m "$STREAMS" --warm-up-time="${WARMUP}s" -D "${DURATION}s" "$NURL" 2>&1 |
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
own=$(load "$T/ids-sqlite" "$NURL" --get | num rps)
h2b=$(h2load -c "$CONNS" -m "$STREAMS" --warm-up-time="${WARMUP}s" -D "${DURATION}s" "$NURL" 2>&1 |
  sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
ownb=$(load "$T/ids-sqlite" "$NURL" --get | num rps)
awk -v a="${h2:-0}" -v b="${own:-0}" -v c="${h2b:-0}" -v d="${ownb:-0}" 'BEGIN {
  printf "load tool  vs h2load on nginx GET, no client certificate: %.0f vs %.0f req/s, then %.0f vs" \
    " %.0f: tool/h2load %.2f (agreement within 10%%: 0.90-1.10)\n", b, a, d, c,
    ((a + c) > 0 ? (b + d) / (a + c) : 0) }'
fi

# ---- 4: peak ----
TARGETS="SQ SQA RD NG NP"
[ "$REDIS" = 1 ] || TARGETS="SQ SQA NG NP"
[ "${KEDGE_BENCH_QUICK:-0}" = 1 ] && TARGETS="SQ RD NG" && [ "$REDIS" != 1 ] && TARGETS="SQ NG"
[ -n "$AUSFD_B" ] && TARGETS="$TARGETS SB"
label() {
  case $1 in
    SQ) echo "kedge-ausfd, SQLite" ;;
    SQA) echo "kedge-ausfd, SQLite, audit log on" ;;
    SB) echo "kedge-ausfd B, SQLite" ;;
    RD) echo "kedge-ausfd, Redis (CPU: + redis-server)" ;;
    NG) echo "nginx, static file, GET" ;;
    NK) echo "nginx GET at kedge SQLite's rate" ;;
    NP) echo "nginx, static file, POST (same body)" ;;
  esac
}
measure() { # measure TARGET [args] -> the tool's line
  case $1 in
    SQ | SQA | RD | SB)
      eval "port=\$${1}_PORT pid=\$${1}_PID"
      ids=$T/ids-sqlite cpu=$pid
      [ "$1" = RD ] && ids=$T/ids-redis cpu=$pid,$RPID
      shift
      # shellcheck disable=SC2046
      load "$ids" "https://127.0.0.1:$port$PATH_KR" $(ecs) --cpu-pids "$cpu" "$@"
      ;;
    NG | NK | NP)
      get=
      [ "$1" = NP ] || get=--get
      shift
      # shellcheck disable=SC2046
      load "$T/ids-sqlite" "$NURL" $(ecs) $get --cpu-pids "$NWORKERS" "$@"
      ;;
  esac
}
for r in $(seq "$ROUNDS"); do
  for t in $TARGETS; do
    line=$(measure "$t")
    echo "$line" >>"$T/peak.$t"
    printf 'round %d  %-42s %s\n' "$r" "$(label "$t")" "$(echo "$line" | sed 's/ ok=.* p50_ms/ p50_ms/')"
  done
done
echo "peak (closed loop; median of $ROUNDS):"
printf '  %-42s %9s %9s %9s %14s\n' "" "req/s" "p50 ms" "p99 ms" "server CPU us/req"
for t in $TARGETS; do
  for f in rps p50_ms p99_ms cpu_us_per_req; do
    eval "${t}_$f=$(num "$f" <"$T/peak.$t" | median)"
  done
  eval "printf '  %-42s %9s %9s %9s %14s\n' \"\$(label $t)\" \$${t}_rps \$${t}_p50_ms \$${t}_p99_ms \$${t}_cpu_us_per_req"
done
awk -v sq="$SQ_rps" -v sqa="${SQA_rps:-0}" -v rd="${RD_rps:-0}" -v ng="$NG_rps" -v np="${NP_rps:-0}" \
  -v sqc="$SQ_cpu_us_per_req" -v ngc="$NG_cpu_us_per_req" 'BEGIN {
  if (ng > 0 && np > 0) {
    printf "ratios     SQLite / nginx GET %.2fx, / nginx POST %.2fx (target >= 0.8x);" \
      " with the audit log %.2fx; Redis / nginx GET %.2fx\n", sq / ng, sq / np, sqa / ng, rd / ng
    if (sqc > 0) printf "           server CPU per request, SQLite / nginx GET: %.2fx\n", sqc / ngc
  }
}'

# ---- 5: the open loop's own peak ----
# A closed loop with 1,000 requests in flight measures throughput with a deep queue (p50 of
# several ms); the open loop measures a schedule that does not wait. The highest step each one
# sustains is printed beside its closed-loop peak; the 10/50/80% loads stay relative to the
# closed-loop peak (issue 17's definition).
LCONNS=$OPEN_CONNS
SUSTAIN_TARGETS="SQ RD NG"
[ "$REDIS" = 1 ] || SUSTAIN_TARGETS="SQ NG"
[ -n "$AUSFD_B" ] && SUSTAIN_TARGETS="$SUSTAIN_TARGETS SB"
echo "open-loop peak: the highest of $SUSTAIN_STEPS % of the closed-loop peak answered (>= 95% of" \
  "the schedule, nothing lost, p99 <= $SUSTAIN_P99_MS ms), $OPEN_CONNS connections:"
for t in $SUSTAIN_TARGETS; do
  eval "peak=\$${t}_rps"
  best=0 best_p99=- fail=
  for st in $SUSTAIN_STEPS; do
    rate=$(awk -v p="$peak" -v s="$st" 'BEGIN {printf "%d", p * s / 100}')
    line=$(measure "$t" --rate "$rate")
    echo "$line" | sed "s/^/  $t ${st}%: /" >>"$T/sustain.log"
    why=$(echo "$line" | awk -v want="$rate" -v lim="$SUSTAIN_P99_MS" '{
      for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      if (v["other"] + v["errors"] + v["dropped"] > 0) print "answers not 2xx or lost"
      else if (v["rps"] < 0.95 * want) printf "%.0f%% of the schedule answered\n", 100 * v["rps"] / want
      else if (v["p99_ms"] > lim) printf "p99 %s ms\n", v["p99_ms"] }')
    if [ -n "$why" ]; then
      fail="; at ${st}% ($rate/s): $why (send lag p99 $(echo "$line" | num send_lag_p99_ms) ms)"
      break
    fi
    best=$rate best_p99=$(echo "$line" | num p99_ms)
  done
  eval "${t}_sustained=$best"
  share=$(awk -v a="$best" -v b="$peak" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}')
  printf '  %-42s %9s/s open loop (p99 %s ms), closed-loop peak %s/s: %s%%%s\n' "$(label "$t")" \
    "$best" "$best_p99" "$peak" "$share" "$fail"
done

# ---- 6: open loop at 10, 50 and 80 % of each one's median peak ----
# ROUNDS rounds; in each, every load level of every target in turn (kedge and nginx
# interleaved, so that what the rest of the machine does falls on both). Latency counts from
# the scheduled send. Beside each line: the tool's own wait (send lag: schedule -> TLS) and CPU,
# so that a tool that cannot keep up is seen, not mistaken for the server.
# NK: nginx at the same absolute rate as kedge on SQLite. Each one's own 50% loads the machine
# (server + this tool) differently when the peaks differ; NK tells the machine from the server.
# ctx_switches TARGET: context switches so far of every thread of the target's server processes
ctx_switches() {
  case $1 in
    SQ | SQA | RD | SB) eval "p=\$${1}_PID" ;;
    *) p=$(echo "$NWORKERS" | tr ',' ' ') ;;
  esac
  [ "$1" = RD ] && p="$p $RPID"
  for q in $p; do cat /proc/"$q"/task/*/status 2>/dev/null; done |
    awk '/ctxt_switches/ {n += $2} END {print n + 0}'
}
# floor_start FILE: cyclictest over the measured window (after WARMUP, DURATION s), in the
# background: one SCHED_OTHER thread per CPU of FLOOR_CPUS, woken every 1 ms (absolute times),
# histogram in 1 us buckets up to 20 ms. --laptop: it leaves /dev/cpu_dma_latency alone (the
# default would keep every CPU out of its idle states for the run, the servers' included). It
# costs each CPU about 1 % (1,000 wake-ups a second of ~10 us), on every server's lines alike.
floor_start() {
  FLOOR_PID=
  [ -n "$CYCLICTEST" ] || return 0
  loops=$(awk -v d="$DURATION" 'BEGIN {printf "%d", d * 1000}')
  (sleep "$WARMUP" && exec "$CYCLICTEST" -q --laptop -m -a "$FLOOR_CPUS" \
    -t "$(echo "$FLOOR_CPUS" | tr ',' '\n' | wc -l)" -i 1000 -l "$loops" -h 20000 >"$1" 2>/dev/null) &
  FLOOR_PID=$!
}
# floor_wait: waits for floor_start's cyclictest (in this shell: it is this shell's child).
floor_wait() {
  [ -z "$FLOOR_PID" ] || wait "$FLOOR_PID" 2>/dev/null || true
}
# floor_of FILE: prints "floor0_p99_ms=.. floor0_p999_ms=.. floor1_p99_ms=.. floor1_p999_ms=.."
# (thread 0 on CPU 0, 1 on the tool's); nothing without a histogram. A quantile past the
# histogram's 20 ms is printed as 20.000 (its end).
floor_of() {
  [ -n "$FLOOR_PID" ] || return 0
  awk '/^[0-9]+[ \t]/ { for (i = 2; i <= NF; i++) { h[$1 + 0, i - 2] = $i; n[i - 2] += $i }
         nt = NF - 1; if ($1 + 0 > mb) mb = $1 + 0 }
       /^# Histogram Overflows:/ { for (i = 4; i <= NF; i++) ov[i - 4] = $i + 0 }
       END { for (t = 0; t < nt; t++) {
         tot = n[t] + ov[t]; p99 = p999 = mb + 1; c = 0; f99 = f999 = 0
         for (b = 0; b <= mb; b++) { c += h[b, t]
           if (!f99 && c >= 0.99 * tot) { p99 = b; f99 = 1 }
           if (!f999 && c >= 0.999 * tot) { p999 = b; f999 = 1 } }
         if (tot > 0) printf "floor%d_p99_ms=%.3f floor%d_p999_ms=%.3f ", t, p99 / 1000, t, p999 / 1000 } }' "$1"
}
OPEN_TARGETS="SQ RD NG NK"
[ "$REDIS" = 1 ] || OPEN_TARGETS="SQ NG NK"
[ -n "$AUSFD_B" ] && OPEN_TARGETS="$OPEN_TARGETS SB"
echo "open loop at 10/50/80% of each one's median closed-loop peak, $OPEN_CONNS connections," \
  "latency from the scheduled send (target: p99 < 2 ms at 50%); load average $(cut -d' ' -f1-3 /proc/loadavg):"
for r in $(seq "$ROUNDS"); do
  for pc in $LOADS; do
    for t in $OPEN_TARGETS; do
      peak_of=$t
      [ "$t" = NK ] && peak_of=SQ
      eval "peak=\$${peak_of}_rps"
      rate=$(awk -v p="$peak" -v pc="$pc" 'BEGIN {printf "%d", p * pc / 100}')
      sw0=$(ctx_switches "$t")
      floor_start "$T/floor.out"
      line=$(measure "$t" --rate "$rate")
      floor_wait
      line="$line $(floor_of "$T/floor.out")"
      sw=$(($(ctx_switches "$t") - sw0))
      echo "$line" >>"$T/open.$t.$pc"
      bad=$(echo "$line" | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^(other|errors|dropped)=/) {
        split($i, kv, "="); n += kv[2]}} END {print n + 0}')
      # busy: the server's share of a CPU (rate x CPU per request), what a stall is amplified
      # by: one of S ms takes about S x busy / (1 - busy) more to drain
      printf 'round %d %3d%% %-42s %6s/s p50 %s p99 %s p999 %s ms; server: CPU %s us/req (busy %s of a CPU), %s context switches/req; tool: send lag p99 %s ms, CPU %s us/req%s%s\n' \
        "$r" "$pc" "$(label "$t")" "$(echo "$line" | num rps)" "$(echo "$line" | num p50_ms)" \
        "$(echo "$line" | num p99_ms)" "$(echo "$line" | num p999_ms)" \
        "$(echo "$line" | num cpu_us_per_req)" \
        "$(awk -v r="$(echo "$line" | num rps)" -v c="$(echo "$line" | num cpu_us_per_req)" 'BEGIN {printf "%.2f", r * c / 1e6}')" \
        "$(awk -v s="$sw" -v n="$(echo "$line" | num rps)" -v d="$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN {print w + d}')" \
          'BEGIN {printf "%.2f", (n > 0 ? s / (n * d) : 0)}')" \
        "$(echo "$line" | num send_lag_p99_ms)" "$(echo "$line" | num tool_cpu_us_per_req)" \
        "$(echo "$line" | awk '{for (i = 1; i <= NF; i++) {split($i, kv, "="); v[kv[1]] = kv[2]}}
          END {if (v["floor0_p99_ms"] != "") {
            printf "; machine: wake-up lateness p99/p999 CPU 0 %s/%s ms", v["floor0_p99_ms"], v["floor0_p999_ms"]
            if (v["floor1_p99_ms"] != "") printf ", tool CPU %s/%s ms", v["floor1_p99_ms"], v["floor1_p999_ms"] }}')$([ "$bad" = 0 ] || echo "; $bad answers not 2xx or lost: NOT a key request figure")$(
          awk -v got="$(echo "$line" | num rps)" -v want="$rate" 'BEGIN {
            if (want > 0 && got < 0.95 * want)
              printf "; %.0f%% of the scheduled rate answered: overloaded (the send lag says whether the tool was)", 100 * got / want }')"
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# range FILE FIELD: "median (min-max)" of the rounds
range() { num "$2" <"$1" | sort -n | awk '{v[NR] = $1} END {printf "%s (%s-%s)", v[int((NR + 1) / 2)], v[1], v[NR]}'; }
echo "open loop, median of $ROUNDS (min-max), ms; load average $LOAD_BEFORE before, $LOAD_AFTER after:"
for pc in $LOADS; do
  for t in $OPEN_TARGETS; do
    f=$T/open.$t.$pc
    printf '  %3d%%  %-42s p50 %-22s p99 %-22s p999 %s\n' "$pc" "$(label "$t")" \
      "$(range "$f" p50_ms)" "$(range "$f" p99_ms)" "$(range "$f" p999_ms)"
  done
  # the floor over every line of this load, whichever server ran
  if [ -n "$CYCLICTEST" ]; then
    cat "$T"/open.*."$pc" >"$T/floor.$pc"
    printf '  %3d%%  %-42s p99 %-22s p999 %s\n' "$pc" "machine: wake-up lateness on CPU 0" \
      "$(range "$T/floor.$pc" floor0_p99_ms)" "$(range "$T/floor.$pc" floor0_p999_ms)"
  fi
done

# ---- the result file (BENCH-SCHEMA: $KEDGE_BENCH_OUT/keyrequest.json, via bench/report/kbench.py) ----
[ -n "${KEDGE_BENCH_OUT:-}" ] || exit 0
[ "$LOADS" = "10 50 80" ] || { echo "bench/keyrequest: LOADS=\"$LOADS\": no result file (it needs 10 50 80)"; exit 0; }
KBENCH=${KBENCH:-$SRC/bench/report/kbench.py}
[ -f "$KBENCH" ] || { echo "bench/keyrequest: $KBENCH missing: no result file written"; exit 0; }
mkdir -p "$KEDGE_BENCH_OUT"
OUT=$KEDGE_BENCH_OUT/keyrequest.json
quick=
[ "${KEDGE_BENCH_QUICK:-0}" = 1 ] && quick=--quick
kb() { python3 "$KBENCH" "$@"; }
store_of() { case $1 in SQ) echo sqlite ;; RD) echo redis ;; esac; }
for t in SQ RD; do
  [ "$t" = RD ] && [ "$REDIS" != 1 ] && continue
  st=$(store_of $t)
  for pc in 10 50 80; do
    for q in p50 p99 p999; do
      target=
      [ "$pc" = 50 ] && [ "$q" = p99 ] && target="--target max=2"
      num "${q}_ms" <"$T/open.$t.$pc" >"$T/v.ours"
      num "${q}_ms" <"$T/open.NG.$pc" >"$T/v.peer"
      paste "$T/v.ours" "$T/v.peer" | while read -r v pv; do
        # shellcheck disable=SC2086
        kb add "$OUT" --bench keyrequest $quick --id "keyrequest.${st}.${q}_ms_at_${pc}pct" \
          --label "key request $q at ${pc}% of peak (open loop), kedge-ausfd on $st" --unit ms \
          --better lower --value "$v" --peer-name "nginx static file at ${pc}% of its peak" \
          --peer-value "$pv" $target
      done
    done
  done
  num rps <"$T/peak.$t" >"$T/v.ours"
  num rps <"$T/peak.NG" >"$T/v.peer"
  paste "$T/v.ours" "$T/v.peer" | while read -r v pv; do
    # shellcheck disable=SC2086
    kb add "$OUT" --bench keyrequest $quick --id "keyrequest.${st}.peak_rps" \
      --label "key requests/s at peak (closed loop), kedge-ausfd on $st" --unit "req/s" \
      --better higher --value "$v" --peer-name "nginx static file GET" --peer-value "$pv"
  done
  eval "v=\$${t}_sustained"
  # 0: not even the first step was sustained (the line above says why): no figure, a note
  if [ "$v" -gt 0 ] && [ "$NG_sustained" -gt 0 ]; then
    # shellcheck disable=SC2086
    kb add "$OUT" --bench keyrequest $quick --id "keyrequest.${st}.open_loop_peak_rps" \
      --label "key requests/s sustained in the open loop (highest of $SUSTAIN_STEPS % of the closed-loop peak with p99 <= $SUSTAIN_P99_MS ms), kedge-ausfd on $st" \
      --unit "req/s" --better higher --value "$v" --peer-name "nginx static file GET, open loop" \
      --peer-value "$NG_sustained"
  else
    kb note "$OUT" --bench keyrequest "keyrequest.${st}.open_loop_peak_rps not reported: kedge-ausfd on $st sustained $v req/s, nginx $NG_sustained req/s in the open loop (0: not even the first step of $SUSTAIN_STEPS % of the closed-loop peak held >= 95 % answered with p99 <= $SUSTAIN_P99_MS ms)"
  fi
  num cpu_us_per_req <"$T/open.$t.50" >"$T/v.ours"
  num cpu_us_per_req <"$T/open.NG.50" >"$T/v.peer"
  paste "$T/v.ours" "$T/v.peer" | while read -r v pv; do
    # shellcheck disable=SC2086
    kb add "$OUT" --bench keyrequest $quick --id "keyrequest.${st}.server_cpu_us_per_req_at_50pct" \
      --label "server CPU per key request at 50% of peak, kedge-ausfd on $st" --unit us \
      --better lower --value "$v" --peer-name "nginx static file GET" --peer-value "$pv"
  done
done
for pc in 10 50 80; do
  num p99_ms <"$T/open.SQ.$pc" >"$T/v.ours"
  num p99_ms <"$T/open.NK.$pc" >"$T/v.peer"
  paste "$T/v.ours" "$T/v.peer" | while read -r v pv; do
    # shellcheck disable=SC2086
    kb add "$OUT" --bench keyrequest $quick --id "keyrequest.sqlite.p99_ms_at_${pc}pct_vs_nginx_same_rate" \
      --label "key request p99 at ${pc}% of kedge's peak, kedge-ausfd on SQLite; nginx at the same rate" \
      --unit ms --better lower --value "$v" --peer-name "nginx static file at kedge's rate" --peer-value "$pv"
  done
done
# The machine's floor during the same line (cyclictest on CPU 0): what part of kedge's p99 and
# p999 no server could remove. Only with cyclictest: otherwise no such line.
for pc in 10 50; do
  [ -n "$CYCLICTEST" ] || break
  for q in p99 p999; do
    num "${q}_ms" <"$T/open.SQ.$pc" >"$T/v.ours"
    num "floor0_${q}_ms" <"$T/open.SQ.$pc" >"$T/v.peer"
    paste "$T/v.ours" "$T/v.peer" | while read -r v pv; do
      # shellcheck disable=SC2086
      kb add "$OUT" --bench keyrequest $quick --id "keyrequest.sqlite.${q}_ms_at_${pc}pct_vs_sched_floor" \
        --label "key request $q at ${pc}% of peak (open loop), kedge-ausfd on SQLite; the machine's scheduling latency during the run" \
        --unit ms --better lower --value "$v" \
        --peer-name "the machine's scheduling latency $q on CPU 0 during the same run (cyclictest, SCHED_OTHER, 1 ms)" \
        --peer-value "$pv"
    done
  done
done
kb note "$OUT" --bench keyrequest "$KEYS keys, $WORKERS worker(s), $CONNS connections x $STREAMS streams (closed loop), $OPEN_CONNS connections (open loop); open-loop peak (% of the closed-loop peak): SQLite $(awk -v a="$SQ_sustained" -v b="$SQ_rps" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}'), nginx $(awk -v a="$NG_sustained" -v b="$NG_rps" 'BEGIN {printf "%.0f", (b > 0 ? 100 * a / b : 0)}'); $PINNED; $(nproc) CPUs shared with the load tool and anything else running; load average $LOAD_BEFORE before, $LOAD_AFTER after"
echo "bench/keyrequest: wrote $OUT"
