#!/bin/sh
# Issue 11 item 2: a second kedge-udmd started on the port of a running one refuses to start
# (one line naming the address, exit status 1) instead of sharing the port; the first one keeps
# serving on all its workers. The same for the metrics port.
# Usage: sh test-sbi-port-in-use.sh BUILD_DIR
BUILD=${1:?usage: test-sbi-port-in-use.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
pki_init
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
udm_conf() { # udm_conf FILE PORT METRICS_PORT
  cat >"$1" <<EOC
sbi:
  port: $2
  workers: 3
  tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}
  metrics: {port: $3}
udm:
  database: $T/udm.sqlite
  master_key: $T/udm.key
  allowed_consumers: [ausf.kedge.test]
EOC
}
udm_conf "$T/a.yaml" 0 0
start_daemon A kedge-udmd "$T/a.yaml"

# Same SBI port, free metrics port.
udm_conf "$T/b.yaml" "$A_PORT" 0
"$BIN/kedge-udmd" --config "$T/b.yaml" >"$T/b.out" 2>"$T/b.err" &
B=$!
PIDS="$PIDS $B"
if wait_for 5 sh -c "! kill -0 $B"; then
  wait "$B"; rc=$?
else
  kill -9 "$B"; rc=running # it shares the port (SO_REUSEPORT): the bug
fi
check "second daemon on the SBI port exits 1 (got $rc)" [ "$rc" = 1 ]
check "one line naming the address: $(cat "$T/b.err")" \
  grep -q "cannot listen on 127.0.0.1:$A_PORT: address already in use" "$T/b.err"
n=$(grep -c ' error: ' "$T/b.err")
check "exactly one error line (got $n)" [ "$n" -eq 1 ]

# Same metrics port, free SBI port.
udm_conf "$T/c.yaml" 0 "$A_METRICS_PORT"
"$BIN/kedge-udmd" --config "$T/c.yaml" 2>"$T/c.err"; rc=$?
check "second daemon on the metrics port exits 1 (got $rc)" [ "$rc" -eq 1 ]
check "metrics: one line naming the address: $(cat "$T/c.err")" \
  grep -q "cannot listen for metrics on 127.0.0.1:$A_METRICS_PORT: address already in use" "$T/c.err"

# The first one still serves, on every connection (all of them reach it, none is lost to B).
REQ='{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
good=0
for i in 1 2 3 4 5 6; do
  code=$(sbi_curl ausf -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
    "https://127.0.0.1:$A_PORT/nudm-ueau/v1/imsi-001010000000009/security-information/generate-auth-data")
  [ "$code" = 404 ] && good=$((good + 1))
done
check "the first daemon answers every connection ($good of 6)" [ "$good" -eq 6 ]
check "the first daemon is still running" kill -0 "$A_PID"
finish
