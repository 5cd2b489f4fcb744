#!/bin/sh
# 5G AKA between real kedge-udmd and kedge-ausfd processes, with curl as the SEAF and
# `kedge derive aka` as the USIM (RES* for the SQN the UDM is known to use next): vectors,
# confirmation, replay, wrong RES*, expired context, consumer and serving-network checks,
# SUCI, ProblemDetails, UDM stopped (timeout) / down / back, and a UDM that answers garbage.
# Usage: sh test-ausf-udm.sh BUILD_DIR
BUILD=${1:?usage: test-ausf-udm.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
SNN=5G:mnc001.mcc001.3gppnetwork.org
pki_init
udm_conf

# --- configuration and provisioning ---
udm_add imsi-001010000000001 --sqn 000000000010 || fail "subscriber add"
# the rest goes through the CLI on purpose: its secret inputs (OP, files, argv) are what is tested
printf '%s\n%s\n' "$K" cdc202d5123e20f62b6d676ac72cb318 |
  "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi nai-alice@edge.example.org \
  --k-file - --op-file - --rid 4321 --no-edge >/dev/null || fail "add NAI"
out=$("$BIN/kedge-udmd" subscriber show --config "$T/udm.yaml" --supi nai-alice@edge.example.org)
echo "$out" | grep -q 'routing_indicator: 4321' && echo "$out" | grep -q 'edge_capable: false' &&
  ! echo "$out" | grep -qi "$K" && ok "subscriber show (no K)" || fail "subscriber show: $out"
# issue 12: K and OPc from files or stdin, never argv unless asked for
out=$("$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000002 \
  --k $K --opc $OPC 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q -- '--k puts the secret in the process list.*--k-file' &&
  ok "--k on the command line refused without --insecure-argv" || fail "--k without --insecure-argv: $out"
echo "$K" >"$T/k.hex" && echo "$OPC" >"$T/opc.hex" && chmod 644 "$T/k.hex" && chmod 600 "$T/opc.hex"
out=$("$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000002 \
  --k-file "$T/k.hex" --opc-file "$T/opc.hex" 2>&1)
[ $? -eq 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
  echo "$out" | grep -q "k.hex: K is readable by group or others (mode 644): chmod 600" &&
  ok "a K file readable by others is refused, one line" || fail "0644 K file: $out"
chmod 600 "$T/k.hex"
"$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000002 \
  --k-file "$T/k.hex" --opc-file "$T/opc.hex" >/dev/null && ok "--k-file and --opc-file (0600)" ||
  fail "--k-file"
echo "$OPC" | "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000003 \
  --k-file "$T/k.hex" --opc-file - >/dev/null && ok "--opc-file - reads stdin" || fail "--opc-file -"
"$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi imsi-001010000000004 \
  --insecure-argv --k $K --opc $OPC >/dev/null && ok "--insecure-argv allows --k/--opc" ||
  fail "--insecure-argv"
out=$(echo 0011 | "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" \
  --supi imsi-001010000000005 --k-file - --opc-file "$T/opc.hex" 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q -- "--k-file:" && ! echo "$out" | grep -q 0011 &&
  ok "a short K from stdin: usage error naming --k-file, no key echoed" || fail "short K: $out"
printf 'udm:\n  database: x\n  master_key: y\n  allowed_consumers: [a]\n  colour: red\n' >"$T/bad.yaml"
out=$("$BIN/kedge-udmd" --check-config --config "$T/bad.yaml" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q 'bad.yaml:5: udm.colour: unknown key' &&
  ok "udm --check-config names file:line: key" || fail "udm --check-config: $out"
cp "$T/udm.key" "$T/open.key" && chmod 644 "$T/open.key"
sed "s#$T/udm.key#$T/open.key#" "$T/udm.yaml" >"$T/udm-open.yaml"
out=$("$BIN/kedge-udmd" --config "$T/udm-open.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q 'chmod 600' && ok "udm refuses a readable master key" ||
  fail "udm with a 0644 master key: $out"

start_daemon UDM kedge-udmd "$T/udm.yaml"
ausf_conf() { # ausf_conf FILE EXPIRY UDM_URI
  cat >"$1" <<EOC
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
udm:
  uri: $3
  timeout: 500ms
ue_authentication:
  context_expiry: $2
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
EOC
}
ausf_conf "$T/ausf.yaml" 30s "https://127.0.0.1:$UDM_PORT"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
AUSF=https://127.0.0.1:$AUSF_PORT
UDM=https://127.0.0.1:$UDM_PORT

# --- the UDM directly (as the AUSF) ---
GAD=security-information/generate-auth-data
REQ='{"servingNetworkName":"'$SNN'","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/nai-alice@edge.example.org/$GAD")
[ "$code" = 200 ] && grep -q '"avType":"5G_HE_AKA"' "$T/b" && grep -q '"routingId":"4321"' "$T/b" &&
  grep -q '"vendorSpecific-032473":{"edgeInd":false}' "$T/b" && ok "UDM: vector for a NAI SUPI" || fail "UDM NAI: $code $(cat "$T/b")"
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/suci-0-001-01-0-0-0-0000000001/$GAD")
[ "$code" = 200 ] && grep -q '"supi":"imsi-001010000000001"' "$T/b" && ok "UDM: null-scheme SUCI" ||
  fail "UDM SUCI: $code $(cat "$T/b")"
SQN_USED=1 # the IMSI subscriber's SQN is now 0x11
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/suci-0-001-01-0-1-1-0a0b0c/$GAD")
[ "$code" = 403 ] && grep -q '"cause":"INVALID_SCHEME_OUTPUT"' "$T/b" &&
  ok "UDM: protected SUCI without its key 403 INVALID_SCHEME_OUTPUT" || fail "UDM protected SUCI: $code $(cat "$T/b")"
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/suci-0-001-01-0-3-1-0a0b0c/$GAD")
[ "$code" = 403 ] && grep -q '"cause":"UNSUPPORTED_PROTECTION_SCHEME"' "$T/b" &&
  ok "UDM: scheme 3 403 UNSUPPORTED_PROTECTION_SCHEME" || fail "UDM scheme 3: $code $(cat "$T/b")"
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/imsi-001010000000001/$GAD")
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/b" && ok "UDM: only AUSFs" ||
  fail "UDM consumer: $code $(cat "$T/b")"
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code} %{content_type}' -H 'content-type: application/json' \
  -d '{"servingNetworkName":"5G:mnc01.mcc001.3gppnetwork.org"}' "$UDM/nudm-ueau/v1/imsi-001010000000001/$GAD")
[ "$code" = "400 application/problem+json" ] && grep -q '"/servingNetworkName"' "$T/b" &&
  grep -q '"/ausfInstanceId"' "$T/b" && ok "UDM: invalidParams" || fail "UDM invalid: $code $(cat "$T/b")"

# --- 5G AKA through the AUSF ---
# aka SUPI SQN_HEX [resStar override]: POST, USIM via kedge derive, PUT; result in $T/confirm
post_auth() {
  sbi_curl seaf -D "$T/h" -o "$T/auth" -w '%{http_code} %{content_type}' -H 'content-type: application/json' \
    -d '{"supiOrSuci":"'"$1"'","servingNetworkName":"'$SNN'"}' "$AUSF/nausf-auth/v1/ue-authentications"
}
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
usim() { # usim RAND SQN -> derive aka JSON in $T/usim
  "$BIN/kedge" derive aka --k $K --opc $OPC --rand "$1" --sqn "$2" --amf 8000 --mcc 001 --mnc 01 \
    --supi imsi-001010000000001 >"$T/usim"
}
next_sqn() { SQN_USED=$((SQN_USED + 1)); printf '%012x' $((16 + SQN_USED)); }

code=$(post_auth imsi-001010000000001)
[ "$code" = "201 application/3gppHal+json" ] && grep -qi "^location: $AUSF/nausf-auth/v1/ue-authentications/[0-9a-f]\{32\}" "$T/h" &&
  ok "AUSF: 201 with Location and UEAuthenticationCtx" || fail "AUSF POST: $code $(cat "$T/auth")"
HREF=$(field href "$T/auth")
usim "$(field rand "$T/auth")" "$(next_sqn)"
[ "$(field hxresStar "$T/auth")" = "$(field hxresStar "$T/usim")" ] && ok "HXRES* matches the USIM's RES*" ||
  fail "HXRES*: $(cat "$T/auth") vs $(cat "$T/usim")"
code=$(sbi_curl seaf -o "$T/confirm" -w '%{http_code}' -X PUT -H 'content-type: application/json' \
  -d '{"resStar":"'"$(field xresStar "$T/usim")"'"}' "$HREF")
[ "$code" = 200 ] && grep -q AUTHENTICATION_SUCCESS "$T/confirm" &&
  [ "$(field kseaf "$T/confirm")" = "$(field kseaf "$T/usim")" ] &&
  ok "AUSF: AUTHENTICATION_SUCCESS with the USIM's KSEAF" || fail "confirm: $code $(cat "$T/confirm")"
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -X PUT -H 'content-type: application/json' \
  -d '{"resStar":"'"$(field xresStar "$T/usim")"'"}' "$HREF")
[ "$code" = 404 ] && ok "AUSF: a replayed confirmation is 404" || fail "replay: $code $(cat "$T/b")"

post_auth imsi-001010000000001 >/dev/null
next_sqn >/dev/null
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -X PUT -H 'content-type: application/json' \
  -d '{"resStar":"00000000000000000000000000000000"}' "$(field href "$T/auth")")
[ "$code" = 200 ] && grep -q AUTHENTICATION_FAILURE "$T/b" && ok "AUSF: wrong RES* fails" ||
  fail "wrong RES*: $code $(cat "$T/b")"

code=$(post_auth imsi-001019999999999)
[ "${code%% *}" = 404 ] && grep -q USER_NOT_FOUND "$T/auth" && ok "AUSF: unknown SUPI 404" ||
  fail "unknown SUPI: $code $(cat "$T/auth")"
code=$(sbi_curl ecs -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"'$SNN'"}' "$AUSF/nausf-auth/v1/ue-authentications")
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/b" && ok "AUSF: unlisted consumer 403" ||
  fail "consumer: $code $(cat "$T/b")"
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"5G:mnc002.mcc001.3gppnetwork.org"}' \
  "$AUSF/nausf-auth/v1/ue-authentications")
[ "$code" = 403 ] && grep -q SERVING_NETWORK_NOT_AUTHORIZED "$T/b" && ok "AUSF: serving network checked" ||
  fail "serving network: $code $(cat "$T/b")"
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d '{"supiOrSuci":7}' \
  "$AUSF/nausf-auth/v1/ue-authentications")
[ "$code" = 400 ] && grep -q '"/supiOrSuci"' "$T/b" && grep -q '"/servingNetworkName"' "$T/b" &&
  ok "AUSF: invalidParams" || fail "AUSF invalid: $code $(cat "$T/b")"

# --- expired context ---
ausf_conf "$T/ausf2.yaml" 300ms "$UDM"
start_daemon AUSF2 kedge-ausfd "$T/ausf2.yaml"
sbi_curl seaf -o "$T/auth" -H 'content-type: application/json' \
  -d '{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"'$SNN'"}' \
  "https://127.0.0.1:$AUSF2_PORT/nausf-auth/v1/ue-authentications"
usim "$(field rand "$T/auth")" "$(next_sqn)"
sleep 0.6
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -X PUT -H 'content-type: application/json' \
  -d '{"resStar":"'"$(field xresStar "$T/usim")"'"}' "$(field href "$T/auth")")
[ "$code" = 404 ] && ok "AUSF: an expired context is 404" || fail "expired: $code $(cat "$T/b")"

# --- the UDM stopped, down, back ---
kill -STOP "$UDM_PID"
start=$(date +%s%N)
code=$(post_auth imsi-001010000000001)
ms=$((($(date +%s%N) - start) / 1000000))
# TS 29.500 Table 5.2.7.2-1: a UDM that does not answer is 504 toward the SEAF
[ "${code%% *}" = 504 ] && grep -q TIMED_OUT_REQUEST "$T/auth" &&
  [ "$ms" -lt 3000 ] && ok "UDM not answering: 504 TIMED_OUT_REQUEST in ${ms} ms" ||
  fail "UDM stopped: $code in ${ms} ms $(cat "$T/auth")"
kill -CONT "$UDM_PID"
next_sqn >/dev/null # the stopped UDM still answered (late): that SQN is used
code=$(post_auth imsi-001010000000001)
[ "${code%% *}" = 201 ] && ok "UDM continued: AUSF serves again" || fail "after SIGCONT: $code $(cat "$T/auth")"
next_sqn >/dev/null
stop_daemon UDM
code=$(post_auth imsi-001010000000001)
[ "${code%% *}" = 504 ] && grep -q TARGET_NF_NOT_REACHABLE "$T/auth" && ok "UDM down: 504 TARGET_NF_NOT_REACHABLE" ||
  fail "UDM down: $code $(cat "$T/auth")"
udm_conf "$T/udm-again.yaml" "$UDM_PORT"
start_daemon UDM kedge-udmd "$T/udm-again.yaml"
code=$(post_auth imsi-001010000000001)
HREF=$(field href "$T/auth")
usim "$(field rand "$T/auth")" "$(next_sqn)"
code2=$(sbi_curl seaf -o "$T/confirm" -w '%{http_code}' -X PUT -H 'content-type: application/json' \
  -d '{"resStar":"'"$(field xresStar "$T/usim")"'"}' "$HREF")
[ "${code%% *}" = 201 ] && grep -q AUTHENTICATION_SUCCESS "$T/confirm" &&
  ok "UDM back: 5G AKA succeeds, SQN continued from the database" || fail "UDM back: $code $code2 $(cat "$T/confirm")"

# --- a UDM that answers something unusable: 502 ---
mkdir -p "$T/nginx/logs"
cat >"$T/nginx/nginx.conf" <<EOC
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log;
master_process off;
events {}
http {
  access_log off;
  client_body_temp_path $T/nginx;
  server {
    listen 127.0.0.1:0 ssl http2;
    ssl_certificate $T/pki/udm.crt;
    ssl_certificate_key $T/pki/udm.key;
    ssl_protocols TLSv1.3;
    location / { default_type application/json; return 200 '{"authType":"5G_AKA"}'; }
  }
}
EOC
# nginx cannot report a port it picked: take a free one from a kedge daemon that just exited
FREE=$UDM_PORT
stop_daemon UDM
sed -i "s/127.0.0.1:0 /127.0.0.1:$FREE /" "$T/nginx/nginx.conf"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' 2>>"$T/nginx.log" &
PIDS="$PIDS $!"
wait_for 10 curl -sk -o /dev/null "https://127.0.0.1:$FREE/" || fail "nginx did not start"
code=$(post_auth imsi-001010000000001)
[ "${code%% *}" = 502 ] && grep -q UPSTREAM_SERVER_ERROR "$T/auth" && ok "unusable UDM answer: 502" ||
  fail "garbage UDM: $code $(cat "$T/auth")"

# --- metrics ---
m=$(curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics")
echo "$m" | grep -q 'kedge_ausf_ue_authentications_total{result="success"} 2' &&
  echo "$m" | grep -q 'kedge_ausf_ue_authentications_total{result="failure"} 1' &&
  ok "AUSF metrics count successes and failures" || fail "metrics: $(echo "$m" | grep ausf_ue)"
grep -q "AKA success .* supi_hash=$(printf %s imsi-001010000000001 | sha256sum | cut -c1-16)" "$T/AUSF.log" && ! grep -qi "$K" "$T/AUSF.log" &&
  ok "AUSF log: success line, no key" || fail "AUSF log"
stop_daemon AUSF && ok "AUSF exits 0 on SIGTERM" || fail "AUSF exit status"
finish
