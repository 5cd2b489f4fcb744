#!/bin/sh
# Logs and the metrics listener of a real daemon (issue 11 item 8): /healthz and /readyz,
# kedge_build_info and the process_* metrics; log.json lines with identifiers as fields
# (kedge_id, peer, status, cause; route and duration_ms per answer at debug), every line valid
# JSON (jq); journald priorities when JOURNAL_STREAM names stderr.
# Usage: sh test-observability.sh BUILD_DIR
BUILD=${1:?usage: test-observability.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
pki_init
cat >"$T/ausf.yaml" <<EOC
log: {level: debug, json: true}
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:9"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge: {enabled: true, key_lifetime: 1h, home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
keyrequest:
  allowed_consumers: [{name: nef.kedge.test, profiles: [kedge]}]
EOC
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
M=http://127.0.0.1:$AUSF_METRICS_PORT

out=$(curl -s -w ' %{http_code}' "$M/healthz" | tr -d '\n')
check "/healthz answers 200 ok ($out)" [ "$out" = "ok 200" ]
out=$(curl -s -w ' %{http_code}' "$M/readyz" | tr -d '\n')
check "/readyz answers 200 ready ($out)" [ "$out" = "ready 200" ]
curl -s "$M/metrics" >"$T/metrics"
check "kedge_build_info names the program and version" \
  grep -q '^kedge_build_info{program="kedge-ausfd",version="[0-9.]*"} 1$' "$T/metrics"
rss=$(sed -n 's/^process_resident_memory_bytes \([0-9]*\)$/\1/p' "$T/metrics")
check "process_resident_memory_bytes is plausible (${rss:-none})" [ "${rss:-0}" -gt 1000000 ]
fds=$(sed -n 's/^process_open_fds \([0-9]*\)$/\1/p' "$T/metrics")
real_fds=$(ls /proc/"$AUSF_PID"/fd | wc -l)
check "process_open_fds close to /proc ($fds vs $real_fds)" \
  sh -c "[ -n '$fds' ] && [ $fds -ge $((real_fds - 3)) ] && [ $fds -le $((real_fds + 3)) ]"
start=$(sed -n 's/^process_start_time_seconds \([0-9]*\).*/\1/p' "$T/metrics")
now=$(date +%s)
check "process_start_time_seconds within the last 10 minutes (${start:-none})" \
  sh -c "[ -n '$start' ] && [ $start -le $now ] && [ $start -ge $((now - 600)) ]"
check "process_cpu_seconds_total present" grep -q '^process_cpu_seconds_total [0-9.]*$' "$T/metrics"
check "# TYPE lines for the process metrics" grep -q '^# TYPE process_cpu_seconds_total counter$' "$T/metrics"

KID=0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org
sbi_curl nef -o /dev/null -H 'content-type: application/json' -d '{"kedgeId":"'"$KID"'"}' \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve"
stop_daemon AUSF
check "every log line is one JSON object (jq)" sh -c "jq -e -c 'select(type == \"object\")' '$T/AUSF.log' >/dev/null"
line=$(grep '"msg":"keyrequest' "$T/AUSF.log" | head -1)
echo "$line" | jq -e --arg id "$KID" '.kedge_id == $id and .peer == "nef.kedge.test" and
  .status == 404 and .cause == "KEDGE_ID_NOT_FOUND" and (.msg | contains($id) | not)' >/dev/null &&
  ok "keyrequest line: kedge_id, peer, status, cause as fields, not in msg" ||
  fail "keyrequest line: $line"
line=$(grep '"route":"/nausf-auth/v1/kedge-keys/retrieve"' "$T/AUSF.log" | head -1)
echo "$line" | jq -e '.status == 404 and (.duration_ms | type) == "number" and
  .peer == "nef.kedge.test"' >/dev/null && ok "answer line (debug): route, status, duration_ms, peer" ||
  fail "answer line: $line"

# journald: "<N>" priority prefixes when JOURNAL_STREAM is stderr's device:inode.
sed -i 's/json: true/json: false/' "$T/ausf.yaml"
: >"$T/j.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$T/j.log") "$BIN/kedge-ausfd" --config "$T/ausf.yaml" \
  --ports-file "$T/j.ports" 2>>"$T/j.log" &
J=$!
PIDS="$PIDS $J"
wait_for 10 test -s "$T/j.ports"
kill -TERM "$J"; wait "$J"
check "journald: info lines start with <6>" grep -q '^<6>.* info: sbi ausf: listening' "$T/j.log"
check "journald: no line without a priority" sh -c "! grep -v '^<[0-7]>' '$T/j.log'"
finish
