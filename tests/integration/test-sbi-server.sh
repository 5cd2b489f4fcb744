#!/bin/sh
# The SBI runtime as a real process (kedge-sbi-testd) against clients kedge did not write:
# curl --http2 (OpenSSL) and nghttp. Mutual TLS with certificates from `kedge pki init`;
# refusal of clients without a certificate or with one from another CA; every runtime error
# (404, 405, 413, 415, 400, 431) with its status, application/problem+json and cause; the
# daemon keeps serving after each; /metrics counts; SIGTERM drains a slow request and exits 0.
# Usage: sh test-sbi-server.sh BUILD_DIR
set -u
BUILD=${1:?usage: test-sbi-server.sh BUILD_DIR}
BIN=$BUILD/bin
T=$(mktemp -d)
PID=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT INT TERM

FAILS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }

"$BIN/kedge" pki init "$T/pki" >/dev/null || { echo "kedge pki init failed"; exit 1; }
"$BIN/kedge" pki init "$T/other" >/dev/null || { echo "kedge pki init (other CA) failed"; exit 1; }

cat >"$T/testd.yaml" <<EOF
log:
  level: info
sbi:
  address: 127.0.0.1
  port: 0
  workers: 2
  tls:
    cert: $T/pki/ausf.crt
    key: $T/pki/ausf.key
    ca: $T/pki/ca.crt
    client_verification: required
  limits:
    max_body: 4KiB
    max_header_list: 8KiB
    shutdown_grace: 5s
  metrics:
    port: 0
EOF

# --- configuration checks ---
"$BIN/kedge-sbi-testd" --config "$T/testd.yaml" --check-config >/dev/null 2>&1 \
  && ok "--check-config accepts a good file" || fail "--check-config on a good file"
printf 'sbi:\n  prot: 1\n' >"$T/bad.yaml"
out=$("$BIN/kedge-sbi-testd" --config "$T/bad.yaml" --check-config 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q 'bad.yaml:2: sbi.prot' \
  && ok "--check-config names file:line: key" || fail "--check-config on an unknown key: $out"
"$BIN/kedge-sbi-testd" --help | grep -q -- '--config' && ok "--help" || fail "--help"
"$BIN/kedge-sbi-testd" --version | grep -q 'kedge-sbi-testd' && ok "--version" || fail "--version"

# --- start ---
"$BIN/kedge-sbi-testd" --config "$T/testd.yaml" --ports-file "$T/ports" 2>"$T/log" &
PID=$!
i=0
while [ ! -s "$T/ports" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -s "$T/ports" ] || { cat "$T/log"; echo "daemon did not start"; exit 1; }
PORT=$(sed -n 's/^port=//p' "$T/ports")
MPORT=$(sed -n 's/^metrics_port=//p' "$T/ports")
grep -q "listening on 127.0.0.1:$PORT .*client verification required.*workers=2" "$T/log" \
  && ok "start-up line names address, verification, workers" || fail "start-up line: $(cat "$T/log")"

URL=https://ausf.kedge.test:$PORT
CURL="curl -s --http2 --cacert $T/pki/ca.crt --cert $T/pki/seaf.crt --key $T/pki/seaf.key
      --resolve ausf.kedge.test:$PORT:127.0.0.1 --max-time 10"

# req EXPECTED_STATUS METHOD PATH [curl args...]: checks HTTP/2 and the status; body in $T/body,
# content type in $T/ctype.
req() {
  want=$1 method=$2 path=$3
  shift 3
  got=$($CURL -X "$method" -o "$T/body" -w '%{http_version} %{http_code} %{content_type}' \
    "$@" "$URL$path")
  set -- $got
  echo "${3:-}" >"$T/ctype"
  if [ "${1:-}" = 2 ] && [ "${2:-}" = "$want" ]; then return 0; fi
  echo "  $method $path: got '${got}', want HTTP/2 $want; body: $(cat "$T/body" 2>/dev/null)"
  return 1
}
# problem STATUS CAUSE METHOD PATH [args]: a ProblemDetails with that status and cause.
problem() {
  status=$1 cause=$2
  shift 2
  req "$status" "$@" || return 1
  grep -q '^application/problem+json' "$T/ctype" || { echo "  content type $(cat "$T/ctype")"; return 1; }
  grep -q "\"cause\":\"$cause\"" "$T/body" || { echo "  body $(cat "$T/body")"; return 1; }
  grep -q "\"status\":$status" "$T/body" || { echo "  body $(cat "$T/body")"; return 1; }
}
still_serving() {
  req 200 GET /test/v1/items/alive && grep -q '"itemId":"alive"' "$T/body"
}
JSON="-H content-type:application/json"

# --- normal requests ---
req 200 POST /test/v1/echo $JSON -d '{"a":[1,2,{"b":"c"}]}' && grep -qx '{"a":\[1,2,{"b":"c"}\]}' "$T/body" \
  && grep -q '^application/json' "$T/ctype" && ok "echo over HTTP/2" || fail "echo"
req 200 GET /test/v1/items/imsi-001010000000001%2Fx && grep -q '"itemId":"imsi-001010000000001/x"' "$T/body" \
  && ok "path variable, percent-decoded" || fail "path variable"
req 200 GET /test/v1/whoami && grep -q '"peer":\["seaf.kedge.test"\]' "$T/body" \
  && ok "peer identity = client certificate SAN DNS names" || fail "whoami: $(cat "$T/body")"
req 200 POST /test/v1/validate $JSON -d '{"supiOrSuci":"imsi-001010000000001","servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org"}' \
  && ok "valid body accepted" || fail "validate (good body)"

# kedge_sbi_server_route_strings: a plain body read in place gives its strings; a body holding
# the object member goes to jansson, so that the handler reads the object from the tree (a
# body read flat has no tree) and kedge_sbi_request_strings gives NULL for it, not its text.
req 200 POST /test/v1/strings $JSON -d '{"name":"a"}' \
  && grep -q '"name":"a"' "$T/body" && grep -q '"tree":false' "$T/body" \
  && ok "route strings: a plain body read in place" || fail "route strings (plain): $(cat "$T/body")"
req 200 POST /test/v1/strings $JSON -d '{"name":"a","link":{"href":"x"}}' \
  && grep -q '"link":null' "$T/body" && grep -q '"tree":true' "$T/body" \
  && ok "route strings: an object member from the tree" || fail "route strings (object): $(cat "$T/body")"

# --- errors, each followed by a good request ---
problem 404 RESOURCE_URI_STRUCTURE_NOT_FOUND GET /test/v1/nothing && still_serving \
  && ok "404 unknown path" || fail "404"
problem 405 UNSPECIFIED_MSG_FAILURE DELETE /test/v1/echo && still_serving \
  && ok "405 wrong method" || fail "405"
$CURL -X DELETE -D - -o /dev/null "$URL/test/v1/echo" | grep -qi '^allow: POST' \
  && ok "405 carries Allow" || fail "405 Allow"
head -c 5000 /dev/zero | tr '\0' 'x' >"$T/big"
problem 413 UNSPECIFIED_MSG_FAILURE POST /test/v1/echo $JSON --data-binary "@$T/big" && still_serving \
  && ok "413 body over the limit (Content-Length)" || fail "413"
# No content-length: the limit is found while the DATA frames arrive.
problem 413 UNSPECIFIED_MSG_FAILURE POST /test/v1/echo $JSON -H 'transfer-encoding:' -H 'content-length:' \
  --data-binary "@$T/big" && still_serving && ok "413 body over the limit (streamed)" || fail "413 streamed"
problem 415 UNSPECIFIED_MSG_FAILURE POST /test/v1/echo -H 'content-type: text/plain' -d '{"a":1}' \
  && still_serving && ok "415 wrong content type" || fail "415"
problem 400 INVALID_MSG_FORMAT POST /test/v1/echo $JSON -d '{"a":' && still_serving \
  && ok "400 body not JSON" || fail "400 bad JSON"
problem 400 INVALID_MSG_FORMAT POST /test/v1/echo $JSON -d '{"a":1,"a":2}' && still_serving \
  && ok "400 duplicate member" || fail "400 duplicate member"
problem 400 MANDATORY_IE_MISSING POST /test/v1/validate $JSON -d '{"supiOrSuci":"imsi-1"}' \
  && grep -q '"param":"/servingNetworkName"' "$T/body" && still_serving \
  && ok "400 invalidParams (missing member)" || fail "400 missing member"
problem 400 MANDATORY_IE_INCORRECT POST /test/v1/validate $JSON \
  -d '{"supiOrSuci":1,"servingNetworkName":"x","resynchronizationInfo":{"rand":"zz","auts":"a"}}' \
  && grep -q '"param":"/supiOrSuci"' "$T/body" && grep -q '"param":"/resynchronizationInfo/rand"' "$T/body" \
  && still_serving && ok "400 invalidParams (wrong members)" || fail "400 wrong members"
BIGH=$(head -c 9000 /dev/zero | tr '\0' 'h')
problem 431 UNSPECIFIED_MSG_FAILURE GET /test/v1/items/x -H "x-big: $BIGH" && still_serving \
  && ok "431 header list over the limit" || fail "431"

# --- nghttp as a second outside client ---
printf '{"via":"nghttp"}' >"$T/ng.json"
if nghttp -v --cert "$T/pki/af.crt" --key "$T/pki/af.key" -H 'content-type: application/json' \
  -d "$T/ng.json" "https://127.0.0.1:$PORT/test/v1/echo" >"$T/ng.out" 2>&1 \
  && grep -q ':status: 200' "$T/ng.out" && grep -q '{"via":"nghttp"}' "$T/ng.out"; then
  ok "nghttp echo"
else
  fail "nghttp echo: $(tail -5 "$T/ng.out")"
fi
nghttp -v --cert "$T/pki/af.crt" --key "$T/pki/af.key" "https://127.0.0.1:$PORT/test/v1/whoami" \
  2>&1 | grep -q '"peer":\["af.kedge.test"\]' && ok "nghttp whoami = af" || fail "nghttp whoami"

# --- refused clients ---
curl -s --http2 --cacert "$T/pki/ca.crt" --resolve "ausf.kedge.test:$PORT:127.0.0.1" --max-time 5 \
  -o /dev/null "$URL/test/v1/items/x"
[ $? -ne 0 ] && ok "client without a certificate refused" || fail "client without certificate served"
curl -s --http2 --cacert "$T/pki/ca.crt" --cert "$T/other/seaf.crt" --key "$T/other/seaf.key" \
  --resolve "ausf.kedge.test:$PORT:127.0.0.1" --max-time 5 -o /dev/null "$URL/test/v1/items/x"
[ $? -ne 0 ] && ok "client certificate from another CA refused" || fail "foreign CA served"
curl -s --http1.1 --cacert "$T/pki/ca.crt" --cert "$T/pki/seaf.crt" --key "$T/pki/seaf.key" \
  --resolve "ausf.kedge.test:$PORT:127.0.0.1" --max-time 5 -o /dev/null "$URL/test/v1/items/x"
[ $? -ne 0 ] && ok "client without ALPN h2 refused" || fail "HTTP/1.1 client served"
curl -s --http2 --tlsv1.2 --tls-max 1.2 --cacert "$T/pki/ca.crt" --cert "$T/pki/seaf.crt" \
  --key "$T/pki/seaf.key" --resolve "ausf.kedge.test:$PORT:127.0.0.1" --max-time 5 \
  -o /dev/null "$URL/test/v1/items/x"
[ $? -ne 0 ] && ok "TLS 1.2 refused unless configured" || fail "TLS 1.2 served"
still_serving && ok "still serving after refused handshakes" || fail "serving after refusals"

# --- metrics ---
curl -s -D "$T/mhead" -o "$T/metrics" "http://127.0.0.1:$MPORT/metrics"
grep -qi '^content-type: text/plain; version=0.0.4' "$T/mhead" && ok "metrics content type" \
  || fail "metrics content type: $(cat "$T/mhead")"
grep -q '^kedge_sbi_requests_total{method="POST",route="/test/v1/echo",status="200"} 2$' "$T/metrics" \
  && grep -q '^kedge_sbi_requests_total{method="GET",route="/test/v1/items/{itemId}",status="200"} 1[0-9]$' "$T/metrics" \
  && grep -q '^kedge_sbi_requests_total{method="any",route="unmatched",status="404"} 1$' "$T/metrics" \
  && grep -q '^kedge_sbi_requests_total{method="any",route="unmatched",status="405"} 2$' "$T/metrics" \
  && grep -q '^kedge_sbi_requests_total{method="POST",route="/test/v1/echo",status="413"} 2$' "$T/metrics" \
  && grep -q '^kedge_sbi_request_duration_seconds_count{method="POST",route="/test/v1/validate"} 3$' "$T/metrics" \
  && ok "/metrics counts requests by route pattern and status" \
  || fail "metrics: $(grep requests_total "$T/metrics")"
hf=$(sed -n 's/^kedge_sbi_tls_handshake_failures_total //p' "$T/metrics")
[ "${hf:-0}" -ge 4 ] && ok "handshake failures counted ($hf)" || fail "handshake failures: $hf"
grep -q '^kedge_sbi_connections_open [0-9]' "$T/metrics" && ok "open connections gauge" \
  || fail "connections gauge"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" = 404 ] \
  && ok "metrics listener serves only /metrics" || fail "metrics other path"

# --- SIGTERM while a slow request is in flight ---
$CURL -X POST $JSON -d '{}' -o "$T/slow" -w '%{http_code}' "$URL/test/v1/slow" >"$T/slow.code" &
CPID=$!
# SIGTERM only once the request is in: the connection shows in the metrics, and curl sends its
# request right after the handshake (the slow answer takes 200 ms)
i=0
while ! curl -s "http://127.0.0.1:$MPORT/metrics" | grep -q '^kedge_sbi_connections_open [1-9]' &&
  [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
sleep 0.05
kill -TERM "$PID"
wait "$CPID"
[ "$(cat "$T/slow.code")" = 200 ] && grep -q '"slow":true' "$T/slow" \
  && ok "in-flight request completes after SIGTERM" || fail "slow request: $(cat "$T/slow.code")"
wait "$PID"
rc=$?
PID=
[ $rc -eq 0 ] && ok "daemon exits 0 after SIGTERM" || fail "exit status $rc"
grep -q 'SIGTERM' "$T/log" && grep -q 'stopped' "$T/log" && ok "shutdown logged" \
  || fail "shutdown log: $(tail -3 "$T/log")"

if [ $FAILS -ne 0 ]; then
  echo "--- daemon log"; cat "$T/log"
  echo "$FAILS failure(s)"
  exit 1
fi
echo "all passed"
