#!/bin/sh
# AKMA registration with real daemons (SPEC.md 9, TS 33.535 6.1): the UDM marks an AKMA
# subscriber with akmaInd, kedge-ue registers (5G AKA) and derives its A-KID, the AUSF derives
# K_AKMA and the A-KID and registers them at the AAnF chosen by the routing indicator before it
# answers; the AAnF then serves K_AF for that A-KID. Re-authentication replaces the anchor key;
# a subscriber without akmaInd is not registered; an AAnF that is down does not fail the 5G AKA.
# Kedge keeps working alongside (edge and AKMA on at once).
# Usage: sh test-akma-register.sh BUILD_DIR
BUILD=${1:?usage: test-akma-register.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
pki_init
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null
"$BIN/kedge" pki issue "$T/pki" aanf2 >/dev/null

udm_conf
udm_add imsi-001010000000001 --rid 12 --akma
udm_add imsi-001010000000002 --rid 7 --akma
udm_add imsi-001010000000003 --rid 12
"$BIN/kedge-udmd" subscriber show --config "$T/udm.yaml" --supi imsi-001010000000001 | grep -q '^akma: true' &&
  ok "subscriber add --akma: shown as akma: true" || fail "subscriber show akma"
start_daemon UDM kedge-udmd "$T/udm.yaml"
# the UDM's answer carries akmaInd (TS 29.503 AuthenticationInfoResult) only for AKMA subscribers
GAD=security-information/generate-auth-data
REQ='{"servingNetworkName":"5G:mnc001.mcc001.3gppnetwork.org","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
for s in 1 3; do
  sbi_curl ausf -o "$T/b$s" -H 'content-type: application/json' -d "$REQ" \
    "https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/imsi-00101000000000$s/$GAD"
done
grep -q '"akmaInd":true' "$T/b1" && ! grep -q akmaInd "$T/b3" &&
  ok "UDM: akmaInd true for the AKMA subscriber, absent for the other" || fail "akmaInd: $(cat "$T/b1")"
schema_ok "AuthenticationInfoResult with akmaInd" response TS29503_Nudm_UEAU.yaml \
  '/{supiOrSuci}/security-information/generate-auth-data' POST 200 <"$T/b1"

aanf_conf() { # aanf_conf NAME
  cat >"$T/$1.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/$1.crt, key: $T/pki/$1.key, ca: $T/pki/ca.crt}}
aanf: {home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
anchorkey: {allowed_consumers: [ausf.kedge.test]}
applicationkey: {allowed_consumers: [{name: ecs.kedge.test}]}
EOC
}
aanf_conf aanf
aanf_conf aanf2
start_daemon AANF kedge-aanfd "$T/aanf.yaml"
start_daemon AANF2 kedge-aanfd "$T/aanf2.yaml"

cat >"$T/ausf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge: {enabled: true, home_network: {mcc: "001", mnc: "01"}}
keystore: "memory:"
keyrequest: {allowed_consumers: [{name: ecs.kedge.test}]}
akma:
  enabled: true
  aanf:
    - {routing_indicators: ["7"], uri: "https://127.0.0.1:$AANF2_PORT"}
    - {routing_indicators: ["*"], uri: "https://127.0.0.1:$AANF_PORT"}
EOC
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

ue_conf() { # ue_conf NAME SUPI RID
  cat >"$T/$1.yaml" <<EOC
usim:
  supi: $2
  k: $K
  opc: $OPC
  routing_indicator: "$3"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/$1.sqn
  akma: true
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key}
EOC
  chmod 600 "$T/$1.yaml" # K and OPc
}
jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
register() { "$BIN/kedge-ue" register --config "$T/$1.yaml" --json >"$T/$1.out" 2>"$T/$1.err"; }
appkey() { # appkey PORT AKID -> status; body in $T/r
  sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"afId":"ecs.kedge.test","aKId":"'"$2"'"}' \
    "https://127.0.0.1:$1/naanf-akma/v1/retrieve-applicationkey"
}
ue_conf u1 imsi-001010000000001 12
ue_conf u2 imsi-001010000000002 7
ue_conf u3 imsi-001010000000003 12

# --- registration after 5G AKA (TS 33.535 6.1 steps 1-5) ---
register u1 || fail "register u1: $(cat "$T/u1.err")"
A1=$(jget aKid "$T/u1.out")
case $A1 in 12.*@5gc.mnc001.mcc001.3gppnetwork.org) ok "the UE derived an A-KID with its RID and home realm" ;;
  *) fail "UE A-KID '$A1': $(cat "$T/u1.out")" ;; esac
[ -n "$(jget kedgeId "$T/u1.out")" ] && ok "Kedge ID alongside (edge and AKMA at once)" || fail "no Kedge ID"
code=$(appkey "$AANF_PORT" "$A1")
[ "$code" = 200 ] && [ -n "$(jget kaf "$T/r")" ] &&
  ok "the AUSF registered the UE's A-KID at the AAnF (K_AF served)" || fail "u1 at AAnF: $code $(cat "$T/r")"
grep -q "AKMA anchor key registered at .* supi_hash=$(supi_hash imsi-001010000000001)" "$T/AUSF.log" &&
  ok "the AUSF logs the registration" || fail "AUSF log"
KAF1=$(jget kaf "$T/r")

# --- the AAnF is picked by RID ---
register u2 || fail "register u2: $(cat "$T/u2.err")"
A2=$(jget aKid "$T/u2.out")
code=$(appkey "$AANF2_PORT" "$A2")
code1=$(appkey "$AANF_PORT" "$A2")
[ "$code" = 200 ] && [ "$code1" = 204 ] && ok "RID 7 goes to the second AAnF only" ||
  fail "RID routing: aanf2 $code aanf $code1"

# --- not AKMA: nothing registered ---
register u3 || fail "register u3: $(cat "$T/u3.err")"
A3=$(jget aKid "$T/u3.out")
code=$(appkey "$AANF_PORT" "$A3")
[ "$code" = 204 ] && ! grep -q "AKMA anchor key.* supi_hash=$(supi_hash imsi-001010000000003)" "$T/AUSF.log" &&
  ok "no anchor key for a subscriber without akmaInd" || fail "non-AKMA: $code"

# --- re-authentication replaces the anchor key ---
register u1 || fail "register u1 again: $(cat "$T/u1.err")"
A1B=$(jget aKid "$T/u1.out")
code_old=$(appkey "$AANF_PORT" "$A1")
code_new=$(appkey "$AANF_PORT" "$A1B")
[ "$A1B" != "$A1" ] && [ "$code_old" = 204 ] && [ "$code_new" = 200 ] && [ "$(jget kaf "$T/r")" != "$KAF1" ] &&
  ok "re-authentication: new A-KID served, the old one gone (204)" ||
  fail "replacement: old $code_old new $code_new"

# --- the UE agent derives the same K_AF as the AAnF (TS 33.535 6.2: UE and AF share K_AF) ---
mkdir -m 0750 "$T/run"
ue_conf ag imsi-001010000000002 7
printf 'agent: {socket: %s}\nlog: {level: info}\n' "$T/run/agent.sock" >>"$T/ag.yaml"
cp "$T/u2.sqn" "$T/ag.sqn"
"$BIN/kedge-ue" agent --config "$T/ag.yaml" 2>"$T/agent.log" &
PIDS="$PIDS $!"
wait_for 10 grep -q 'serving keys' "$T/agent.log" || fail "agent did not serve: $(cat "$T/agent.log")"
"$BIN/kedge-eec" keys --agent "$T/run/agent.sock" --reveal --profile akma --ecs-id ECS.kedge.test. \
  >"$T/ak" 2>"$T/ak.err"
AG_AKID=$(jget aKid "$T/ak") AG_KAF=$(jget kaf "$T/ak")
code=$(appkey "$AANF2_PORT" "$AG_AKID")
[ "$code" = 200 ] && [ -n "$AG_KAF" ] && [ "$(jget kaf "$T/r")" = "$AG_KAF" ] &&
  ok "agent's K_AF for ecs.kedge.test equals the AAnF's for the agent's A-KID" ||
  fail "agent K_AF: $code $(cat "$T/ak" "$T/ak.err") / $(cat "$T/r")"
"$BIN/kedge-eec" keys --agent "$T/run/agent.sock" --reveal --profile akma --ecs-id other.kedge.test >"$T/ak2" 2>/dev/null
[ "$(jget aKid "$T/ak2")" = "$AG_AKID" ] && [ "$(jget kaf "$T/ak2")" != "$AG_KAF" ] &&
  ok "another ECS FQDN gets another K_AF under the same A-KID" || fail "other FQDN: $(cat "$T/ak2")"
"$BIN/kedge-eec" keys --agent "$T/run/agent.sock" --reveal --profile akma >/dev/null 2>"$T/ak3"
[ $? -eq 2 ] && ok "keys --profile akma without --ecs-id: usage error" || fail "no ecs-id: $(cat "$T/ak3")"

# --- deregistration removes the AKMA context (SPEC.md 7, 9; TS 29.535 remove-context) ---
code=$(appkey "$AANF2_PORT" "$AG_AKID")
[ "$code" = 200 ] || fail "before deregistration: $code"
code=$(sbi_curl seaf -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supi":"imsi-001010000000002"}' "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/ue-authentications/deregister")
code2=$(appkey "$AANF2_PORT" "$AG_AKID")
[ "$code" = 204 ] && [ "$code2" = 204 ] && grep -q "AKMA context removed at https://127.0.0.1:$AANF2_PORT (deregistration) supi_hash=$(supi_hash imsi-001010000000002)" "$T/AUSF.log" &&
  ok "deregistration: the AUSF removed the AKMA context at the AAnF (the A-KID is unknown now)" ||
  fail "deregister: $code / $code2 $(grep 'AKMA context' "$T/AUSF.log")"
code=$(appkey "$AANF_PORT" "$A1B")
[ "$code" = 200 ] && ok "another subscriber's context stays" || fail "other context: $code"

# --- the AAnF down: the 5G AKA still succeeds, the failure is counted ---
stop_daemon AANF
register u1 && [ "$(jget authResult "$T/u1.out")" = AUTHENTICATION_SUCCESS ] &&
  ok "AAnF down: 5G AKA still succeeds" || fail "AAnF down: $(cat "$T/u1.out" "$T/u1.err")"
curl -s "http://127.0.0.1:$AUSF_METRICS_PORT/metrics" >"$T/m"
grep -q 'kedge_ausf_akma_anchor_keys_total{result="failed"} 1' "$T/m" &&
  grep -q 'kedge_ausf_akma_anchor_keys_total{result="registered"} 4' "$T/m" &&
  ok "metrics: 4 registered, 1 failed" || fail "metrics: $(grep akma "$T/m")"

# --- keys stay out of logs ---
for f in AUSF AANF AANF2 UDM agent; do
  grep -qiE '"kAkma"|[0-9a-f]{64}' "$T/$f.log" && fail "$f log holds a key-sized hex string"
done
ok "no key-sized hex in the daemons' logs"

# --- configuration errors ---
printf 'udm: {uri: "https://x", ca: %s}\nue_authentication: {allowed_consumers: [{name: s, serving_networks: ["*"]}]}\nakma: {enabled: true}\nedge: {home_network: {mcc: "001", mnc: "01"}}\n' "$T/pki/ca.crt" >"$T/bad.yaml"
out=$("$BIN/kedge-ausfd" --check-config --config "$T/bad.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "akma.aanf" && ok "akma without aanf: refused, key named" ||
  fail "bad akma: $out"
printf 'udm: {uri: "https://x", ca: %s}\nue_authentication: {allowed_consumers: [{name: s, serving_networks: ["*"]}]}\nakma: {enabled: true, aanf: [{routing_indicators: ["12345"], uri: "http://x"}]}\nedge: {home_network: {mcc: "001", mnc: "01"}}\n' "$T/pki/ca.crt" >"$T/bad2.yaml"
out=$("$BIN/kedge-ausfd" --check-config --config "$T/bad2.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "routing_indicators" && ok "bad RID in akma.aanf refused" ||
  fail "bad rid: $out"
finish
