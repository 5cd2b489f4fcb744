#!/bin/sh
# NRF registration (SPEC.md 7, TS 29.510 Nnrf_NFManagement): real kedge-udmd and kedge-ausfd
# with an `nrf:` section against kedge-nrf-testd (a peer that stores profiles and records what
# it receives). Every NFRegister and heartbeat body is validated against
# TS29510_Nnrf_NFManagement.yaml; heartbeats follow the interval the NRF answered; a 404 on a
# heartbeat (the NRF forgot the NF) brings a new NFRegister; an NRF that is down stops nothing;
# SIGTERM deregisters; the nfInstanceId survives a restart.
# Usage: sh test-nrf.sh BUILD_DIR
BUILD=${1:?usage: test-nrf.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

pki_init
"$BIN/kedge" pki issue "$T/pki" nrf >/dev/null || { echo "kedge pki issue nrf failed"; exit 1; }
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
REC=$T/nrf.jsonl
HB=1 # heartBeatTimer the peer answers, seconds

nrf_conf() { # nrf_conf PORT
  cat >"$T/nrf.yaml" <<EOC
sbi:
  port: $1
  tls: {cert: $T/pki/nrf.crt, key: $T/pki/nrf.key, ca: $T/pki/ca.crt}
EOC
}
start_nrf() {
  KEDGE_NRF_TEST_FILE=$REC KEDGE_NRF_TEST_HEARTBEAT=$HB start_daemon NRF kedge-nrf-testd "$T/nrf.yaml"
}
nrf_conf 0
start_nrf
NRF=https://127.0.0.1:$NRF_PORT

# not udm_conf: nf: and nrf: come before udm: here, which the bad-nrf.yaml check below cuts on
cat >"$T/udm.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}
nf:
  instance_id_file: $T/udm.nf-instance-id
nrf:
  uri: $NRF
  retry_min: 100ms
  retry_max: 500ms
  allowed_nf_types: [AUSF]
  group_id: udm-group-1
  routing_indicators: ["0000", "4321"]
  supi_ranges:
    - {start: "001010000000000", end: "001010999999999"}
    - {pattern: "^nai-.+@edge\\\\.example\\\\.org$"}
udm:
  database: $T/udm.sqlite
  master_key: $T/udm.key
  allowed_consumers: [ausf.kedge.test]
EOC
cat >"$T/ausf.yaml" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
nf:
  instance_id_file: $T/ausf.nf-instance-id
nrf:
  uri: $NRF
  retry_min: 100ms
  retry_max: 500ms
  allowed_nf_types: [AMF, NEF]
  routing_indicators: ["0000"]
udm:
  uri: https://127.0.0.1:1
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["5G:mnc001.mcc001.3gppnetwork.org"]
EOC
# a bad nrf: section is refused at load with file:line: key
printf 'nrf:\n  uri: http://127.0.0.1:1\n' >"$T/bad-nrf.yaml"
cat "$T/udm.yaml" | sed '/^nrf:/,/^udm:/{/^udm:/!d}' >>"$T/bad-nrf.yaml"
out=$("$BIN/kedge-udmd" --check-config --config "$T/bad-nrf.yaml" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q 'bad-nrf.yaml:2: nrf.uri: must start with https://' &&
  ok "nrf.uri that is not https is refused naming file:line: key" || fail "bad nrf.uri: $out"

start_daemon UDM kedge-udmd "$T/udm.yaml"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
UDM_ID=$(cat "$T/udm.nf-instance-id")
AUSF_ID=$(cat "$T/ausf.nf-instance-id")

# count METHOD ID: requests of METHOD for ID the peer received
count() { jq -c "select(.method==\"$1\" and .path==\"/nnrf-nfm/v1/nf-instances/$2\")" "$REC" | wc -l; }
at_least() { [ "$(count "$1" "$2")" -ge "$3" ]; }
bodies() { jq -c "select(.method==\"$1\" and .path==\"/nnrf-nfm/v1/nf-instances/$2\") | .body" "$REC"; }
NFM=TS29510_Nnrf_NFManagement.yaml
P='/nf-instances/{nfInstanceID}'

# --- NFRegister (TS 29.510 5.2.2.2) ---
wait_for 10 at_least PUT "$UDM_ID" 1 && wait_for 10 at_least PUT "$AUSF_ID" 1 &&
  ok "kedge-udmd and kedge-ausfd registered" || fail "no NFRegister: $(cat "$REC")"
for who in UDM AUSF; do
  eval "id=\$${who}_ID"
  bodies PUT "$id" | head -1 >"$T/put.json"
  schema_ok "$who NFRegister body (NFProfile)" request $NFM "$P" PUT <"$T/put.json"
  [ "$(jq -r .nfInstanceId "$T/put.json")" = "$id" ] && [ "$(jq -r .nfType "$T/put.json")" = "$who" ] &&
    [ "$(jq -r .nfStatus "$T/put.json")" = REGISTERED ] &&
    [ "$(jq -c .ipv4Addresses "$T/put.json")" = '["127.0.0.1"]' ] &&
    ok "$who profile: nfInstanceId, nfType, nfStatus, ipv4Addresses" || fail "$who profile: $(cat "$T/put.json")"
  jq -r 'select(.method=="PUT") | .userAgent' "$REC" | grep -qx "$who-$id" &&
    ok "$who User-Agent $who-<nfInstanceId> (TS 29.500 5.2.2.2)" || fail "$who User-Agent"
done
eval "port=\$UDM_PORT"
bodies PUT "$UDM_ID" | head -1 >"$T/udm-put.json"
[ "$(jq -c '.nfServices | map(.serviceName)' "$T/udm-put.json")" = '["nudm-ueau"]' ] &&
  [ "$(jq -c '.nfServices[0].ipEndPoints' "$T/udm-put.json")" = "[{\"ipv4Address\":\"127.0.0.1\",\"port\":$UDM_PORT}]" ] &&
  [ "$(jq -r '.nfServices[0].scheme + " " + .nfServices[0].versions[0].apiVersionInUri' "$T/udm-put.json")" = "https v1" ] &&
  [ "$(jq -c '.nfServiceList["nudm-ueau"] == .nfServices[0]' "$T/udm-put.json")" = true ] &&
  [ "$(jq -c '.allowedNfTypes' "$T/udm-put.json")" = '["AUSF"]' ] &&
  [ "$(jq -c '.udmInfo' "$T/udm-put.json")" = '{"groupId":"udm-group-1","supiRanges":[{"start":"001010000000000","end":"001010999999999"},{"pattern":"^nai-.+@edge\\.example\\.org$"}],"routingIndicators":["0000","4321"]}' ] &&
  ok "UDM profile: nudm-ueau on its bound port, allowedNfTypes, udmInfo from nrf:" ||
  fail "UDM profile: $(cat "$T/udm-put.json")"
bodies PUT "$AUSF_ID" | head -1 >"$T/ausf-put.json"
[ "$(jq -c '.nfServices | map(.serviceName)' "$T/ausf-put.json")" = '["nausf-auth","nausf-kedge"]' ] &&
  [ "$(jq -c '.nfServices[1].ipEndPoints[0].port' "$T/ausf-put.json")" = "$AUSF_PORT" ] &&
  [ "$(jq -c '.ausfInfo' "$T/ausf-put.json")" = '{"routingIndicators":["0000"]}' ] &&
  ok "AUSF profile: nausf-auth and nausf-kedge (SPEC.md 7), ausfInfo" ||
  fail "AUSF profile: $(cat "$T/ausf-put.json")"

# --- heartbeat at the interval the NRF answered (TS 29.510 5.2.2.3.2) ---
wait_for 10 at_least PATCH "$UDM_ID" 3 && wait_for 10 at_least PATCH "$AUSF_ID" 3 &&
  ok "heartbeats sent" || fail "heartbeats: $(count PATCH "$UDM_ID") $(count PATCH "$AUSF_ID")"
bodies PATCH "$UDM_ID" | head -1 >"$T/patch.json"
schema_ok "heartbeat body (PatchItem array)" request $NFM "$P" PATCH <"$T/patch.json"
[ "$(cat "$T/patch.json")" = '[{"op":"replace","path":"/nfStatus","value":"REGISTERED"}]' ] &&
  jq -r "select(.method==\"PATCH\") | .contentType" "$REC" | sort -u | grep -qx 'application/json-patch+json' &&
  ok "heartbeat: JSON Patch replacing nfStatus, application/json-patch+json" || fail "heartbeat: $(cat "$T/patch.json")"
# The gaps between heartbeats follow heartBeatTimer (never much shorter: no hammering).
gaps=$(jq -r "select(.method==\"PATCH\" and .path==\"/nnrf-nfm/v1/nf-instances/$UDM_ID\") | .t" "$REC" |
  awk 'NR>1{print $1-p} {p=$1}')
min=$(echo "$gaps" | sort -n | head -1)
[ -n "$min" ] && [ "$min" -ge $((HB * 1000 - 100)) ] && ok "heartbeat gaps >= heartBeatTimer (${HB}s): $(echo $gaps)" ||
  fail "heartbeat gaps: $gaps"
m=$(curl -s "http://127.0.0.1:$UDM_METRICS_PORT/metrics")
echo "$m" | grep -qx 'kedge_nrf_registration_state 1' &&
  echo "$m" | grep -E '^kedge_nrf_heartbeats_total\{result="ok"\} [1-9]' >/dev/null &&
  ok "metrics: registration state 1, heartbeats counted" || fail "metrics: $(echo "$m" | grep nrf)"
grep -q "NRF $NRF: registered UDM $UDM_ID" "$T/UDM.log" && ok "one log line on registration" ||
  fail "UDM log: $(cat "$T/UDM.log")"

# --- the NRF forgets them: 404 on the heartbeat, then NFRegister again ---
puts_udm=$(count PUT "$UDM_ID")
puts_ausf=$(count PUT "$AUSF_ID")
code=$(sbi_curl udm -o /dev/null -w '%{http_code}' -X DELETE "$NRF/test/nf-instances")
[ "$code" = 204 ] || fail "peer forget: $code"
wait_for 10 at_least PUT "$UDM_ID" $((puts_udm + 1)) && wait_for 10 at_least PUT "$AUSF_ID" $((puts_ausf + 1)) &&
  ok "registered again after a 404 heartbeat" || fail "no re-registration: $(tail -5 "$REC")"
grep -q "heartbeat answered 404" "$T/UDM.log" && ok "the 404 is logged" || fail "no 404 log line"
code=$(sbi_curl udm -o "$T/got" -w '%{http_code}' "$NRF/nnrf-nfm/v1/nf-instances/$UDM_ID")
[ "$code" = 200 ] && [ "$(jq -r .nfInstanceId "$T/got")" = "$UDM_ID" ] && ok "the NRF holds the profile again" ||
  fail "GET profile: $code"

# --- the NRF goes down: the daemons keep serving; it comes back and they register again ---
stop_daemon NRF
GAD='{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
sleep $((HB * 2 + 1))
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$GAD" \
  "https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-001010000000009/security-information/generate-auth-data")
[ "$code" = 404 ] && grep -q USER_NOT_FOUND "$T/b" && kill -0 "$UDM_PID" && kill -0 "$AUSF_PID" &&
  ok "with the NRF down the UDM still answers (404 USER_NOT_FOUND) and both run" || fail "NRF down: $code"
curl -s "http://127.0.0.1:$UDM_METRICS_PORT/metrics" | grep -qx 'kedge_nrf_registration_state 2' &&
  grep -q "heartbeat failed" "$T/UDM.log" && ok "NRF unreachable: state 2, one log line" ||
  fail "unreachable state: $(curl -s "http://127.0.0.1:$UDM_METRICS_PORT/metrics" | grep nrf_reg)"
[ "$(grep -c "heartbeat failed" "$T/UDM.log")" = 1 ] && ok "one line for the whole outage" ||
  fail "log lines: $(grep -c "heartbeat failed" "$T/UDM.log")"
: >"$REC"
nrf_conf "$NRF_PORT" # the same port: the daemons' nrf.uri
start_nrf
wait_for 15 at_least PUT "$UDM_ID" 1 && wait_for 15 at_least PUT "$AUSF_ID" 1 &&
  ok "the restarted NRF (which knows nothing) gets NFRegister again" || fail "after NRF restart: $(cat "$REC")"

# --- NFDeregister on SIGTERM (TS 29.510 5.2.2.4); the id survives a restart ---
stop_daemon UDM && ok "UDM exits 0 on SIGTERM" || fail "UDM exit status"
[ "$(count DELETE "$UDM_ID")" = 1 ] && ok "UDM deregistered (DELETE) on SIGTERM" || fail "no DELETE: $(tail -3 "$REC")"
grep -q "NRF $NRF: deregistered $UDM_ID" "$T/UDM.log" && ok "deregistration logged" || fail "no deregistration line"
code=$(sbi_curl udm -o /dev/null -w '%{http_code}' "$NRF/nnrf-nfm/v1/nf-instances/$UDM_ID")
[ "$code" = 404 ] && ok "the NRF no longer holds the UDM" || fail "after DELETE: $code"
puts=$(count PUT "$UDM_ID")
start_daemon UDM kedge-udmd "$T/udm.yaml"
wait_for 10 at_least PUT "$UDM_ID" $((puts + 1)) && ok "restarted UDM registers with the same nfInstanceId" ||
  fail "restart: $(tail -3 "$REC")"

# --- started while the NRF is down: serves at once, registers when it appears ---
stop_daemon AUSF && ok "AUSF exits 0 on SIGTERM" || fail "AUSF exit status"
stop_daemon NRF
: >"$REC"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
sleep 1
grep -q "registration failed" "$T/AUSF.log" && kill -0 "$AUSF_PID" && ok "AUSF starts and serves with no NRF" ||
  fail "AUSF without NRF: $(tail -3 "$T/AUSF.log")"
start_nrf
wait_for 10 at_least PUT "$AUSF_ID" 1 && ok "AUSF registers once the NRF is up (back-off retry)" ||
  fail "AUSF late registration"
stop_daemon AUSF && stop_daemon UDM && [ "$(count DELETE "$AUSF_ID")" = 1 ] &&
  [ "$(count DELETE "$UDM_ID")" = 1 ] && ok "both deregister and exit 0" || fail "final stop"
stop_daemon NRF && ok "the NRF peer exits 0" || fail "NRF peer exit status"
finish
