#!/bin/sh
# bench/ecs: the ECS's TLS 1.3 external-PSK handshakes with kedge-bench (build/bench/bench-ecs;
# h2load can do neither PSK nor client certificates), in one run:
#  1. kedge-bench against h2load on a plain TLS endpoint (kedge-sbi-testd, GET, -c/-m like
#     h2load's): the two tools' rates must agree within 10% for kedge-bench's figures to count;
#  2. full PSK handshakes per second, warm key cache: kedge-ecsd, stunnel4 (PSKsecrets, same
#     identity and key) and openssl s_server -nocert -psk; a wrong key must fail against each,
#     so the handshakes really use the PSK;
#  3. full handshake + one EDGE-4 request per connection: kedge-ecsd (next to its handshake-only
#     p50 and its answer floor), and stunnel4 in front of nginx (h2c) answering the same JSON;
#  4. cold path: kedge-ecsd with key_cache.ttl 0, so every handshake fetches the key from a real
#     kedge-ausfd (after kedge-ue registered with kedge-udmd): latency p50/p99, one at a time,
#     and above the answer floor in force; the key request's own time at the ECS and inside
#     kedge-ausfd (their histograms), and how many outlasted 5 ms;
#  5. the akma cold path (SPEC.md 9): an ECS of psk_profile akma with key_cache.ttl 0, every
#     handshake (identity A-KID, PSK K_AF) asks a real kedge-aanfd, which derives K_AF.
#  6. OpenSSL's own cost (issue 17): RUNS rounds of bench-ecs --openssl-reference (the same
#     psk_dhe_ke handshake between two SSL objects over a BIO pair, server side CPU alone;
#     then with --tcp over a loopback TCP connection each, the kernel's share included),
#     kedge-ecsd's server CPU per handshake (from /proc) and stunnel4's rate, in turns; with
#     strace the system calls per kedge-ecsd handshake (strace -c -f, a short extra run).
#  7. curves: handshakes/s, p99 and server CPU per handshake vs concurrent clients (10 ...
#     10,000, bounded by ulimit -n) for kedge-ecsd with 1 and 2 workers and for stunnel4.
# With 2 or more CPUs the 1-worker servers (kedge-ecsd, stunnel4, the reference) run pinned to
# CPU 0 and kedge-bench to CPU 1 (taskset), so the load generator does not take the server's
# core; the 2-worker kedge-ecsd runs unpinned.
# Targets: kedge-ecsd server CPU per handshake <= 1.3x OpenSSL's server side, peak handshakes/s
# >= 3x stunnel4's peak (issue 17; at 20 closed-loop clients the answer floor caps the rate at
# 20 / 5 ms); cold path p99 above the answer floor <= 5 ms (issue 6's target; the floor itself,
# issue 12, is waited by every handshake). Nothing is asserted.
# KEDGE_BENCH_OUT=DIR: also writes DIR/ecs.json (/work/wt/BENCH-SCHEMA.md's format).
# KEDGE_BENCH_QUICK=1: one round, shorter runs, curves to 1,000 clients; without the tool
# check (1) and the cold paths (4, 5): well under a minute.
# Usage: sh bench/ecs/run.sh [BUILD_DIR]   (env: N=20000 CLIENTS=20 WORKERS=1 COLD=2000 RUNS=3)
set -eu
. "$(dirname "$0")/../lib.sh"
BUILD=$(cd "${1:-build}" && pwd)
BIN=$BUILD/bin
KB=$BUILD/bench/bench-ecs
QUICK=${KEDGE_BENCH_QUICK:-0}
[ "$QUICK" = 1 ] || QUICK=0
if [ $QUICK = 1 ]; then
  N=${N:-1000}
  RUNS=${RUNS:-1}
  CURVE_CLIENTS=${CURVE_CLIENTS:-"10 50 100 200 1000"}
  CURVE_N=${CURVE_N:-300}
else
  N=${N:-20000}
  RUNS=${RUNS:-3}
  CURVE_CLIENTS=${CURVE_CLIENTS:-"10 50 100 200 1000 10000"}
  CURVE_N=${CURVE_N:-4000}
fi
CLIENTS=${CLIENTS:-20}
WORKERS=${WORKERS:-1}
COLD=${COLD:-2000}
# 10,000 clients: as many sockets in kedge-bench and in the server (stunnel4: two each)
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# taskset: servers on CPU 0, the load generator on CPU 1
PIN_S=""
PIN_C=""
if [ "$WORKERS" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  PIN_S="taskset -c 0"
  PIN_C="taskset -c 1"
fi
for tool in h2load stunnel4 openssl nginx; do
  command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] ||
    { echo "bench/ecs: $tool missing (scripts/deps.sh)"; exit 1; }
done
[ -x "$BIN/kedge-keysource-testd" ] || { echo "bench/ecs: build the tests (kedge-keysource-testd)"; exit 1; }
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
bench_scratch
RES=$T/results.txt
: >"$RES"
# results for ecs.json: fig ID VALUE | peer ID VALUE | pt CURVE SERIES X Y | note TEXT
fig() { echo "fig $1 $2" >>"$RES"; }
peer() { echo "peer $1 $2" >>"$RES"; }
pt() { echo "pt $1 $2 $3 $4" >>"$RES"; }
note() { echo "note $*" >>"$RES"; }
chmod 0755 "$T"

# port_of FILE: waits for a --ports-file
port_of() {
  i=0
  while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  sed -n 's/^port=//p' "$1"
}
wait_port() {
  i=0
  until ss -ltn 2>/dev/null | grep -q ":$1 " || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
}
field() { echo "$1" | sed -n "s|.* \\([0-9.]*\\) $2.*|\\1|p"; }
# Server CPU: rates on a shared machine move with the neighbours' load; the CPU time a server
# spends per handshake does much less. ticks PID... -> user+system clock ticks of those
# processes (all their threads); nginx workers are children of its master.
HZ=$(getconf CLK_TCK)
ticks() {
  for p in "$@"; do awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0; done |
    awk '{s += $1} END {print s + 0}'
}
# measure "PIDS" KEDGE-BENCH-ARGS...: runs kedge-bench, appends the servers' CPU per operation
# (the warm-up's operations count too: the ticks cover the whole kedge-bench run)
measure() {
  pids=$1
  shift
  warm=$(echo "$*" | sed -n 's/.*--warmup \([0-9]*\).*/\1/p')
  # shellcheck disable=SC2086
  t0=$(ticks $pids)
  # shellcheck disable=SC2086
  line=$($PIN_C "$KB" "$@")
  # shellcheck disable=SC2086
  t1=$(ticks $pids)
  okn=$(echo "$line" | sed -n 's/.* ok \([0-9]*\)\/.*/\1/p')
  okn=$((${okn:-0} + ${warm:-0}))
  echo "$line" | awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="$okn" \
    '{ printf "%s  server CPU %.0f us/op\n", $0, n ? t * 1e6 / hz / n : 0 }'
}
us_op() { echo "$1" | sed -n 's/.*server CPU \([0-9]*\) us.*/\1/p'; }
p99_of() { echo "$1" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p'; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

"$BIN/kedge" pki init "$T/pki" >/dev/null
echo "bench/ecs: $(nproc) CPU(s) shared by servers and load generator (load average" \
  "$(cut -d' ' -f1-3 /proc/loadavg)); ECS workers=$WORKERS; kedge-bench -c $CLIENTS, $N per measurement"

# ---- 1. kedge-bench vs h2load on plain TLS ----
if [ $QUICK = 0 ]; then
cat >"$T/testd.yaml" <<YAML
log: {level: warn}
sbi: {port: 0, workers: $WORKERS, metrics: {enabled: false},
      tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt,
            client_verification: optional}}
YAML
"$BIN/kedge-sbi-testd" --config "$T/testd.yaml" --ports-file "$T/testd.ports" 2>"$T/testd.log" &
PIDS="$PIDS $!"
TP=$(port_of "$T/testd.ports")
H2N=$((N * 5))
hl=""
kl=""
rl=""
for round in 1 2 3 4 5; do
  out=$(h2load -n $H2N -c 10 -m 100 "https://127.0.0.1:$TP/test/v1/items/bench" 2>&1)
  h=$(echo "$out" | sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
  out=$("$KB" --target "127.0.0.1:$TP" -n $H2N -c 10 -m 100 --path /test/v1/items/bench)
  k=$(field "$out" "req/s")
  hl="$hl ${h%.*}"
  kl="$kl $k"
  rl="$rl $(awk -v k="$k" -v h="$h" 'BEGIN { printf "%.2f", k / h }')"
done
median() { echo "$@" | tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 3p; }
echo "tool check, plain TLS 1.3 + h2, GET, -c 10 -m 100, -n $H2N, 5 rounds, each h2load then kedge-bench:"
echo "  h2load      req/s:$hl"
echo "  kedge-bench req/s:$kl"
R=$(median $rl)
awk -v r="$R" -v all="$rl" 'BEGIN { printf "  kedge-bench / h2load per round:%s; median %.2f (%s)\n", all, r,
  (r >= 0.9 && r <= 1.1) ? "within 10%" : "NOT within 10%" }'
note "tool check: kedge-bench / h2load req/s per round:$rl (median $R; within 10% makes kedge-bench's figures count)"
fi

# ---- the PSK: printable, so stunnel's PSKsecrets can hold the very same 32 octets ----
PSK_ASCII="kedge-bench-psk-0123456789abcdef"
PSK=$(printf %s "$PSK_ASCII" | od -An -tx1 | tr -d ' \n')
WRONG=$(echo "$PSK" | tr '0-9a-f' '1-9a-f0')
ID=$("$BIN/kedge" derive kedge --kausf 474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b \
  --supi imsi-001010000000001 --mcc 001 --mnc 01 | sed -n 's/.*"kedgeId":"\([^"]*\)".*/\1/p')
echo "$ID $PSK" >"$T/keys.txt"
cat >"$T/ks.yaml" <<YAML
log: {level: warn}
sbi: {port: 0, metrics: {enabled: false},
      tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
keysource: {keys_file: $T/keys.txt}
YAML
"$BIN/kedge-keysource-testd" --config "$T/ks.yaml" --ports-file "$T/ks.ports" 2>"$T/ks.log" &
PIDS="$PIDS $!"
KSP=$(port_of "$T/ks.ports")
ecs_conf() { # ecs_conf FILE KEY_SOURCE_PORT TTL [WORKERS]
  cat >"$1" <<YAML
log: {level: warn}
sbi: {port: 0, workers: ${4:-$WORKERS},
      limits: {max_connections: 20000, max_handshakes: 20000, max_handshakes_per_address: 20000}}
key_source:
  uri: https://127.0.0.1:$2
  tls: {ca: $T/pki/ca.crt, cert: $T/pki/ecs.crt, key: $T/pki/ecs.key}
  rate_limit: {global: 0, per_address: 0}
key_cache: {ttl: $3}
service_provisioning:
  edns: [{dnn: edge.example, eess: [{ees_id: ees-1, uri: "https://ees-1.example:8443",
          eec_reg_conf: true, ees_auth_methods: [TLS_CLIENT_SERVER_CERTIFICATE]}]}]
YAML
}
ecs_conf "$T/ecs.yaml" "$KSP" 60s
# shellcheck disable=SC2086
$PIN_S "$BIN/kedge-ecsd" --config "$T/ecs.yaml" --ports-file "$T/ecs.ports" 2>"$T/ecs.log" &
ECS_PID=$!
PIDS="$PIDS $!"
EP=$(port_of "$T/ecs.ports")

# EDGE-4 answer, byte for byte, for nginx behind stunnel
printf '{"eecId":"eec-bench"}' >"$T/req.json"
"$KB" --target "127.0.0.1:$EP" -n 1 -c 1 --new-connection --psk-identity "$ID" --psk "$PSK" \
  --path /eecs-serviceprovisioning/v1/request --data "$T/req.json" >/dev/null
# nginx (h2c, prior knowledge) as stunnel's backend
NGP=$(peer_port 1)
mkdir -p "$T/nginx/tmp"
cat >"$T/nginx/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $T/nginx/tmp/body;
  proxy_temp_path $T/nginx/tmp/proxy;
  fastcgi_temp_path $T/nginx/tmp/fastcgi;
  uwsgi_temp_path $T/nginx/tmp/uwsgi;
  scgi_temp_path $T/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$NGP http2;
    location = /eecs-serviceprovisioning/v1/request {
      default_type application/json;
      return 200 '{"ednCnfgInfo":[{"ednConInfo":{"dnn":"edge.example"},"eess":[{"eesId":"ees-1","endPt":{"uri":"https://ees-1.example:8443"},"eecRegConf":true,"eesAuthMethods":["TLS_CLIENT_SERVER_CERTIFICATE"]}],"lifeTime":"2026-11-28T00:00:00Z"}]}';
    }
  }
}
CONF
"$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx/start.log" &
NGINX_PID=$!
PIDS="$PIDS $!"
wait_port "$NGP"

STP=$(peer_port 2)
printf '%s:%s\n' "$ID" "$PSK_ASCII" >"$T/psk.txt"
chmod 600 "$T/psk.txt"
cat >"$T/stunnel.conf" <<CONF
foreground = yes
pid =
debug = 3
[ecs]
accept = 127.0.0.1:$STP
connect = 127.0.0.1:$NGP
PSKsecrets = $T/psk.txt
ciphersuites = TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
sslVersionMin = TLSv1.3
CONF
# shellcheck disable=SC2086
$PIN_S stunnel4 "$T/stunnel.conf" 2>"$T/stunnel.log" &
STUNNEL_PID=$!
PIDS="$PIDS $!"
wait_port "$STP"

SSP=$(peer_port 3)
openssl s_server -quiet -nocert -tls1_3 -accept "$SSP" -psk_identity "$ID" -psk "$PSK" \
  -ciphersuites TLS_AES_128_GCM_SHA256 </dev/null >"$T/s_server.log" 2>&1 &
SSERVER_PID=$!
PIDS="$PIDS $!"
wait_port "$SSP"

# ---- the handshakes really use the PSK: a wrong key fails everywhere ----
echo "wrong key (must fail at each peer):"
for peer in "kedge-ecsd:$EP" "stunnel4:$STP" "openssl s_server:$SSP"; do
  name=${peer%:*} port=${peer##*:}
  out=$("$KB" --target "127.0.0.1:$port" -n 20 -c 1 --handshake-only --psk-identity "$ID" --psk "$WRONG" || true)
  printf '  %-18s %s of 20 handshakes succeeded\n' "$name" "$(echo "$out" | sed -n 's/.* ok \([0-9]*\)\/.*/\1/p')"
done

# ---- 2. full PSK handshakes per second ----
hs() { # hs "PIDS" NAME PORT [CLIENTS]
  measure "$1" --target "127.0.0.1:$3" -n "$N" -c "${4:-$CLIENTS}" --handshake-only \
    --psk-identity "$ID" --psk "$PSK" --warmup $((N / 10)) --label "$2"
}
NGINX_ALL="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')"
# ---- 2 and 6. full PSK handshakes: kedge-ecsd, OpenSSL's own cost, stunnel4, in turns ----
REF_N=$((N / 4))
echo "full TLS 1.3 PSK handshakes (psk_dhe_ke, X25519, TLS_AES_128_GCM_SHA256), warm key cache," \
  "$RUNS round(s)${PIN_S:+, servers on CPU 0 and kedge-bench on CPU 1}:"
for round in $(seq 1 "$RUNS"); do
  # shellcheck disable=SC2086
  out=$($PIN_S "$KB" --openssl-reference -n "$REF_N" --warmup $((REF_N / 10)))
  echo "  round $round: $out"
  REF_US=$(echo "$out" | sed -n 's/.*server side \([0-9.]*\) us.*/\1/p')
  peer ecs.server_cpu_us_per_handshake "$REF_US"
  # the same over loopback TCP: OpenSSL's work plus the kernel's for the same bytes
  # shellcheck disable=SC2086
  out=$($PIN_S "$KB" --openssl-reference --tcp -n "$REF_N" --warmup $((REF_N / 10)))
  echo "  round $round: $out"
  TCP_US=$(echo "$out" | sed -n 's/.*server side \([0-9.]*\) us.*/\1/p')
  peer ecs.server_cpu_us_per_handshake_tcp "$TCP_US"
  out=$(hs "$ECS_PID" "  round $round: kedge-ecsd" "$EP")
  echo "$out"
  E_HS=$(field "$out" "handshakes/s")
  E_US=$(us_op "$out")
  fig ecs.server_cpu_us_per_handshake "$E_US"
  fig ecs.server_cpu_us_per_handshake_tcp "$E_US"
  fig ecs.handshakes_per_s "$E_HS"
  fig ecs.p99_ms "$(p99_of "$out")"
  out=$(hs "$STUNNEL_PID" "  round $round: stunnel4 (PSKsecrets)" "$STP")
  echo "$out"
  S_HS=$(field "$out" "handshakes/s")
  S_US=$(us_op "$out")
  peer ecs.handshakes_per_s "$S_HS"
  peer ecs.p99_ms "$(p99_of "$out")"
  fig ecs.stunnel4_server_cpu_us_per_handshake "$S_US"
  peer ecs.stunnel4_server_cpu_us_per_handshake "$E_US"
  awk -v e="$E_HS" -v s="$S_HS" -v eu="$E_US" -v su="$S_US" -v r="$REF_US" -v rt="$TCP_US" 'BEGIN {
    printf "  round %d: kedge-ecsd server CPU %.2fx OpenSSL'"'"'s server side (target <= 1.3), %.2fx the same over loopback TCP; %.2fx stunnel4'"'"'s handshake rate (target >= 3); stunnel4 spends %.2fx the CPU per handshake\n",
      '"$round"', eu / r, eu / rt, e / s, su / eu }'
done
out=$(hs "$SSERVER_PID" "  openssl s_server -nocert -psk" "$SSP" 1)
echo "$out (sequential server: one client)"
fig ecs.s_server_cpu_us_per_handshake "$(us_op "$out")"

# system calls per handshake (strace slows the server down: a short run of its own)
if command -v strace >/dev/null 2>&1; then
  SN=$((N / 10))
  strace -c -f -p "$ECS_PID" -o "$T/strace.txt" 2>/dev/null &
  STRACE_PID=$!
  sleep 0.5
  # shellcheck disable=SC2086
  $PIN_C "$KB" --target "127.0.0.1:$EP" -n "$SN" -c "$CLIENTS" --handshake-only \
    --psk-identity "$ID" --psk "$PSK" --label "  under strace" >/dev/null || true
  sleep 0.3
  kill -INT "$STRACE_PID" 2>/dev/null || true
  wait "$STRACE_PID" 2>/dev/null || true
  if [ -s "$T/strace.txt" ]; then
    calls=$(awk -v n="$SN" '$NF != "total" && $4 ~ /^[0-9]+$/ { printf " %s %.2f", $NF, $4 / n }
      $NF == "total" { t = $4 } END { printf "; total %.1f", t / n }' "$T/strace.txt")
    echo "  kedge-ecsd system calls per handshake (strace -c -f, $SN handshakes):$calls"
    note "kedge-ecsd system calls per handshake (strace -c -f, $SN handshakes):$calls"
    fig ecs.syscalls_per_handshake "$(echo "$calls" | sed -n 's/.*total \([0-9.]*\).*/\1/p')"
  fi
fi

# ---- 7. curves: rate, p99 and server CPU vs concurrent clients, 1 and 2 workers, stunnel4 ----
ecs_conf "$T/ecs2.yaml" "$KSP" 60s 2
"$BIN/kedge-ecsd" --config "$T/ecs2.yaml" --ports-file "$T/ecs2.ports" 2>"$T/ecs2.log" &
ECS2_PID=$!
PIDS="$PIDS $!"
EP2=$(port_of "$T/ecs2.ports")
# sockets per process: kedge-bench and kedge-ecsd one per client, stunnel4 two (its backend)
MAXC=$(($(ulimit -n) - 200))
echo "curves: handshakes/s, p99 and server CPU per handshake vs concurrent clients ($CURVE_CLIENTS):"
for c in $CURVE_CLIENTS; do
  if [ "$c" -gt "$MAXC" ]; then
    note "curves: $c clients left out (ulimit -n $(ulimit -n): at most $MAXC)"
    continue
  fi
  n=$((c * 2 > CURVE_N ? c * 2 : CURVE_N))
  [ $((c * 2)) -gt "$MAXC" ] &&
    note "curves: stunnel4 at $c clients left out (ulimit -n $(ulimit -n): two sockets a client)"
  warm=$((c / 5 + 1)) # enough to open the connections once
  for srv in "kedge-ecsd 1 worker:$ECS_PID:$EP" "kedge-ecsd 2 workers:$ECS2_PID:$EP2" \
    "stunnel4:$STUNNEL_PID:$STP"; do
    name=${srv%%:*} rest=${srv#*:}
    pid=${rest%%:*} port=${rest#*:}
    pin=$PIN_C
    [ "$pid" = "$ECS2_PID" ] && pin=""
    [ "$pid" = "$STUNNEL_PID" ] && [ $((c * 2)) -gt "$MAXC" ] && continue
    t0=$(ticks "$pid")
    # shellcheck disable=SC2086
    line=$($pin "$KB" --target "127.0.0.1:$port" -n "$n" -c "$c" --handshake-only \
      --psk-identity "$ID" --psk "$PSK" --warmup "$warm" --label "  $name, $c clients" || true)
    t1=$(ticks "$pid")
    okn=$(echo "$line" | sed -n 's/.* ok \([0-9]*\)\/.*/\1/p')
    us=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v n="${okn:-0}" -v w="$warm" \
      'BEGIN { printf "%.0f", n ? t * 1e6 / hz / (n + w) : 0 }')
    echo "$line  server CPU $us us/op"
    echo "$name|$c|$(field "$line" "handshakes/s")" >>"$T/curve.txt"
    key=$(echo "$name" | tr ' ' '_')
    pt ecs.rate_vs_clients "$key" "$c" "$(field "$line" "handshakes/s")"
    pt ecs.p99_vs_clients "$key" "$c" "$(p99_of "$line")"
    pt ecs.cpu_vs_clients "$key" "$c" "$us"
  done
done

# Issue 17's rate target, read off the curves: each server's peak (closed loop: the answer
# floor caps kedge-ecsd at clients / 5 ms, so few clients do not show its rate) and the ratio at
# each client count, kedge-ecsd 1 worker and stunnel4 both pinned to CPU 0 (like for like).
if [ -s "$T/curve.txt" ]; then
  awk -F'|' -v order="$CURVE_CLIENTS" '
    { r[$1 "|" $2] = $3; if ($3 + 0 > peak[$1] + 0) { peak[$1] = $3; at[$1] = $2 } cs[$2] = 1 }
    END {
      printf "  peaks:"
      for (n in peak) printf " %s %.0f/s at %d clients;", n, peak[n], at[n]
      printf "\n"
      s = peak["stunnel4"]
      if (s > 0)
        printf "  peak vs peak: kedge-ecsd 1 worker %.2fx, 2 workers %.2fx stunnel4 (target >= 3)\n",
          peak["kedge-ecsd 1 worker"] / s, peak["kedge-ecsd 2 workers"] / s
      printf "  same clients, kedge-ecsd 1 worker / stunnel4 (both on CPU 0):"
      k = split(order, cl, " ")
      for (i = 1; i <= k; i++) {
        c = cl[i]
        if (r["stunnel4|" c] > 0) printf " %d: %.2fx", c, r["kedge-ecsd 1 worker|" c] / r["stunnel4|" c]
      }
      printf "\n"
    }' "$T/curve.txt"
  pk() { awk -F'|' -v n="$1" '$1 == n && $3 + 0 > m + 0 { m = $3 } END { print m + 0 }' "$T/curve.txt"; }
  fig ecs.peak_handshakes_per_s "$(pk "kedge-ecsd 1 worker")"
  peer ecs.peak_handshakes_per_s "$(pk stunnel4)"
  fig ecs.peak_handshakes_per_s_2_workers "$(pk "kedge-ecsd 2 workers")"
fi

# ---- 3. handshake + one EDGE-4 request per connection, next to handshake-only ----
# Issue 17: this ran at 369/s with p50 53.9 ms on an ECS whose handshakes alone had p50 8.4 ms:
# the answer floor had been pinned at answer_floor_max by the curves before it (a sample per
# handshake joined to a slow key request). The floor in force is printed with the figures; the
# handshake-only run right before it on the same ECS is the round trip's baseline.
metrics_of() { # metrics_of PORTS_FILE: the daemon's /metrics text
  curl -s "http://127.0.0.1:$(sed -n 's/^metrics_port=//p' "$1")/metrics"
}
floor_ms() { # floor_ms [PORTS_FILE]: the answer floor in force at that kedge-ecsd, in ms
  metrics_of "${1:-$T/ecs.ports}" |
    awk '/^kedge_ecs_answer_floor_microseconds / { printf "%.3f", $2 / 1000 }'
}
RQ_N=$N
[ $QUICK = 1 ] && RQ_N=$((N * 2))
req() { # req "PIDS" NAME PORT
  measure "$1" --target "127.0.0.1:$3" -n "$RQ_N" -c "$CLIENTS" --new-connection \
    --psk-identity "$ID" --psk "$PSK" --path /eecs-serviceprovisioning/v1/request \
    --data "$T/req.json" --warmup $((RQ_N / 10)) --label "$2"
}
p50_of() { echo "$1" | sed -n 's/.*p50 \([0-9.]*\) ms.*/\1/p'; }
echo "full handshake + POST /eecs-serviceprovisioning/v1/request per connection (-c $CLIENTS)," \
  "kedge-ecsd's answer floor $(floor_ms) ms:"
out=$(hs "$ECS_PID" "  kedge-ecsd handshake only (baseline)" "$EP")
echo "$out"
H_P50=$(p50_of "$out")
out=$(req "$ECS_PID" "  kedge-ecsd (EDGE-4 from its config)" "$EP")
echo "$out"
E_RQ=$(field "$out" "req/s")
E_US=$(us_op "$out")
E_P50=$(p50_of "$out")
fig ecs.edge4_req_per_s "$E_RQ"
fig ecs.edge4_p50_ms "$E_P50"
out=$(req "$STUNNEL_PID $NGINX_ALL" "  stunnel4 + nginx h2c (static JSON)" "$STP")
echo "$out"
S_RQ=$(field "$out" "req/s")
S_US=$(us_op "$out")
peer ecs.edge4_req_per_s "$S_RQ"
peer ecs.edge4_p50_ms "$(p50_of "$out")"
awk -v e="$E_RQ" -v s="$S_RQ" -v eu="$E_US" -v su="$S_US" -v hp="$H_P50" -v ep="$E_P50" 'BEGIN {
  printf "  kedge-ecsd vs stunnel4+nginx: %.2fx the rate; they spend %.2fx the CPU per connection\n", e / s, su / eu
  printf "  kedge-ecsd round trip: handshake + EDGE-4 p50 %.2f ms vs handshake only %.2f ms (+%.2f ms)\n", ep, hp, ep - hp }'
echo "  kedge-ecsd's answer floor after: $(floor_ms) ms"

if [ $QUICK = 0 ]; then
# ---- 4. cold path: every handshake fetches the key from kedge-ausfd ----
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
cat >"$T/udm.yaml" <<YAML
log: {level: warn}
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}}
udm: {database: $T/udm.sqlite, master_key: $T/udm.key, allowed_consumers: [ausf.kedge.test]}
YAML
printf '%s\n%s\n' "$K" "$OPC" |
  "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000001 --k-file - \
  --opc-file - >/dev/null
"$BIN/kedge-udmd" --config "$T/udm.yaml" --ports-file "$T/udm.ports" 2>"$T/udm.log" &
PIDS="$PIDS $!"
UP=$(port_of "$T/udm.ports")
cat >"$T/ausf.yaml" <<YAML
log: {level: warn}
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UP"}
ue_authentication: {allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]}
edge: {enabled: true, home_network: {mcc: "001", mnc: "01"}, master_key: $T/ausf.key}
keystore: "memory:"
keyrequest: {allowed_consumers: [{name: ecs.kedge.test}, {name: nef.kedge.test}]}
YAML
"$BIN/kedge-ausfd" --config "$T/ausf.yaml" --ports-file "$T/ausf.ports" 2>"$T/ausf.log" &
PIDS="$PIDS $!"
AP=$(port_of "$T/ausf.ports")
cat >"$T/ue.yaml" <<YAML
usim: {supi: imsi-001010000000001, k: $K, opc: $OPC, home_network: {mcc: "001", mnc: "01"},
       sqn_file: $T/ue.sqn}
ausf: {uri: "https://127.0.0.1:$AP", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key}
YAML
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read
UID_=$("$BIN/kedge-ue" register --config "$T/ue.yaml" --json | sed -n 's/.*"kedgeId":"\([^"]*\)".*/\1/p')
UKEY=$(curl -s --http2 --cacert "$T/pki/ca.crt" --cert "$T/pki/nef.crt" --key "$T/pki/nef.key" \
  -H 'content-type: application/json' -d '{"kedgeId":"'"$UID_"'"}' \
  "https://127.0.0.1:$AP/nausf-auth/v1/kedge-keys/retrieve" | sed -n 's/.*"kedge":"\([^"]*\)".*/\1/p')
ecs_conf "$T/cold.yaml" "$AP" 0
"$BIN/kedge-ecsd" --config "$T/cold.yaml" --ports-file "$T/cold.ports" 2>"$T/cold.log" &
PIDS="$PIDS $!"
CP=$(port_of "$T/cold.ports")
# Every handshake waits at least the answer floor (issue 12; 5 ms by default, more when twice
# the average key fetch is longer): issue 6's 5 ms p99 for the cold path predates the floor
# and cannot hold with it by design. What the cold path costs above the floor carries it now
# (ecs.cold_p99_above_floor_ms), with the key request's own time at the ECS and at
# kedge-ausfd beside it (from their histograms: bucket estimates).
CF0=$(floor_ms "$T/cold.ports")
echo "cold path (key_cache.ttl 0: every handshake asks kedge-ausfd), one connection at a time," \
  "$COLD each; answer floor $CF0 ms:"
"$KB" --target "127.0.0.1:$CP" -n "$COLD" -c 1 --handshake-only --psk-identity "$UID_" --psk "$UKEY" \
  --warmup 100 --label "  cold: handshake incl. key request"
out=$("$KB" --target "127.0.0.1:$CP" -n "$COLD" -c 1 --new-connection --psk-identity "$UID_" \
  --psk "$UKEY" --path /eecs-serviceprovisioning/v1/request --data "$T/req.json" --warmup 100 \
  --label "  cold: handshake + EDGE-4 request")
echo "$out"
CF1=$(floor_ms "$T/cold.ports")
"$KB" --target "127.0.0.1:$EP" -n "$COLD" -c 1 --handshake-only --psk-identity "$ID" --psk "$PSK" \
  --warmup 100 --label "  warm: handshake (cached key), floor $(floor_ms) ms"
p99=$(echo "$out" | sed -n 's/.*p99 \([0-9.]*\) ms.*/\1/p')
p50=$(p50_of "$out")
# the lower of the floors before and after: what lies above it is not understated
fl=$(awk -v a="$CF0" -v b="$CF1" 'BEGIN { print (a + 0 < b + 0) ? a : b }')
metrics_of "$T/cold.ports" >"$T/cold.metrics"
metrics_of "$T/ausf.ports" >"$T/ausf.metrics"
fq() { hist_quantile "$1" kedge_ecs_key_fetch_seconds <"$T/cold.metrics" | awk '{ printf "%.2f", $1 * 1000 }'; }
aq() {
  hist_quantile "$1" kedge_sbi_request_duration_seconds 'kedge-keys/retrieve' <"$T/ausf.metrics" |
    awk '{ printf "%.2f", $1 * 1000 }'
}
F50=$(fq 0.5) F99=$(fq 0.99) A50=$(aq 0.5) A99=$(aq 0.99)
awk -v p="$p99" -v m="$p50" -v f="$fl" -v f0="$CF0" -v f1="$CF1" -v f50="$F50" -v f99="$F99" \
  -v a50="$A50" -v a99="$A99" 'BEGIN {
  printf "  cold path p99 %.2f ms, p50 %.2f ms, answer floor %s ms before and %s ms after\n", p, m, f0, f1
  printf "  above the floor (%.3f ms): p50 %.2f ms, p99 %.2f ms (target <= 5 ms, issue 6)\n", f, m - f, p - f
  printf "  key request time (bucket estimates): at the ECS p50 %s ms p99 %s ms; inside kedge-ausfd p50 %s ms p99 %s ms\n", f50, f99, a50, a99 }'
fig ecs.cold_p99_ms "$p99"
fig ecs.cold_p99_above_floor_ms "$(awk -v p="$p99" -v f="$fl" 'BEGIN { printf "%.3f", p - f }')"
[ -n "$F99" ] && fig ecs.cold_key_fetch_p99_ms "$F99"
note "cold path: p50 $p50 ms, p99 $p99 ms with the answer floor at $CF0 ms before and $CF1 ms after" \
  "(issue 12: every handshake waits it, so issue 6's p99 <= 5 ms cannot hold for the whole" \
  "handshake; it is the target of ecs.cold_p99_above_floor_ms); key request p50 $F50 / p99" \
  "$F99 ms at the ECS, p50 $A50 / p99 $A99 ms inside kedge-ausfd (histogram bucket estimates)"
fetches=$(sed -n 's/^kedge_ecs_key_fetches_total{result="ok"} //p' "$T/cold.metrics")
# a key request slower than the floor is the one part of the key path a handshake waits for
slow=$(awk -v all="${fetches:-0}" '/^kedge_ecs_key_fetch_seconds_bucket\{le="0.005"\}/ { print all - $2 }' \
  "$T/cold.metrics")
echo "  key requests the cold ECS made: $fetches, of which ${slow:-?} took longer than 5 ms"

# ---- 5. akma cold path: every handshake asks kedge-aanfd for K_AF (SPEC.md 9) ----
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null
cat >"$T/aanf.yaml" <<YAML
log: {level: warn}
sbi: {port: 0, tls: {cert: $T/pki/aanf.crt, key: $T/pki/aanf.key, ca: $T/pki/ca.crt}}
aanf: {home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey: {allowed_consumers: [{name: ecs.kedge.test}]}
YAML
"$BIN/kedge-aanfd" --config "$T/aanf.yaml" --ports-file "$T/aanf.ports" 2>"$T/aanf.log" &
PIDS="$PIDS $!"
AAP=$(port_of "$T/aanf.ports")
"$BIN/kedge" derive akma --kausf 474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b \
  --supi imsi-001010000000001 --mcc 001 --mnc 01 --af-fqdn ecs.kedge.test >"$T/akma.json"
AKID=$(sed -n 's/.*"aKid":"\([^"]*\)".*/\1/p' "$T/akma.json")
KAF=$(sed -n 's/.*"kaf":"\([^"]*\)".*/\1/p' "$T/akma.json")
curl -s --http2 --cacert "$T/pki/ca.crt" --cert "$T/pki/ausf.crt" --key "$T/pki/ausf.key" \
  -H 'content-type: application/json' -o /dev/null \
  -d '{"supi":"imsi-001010000000001","aKId":"'"$AKID"'","kAkma":"'"$(sed -n 's/.*"kAkma":"\([^"]*\)".*/\1/p' "$T/akma.json")"'"}' \
  "https://127.0.0.1:$AAP/naanf-akma/v1/register-anchorkey"
ecs_conf "$T/akma.yaml" "$AAP" 0
printf 'ecs: {psk_profile: akma, ecs_id: ecs.kedge.test}\n' >>"$T/akma.yaml"
"$BIN/kedge-ecsd" --config "$T/akma.yaml" --ports-file "$T/akma.ports" 2>"$T/akma.log" &
PIDS="$PIDS $!"
KP=$(port_of "$T/akma.ports")
echo "akma cold path (key_cache.ttl 0: every handshake asks kedge-aanfd for K_AF), $COLD each:"
"$KB" --target "127.0.0.1:$KP" -n "$COLD" -c 1 --handshake-only --psk-identity "$AKID" --psk "$KAF" \
  --warmup 100 --label "  akma cold: handshake incl. K_AF request"
"$KB" --target "127.0.0.1:$CP" -n "$COLD" -c 1 --handshake-only --psk-identity "$UID_" --psk "$UKEY" \
  --warmup 100 --label "  kedge cold (same run): handshake incl. key request"
fetches=$(curl -s "http://127.0.0.1:$(sed -n 's/^metrics_port=//p' "$T/akma.ports")/metrics" |
  sed -n 's/^kedge_ecs_key_fetches_total{result="ok"} //p')
echo "  K_AF requests the akma ECS made: $fetches"
fi

# ---- the result file ----
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average before: $LOAD0; after: $LOAD1"
note "load average before: $LOAD0; after: $LOAD1 ($(nproc) CPUs shared with the load generator${PIN_S:+; servers pinned to CPU 0, kedge-bench to CPU 1})"
if [ -n "${KEDGE_BENCH_OUT:-}" ]; then
  mkdir -p "$KEDGE_BENCH_OUT"
  python3 - "$RES" "$KEDGE_BENCH_OUT/ecs.json" "$QUICK" <<'PY'
import json, sys
res, out, quick = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
figs, peers, pts, notes = {}, {}, {}, []
for line in open(res):
    kind, _, rest = line.rstrip("\n").partition(" ")
    if kind == "note":
        notes.append(rest)
        continue
    parts = rest.split(" ")
    try:
        if kind == "fig":
            figs.setdefault(parts[0], []).append(float(parts[1]))
        elif kind == "peer":
            peers.setdefault(parts[0], []).append(float(parts[1]))
        elif kind == "pt":
            pts.setdefault(parts[0], {}).setdefault(parts[1].replace("_", " "), []).append(
                [int(parts[2]), float(parts[3])])
    except (IndexError, ValueError):
        notes.append("unparsed result line: " + line.strip())
meta = {
    "ecs.server_cpu_us_per_handshake": ("kedge-ecsd server CPU per full PSK handshake", "us", "lower",
                                        "openssl-bio-pair server side", {"ratio_max": 1.3}),
    "ecs.server_cpu_us_per_handshake_tcp": ("kedge-ecsd server CPU per full PSK handshake, against OpenSSL over loopback TCP",
                                            "us", "lower", "openssl over loopback TCP, server side", None),
    "ecs.handshakes_per_s": ("kedge-ecsd full PSK handshakes per second, 20 closed-loop clients "
                             "(at most 20 / answer floor: 4,000/s at 5 ms; the >= 3x target is on "
                             "the peak)", "handshakes/s", "higher", "stunnel4 (PSKsecrets)", None),
    "ecs.p99_ms": ("kedge-ecsd handshake latency p99 (answer floor included)", "ms", "lower",
                   "stunnel4 (PSKsecrets)", None),
    "ecs.stunnel4_server_cpu_us_per_handshake": ("stunnel4 server CPU per full PSK handshake", "us",
                                                 "lower", "kedge-ecsd, same rounds", None),
    "ecs.s_server_cpu_us_per_handshake": ("openssl s_server -psk CPU per full handshake (one client)",
                                          "us", "lower", None, None),
    "ecs.cold_p99_ms": ("cold path p99: handshake + EDGE-4 request, key fetched from kedge-ausfd "
                        "(answer floor included: issue 6's 5 ms is on the figure above the floor)",
                        "ms", "lower", None, None),
    "ecs.cold_p99_above_floor_ms": ("cold path p99 above the answer floor in force (handshake + "
                                    "EDGE-4 request, key fetched from kedge-ausfd)", "ms", "lower",
                                    None, {"max": 5}),
    "ecs.cold_key_fetch_p99_ms": ("cold path key request p99 at the ECS (kedge_ecs_key_fetch_seconds, "
                                  "bucket estimate)", "ms", "lower", None, None),
    "ecs.edge4_req_per_s": ("kedge-ecsd full handshake + one EDGE-4 request per connection", "req/s",
                            "higher", "stunnel4 + nginx h2c", None),
    "ecs.edge4_p50_ms": ("kedge-ecsd handshake + EDGE-4 request p50 (answer floor included)", "ms",
                         "lower", "stunnel4 + nginx h2c", None),
    "ecs.peak_handshakes_per_s": ("kedge-ecsd 1 worker peak handshakes/s over the curve's client counts",
                                  "handshakes/s", "higher", "stunnel4 peak (same client counts)",
                                  {"ratio_min": 3}),
    "ecs.peak_handshakes_per_s_2_workers": ("kedge-ecsd 2 workers peak handshakes/s over the curve's client counts",
                                            "handshakes/s", "higher", None, None),
    "ecs.syscalls_per_handshake": ("kedge-ecsd system calls per handshake (strace -c -f)", "calls",
                                   "lower", None, None),
}
figures = []
for fid, values in figs.items():
    label, unit, better, peer_name, target = meta.get(fid, (fid, "", "lower", None, None))
    f = {"id": fid, "label": label, "unit": unit, "better": better, "values": values}
    if peer_name and fid in peers:
        f["peer"] = {"name": peer_name, "values": peers[fid]}
    if target:
        f["target"] = target
    figures.append(f)
titles = {
    "ecs.rate_vs_clients": ("ECS handshakes/s vs concurrent clients", "handshakes/s"),
    "ecs.p99_vs_clients": ("ECS handshake p99 vs concurrent clients", "p99 ms"),
    "ecs.cpu_vs_clients": ("ECS server CPU per handshake vs concurrent clients", "us per handshake"),
}
curves = [{"id": cid, "title": titles[cid][0], "x": "concurrent clients", "y": titles[cid][1],
           "log_x": True, "series": [{"name": name, "points": p} for name, p in series.items()]}
          for cid, series in pts.items()]
# vs workers: the same points, 1 and 2 workers at each client count
for cid, y in (("ecs.rate_vs_clients", "handshakes/s"), ("ecs.cpu_vs_clients", "us per handshake")):
    series = pts.get(cid, {})
    w1, w2 = dict(map(tuple, series.get("kedge-ecsd 1 worker", []))), dict(map(tuple, series.get("kedge-ecsd 2 workers", [])))
    both = [c for c in w1 if c in w2]
    if both:
        curves.append({"id": cid.replace("_vs_clients", "_vs_workers"),
                       "title": "kedge-ecsd " + y + " vs workers", "x": "workers", "y": y,
                       "log_x": False,
                       "series": [{"name": "%d clients" % c, "points": [[1, w1[c]], [2, w2[c]]]}
                                  for c in both]})
json.dump({"bench": "ecs", "quick": quick, "figures": figures, "curves": curves, "notes": notes},
          open(out, "w"), indent=1)
print("bench/ecs: wrote " + out)
PY
fi
