#!/bin/sh
# SIGHUP and systemd notifications (issue 11 item 6), with a real kedge-ausfd and kedge-udmd:
# - a request in flight across a reload completes (the AUSF's keyrequest answers after 1.5 s:
#   testing.keyrequest_delay), and the connection it came on stays usable;
# - after the certificate file is renewed and SIGHUP sent, openssl s_client sees the new serial;
# - one log line per reload; a broken file on reload is refused with one line, the daemon keeps
#   serving with the old configuration (old certificate still served);
# - allow-lists and tables are reloaded (the UDM refuses an AUSF no longer listed; the NEF
#   serves an AF added to its table and routes it by the new routing table);
# - NOTIFY_SOCKET (kedge-notify-listen standing in for systemd): READY=1 once listening,
#   RELOADING=1 then READY=1 around each reload, WATCHDOG=1 with WATCHDOG_USEC, STOPPING=1.
# Usage: sh test-reload.sh BUILD_DIR
BUILD=${1:?usage: test-reload.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
pki_init
cp "$T/pki/ausf.crt" "$T/cur.crt" && cp "$T/pki/ausf.key" "$T/cur.key"
serial_of_file() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
served_serial() { # served_serial PORT: the serial of the certificate a new connection gets
  echo | openssl s_client -connect "127.0.0.1:$1" -alpn h2 -cert "$T/pki/nef.crt" \
    -key "$T/pki/nef.key" -CAfile "$T/pki/ca.crt" 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
ausf_conf() { # ausf_conf FILE
  cat >"$1" <<EOC
sbi: {port: 0, tls: {cert: $T/cur.crt, key: $T/cur.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:9"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge: {enabled: true, key_lifetime: 1h, home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
keyrequest:
  allowed_consumers: [{name: nef.kedge.test, profiles: [kedge, bound]}]
  relays: [nef.kedge.test]
testing: {enabled: true, keyrequest_delay: 1500ms}
EOC
}
ausf_conf "$T/ausf.yaml"
"$BIN/kedge-notify-listen" "$T/notify.sock" >"$T/notify.log" 2>&1 &
PIDS="$PIDS $!"
wait_for 5 test -S "$T/notify.sock" || { echo "no notify socket"; exit 1; }
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=200000 start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
check "READY=1 once listening" wait_for 5 grep -q '^READY=1' "$T/notify.log"
check "WATCHDOG=1 with WATCHDOG_USEC" wait_for 5 grep -q '^WATCHDOG=1' "$T/notify.log"
OLD=$(served_serial "$AUSF_PORT")
check "the first certificate is served ($OLD)" [ "$OLD" = "$(serial_of_file "$T/cur.crt")" ]

KID=0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org
URL=https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve
# One curl, two requests on one connection: the first in flight across the reload, the second
# sent after it on the same (established) connection.
sbi_curl nef -H 'content-type: application/json' -d '{"kedgeId":"'"$KID"'"}' \
  -w '%{http_code} %{num_connects}\n' -o /dev/null "$URL" --next --http2 --cacert "$T/pki/ca.crt" \
  --cert "$T/pki/nef.crt" --key "$T/pki/nef.key" -H 'content-type: application/json' \
  -d '{"kedgeId":"'"$KID"'"}' -w '%{http_code} %{num_connects}\n' -o /dev/null "$URL" \
  >"$T/inflight.out" 2>&1 &
CURL=$!
sleep 0.5 # the request is in (it waits 1.5 s at the AUSF)
# Renew the certificate (new serial, same name) and reload.
rm -f "$T/pki/ausf.crt" "$T/pki/ausf.key"
"$BIN/kedge" pki issue "$T/pki" ausf >/dev/null
cp "$T/pki/ausf.crt" "$T/cur.crt.new" && cp "$T/pki/ausf.key" "$T/cur.key.new"
mv "$T/cur.crt.new" "$T/cur.crt" && mv "$T/cur.key.new" "$T/cur.key"
NEW=$(serial_of_file "$T/cur.crt")
kill -HUP "$AUSF_PID"
wait "$CURL"
check "request in flight across the reload completed ($(tr '\n' ' ' <"$T/inflight.out"))" \
  grep -q '^404 1$' "$T/inflight.out"
n=$(grep -c '^404' "$T/inflight.out")
check "and the next one on the same connection too (2 answers, got $n)" [ "$n" -eq 2 ]
check "the daemon is alive after SIGHUP" kill -0 "$AUSF_PID"
check "renewed certificate served after the reload (openssl s_client: $NEW)" \
  sh -c "[ \"\$(echo | openssl s_client -connect 127.0.0.1:$AUSF_PORT -alpn h2 -cert $T/pki/nef.crt -key $T/pki/nef.key -CAfile $T/pki/ca.crt 2>/dev/null | openssl x509 -noout -serial | cut -d= -f2)\" = '$NEW' ]"
check "the serial did change ($OLD -> $NEW)" [ "$OLD" != "$NEW" ]
n=$(grep -c 'reloaded ' "$T/AUSF.log")
check "one log line for the reload (got $n)" [ "$n" -eq 1 ]
check "RELOADING=1 then READY=1" sh -c "grep -A1 '^RELOADING=1' '$T/notify.log' | grep -q '^READY=1'"

# A broken file: refused with one line, old configuration (and certificate) stay.
cp "$T/ausf.yaml" "$T/ausf.yaml.good"
printf 'frob: 1\n' >>"$T/ausf.yaml"
kill -HUP "$AUSF_PID"
check "broken file: one line refusing it" wait_for 5 grep -q 'reload refused: .*ausf.yaml:[0-9]*: frob: unknown key' "$T/AUSF.log"
n=$(grep -c 'reload refused' "$T/AUSF.log")
check "exactly one refusal line (got $n)" [ "$n" -eq 1 ]
cp "$T/ausf.yaml.good" "$T/ausf.yaml"
rm -f "$T/cur.key"; printf 'not a key\n' >"$T/cur.key"
kill -HUP "$AUSF_PID"
check "unreadable key on reload: refused naming the file" \
  wait_for 5 grep -q "reload refused: .*cur.key" "$T/AUSF.log"
check "the daemon still serves after refused reloads" kill -0 "$AUSF_PID"
check "and still with the certificate loaded before ($NEW)" [ "$(served_serial "$AUSF_PORT")" = "$NEW" ]
code=$(sbi_curl nef -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"kedgeId":"'"$KID"'"}' "$URL")
check "and answers requests ($code)" [ "$code" = 404 ]
n=$(grep -c '^RELOADING=1' "$T/notify.log")
check "every reload notified, refused ones too (RELOADING=1 x$n)" [ "$n" -eq 3 ]
stop_daemon AUSF
check "STOPPING=1 on drain" grep -q '^STOPPING=1' "$T/notify.log"

# Allow-lists: the UDM refuses the AUSF after it is taken off udm.allowed_consumers.
# udm_allow CONSUMER: udm_conf's UDM (on its first port once it has one) that serves CONSUMER
udm_allow() {
  udm_conf "$T/udm.yaml" "${UDM_PORT:-0}"
  sed -i "s|allowed_consumers: \[ausf.kedge.test\]|allowed_consumers: [$1]|" "$T/udm.yaml"
}
udm_allow ausf.kedge.test
start_daemon UDM kedge-udmd "$T/udm.yaml"
GAD="https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-001010000000009/security-information/generate-auth-data"
REQ='{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
code=$(sbi_curl ausf -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" "$GAD")
check "UDM: the listed AUSF is served (unknown SUPI: 404, got $code)" [ "$code" = 404 ]
udm_allow other-ausf.kedge.test
kill -HUP "$UDM_PID"
wait_for 5 grep -q 'reloaded ' "$T/UDM.log"
code=$(sbi_curl ausf -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" "$GAD")
check "UDM: after the reload the AUSF is no longer allowed (403, got $code)" [ "$code" = 403 ]

# The NEF's AF table and AUSF routing table: af2 is unknown, then listed by a reload; the
# routing table then sends its requests to a group (nothing listens there: 503/504, not 403).
"$BIN/kedge" pki issue "$T/pki" af2 >/dev/null
nef_conf() { # nef_conf AF_IDS
  cat >"$T/nef.yaml" <<EOC
sbi: {port: ${NEF_PORT:-0}, tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}}
afs:
EOC
  for a in $1; do
    echo "  - {af_id: $a, profiles: [kedge], home_networks: [{mcc: \"001\", mnc: \"01\"}]}" >>"$T/nef.yaml"
  done
  cat >>"$T/nef.yaml" <<EOC
ausf:
  timeout: 200ms
  groups: [{name: home, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:1"]}]
EOC
}
nef_conf "af.kedge.test"
start_daemon NEF kedge-nefd "$T/nef.yaml"
NURL=https://127.0.0.1:$NEF_PORT/3gpp-kedge/v1/retrieve
code=$(sbi_curl af2 -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"afId":"af2.kedge.test","kedgeId":"'"$KID"'"}' "$NURL")
check "NEF: an AF not in the table is refused (403, got $code)" [ "$code" = 403 ]
nef_conf "af.kedge.test af2.kedge.test"
kill -HUP "$NEF_PID"
wait_for 5 grep -q 'reloaded ' "$T/NEF.log"
code=$(sbi_curl af2 -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"afId":"af2.kedge.test","kedgeId":"'"$KID"'"}' "$NURL")
check "NEF: after the reload the AF is known and routed (no AUSF answers: 503/504, got $code)" \
  sh -c "[ $code = 503 ] || [ $code = 504 ]"
finish
