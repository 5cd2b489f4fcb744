#!/bin/sh
# kedge-aanfd (SPEC.md 9, TS 29.535) on its own, with curl as AUSF, AF and NEF: register-anchorkey,
# retrieve-applicationkey (K_AF for the AF's own afId; the NEF for any; 204 unknown), the
# latest anchor key per SUPI, remove-context, expiry, every error, bodies checked against
# 3GPP's OpenAPI files, no key in the log or the database file, durability after kill -9.
# Usage: sh test-aanf.sh BUILD_DIR
BUILD=${1:?usage: test-aanf.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

pki_init
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null
"$BIN/kedge" master-key "$T/aanf.key" >/dev/null
API=TS29535_Naanf_AKMA.yaml
aanf_conf() { # aanf_conf FILE KEYSTORE LIFETIME
  cat >"$1" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/aanf.crt, key: $T/pki/aanf.key, ca: $T/pki/ca.crt}}
aanf: {home_network: {mcc: "001", mnc: "01"}, key_lifetime: $3, master_key: $T/aanf.key}
keystore: "$2"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey:
  allowed_consumers:
    - {name: ecs.kedge.test}
    - {name: af.kedge.test, supi: true}
    - {name: nef.kedge.test}
  relays: [nef.kedge.test]
EOC
}
aanf_conf "$T/aanf.yaml" "sqlite:$T/aanf.sqlite" 24h
start_daemon AANF kedge-aanfd "$T/aanf.yaml"

post() { # post CLIENT OP JSON -> status; body in $T/r
  sbi_curl "$1" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' -d "$3" \
    "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/$2"
}
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
# derive KAUSF SUPI RID AF -> sets KAKMA AKID KAF (kedge derive akma, the tested derivation)
derive() {
  "$BIN/kedge" derive akma --kausf "$1" --supi "$2" --mcc 001 --mnc 01 --rid "$3" \
    --af-fqdn "$4" >"$T/d"
  KAKMA=$(jget kAkma "$T/d") AKID=$(jget aKid "$T/d") KAF=$(jget kaf "$T/d")
}
KAUSF1=474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b
KAUSF2=20de4eb2b75c8dac301ad52773e2e37bd7b4b0c2fdb1c3751b98dd0df846aed5
SUPI=imsi-001010000000001

# --- register-anchorkey (TS 33.535 6.1 step 4) ---
derive $KAUSF1 $SUPI 12 ecs.kedge.test
AKID1=$AKID KAKMA1=$KAKMA KAF1=$KAF
REG='{"supi":"'$SUPI'","aKId":"'$AKID1'","kAkma":"'$KAKMA1'"}'
echo "$REG" | schema_ok "AkmaKeyInfo request body" request $API /register-anchorkey POST
code=$(post ausf register-anchorkey "$REG")
[ "$code" = 200 ] && [ "$(jget aKId "$T/r")" = "$AKID1" ] && ok "register-anchorkey: 200" ||
  fail "register: $code $(cat "$T/r")"
schema_ok "register-anchorkey 200 AkmaKeyInfo" response $API /register-anchorkey POST 200 <"$T/r"

# --- retrieve-applicationkey: the AF's own K_AF (TS 33.535 6.2 steps 3-4) ---
REQ='{"afId":"ecs.kedge.test","aKId":"'$AKID1'"}'
echo "$REQ" | schema_ok "AkmaAfKeyRequest body" request $API /retrieve-applicationkey POST
code=$(post ecs retrieve-applicationkey "$REQ")
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF1" ] && ! grep -q supi "$T/r" &&
  grep -q '"expiry":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}Z"' "$T/r" &&
  ok "retrieve-applicationkey: K_AF = KDF(K_AKMA, 0x82, ecs.kedge.test || 0100000007), no SUPI" ||
  fail "retrieve: $code $(cat "$T/r")"
schema_ok "retrieve-applicationkey 200 AkmaAfKeyData" response $API /retrieve-applicationkey POST 200 <"$T/r"
grep -q "$KAKMA1" "$T/r" && fail "K_AKMA left the AAnF" || ok "K_AKMA is not in the answer"
code=$(post ecs retrieve-applicationkey '{"afId":"ECS.kedge.test.","aKId":"'$AKID1'"}')
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF1" ] && ok "afId normalised (case, trailing dot)" ||
  fail "normalised afId: $code"
derive $KAUSF1 $SUPI 12 af.kedge.test
code=$(post af retrieve-applicationkey '{"afId":"af.kedge.test","aKId":"'$AKID1'"}')
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF" ] && [ "$(jget supi "$T/r")" = "$SUPI" ] &&
  ok "an AF allowed the SUPI gets it with its own K_AF" || fail "supi: $code $(cat "$T/r")"
schema_ok "AkmaAfKeyData with supi" response $API /retrieve-applicationkey POST 200 <"$T/r"
code=$(post af retrieve-applicationkey '{"afId":"af.kedge.test","aKId":"'$AKID1'","anonInd":true}')
[ "$code" = 200 ] && ! grep -q supi "$T/r" && ok "anonInd: no SUPI" || fail "anonInd: $code $(cat "$T/r")"
derive $KAUSF1 $SUPI 12 ecs.example.com
code=$(post nef retrieve-applicationkey '{"afId":"ecs.example.com","aKId":"'$AKID1'"}')
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF" ] && [ "$KAF" != "$KAF1" ] &&
  ok "relay (NEF): K_AF for another afId, bound to that afId" || fail "relay: $code $(cat "$T/r")"

# --- errors of retrieve-applicationkey ---
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.example.com","aKId":"'$AKID1'"}')
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/r" && ok "an AF asking for another afId: 403" ||
  fail "other afId: $code"
schema_ok "403 ProblemDetails" response $API /retrieve-applicationkey POST 403 <"$T/r"
code=$(post seaf retrieve-applicationkey "$REQ")
[ "$code" = 403 ] && ok "consumer not listed: 403" || fail "seaf: $code"
code=$(post ausf retrieve-applicationkey "$REQ")
[ "$code" = 403 ] && ok "the AUSF may not get application keys: 403" || fail "ausf: $code"
UNKNOWN=12.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"'$UNKNOWN'"}')
[ "$code" = 204 ] && [ ! -s "$T/r" ] && ok "unknown A-KID: 204 without body (TS 29.535)" ||
  fail "unknown: $code $(cat "$T/r")"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_MISSING "$T/r" && grep -q '"/aKId"' "$T/r" &&
  ok "missing aKId: 400 MANDATORY_IE_MISSING" || fail "missing: $code $(cat "$T/r")"
schema_ok "400 ProblemDetails" response $API /retrieve-applicationkey POST 400 <"$T/r"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"12.abc@5gc.mnc001.mcc001.3gppnetwork.org"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_INCORRECT "$T/r" && grep -q '"/aKId"' "$T/r" &&
  ok "malformed A-KID: 400 with invalidParams" || fail "malformed: $code $(cat "$T/r")"
code=$(post ecs retrieve-applicationkey '{"afId":"not a name","aKId":"'$AKID1'"}')
[ "$code" = 400 ] && grep -q '"/afId"' "$T/r" && ok "afId not a DNS name: 400" || fail "afId: $code"
code=$(sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' -d '{"afId":' \
  "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/retrieve-applicationkey")
[ "$code" = 400 ] && ok "garbage body: 400" || fail "garbage: $code"
code=$(sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: text/plain' -d "$REQ" \
  "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/retrieve-applicationkey")
[ "$code" = 415 ] && ok "wrong content type: 415" || fail "content type: $code"
code=$(sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  --data-binary @"$BIN/kedge-aanfd" "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/retrieve-applicationkey")
[ "$code" = 413 ] && ok "body over sbi.limits.max_body: 413" || fail "too big: $code"

# --- errors of register-anchorkey ---
code=$(post ecs register-anchorkey "$REG")
[ "$code" = 403 ] && ok "an AF may not register anchor keys: 403" || fail "ecs register: $code"
code=$(post ausf register-anchorkey '{"supi":"'$SUPI'","aKId":"'$AKID1'","kAkma":"00"}')
[ "$code" = 400 ] && grep -q '"/kAkma"' "$T/r" && ok "kAkma not 64 hex digits: 400" || fail "kAkma: $code"
code=$(post ausf register-anchorkey '{"gpsi":"msisdn-491711234567","aKId":"'$AKID1'","kAkma":"'$KAKMA1'"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_MISSING "$T/r" && grep -q '"/supi"' "$T/r" &&
  ok "gpsi without supi: 400 MANDATORY_IE_MISSING /supi" || fail "gpsi: $code $(cat "$T/r")"
code=$(post ausf register-anchorkey '{"supi":"'$SUPI'","gpsi":"msisdn-491711234567","aKId":"'$AKID1'","kAkma":"'$KAKMA1'"}')
[ "$code" = 400 ] && grep -q '"/gpsi"' "$T/r" && ok "supi and gpsi: 400 (oneOf)" || fail "both: $code"
code=$(post ausf register-anchorkey '{"supi":"imsi-1","aKId":"'$AKID1'","kAkma":"'$KAKMA1'"}')
[ "$code" = 400 ] && grep -q '"/supi"' "$T/r" && ok "malformed SUPI: 400" || fail "supi: $code"
OTHER=$(echo "$AKID1" | sed 's/mcc001/mcc208/')
code=$(post ausf register-anchorkey '{"supi":"'$SUPI'","aKId":"'$OTHER'","kAkma":"'$KAKMA1'"}')
[ "$code" = 400 ] && grep -q realm "$T/r" && ok "A-KID of another home network: 400" || fail "realm: $code"
schema_ok "register 400 ProblemDetails" response $API /register-anchorkey POST 400 <"$T/r"

# --- the latest anchor key per SUPI (a new primary authentication replaces it) ---
derive $KAUSF2 $SUPI 12 ecs.kedge.test
AKID2=$AKID KAF2=$KAF
code=$(post ausf register-anchorkey '{"supi":"'$SUPI'","aKId":"'$AKID2'","kAkma":"'$KAKMA'"}')
[ "$code" = 200 ] && ok "second registration for the SUPI" || fail "second: $code"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"'$AKID2'"}')
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF2" ] && ok "the new A-KID gives the new K_AF" ||
  fail "new: $code"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"'$AKID1'"}')
[ "$code" = 204 ] && ok "the replaced A-KID: 204" || fail "replaced: $code"

# --- no key in the log or in the database file; durable after kill -9 ---
for k in $KAKMA1 $KAKMA $KAF1 $KAF2 $KAUSF1; do
  grep -qi "$k" "$T/AANF.log" && fail "a key is in the log"
  grep -qi "$k" "$T"/aanf.sqlite* 2>/dev/null && fail "a key is in the database file in hex"
done
ok "no key in the log or (in hex) in the database"
kill -9 "$AANF_PID"
wait "$AANF_PID" 2>/dev/null
start_daemon AANF kedge-aanfd "$T/aanf.yaml"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"'$AKID2'"}')
[ "$code" = 200 ] && [ "$(jget kaf "$T/r")" = "$KAF2" ] && ok "anchor key survives kill -9 (SQLite)" ||
  fail "after kill -9: $code"

# --- remove-context (deregistration) ---
code=$(post ecs remove-context '{"supi":"'$SUPI'"}')
[ "$code" = 403 ] && ok "an AF may not remove contexts: 403" || fail "ecs remove: $code"
code=$(post ausf remove-context '{}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_MISSING "$T/r" && ok "CtxRemove without supi: 400" || fail "no supi: $code"
echo '{"supi":"'$SUPI'"}' | schema_ok "CtxRemove body" request $API /remove-context POST
code=$(post ausf remove-context '{"supi":"'$SUPI'"}')
[ "$code" = 204 ] && ok "remove-context: 204" || fail "remove: $code $(cat "$T/r")"
code=$(post ecs retrieve-applicationkey '{"afId":"ecs.kedge.test","aKId":"'$AKID2'"}')
[ "$code" = 204 ] && ok "after remove-context the A-KID is unknown" || fail "after remove: $code"
code=$(post ausf remove-context '{"supi":"'$SUPI'"}')
[ "$code" = 404 ] && grep -q CONTEXT_NOT_FOUND "$T/r" && ok "remove-context again: 404 CONTEXT_NOT_FOUND" ||
  fail "remove again: $code"
schema_ok "remove-context 404 ProblemDetails" response $API /remove-context POST 404 <"$T/r"

# --- expiry (aanf.key_lifetime) ---
stop_daemon AANF
aanf_conf "$T/aanf-short.yaml" "memory:" 1s
start_daemon AANF kedge-aanfd "$T/aanf-short.yaml"
post ausf register-anchorkey "$REG" >/dev/null
code=$(post ecs retrieve-applicationkey "$REQ")
[ "$code" = 200 ] && ok "memory: store serves" || fail "memory: $code"
sleep 1.2
code=$(post ecs retrieve-applicationkey "$REQ")
[ "$code" = 204 ] && ok "expired anchor key: 204, like an unknown one" || fail "expired: $code"

# --- the key store down: 503 with Retry-After (Redis) ---
if command -v redis-server >/dev/null; then
  start_redis || fail "redis-server did not start"
  aanf_conf "$T/aanf-redis.yaml" "redis://127.0.0.1:$RPORT/3" 24h
  start_daemon AANFR kedge-aanfd "$T/aanf-redis.yaml"
  AANF_SAVED=$AANF_PORT AANF_PORT=$AANFR_PORT
  code=$(post ausf register-anchorkey "$REG")
  [ "$code" = 200 ] && ok "Redis store: registered" || fail "redis register: $code"
  kill "$RPID"
  wait "$RPID" 2>/dev/null
  code=$(sbi_curl ecs -D "$T/h" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
    -d "$REQ" "https://127.0.0.1:$AANF_PORT/naanf-akma/v1/retrieve-applicationkey")
  [ "$code" = 503 ] && grep -qi '^retry-after: 1' "$T/h" && grep -q NF_CONGESTION "$T/r" &&
    ok "key store down: 503 NF_CONGESTION with Retry-After" || fail "store down: $code $(cat "$T/r")"
  schema_ok "503 ProblemDetails" response $API /retrieve-applicationkey POST 503 <"$T/r"
  code=$(post ausf register-anchorkey "$REG")
  [ "$code" = 503 ] && ok "register-anchorkey with the store down: 503" || fail "register down: $code"
  code=$(post ausf remove-context '{"supi":"'$SUPI'"}')
  [ "$code" = 503 ] && ok "remove-context with the store down: 503" || fail "remove down: $code"
  AANF_PORT=$AANF_SAVED
else
  fail "redis-server not installed (scripts/deps.sh installs it)"
fi

# --- metrics ---
curl -s "http://127.0.0.1:$AANF_METRICS_PORT/metrics" >"$T/m"
grep -q 'kedge_aanf_anchor_keys_total{result="registered"} 1' "$T/m" &&
  grep -q 'kedge_aanf_application_keys_total{result="unknown"} 1' "$T/m" &&
  ok "metrics count registrations and unknown A-KIDs" || fail "metrics: $(grep aanf "$T/m")"

# --- configuration errors: one line naming the file and key ---
printf 'aanf: {home_network: {mcc: "001"}}\nanchorkey: {allowed_consumers: [a]}\n' >"$T/bad.yaml"
out=$("$BIN/kedge-aanfd" --check-config --config "$T/bad.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "bad.yaml:.*home_network.mnc" && ok "missing mnc named with file:line" ||
  fail "bad config: $out"
printf 'aanf: {home_network: {mcc: "001", mnc: "01"}}\nanchorkey: {allowed_consumers: [a]}\napplicationkey: {relays: [nef]}\n' >"$T/bad2.yaml"
out=$("$BIN/kedge-aanfd" --check-config --config "$T/bad2.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "relays" && ok "a relay that is not a consumer is refused" ||
  fail "bad relays: $out"
finish
