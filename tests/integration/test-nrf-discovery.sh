#!/bin/sh
# NRF discovery (SPEC.md 7, TS 29.510 Nnrf_NFDiscovery 5.3.2.2): kedge-ausfd without a static
# UDM URI finds the UDM of each subscriber at kedge-nrf-testd (a peer that stores the profiles
# the UDMs registered and filters them; no other logic). Three kedge-udmd: UDM1 and UDM3 share
# one subscriber database and serve SUPIs ...000-...049 (UDM1 with NFProfile priority 1, UDM3
# with 2), UDM2 has its own database and serves ...050-...099. Checks: every discovery query
# and every SearchResult is valid against TS29510_Nnrf_NFDiscovery.yaml; a UE of each range
# registers (5G AKA through kedge-ue) through the UDM of its range; a second registration is
# answered from the cache (no new query); UDM1 killed: the AUSF fails over to UDM3; a static
# udm.uri wins over discovery; kedge-ecsd with `key_source.uri: discover` finds the AUSF of the
# Kedge ID's RID (two AUSFs registered with routingIndicators 0 and 9) and a kedge-eec
# handshake with the UE's Kedge succeeds; the NRF down: the cached answer serves until
# validityPeriod, then a clear 504 ProblemDetails (never a hang) and one log line. Besides:
# NFUpdate on SIGHUP (a changed supiRanges is sent again by PUT, an unchanged file sends
# nothing), and kedge-aanfd registers as AANF with naanf-akma, aanfInfoList and nf.fqdn.
# Usage: sh test-nrf-discovery.sh BUILD_DIR
BUILD=${1:?usage: test-nrf-discovery.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
S1=imsi-001010000000001 # UDM1/UDM3's range
S2=imsi-001010000000051 # UDM2's range
SNN=5G:mnc001.mcc001.3gppnetwork.org
VP=6 # validityPeriod the NRF peer answers, seconds

pki_init
"$BIN/kedge" pki issue "$T/pki" nrf >/dev/null && "$BIN/kedge" pki issue "$T/pki" aanf >/dev/null ||
  { echo "kedge pki issue failed"; exit 1; }
"$BIN/kedge" master-key "$T/master.key" >/dev/null
REC=$T/nrf.jsonl

cat >"$T/nrf.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/nrf.crt, key: $T/pki/nrf.key, ca: $T/pki/ca.crt}
EOC
KEDGE_NRF_TEST_FILE=$REC KEDGE_NRF_TEST_HEARTBEAT=1 KEDGE_NRF_TEST_VALIDITY=$VP \
  start_daemon NRF kedge-nrf-testd "$T/nrf.yaml"
NRF=https://127.0.0.1:$NRF_PORT

# not udm_conf: three UDMs, two of them on one database, each registered with its own SUPI
# range and priority
udm_yaml() { # udm_yaml NAME DB START END PRIORITY
  cat >"$T/$1.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
nf:
  instance_id_file: $T/$1.nf-instance-id
nrf:
  uri: $NRF
  retry_min: 100ms
  priority: $5
  supi_ranges: [{start: "$3", end: "$4"}]
udm:
  database: $T/$2.sqlite
  master_key: $T/master.key
  allowed_consumers: [ausf.kedge.test]
EOC
}
udm_yaml udm1 db1 001010000000000 001010000000049 1
udm_yaml udm2 db2 001010000000050 001010000000099 1
udm_yaml udm3 db1 001010000000000 001010000000049 2
for pair in "udm1 $S1" "udm2 $S2 --akma"; do
  set -- $pair
  printf '%s\n%s\n' "$K" "$OPC" | "$BIN/kedge-udmd" subscriber add --config "$T/$1.yaml" \
    --supi "$2" --k-file - --opc-file - ${3:-} >/dev/null || { echo "subscriber add failed"; exit 1; }
done
start_daemon UDM1 kedge-udmd "$T/udm1.yaml"
start_daemon UDM2 kedge-udmd "$T/udm2.yaml"
start_daemon UDM3 kedge-udmd "$T/udm3.yaml"

# kedge-aanfd (registers as AANF; the AUSF discovers it for AKMA)
"$BIN/kedge" master-key "$T/aanf.key" >/dev/null
cat >"$T/aanf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/aanf.crt, key: $T/pki/aanf.key, ca: $T/pki/ca.crt}}
nf: {instance_id_file: $T/aanf.nf-instance-id, fqdn: aanf.kedge.test}
nrf: {uri: $NRF, routing_indicators: ["0", "12"]}
aanf: {home_network: {mcc: "001", mnc: "01"}, key_lifetime: 1h, master_key: $T/aanf.key}
keystore: "sqlite:$T/aanf.sqlite"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey:
  allowed_consumers: [{name: ecs.kedge.test}]
EOC
start_daemon AANF kedge-aanfd "$T/aanf.yaml"
AANF_ID=$(cat "$T/aanf.nf-instance-id")

"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
ausf_yaml() { # ausf_yaml NAME RID [STATIC_UDM_URI]
  cat >"$T/$1.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
nf:
  instance_id_file: $T/$1.nf-instance-id
nrf:
  uri: $NRF
  retry_min: 100ms
  routing_indicators: ["$2"]
udm:
  uri: ${3:-null}
  timeout: 2s
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
edge:
  enabled: true
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "sqlite:$T/$1-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: nef.kedge.test, profiles: [kedge]}
akma:
  enabled: true
  aanf: [{routing_indicators: ["*"], uri: discover}]
EOC
}
ausf_yaml ausf 0
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
AUSF_ID=$(cat "$T/ausf.nf-instance-id")

ue_yaml() { # ue_yaml NAME SUPI AUSF_PORT
  cat >"$T/$1.yaml" <<EOC
usim:
  supi: $2
  k: $K
  opc: $OPC
  routing_indicator: "0"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/$1.sqn
serving_network: {mcc: "001", mnc: "01"}
ausf:
  uri: https://127.0.0.1:$3
  ca: $T/pki/ca.crt
  cert: $T/pki/seaf.crt
  key: $T/pki/seaf.key
  timeout: 5s
EOC
  chmod 600 "$T/$1.yaml"
}
# register NAME: kedge-ue register --json; true when 5G AKA succeeded
register() {
  "$BIN/kedge-ue" register --config "$T/$1.yaml" --json >"$T/$1.out" 2>"$T/$1.err" &&
    grep -q '"authResult":"AUTHENTICATION_SUCCESS"' "$T/$1.out"
}
ue_yaml ue1 $S1 "$AUSF_PORT"
ue_yaml ue2 $S2 "$AUSF_PORT"

# discoveries [UA]: the discovery requests the NRF received (from User-Agent UA)
discoveries() {
  jq -c "select(.method==\"GET\" and .path==\"/nnrf-disc/v1/nf-instances\"${1:+ and .userAgent==\"$1\"})" "$REC"
}
puts() { jq -c "select(.method==\"PUT\" and .path==\"/nnrf-nfm/v1/nf-instances/$1\")" "$REC" | wc -l; }
more_puts() { [ "$(puts "$1")" -gt "$2" ]; }
# udm_discoveries UA: the AUSF's discoveries of UDMs
udm_discoveries() { discoveries "$1" | jq -c 'select(.body.query["target-nf-type"]=="UDM")'; }
registered() { jq -r 'select(.method=="PUT" and (.userAgent | startswith("UDM-"))) | .path' "$REC" | sort -u | wc -l | grep -qx 3; }
wait_for 10 registered && ok "three UDMs registered" || fail "UDM registrations: $(cat "$REC")"

# --- discovery by SUPI: each UE through the UDM of its range ---
register ue1 && ok "UE $S1 registered through a discovered UDM" || fail "ue1: $(cat "$T/ue1.err" "$T/ue1.out")"
register ue2 && ok "UE $S2 registered through the UDM of its range (UDM2)" || fail "ue2: $(cat "$T/ue2.err" "$T/ue2.out")"
# --- the cache: a second registration within validityPeriod asks no NRF ---
register ue2 && [ "$(discoveries "AUSF-$AUSF_ID" | wc -l)" = 3 ] &&
  ok "second registration of $S2 answered from the cache (no new query for UDM or AAnF)" ||
  fail "cache: $(discoveries "AUSF-$AUSF_ID" | wc -l) queries"
m=$(curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics")
echo "$m" | grep -qx 'kedge_nrf_discovery_total{result="ok"} 3' &&
  echo "$m" | grep -qx 'kedge_nrf_discovery_total{result="cached"} 2' &&
  ok "metrics: kedge_nrf_discovery_total ok 3 (2 UDMs, 1 AAnF), cached 2" || fail "metrics: $(echo "$m" | grep discovery)"

udm_discoveries "AUSF-$AUSF_ID" >"$T/disc.jsonl"
[ "$(wc -l <"$T/disc.jsonl")" = 2 ] && ok "two discoveries, one per subscriber" || fail "discoveries: $(cat "$T/disc.jsonl")"
head -1 "$T/disc.jsonl" | jq -c .body.query >"$T/q.json"
[ "$(jq -r '.["target-nf-type"] + " " + .["requester-nf-type"] + " " + .["service-names"] + " " + .supi' "$T/q.json")" = "UDM AUSF nudm-ueau $S1" ] &&
  ok "query: target-nf-type UDM, requester-nf-type AUSF, service-names nudm-ueau, supi" ||
  fail "query: $(cat "$T/q.json")"
UDM1_ID=$(cat "$T/udm1.nf-instance-id")
UDM2_ID=$(cat "$T/udm2.nf-instance-id")
[ "$(sed -n 2p "$T/disc.jsonl" | jq -c '[.body.answer.nfInstances[].nfInstanceId]')" = "[\"$UDM2_ID\"]" ] &&
  ok "the NRF peer answered only UDM2 for $S2 (supiRanges)" || fail "answer for S2: $(sed -n 2p "$T/disc.jsonl")"

wait_for 10 more_puts "$AANF_ID" 0 && ok "kedge-aanfd registered" || fail "AAnF registration"
jq -c "select(.method==\"PUT\" and .path==\"/nnrf-nfm/v1/nf-instances/$AANF_ID\") | .body" "$REC" | head -1 >"$T/aanf-put.json"
schema_ok "AAnF NFRegister body (NFProfile)" request TS29510_Nnrf_NFManagement.yaml '/nf-instances/{nfInstanceID}' PUT "$T/aanf-put.json"
[ "$(jq -r '.nfType + " " + .fqdn + " " + (.nfServices | map(.serviceName) | join(","))' "$T/aanf-put.json")" = "AANF aanf.kedge.test naanf-akma" ] &&
  [ "$(jq -c .aanfInfoList "$T/aanf-put.json")" = '{"1":{"routingIndicators":["0","12"]}}' ] &&
  ok "AAnF profile: nfType AANF, fqdn, naanf-akma, aanfInfoList" || fail "AAnF profile: $(cat "$T/aanf-put.json")"
# AKMA: the AUSF found the AAnF at the NRF by the RID and registered $S2's anchor key
discoveries "AUSF-$AUSF_ID" | jq -r 'select(.body.query["target-nf-type"]=="AANF") | .body.query["service-names"] + " " + .body.query["routing-indicator"]' | head -1 | grep -qx 'naanf-akma 0' &&
  curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics" | grep -E '^kedge_ausf_akma_anchor_keys_total\{result="registered"\} [1-9]' >/dev/null &&
  ok "AKMA: the AUSF discovered the AAnF (naanf-akma, RID 0) and registered the anchor key" ||
  fail "AKMA through discovery: $(grep -i akma "$T/AUSF.log" | tail -2)"

# --- failover: UDM1 (priority 1) killed, UDM3 (priority 2, same database) serves ---
kill -KILL "$UDM1_PID"
wait "$UDM1_PID" 2>/dev/null
register ue1 && ok "UDM1 killed: $S1 registered through UDM3 (failover)" ||
  fail "failover: $(cat "$T/ue1.err" "$T/ue1.out")"
grep -q "not reachable; trying the next producer" "$T/AUSF.log" && ok "the failover is logged" ||
  fail "no failover line: $(tail -3 "$T/AUSF.log")"

# --- a static udm.uri wins over discovery ---
ausf_yaml ausf2 9 "https://127.0.0.1:$UDM2_PORT"
start_daemon AUSF2 kedge-ausfd "$T/ausf2.yaml"
AUSF2_ID=$(cat "$T/ausf2.nf-instance-id")
ue_yaml ue2b $S2 "$AUSF2_PORT"
cp "$T/ue2.sqn" "$T/ue2b.sqn"
register ue2b && [ "$(udm_discoveries "AUSF-$AUSF2_ID" | wc -l)" = 0 ] &&
  ok "static udm.uri: registered, no UDM discovery sent" || fail "static: $(cat "$T/ue2b.err") $(discoveries "AUSF-$AUSF2_ID")"

# --- ECS -> AUSF by the Kedge ID's RID through the NRF (key_source.uri: discover) ---
register ue1 || fail "ue1 before the ECS"
KID=$(sed -n 's/.*"kedgeId":"\([^"]*\)".*/\1/p' "$T/ue1.out")
sbi_curl nef -o "$T/r.json" -H 'content-type: application/json' -d "{\"kedgeId\":\"$KID\"}" \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve"
(umask 077 && jq -r .kedge "$T/r.json" >"$T/k1.hex")
case $KID in 0.*) ok "Kedge ID with RID 0" ;; *) fail "Kedge ID $KID" ;; esac
cat >"$T/ecs.yaml" <<EOC
sbi:
  port: 0
nf:
  instance_id_file: $T/ecs.nf-instance-id
nrf:
  uri: $NRF
  ca: $T/pki/ca.crt
  cert: $T/pki/ecs.crt
  key: $T/pki/ecs.key
key_source:
  type: ausf
  uri: discover
  tls: {ca: $T/pki/ca.crt, cert: $T/pki/ecs.crt, key: $T/pki/ecs.key}
  timeout: 5s
service_provisioning:
  allowed_eec_ids: ["*"]
  allowed_ac_ids: [ac.video]
  edns:
    - dnn: edge.example
      eess:
        - {ees_id: ees-video, uri: "https://ees-video.example:8443", ac_ids: [ac.video]}
EOC
start_daemon ECS kedge-ecsd "$T/ecs.yaml"
ECS_ID=$(cat "$T/ecs.nf-instance-id")
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$KID" \
  --key-file "$T/k1.hex" >"$T/eec.out" 2>"$T/eec.err" && grep -q ees-video "$T/eec.out" &&
  ok "kedge-eec provisioned through an ECS that discovered the AUSF" ||
  fail "eec: $(cat "$T/eec.err" "$T/eec.out") ECS log: $(tail -5 "$T/ECS.log")"
discoveries "AF-$ECS_ID" >"$T/ecs-disc.jsonl"
[ "$(wc -l <"$T/ecs-disc.jsonl")" = 1 ] &&
  [ "$(jq -r '.body.query | .["target-nf-type"] + " " + .["requester-nf-type"] + " " + .["service-names"] + " " + .["routing-indicator"] + " " + .["target-plmn-list"]' "$T/ecs-disc.jsonl")" = 'AUSF AF nausf-kedge 0 [{"mcc":"001","mnc":"001"}]' ] &&
  [ "$(jq -c '[.body.answer.nfInstances[].nfInstanceId]' "$T/ecs-disc.jsonl")" = "[\"$AUSF_ID\"]" ] &&
  ok "the ECS asked for nausf-kedge by RID 0 and home PLMN; only the AUSF of RID 0 answered" ||
  fail "ECS discovery: $(cat "$T/ecs-disc.jsonl")"
stop_daemon ECS
stop_daemon AUSF2

# --- NFUpdate on SIGHUP (TS 29.510 5.2.2.3) ---
UDM2_ID=$(cat "$T/udm2.nf-instance-id")
before=$(puts "$UDM2_ID")
sed -i 's/end: "001010000000099"/end: "001010000000199"/' "$T/udm2.yaml"
kill -HUP "$UDM2_PID"
wait_for 10 more_puts "$UDM2_ID" "$before" &&
  [ "$(jq -c "select(.method==\"PUT\" and .path==\"/nnrf-nfm/v1/nf-instances/$UDM2_ID\") | .body.udmInfo.supiRanges" "$REC" | tail -1)" = '[{"start":"001010000000050","end":"001010000000199"}]' ] &&
  grep -q "profile changed on reload; sending NFUpdate" "$T/UDM2.log" &&
  ok "SIGHUP with a new supi range: the whole profile again (PUT), logged" ||
  fail "NFUpdate: $(grep NRF "$T/UDM2.log" | tail -3)"
jq -c "select(.method==\"PUT\" and .path==\"/nnrf-nfm/v1/nf-instances/$UDM2_ID\") | .body" "$REC" | tail -1 >"$T/upd.json"
schema_ok "NFUpdate body (NFProfile)" request TS29510_Nnrf_NFManagement.yaml '/nf-instances/{nfInstanceID}' PUT "$T/upd.json"
before=$(puts "$UDM2_ID")
kill -HUP "$UDM2_PID"
wait_for 10 grep -q "configuration reloaded, profile unchanged" "$T/UDM2.log" && sleep 0.5 &&
  [ "$(puts "$UDM2_ID")" = "$before" ] && ok "SIGHUP with the same file: no NFUpdate" ||
  fail "unchanged reload: $(puts "$UDM2_ID") PUTs (was $before)"
curl -s "http://127.0.0.1:$UDM2_METRICS_PORT/metrics" | grep -qx 'kedge_nrf_updates_total 1' &&
  ok "metrics: kedge_nrf_updates_total 1" || fail "updates metric"


# --- the NRF down: the cached answer until validityPeriod, then 504 ---
sleep $VP # what was cached has expired
register ue2 && t0=$(date +%s) || fail "fresh discovery before the NRF stops"
stop_daemon NRF
register ue2 && [ $(($(date +%s) - t0)) -lt $VP ] && ok "NRF down: the cached UDM still serves within validityPeriod" ||
  fail "cached while the NRF is down: $(cat "$T/ue2.err") $(($(date +%s) - t0)) s"
sleep $VP
AI="{\"supiOrSuci\":\"$S2\",\"servingNetworkName\":\"$SNN\"}"
start=$(date +%s)
code=$(sbi_curl seaf -o "$T/p.json" -w '%{http_code}' -H 'content-type: application/json' -d "$AI" \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/ue-authentications")
took=$(($(date +%s) - start))
[ "$code" = 504 ] && [ "$(jq -r .cause "$T/p.json")" = TARGET_NF_NOT_REACHABLE ] && [ "$took" -le 5 ] &&
  ok "past validityPeriod with the NRF down: 504 TARGET_NF_NOT_REACHABLE in ${took}s" ||
  fail "NRF down: $code $(cat "$T/p.json") in ${took}s"
schema_ok "the 504 ProblemDetails" schema TS29571_CommonData.yaml ProblemDetails "$T/p.json"
[ "$(grep -c "discovery of nudm-ueau failed" "$T/AUSF.log")" = 1 ] &&
  ok "one log line for the failed discovery" || fail "log: $(grep discovery "$T/AUSF.log")"
curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics" | grep -qx 'kedge_nrf_discovery_total{result="failed"} 1' &&
  ok "metrics: kedge_nrf_discovery_total failed 1" || fail "failed metric"
! grep -q "$S1\|$S2" "$T/AUSF.log" && ok "no SUPI in the AUSF's log" || fail "SUPI logged"
# every discovery query and answer of the run, against 3GPP's schema (schema_ok: skipped when
# no OpenAPI folder is found)
n=0
discoveries >"$T/all.jsonl"
while read -r line; do
  n=$((n + 1))
  echo "$line" | jq -c .body.query >"$T/q.json"
  echo "$line" | jq -c .body.answer >"$T/a.json"
  schema_ok "discovery $n query" query TS29510_Nnrf_NFDiscovery.yaml /nf-instances GET "$T/q.json"
  schema_ok "discovery $n SearchResult" response TS29510_Nnrf_NFDiscovery.yaml /nf-instances GET 200 "$T/a.json"
done <"$T/all.jsonl"
[ "$n" -ge 4 ] && ok "$n discovery queries and SearchResults recorded" || fail "only $n discoveries"
stop_daemon AUSF && ok "AUSF exits 0" || fail "AUSF exit"
stop_daemon UDM2
stop_daemon UDM3
stop_daemon AANF
finish
