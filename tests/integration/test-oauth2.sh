#!/bin/sh
# OAuth2 on the SBI end to end (SPEC.md 7, TS 33.501 13.4.1, TS 29.510 Nnrf_AccessToken,
# docs/oauth2.md): kedge-nrf-testd issues ES256 tokens with a key made here and publishes its
# JWK Set; kedge-udmd and kedge-ausfd require tokens (oauth2.required), the AUSF, the ECS and
# kedge-ue (as the SEAF) fetch them (oauth2.token_uri):
# - a UE registration (SEAF -> AUSF -> UDM, each hop with a token) and an ECS key fetch
#   (scope nausf-kedge) succeed; every AccessTokenReq form validates against
#   TS29510_Nnrf_AccessToken.yaml, the answer against AccessTokenRsp, the claims against
#   AccessTokenClaims; one token per (target, scope) is reused, not fetched per request;
# - no token: 401 with `WWW-Authenticate: Bearer realm=...`; an expired, a badly signed or an
#   alg=none token: 401 error="invalid_token"; a token for another service: 403
#   error="insufficient_scope"; each with a ProblemDetails valid against the API's 401/403;
# - the NRF restarts with a new key and the UDM with its new JWK Set: the AUSF's cached token
#   is refused (401), dropped, a new one fetched, and the request succeeds (one retry);
# - the 3gpp-Sbi-* headers an SCP forwards are accepted and named at debug level;
# - no token appears in any log (daemons at debug level).
# Usage: sh test-oauth2.sh BUILD_DIR
BUILD=${1:?usage: test-oauth2.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"
command -v openssl >/dev/null || { echo "skip: openssl missing"; exit 77; }

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
NFM=TS29510_Nnrf_AccessToken.yaml
pki_init
"$BIN/kedge" pki issue "$T/pki" nrf >/dev/null || { echo "kedge pki issue nrf failed"; exit 1; }
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/token1.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/token2.pem" 2>/dev/null
REC=$T/nrf.jsonl

# start_nrf KEY PORT: the NRF test peer signing with KEY, its JWK Set in $T/jwks.json
start_nrf() {
  cat >"$T/nrf.yaml" <<EOC
sbi: {port: $2, tls: {cert: $T/pki/nrf.crt, key: $T/pki/nrf.key, ca: $T/pki/ca.crt}}
EOC
  KEDGE_NRF_TEST_FILE=$REC KEDGE_NRF_TEST_HEARTBEAT=5 KEDGE_NRF_TEST_TOKEN_KEY=$1 \
    KEDGE_NRF_TEST_JWKS=$T/jwks.json start_daemon NRF kedge-nrf-testd "$T/nrf.yaml"
}
start_nrf "$T/token1.pem" 0
TOKEN_URI=https://127.0.0.1:$NRF_PORT/oauth2/token

udm_conf
# this UDM requires tokens, checked against the NRF's JWK Set
cat >>"$T/udm.yaml" <<EOC
log: {level: debug}
oauth2: {required: true, jwks_file: $T/jwks.json}
EOC
udm_add imsi-001010000000001 --rid 12
start_daemon UDM kedge-udmd "$T/udm.yaml"
cat >"$T/ausf.yaml" <<EOC
log: {level: debug}
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
oauth2: {required: true, jwks_file: $T/jwks.json, token_uri: "$TOKEN_URI"}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  key_lifetime: 1h
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: nef.kedge.test, profiles: [kedge]}
EOC
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
AUSF=https://127.0.0.1:$AUSF_PORT

ue_conf() { # ue_conf NAME TOKEN_URI_LINE
  cat >"$T/$1.yaml" <<EOC
usim:
  supi: imsi-001010000000001
  k: $K
  opc: $OPC
  routing_indicator: "12"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/ue.sqn
ausf: {uri: "$AUSF", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key$2}
EOC
  chmod 600 "$T/$1.yaml"
}
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
register() { "$BIN/kedge-ue" register --config "$T/$1.yaml" --json >"$T/$1.out" 2>"$T/$1.err"; }

# --- end to end with tokens ---
ue_conf ue ", oauth2_token_uri: \"$TOKEN_URI\""
register ue && ok "UE registration with OAuth2 at the AUSF and at the UDM (SEAF -> AUSF -> UDM)" ||
  fail "register with tokens: $(cat "$T/ue.err")"
ID=$(jget kedgeId "$T/ue.out")
ue_conf notoken ""
register notoken && fail "a SEAF without a token was served" ||
  ok "a SEAF without a token is refused: $(tail -1 "$T/notoken.err")"

KS_PORT=$AUSF_PORT HS_TIMEOUT=10s KS_TIMEOUT=5s write_ecs ecs "oauth2: {token_uri: \"$TOKEN_URI\"}"
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
(umask 077 && sbi_curl nef -o "$T/k.json" -H 'content-type: application/json' \
  -H "authorization: Bearer $(sbi_curl nef -d "grant_type=client_credentials&nfInstanceId=0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01&nfType=NEF&targetNfType=AUSF&scope=nausf-kedge" "$TOKEN_URI" | jget access_token /dev/stdin)" \
  -d '{"kedgeId":"'"$ID"'"}' "$AUSF/nausf-auth/v1/kedge-keys/retrieve")
KEDGE=$(jget kedge "$T/k.json")
[ ${#KEDGE} = 64 ] && ok "curl with a token from the NRF gets the Kedge (scope nausf-kedge)" ||
  fail "retrieve with a token: $(cat "$T/k.json")"
(umask 077 && echo "$KEDGE" >"$T/k.hex")
out=$("$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$ID" \
  --key-file "$T/k.hex" 2>&1)
echo "$out" | grep -q "EES ees-video" && ok "ECS key fetch with a token: EEC provisioned" ||
  fail "ECS key fetch with OAuth2: $out; $(grep -i "oauth2\|token" "$T/ECS.log" | tail -3)"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$ID" \
  --key-file "$T/k.hex" >/dev/null 2>&1 || fail "second provisioning"

# every AccessTokenReq the kedge consumers sent (not curl's: its User-Agent is curl)
grep '"path":"/oauth2/token"' "$REC" | grep -v '"userAgent":"curl' >"$T/token-reqs.jsonl"
n=0
while read -r line; do
  n=$((n + 1))
  echo "$line" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["body"]))' |
    schema_ok "AccessTokenReq #$n form ($(echo "$line" | sed 's/.*"scope":"\([^"]*\)".*/\1/'))" \
      schema $NFM AccessTokenReq
  echo "$line" | grep -q '"contentType":"application/x-www-form-urlencoded"' ||
    fail "AccessTokenReq #$n content type"
done <"$T/token-reqs.jsonl"
for s in nausf-auth nudm-ueau nausf-kedge; do
  check "a token was asked for scope $s" grep -q "\"scope\":\"$s\"" "$T/token-reqs.jsonl"
done
check "the AUSF asked once for nudm-ueau (cached, not per request)" \
  test "$(grep -c '"scope":"nudm-ueau"' "$T/token-reqs.jsonl")" = 1
sbi_curl ausf -o "$T/rsp.json" -d "grant_type=client_credentials&nfInstanceId=0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01&nfType=AUSF&targetNfType=UDM&scope=nudm-ueau" "$TOKEN_URI"
schema_ok "AccessTokenRsp" response $NFM /oauth2/token POST 200 <"$T/rsp.json"
TOK=$(jget access_token "$T/rsp.json")
echo "$TOK" | cut -d. -f2 | tr '_-' '/+' | python3 -c '
import base64,sys; s=sys.stdin.read().strip(); print(base64.b64decode(s + "=" * (-len(s) % 4)).decode())' |
  schema_ok "the token's AccessTokenClaims" schema $NFM AccessTokenClaims

# --- refusals, with clients kedge did not write ---
mint() { # mint CLAIMS_JSON -> a token signed by the NRF's key
  sbi_curl nrf -H 'content-type: application/json' -d "$1" "https://127.0.0.1:$NRF_PORT/test/token" |
    jget access_token /dev/stdin
}
now=$(date +%s)
UE_AUTH=$AUSF/nausf-auth/v1/ue-authentications
BODY='{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org"}'
ask() { # ask TOKEN -> status; headers in $T/h, body in $T/b
  sbi_curl seaf -D "$T/h" -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
    ${1:+-H "authorization: Bearer $1"} -d "$BODY" "$UE_AUTH"
}
API=TS29509_Nausf_UEAuthentication.yaml
code=$(ask "")
[ "$code" = 401 ] && grep -qi '^www-authenticate: Bearer realm="ausf"' "$T/h" &&
  ! grep -qi 'error=' "$T/h" && grep -q '"cause":"ACCESS_TOKEN_REQUIRED"' "$T/b" &&
  ok "no token: 401, Bearer challenge without error (RFC 6750 3.1)" || fail "no token: $code $(cat "$T/h" "$T/b")"
schema_ok "401 ProblemDetails" response $API /ue-authentications POST 401 <"$T/b"
EXPIRED=$(mint '{"iss":"nrf","sub":"x","aud":"AUSF","scope":"nausf-auth","exp":'$((now - 120))',"iat":'$((now - 400))'}')
code=$(ask "$EXPIRED")
[ "$code" = 401 ] && grep -qi 'error="invalid_token", error_description="token expired"' "$T/h" &&
  grep -q '"cause":"INVALID_TOKEN"' "$T/b" && ok "expired token: 401 invalid_token" ||
  fail "expired: $code $(cat "$T/h" "$T/b")"
schema_ok "401 invalid_token ProblemDetails" response $API /ue-authentications POST 401 <"$T/b"
WRONG=$(mint '{"iss":"nrf","sub":"x","aud":"AUSF","scope":"nausf-kedge","exp":'$((now + 300))'}')
code=$(ask "$WRONG")
[ "$code" = 403 ] && grep -qi 'error="insufficient_scope"' "$T/h" && grep -qi 'scope="nausf-auth"' "$T/h" &&
  grep -q '"cause":"INSUFFICIENT_SCOPE"' "$T/b" && ok "token for another service: 403 insufficient_scope" ||
  fail "wrong scope: $code $(cat "$T/h" "$T/b")"
schema_ok "403 ProblemDetails" response $API /ue-authentications POST 403 <"$T/b"
OTHER=$(mint '{"iss":"nrf","sub":"x","aud":"UDM","scope":"nausf-auth","exp":'$((now + 300))'}')
code=$(ask "$OTHER")
[ "$code" = 401 ] && grep -qi 'not for this audience' "$T/h" && ok "token for another NF type: 401" ||
  fail "wrong aud: $code"
GOOD=$(mint '{"iss":"nrf","sub":"x","aud":"AUSF","scope":"nausf-auth","exp":'$((now + 300))'}')
TAMPERED=$(echo "$GOOD" | cut -d. -f1).$(printf '{"iss":"nrf","sub":"x","aud":"AUSF","scope":"nausf-auth nausf-kedge","exp":%s}' $((now + 300)) | base64 -w0 | tr '+/' '-_' | tr -d '=').$(echo "$GOOD" | cut -d. -f3)
code=$(ask "$TAMPERED")
[ "$code" = 401 ] && grep -qi 'signature does not verify' "$T/h" && ok "tampered claims: 401 bad signature" ||
  fail "tampered: $code $(cat "$T/h")"
NONE=$(printf '{"alg":"none"}' | base64 -w0 | tr '+/' '-_' | tr -d '=').$(echo "$GOOD" | cut -d. -f2).
code=$(ask "$NONE")
[ "$code" = 401 ] && grep -qi 'error="invalid_token"' "$T/h" && ok "alg none: 401" || fail "alg none: $code"
code=$(ask "$GOOD")
[ "$code" = 201 ] && ok "a good token minted the same way: 201 (the refusals were the token's)" ||
  fail "good token: $code $(cat "$T/b")"

# SCP model C (TS 29.500 6.10): the producer accepts the 3gpp-Sbi-* headers an SCP forwards and
# names them at debug level (Correlation-Info's value, which may hold a SUPI, is not shown)
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -H "authorization: Bearer $GOOD" -H "3gpp-Sbi-Target-apiRoot: https://ausf.operator.example:443" \
  -H '3gpp-Sbi-Correlation-Info: imsi-001010000000777' -d "$BODY" "$UE_AUTH")
[ "$code" = 201 ] &&
  grep -q 'sbi: POST /nausf-auth/v1/ue-authentications: 3gpp-sbi-target-apiroot: https://ausf.operator.example:443' "$T/AUSF.log" &&
  grep -q '3gpp-sbi-correlation-info received' "$T/AUSF.log" && ! grep -q 'imsi-001010000000777' "$T/AUSF.log" &&
  ok "3gpp-Sbi-Target-apiRoot and Correlation-Info accepted and logged at debug (no SUPI)" ||
  fail "3gpp-Sbi headers: $code $(grep -i 3gpp-sbi "$T/AUSF.log")"

# --- the NRF's key changes: the AUSF's cached UDM token is refused once, then renewed ---
stop_daemon NRF
start_nrf "$T/token2.pem" "$NRF_PORT"
stop_daemon UDM
sed -i "s|^sbi: {port: 0,|sbi: {port: $UDM_PORT,|" "$T/udm.yaml" # the AUSF's udm.uri stays right
start_daemon UDM kedge-udmd "$T/udm.yaml"
before=$(grep -c '"scope":"nudm-ueau"' "$REC")
code=$(ask "$GOOD") # signed by the first key, which the AUSF (not reloaded) still trusts
after=$(grep -c '"scope":"nudm-ueau"' "$REC")
[ "$code" = 201 ] && [ $((after - before)) = 1 ] &&
  grep -q "401 from the producer; fetching a new access token" "$T/AUSF.log" &&
  ok "stale token: the UDM's 401 made the AUSF fetch a new one and retry once: 201" ||
  fail "renewal: $code, $((after - before)) new nudm-ueau token(s); $(grep -i 'oauth2\|401' "$T/AUSF.log" | tail -3)"

# --- no token in any log ---
leaked=0
for t in "$TOK" "$GOOD" "$EXPIRED" "$WRONG"; do
  sig=$(echo "$t" | cut -d. -f3)
  grep -l -F "$sig" "$T"/*.log "$T"/*.err 2>/dev/null && leaked=1
done
grep -l 'eyJ[A-Za-z0-9_-]\{10,\}\.eyJ' "$T"/*.log 2>/dev/null && leaked=1
[ "$leaked" = 0 ] && ok "no access token in any log (debug level)" || fail "a token reached a log"
finish
