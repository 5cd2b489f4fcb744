#!/bin/sh
# Edge key revocation that reaches the ECS (issue 13; docs/security.md "Revocation"), with the
# real daemons on loopback: kedge-udmd, kedge-ausfd (SQLite key store), kedge-nefd, kedge-ecsd.
# - an ECS that subscribes (revocCallbackUri) refuses a replaced key on a NEW handshake
#   (openssl s_client -psk, kedge-eec) at once, although key_cache_ttl is 60 s, and closes the
#   connection authenticated with it (revocation.connections: close); the same after a
#   deregistration (POST .../deregister deletes the key: cause DELETED);
# - an ECS without a subscription keeps the old key until key_cache_ttl (the TTL rule);
# - through the NEF: the AUSF notifies the NEF, the NEF relays to the AF's ECS, which refuses
#   the old key and, configured with connections: keep, leaves the open connection alone;
# - the body the AUSF sends, caught by a test sink (kedge-sbi-testd /test/v1/notify), is a
#   KedgeRevocationNotification of api/TS29509_Nausf_UEAuthentication_keyrequest.yaml with the
#   3gpp-Sbi-Callback header; a bad callback URI is refused with 400; bad notifications too;
# - a dead ECS: the notifications are retried with back-off, then dropped; past queue_size
#   they are refused and counted (queue_full); the queue ends empty (no growth).
# Usage: sh test-revoke.sh BUILD_DIR
BUILD=${1:?usage: test-revoke.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
pki_init
"$BIN/kedge" pki issue "$T/pki" ecs.partner.example >/dev/null
"$BIN/kedge" pki issue "$T/pki" sink.kedge.test >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null

supi() { echo "imsi-00101$(printf %010d "$1")"; }
udm_conf
udm_import 12 7 # supi 1 .. 12, RID 7
start_daemon UDM kedge-udmd "$T/udm.yaml"

cat >"$T/ausf.yaml" <<EOC
sbi: {port: 0, workers: 2, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: nef.kedge.test, profiles: [kedge, bound]}
  relays: [nef.kedge.test]
revocation: {queue_size: 4, max_batch: 2, retry_min: 50ms, retry_max: 200ms, max_attempts: 2,
             timeout: 3s}
EOC
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
# register I: the UE of subscriber I registers (5G AKA); sets ID and KEY (the AUSF's Kedge,
# fetched as a consumer that does not subscribe)
register() {
  cat >"$T/ue$1.yaml" <<EOC
usim: {supi: $(supi "$1"), k: $K, opc: $OPC, routing_indicator: "7",
       home_network: {mcc: "001", mnc: "01"}, sqn_file: $T/ue$1.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt,
       key: $T/pki/seaf.key}
EOC
  chmod 600 "$T/ue$1.yaml" # K and OPc: kedge-ue refuses a file others may read
  "$BIN/kedge-ue" register --config "$T/ue$1.yaml" --json >"$T/ue$1.out" 2>"$T/ue$1.err" ||
    { fail "register $1: $(cat "$T/ue$1.err")"; return 1; }
  ID=$(jget kedgeId "$T/ue$1.out")
  sbi_curl nef -o "$T/r" -H 'content-type: application/json' -d '{"kedgeId":"'"$ID"'"}' \
    "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve"
  KEY=$(jget kedge "$T/r")
  echo "$ID" >"$T/id$1"
  (umask 077 && echo "$KEY" >"$T/k$1.hex")
}
handshake_ok() { s_client "$1" "$2" "$3" | grep -q "Cipher is TLS_AES_128_GCM_SHA256"; }
refused() { s_client "$1" "$2" "$3" | grep -q "SSL alert number 51"; }
# hold PORT ID KEY NAME: a TLS-PSK connection left open (s_client reading a FIFO that a
# sleeping writer keeps open; both are stopped at exit)
hold() {
  mkfifo "$T/$4.in"
  timeout 40 openssl s_client -connect "127.0.0.1:$1" -tls1_3 -psk_identity "$2" -psk "$3" \
    -alpn h2 <"$T/$4.in" >"$T/$4.out" 2>&1 &
  PIDS="$PIDS $!"
  sleep 40 >"$T/$4.in" &
  PIDS="$PIDS $!"
  wait_for 5 grep -q "Cipher is" "$T/$4.out"
}
a_metric() { metric "$1" "$2" "$AUSF_METRICS_PORT"; }
# metric0 NAME PORT: a series without labels (0 when absent)
metric0() {
  v=$(curl -s "http://127.0.0.1:$2/metrics" | grep "^$1 " | sed 's/.* //')
  echo "${v:-0}"
}
# metric_is NAME PORT VALUE (for wait_for: read again at each try)
metric_is() { test "$(metric0 "$1" "$2")" = "$3"; }

# ---- the ECS in the operator's domain, subscribed; another without a subscription ----
KS_PORT=$AUSF_PORT write_ecs ecs "revocation: {enabled: true, notifiers: [ausf.kedge.test, nef.kedge.test], connections: close}"
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
KS_PORT=$AUSF_PORT write_ecs plain "key_cache: {ttl: 60s}"
start_daemon PLAIN kedge-ecsd "$T/plain.yaml"
grep -q "revocation_port=[1-9]" "$T/ECS.ports" && ok "the ports file names the notification listener" ||
  fail "no revocation_port in $(cat "$T/ECS.ports")"

register 1
OLD_ID=$ID OLD_KEY=$KEY
check "subscribed ECS: handshake with the new key" handshake_ok "$ECS_PORT" "$OLD_ID" "$OLD_KEY"
check "ECS without subscription: handshake with the new key" handshake_ok "$PLAIN_PORT" "$OLD_ID" "$OLD_KEY"
check "a connection authenticated with the key stays open" hold "$ECS_PORT" "$OLD_ID" "$OLD_KEY" HELD
check "the AUSF keeps the ECS's subscription" test "$(metric0 kedge_ausf_revocation_subscriptions "$AUSF_METRICS_PORT")" -ge 1
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$OLD_ID" \
  --key-file "$T/k1.hex" >/dev/null 2>"$T/err" && ok "kedge-eec provisions with the key" ||
  fail "kedge-eec before: $(cat "$T/err")"
cp "$T/k1.hex" "$T/kold.hex"

register 1 # a new 5G AKA replaces the key (SPEC.md 2)
[ "$ID" != "$OLD_ID" ] || fail "the new registration kept the Kedge ID"
wait_for 5 metric_is kedge_ecs_revoked_keys_total "$ECS_METRICS_PORT" 1 &&
  ok "the AUSF's notification reached the ECS" || fail "no revocation at the ECS: $(tail -5 "$T/AUSF.log")"
check "new handshake with the replaced key: refused at once (decrypt_error), TTL 60 s not over" \
  refused "$ECS_PORT" "$OLD_ID" "$OLD_KEY"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$OLD_ID" \
  --key-file "$T/kold.hex" >/dev/null 2>"$T/err"
[ $? = 5 ] && grep -q decrypt_error "$T/err" && ok "kedge-eec with the replaced key: decrypt_error" ||
  fail "kedge-eec after: $(cat "$T/err")"
wait_for 5 grep -q "closed" "$T/HELD.out" && ok "the open connection with the replaced key was closed" ||
  fail "the connection with the replaced key is still open"
check "the ECS counted one closed connection" \
  test "$(metric0 kedge_ecs_revoked_connections_total "$ECS_METRICS_PORT")" = 1
check "the new key works at the subscribed ECS" handshake_ok "$ECS_PORT" "$ID" "$KEY"
check "ECS without subscription: the replaced key still works from its cache (TTL rule)" \
  handshake_ok "$PLAIN_PORT" "$OLD_ID" "$OLD_KEY"
check "AUSF: notification counted as sent" test "$(a_metric kedge_ausf_revocation_notifications_total 'result="sent"')" -ge 1
check "AUSF: the notice counted with cause REPLACED" \
  test "$(a_metric kedge_ausf_revocation_notices_total 'cause="REPLACED"')" -ge 1
grep -q "revocation: Kedge ID $OLD_ID (REPLACED): dropped from the key cache" "$T/ECS.log" &&
  ok "the ECS logged the revocation" || fail "ECS log line"
! grep -q "$OLD_KEY" "$T/ECS.log" "$T/AUSF.log" && ok "no key in the logs" || fail "a key in a log"

# ---- a delete: POST .../deregister (SPEC.md 7, ausf_edge_revoke) ----
register 12
OLD_ID=$ID OLD_KEY=$KEY
check "handshake with the key of subscriber 12" handshake_ok "$ECS_PORT" "$OLD_ID" "$OLD_KEY"
check "a connection with it stays open" hold "$ECS_PORT" "$OLD_ID" "$OLD_KEY" HELD3
code=$(sbi_curl seaf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supi":"'"$(supi 12)"'"}' "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/ue-authentications/deregister")
check "deregister: 204" test "$code" = 204
wait_for 5 metric_is kedge_ecs_revoked_keys_total "$ECS_METRICS_PORT" 2 &&
  ok "deregistration: the notification reached the ECS" || fail "no revocation after deregister"
check "after deregistration the old key is refused on a new handshake" \
  refused "$ECS_PORT" "$OLD_ID" "$OLD_KEY"
wait_for 5 grep -q "closed" "$T/HELD3.out" && ok "and its open connection was closed" ||
  fail "the connection of a deregistered UE is still open"
check "AUSF: the notice counted with cause DELETED" \
  test "$(a_metric kedge_ausf_revocation_notices_total 'cause="DELETED"')" = 1
grep -q "revocation: Kedge ID $OLD_ID (DELETED)" "$T/ECS.log" && ok "the ECS logged cause DELETED" ||
  fail "ECS log: no DELETED"

# ---- the wire: what the AUSF sends, and what it refuses ----
cat >"$T/sink.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/sink.kedge.test.crt, key: $T/pki/sink.kedge.test.key, ca: $T/pki/ca.crt}}
EOC
start_daemon SINK kedge-sbi-testd "$T/sink.yaml"
register 2
sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"kedgeId":"'"$ID"'","revocCallbackUri":"https://127.0.0.1:'"$SINK_PORT"'/test/v1/notify"}' \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve" >"$T/code"
check "key request with revocCallbackUri: 200" test "$(cat "$T/code")" = 200
SINK_ID=$ID
register 2
# sink_notified (for wait_for): the sink has recorded a KedgeRevocation notice
sink_notified() {
  sbi_curl ecs "https://127.0.0.1:$SINK_PORT/test/v1/notified" | grep -q revokedKeys
}
wait_for 5 sink_notified || fail "the sink got no notification"
sbi_curl ecs "https://127.0.0.1:$SINK_PORT/test/v1/notified" >"$T/notified.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["callback"] == "Nausf_UEAuthentication_KedgeRevocation; apiversion=1", d
assert d["body"] == {"revokedKeys": [{"kedgeId": sys.argv[2], "cause": "REPLACED"}]}, d
json.dump(d["body"], open(sys.argv[3], "w"))
' "$T/notified.json" "$SINK_ID" "$T/body.json" 2>"$T/err" &&
  ok "the notification: 3gpp-Sbi-Callback and body {revokedKeys: [{kedgeId, cause: REPLACED}]}" ||
  fail "notification: $(cat "$T/err")"
# the documented schema (api/ with 3GPP's files beside it, for its TS 29.571 references)
mkdir -p "$T/openapi"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if [ -d "$SRC/../shared/ref/openapi" ] || [ -n "${KEDGE_OPENAPI_DIR:-}" ]; then
  for f in "${KEDGE_OPENAPI_DIR:-$SRC/../shared/ref/openapi}"/*.yaml; do ln -s "$f" "$T/openapi/"; done
fi
ln -sf "$SRC/api/TS29509_Nausf_UEAuthentication_keyrequest.yaml" "$T/openapi/"
KEDGE_OPENAPI_DIR=$T/openapi schema_ok "the AUSF's notification body" schema \
  TS29509_Nausf_UEAuthentication_keyrequest.yaml KedgeRevocationNotification <"$T/body.json"
code=$(sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"kedgeId":"'"$ID"'","revocCallbackUri":"http://127.0.0.1:1/x"}' \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve")
[ "$code" = 400 ] && grep -q OPTIONAL_IE_INCORRECT "$T/r" && grep -q revocCallbackUri "$T/r" &&
  ok "a callback URI that is not https: 400 OPTIONAL_IE_INCORRECT naming it" || fail "bad URI: $code $(cat "$T/r")"
RP=$(sed -n 's/^revocation_port=//p' "$T/ECS.ports")
code=$(sbi_curl ausf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"revokedKeys":[{"kedgeId":"not-a-kedge-id","cause":"DELETED"}]}' \
  "https://127.0.0.1:$RP/kedge-revocation/v1/notify")
[ "$code" = 400 ] && grep -q '/revokedKeys/0/kedgeId' "$T/r" &&
  ok "ECS: a malformed notification gets 400 naming the field" || fail "bad notice: $code $(cat "$T/r")"
code=$(sbi_curl seaf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"revokedKeys":[{"kedgeId":"'"$ID"'","cause":"DELETED"}]}' \
  "https://127.0.0.1:$RP/kedge-revocation/v1/notify")
[ "$code" = 403 ] && ok "ECS: a notification from a certificate not in notifiers: 403" ||
  fail "notice from seaf: $code"
check "the ECS still serves the current key (the refused notices changed nothing)" \
  handshake_ok "$ECS_PORT" "$ID" "$KEY"

# ---- through the NEF: AUSF -> NEF -> the AF's ECS (connections: keep) ----
cat >"$T/nef.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}}
afs:
  - {af_id: ecs.partner.example, profiles: [kedge], home_networks: [{mcc: "001", mnc: "01"}]}
ausf:
  groups: [{name: home, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$AUSF_PORT"]}]
revocation: {enabled: true, notifiers: [ausf.kedge.test], retry_min: 50ms, retry_max: 200ms}
EOC
start_daemon NEF kedge-nefd "$T/nef.yaml"
KS_TYPE=nef KS_PORT=$NEF_PORT write_ecs out "ecs: {ecs_id: ecs.partner.example}
revocation: {enabled: true, notifiers: [nef.kedge.test], connections: keep}"
sed -i -e "s#pki/ecs.crt#pki/ecs.partner.example.crt#" -e "s#pki/ecs.key#pki/ecs.partner.example.key#" "$T/out.yaml"
start_daemon OUT kedge-ecsd "$T/out.yaml"
register 3
OLD_ID=$ID OLD_KEY=$KEY
check "ECS outside the domain: handshake, key through the NEF" handshake_ok "$OUT_PORT" "$OLD_ID" "$OLD_KEY"
check "a connection to it stays open" hold "$OUT_PORT" "$OLD_ID" "$OLD_KEY" HELD2
check "the NEF remembers the AF's subscription" \
  test "$(metric0 kedge_nef_revocation_subscriptions "$NEF_METRICS_PORT")" = 1
register 3
wait_for 5 metric_is kedge_ecs_revoked_keys_total "$OUT_METRICS_PORT" 1 &&
  ok "AUSF -> NEF -> ECS: the notification reached the ECS outside the domain" ||
  fail "no revocation through the NEF: $(tail -3 "$T/NEF.log")"
check "the NEF counted one relayed revocation" \
  test "$(metric kedge_nef_revocations_total 'result="relayed"' "$NEF_METRICS_PORT")" = 1
check "new handshake with the replaced key: refused (decrypt_error)" refused "$OUT_PORT" "$OLD_ID" "$OLD_KEY"
sleep 0.3
check "connections: keep leaves the open connection alone" sh -c "! grep -q closed $T/HELD2.out"
check "the new key works through the NEF" handshake_ok "$OUT_PORT" "$ID" "$KEY"
grep -q "revocation: Kedge ID $OLD_ID (REPLACED) relayed to AF ecs.partner.example" "$T/NEF.log" &&
  ok "the NEF logged the relay" || fail "NEF relay log line"

# ---- an ECS that no longer answers (stopped): retried with back-off, dropped, bounded
# (queue_size 4, max_batch 2, max_attempts 2, timeout 3 s) ----
KS_PORT=$AUSF_PORT write_ecs dead "revocation: {enabled: true, notifiers: [ausf.kedge.test]}"
start_daemon DEAD kedge-ecsd "$T/dead.yaml"
for i in 4 5 6 7 8 9 10; do
  register "$i" && handshake_ok "$DEAD_PORT" "$ID" "$KEY" || fail "dead ECS: handshake $i"
done
kill -STOP "$DEAD_PID"
r0=$(metric0 kedge_ausf_revocation_notification_retries_total "$AUSF_METRICS_PORT")
f0=$(a_metric kedge_ausf_revocation_notifications_total 'result="failed"')
for i in 4 5 6 7 8 9 10; do register "$i"; done
q_full=$(a_metric kedge_ausf_revocation_notifications_total 'result="queue_full"')
# The first notice's POST hangs for 2 x 3 s while the others arrive: 3 wait beside it and the
# rest are refused (exactly 3 unless registering 7 UEs took longer than 6 s).
check "7 notices for a stopped ECS, queue_size 4: refused past the bound and counted (queue_full: $q_full, expected 3)" \
  test "$q_full" -ge 1
check "the queue holds at most 4" test "$(metric0 kedge_ausf_revocation_notification_queue "$AUSF_METRICS_PORT")" -le 4
wait_for 30 metric_is kedge_ausf_revocation_notification_queue "$AUSF_METRICS_PORT" 0 &&
  ok "the queue emptied: retried, then dropped (no growth)" ||
  fail "queue still $(metric0 kedge_ausf_revocation_notification_queue "$AUSF_METRICS_PORT")"
failed=$(($(a_metric kedge_ausf_revocation_notifications_total 'result="failed"') - f0))
check "every notice either refused ($q_full) or failed after its attempts ($failed): 7, none sent" \
  test $((q_full + failed)) = 7
retries=$(($(metric0 kedge_ausf_revocation_notification_retries_total "$AUSF_METRICS_PORT") - r0))
check "each batch (at most 2 notices) was sent twice: $retries retries for $failed notices" \
  test "$retries" -ge $(((failed + 1) / 2)) -a "$retries" -le "$failed"
grep -q "dropped after 2 attempts" "$T/AUSF.log" && ok "the AUSF logged the dropped batches" ||
  fail "no drop line in the AUSF log"
kill -CONT "$DEAD_PID"
register 11
check "the AUSF still answers and notifies live consumers afterwards" handshake_ok "$ECS_PORT" "$ID" "$KEY"
check "no daemon crashed" kill -0 "$UDM_PID" "$AUSF_PID" "$ECS_PID" "$NEF_PID" "$OUT_PID" "$SINK_PID"
kill -CONT "$DEAD_PID" 2>/dev/null
for d in ECS OUT PLAIN DEAD NEF AUSF UDM SINK; do stop_daemon "$d" || fail "$d did not exit cleanly"; done
# under ASan/UBSan (CI's second pass) a leak or an error at exit lands in the logs
! grep -l "Sanitizer\|runtime error" "$T"/*.log && ok "no sanitizer report in any daemon's log" ||
  fail "sanitizer reports: $(grep -h -A5 "Sanitizer\|runtime error" "$T"/*.log | head -20)"

finish
