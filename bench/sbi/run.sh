#!/bin/sh
# bench/sbi: h2load (TLS 1.3, ALPN h2, 100 concurrent streams per connection) against the SBI
# runtime (kedge-sbi-testd) and against nginx serving the same JSON as a static file, with the
# same certificate, the same number of workers (threads vs processes) and client verification
# optional on both (h2load has no client certificate option). Prints req/s and the ratio
# kedge/nginx, and each server's CPU per request (from /proc: steadier than rates on a shared
# machine). Nothing is asserted. KEDGE_BENCH_RUNS rounds (default 1) through the three targets;
# with KEDGE_BENCH_OUT, the result file sbi.json (bench/report/kbench.py).
# Usage: sh bench/sbi/run.sh [BUILD_DIR]   (env: WORKERS=1 REQUESTS=100000 CLIENTS=10 STREAMS=100)
set -eu
. "$(dirname "$0")/../lib.sh"
BUILD=${1:-build}
WORKERS=${WORKERS:-1}
REQUESTS=${REQUESTS:-100000}
CLIENTS=${CLIENTS:-10}
STREAMS=${STREAMS:-100}
for tool in h2load nginx; do
  command -v $tool >/dev/null 2>&1 || [ -x /usr/sbin/$tool ] || { echo "bench/sbi: $tool missing (scripts/deps.sh)"; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
T=$(mktemp -d)
KPID= NPID=
cleanup() {
  [ -n "$KPID" ] && kill "$KPID" 2>/dev/null
  [ -n "$NPID" ] && kill "$NPID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

"$BUILD/bin/kedge" pki init "$T/pki" >/dev/null

cat >"$T/testd.yaml" <<YAML
log:
  level: warn
sbi:
  address: 127.0.0.1
  port: 0
  workers: $WORKERS
  tls:
    cert: $T/pki/ausf.crt
    key: $T/pki/ausf.key
    ca: $T/pki/ca.crt
    client_verification: optional
  limits:
    max_streams: 128
  metrics:
    enabled: false
YAML
"$BUILD/bin/kedge-sbi-testd" --config "$T/testd.yaml" --ports-file "$T/ports" &
KPID=$!
i=0
while [ ! -s "$T/ports" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
KPORT=$(sed -n 's/^port=//p' "$T/ports")

# The same JSON the test daemon answers for GET /test/v1/items/bench.
printf '{"itemId":"bench"}' >"$T/item.json"
# nginx workers run as an unprivileged user when started by root: let them read the file.
chmod 0755 "$T"
chmod 0644 "$T/item.json"
printf '{"itemId":"bench"}' >"$T/body.json"
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
    ssl_verify_client optional;
    http2_max_concurrent_streams 128;
    keepalive_requests 10000000;  # nginx ends an h2 connection after 1000 requests by default
    location = /test/v1/items/bench {
      default_type application/json;
      alias $T/item.json;
    }
  }
}
CONF
  "$NGINX" -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>>"$T/nginx/start.log" &
  NPID=$!
  listening "$NPORT" "$NPID"
}
tries=0
until start_nginx "$(peer_port "$tries")"; do
  tries=$((tries + 1))
  [ $tries -lt 10 ] || { cat "$T/nginx/start.log"; echo "bench/sbi: nginx did not start"; exit 1; }
done

# ticks PID...: CPU clock ticks (user + system) of these processes so far.
ticks() {
  t=0
  for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo $t
}
# run VAR NAME URL PIDS [h2load args]: prints a result line, sets VAR to req/s and VAR_cpu to
# the server's CPU microseconds per request (PIDS: the server's processes).
run() {
  var=$1 name=$2 url=$3 pids=$4
  shift 4
  h2load -n $((REQUESTS / 10)) -c "$CLIENTS" -m "$STREAMS" "$@" "$url" >/dev/null 2>&1 || true # warm-up
  c0=$(ticks $pids)
  out=$(h2load -n "$REQUESTS" -c "$CLIENTS" -m "$STREAMS" "$@" "$url" 2>&1)
  c1=$(ticks $pids)
  rps=$(echo "$out" | sed -n 's/^finished in [^,]*, \([0-9.]*\) req\/s.*/\1/p')
  ok=$(echo "$out" | sed -n 's/^status codes: \([0-9]*\) 2xx.*/\1/p')
  cpu=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="${ok:-0}" \
    'BEGIN { printf "%.2f", (n > 0 ? t / hz / n * 1e6 : 0) }')
  printf '%-40s %10s req/s  (%s of %s answered 2xx)  server CPU %s us/request\n' "$name" "${rps:-?}" \
    "${ok:-?}" "$REQUESTS" "$cpu"
  eval "$var=${rps:-0} ${var}_cpu=$cpu"
}
NGINX_PIDS="$NPID $(ps -o pid= --ppid "$NPID" | tr '\n' ' ')"
RUNS=${KEDGE_BENCH_RUNS:-1}
KBENCH="/usr/bin/python3 $(cd "$(dirname "$0")/.." && pwd)/report/kbench.py"
OUT=${KEDGE_BENCH_OUT:+$KEDGE_BENCH_OUT/sbi.json}

echo "bench/sbi: h2load -n $REQUESTS -c $CLIENTS -m $STREAMS, TLS 1.3 + h2, $WORKERS worker(s) each, $(nproc) CPU(s) shared with h2load, $RUNS round(s)"
r=1
while [ $r -le "$RUNS" ]; do
  run K_GET "kedge GET /test/v1/items/{itemId}" "https://127.0.0.1:$KPORT/test/v1/items/bench" "$KPID"
  run K_ECHO "kedge POST /test/v1/echo (JSON body)" "https://127.0.0.1:$KPORT/test/v1/echo" "$KPID" \
    -d "$T/body.json" -H 'content-type: application/json'
  run N_GET "nginx GET static JSON file" "https://127.0.0.1:$NPORT/test/v1/items/bench" "$NGINX_PIDS"
  awk -v kg="$K_GET" -v ke="$K_ECHO" -v n="$N_GET" 'BEGIN {
    if (n > 0) {
      printf "ratio kedge/nginx: GET %.2fx, echo %.2fx (target >= 1.0x)\n", kg / n, ke / n
    }
  }'
  if [ -n "$OUT" ]; then
    $KBENCH add "$OUT" --bench sbi --id sbi.get_rate --label "SBI runtime GET req/s (h2load, $WORKERS worker)" \
      --unit /s --better higher --value "$K_GET" --peer-name "nginx GET static file" --peer-value "$N_GET" \
      --target ratio_min=1.0
    $KBENCH add "$OUT" --bench sbi --id sbi.echo_rate --label "SBI runtime POST echo req/s" \
      --unit /s --better higher --value "$K_ECHO" --peer-name "nginx GET static file" --peer-value "$N_GET" \
      --target ratio_min=1.0
    $KBENCH add "$OUT" --bench sbi --id sbi.get_cpu_us_per_request --label "SBI runtime CPU per GET" \
      --unit us --better lower --value "$K_GET_cpu" --peer-name "nginx (master + workers)" --peer-value "$N_GET_cpu"
    $KBENCH add "$OUT" --bench sbi --id sbi.echo_cpu_us_per_request --label "SBI runtime CPU per POST echo" \
      --unit us --better lower --value "$K_ECHO_cpu" --peer-name "nginx GET (master + workers)" --peer-value "$N_GET_cpu"
  fi
  r=$((r + 1))
done
