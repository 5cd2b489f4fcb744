#!/bin/sh
# Edge keys at the AUSF (issue 5) with real daemons: kedge-ue registers, the AUSF derives and
# stores Kedge/Kedge ID, Nausf_UEAuthentication_keyrequest returns the UE's key to authorised
# consumers (profiles kedge and bound, relays), replacement, expiry, errors, durability after
# kill -9 (SQLite), no key in the database file, two AUSFs sharing one Redis, and that Redis
# stopped and restarted under load (issue 12: 503 with a cause meanwhile, recovery without
# restarting the AUSFs, the key stored before the outage still the same after it).
# Usage: sh test-ausf-keys.sh BUILD_DIR
BUILD=${1:?usage: test-ausf-keys.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
SNN=5G:mnc001.mcc001.3gppnetwork.org
pki_init
"$BIN/kedge" pki issue "$T/pki" ecs.example.com >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
udm_conf
udm_add imsi-001010000000001 --rid 12
udm_add nai-alice@edge.example.org --rid 4321
udm_add imsi-001010000000009 --no-edge
start_daemon UDM kedge-udmd "$T/udm.yaml"

# ausf_conf FILE KEYSTORE LIFETIME [PORT]
ausf_conf() {
  cat >"$1" <<EOC
sbi: {port: ${4:-0}, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  key_lifetime: $3
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "$2"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: ecs.example.com, profiles: [bound]}
    - {name: nef.kedge.test, profiles: [kedge, bound]}
  relays: [nef.kedge.test]
EOC
}
ue_conf() { # ue_conf NAME SUPI RID AUSF_PORT
  cat >"$T/$1.yaml" <<EOC
usim:
  supi: $2
  k: $K
  opc: $OPC
  routing_indicator: "$3"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/$1.sqn
ausf: {uri: "https://127.0.0.1:$4", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key}
EOC
  chmod 600 "$T/$1.yaml" # K and OPc: kedge-ue refuses a file others may read
}
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
# fp HEX: the fingerprint kedge prints for a key (SHA-256 of its octets, 8 hex digits)
fp() { perl -e 'print pack("H*", $ARGV[0])' "$1" | sha256sum | cut -c1-8; }
register() { # register NAME -> $T/NAME.out (kedge-ue --json)
  "$BIN/kedge-ue" register --config "$T/$1.yaml" --json >"$T/$1.out" 2>"$T/$1.err"
}
retrieve() { # retrieve CLIENT PORT JSON -> status; body in $T/r
  sbi_curl "$1" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' -d "$3" \
    "https://127.0.0.1:$2/nausf-auth/v1/kedge-keys/retrieve"
}

ausf_conf "$T/ausf.yaml" "sqlite:$T/ausf-keys.sqlite" 24h
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
ue_conf imsi imsi-001010000000001 12 "$AUSF_PORT"
ue_conf nai nai-alice@edge.example.org 4321 "$AUSF_PORT"
ue_conf noedge imsi-001010000000009 0 "$AUSF_PORT"

# --- the UE's key, from the AUSF ---
register imsi || fail "register imsi: $(cat "$T/imsi.err")"
ID=$(jget kedgeId "$T/imsi.out")
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID"'"}')
KEDGE=$(jget kedge "$T/r")
[ "$code" = 200 ] && [ "$(jget kedgeId "$T/r")" = "$ID" ] &&
  [ "$(fp "$KEDGE")" = "$(jget kedgeFingerprint "$T/imsi.out")" ] &&
  grep -q '"expiry":"[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:]\{8\}Z"' "$T/r" &&
  ok "keyrequest returns the Kedge the UE derived (IMSI, RID 12)" || fail "retrieve: $code $(cat "$T/r")"
case $ID in 12.*@5gc.mnc001.mcc001.3gppnetwork.org) ok "Kedge ID carries RID and home realm" ;;
  *) fail "Kedge ID $ID" ;; esac
# the same request in bodies read through jansson, not flat (lib/json/flat.c: an escape, a
# member not in the table), answered alike; and ones jansson or the table refuse
esc=$(printf %s "$ID" | sed 's/@/\\u0040/')
code=$(retrieve ecs "$AUSF_PORT" '{ "kedgeId" : "'"$esc"'", "supportedFeatures": "0" }')
[ "$code" = 200 ] && [ "$(jget kedge "$T/r")" = "$KEDGE" ] && [ "$(jget kedgeId "$T/r")" = "$ID" ] &&
  ok "a body with an escape and an unknown member: the same key" || fail "escaped: $code $(cat "$T/r")"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID"'","kedgeId":"'"$ID"'"}')
[ "$code" = 400 ] && grep -q INVALID_MSG_FORMAT "$T/r" && ok "a member twice: 400 INVALID_MSG_FORMAT" ||
  fail "duplicate: $code $(cat "$T/r")"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":12}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_INCORRECT "$T/r" && grep -q '"/kedgeId"' "$T/r" &&
  ok "kedgeId not a string: 400 naming /kedgeId" || fail "number: $code $(cat "$T/r")"
register nai || fail "register nai: $(cat "$T/nai.err")"
NID=$(jget kedgeId "$T/nai.out")
code=$(retrieve nef "$AUSF_PORT" '{"kedgeId":"'"$NID"'"}')
[ "$code" = 200 ] && [ "$(fp "$(jget kedge "$T/r")")" = "$(jget kedgeFingerprint "$T/nai.out")" ] &&
  ok "keyrequest for a NAI SUPI (RID 4321), NEF as consumer" || fail "NAI: $code $(cat "$T/r")"
register noedge || fail "register noedge: $(cat "$T/noedge.err")"
grep -q "edge keys stored supi_hash=$(printf %s imsi-001010000000009 | sha256sum | cut -c1-16)" "$T/AUSF.log" && fail "keys stored for a non-edge subscriber" ||
  ok "no edge key for a subscriber without edgeInd"

# --- profile bound (SPEC.md 6) ---
code=$(retrieve ecs.example.com "$AUSF_PORT" '{"kedgeId":"'"$ID"'","ecsId":"ECS.example.com."}')
KECS=$(jget kedge "$T/r")
want=$("$BIN/kedge" derive k-ecs --kedge "$KEDGE" --ecs-id ecs.example.com)
[ "$code" = 200 ] && [ "\"kEcs\":\"$KECS\"" = "$(echo "$want" | sed 's/.*\("kEcs":"[0-9a-f]*"\).*/\1/')" ] &&
  [ "$KECS" != "$KEDGE" ] && ok "bound: K_ECS for the caller's own ECS ID" || fail "bound: $code $(cat "$T/r")"
code=$(retrieve ecs.example.com "$AUSF_PORT" '{"kedgeId":"'"$ID"'"}')
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/r" && ok "bound-only consumer without ecsId: 403" ||
  fail "bound-only without ecsId: $code"
code=$(retrieve ecs.example.com "$AUSF_PORT" '{"kedgeId":"'"$ID"'","ecsId":"other.example.com"}')
[ "$code" = 403 ] && ok "someone else's ECS ID: 403" || fail "other ecsId: $code"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID"'","ecsId":"ecs.kedge.test"}')
[ "$code" = 403 ] && ok "kedge-only consumer asking for bound: 403" || fail "kedge-only bound: $code"
code=$(retrieve nef "$AUSF_PORT" '{"kedgeId":"'"$ID"'","ecsId":"ecs.example.com"}')
[ "$code" = 200 ] && [ "$(jget kedge "$T/r")" = "$KECS" ] && ok "relay (NEF): any ecsId" ||
  fail "relay bound: $code $(cat "$T/r")"

# --- errors ---
code=$(retrieve seaf "$AUSF_PORT" '{"kedgeId":"'"$ID"'"}')
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/r" && ok "SEAF may not use the key service" ||
  fail "seaf: $code"
code=$(retrieve ecs "$AUSF_PORT" '{"ecsId":"x"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_MISSING "$T/r" && ok "missing kedgeId: 400 MANDATORY_IE_MISSING" ||
  fail "missing: $code $(cat "$T/r")"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"0.abc@5gc.mnc001.mcc001.3gppnetwork.org"}')
[ "$code" = 400 ] && grep -q MANDATORY_IE_INCORRECT "$T/r" && grep -q '"/kedgeId"' "$T/r" &&
  ok "malformed Kedge ID: 400 with invalidParams" || fail "malformed: $code $(cat "$T/r")"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org"}')
[ "$code" = 404 ] && grep -q KEDGE_ID_NOT_FOUND "$T/r" && ok "unknown Kedge ID: 404" || fail "unknown: $code"
code=$(sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' -d '{"kedgeId":' \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve")
[ "$code" = 400 ] && ok "garbage body: 400" || fail "garbage: $code"

# --- the implementation matches the examples of api/TS29509_Nausf_UEAuthentication_keyrequest.yaml ---
API=$(dirname "$0")/../../api/TS29509_Nausf_UEAuthentication_keyrequest.yaml
example() { grep -A2 "^ *$1:" "$API" | sed -n 's/^ *value: //p' | head -1; }
EX_ID=$(example profileKedge | jq -r .kedgeId)
req=$(example profileKedge | sed "s/$EX_ID/$ID/")
code=$(retrieve ecs "$AUSF_PORT" "$req")
[ "$code" = 200 ] && [ "$(jq -c 'keys' "$T/r")" = "$(example kedge | jq -c keys)" ] &&
  ok "API example: profileKedge request, 200 response members" || fail "API 200: $code $(cat "$T/r")"
req=$(example profileBound | sed "s/$EX_ID/$ID/")
code=$(retrieve ecs.example.com "$AUSF_PORT" "$req")
[ "$code" = 200 ] && ok "API example: profileBound request" || fail "API bound: $code"
req=$(example malformedKedgeId | jq -r '.invalidParams[0].reason')
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"0.abc@5gc.mnc001.mcc001.3gppnetwork.org"}')
[ "$code" = 400 ] && [ "$(jq -cS . "$T/r")" = "$(example malformedKedgeId | jq -cS .)" ] &&
  ok "API example: 400 malformed Kedge ID, exactly" || fail "API 400: $(cat "$T/r") vs $(example malformedKedgeId)"
code=$(retrieve seaf "$AUSF_PORT" '{"kedgeId":"'"$ID"'"}')
[ "$code" = 403 ] && [ "$(jq -cS . "$T/r")" = "$(example notAuthorized | jq -cS .)" ] &&
  ok "API example: 403, exactly" || fail "API 403: $(cat "$T/r")"
code=$(retrieve ecs "$AUSF_PORT" "$(example profileKedge)")
[ "$code" = 404 ] && [ "$(jq -cS . "$T/r")" = "$(example notFound | jq -cS .)" ] &&
  ok "API example: 404 for the example's own (unknown here) Kedge ID, exactly" || fail "API 404: $(cat "$T/r")"

# --- a new registration replaces the key ---
register imsi || fail "second register"
ID2=$(jget kedgeId "$T/imsi.out")
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID"'"}')
code2=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID2"'"}')
[ "$ID2" != "$ID" ] && [ "$code" = 404 ] && [ "$code2" = 200 ] &&
  ok "a new 5G AKA replaces the key: old ID 404, new ID 200" || fail "replace: $ID2 $code $code2"
KEDGE2=$(jget kedge "$T/r")

# --- audit log: consumer, ID, outcome, never a key ---
grep -q "keyrequest: profile kedge: key returned peer=ecs.kedge.test kedge_id=$ID2 status=200" "$T/AUSF.log" &&
  ok "audit log line" || fail "audit: $(grep keyrequest "$T/AUSF.log" | tail -2)"
! grep -q "$KEDGE2\|$KEDGE\|$KECS" "$T/AUSF.log" && ok "no key in the AUSF log" || fail "a key in the log"

# --- durability: kill -9 right after the confirmation ---
register imsi || fail "third register"
ID3=$(jget kedgeId "$T/imsi.out")
kill -9 "$AUSF_PID"
wait "$AUSF_PID" 2>/dev/null
ausf_conf "$T/ausf-again.yaml" "sqlite:$T/ausf-keys.sqlite" 24h "$AUSF_PORT"
start_daemon AUSF kedge-ausfd "$T/ausf-again.yaml"
code=$(retrieve ecs "$AUSF_PORT" '{"kedgeId":"'"$ID3"'"}')
KEDGE3=$(jget kedge "$T/r")
[ "$code" = 200 ] && [ "$(fp "$KEDGE3")" = "$(jget kedgeFingerprint "$T/imsi.out")" ] &&
  ok "after kill -9 and restart the key is there (SQLite)" || fail "after kill -9: $code"
cp "$T/ausf-keys.sqlite"* "$T/pki/" 2>/dev/null
if perl -e 'local $/; my $k = pack("H*", shift); for (@ARGV) { open my $f, "<:raw", $_; exit 1 if index(<$f>, $k) >= 0 } exit 0' \
  "$KEDGE3" "$T"/ausf-keys.sqlite*; then
  ok "the database files hold no Kedge (sealed at rest)"
else
  fail "Kedge octets found in the database file"
fi

# --- expiry ---
ausf_conf "$T/ausf-short.yaml" "memory:" 1s
start_daemon SHORT kedge-ausfd "$T/ausf-short.yaml"
ue_conf short imsi-001010000000001 12 "$SHORT_PORT"
cp "$T/imsi.sqn" "$T/short.sqn"
register short || fail "register (short lifetime): $(cat "$T/short.err")"
SID=$(jget kedgeId "$T/short.out")
code=$(retrieve ecs "$SHORT_PORT" '{"kedgeId":"'"$SID"'"}')
sleep 1.2
code2=$(retrieve ecs "$SHORT_PORT" '{"kedgeId":"'"$SID"'"}')
[ "$code" = 200 ] && [ "$code2" = 404 ] && ok "an expired key is 404 like an unknown one" ||
  fail "expiry: $code then $code2"
cp "$T/short.sqn" "$T/imsi.sqn"

# --- per-consumer limit on the key service (issue 12) ---
cp "$T/ausf-short.yaml" "$T/ausf-limited.yaml"
printf '  per_consumer_rate: 1\n  per_consumer_burst: 2\n' >>"$T/ausf-limited.yaml"
start_daemon LIMITED kedge-ausfd "$T/ausf-limited.yaml"
c1=$(retrieve ecs "$LIMITED_PORT" '{"kedgeId":"'"$SID"'"}')
c2=$(retrieve ecs "$LIMITED_PORT" '{"kedgeId":"'"$SID"'"}')
c3=$(sbi_curl ecs -D "$T/h" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"kedgeId":"'"$SID"'"}' "https://127.0.0.1:$LIMITED_PORT/nausf-auth/v1/kedge-keys/retrieve")
[ "$c1" = 404 ] && [ "$c2" = 404 ] && [ "$c3" = 429 ] && grep -qi '^retry-after: 1' "$T/h" &&
  [ "$(jget cause "$T/r")" = NF_CONGESTION_RISK ] &&
  ok "per_consumer_rate 1, burst 2: the third request is 429 NF_CONGESTION_RISK, Retry-After 1" ||
  fail "per-consumer limit: $c1 $c2 $c3 $(cat "$T/r")"
code=$(retrieve nef "$LIMITED_PORT" '{"kedgeId":"'"$SID"'"}')
[ "$code" = 404 ] && ok "  another consumer has its own budget" || fail "other consumer: $code"
curl -s "http://127.0.0.1:$LIMITED_METRICS_PORT/metrics" |
  grep -q '^kedge_ausf_keyrequests_total{result="rate_limited"} 1$' &&
  ok "  counted: kedge_ausf_keyrequests_total{result=\"rate_limited\"}" || fail "rate_limited metric"
sleep 1
[ "$(retrieve ecs "$LIMITED_PORT" '{"kedgeId":"'"$SID"'"}')" = 404 ] &&
  ok "  a second later the consumer is served again" || fail "after Retry-After"

# --- configuration checks ---
printf 'testing: {keyrequest_delay: 100ms}\n' >>"$T/ausf-short.yaml"
out=$("$BIN/kedge-ausfd" --check-config --config "$T/ausf-short.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'testing.keyrequest_delay' && ok "testing knob refused unless testing.enabled" ||
  fail "testing knob: $out"
sed 's/relays: \[nef.kedge.test\]/relays: [af.kedge.test]/' "$T/ausf.yaml" >"$T/ausf-badrelay.yaml"
out=$("$BIN/kedge-ausfd" --check-config --config "$T/ausf-badrelay.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'keyrequest.relays' && ok "a relay must be an allowed consumer" ||
  fail "relay check: $out"

# --- two AUSFs sharing one Redis ---
if command -v redis-server >/dev/null; then
  start_redis || fail "redis-server did not start"
  udm_events() { # stored | removed: the UDM's auth-event counter
    curl -s "http://127.0.0.1:$UDM_METRICS_PORT/metrics" |
      sed -n "s/^kedge_udm_auth_events_total{result=\"$1\"} //p"
  }
  ausf_conf "$T/ausf-r1.yaml" "redis://127.0.0.1:$RPORT" 24h
  ausf_conf "$T/ausf-r2.yaml" "redis://127.0.0.1:$RPORT/0" 24h
  start_daemon R1 kedge-ausfd "$T/ausf-r1.yaml"
  start_daemon R2 kedge-ausfd "$T/ausf-r2.yaml"
  ue_conf redis imsi-001010000000001 12 "$R1_PORT"
  cp "$T/imsi.sqn" "$T/redis.sqn"
  register redis || fail "register through AUSF 1: $(cat "$T/redis.err")"
  RID=$(jget kedgeId "$T/redis.out")
  code=$(retrieve ecs "$R2_PORT" '{"kedgeId":"'"$RID"'"}')
  [ "$code" = 200 ] && [ "$(fp "$(jget kedge "$T/r")")" = "$(jget kedgeFingerprint "$T/redis.out")" ] &&
    ok "Redis: registered through one AUSF, retrieved through the other" || fail "redis: $code $(cat "$T/r")"
  RKEY=$(jget kedge "$T/r")
  # After RES* the AuthEvent POST and the Kedge put run at once (daemons/ausf/nausf_ueau.c):
  # with the key store held (redis-server stopped; this AUSF waits 20 s for it), the AuthEvent
  # reaches the UDM all the same, and the SEAF's answer waits for the key (SPEC.md 2: no
  # success without it; TS 33.501 6.1.4.1: the UDM hears the result before the SEAF)
  ausf_conf "$T/ausf-r3.yaml" "redis://127.0.0.1:$RPORT" 24h
  printf 'redis: {timeout: 20s}\n' >>"$T/ausf-r3.yaml"
  start_daemon R3 kedge-ausfd "$T/ausf-r3.yaml"
  ue_conf held nai-alice@edge.example.org 4321 "$R3_PORT" # another SUPI: $RID stays its key
  cp "$T/nai.sqn" "$T/held.sqn"
  stored0=$(udm_events stored)
  kill -STOP "$RPID"
  register held &
  REG=$!
  if wait_for 15 sh -c "[ \"\$(curl -s http://127.0.0.1:$UDM_METRICS_PORT/metrics |
    sed -n 's/^kedge_udm_auth_events_total{result=\"stored\"} //p')\" = $((stored0 + 1)) ]" &&
    kill -0 "$REG" 2>/dev/null; then
    ok "key store held: the AuthEvent reached the UDM, the SEAF's answer still waits for the key"
  else
    fail "key store held: UDM auth-events stored $stored0 -> $(udm_events stored), registration $(kill -0 "$REG" 2>/dev/null && echo waiting || echo over)"
  fi
  kill -CONT "$RPID"
  wait "$REG" && [ "$(jget kedgeId "$T/held.out")" != "" ] &&
    ok "key store back: the held registration succeeded with its Kedge" ||
    fail "held registration: $(cat "$T/held.err")"
  cp "$T/held.sqn" "$T/nai.sqn"
  redis-cli -p "$RPORT" save >/dev/null
  [ "$(redis-cli -p "$RPORT" --scan | grep -c "$RID")" -ge 1 ] && [ -s "$T/dump.rdb" ] &&
    perl -e 'local $/; my $k = pack("H*", shift); open my $f, "<:raw", shift; exit(index(<$f>, $k) >= 0)' \
      "$RKEY" "$T/dump.rdb" && ok "a Redis dump holds the Kedge ID but not the key" ||
    fail "Redis dump: $(redis-cli -p "$RPORT" --scan)"

  # --- Redis stopped and restarted under load (issue 12): the AUSFs stay up ---
  # A bounded load: 2 clients asking for the key in a loop (one curl at a time each) for as long
  # as $T/load.run exists, at most 600 requests each, every status and cause logged.
  load() { # load N -> $T/load.N: "STATUS CAUSE" per request
    i=0
    while [ -e "$T/load.run" ] && [ $i -lt 600 ]; do
      c=$(sbi_curl ecs -o "$T/load.$1.body" -w '%{http_code}' -H 'content-type: application/json' \
        -d '{"kedgeId":"'"$RID"'"}' "https://127.0.0.1:$2/nausf-auth/v1/kedge-keys/retrieve")
      echo "$c $(sed -n 's/.*"cause":"\([^"]*\)".*/\1/p' "$T/load.$1.body")" >>"$T/load.$1"
      i=$((i + 1))
    done
  }
  : >"$T/load.run"
  load 1 "$R1_PORT" &
  L1=$!
  load 2 "$R2_PORT" &
  L2=$!
  PIDS="$PIDS $L1 $L2"
  n200() { cat "$T"/load.[12] 2>/dev/null | grep -c '^200 '; }
  wait_for 20 sh -c "[ \$(cat $T/load.[12] 2>/dev/null | grep -c '^200 ') -ge 20 ]" ||
    fail "load: no key answered before the outage"
  redis-cli -p "$RPORT" shutdown save >/dev/null 2>&1 # saves dump.rdb, then exits
  wait_for 10 sh -c "! redis-cli -p $RPORT ping >/dev/null 2>&1" || fail "redis-server did not stop"
  before=$(wc -l <"$T/load.1")
  wait_for 20 sh -c "[ \$(wc -l <$T/load.1) -ge $((before + 20)) ]" || fail "load stalled while Redis was down"
  code=$(retrieve ecs "$R1_PORT" '{"kedgeId":"'"$RID"'"}')
  [ "$code" = 503 ] && grep -q '"cause":"KEY_STORE_UNAVAILABLE"' "$T/r" &&
    echo "$(cat "$T/r")" | schema_ok "Redis down: the 503's ProblemDetails" schema TS29571_CommonData.yaml ProblemDetails
  [ "$code" = 503 ] && grep -q '"cause":"KEY_STORE_UNAVAILABLE"' "$T/r" &&
    ok "Redis down: key request answered 503 KEY_STORE_UNAVAILABLE" || fail "Redis down: $code $(cat "$T/r")"
  ue_conf redisdown imsi-001010000000001 12 "$R1_PORT"
  cp "$T/redis.sqn" "$T/redisdown.sqn"
  stored0=$(udm_events stored) removed0=$(udm_events removed)
  register redisdown && fail "registration succeeded without a key store" ||
    { grep -q "503" "$T/redisdown.err" && ok "Redis down: the confirmation fails with 503, no key handed out" ||
      fail "Redis down, registration: $(cat "$T/redisdown.err")"; }
  # the AuthEvent went to the UDM beside the failed key store write; with no result for the
  # SEAF it is removed again (TS 29.503 ResultRemoval, daemons/ausf/nausf_ueau.c)
  wait_for 10 sh -c "[ \"\$(curl -s http://127.0.0.1:$UDM_METRICS_PORT/metrics |
    sed -n 's/^kedge_udm_auth_events_total{result=\"removed\"} //p')\" = $((removed0 + 1)) ]" &&
    [ "$(udm_events stored)" = $((stored0 + 1)) ] &&
    ok "Redis down: the UDM's AuthEvent of that confirmation was removed again" ||
    fail "Redis down: UDM auth-events stored $stored0 -> $(udm_events stored), removed $removed0 -> $(udm_events removed)"
  cp "$T/redisdown.sqn" "$T/redis.sqn"
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
    >>"$T/redis.log" 2>&1 &
  PIDS="$PIDS $!"
  wait_for 10 sh -c "redis-cli -p $RPORT ping | grep -q PONG" || fail "redis-server did not restart"
  mark=$(n200)
  wait_for 20 sh -c "[ \$(cat $T/load.[12] | grep -c '^200 ') -ge $((mark + 20)) ]" &&
    ok "Redis back: both AUSFs serve the key again, neither restarted" || fail "no recovery after Redis restart"
  rm -f "$T/load.run"
  wait "$L1" "$L2"
  check "both AUSFs still running" kill -0 "$R1_PID" "$R2_PID"
  bad=$(cat "$T/load.1" "$T/load.2" | grep -v '^200 $' | grep -v '^503 KEY_STORE_UNAVAILABLE$' | sort | uniq -c | head -3)
  n503=$(cat "$T/load.1" "$T/load.2" | grep -c '^503 ')
  [ -z "$bad" ] && [ "$n503" -gt 0 ] &&
    ok "under load: $(cat "$T/load.1" "$T/load.2" | wc -l) requests, every one 200 or 503 KEY_STORE_UNAVAILABLE ($n503 during the outage)" ||
    fail "under load: unexpected answers: $bad (503s: $n503)"
  code=$(retrieve ecs "$R2_PORT" '{"kedgeId":"'"$RID"'"}')
  [ "$code" = 200 ] && [ "$(jget kedge "$T/r")" = "$RKEY" ] &&
    ok "the key stored before the outage is the same after it (dump reloaded)" || fail "key after restart: $code"
  register redis && code=$(retrieve ecs "$R2_PORT" '{"kedgeId":"'"$(jget kedgeId "$T/redis.out")"'"}') &&
    [ "$code" = 200 ] && ok "Redis back: a new registration stores its key without restarting the AUSF" ||
    fail "registration after the Redis restart: $(cat "$T/redis.err") $code"
  # deregister through an AUSF with edge.key_lifetime 2h: the key is refused by the others, and
  # Redis keeps the SUPI's tombstone ("!<ms>") for that instance's key lifetime, so that a put
  # issued before the revocation and landing after it stays out (issue 17, docs/operations.md)
  ausf_conf "$T/ausf-r4.yaml" "redis://127.0.0.1:$RPORT" 2h
  start_daemon R4 kedge-ausfd "$T/ausf-r4.yaml"
  c=$(sbi_curl seaf -o "$T/dr" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"supi":"imsi-001010000000001"}' \
    "https://127.0.0.1:$R4_PORT/nausf-auth/v1/ue-authentications/deregister")
  code=$(retrieve ecs "$R1_PORT" '{"kedgeId":"'"$(jget kedgeId "$T/redis.out")"'"}')
  tomb=$(redis-cli -p "$RPORT" get kedge:supi:imsi-001010000000001)
  left=$(redis-cli -p "$RPORT" pttl kedge:supi:imsi-001010000000001)
  [ "$c" = 204 ] && [ "$code" = 404 ] && [ "${tomb#!}" != "$tomb" ] &&
    [ "$left" -gt $((7200000 - 60000)) ] && [ "$left" -le 7200000 ] &&
    ok "deregister: the key is gone from every AUSF; its tombstone lives edge.key_lifetime (2h)" ||
    fail "deregister with Redis: $c, key request $code, kedge:supi: '$tomb' for $left ms"
else
  fail "redis-server not installed (scripts/deps.sh installs it)"
fi
finish
