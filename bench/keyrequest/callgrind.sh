#!/bin/sh
# bench/keyrequest/callgrind.sh: kedge-ausfd's user-space instructions per key request at small
# batches, the figure issue 17's key request work is decided by (CPU time per request on a shared
# VM moves with the batch sizes the scheduler happens to give; instruction counts do not).
# docs/performance-latency.md, key request part: "Fourth session (keyreq4)" for the method,
# "Fifth session (keyreq7)" for the figures.
#
# kedge-ausfd (one worker, pinned to CPU 0) runs under valgrind's callgrind with instrumentation
# off; the load tool (pinned to the last CPU) sends an open loop of RATE/s whose tick is TICK_US,
# so that RATE * TICK_US / 1e6 requests are due per tick (7 at 1,000/s and 7,000 us: the batch
# a worker sees at ~70,000/s without valgrind). After WARMUP s instrumentation is switched on
# for WINDOW s and the profile dumped; the instructions of the whole process (every thread) are
# divided by the calls of the key request's handler (`retrieve`). Nothing is asserted.
#
# Prints one line: instr_per_req=, calls=, malloc_per_req=, passes_per_req= (libevent loop
# passes), and leaves the profile in OUT (default: a temporary directory, removed) for
# callgrind_annotate; with OUT set also OUT/summary.txt (by library, self; top 40 functions,
# inclusive; tools/.. callgrind-summary.py).
#
# Usage: sh bench/keyrequest/callgrind.sh [BUILD_DIR]
#   env: STORE=sqlite|redis KEYS=20000 RATE=1000 TICK_US=7000 CONNS=4 WARMUP=3 WINDOW=3
#        AUSFD=PATH (another kedge-ausfd, e.g. main's, measured the same way) OUT=DIR
set -eu
. "$(dirname "$0")/../lib.sh"
BUILD=${1:-build}
STORE=${STORE:-sqlite}
KEYS=${KEYS:-20000}
RATE=${RATE:-1000}
TICK_US=${TICK_US:-7000}
CONNS=${CONNS:-4}
WARMUP=${WARMUP:-3}
WINDOW=${WINDOW:-3}
BIN=$(cd "$BUILD/bin" && pwd)
TOOL=$(cd "$BUILD/bench" && pwd)/bench-keyrequest
AUSFD=${AUSFD:-$BIN/kedge-ausfd}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for t in valgrind callgrind_control python3; do
  command -v $t >/dev/null 2>&1 || { echo "bench/keyrequest/callgrind: $t missing"; exit 1; }
done
ON_SERVER= ON_TOOL=
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  ON_SERVER="taskset -c 0" ON_TOOL="taskset -c $(($(nproc) - 1))"
fi

bench_scratch

"$BIN/kedge" pki init "$T/pki" >/dev/null
"$BIN/kedge" master-key "$T/master.key" >/dev/null
case $STORE in
  sqlite) KS="sqlite:$T/keys.sqlite" ;;
  redis)
    RPORT=$(peer_port 5)
    $ON_SERVER redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$T" \
      >"$T/redis.log" 2>&1 &
    PIDS="$PIDS $!"
    i=0
    while [ $i -lt 100 ] && ! redis-cli -p "$RPORT" ping >/dev/null 2>&1; do sleep 0.05; i=$((i + 1)); done
    KS="redis://127.0.0.1:$RPORT"
    ;;
  *) echo "bench/keyrequest/callgrind: STORE must be sqlite or redis"; exit 1 ;;
esac
"$TOOL" populate --keystore "$KS" --master-key "$T/master.key" --count "$KEYS" --out "$T/ids" >/dev/null

keyrequest_ausf_conf "$T/ausf.yaml" "$KS" warn "$T" 1
$ON_SERVER valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$T/cg.out" \
  "$AUSFD" --config "$T/ausf.yaml" --ports-file "$T/ports" 2>"$T/ausf.log" &
VPID=$!
PIDS="$PIDS $VPID"
i=0
while [ ! -s "$T/ports" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$T/ports" ] || { cat "$T/ausf.log"; echo "bench/keyrequest/callgrind: kedge-ausfd did not start"; exit 1; }
PORT=$(sed -n 's/^port=//p' "$T/ports")

$ON_TOOL "$TOOL" load --url "https://127.0.0.1:$PORT/nausf-auth/v1/kedge-keys/retrieve" \
  --ids "$T/ids" --ca "$T/pki/ca.crt" --cert "$T/pki/ecs.crt" --key "$T/pki/ecs.key" \
  --conns "$CONNS" --streams 100 --rate "$RATE" --tick-us "$TICK_US" \
  --warmup "$WARMUP" --duration "$((WINDOW + 2))" >"$T/load.out" &
LPID=$!
PIDS="$PIDS $LPID"
sleep "$WARMUP"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
callgrind_control -i on "$VPID" >/dev/null 2>&1
sleep "$WINDOW"
callgrind_control -d "$VPID" >/dev/null 2>&1
callgrind_control -i off "$VPID" >/dev/null 2>&1
wait "$LPID" || true
kill "$VPID" 2>/dev/null || true
wait "$VPID" 2>/dev/null || true
prof=$(ls "$T"/cg.out.* 2>/dev/null | head -1)
[ -n "$prof" ] || { cat "$T/ausf.log"; echo "bench/keyrequest/callgrind: no profile dumped"; exit 1; }
if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  cp "$prof" "$OUT/callgrind.out"
  python3 "$SRC/bench/keyrequest/callgrind-summary.py" --top 40 "$prof" >"$OUT/summary.txt"
fi
echo "callgrind: $STORE, $RATE/s, tick $TICK_US us, $CONNS connections, ${WINDOW} s window," \
  "load average $LOAD: $(python3 "$SRC/bench/keyrequest/callgrind-summary.py" --line "$prof")" \
  "tool: $(sed 's/ ok=.* p50_ms/ p50_ms/; s/ p90_ms.*//' "$T/load.out")"
