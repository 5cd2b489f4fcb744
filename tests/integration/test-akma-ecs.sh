#!/bin/sh
# Profile akma at the ECS (SPEC.md 9, TS 33.535, TS 33.558 AKMA-based EEC-ECS authentication)
# with real daemons: kedge-aanfd holds the anchor key, one kedge-ecsd in the domain asks it for
# K_AF (key_source.type aanf), one outside asks kedge-nefd's 3gpp-akma. Clients kedge did not
# write complete the TLS 1.3 PSK handshake with identity A-KID and PSK K_AF (openssl s_client,
# gnutls-cli); a wrong K_AF, an unknown A-KID, another ECS's K_AF and a malformed identity all end
# in the same alert (decrypt_error); kedge-eec provision --profile akma gets the EDGE-4 answer
# with TLS_WITH_AKMA; the UE agent's K_AF works end to end.
# Usage: sh test-akma-ecs.sh BUILD_DIR
BUILD=${1:?usage: test-akma-ecs.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"

pki_init
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null
"$BIN/kedge" pki issue "$T/pki" ecs.partner.example >/dev/null
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }

cat >"$T/aanf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/aanf.crt, key: $T/pki/aanf.key, ca: $T/pki/ca.crt}}
aanf: {home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey:
  allowed_consumers: [{name: ecs.kedge.test}, {name: nef.kedge.test}]
  relays: [nef.kedge.test]
EOC
start_daemon AANF kedge-aanfd "$T/aanf.yaml"
cat >"$T/nef.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}}
afs: [{af_id: ecs.partner.example, profiles: [akma], home_networks: [{mcc: "001", mnc: "01"}]}]
ausf: {groups: [{name: home, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:9"]}]}
aanf: {groups: [{name: aanf, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$AANF_PORT"]}]}
EOC
start_daemon NEF kedge-nefd "$T/nef.yaml"

# anchor keys registered as the AUSF does after 5G AKA (TS 33.535 6.1 step 4)
register() { # register N -> AKID, KAKMA of subscriber N
  "$BIN/kedge" derive akma --kausf "$KAUSF" --supi "imsi-00101$(printf %010d "$1")" --mcc 001 \
    --mnc 01 --rid 0 >"$T/d"
  AKID=$(jget aKid "$T/d") KAKMA=$(jget kAkma "$T/d")
  sbi_curl ausf -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"supi":"imsi-00101'"$(printf %010d "$1")"'","aKId":"'"$AKID"'","kAkma":"'"$KAKMA"'"}' \
    "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/register-anchorkey"
}
kaf() { # kaf N FQDN -> K_AF of subscriber N for FQDN (kedge derive akma)
  "$BIN/kedge" derive akma --kausf "$KAUSF" --supi "imsi-00101$(printf %010d "$1")" --mcc 001 \
    --mnc 01 --rid 0 --af-fqdn "$2" | sed -n 's/.*"kaf":"\([^"]*\)".*/\1/p'
}
[ "$(register 1)" = 200 ] && [ "$(register 2)" = 200 ] || fail "anchor keys not registered"
register 1 >/dev/null
AKID1=$AKID

akma_ecs() { # akma_ecs NAME TYPE URI CERT FQDN
  cat >"$T/$1.yaml" <<EOC
log: {level: debug}
sbi: {port: 0, limits: {handshake_timeout: 3s}}
ecs: {psk_profile: akma, ecs_id: $5}
key_source:
  type: $2
  uri: $3
  tls: {ca: $T/pki/ca.crt, cert: $T/pki/$4.crt, key: $T/pki/$4.key}
  timeout: 1s
  rate_limit: {per_address: 1000, per_address_burst: 1000}
service_provisioning:
  edns:
    - dnn: edge.example
      eess: [{ees_id: ees-1, uri: "https://ees-1.example:8443"}]
EOC
}
akma_ecs ecs aanf "https://127.0.0.1:$AANF_PORT" ecs ecs.kedge.test
akma_ecs ecsx nef "https://127.0.0.1:$NEF_PORT" ecs.partner.example ecs.partner.example
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
start_daemon ECSX kedge-ecsd "$T/ecsx.yaml"
KAF1=$(kaf 1 ecs.kedge.test)
KAF1X=$(kaf 1 ecs.partner.example)

# ---- outside clients: identity A-KID, PSK K_AF ----
out=$(s_client "$ECS_PORT" "$AKID1" "$KAF1")
echo "$out" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" && echo "$out" | grep -q "ALPN protocol: h2" &&
  ok "openssl s_client -psk_identity <A-KID> -psk <K_AF>: handshake with the in-domain akma ECS" ||
  fail "s_client akma: $(echo "$out" | grep -iE 'alert|error' | head -2)"
out=$(gnutls "$ECS_PORT" "$AKID1" "$KAF1" "$PSK_DHE")
echo "$out" | grep -q "Handshake was completed" && ok "gnutls-cli completes with A-KID and K_AF" ||
  fail "gnutls-cli akma: $(echo "$out" | grep -E '\*\*\*' | head -2)"
out=$(s_client "$ECSX_PORT" "$AKID1" "$KAF1X")
echo "$out" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" &&
  ok "s_client with the NEF-fed akma ECS (3gpp-akma, its own FQDN's K_AF)" ||
  fail "s_client external: $(echo "$out" | grep -iE 'alert|error' | head -2) $(tail -3 "$T/ECSX.log")"
gnutls "$ECSX_PORT" "$AKID1" "$KAF1X" "$PSK_DHE" | grep -q "Handshake was completed" &&
  ok "gnutls-cli with the NEF-fed akma ECS" || fail "gnutls-cli external"

# ---- one alert for everything else ----
WRONG=$(echo "$KAF1" | tr '0-9a-f' '1-9a-f0')
UNKNOWN=0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org
for case in "wrong K_AF|$AKID1|$WRONG" "unknown A-KID|$UNKNOWN|$KAF1" \
  "K_AF of another ECS (K_AF for ecs.partner.example)|$AKID1|$KAF1X" \
  "K_AKMA itself as PSK|$AKID1|$KAKMA" "malformed A-KID|not-an-a-kid@example.org|$KAF1"; do
  what=${case%%|*} rest=${case#*|}
  id=${rest%%|*} k=${rest#*|}
  s_client "$ECS_PORT" "$id" "$k" | grep -q "SSL alert number 51" &&
    ok "$what: alert decrypt_error (51)" || fail "$what: not decrypt_error"
done
gnutls "$ECS_PORT" "$AKID1" "$WRONG" "$PSK_DHE" | grep -q "Received alert \[51\]" &&
  ok "gnutls-cli wrong K_AF: alert 51" || fail "gnutls-cli wrong K_AF"
gnutls "$ECS_PORT" "$UNKNOWN" "$KAF1" "$PSK_DHE" | grep -q "Received alert \[51\]" &&
  ok "gnutls-cli unknown A-KID: alert 51 (the same)" || fail "gnutls-cli unknown A-KID"
s_client "$ECSX_PORT" "$UNKNOWN" "$KAF1X" | grep -q "SSL alert number 51" &&
  ok "external ECS: unknown A-KID (NEF 204) -> decrypt_error" || fail "external unknown"
n=$(metric kedge_ecs_key_fetches_total 'result="not_found"' "$ECS_METRICS_PORT")
[ "$n" -ge 1 ] && ok "AAnF's 204 counted as not_found by the key-service client" || fail "not_found: $n"

# ---- EDGE-4 inside the tunnel: kedge-eec provision --profile akma ----
printf '%s\n' "$KAF1" >"$T/kaf1"
chmod 600 "$T/kaf1"
out=$("$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --profile akma \
  --ecs-id ecs.kedge.test --a-kid "$AKID1" --key-file "$T/kaf1" --json 2>&1)
echo "$out" | grep -q '"TLS_WITH_AKMA"' && ok "kedge-eec provision --profile akma: ECSServProvResp advertising TLS_WITH_AKMA" ||
  fail "eec provision: $out"
echo "$out" | schema_ok "ECSServProvResp of the akma ECS" response TS24558_Eecs_ServiceProvisioning.yaml /request POST 200
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --profile akma \
  --ecs-id ecs.kedge.test --kedge-id "$AKID1" --key-file "$T/kaf1" >/dev/null 2>"$T/e"
[ $? -eq 2 ] && ok "--profile akma with --kedge-id: usage error naming --a-kid" || fail "usage: $(cat "$T/e")"
grep -qi "$KAF1" "$T/ECS.log" "$T/ECSX.log" "$T/AANF.log" "$T/NEF.log" && fail "K_AF in a log" ||
  ok "no K_AF in the ECS, NEF or AAnF logs"
finish
