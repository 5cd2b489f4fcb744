#!/bin/sh
# Connection budgets (issue 12): ~1,100 TCP connections from 127.0.0.1 that never send a byte
# (tests/util/idle_conns.py, bounded) at the ECS and at an SBI daemon (kedge-udmd, mTLS), then a
# genuine client must still get through while they are held:
# - ECS: openssl s_client with a fetched Kedge completes; the idle ones were shed oldest first
#   (per address, then overall); an established connection is never shed; no ClientHello
#   within hello_timeout closes a connection; kedge-eec whose handshake was shed says
#   "ECS busy" in one line and exits 5 (no SIGPIPE death);
# - UDM: curl with the AUSF's certificate gets its answer; the idle ones were shed.
# Usage: sh test-conn-budget.sh BUILD_DIR
BUILD=${1:?usage: test-conn-budget.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"
IDLE="/usr/bin/python3 $(cd "$(dirname "$0")/../util" && pwd)/idle_conns.py"
N=1100
pki_init
: >"$T/keys.txt"
add_keys 1 6
start_keysource

# idle NAME PORT COUNT [ARGS]: starts idle_conns in the background (at most 60 s) and waits
# until all its connections are accepted by the kernel
idle() {
  rm -f "$T/$1.ready" "$T/$1.stop"
  # shellcheck disable=SC2086
  $IDLE --port "$2" --count "$3" --seconds 60 --ready "$T/$1.ready" --stop "$T/$1.stop" \
    ${4:-} >"$T/$1.out" 2>&1 &
  eval "IDLE_$1=$!"
  PIDS="$PIDS $!"
  wait_for 30 test -s "$T/$1.ready" || { fail "$1: idle connections not established: $(cat "$T/$1.out")"; return 1; }
}
# idle_end NAME: stops it; sets CLOSED to how many the server closed
idle_end() {
  touch "$T/$1.stop"
  eval "wait \$IDLE_$1"
  CLOSED=$(sed -n 's/^closed \([0-9]*\) of.*/\1/p' "$T/$1.out")
}
metric0() { # metric0 NAME PORT: a series without labels
  v=$(curl -s "http://127.0.0.1:$2/metrics" | sed -n "s/^$1 //p")
  echo "${v:-0}"
}
limits() { # limits FILE YAML: adds keys to sbi.limits of a write_ecs file
  sed -i "s/limits: {handshake_timeout: \([^}]*\)}/limits: {handshake_timeout: \1, $2}/" "$1"
}

# ---- ECS: one address, per-address cap (default 128) ----
HS_TIMEOUT=30s write_ecs ecs
limits "$T/ecs.yaml" "hello_timeout: 30s"
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
make_key 1
# an established connection first: it must outlive the flood
(sleep 20) | timeout 25 openssl s_client -connect "127.0.0.1:$ECS_PORT" -tls1_3 -psk_identity "$KID" \
  -psk "$KEY" -alpn h2 >"$T/held.out" 2>&1 &
HELD=$!
PIDS="$PIDS $HELD"
wait_for 10 grep -q "Cipher is" "$T/held.out" || fail "established connection: $(cat "$T/held.out")"
if idle a "$ECS_PORT" $N; then
  make_key 2
  s_client "$ECS_PORT" "$KID" "$KEY" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" &&
    ok "ECS: a genuine PSK handshake completes while $N idle connections from 127.0.0.1 are held" ||
    fail "ECS: genuine handshake during the flood"
  gnutls "$ECS_PORT" "$KID" "$KEY" "$PSK_DHE" | grep -q "Handshake was completed" &&
    ok "ECS: gnutls-cli too" || fail "ECS: gnutls-cli during the flood"
  kill -0 "$HELD" 2>/dev/null && ok "ECS: the established connection was not shed" ||
    fail "ECS: the established connection was closed"
  idle_end a; closed=$CLOSED
  [ "${closed:-0}" -ge $((N - 128 - 2)) ] && ok "ECS: $closed idle connections shed (per-address cap 128)" ||
    fail "ECS: only ${closed:-?} idle connections closed"
  shed=$(metric0 kedge_sbi_handshakes_shed_total "$ECS_METRICS_PORT")
  [ "${shed:-0}" -ge $((N - 128)) ] && ok "ECS: kedge_sbi_handshakes_shed_total $shed" ||
    fail "ECS: shed metric ${shed:-?}"
fi

# ---- ECS: no per-address cap, max_handshakes 1024: the oldest overall go ----
HS_TIMEOUT=30s write_ecs flat
limits "$T/flat.yaml" "hello_timeout: 30s, max_handshakes: 1024, max_handshakes_per_address: 0"
start_daemon FLAT kedge-ecsd "$T/flat.yaml"
if idle b "$FLAT_PORT" $N; then
  make_key 3
  s_client "$FLAT_PORT" "$KID" "$KEY" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" &&
    ok "ECS (no per-address cap): genuine handshake completes with the budget full" ||
    fail "ECS (no per-address cap): genuine handshake"
  idle_end b; closed=$CLOSED
  [ "${closed:-0}" -ge $((N - 1024)) ] && [ "${closed:-0}" -le $((N - 1024 + 8)) ] &&
    ok "ECS (no per-address cap): $closed oldest idle connections shed to stay at 1024" ||
    fail "ECS (no per-address cap): ${closed:-?} closed"
fi

# ---- ECS: hello_timeout ----
HS_TIMEOUT=20s write_ecs hello
limits "$T/hello.yaml" "hello_timeout: 1s"
start_daemon HELLO kedge-ecsd "$T/hello.yaml"
rm -f "$T/c.ready"
$IDLE --port "$HELLO_PORT" --count 20 --seconds 6 --ready "$T/c.ready" >"$T/c.out" 2>&1
grep -q "^closed 20 of 20" "$T/c.out" &&
  ok "ECS: connections without a ClientHello closed by hello_timeout (1 s), not handshake_timeout (20 s)" ||
  fail "ECS hello_timeout: $(cat "$T/c.out")"

# ---- kedge-eec whose handshake is shed: one line, exit 5 ----
stop_daemon KS
start_keysource "" 3s
KS_TIMEOUT=4s HS_TIMEOUT=8s write_ecs busy
limits "$T/busy.yaml" "max_handshakes_per_address: 4"
start_daemon BUSY kedge-ecsd "$T/busy.yaml"
make_key 4
(umask 077 && echo "$KEY" >"$T/k4.hex")
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$BUSY_PORT" --eec-id eec-4 --kedge-id "$KID" \
  --key-file "$T/k4.hex" >/dev/null 2>"$T/eec.err" &
EEC_PID=$!
fetching() { test "$(metric0 kedge_ecs_key_fetches_in_progress "$BUSY_METRICS_PORT")" = 1; }
wait_for 2 fetching || fail "kedge-eec's handshake is not waiting for its key"
$IDLE --port "$BUSY_PORT" --count 8 --seconds 1 --ready "$T/d.ready" >/dev/null 2>&1
wait "$EEC_PID"
rc=$?
[ "$rc" = 5 ] && [ "$(wc -l <"$T/eec.err")" = 1 ] && grep -q "ECS busy" "$T/eec.err" &&
  ok "kedge-eec shed by the ECS: exit 5, one line: $(cat "$T/eec.err")" ||
  fail "kedge-eec shed: exit $rc, $(cat "$T/eec.err")"

# ---- an SBI daemon: kedge-udmd (mutual TLS is its handshake) ----
# not udm_conf: sbi.limits with long hello and handshake timeouts, so that idle connections
# are shed by the budget, not by a timer
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
cat >"$T/udm.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt},
      limits: {hello_timeout: 30s, handshake_timeout: 30s}}
udm: {database: $T/udm.sqlite, master_key: $T/udm.key, allowed_consumers: [ausf.kedge.test]}
EOC
start_daemon UDM kedge-udmd "$T/udm.yaml"
if idle u "$UDM_PORT" $N; then
  code=$(sbi_curl ausf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"6f8e0f6a-0c44-4c3e-9b7e-2a1d9f3c5b11"}' \
    "https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data")
  [ "$code" = 404 ] && grep -q '"cause"' "$T/r" &&
    ok "UDM: a genuine SBI request (mTLS) is answered while $N idle connections are held ($code)" ||
    fail "UDM: genuine request during the flood: $code $(cat "$T/r")"
  idle_end u; closed=$CLOSED
  [ "${closed:-0}" -ge $((N - 128 - 2)) ] && ok "UDM: $closed idle connections shed" ||
    fail "UDM: only ${closed:-?} idle connections closed"
fi
# ---- out of descriptors: accept pauses instead of spinning, and serves again afterwards ----
cat >"$T/udm-few.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt},
      limits: {hello_timeout: 30s, handshake_timeout: 30s}}
udm: {database: $T/udm.sqlite, master_key: $T/udm.key, allowed_consumers: [ausf.kedge.test]}
EOC
rm -f "$T/FEW.ports"
(ulimit -n 48 && exec "$BIN/kedge-udmd" --config "$T/udm-few.yaml" --ports-file "$T/FEW.ports") \
  2>>"$T/FEW.log" &
FEW_PID=$!
PIDS="$PIDS $FEW_PID"
wait_for 10 test -s "$T/FEW.ports" || fail "kedge-udmd with 48 descriptors did not start"
FEW_PORT=$(sed -n 's/^port=//p' "$T/FEW.ports")
if idle f "$FEW_PORT" 100; then
  sleep 0.5
  ticks0=$(awk '{print $14 + $15}' "/proc/$FEW_PID/stat")
  sleep 1
  ticks1=$(awk '{print $14 + $15}' "/proc/$FEW_PID/stat")
  idle_end f
  grep -q "pausing accept for 100 ms" "$T/FEW.log" &&
    ok "out of descriptors: accept pauses (EMFILE logged), CPU over 1 s: $((ticks1 - ticks0)) ticks" ||
    fail "out of descriptors: no pause logged"
  code=$(sbi_curl ausf -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"6f8e0f6a-0c44-4c3e-9b7e-2a1d9f3c5b11"}' \
    "https://127.0.0.1:$FEW_PORT/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data")
  [ "$code" = 404 ] && ok "  and it serves again once the connections are gone" ||
    fail "after EMFILE: $code"
fi
check "no daemon crashed" kill -0 "$ECS_PID" "$FLAT_PID" "$HELLO_PID" "$BUSY_PID" "$UDM_PID" "$FEW_PID"
finish
