#!/bin/sh
# The whole 5G AKA service set of SPEC.md 7 between real kedge-udmd and kedge-ausfd, with curl as
# the SEAF (and as the AUSF toward the UDM), every request and response body checked against
# 3GPP's OpenAPI files (schema_ok, tests/util/openapi_check.py):
#   UDM: generate-auth-data, auth-events POST (201 + Location), PUT removal (204), and their errors;
#        subscriber show lists the latest udm.auth_events.keep AuthEvents
#   AUSF: ue-authentications, 5g-aka-confirmation PUT and DELETE, deregister, and their errors;
#        with ue_authentication.max_confirmed 1 the older confirmed authentication is dropped;
#        the AuthEvents it sends the UDM (captured by kedge-udm-recorder, a test peer between
#        them, and checked too) with User-Agent "AUSF-<nfInstanceId>" (TS 29.500 5.2.2.2);
#        DELETE and deregister revoke the edge keys at once (the key service answers 404)
#   routing indicator order and edge.derive against a stock UDM (no routingId, no edge flag)
#   statuses: a UDM that does not answer or is not reachable is 504; Content-Encoding gzip is 415
#   with Accept-Encoding; an empty supiOrSuci is 400; the AuthEvent's failure mode (the UDM does
#   not answer: the SEAF still gets its result after udm.auth_event_timeout)
# Usage: sh test-aka-service-set.sh BUILD_DIR
BUILD=${1:?usage: test-aka-service-set.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
# The AUSF logs "edge keys stored supi_hash=<16 hex digits of SHA-256(SUPI)> kedge_id=<id>".

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
SNN=5G:mnc001.mcc001.3gppnetwork.org
UEAU=TS29503_Nudm_UEAU.yaml
AUTH=TS29509_Nausf_UEAuthentication.yaml
S1=imsi-001010000000001 # edge-capable, RID 12
S2=imsi-001010000000002 # not edge-capable, RID 0
S3=imsi-001010000000003 # AKMA (akmaInd, SPEC.md 9)
# An NAI may hold '"' and '\': the answers written out with snprintf (kedge_json_plain) must
# go through a jansson tree for it. S4J: as a JSON string; S4P: as a path segment.
S4='nai-q"u\o@example.org'
S4J='nai-q\"u\\o@example.org'
S4P='nai-q%22u%5Co@example.org'
pki_init

udm_conf
cat >>"$T/udm.yaml" <<EOC
  auth_events: {keep: 3}
nf: {instance_id_file: $T/udm.id}
EOC
udm_add $S1 --rid 12 || fail "subscriber add $S1"
udm_add $S2 --no-edge || fail "subscriber add $S2"
udm_add $S3 --akma || fail "subscriber add $S3"
udm_add "$S4" || fail "subscriber add $S4"
start_daemon UDM kedge-udmd "$T/udm.yaml"
UDM=https://127.0.0.1:$UDM_PORT

# the recorders: between the AUSFs and the UDM (one plays a stock UDM)
recorder() { # recorder NAME FILE STOCK
  cat >"$T/$1.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}
EOC
  export KEDGE_RECORDER_UPSTREAM=$UDM KEDGE_RECORDER_FILE=$2 KEDGE_RECORDER_STOCK=$3 \
    KEDGE_RECORDER_CA=$T/pki/ca.crt KEDGE_RECORDER_CERT=$T/pki/ausf.crt \
    KEDGE_RECORDER_KEY=$T/pki/ausf.key
  start_daemon "$1" kedge-udm-recorder "$T/$1.yaml"
}
recorder REC "$T/rec.jsonl" 0
recorder STOCK "$T/stock.jsonl" 1

ausf_conf() { # ausf_conf FILE UDM_URI DERIVE
  cat >"$1" <<EOC
nf: {instance_id_file: $T/ausf.id}
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
udm: {uri: "$2", timeout: 500ms, auth_event_timeout: 300ms}
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
edge:
  enabled: true
  derive: $3
  home_network: {mcc: "001", mnc: "01"}
keystore: "memory:"
keyrequest:
  allowed_consumers: [{name: ecs.kedge.test}]
EOC
}
ausf_conf "$T/ausf.yaml" "https://127.0.0.1:$REC_PORT" udm-flag
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
AUSF=https://127.0.0.1:$AUSF_PORT
ausf_conf "$T/ausf-stock.yaml" "https://127.0.0.1:$STOCK_PORT" udm-flag
start_daemon AUSFS kedge-ausfd "$T/ausf-stock.yaml"
ausf_conf "$T/ausf-always.yaml" "https://127.0.0.1:$STOCK_PORT" always
start_daemon AUSFA kedge-ausfd "$T/ausf-always.yaml"

# call CERT METHOD URL [BODY]: status (and headers in $T/h), body in $T/b
call() {
  if [ $# -ge 4 ]; then
    sbi_curl "$1" -D "$T/h" -o "$T/b" -w '%{http_code}' -X "$2" -H 'content-type: application/json' \
      -d "$4" "$3"
  else
    sbi_curl "$1" -D "$T/h" -o "$T/b" -w '%{http_code}' -X "$2" "$3"
  fi
}
# expect DESC STATUS GOT FILE.yaml PATH METHOD: the status, and the body valid for it
expect() {
  if [ "$3" = "$2" ]; then ok "$1: $2"; else fail "$1: $3 (want $2) $(cat "$T/b")"; fi
  [ "$2" = 204 ] || schema_ok "$1: response" response "$4" "$5" "$6" "$2" <"$T/b"
}
jmember() { /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$2" "$1"; }
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
header() { sed -n "s/^$1: *\\(.*\\)\\r$/\\1/Ip" "$T/h"; }

# --- UDM: generate-auth-data (as the AUSF) ---
GAD=security-information/generate-auth-data
GADP='/{supiOrSuci}/security-information/generate-auth-data'
REQ='{"servingNetworkName":"'$SNN'","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
echo "$REQ" | schema_ok "generate-auth-data request" request $UEAU "$GADP" POST
expect "UDM generate-auth-data" 200 "$(call ausf POST "$UDM/nudm-ueau/v1/$S1/$GAD" "$REQ")" $UEAU "$GADP" POST
grep -q '"routingId":"12"' "$T/b" && grep -q '"vendorSpecific-032473":{"edgeInd":true}' "$T/b" &&
  ok "UDM: routingId and the edge flag as a TS 29.500 6.6.3 vendor-specific attribute" ||
  fail "UDM vector: $(cat "$T/b")"
# the written-out AuthenticationInfoResult's other shapes, each against the schema
expect "UDM generate-auth-data, not edge-capable" 200 "$(call ausf POST "$UDM/nudm-ueau/v1/$S2/$GAD" "$REQ")" $UEAU "$GADP" POST
grep -q '"vendorSpecific-032473":{"edgeInd":false}' "$T/b" && ! grep -q akmaInd "$T/b" &&
  ok "UDM: edgeInd false, no akmaInd" || fail "UDM vector $S2: $(cat "$T/b")"
expect "UDM generate-auth-data, AKMA" 200 "$(call ausf POST "$UDM/nudm-ueau/v1/$S3/$GAD" "$REQ")" $UEAU "$GADP" POST
grep -q '"akmaInd":true' "$T/b" && ok "UDM: akmaInd true for an AKMA subscriber" || fail "UDM vector $S3: $(cat "$T/b")"
expect "UDM generate-auth-data, a SUPI with '\"' and '\\'" 200 \
  "$(call ausf POST "$UDM/nudm-ueau/v1/$S4P/$GAD" "$REQ")" $UEAU "$GADP" POST
[ "$(jmember supi "$T/b")" = "$S4" ] && ok "UDM: a SUPI with '\"' and '\\' escaped in the answer" ||
  fail "UDM vector $S4: $(cat "$T/b")"
expect "UDM generate-auth-data, bad servingNetworkName" 400 \
  "$(call ausf POST "$UDM/nudm-ueau/v1/$S1/$GAD" '{"servingNetworkName":"x","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}')" $UEAU "$GADP" POST
expect "UDM generate-auth-data, not an AUSF" 403 "$(call seaf POST "$UDM/nudm-ueau/v1/$S1/$GAD" "$REQ")" $UEAU "$GADP" POST
expect "UDM generate-auth-data, unknown SUPI" 404 \
  "$(call ausf POST "$UDM/nudm-ueau/v1/imsi-001019999999999/$GAD" "$REQ")" $UEAU "$GADP" POST

# --- UDM: auth-events (as the AUSF) ---
EVP='/{supi}/auth-events'
EV='{"nfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","success":true,"timeStamp":"2026-12-06T10:00:00Z","authType":"5G_AKA","servingNetworkName":"'$SNN'"}'
echo "$EV" | schema_ok "AuthEvent request" request $UEAU "$EVP" POST
expect "UDM auth-events POST" 201 "$(call ausf POST "$UDM/nudm-ueau/v1/$S1/auth-events" "$EV")" $UEAU "$EVP" POST
LOC=$(header location)
echo "$LOC" | grep -q "^$UDM/nudm-ueau/v1/$S1/auth-events/[0-9a-f]\{32\}\$" &&
  ok "UDM auth-events: Location {apiRoot}/nudm-ueau/v1/{supi}/auth-events/{authEventId}" || fail "Location: $LOC"
grep -q '"success":true' "$T/b" && grep -q '"servingNetworkName":"'$SNN'"' "$T/b" &&
  ok "UDM auth-events: the AuthEvent in the body" || fail "201 body: $(cat "$T/b")"
# an authType of the UDM's 201 that needs escaping, or is past ASCII: through a tree, as sent
for at in 'NEW_\"TYPE\\' 'NEW_TYPE_\u00e9'; do
  expect "UDM auth-events POST, authType $at" 201 \
    "$(call ausf POST "$UDM/nudm-ueau/v1/$S3/auth-events" '{"nfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6","success":true,"timeStamp":"2026-12-06T10:00:00Z","authType":"'"$at"'","servingNetworkName":"'$SNN'"}')" $UEAU "$EVP" POST
  [ "$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["authType"] == json.loads("\"" + sys.argv[2] + "\""))' "$T/b" "$at")" = True ] &&
    ok "UDM auth-events: authType $at as sent" || fail "authType $at: $(cat "$T/b")"
done
expect "UDM auth-events POST, success not a boolean" 400 \
  "$(call ausf POST "$UDM/nudm-ueau/v1/$S1/auth-events" "$(echo "$EV" | sed 's/"success":true/"success":"yes"/')")" $UEAU "$EVP" POST
grep -q '"/success"' "$T/b" && ok "UDM auth-events: invalidParams names /success" || fail "invalidParams: $(cat "$T/b")"
expect "UDM auth-events POST, not an AUSF" 403 "$(call seaf POST "$UDM/nudm-ueau/v1/$S1/auth-events" "$EV")" $UEAU "$EVP" POST
expect "UDM auth-events POST, unknown SUPI" 404 \
  "$(call ausf POST "$UDM/nudm-ueau/v1/imsi-001019999999999/auth-events" "$EV")" $UEAU "$EVP" POST
grep -q USER_NOT_FOUND "$T/b" && ok "unknown SUPI: USER_NOT_FOUND" || fail "cause: $(cat "$T/b")"

PUTP='/{supi}/auth-events/{authEventId}'
RM=$(echo "$EV" | sed 's/}$/,"authRemovalInd":true}/')
echo "$RM" | schema_ok "AuthEvent removal request" request $UEAU "$PUTP" PUT
expect "UDM auth-events PUT without authRemovalInd" 400 "$(call ausf PUT "$LOC" "$EV")" $UEAU "$PUTP" PUT
expect "UDM auth-events PUT, not an AUSF" 403 "$(call seaf PUT "$LOC" "$RM")" $UEAU "$PUTP" PUT
expect "UDM auth-events PUT removal" 204 "$(call ausf PUT "$LOC" "$RM")" $UEAU "$PUTP" PUT
[ ! -s "$T/b" ] && ok "204 without a body" || fail "204 body: $(cat "$T/b")"
expect "UDM auth-events PUT, removed already" 404 "$(call ausf PUT "$LOC" "$RM")" $UEAU "$PUTP" PUT
expect "UDM auth-events PUT, unknown authEventId" 404 \
  "$(call ausf PUT "$UDM/nudm-ueau/v1/$S1/auth-events/00000000000000000000000000000000" "$RM")" $UEAU "$PUTP" PUT

# --- Content-Encoding (lib/sbi, every daemon) ---
for d in "udm ausf $UDM/nudm-ueau/v1/$S1/auth-events" "ausf seaf $AUSF/nausf-auth/v1/ue-authentications"; do
  set -- $d
  code=$(sbi_curl "$2" -D "$T/h" -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
    -H 'content-encoding: gzip' -d '{}' "$3")
  [ "$code" = 415 ] && [ "$(header accept-encoding)" = identity ] &&
    ok "$1: Content-Encoding gzip is 415 with Accept-Encoding: identity" || fail "$1 gzip: $code $(cat "$T/h")"
  schema_ok "$1 415 body" schema TS29571_CommonData.yaml ProblemDetails <"$T/b"
done

code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -H 'content-encoding: identity' -d "$EV" "$UDM/nudm-ueau/v1/$S1/auth-events")
[ "$code" = 201 ] && ok "Content-Encoding identity is no coding: 201" || fail "identity: $code $(cat "$T/b")"

# --- AUSF: ue-authentications and 5g-aka-confirmation (as the SEAF) ---
UEP=/ue-authentications
CP='/ue-authentications/{authCtxId}/5g-aka-confirmation'
AI='{"supiOrSuci":"'$S1'","servingNetworkName":"'$SNN'"}'
usim() { # usim SUPI RAND AUTN -> $T/usim (SQN = AUTN's first 6 octets xor AK, as the USIM)
  "$BIN/kedge" derive milenage --k $K --opc $OPC --rand "$2" --sqn 000000000000 --amf 8000 >"$T/mil"
  sqn=$(printf '%012x' $((0x$(echo "$3" | cut -c1-12) ^ 0x$(field ak "$T/mil"))))
  "$BIN/kedge" derive aka --k $K --opc $OPC --rand "$2" --sqn "$sqn" --amf 8000 --mcc 001 --mnc 01 \
    --supi "$1" >"$T/usim"
}
# aka BASE SUPI: a full 5G AKA, confirmation status in $CODE, its body in $T/confirm, href in $HREF
aka() {
  expect "ue-authentications $2" 201 "$(call seaf POST "$1/nausf-auth/v1/ue-authentications" \
    '{"supiOrSuci":"'"$2"'","servingNetworkName":"'$SNN'"}')" $AUTH $UEP POST
  cp "$T/b" "$T/auth"
  HREF=$(field href "$T/auth")
  usim "$(echo "$2" | sed 's/^suci-0-001-01-[0-9]*-0-0-/imsi-00101/')" "$(field rand "$T/auth")" "$(field autn "$T/auth")"
  CONF='{"resStar":"'"$(field xresStar "$T/usim")"'"}'
  CODE=$(call seaf PUT "$HREF" "$CONF")
  cp "$T/b" "$T/confirm"
}
echo "$AI" | schema_ok "AuthenticationInfo request" request $AUTH $UEP POST
: >"$T/rec.jsonl"
aka "$AUSF" $S1
echo "$CONF" | schema_ok "ConfirmationData request" request $AUTH "$CP" PUT
expect "5g-aka-confirmation" 200 "$CODE" $AUTH "$CP" PUT
grep -q AUTHENTICATION_SUCCESS "$T/confirm" && [ "$(field kseaf "$T/confirm")" = "$(field kseaf "$T/usim")" ] &&
  ok "AUTHENTICATION_SUCCESS with the USIM's KSEAF" || fail "confirm: $(cat "$T/confirm")"
CTX1=$HREF
# what the AUSF sent the UDM, as the recorder received it
ID=$(cat "$T/ausf.id")
grep -q '^[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}$' "$T/ausf.id" &&
  ok "nf.instance_id_file: created with a version 4 UUID" || fail "ausf.id: $(cat "$T/ausf.id")"
n_ua=$(grep -c "\"userAgent\":\"AUSF-$ID\"" "$T/rec.jsonl")
[ "$n_ua" -eq "$(wc -l <"$T/rec.jsonl")" ] && [ "$n_ua" -eq 2 ] &&
  ok "AUSF requests to the UDM carry User-Agent AUSF-<nfInstanceId> (TS 29.500 5.2.2.2)" ||
  fail "User-Agent: $(cat "$T/rec.jsonl")"
rec_body() { # rec_body N FILE: the body of the Nth recorded request
  sed -n "${1}p" "$2" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["body"]))'
}
rec_body 1 "$T/rec.jsonl" | schema_ok "AUSF -> UDM AuthenticationInfoRequest (captured)" request $UEAU "$GADP" POST
rec_body 2 "$T/rec.jsonl" | schema_ok "AUSF -> UDM AuthEvent after success (captured)" request $UEAU "$EVP" POST
rec_body 2 "$T/rec.jsonl" | grep -q "\"nfInstanceId\": \"$ID\".*\"success\": true" &&
  ok "AuthEvent: success, nfInstanceId = the AUSF's" || fail "AuthEvent: $(rec_body 2 "$T/rec.jsonl")"
rec_body 1 "$T/rec.jsonl" | grep -q "\"ausfInstanceId\": \"$ID\"" && ok "ausfInstanceId = nfInstanceId" ||
  fail "ausfInstanceId: $(rec_body 1 "$T/rec.jsonl")"
KID=$(sed -n "s/.*edge keys stored supi_hash=$(supi_hash $S1) kedge_id=\\([^ ]*\\).*/\\1/p" "$T/AUSF.log" | tail -1)
case $KID in 12.*@5gc.mnc001.mcc001.3gppnetwork.org) ok "Kedge ID with the UDM's routingId 12" ;;
*) fail "Kedge ID: '$KID'" ;; esac
keyreq() { call ecs POST "$AUSF/nausf-auth/v1/kedge-keys/retrieve" '{"kedgeId":"'"$KID"'"}'; }
[ "$(keyreq)" = 200 ] && ok "key service serves the new Kedge" || fail "keyrequest: $(cat "$T/b")"
# a SUPI that needs escaping: the AUSF's ConfirmationDataResponse through a tree
expect "ue-authentications, a SUPI with '\"' and '\\'" 201 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" \
  '{"supiOrSuci":"'"$S4J"'","servingNetworkName":"'$SNN'"}')" $AUTH $UEP POST
H4=$(field href "$T/b")
usim "$S4" "$(field rand "$T/b")" "$(field autn "$T/b")"
expect "5g-aka-confirmation, a SUPI with '\"' and '\\'" 200 \
  "$(call seaf PUT "$H4" '{"resStar":"'"$(field xresStar "$T/usim")"'"}')" $AUTH "$CP" PUT
[ "$(jmember supi "$T/b")" = "$S4" ] && [ "$(jmember kseaf "$T/b")" = "$(field kseaf "$T/usim")" ] &&
  ok "AUTHENTICATION_SUCCESS with the SUPI escaped and the USIM's KSEAF" || fail "confirm $S4: $(cat "$T/b")"

expect "5g-aka-confirmation replayed" 404 "$(call seaf PUT "$HREF" "$CONF")" $AUTH "$CP" PUT
expect "ue-authentications" 201 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" "$AI")" $AUTH $UEP POST
H2=$(field href "$T/b")
expect "5g-aka-confirmation, bad resStar" 400 "$(call seaf PUT "$H2" '{"resStar":"xyz"}')" $AUTH "$CP" PUT
# 32 digits, one not hex: a plain body the server would read without a tree but for resStar's
# check (lib/json/flat.c), answered as through jansson: 400 naming /resStar
expect "5g-aka-confirmation, resStar not hex" 400 \
  "$(call seaf PUT "$H2" '{"resStar":"0000000000000000000000000000000g"}')" $AUTH "$CP" PUT
grep -q '"MANDATORY_IE_INCORRECT"' "$T/b" && grep -q '"param":"/resStar"' "$T/b" &&
  ok "resStar not hex: MANDATORY_IE_INCORRECT naming /resStar" || fail "resStar not hex: $(cat "$T/b")"
expect "5g-aka-confirmation, not the SEAF" 403 "$(call ecs PUT "$H2" '{"resStar":"00000000000000000000000000000000"}')" $AUTH "$CP" PUT
expect "5g-aka-confirmation, wrong RES*" 200 "$(call seaf PUT "$H2" '{"resStar":"00000000000000000000000000000000"}')" $AUTH "$CP" PUT
grep -q AUTHENTICATION_FAILURE "$T/b" && ok "wrong RES*: AUTHENTICATION_FAILURE" || fail "failure: $(cat "$T/b")"
last=$(wc -l <"$T/rec.jsonl")
rec_body "$last" "$T/rec.jsonl" | schema_ok "AUSF -> UDM AuthEvent after failure (captured)" request $UEAU "$EVP" POST
rec_body "$last" "$T/rec.jsonl" | grep -q '"success": false' && ok "AuthEvent for the failure: success false" ||
  fail "failure AuthEvent: $(rec_body "$last" "$T/rec.jsonl")"
expect "ue-authentications, empty supiOrSuci" 400 \
  "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" '{"supiOrSuci":"","servingNetworkName":"'$SNN'"}')" $AUTH $UEP POST
grep -q '"/supiOrSuci"' "$T/b" && grep -q MANDATORY_IE_INCORRECT "$T/b" && ok "empty supiOrSuci named" || fail "$(cat "$T/b")"
expect "ue-authentications, not a SEAF" 403 "$(call ecs POST "$AUSF/nausf-auth/v1/ue-authentications" "$AI")" $AUTH $UEP POST
expect "ue-authentications, unknown SUPI" 404 \
  "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" '{"supiOrSuci":"imsi-001019999999999","servingNetworkName":"'$SNN'"}')" $AUTH $UEP POST

# --- DELETE 5g-aka-confirmation: removal at the UDM, keys revoked at once ---
expect "DELETE 5g-aka-confirmation, not its SEAF" 403 "$(call ecs DELETE "$CTX1")" $AUTH "$CP" DELETE
: >"$T/rec.jsonl"
expect "DELETE 5g-aka-confirmation" 204 "$(call seaf DELETE "$CTX1")" $AUTH "$CP" DELETE
[ "$(keyreq)" = 404 ] && ok "DELETE: the Kedge is refused at once" || fail "after DELETE: $(cat "$T/b")"
wait_for 5 grep -q PUT "$T/rec.jsonl" || fail "no removal reached the UDM"
sed -n 1p "$T/rec.jsonl" | grep -q "\"method\":\"PUT\",\"path\":\"/nudm-ueau/v1/$S1/auth-events/[0-9a-f]\{32\}\"" &&
  ok "AUSF -> UDM: PUT auth-events/{authEventId}" || fail "removal: $(cat "$T/rec.jsonl")"
rec_body 1 "$T/rec.jsonl" | schema_ok "AUSF -> UDM AuthEvent removal (captured)" request $UEAU "$PUTP" PUT
rec_body 1 "$T/rec.jsonl" | grep -q '"authRemovalInd": true' && ok "removal carries authRemovalInd" || fail "removal body"
expect "DELETE 5g-aka-confirmation again" 404 "$(call seaf DELETE "$CTX1")" $AUTH "$CP" DELETE
expect "DELETE 5g-aka-confirmation, unknown" 404 \
  "$(call seaf DELETE "$AUSF/nausf-auth/v1/ue-authentications/00000000000000000000000000000000/5g-aka-confirmation")" $AUTH "$CP" DELETE

# --- deregister ---
DP=/ue-authentications/deregister
aka "$AUSF" $S1
KID=$(sed -n "s/.*edge keys stored supi_hash=$(supi_hash $S1) kedge_id=\\([^ ]*\\).*/\\1/p" "$T/AUSF.log" | tail -1)
[ "$(keyreq)" = 200 ] && ok "a new authentication, a new Kedge" || fail "keyrequest: $(cat "$T/b")"
DR='{"supi":"'$S1'"}'
echo "$DR" | schema_ok "DeregistrationInfo request" request $AUTH $DP POST
expect "deregister, not a SEAF" 403 "$(call ecs POST "$AUSF/nausf-auth/v1/ue-authentications/deregister" "$DR")" $AUTH $DP POST
expect "deregister without supi" 400 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications/deregister" '{}')" $AUTH $DP POST
expect "deregister" 204 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications/deregister" "$DR")" $AUTH $DP POST
[ "$(keyreq)" = 404 ] && ok "deregister: the Kedge is refused at once" || fail "after deregister: $(cat "$T/b")"
expect "deregister, nothing left" 204 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications/deregister" "$DR")" $AUTH $DP POST

# --- the UDM kept the latest 3 AuthEvents of S1, one removed ---
out=$("$BIN/kedge-udmd" subscriber show --config "$T/udm.yaml" --supi $S1)
n=$(echo "$out" | grep -c " by ")
[ "$n" = 3 ] && echo "$out" | grep -q "success 5G_AKA $SNN by $ID" &&
  echo "$out" | grep -q "failure 5G_AKA $SNN by $ID" &&
  ok "subscriber show: the latest 3 AuthEvents (auth_events.keep)" || fail "subscriber show: $out"

# --- ue_authentication.max_confirmed (issue 17): when full, the oldest is dropped ---
sed 's/^ue_authentication:$/ue_authentication:\n  max_confirmed: 1/' "$T/ausf.yaml" >"$T/ausf-one.yaml"
start_daemon AUSF1 kedge-ausfd "$T/ausf-one.yaml"
aka "https://127.0.0.1:$AUSF1_PORT" $S1
OLD=$HREF OLDCODE=$CODE
aka "https://127.0.0.1:$AUSF1_PORT" $S1
[ "$OLDCODE" = 200 ] && [ "$CODE" = 200 ] || fail "max_confirmed 1: confirmations $OLDCODE, $CODE"
expect "max_confirmed 1: DELETE of the older authentication, dropped" 404 "$(call seaf DELETE "$OLD")" $AUTH "$CP" DELETE
expect "max_confirmed 1: DELETE of the newest, kept" 204 "$(call seaf DELETE "$HREF")" $AUTH "$CP" DELETE
stop_daemon AUSF1 || fail "AUSF1 did not exit 0"

# --- a stock UDM (no routingId, no edge flag): RID fallbacks and edge.derive ---
AUSF=https://127.0.0.1:$AUSFS_PORT
aka "$AUSF" suci-0-001-01-0034-0-0-0000000002
[ "$CODE" = 200 ] && ok "stock UDM: 5G AKA with a null-scheme SUCI" || fail "stock: $CODE $(cat "$T/confirm")"
grep -q "RID 0034 from the SUCI" "$T/AUSFS.log" && ok "no routingId: the SUCI's RID, logged" ||
  fail "SUCI RID: $(grep routingId "$T/AUSFS.log")"
! grep -q "edge keys stored supi_hash=$(supi_hash $S2)" "$T/AUSFS.log" && ok "edge.derive udm-flag: no flag, no key" ||
  fail "udm-flag derived a key"
expect "ue-authentications with routingIndicator" 201 "$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" \
  '{"supiOrSuci":"'$S2'","servingNetworkName":"'$SNN'","routingIndicator":"567"}')" $AUTH $UEP POST
grep -q "RID 567 from the AuthenticationInfo's routingIndicator" "$T/AUSFS.log" &&
  ok "no routingId, no SUCI: AuthenticationInfo's routingIndicator" || fail "routingIndicator fallback"
call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" "$AI" >/dev/null
grep -q "RID 0 from nowhere" "$T/AUSFS.log" && ok "nothing at all: RID 0, logged" || fail "RID 0 fallback"
AUSF=https://127.0.0.1:$AUSFA_PORT
aka "$AUSF" $S2
KID=$(sed -n "s/.*edge keys stored supi_hash=$(supi_hash $S2) kedge_id=\\([^ ]*\\).*/\\1/p" "$T/AUSFA.log" | tail -1)
[ "$CODE" = 200 ] && case $KID in 0.*) true ;; *) false ;; esac &&
  ok "edge.derive always: a key without the UDM's flag (RID 0)" || fail "always: $CODE '$KID'"

# --- the UDM does not answer: 504, and the AuthEvent's failure mode ---
AUSF=https://127.0.0.1:$AUSF_PORT
call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" "$AI" >/dev/null
cp "$T/b" "$T/auth"
usim $S1 "$(field rand "$T/auth")" "$(field autn "$T/auth")"
kill -STOP "$UDM_PID"
start=$(date +%s%N)
code=$(call seaf PUT "$(field href "$T/auth")" '{"resStar":"'"$(field xresStar "$T/usim")"'"}')
ms=$((($(date +%s%N) - start) / 1000000))
[ "$code" = 200 ] && grep -q AUTHENTICATION_SUCCESS "$T/b" && [ "$ms" -lt 2000 ] &&
  ok "UDM silent at the AuthEvent: the SEAF still gets AUTHENTICATION_SUCCESS (${ms} ms)" ||
  fail "auth-event timeout: $code in ${ms} ms $(cat "$T/b")"
code=$(call seaf POST "$AUSF/nausf-auth/v1/ue-authentications" "$AI")
[ "$code" = 504 ] && grep -q TIMED_OUT_REQUEST "$T/b" && ok "UDM silent: 504 TIMED_OUT_REQUEST" ||
  fail "silent UDM: $code $(cat "$T/b")"
schema_ok "504 body" schema TS29571_CommonData.yaml ProblemDetails <"$T/b"
kill -CONT "$UDM_PID"
curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics" | grep -q 'kedge_ausf_auth_events_total{result="failed"} [1-9]' &&
  ok "metrics count the AuthEvent that failed" || fail "auth_events metrics"
stop_daemon STOCK
code=$(call seaf POST "https://127.0.0.1:$AUSFS_PORT/nausf-auth/v1/ue-authentications" "$AI")
[ "$code" = 504 ] && grep -q TARGET_NF_NOT_REACHABLE "$T/b" && ok "UDM unreachable: 504 TARGET_NF_NOT_REACHABLE" ||
  fail "unreachable UDM: $code $(cat "$T/b")"
schema_ok "504 body" schema TS29571_CommonData.yaml ProblemDetails <"$T/b"

# --- nf.instance_id_file: kept across restarts, refused when it is not a UUID ---
stop_daemon AUSFA
echo "not-a-uuid" >"$T/bad.id"
sed "s#$T/ausf.id#$T/bad.id#" "$T/ausf-always.yaml" >"$T/ausf-bad.yaml"
out=$("$BIN/kedge-ausfd" --config "$T/ausf-bad.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "bad.id: nf.instance_id_file does not hold a UUID" &&
  ok "a bad nf.instance_id_file stops the start with one line" || fail "bad id file: $out"
[ "$(cat "$T/ausf.id")" = "$ID" ] && ok "the AUSFs sharing the file kept one id" || fail "id changed"
finish
