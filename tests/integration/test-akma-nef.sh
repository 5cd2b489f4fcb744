#!/bin/sh
# 3gpp-akma at the NEF (SPEC.md 9, TS 29.522, TS 33.535 6.3) with real daemons: an AF outside the
# domain (curl with its certificate) asks kedge-nefd POST /3gpp-akma/v1/retrieve {afId, aKId};
# the NEF routes by the A-KID's realm and RID to a real kedge-aanfd (Naanf_AKMA
# retrieve-applicationkey, through the key-service client) and relays K_AF for the AF's own
# afId, 204 when unknown; every refusal (afId vs certificate, AF table, profile, home network),
# 400s, the AAnF down -> 503 + Retry-After, bodies checked against TS29522_AKMA.yaml; Kedge's
# 3gpp-kedge keeps working beside it.
# Usage: sh test-akma-nef.sh BUILD_DIR
BUILD=${1:?usage: test-akma-nef.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

pki_init
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null
"$BIN/kedge" pki issue "$T/pki" ecs.partner.example >/dev/null   # the AF outside the domain
"$BIN/kedge" pki issue "$T/pki" kedge-only.example >/dev/null    # an AF without profile akma
API=TS29522_AKMA.yaml
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }

cat >"$T/aanf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/aanf.crt, key: $T/pki/aanf.key, ca: $T/pki/ca.crt}}
aanf: {home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey:
  allowed_consumers: [{name: nef.kedge.test}]
  relays: [nef.kedge.test]
EOC
start_daemon AANF kedge-aanfd "$T/aanf.yaml"

nef_conf() { # nef_conf AANF_PORT
  cat >"$T/nef.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}}
afs:
  - {af_id: ecs.partner.example, profiles: [akma, bound], home_networks: [{mcc: "001", mnc: "01"}]}
  - {af_id: kedge-only.example, profiles: [bound], home_networks: [{mcc: "001", mnc: "01"}]}
  - {af_id: af.kedge.test, profiles: [akma], home_networks: [{mcc: "208", mnc: "93"}]}
ausf:
  groups: [{name: home, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:9"]}]
  retry_after: 7s
aanf:
  timeout: 1s
  groups: [{name: aanf-home, mcc: "001", mnc: "01", rids: ["12"], uris: ["https://127.0.0.1:$1"]}]
EOC
}
nef_conf "$AANF_PORT"
start_daemon NEF kedge-nefd "$T/nef.yaml"

KAUSF=474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b
"$BIN/kedge" derive akma --kausf $KAUSF --supi imsi-001010000000001 --mcc 001 --mnc 01 --rid 12 \
  --af-fqdn ecs.partner.example >"$T/d"
AKID=$(jget aKid "$T/d") KAKMA=$(jget kAkma "$T/d") KAF=$(jget kaf "$T/d")
code=$(sbi_curl ausf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supi":"imsi-001010000000001","aKId":"'"$AKID"'","kAkma":"'"$KAKMA"'"}' \
  "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/register-anchorkey")
[ "$code" = 200 ] || fail "register at the AAnF: $code $(cat "$T/r")"

akma() { # akma CLIENT JSON -> status; body $T/r, headers $T/h
  sbi_curl "$1" -D "$T/h" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
    -d "$2" "https://127.0.0.1:$NEF_PORT/3gpp-akma/v1/retrieve"
}
REQ='{"afId":"ecs.partner.example","aKId":"'"$AKID"'"}'
echo "$REQ" | schema_ok "AkmaAfKeyRequest to the NEF" request $API /retrieve POST

# --- the AF's own K_AF through the NEF (TS 33.535 6.3) ---
code=$(akma ecs.partner.example "$REQ")
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF" ] && ! grep -q supi "$T/r" &&
  ok "3gpp-akma: K_AF for the AF's own FQDN, no SUPI" || fail "retrieve: $code $(cat "$T/r")"
schema_ok "3gpp-akma 200 AkmaAfKeyData" response $API /retrieve POST 200 <"$T/r"
grep -q "$KAKMA" "$T/r" "$T/NEF.log" && fail "K_AKMA outside the AAnF" || ok "K_AKMA never reaches the NEF"
grep -q "audit: afId=ecs.partner.example profile=akma aanf_group=aanf-home outcome=success .*peer=ecs.partner.example a_kid=$AKID status=200" "$T/NEF.log" &&
  ok "audit line: AF, A-KID, profile akma, AAnF group" || fail "audit: $(grep audit "$T/NEF.log" | tail -1)"
grep -qi "$KAF" "$T/NEF.log" "$T/AANF.log" && fail "K_AF in a log" || ok "no K_AF in the NEF's or AAnF's log"

# --- unknown A-KID: 204 (TS 29.522) ---
UNKNOWN=12.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org
code=$(akma ecs.partner.example '{"afId":"ecs.partner.example","aKId":"'$UNKNOWN'"}')
[ "$code" = 204 ] && [ ! -s "$T/r" ] && ok "unknown A-KID: 204 without body" || fail "unknown: $code"
ODD=$(echo "$AKID" | sed 's/^12\./13./')
code=$(akma ecs.partner.example '{"afId":"ecs.partner.example","aKId":"'"$ODD"'"}')
[ "$code" = 204 ] && grep -q "no AAnF group serves" "$T/NEF.log" &&
  ok "an A-KID whose RID no AAnF group serves: 204" || fail "unserved RID: $code"

# --- refusals (403) ---
code=$(akma ecs.partner.example '{"afId":"af.kedge.test","aKId":"'"$AKID"'"}')
[ "$code" = 403 ] && grep -q AF_ID_MISMATCH "$T/r" && ok "afId not in the caller's certificate: 403" ||
  fail "mismatch: $code $(cat "$T/r")"
schema_ok "3gpp-akma 403 ProblemDetails" response $API /retrieve POST 403 <"$T/r"
"$BIN/kedge" pki issue "$T/pki" rogue >/dev/null
code=$(akma rogue '{"afId":"rogue.kedge.test","aKId":"'"$AKID"'"}')
[ "$code" = 403 ] && grep -q AF_NOT_AUTHORIZED "$T/r" && ok "AF not in the table: 403" || fail "rogue: $code"
code=$(akma kedge-only.example '{"afId":"kedge-only.example","aKId":"'"$AKID"'"}')
[ "$code" = 403 ] && grep -q PROFILE_NOT_ALLOWED "$T/r" && ok "AF without profile akma: 403" ||
  fail "profile: $code $(cat "$T/r")"
code=$(akma af '{"afId":"af.kedge.test","aKId":"'"$AKID"'"}')
[ "$code" = 403 ] && grep -q HOME_NETWORK_NOT_ALLOWED "$T/r" && ok "home network not allowed: 403" ||
  fail "home: $code $(cat "$T/r")"

# --- malformed (400) ---
code=$(akma ecs.partner.example '{"afId":"ecs.partner.example"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_MISSING "$T/r" && grep -q '"/aKId"' "$T/r" &&
  ok "missing aKId: 400 MANDATORY_IE_MISSING" || fail "missing: $code $(cat "$T/r")"
schema_ok "3gpp-akma 400 ProblemDetails" response $API /retrieve POST 400 <"$T/r"
code=$(akma ecs.partner.example '{"afId":"ecs.partner.example","aKId":"12.x@5gc.mnc001.mcc001.3gppnetwork.org"}')
[ "$code" = 400 ] && grep -q '"/aKId"' "$T/r" && grep -q MANDATORY_IE_INCORRECT "$T/r" &&
  ok "malformed A-KID: 400 with invalidParams" || fail "malformed: $code $(cat "$T/r")"
code=$(akma ecs.partner.example '{"afId":"ecs partner","aKId":"'"$AKID"'"}')
[ "$code" = 400 ] && grep -q '"/afId"' "$T/r" && ok "afId not a DNS name: 400" || fail "afId: $code"

# --- 3gpp-kedge keeps working beside it (its AUSF is down here: 503, not 404) ---
code=$(sbi_curl kedge-only.example -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"afId":"kedge-only.example","kedgeId":"'"$UNKNOWN"'","ecsId":"kedge-only.example"}' \
  "https://127.0.0.1:$NEF_PORT/3gpp-kedge/v1/retrieve")
[ "$code" = 503 ] && grep -q TARGET_NF_NOT_REACHABLE "$T/r" && ok "3gpp-kedge still served beside 3gpp-akma" ||
  fail "3gpp-kedge: $code $(cat "$T/r")"

# --- the AAnF down: 503 with Retry-After ---
stop_daemon AANF
code=$(akma ecs.partner.example "$REQ")
[ "$code" = 503 ] && grep -qi '^retry-after: 7' "$T/h" && grep -q TARGET_NF_NOT_REACHABLE "$T/r" &&
  ok "AAnF down: 503 TARGET_NF_NOT_REACHABLE, Retry-After 7" || fail "down: $code $(cat "$T/h" "$T/r")"
schema_ok "3gpp-akma 503 ProblemDetails" response $API /retrieve POST 503 <"$T/r"
curl -s "http://127.0.0.1:$NEF_METRICS_PORT/metrics" >"$T/m"
grep -q 'kedge_nef_akma_requests_total{outcome="success"} 1' "$T/m" &&
  grep -q 'kedge_nef_aanf_attempts_total{result="unreachable"} 1' "$T/m" &&
  ok "metrics: akma requests and AAnF attempts" || fail "metrics: $(grep -E 'akma|aanf' "$T/m")"

# --- no aanf: section, no 3gpp-akma ---
sed '/^aanf:/,$d' "$T/nef.yaml" >"$T/nef2.yaml"
start_daemon NEF2 kedge-nefd "$T/nef2.yaml"
code=$(sbi_curl ecs.partner.example -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d "$REQ" "https://127.0.0.1:$NEF2_PORT/3gpp-akma/v1/retrieve")
[ "$code" = 404 ] && ok "without aanf.groups the NEF does not offer 3gpp-akma (404)" || fail "no aanf: $code"
finish
