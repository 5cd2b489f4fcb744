#!/bin/sh
# SBI transport modes (SPEC.md 7, docs/oauth2.md "Transport modes"):
# - h2c (HTTP/2 prior knowledge, no TLS) between kedge-udmd and kedge-ausfd (an AUSF without
#   edge keys, as in an Open5GS lab): a UE registration runs 5G AKA over it, curl talks h2c to
#   the UDM too, and the UDM warns at start that KAUSF crosses the link in clear;
# - h2c refused at load, one line naming the key and the reason, for everything that serves or
#   consumes key material: the NEF, the AAnF, an AUSF with edge keys (its listener, and its UDM
#   link), the ECS's key source;
# - tls-server + OAuth2: a UDM asking no client certificate serves the AUSF that brings a
#   token from the NRF (kedge-nrf-testd), refuses a caller without one, and tls-server without
#   oauth2.required is refused at load.
# Usage: sh test-transport-modes.sh BUILD_DIR
BUILD=${1:?usage: test-transport-modes.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
command -v openssl >/dev/null || { echo "skip: openssl missing"; exit 77; }

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
CONF=$(cd "$(dirname "$0")/../../conf" && pwd)
pki_init
"$BIN/kedge" pki issue "$T/pki" nrf >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null

# udm_transport_conf TRANSPORT [EXTRA]: udm_conf's UDM on sbi.transport TRANSPORT, with an
# allow-list of "*": without client certificates (h2c, tls-server) there is no name to check.
udm_transport_conf() {
  udm_conf
  sed -i -e "s|^sbi: {port: 0,|sbi: {port: 0, transport: $1,|" \
    -e 's|allowed_consumers: \[ausf.kedge.test\]|allowed_consumers: ["*"]|' "$T/udm.yaml"
  echo "${2:-}" >>"$T/udm.yaml"
}
ausf_conf() { # ausf_conf UDM_URI UDM_TRANSPORT [EXTRA]
  cat >"$T/ausf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "$1", transport: $2}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
${3:-}
EOC
}
ue_conf() {
  cat >"$T/ue.yaml" <<EOC
usim: {supi: imsi-001010000000001, k: $K, opc: $OPC, routing_indicator: "0",
       home_network: {mcc: "001", mnc: "01"}, sqn_file: $T/ue.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt,
       key: $T/pki/seaf.key}
EOC
  chmod 600 "$T/ue.yaml"
}

# --- h2c between UDM and AUSF ---
udm_transport_conf h2c
udm_add imsi-001010000000001
start_daemon UDM kedge-udmd "$T/udm.yaml"
grep -q "sbi.transport h2c: HTTP/2 without TLS" "$T/UDM.log" &&
  ok "the UDM warns once that h2c carries KAUSF in clear" || fail "no h2c warning: $(cat "$T/UDM.log")"
ausf_conf "http://127.0.0.1:$UDM_PORT" h2c
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
ue_conf
"$BIN/kedge-ue" register --config "$T/ue.yaml" --json >"$T/ue.out" 2>"$T/ue.err" &&
  grep -q '"result":"success"\|kseaf\|"kedgeId"\|success' "$T/ue.out" &&
  ok "5G AKA with the AUSF calling the UDM over h2c" || fail "register over h2c: $(cat "$T/ue.err" "$T/ue.out")"
"$BIN/kedge-ue" register --config "$T/ue.yaml" --json >/dev/null 2>&1 &&
  ok "a second registration over h2c (libcurl 7.88.1: a fresh connection per request)" ||
  fail "second registration over h2c"
code=$(curl -s --http2-prior-knowledge -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"0a9e3a2c-4f7c-4f0e-9d1d-8a2c9f1e6b01"}' \
  "http://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data")
[ "$code" = 200 ] && grep -q '"authType":"5G_AKA"' "$T/r" &&
  ok "curl --http2-prior-knowledge gets an AuthenticationInfoResult from the h2c UDM" ||
  fail "curl h2c: $code $(cat "$T/r")"
code=$(curl -s --http1.1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UDM_PORT/nudm-ueau/v1/x" || true)
[ "$code" != 200 ] && ok "HTTP/1.1 on the h2c port gets no answer ($code)" || fail "HTTP/1.1 answered 200"
stop_daemon AUSF

# --- h2c refused at load where keys are served or consumed ---
refused() { # refused DESCRIPTION PROGRAM CONFIG KEY REASON
  "$BIN/$2" --check-config --config "$3" >/dev/null 2>"$T/err"
  rc=$?
  lines=$(grep -c . "$T/err")
  [ $rc -ne 0 ] && [ "$lines" = 1 ] && grep -q "$4" "$T/err" && grep -q "$5" "$T/err" &&
    ok "$1: $(cat "$T/err")" || fail "$1: rc=$rc, $lines line(s): $(cat "$T/err")"
}
for nf in nef aanf; do
  sed -e "s|/etc/kedge/pki/|$T/pki/|g" -e 's/^  transport: tls-mutual/  transport: h2c/' "$CONF/$nf.yaml" >"$T/$nf-h2c.yaml"
  refused "the ${nf} refuses sbi.transport h2c" kedge-${nf}d "$T/$nf-h2c.yaml" transport "h2c refused"
done
EDGE="edge: {enabled: true, home_network: {mcc: \"001\", mnc: \"01\"}, master_key: $T/ausf.key}
keystore: \"sqlite:$T/ausf-keys.sqlite\""
ausf_conf "http://127.0.0.1:$UDM_PORT" h2c "$EDGE"
refused "an AUSF with edge keys refuses udm.transport h2c" kedge-ausfd "$T/ausf.yaml" \
  "udm.*transport" "KAUSF"
# bad values get one line naming the key, never a silent default
ausf_conf "https://127.0.0.1:$UDM_PORT" h2c-please ""
refused "an unknown udm.transport" kedge-ausfd "$T/ausf.yaml" "udm.*transport" "tls-mutual, tls-server or h2c"
ausf_conf "https://127.0.0.1:$UDM_PORT" h2c ""
refused "udm.transport h2c with an https:// uri" kedge-ausfd "$T/ausf.yaml" "udm.*uri" "http://"
ausf_conf "http://127.0.0.1:$UDM_PORT" tls-mutual ""
refused "udm.transport tls-mutual with an http:// uri" kedge-ausfd "$T/ausf.yaml" "udm.*uri" "https://"
ausf_conf "https://127.0.0.1:$UDM_PORT" tls-mutual "$EDGE"
sed -i 's/^sbi: {port: 0,/sbi: {port: 0, transport: h2c,/' "$T/ausf.yaml"
refused "an AUSF with edge keys refuses sbi.transport h2c" kedge-ausfd "$T/ausf.yaml" \
  "transport" "Kedge"
cat >"$T/ecs.yaml" <<EOC
sbi: {port: 0}
key_source:
  type: ausf
  uri: https://127.0.0.1:9
  transport: h2c
  tls: {ca: $T/pki/ca.crt, cert: $T/pki/ecs.crt, key: $T/pki/ecs.key}
service_provisioning:
  allowed_eec_ids: ["*"]
  allowed_ac_ids: [ac.video]
  edns: [{dnn: edge.example, eess: [{ees_id: e, uri: "https://e.example:8443", ac_ids: ["*"]}]}]
EOC
refused "the ECS refuses an h2c key source" kedge-ecsd "$T/ecs.yaml" "key_source.transport" "h2c refused"
stop_daemon UDM

# --- tls-server + OAuth2 ---
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/token.pem" 2>/dev/null
# the AUSF's UDM client has no certificate on tls-server, and its token request goes through it
cat >"$T/nrf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/nrf.crt, key: $T/pki/nrf.key, ca: $T/pki/ca.crt,
                     client_verification: optional}}
EOC
KEDGE_NRF_TEST_FILE=$T/nrf.jsonl KEDGE_NRF_TEST_HEARTBEAT=5 KEDGE_NRF_TEST_TOKEN_KEY=$T/token.pem \
  KEDGE_NRF_TEST_JWKS=$T/jwks.json start_daemon NRF kedge-nrf-testd "$T/nrf.yaml"
udm_transport_conf tls-server
refused "tls-server without oauth2.required is refused" kedge-udmd "$T/udm.yaml" transport \
  "needs oauth2.required"
udm_transport_conf tls-server "oauth2: {required: true, jwks_file: $T/jwks.json}"
start_daemon UDM kedge-udmd "$T/udm.yaml"
ausf_conf "https://127.0.0.1:$UDM_PORT" tls-server \
  "oauth2: {token_uri: \"https://127.0.0.1:$NRF_PORT/oauth2/token\"}"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
ue_conf
"$BIN/kedge-ue" register --config "$T/ue.yaml" --json >"$T/ue.out" 2>"$T/ue.err" &&
  ok "5G AKA with the UDM on tls-server: the AUSF shows no certificate, only its token" ||
  fail "register over tls-server: $(cat "$T/ue.err"); $(grep -i 'oauth2\|401' "$T/AUSF.log" | tail -2)"
code=$(curl -s --http2 --cacert "$T/pki/ca.crt" -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"x"}' \
  "https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-001010000000001/security-information/generate-auth-data")
[ "$code" = 401 ] && ok "tls-server: a caller without certificate and without token gets 401" ||
  fail "tls-server without token: $code"
# --- an h2c producer's NRF profile says scheme http (TS 29.510 6.1.6.2.3 NFService.scheme): with
# https there, Open5GS's AUSF opened TLS toward kedge-udmd's h2c port (docs/interop.md, 11) ---
stop_daemon UDM
udm_transport_conf h2c "nrf: {uri: \"https://127.0.0.1:$NRF_PORT\"}"
sed -i "1a nf: {instance_id_file: $T/udmh.id}" "$T/udm.yaml"
start_daemon UDMH kedge-udmd "$T/udm.yaml"
h2c_put() { grep '"method": *"PUT"' "$T/nrf.jsonl" | grep -q "$(cat "$T/udmh.id" 2>/dev/null || echo none)"; }
wait_for 10 h2c_put
schemes=$(grep '"method": *"PUT"' "$T/nrf.jsonl" | grep "$(cat "$T/udmh.id")" | tail -1 |
  jq -r '[.body.nfServices[].scheme, (.body.nfServiceList[] | .scheme)] | unique | join(" ")')
[ "$schemes" = http ] && ok "the h2c UDM registers its services with scheme http" ||
  fail "the h2c UDM's profile schemes: '$schemes'"
finish
