#!/bin/sh
# kedge demo as a new user runs it: the whole flow (exit 0, every expected success and failure,
# flow.svg and trace.json from the run); then --up, talking to the running system with curl
# --http2 (the AUSF's key service with the ECS certificate) and openssl s_client -psk (the ECS)
# as the README's "try this" says, and --down.
# Usage: sh test-demo.sh BUILD_DIR
BUILD=${1:?usage: test-demo.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

out=$("$BIN/kedge" demo --dir "$T/run" 2>&1)
rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q 'All 6 expected successes succeeded and all 3 expected failures failed' &&
  ok "kedge demo: exit 0, 6 successes and 3 refusals" || fail "kedge demo (exit $rc): $out"
for step in 'Steps 0-2' 'step 1  UE:   Kedge ID' 'step 2  AUSF: stored the same Kedge ID' \
  '5.1/6.2 ECS   -> NEF' '5.2/6.1 NEF   -> AUSF' 'Profile bound' 'decrypt_error' \
  'AKMA 6.1 steps 3-5  AUSF: derived the same A-KID' 'A6.1:4-5 AUSF  -> AANF  POST /naanf-akma/v1/register-anchorkey' \
  'A6.2:3-5 ECS   -> AANF  POST /naanf-akma/v1/retrieve-applicationkey' \
  'A6.3:3-6 ECS   -> NEF   POST /3gpp-akma/v1/retrieve' 'A6.3:4-5 NEF   -> AANF' \
  'profile akma with the right A-KID but a wrong K_AF'; do
  echo "$out" | grep -q "$step" && ok "demo shows '$step'" || fail "demo output lacks '$step'"
done
xmllint --noout "$T/run/flow.svg" 2>/dev/null && grep -q '>UDM<' "$T/run/flow.svg" &&
  ok "flow.svg is well-formed XML with the lifelines" || fail "flow.svg"
roles=$(jq -r '.[] | .from, .to' "$T/run/trace.json" | sort -u | tr '\n' ' ')
[ "$roles" = "AANF AUSF ECS EEC NEF UDM UE " ] && ok "trace.json: every component traced ($roles)" ||
  fail "trace.json roles: $roles"
[ "$(jq '[.[] | select(.note == "decrypt_error")] | length' "$T/run/trace.json")" = 3 ] &&
  ok "trace.json: the three refused handshakes" || fail "trace.json failures"
grep -q '>AANF<' "$T/run/flow.svg" && grep -q 'register-anchorkey' "$T/run/flow.svg" &&
  ok "flow.svg shows the AAnF and the AKMA messages" || fail "flow.svg lacks AKMA"
! pgrep -f "$T/run/conf" >/dev/null && ok "every process stopped" || fail "processes left behind"

# --- --keylog: TLS secrets of the run for a capture (SSLKEYLOGFILE format) ---
"$BIN/kedge" demo --dir "$T/kl" --keylog "$T/keys.log" >/dev/null 2>&1 &&
  [ "$(grep -c '^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]\{64\} [0-9a-f]\{64,96\}$' "$T/keys.log")" -ge 10 ] &&
  ok "demo --keylog writes the sessions' secrets" || fail "keylog: $(head -2 "$T/keys.log")"

# --- --up, then talk to it ---
"$BIN/kedge" demo --up "$T/up" >"$T/up.out" 2>&1 || { fail "demo --up: $(cat "$T/up.out")"; finish; }
E=$T/up/endpoints.json
[ "$(jq -r 'keys | join(",")' "$E")" = "aanf,akma_af_ids,ausf,conf_dir,ecs_akma,ecs_akma_external,ecs_bound,ecs_external,ecs_internal,eec_id,mcc,mnc,nef,pki_dir,suci_keys,udm,ue_agent" ] &&
  [ "$(jq -r '.akma_af_ids | "\(.ecs_akma) \(.ecs_akma_external)"' "$E")" = "ecs.kedge.test af.kedge.test" ] &&
  ok "endpoints.json has every endpoint (AKMA: aanf, ecs_akma, ecs_akma_external, akma_af_ids)" ||
  fail "endpoints.json: $(cat "$E")"
for f in udm ausf nef ecs-internal ecs-external ecs-bound aanf ecs-akma ecs-akma-external ue; do
  [ -f "$(jq -r .conf_dir "$E")/$f.yaml" ] || fail "conf_dir lacks $f.yaml"
done
PKI=$(jq -r .pki_dir "$E")
# suci_keys: one key of each profile, public keys as TS 33.501 C.4 writes them; a SUCI made with
# each (kedge derive suci, as any other tool could) is de-concealed by the running UDM
[ "$(jq -r '[.suci_keys[] | "\(.hnPubKeyId):\(.profile):\(.public | length)"] | join(" ")' "$E")" = "1:A:64 2:B:66" ] &&
  ok "endpoints.json: suci_keys of profiles A and B" || fail "suci_keys: $(jq -c .suci_keys "$E")"
for i in 0 1; do
  id=$(jq -r ".suci_keys[$i].hnPubKeyId" "$E")
  suci=$("$BIN/kedge" derive suci --supi imsi-001010000000001 --mcc 001 --mnc 01 --hn-key-id "$id" \
    --profile "$(jq -r ".suci_keys[$i].profile" "$E")" --hn-public "$(jq -r ".suci_keys[$i].public" "$E")" | jq -r .suci)
  supi=$(curl -s --http2 --cacert "$PKI/ca.crt" --cert "$PKI/ausf.crt" --key "$PKI/ausf.key" \
    -H content-type:application/json \
    -d '{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}' \
    "$(jq -r .udm "$E")/nudm-ueau/v1/$suci/security-information/generate-auth-data" | jq -r .supi)
  [ "$supi" = imsi-001010000000001 ] && ok "a SUCI for suci_keys[$i] reaches the UDM's SUPI" ||
    fail "SUCI with suci_keys[$i]: $supi ($suci)"
done
keys=$("$BIN/kedge-eec" keys --agent "$(jq -r .ue_agent "$E")" --reveal 2>/dev/null)
ID=$(echo "$keys" | jq -r .kedgeId)
KEY=$(echo "$keys" | jq -r .kedge)
got=$(curl -s --http2 --cacert "$PKI/ca.crt" --cert "$PKI/ecs.crt" --key "$PKI/ecs.key" \
  -H content-type:application/json -d '{"kedgeId":"'"$ID"'"}' \
  "$(jq -r .ausf "$E")/nausf-auth/v1/kedge-keys/retrieve" | jq -r .kedge)
[ -n "$KEY" ] && [ "$got" = "$KEY" ] && ok "curl --http2 with the ECS certificate: the AUSF returns the agent's Kedge" ||
  fail "curl keyrequest: $got"
! grep -rqi "$KEY" "$T/up/logs" "$T/up/conf" && ok "the key is in no log and no configuration" ||
  fail "the key appears in $(grep -rli "$KEY" "$T/up/logs" "$T/up/conf")"
hs=$(echo | timeout 10 openssl s_client -connect "$(jq -r .ecs_internal "$E")" -tls1_3 -alpn h2 \
  -psk_identity "$ID" -psk "$KEY" 2>&1)
echo "$hs" | grep -q 'TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256' &&
  ok "openssl s_client -psk completes a TLS 1.3 PSK handshake with the ECS" || fail "s_client: $hs"
bad=$(echo | timeout 10 openssl s_client -connect "$(jq -r .ecs_internal "$E")" -tls1_3 \
  -psk_identity "$ID" -psk 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff 2>&1)
echo "$bad" | grep -q 'decrypt error' && ok "a wrong PSK gets decrypt_error" || fail "wrong psk: $bad"
# AKMA: the agent's A-KID and K_AF for the FQDN endpoints.json names, with openssl s_client
for e in ecs_akma ecs_akma_external; do
  ak=$("$BIN/kedge-eec" keys --agent "$(jq -r .ue_agent "$E")" --reveal --profile akma \
    --ecs-id "$(jq -r ".akma_af_ids.$e" "$E")" 2>/dev/null)
  hs=$(echo | timeout 10 openssl s_client -connect "$(jq -r ".$e" "$E")" -tls1_3 -alpn h2 \
    -psk_identity "$(echo "$ak" | jq -r .aKid)" -psk "$(echo "$ak" | jq -r .kaf)" 2>&1)
  echo "$hs" | grep -q 'TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256' &&
    ok "openssl s_client -psk_identity <A-KID> -psk <K_AF> with $e" || fail "s_client $e: $hs"
done
# issue 13: the demo's ECSs subscribe; a new registration revokes the old key at once (the
# ECS's key_cache_ttl is 60 s: only the AUSF's notification can make this refusal)
"$BIN/kedge-ue" register --agent "$(jq -r .ue_agent "$E")" >/dev/null 2>"$T/reg.err" ||
  fail "re-registration: $(cat "$T/reg.err")"
NEW=$("$BIN/kedge-eec" keys --agent "$(jq -r .ue_agent "$E")" --reveal 2>/dev/null | jq -r .kedgeId)
old_refused() {
  echo | timeout 10 openssl s_client -connect "$(jq -r .ecs_internal "$E")" -tls1_3 -alpn h2 \
    -psk_identity "$ID" -psk "$KEY" 2>&1 | grep -q 'decrypt error'
}
[ -n "$NEW" ] && [ "$NEW" != "$ID" ] && wait_for 2 old_refused &&
  grep -q "revocation: Kedge ID $ID (REPLACED): dropped from the key cache" \
    "$T/up/logs/ecs-internal.log" &&
  ok "after a new registration the ECS refuses the old key at once (revocation, not the TTL)" ||
  fail "old key after re-registration: $(grep -i revocation "$T/up/logs/"*.log | tail -3)"
# ... and a deregistered UE's key (POST .../deregister, SPEC.md 7) likewise
NEWKEY=$("$BIN/kedge-eec" keys --agent "$(jq -r .ue_agent "$E")" --reveal 2>/dev/null | jq -r .kedge)
echo | timeout 10 openssl s_client -connect "$(jq -r .ecs_internal "$E")" -tls1_3 -alpn h2 \
  -psk_identity "$NEW" -psk "$NEWKEY" 2>&1 | grep -q 'Cipher is TLS_AES_128_GCM_SHA256' ||
  fail "handshake with the new key"
code=$(curl -s -o /dev/null -w '%{http_code}' --http2 --cacert "$PKI/ca.crt" --cert "$PKI/seaf.crt" \
  --key "$PKI/seaf.key" -H content-type:application/json -d '{"supi":"imsi-001010000000001"}' \
  "$(jq -r .ausf "$E")/nausf-auth/v1/ue-authentications/deregister")
ID=$NEW KEY=$NEWKEY
[ "$code" = 204 ] && wait_for 2 old_refused &&
  grep -q "revocation: Kedge ID $NEW (DELETED): dropped from the key cache" \
    "$T/up/logs/ecs-internal.log" &&
  ok "after deregistration (204) the ECS refuses the UE's key at once" ||
  fail "deregistration ($code): $(grep -i revocation "$T/up/logs/"*.log | tail -3)"
"$BIN/kedge" demo --down "$T/up" >/dev/null && sleep 0.3 && ! pgrep -f "$T/up/conf" >/dev/null &&
  ok "demo --down stops everything" || fail "demo --down"
finish
