#!/bin/sh
# kedge-eec provision against kedge-ecsd (keys from kedge-keysource-testd): the edge
# configuration arrives (text and --json, TS 24.558 member names), AC matching and 204, the
# ECS's EEC ID policy (403), profile bound with K_ECS derived by the EEC, one line naming the
# failed step with its own exit status (usage, key file, TCP, TLS alert, HTTP), and 100
# handshakes at once while the key source answers slowly: none waits on another's fetch.
# Usage: sh test-eec-provision.sh BUILD_DIR
BUILD=${1:?usage: test-eec-provision.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"
pki_init
: >"$T/keys.txt"
add_keys 1 5
start_keysource
# generous timeouts: 100 EEC processes share two cores with everything else (and ASan)
HS_TIMEOUT=30s KS_TIMEOUT=10s write_ecs ecs
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
EEC="$BIN/kedge-eec"

# key_file N [ECS_ID]: $T/kN.hex (mode 0600) with the key of subscriber N; sets KID
key_file() {
  make_key "$1"
  (umask 077 && echo "$KEY" >"$T/k$1.hex")
}

# provision ARGS...: runs kedge-eec provision; $out, $err and $rc
provision() {
  "$EEC" provision --ecs "127.0.0.1:$ECS_PORT" "$@" >"$T/out" 2>"$T/err"
  rc=$?
  out=$(cat "$T/out")
  err=$(cat "$T/err")
}

key_file 1
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex"
[ "$rc" = 0 ] && echo "$out" | grep -q "EDN dnn=edge.example" &&
  echo "$out" | grep -q "EES ees-video https://ees-video.example:8443 (registration required)" &&
  echo "$out" | grep -q "TLS_AES_128_GCM_SHA256, key exchange X25519" &&
  ok "provision: EES list printed, PSK with X25519" || fail "provision ($rc): $out $err"

provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex" --json
echo "$out" >"$T/resp.json"
[ "$rc" = 0 ] && grep -q '"ednCnfgInfo"' "$T/resp.json" && grep -q '"eesId": "ees-all"' "$T/resp.json" &&
  grep -q '"eecRegConf": true' "$T/resp.json" && grep -q '"lifeTime"' "$T/resp.json" &&
  grep -q '"uri": "https://ees-video.example:8443"' "$T/resp.json" &&
  ok "--json: ECSServProvResp with TS 24.558 member names" || fail "--json: $out $err"

provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex" --ac-id ac.game --json
[ "$rc" = 0 ] && echo "$out" | grep -q '"ees-all"' && ! echo "$out" | grep -q '"ees-video"' &&
  ok "--ac-id ac.game: only the EES serving it" || fail "ac.game: $out"
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex" --ac-id ac.video --ac-id ac.game --json
[ "$rc" = 0 ] && echo "$out" | grep -q '"ees-all"' && echo "$out" | grep -q '"ees-video"' &&
  ok "two --ac-id: both EESs" || fail "two ACs: $out"
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex" --ac-id ac.other
[ "$rc" = 0 ] && [ -z "$out" ] && echo "$err" | grep -q "(204)" &&
  ok "an AC outside allowed_ac_ids: 204, exit 0, nothing on stdout" || fail "204: $rc $out $err"

# ---- the ECS's EEC ID policy ----
write_ecs policy
sed -i 's/allowed_eec_ids: \["\*"\]/allowed_eec_ids: [eec-1]/' "$T/policy.yaml"
start_daemon POLICY kedge-ecsd "$T/policy.yaml"
"$EEC" provision --ecs "127.0.0.1:$POLICY_PORT" --eec-id eec-2 --kedge-id "$KID" \
  --key-file "$T/k1.hex" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 6 ] && grep -q "HTTP 403 EEC_NOT_AUTHORIZED" "$T/err" &&
  ok "EEC ID outside allowed_eec_ids: exit 6, HTTP 403 EEC_NOT_AUTHORIZED" ||
  fail "policy: $rc $(cat "$T/err")"

# ---- profile bound: the EEC derives K_ECS from Kedge and the ECS ID ----
write_ecs bound "ecs: {psk_profile: bound, ecs_id: ecs.kedge.test}"
start_daemon BOUND kedge-ecsd "$T/bound.yaml"
"$EEC" provision --ecs "127.0.0.1:$BOUND_PORT" --eec-id eec-1 --kedge-id "$KID" \
  --key-file "$T/k1.hex" --profile bound --ecs-id ECS.kedge.test. >/dev/null 2>"$T/err" &&
  ok "bound: EEC derives K_ECS (ECS ID normalised) and provisions" ||
  fail "bound: $(cat "$T/err")"
"$EEC" provision --ecs "127.0.0.1:$BOUND_PORT" --eec-id eec-1 --kedge-id "$KID" \
  --key-file "$T/k1.hex" >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 5 ] && grep -q "decrypt_error" "$T/err" &&
  ok "bound ECS, kedge-profile EEC: exit 5, decrypt_error" || fail "bound/kedge: $rc $(cat "$T/err")"

# ---- each failed step: one line, its own exit status ----
provision --eec-id eec-1 --kedge-id "$KID"
[ "$rc" = 2 ] && [ "$(echo "$err" | wc -l)" = 1 ] && ok "usage error: exit 2, one line" ||
  fail "usage: $rc $err"
chmod 644 "$T/k1.hex"
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex"
[ "$rc" = 3 ] && echo "$err" | grep -q "mode 0644" && ! echo "$err" | grep -q "$KEY" &&
  ok "key file 0644 refused: exit 3, names the mode, not the key" || fail "key mode: $rc $err"
chmod 600 "$T/k1.hex"
"$EEC" provision --ecs 127.0.0.1:1 --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k1.hex" \
  >/dev/null 2>"$T/err"
rc=$?
[ "$rc" = 4 ] && grep -q "TCP: cannot connect to 127.0.0.1:1: Connection refused" "$T/err" &&
  ok "TCP refused: exit 4" || fail "TCP: $rc $(cat "$T/err")"
key_file 2
echo 00000000000000000000000000000000000000000000000000000000000000ff >"$T/k2.hex"
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k2.hex"
[ "$rc" = 5 ] && echo "$err" | grep -q "TLS handshake: received alert decrypt_error" &&
  [ "$(echo "$err" | wc -l)" = 1 ] && ok "wrong key: exit 5, 'received alert decrypt_error'" ||
  fail "wrong key: $rc $err"
key_file 3
ks_mode '{"mode":"500"}'
provision --eec-id eec-1 --kedge-id "$KID" --key-file "$T/k3.hex"
[ "$rc" = 5 ] && echo "$err" | grep -q "received alert internal_error" &&
  ok "key source failing: exit 5, 'received alert internal_error'" || fail "500: $rc $err"
ks_mode '{"mode":"ok"}'
provision --eec-id "" --kedge-id "$KID" --key-file "$T/k3.hex"
[ "$rc" = 2 ] && ok "empty --eec-id: usage" || fail "empty eec-id: $rc"
provision --eec-id eec-1 --kedge-id "bad@id" --key-file "$T/k3.hex"
[ "$rc" = 2 ] && echo "$err" | grep -q "kedge-id" && ok "malformed --kedge-id: usage" ||
  fail "bad kedge id: $rc $err"
provision --eec-id eec-1 --agent "$T/none.sock"
[ "$rc" = 3 ] && echo "$err" | grep -q "agent" && ok "--agent: one line naming the agent, exit 3" ||
  fail "agent: $rc $err"

# ---- 100 handshakes at once, key source answering after 500 ms each ----
add_keys 100 199
stop_daemon KS
start_keysource "$KS_PORT" 500ms
i=100
while [ "$i" -le 199 ]; do
  key_file "$i"
  echo "$KID" >"$T/id$i"
  i=$((i + 1))
done
before=$(ks_count)
start=$(date +%s%N)
i=100
while [ "$i" -le 199 ]; do
  "$EEC" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id "eec-$i" --kedge-id "$(cat "$T/id$i")" \
    --key-file "$T/k$i.hex" >/dev/null 2>"$T/e$i" &
  eval "pid$i=\$!"
  i=$((i + 1))
done
failed=0
i=100
while [ "$i" -le 199 ]; do
  eval "wait \$pid$i" || failed=$((failed + 1))
  i=$((i + 1))
done
ms=$((($(date +%s%N) - start) / 1000000))
echo "100 EECs, key source delay 500 ms: all done in $ms ms"
check "100 concurrent provisions succeed" test "$failed" = 0
check "100 key requests, one per identity" test $(($(ks_count) - before)) = 100
# one after another they would take 100 x 500 ms = 50 s
check "no handshake waited on another's fetch ($ms ms, one after another: 50 s)" test "$ms" -lt 25000
check "no ECS crashed" kill -0 "$ECS_PID" "$POLICY_PID" "$BOUND_PID"
finish
