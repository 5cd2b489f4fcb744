#!/bin/sh
# kedge-nefd as a real process between AFs (curl with certificates from `kedge pki`) and stand-in
# AUSF key services (kedge-nef-ausf-testd, same SBI runtime, keys from `kedge derive kedge`):
# relay of Kedge and K_ECS equal to the AUSF's own answer; the audit trail on both sides; every
# refusal of SPEC.md 3 (afId vs certificate, AF table, profiles, home network) and 404 for
# unknown IDs and unserved home networks/RIDs; AUSF down -> 503 + Retry-After, back -> 200
# without restarting the NEF; the second URI of a group when the first is down; timeouts,
# congestion and nonsense from the AUSF; rate limit and concurrency cap -> 429; OAuth 2.0
# bearer tokens minted with the openssl command (ES256, RS256; missing, expired, wrong audience,
# wrong scope, bad signature); malformed bodies -> 400 with invalidParams; garbage on the wire;
# no key in the NEF's log; metrics.
# Usage: sh test-nef.sh BUILD_DIR
set -u
BUILD=${1:?usage: test-nef.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

pki_init
"$BIN/kedge" pki issue "$T/pki" af2 >/dev/null           # af2.kedge.test: rate-limited AF
"$BIN/kedge" pki issue "$T/pki" edge.example.com >/dev/null # a bound-only AF
"$BIN/kedge" pki issue "$T/pki" rogue >/dev/null         # valid certificate, not in the table

# ---- keys: one per home network the tests use, derived as UE and AUSF would ----
derive() { # KAUSF SUPI MCC MNC RID [ECS_ID] -> JSON {kedge, kedgeId[, kEcs]}
  if [ $# -gt 5 ]; then
    "$BIN/kedge" derive kedge --kausf "$1" --supi "$2" --mcc "$3" --mnc "$4" --rid "$5" --ecs-id "$6"
  else
    "$BIN/kedge" derive kedge --kausf "$1" --supi "$2" --mcc "$3" --mnc "$4" --rid "$5"
  fi
}
member() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
KAUSF1=474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b
K1=$(derive $KAUSF1 imsi-001010000000001 001 01 0)
KID1=$(echo "$K1" | member kedgeId) KEY1=$(echo "$K1" | member kedge)
KECS1_AF=$(derive $KAUSF1 imsi-001010000000001 001 01 0 af.kedge.test | member kEcs)
KECS1_EDGE=$(derive $KAUSF1 imsi-001010000000001 001 01 0 edge.example.com | member kEcs)
K2=$(derive 20de4eb2b75c8dac301ad52773e2e37bd7b4b0c2fdb1c3751b98dd0df846aed5 \
  imsi-208930000000003 208 93 12)
KID2=$(echo "$K2" | member kedgeId) KEY2=$(echo "$K2" | member kedge)
K3=$(derive 1111111111111111111111111111111111111111111111111111111111111111 \
  imsi-003010000000001 003 01 0)
KID3=$(echo "$K3" | member kedgeId)
K4=$(derive 2222222222222222222222222222222222222222222222222222222222222222 \
  imsi-004010000000001 004 01 0)
KID4=$(echo "$K4" | member kedgeId)
K5=$(derive 3333333333333333333333333333333333333333333333333333333333333333 \
  imsi-005010000000001 005 01 0)
KID5=$(echo "$K5" | member kedgeId)
# A well-formed ID nobody holds, one with a RID no group serves, one of an unserved network.
UNKNOWN=$(derive 4444444444444444444444444444444444444444444444444444444444444444 \
  imsi-001010000000002 001 01 0 | member kedgeId)
ODD_RID=$(derive $KAUSF1 imsi-001010000000001 001 01 5 | member kedgeId)
OTHER_NET=$(derive $KAUSF1 imsi-001010000000001 009 01 0 | member kedgeId)
[ -n "$KID1" ] && [ -n "$KECS1_AF" ] && [ -n "$KID5" ] || { echo "kedge derive failed"; exit 1; }

# ---- stand-in AUSFs ----
ausf_conf() { # FILE PORT EXTRA...
  f=$1 port=$2
  shift 2
  cat >"$f" <<EOF
sbi:
  port: $port
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
keyrequest:
  allowed_consumers: [nef.kedge.test, ecs.kedge.test]
  relays: [nef.kedge.test]
  keys:
    - {kedge_id: "$KID1", kedge: $KEY1, expiry: "2099-01-01T00:00:00Z"}
    - {kedge_id: "$KID2", kedge: $KEY2, expiry: "2099-01-02T00:00:00Z"}
    - {kedge_id: "$KID3", kedge: $KEY2}
    - {kedge_id: "$KID4", kedge: $KEY2}
    - {kedge_id: "$KID5", kedge: $KEY2}
EOF
  for line in "$@"; do echo "  $line" >>"$f"; done
}
ausf_conf "$T/ausf-a.yaml" 0
ausf_conf "$T/ausf-b.yaml" 0
ausf_conf "$T/ausf-slow.yaml" 0 "delay: 3s"
ausf_conf "$T/ausf-busy.yaml" 0 "fail_status: 503"
ausf_conf "$T/ausf-junk.yaml" 0 "garbage: true"
start_daemon AUSFA kedge-nef-ausf-testd "$T/ausf-a.yaml"
start_daemon AUSFB kedge-nef-ausf-testd "$T/ausf-b.yaml"
start_daemon SLOW kedge-nef-ausf-testd "$T/ausf-slow.yaml"
start_daemon BUSY kedge-nef-ausf-testd "$T/ausf-busy.yaml"
start_daemon JUNK kedge-nef-ausf-testd "$T/ausf-junk.yaml"

# ---- the NEF ----
nef_conf() { # FILE [OAUTH LINES...]
  f=$1
  shift
  cat >"$f" <<EOF
log: {level: info}
sbi:
  port: 0
  workers: 2
  tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
afs:
  - af_id: af.kedge.test
    profiles: [kedge, bound]
    home_networks: [{mcc: "001", mnc: "01"}, {mcc: "208", mnc: "93"}, {mcc: "003", mnc: "01"},
                    {mcc: "004", mnc: "01"}, {mcc: "005", mnc: "01"}, {mcc: "009", mnc: "01"}]
  - af_id: af2.kedge.test
    profiles: [kedge]
    home_networks: [{mcc: "001", mnc: "01"}]
    rate: 1
    burst: 2
  - af_id: edge.example.com
    profiles: [bound]
    home_networks: [{mcc: "001", mnc: "01"}, {mcc: "003", mnc: "01"}]
    max_concurrent: 1
ausf:
  timeout: 400ms
  retry_after: 2s
  groups:
    # the first URI refuses connections (nothing listens on port 1)
    - {name: home-a, mcc: "001", mnc: "01", rids: ["0"],
       uris: ["https://127.0.0.1:1", "https://127.0.0.1:$AUSFA_PORT/"]}
    - {name: home-b, mcc: "208", mnc: "93", rids: ["12"], uris: ["https://127.0.0.1:$AUSFB_PORT"]}
    - {name: slow, mcc: "003", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$SLOW_PORT"]}
    - {name: busy, mcc: "004", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$BUSY_PORT"]}
    - {name: junk, mcc: "005", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$JUNK_PORT"]}
EOF
  for line in "$@"; do echo "$line" >>"$f"; done
}
nef_conf "$T/nef.yaml"
"$BIN/kedge-nefd" --config "$T/nef.yaml" --check-config >/dev/null 2>&1 \
  && ok "--check-config accepts the configuration" || fail "--check-config"
sed 's/tls: {cert/tls: {client_verification: optional, cert/' "$T/nef.yaml" >"$T/nef-opt.yaml"
out=$("$BIN/kedge-nefd" --config "$T/nef-opt.yaml" --check-config 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'client_verification: must be required' \
  && ok "a NEF without required client certificates is refused" || fail "optional verify: $out"
sed "s|/etc/kedge/pki/|$T/pki/|g" "$(dirname "$0")/../../conf/nef.yaml" >"$T/sample.yaml"
out=$("$BIN/kedge-nefd" --config "$T/sample.yaml" --check-config 2>&1) \
  && ok "conf/nef.yaml is a valid configuration" || fail "conf/nef.yaml: $out"
"$BIN/kedge-nefd" --help | grep -q -- '--ports-file' && ok "--help" || fail "--help"
start_daemon NEF kedge-nefd "$T/nef.yaml"
URL=https://127.0.0.1:$NEF_PORT/3gpp-kedge/v1/retrieve

# retrieve CLIENT BODY [curl args...]: prints the body, then "HTTP <status>" on the last line;
# response headers go to $T/h.
retrieve() {
  c=$1 body=$2
  shift 2
  sbi_curl "$c" -D "$T/h" -w '\nHTTP %{http_code}' -H 'content-type: application/json' \
    -d "$body" "$@" "$URL"
}
req() { # AFID KEDGEID [ECSID]
  if [ $# -gt 2 ]; then
    printf '{"afId":"%s","kedgeId":"%s","ecsId":"%s"}' "$1" "$2" "$3"
  else
    printf '{"afId":"%s","kedgeId":"%s"}' "$1" "$2"
  fi
}
status_of() { tail -n 1 | sed 's/^HTTP //'; }
# expect DESCRIPTION STATUS CAUSE OUTPUT: the status and (if not "-") the cause in the body.
expect() {
  got=$(echo "$4" | status_of)
  if [ "$got" = "$2" ] && { [ "$3" = "-" ] || echo "$4" | grep -q "\"cause\":\"$3\""; }; then
    ok "$1"
  else
    fail "$1: wanted $2 $3, got: $(echo "$4" | tr '\n' ' ')"
  fi
}

# ---- relay: the same key as the AUSF's direct answer ----
out=$(retrieve af "$(req af.kedge.test "$KID1")")
direct=$(sbi_curl ecs -H 'content-type: application/json' -d "{\"kedgeId\":\"$KID1\"}" \
  "https://127.0.0.1:$AUSFA_PORT/nausf-auth/v1/kedge-keys/retrieve")
expect "profile kedge: 200" 200 - "$out"
[ "$(echo "$out" | member kedge)" = "$KEY1" ] && [ "$(echo "$direct" | member kedge)" = "$KEY1" ] \
  && ok "the NEF relays the AUSF's Kedge unchanged" || fail "relayed key: $out / $direct"
echo "$out" | grep -q "\"kedgeId\":\"$KID1\"" && echo "$out" | grep -q '"expiry":"2099-01-01T00:00:00Z"' \
  && ok "kedgeId and expiry relayed" || fail "kedgeId/expiry: $out"
grep -q "keyrequest consumer=nef.kedge.test kedgeId=$KID1 ecsId=- status=200" "$T/AUSFA.log" \
  && ok "the AUSF saw the NEF as the consumer" || fail "AUSF log: $(cat "$T/AUSFA.log")"
grep "audit:" "$T/NEF.log" | grep -q "afId=af.kedge.test profile=kedge ausf_group=home-a outcome=success .*peer=af.kedge.test kedge_id=$KID1 status=200 duration_ms=" \
  && ok "the NEF's audit line names the AF, Kedge ID, group and outcome" \
  || fail "NEF audit: $(grep audit: "$T/NEF.log")"
grep -q 'key source https://127.0.0.1:1 (group home-a): not reachable' "$T/NEF.log" \
  && ok "first URI of the group down: the second answered" || fail "no failover seen"
out=$(retrieve af "$(req af.kedge.test "$KID2")")
[ "$(echo "$out" | member kedge)" = "$KEY2" ] && ok "RID 12 of 208/93 routed to group home-b" \
  || fail "group home-b: $out"

# ---- the AF cannot go around the NEF ----
out=$(sbi_curl af -w '\nHTTP %{http_code}' -H 'content-type: application/json' \
  -d "{\"kedgeId\":\"$KID1\"}" "https://127.0.0.1:$AUSFA_PORT/nausf-auth/v1/kedge-keys/retrieve")
expect "the AF's certificate is not in the AUSF's allow-list" 403 CONSUMER_NOT_AUTHORIZED "$out"

# ---- profile bound ----
out=$(retrieve af "$(req af.kedge.test "$KID1" af.kedge.test)")
[ "$(echo "$out" | member kedge)" = "$KECS1_AF" ] && ok "bound: K_ECS for afId, as the UE derives it" \
  || fail "bound K_ECS: $out"
grep -q "consumer=nef.kedge.test kedgeId=$KID1 ecsId=af.kedge.test status=200" "$T/AUSFA.log" \
  && ok "bound: ecsId passed through to the AUSF" || fail "ecsId not passed through"
out=$(retrieve edge.example.com "$(req EDGE.example.com. "$KID1" edge.example.com)")
[ "$(echo "$out" | member kedge)" = "$KECS1_EDGE" ] && [ "$KECS1_EDGE" != "$KECS1_AF" ] \
  && ok "bound: another AF gets its own K_ECS (afId normalised)" || fail "edge K_ECS: $out"
expect "bound: ecsId other than afId" 403 PROFILE_NOT_ALLOWED \
  "$(retrieve af "$(req af.kedge.test "$KID1" edge.example.com)")"
expect "bound-only AF asking for the raw Kedge" 403 PROFILE_NOT_ALLOWED \
  "$(retrieve edge.example.com "$(req edge.example.com "$KID1")")"
expect "kedge-only AF asking for bound" 403 PROFILE_NOT_ALLOWED \
  "$(retrieve af2 "$(req af2.kedge.test "$KID1" af2.kedge.test)")"

# ---- who may ask ----
expect "afId not a SAN of the certificate" 403 AF_ID_MISMATCH \
  "$(retrieve af "$(req af2.kedge.test "$KID1")")"
expect "AF not in the table" 403 AF_NOT_AUTHORIZED \
  "$(retrieve rogue "$(req rogue.kedge.test "$KID1")")"
expect "home network not allowed for this AF" 403 HOME_NETWORK_NOT_ALLOWED \
  "$(retrieve af2 "$(req af2.kedge.test "$KID2")")"
out=$(curl -s --http2 --max-time 5 --cacert "$T/pki/ca.crt" -w '\nHTTP %{http_code}' \
  -H 'content-type: application/json' -d "$(req af.kedge.test "$KID1")" "$URL")
[ "$(echo "$out" | status_of)" = "000" ] && ok "no client certificate: no TLS session" \
  || fail "without certificate: $out"
out=$(curl -s --http2 --max-time 5 -w '\nHTTP %{http_code}' -d x "http://127.0.0.1:$NEF_PORT/")
[ "$(echo "$out" | status_of)" = "000" ] && ok "no plain-text listener (NOTE 3)" || fail "plain: $out"

# ---- not found ----
expect "unknown Kedge ID" 404 KEDGE_ID_NOT_FOUND "$(retrieve af "$(req af.kedge.test "$UNKNOWN")")"
expect "RID no group serves" 404 KEDGE_ID_NOT_FOUND "$(retrieve af "$(req af.kedge.test "$ODD_RID")")"
expect "home network no group serves" 404 KEDGE_ID_NOT_FOUND \
  "$(retrieve af "$(req af.kedge.test "$OTHER_NET")")"

# ---- the AUSF misbehaving ----
out=$(retrieve af "$(req af.kedge.test "$KID3")")
expect "AUSF too slow: 503" 503 TIMED_OUT_REQUEST "$out"
grep -qi '^retry-after: 2' "$T/h" && ok "503 carries Retry-After" || fail "Retry-After: $(cat "$T/h")"
out=$(retrieve af "$(req af.kedge.test "$KID4")")
expect "AUSF congested: 503" 503 NF_CONGESTION "$out"
grep -qi '^retry-after: 7' "$T/h" && ok "the AUSF's Retry-After passed on" || fail "RA: $(cat "$T/h")"
expect "AUSF answers nonsense: 502" 502 UPSTREAM_SERVER_ERROR \
  "$(retrieve af "$(req af.kedge.test "$KID5")")"

# ---- AUSF down, then back, the NEF untouched ----
stop_daemon AUSFB
out=$(retrieve af "$(req af.kedge.test "$KID2")")
expect "AUSF down: 503" 503 TARGET_NF_NOT_REACHABLE "$out"
grep -qi '^retry-after: 2' "$T/h" && ok "AUSF down: Retry-After" || fail "RA: $(cat "$T/h")"
ausf_conf "$T/ausf-b2.yaml" "$AUSFB_PORT"
start_daemon AUSFB kedge-nef-ausf-testd "$T/ausf-b2.yaml"
out=$(retrieve af "$(req af.kedge.test "$KID2")")
[ "$(echo "$out" | member kedge)" = "$KEY2" ] && ok "AUSF back: 200 without restarting the NEF" \
  || fail "after AUSF restart: $out"

# ---- malformed requests ----
out=$(retrieve af '{"afId":"af.kedge.test"}')
expect "kedgeId missing" 400 MANDATORY_IE_MISSING "$out"
echo "$out" | grep -q '"invalidParams":\[{"param":"/kedgeId"' && ok "invalidParams names /kedgeId" \
  || fail "invalidParams: $out"
out=$(retrieve af "$(req af.kedge.test "0.AAAA@5gc.mnc001.mcc001.3gppnetwork.org")")
expect "Kedge ID outside the grammar" 400 MANDATORY_IE_INCORRECT "$out"
echo "$out" | grep -q '"param":"/kedgeId"' && ok "invalidParams for a bad Kedge ID" || fail "$out"
out=$(retrieve af "$(req af.kedge.test "$(echo "$KID1" | sed 's/mcc001/MCC001/')")")
expect "upper-case realm refused (one spelling)" 400 MANDATORY_IE_INCORRECT "$out"
out=$(retrieve af "$(req af.kedge.test "$KID1" "not a name")")
expect "bad ecsId" 400 OPTIONAL_IE_INCORRECT "$out"
out=$(retrieve af '{"afId":7,"kedgeId":["x"]}')
expect "wrong member types" 400 MANDATORY_IE_INCORRECT "$out"
echo "$out" | grep -q '/afId' && echo "$out" | grep -q '/kedgeId' && ok "both members listed" \
  || fail "$out"
expect "not JSON" 400 INVALID_MSG_FORMAT "$(retrieve af '{"afId":')"
expect "a JSON array" 400 - "$(retrieve af '[1,2]')"
out=$(sbi_curl af -w '\nHTTP %{http_code}' -H 'content-type: text/plain' -d x "$URL")
expect "wrong media type" 415 - "$out"

# ---- garbage: the daemon keeps serving ----
head -c 3000 /dev/urandom >"$T/junk"
sbi_curl af -o /dev/null -H 'content-type: application/json' --data-binary @"$T/junk" "$URL"
head -c 3000 /dev/urandom | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$NEF_PORT" \
  -cert "$T/pki/af.crt" -key "$T/pki/af.key" -alpn h2 >/dev/null 2>&1
head -c 3000 /dev/urandom | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$NEF_PORT" \
  >/dev/null 2>&1
out=$(retrieve af "$(req af.kedge.test "$KID1")")
expect "still serving after garbage" 200 - "$out"

# ---- rate limit and concurrency cap ----
s1=$(retrieve af2 "$(req af2.kedge.test "$KID1")" | status_of)
s2=$(retrieve af2 "$(req af2.kedge.test "$KID1")" | status_of)
out=$(retrieve af2 "$(req af2.kedge.test "$KID1")")
[ "$s1$s2" = "200200" ] && ok "within the burst: 200, 200" || fail "burst: $s1 $s2"
expect "over the rate: 429" 429 NF_CONGESTION_RISK "$out"
grep -qi '^retry-after: 1' "$T/h" && ok "429 carries Retry-After" || fail "RA: $(cat "$T/h")"
sleep 1.1
expect "after a second: a token again" 200 - "$(retrieve af2 "$(req af2.kedge.test "$KID1")")"
# edge.example.com may have one request in flight: one to the slow group holds its slot for the
# NEF's 400 ms AUSF timeout, and a second one meanwhile is refused.
retrieve edge.example.com "$(req edge.example.com "$KID3" edge.example.com)" >"$T/cc1" 2>&1 &
bg=$!
sleep 0.15
out=$(retrieve edge.example.com "$(req edge.example.com "$KID1" edge.example.com)")
wait $bg
expect "concurrency cap: 429" 429 NF_CONGESTION_RISK "$out"
echo "$out" | grep -q '"detail":"too many requests of this AF in progress"' \
  && ok "concurrency cap: detail says why" || fail "cap detail: $out"
expect "the request holding the slot ended in 503" 503 TIMED_OUT_REQUEST "$(cat "$T/cc1")"
expect "slot released afterwards" 200 - \
  "$(retrieve edge.example.com "$(req edge.example.com "$KID1" edge.example.com)")"

# ---- the key is nowhere in the NEF's log ----
if grep -q -e "$KEY1" -e "$KEY2" -e "$KECS1_AF" -e "$KECS1_EDGE" "$T/NEF.log"; then
  fail "a key appears in the NEF's log"
else
  ok "no key in the NEF's log"
fi

# ---- metrics ----
curl -s "http://127.0.0.1:$NEF_METRICS_PORT/metrics" >"$T/metrics"
grep -q '^kedge_nef_requests_total{outcome="success"} [1-9]' "$T/metrics" \
  && grep -q '^kedge_nef_requests_total{outcome="forbidden"} [1-9]' "$T/metrics" \
  && grep -q '^kedge_nef_requests_total{outcome="rate_limited"} [1-9]' "$T/metrics" \
  && grep -q '^kedge_nef_ausf_attempts_total{result="unreachable"} [1-9]' "$T/metrics" \
  && grep -q '^kedge_nef_ausf_attempts_total{result="timeout"} [1-9]' "$T/metrics" \
  && grep -q '^kedge_nef_ausf_request_duration_seconds_count [1-9]' "$T/metrics" \
  && ok "metrics: outcomes, AUSF attempts and latency" || fail "metrics: $(grep nef "$T/metrics")"

# ---- OAuth 2.0: a second NEF that requires bearer tokens ----
b64url() { basenc --base64url -w0 | tr -d '='; }
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/as-ec.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/as-rsa.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/evil.pem" 2>/dev/null
openssl pkey -in "$T/as-ec.pem" -pubout -outform DER 2>/dev/null | tail -c 64 >"$T/xy"
X=$(head -c 32 "$T/xy" | b64url) Y=$(tail -c 32 "$T/xy" | b64url)
N=$(openssl rsa -in "$T/as-rsa.pem" -noout -modulus 2>/dev/null | sed 's/^Modulus=//' \
  | basenc --base16 -d | b64url)
cat >"$T/jwks.json" <<EOF
{"keys":[{"kty":"EC","crv":"P-256","kid":"ec1","use":"sig","x":"$X","y":"$Y"},
         {"kty":"RSA","kid":"rsa1","alg":"RS256","n":"$N","e":"AQAB"}]}
EOF
# jwt KEYFILE ALG KID CLAIMS: a compact JWS made with the openssl command only.
jwt() {
  h=$(printf '{"alg":"%s","typ":"JWT","kid":"%s"}' "$2" "$3" | b64url)
  p=$(printf '%s' "$4" | b64url)
  printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" -binary >"$T/sig.der"
  if [ "$2" = ES256 ]; then
    # RFC 7518 3.4: DER ECDSA-Sig-Value -> R || S, each left-padded to 32 octets
    sig=$(openssl asn1parse -inform DER -in "$T/sig.der" | sed -n 's/.*INTEGER *://p' \
      | while read -r v; do printf '%064s' "$v" | tr ' ' 0; done | basenc --base16 -d | b64url)
  else
    sig=$(b64url <"$T/sig.der")
  fi
  printf '%s.%s.%s' "$h" "$p" "$sig"
}
NOW=$(date +%s)
claims() { # AUD SCOPE EXP
  printf '{"iss":"as.kedge.test","sub":"af.kedge.test","aud":"%s","scope":"%s","exp":%s,"iat":%s}' \
    "$1" "$2" "$3" "$NOW"
}
GOOD=$(claims nef.kedge.test "3gpp-kedge" $((NOW + 600)))
nef_conf "$T/nef-oauth.yaml" "oauth:" "  jwks_file: $T/jwks.json" "  audience: nef.kedge.test" \
  "  scope: 3gpp-kedge" "  clock_skew: 0s"
start_daemon NEFO kedge-nefd "$T/nef-oauth.yaml"
URL=https://127.0.0.1:$NEFO_PORT/3gpp-kedge/v1/retrieve
BODY=$(req af.kedge.test "$KID1")
bearer() { retrieve af "$BODY" -H "authorization: Bearer $1"; }

out=$(retrieve af "$BODY")
expect "OAuth: no token" 401 ACCESS_TOKEN_REQUIRED "$out"
grep -qi '^www-authenticate: Bearer realm="kedge-nef"' "$T/h" && ! grep -qi 'error=' "$T/h" \
  && ok "OAuth: challenge without error code when no token (RFC 6750 3.1)" || fail "$(cat "$T/h")"
out=$(bearer "$(jwt "$T/as-ec.pem" ES256 ec1 "$GOOD")")
[ "$(echo "$out" | member kedge)" = "$KEY1" ] && ok "OAuth: good ES256 token: 200" || fail "ES256: $out"
out=$(bearer "$(jwt "$T/as-rsa.pem" RS256 rsa1 "$GOOD")")
[ "$(echo "$out" | member kedge)" = "$KEY1" ] && ok "OAuth: good RS256 token: 200" || fail "RS256: $out"
out=$(retrieve af "$BODY" -H "authorization: bearer $(jwt "$T/as-ec.pem" ES256 ec1 "$GOOD")")
expect "OAuth: scheme name is case-insensitive" 200 - "$out"
out=$(bearer "$(jwt "$T/as-ec.pem" ES256 ec1 "$(claims nef.kedge.test 3gpp-kedge $((NOW - 60)))")")
expect "OAuth: expired token" 401 INVALID_TOKEN "$out"
grep -qi 'www-authenticate: Bearer realm="kedge-nef", error="invalid_token", error_description="token expired"' "$T/h" \
  && ok "OAuth: invalid_token challenge" || fail "$(cat "$T/h")"
expect "OAuth: wrong audience" 401 INVALID_TOKEN \
  "$(bearer "$(jwt "$T/as-ec.pem" ES256 ec1 "$(claims other.kedge.test 3gpp-kedge $((NOW + 600)))")")"
out=$(bearer "$(jwt "$T/as-rsa.pem" RS256 rsa1 "$(claims nef.kedge.test "nnef-other" $((NOW + 600)))")")
expect "OAuth: wrong scope (RFC 6750 3.1: 403 insufficient_scope)" 403 INSUFFICIENT_SCOPE "$out"
grep -qi 'error="insufficient_scope".*scope="3gpp-kedge"' "$T/h" && ok "OAuth: scope challenge" \
  || fail "$(cat "$T/h")"
expect "OAuth: signed by another key" 401 INVALID_TOKEN \
  "$(bearer "$(jwt "$T/evil.pem" ES256 ec1 "$GOOD")")"
tok=$(jwt "$T/as-ec.pem" ES256 ec1 "$GOOD")
forged="$(echo "$tok" | cut -d. -f1).$(printf '%s' "$(claims nef.kedge.test 3gpp-kedge $((NOW + 99999)))" | b64url).$(echo "$tok" | cut -d. -f3)"
expect "OAuth: claims changed under a good signature" 401 INVALID_TOKEN "$(bearer "$forged")"
none="$(printf '{"alg":"none"}' | b64url).$(printf '%s' "$GOOD" | b64url).x"
expect "OAuth: alg none" 401 INVALID_TOKEN "$(bearer "$none")"
expect "OAuth: not a token" 401 INVALID_TOKEN "$(bearer 'a b')"
expect "OAuth: Basic instead of Bearer" 401 ACCESS_TOKEN_REQUIRED \
  "$(retrieve af "$BODY" -H 'authorization: Basic YTpi')"
grep "audit:" "$T/NEFO.log" | grep -q 'outcome=unauthorized .*detail="token expired".* status=401' \
  && ok "OAuth refusals are audited with their reason" || fail "NEFO audit"

stop_daemon NEF && ok "SIGTERM: clean exit" || fail "NEF exit status"
stop_daemon NEFO && ok "SIGTERM: clean exit with OAuth on" || fail "NEFO exit status"
finish
