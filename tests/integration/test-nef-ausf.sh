#!/bin/sh
# The NEF with the real network: kedge-udmd, kedge-ausfd (edge keys on, SQLite key store) and
# kedge-ue register; AFs are curl with certificates from `kedge pki`. Checks steps 5.1-6.2 of
# SPEC.md 0: the NEF relays the key the UE derived (same as the AUSF's direct answer to an
# in-domain ECS), both audit trails (the AUSF sees the NEF, the NEF the AF), the AF cannot go
# around the NEF, profile bound with two AF identities (each gets its own K_ECS, matching the
# derivation from the UE's Kedge; neither gets the other's or the raw Kedge), a replaced key
# (old ID -> 404), unknown IDs, the first AUSF URI down, the AUSF too slow, the AUSF down ->
# 503 + Retry-After and back -> 200 without restarting the NEF.
# Usage: sh test-nef-ausf.sh BUILD_DIR
set -u
BUILD=${1:?usage: test-nef-ausf.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
pki_init
"$BIN/kedge" pki issue "$T/pki" edge1.example.com >/dev/null
"$BIN/kedge" pki issue "$T/pki" edge2.example.com >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null

udm_conf
udm_add imsi-001010000000001 --rid 12 || { echo "subscriber add failed"; exit 1; }
start_daemon UDM kedge-udmd "$T/udm.yaml"

ausf_conf() { # FILE PORT [TESTING LINES]
  cat >"$1" <<EOF
sbi: {port: $2, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  key_lifetime: 1h
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: nef.kedge.test, profiles: [kedge, bound]}
  relays: [nef.kedge.test]
EOF
  shift 2
  for line in "$@"; do echo "$line" >>"$1"; done
}
ausf_conf "$T/ausf.yaml" 0
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
# a second AUSF of another group that answers slowly (the AUSF's testing knob)
ausf_conf "$T/ausf-slow.yaml" 0
sed -i "s#ausf-keys.sqlite#ausf-slow.sqlite#" "$T/ausf-slow.yaml"
printf 'testing: {enabled: true, keyrequest_delay: 2s}\n' >>"$T/ausf-slow.yaml"
start_daemon SLOW kedge-ausfd "$T/ausf-slow.yaml"

cat >"$T/ue.yaml" <<EOF
usim:
  supi: imsi-001010000000001
  k: $K
  opc: $OPC
  routing_indicator: "12"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/ue.sqn
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key}
EOF
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read

cat >"$T/nef.yaml" <<EOF
sbi:
  port: 0
  tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
afs:
  - {af_id: af.kedge.test, profiles: [kedge], home_networks: [{mcc: "001", mnc: "01"}]}
  - {af_id: edge1.example.com, profiles: [bound], home_networks: [{mcc: "001", mnc: "01"}]}
  - {af_id: edge2.example.com, profiles: [bound], home_networks: [{mcc: "001", mnc: "01"}]}
ausf:
  timeout: 500ms
  retry_after: 3s
  groups:
    - {name: home-rid12, mcc: "001", mnc: "01", rids: ["12"],
       uris: ["https://127.0.0.1:1", "https://127.0.0.1:$AUSF_PORT"]}
    - {name: home-slow, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$SLOW_PORT"]}
EOF
start_daemon NEF kedge-nefd "$T/nef.yaml"
URL=https://127.0.0.1:$NEF_PORT/3gpp-kedge/v1/retrieve

member() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }
fp() { printf '%s' "$1" | tr a-f A-F | basenc --base16 -d | sha256sum | cut -c1-8; }
# nef CLIENT BODY -> body, then "HTTP <status>"; headers in $T/h
nef() {
  sbi_curl "$1" -D "$T/h" -w '\nHTTP %{http_code}' -H 'content-type: application/json' -d "$2" "$URL"
}
status_of() { tail -n 1 | sed 's/^HTTP //'; }
expect() { # DESCRIPTION STATUS CAUSE OUTPUT
  if [ "$(echo "$4" | status_of)" = "$2" ] && { [ "$3" = - ] || echo "$4" | grep -q "\"cause\":\"$3\""; }
  then ok "$1"; else fail "$1: wanted $2 $3, got $(echo "$4" | tr '\n' ' ')"; fi
}

# ---- the UE registers: the AUSF derives and keeps Kedge (steps 0-2) ----
"$BIN/kedge-ue" register --config "$T/ue.yaml" --json >"$T/ue.out" 2>"$T/ue.err" \
  || { echo "kedge-ue register failed: $(cat "$T/ue.err")"; exit 1; }
ID=$(member kedgeId <"$T/ue.out")
UE_FP=$(member kedgeFingerprint <"$T/ue.out")
case $ID in 12.*@5gc.mnc001.mcc001.3gppnetwork.org) ok "UE registered, Kedge ID $ID" ;;
  *) fail "Kedge ID: $(cat "$T/ue.out")" ;; esac

# ---- steps 5.1-6.2 ----
out=$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$ID\"}")
KEDGE=$(echo "$out" | member kedge)
direct=$(sbi_curl ecs -H 'content-type: application/json' -d "{\"kedgeId\":\"$ID\"}" \
  "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve" | member kedge)
expect "via the NEF: 200" 200 - "$out"
[ -n "$KEDGE" ] && [ "$KEDGE" = "$direct" ] && [ "$(fp "$KEDGE")" = "$UE_FP" ] \
  && ok "the relayed Kedge is the AUSF's and the UE's" || fail "keys: nef $KEDGE, ausf $direct, ue $UE_FP"
grep -q "keyrequest: profile kedge: key returned peer=nef.kedge.test kedge_id=$ID status=200" "$T/AUSF.log" \
  && ok "the AUSF's audit shows the NEF as consumer" || fail "AUSF log: $(grep keyrequest "$T/AUSF.log")"
grep -q "audit: afId=af.kedge.test profile=kedge ausf_group=home-rid12 outcome=success .*peer=af.kedge.test kedge_id=$ID" "$T/NEF.log" \
  && ok "the NEF's audit shows the AF" || fail "NEF log: $(grep audit "$T/NEF.log")"
grep -q 'key source https://127.0.0.1:1 (group home-rid12): not reachable' "$T/NEF.log" \
  && ok "first URI of the group down: the second answered" || fail "no failover"

# ---- the AF cannot go around the NEF ----
code=$(sbi_curl af -o "$T/d" -w '%{http_code}' -H 'content-type: application/json' \
  -d "{\"kedgeId\":\"$ID\"}" "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve")
[ "$code" = 403 ] && grep -q CONSUMER_NOT_AUTHORIZED "$T/d" \
  && ok "the AF's certificate at the AUSF directly: 403" || fail "AF at AUSF: $code $(cat "$T/d")"

# ---- profile bound with two AF identities ----
want1=$("$BIN/kedge" derive k-ecs --kedge "$KEDGE" --ecs-id edge1.example.com | member kEcs)
want2=$("$BIN/kedge" derive k-ecs --kedge "$KEDGE" --ecs-id edge2.example.com | member kEcs)
k1=$(nef edge1.example.com "{\"afId\":\"edge1.example.com\",\"kedgeId\":\"$ID\",\"ecsId\":\"edge1.example.com\"}" | member kedge)
k2=$(nef edge2.example.com "{\"afId\":\"edge2.example.com\",\"kedgeId\":\"$ID\",\"ecsId\":\"edge2.example.com\"}" | member kedge)
[ -n "$k1" ] && [ "$k1" = "$want1" ] && [ "$k2" = "$want2" ] && [ "$k1" != "$k2" ] \
  && [ "$k1" != "$KEDGE" ] && ok "bound: each AF gets its own K_ECS, as derived from the UE's Kedge" \
  || fail "bound: $k1 / $k2 (want $want1 / $want2)"
grep -q "keyrequest: profile bound: key returned peer=nef.kedge.test kedge_id=$ID status=200" "$T/AUSF.log" \
  && ok "bound: the AUSF derived K_ECS for the NEF (relay)" || fail "AUSF bound log"
expect "edge1 cannot get edge2's K_ECS" 403 PROFILE_NOT_ALLOWED \
  "$(nef edge1.example.com "{\"afId\":\"edge1.example.com\",\"kedgeId\":\"$ID\",\"ecsId\":\"edge2.example.com\"}")"
expect "edge1 cannot pose as edge2" 403 AF_ID_MISMATCH \
  "$(nef edge1.example.com "{\"afId\":\"edge2.example.com\",\"kedgeId\":\"$ID\",\"ecsId\":\"edge2.example.com\"}")"
expect "edge2 cannot get the raw Kedge" 403 PROFILE_NOT_ALLOWED \
  "$(nef edge2.example.com "{\"afId\":\"edge2.example.com\",\"kedgeId\":\"$ID\"}")"

# ---- not found: unknown, and replaced by a new registration ----
UNKNOWN=$("$BIN/kedge" derive kedge --kausf 4444444444444444444444444444444444444444444444444444444444444444 \
  --supi imsi-001010000000001 --mcc 001 --mnc 01 --rid 12 | member kedgeId)
expect "unknown Kedge ID: 404 from the AUSF" 404 KEDGE_ID_NOT_FOUND \
  "$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$UNKNOWN\"}")"
"$BIN/kedge-ue" register --config "$T/ue.yaml" --json >"$T/ue2.out" 2>"$T/ue.err" \
  || fail "second registration: $(cat "$T/ue.err")"
ID2=$(member kedgeId <"$T/ue2.out")
expect "the replaced Kedge ID: 404" 404 KEDGE_ID_NOT_FOUND \
  "$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$ID\"}")"
out=$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$ID2\"}")
[ "$(fp "$(echo "$out" | member kedge)")" = "$(member kedgeFingerprint <"$T/ue2.out")" ] \
  && ok "the new Kedge ID: the new key" || fail "new key: $out"

# ---- an AUSF too slow ----
SLOW_ID=$("$BIN/kedge" derive kedge --kausf 5555555555555555555555555555555555555555555555555555555555555555 \
  --supi imsi-001010000000001 --mcc 001 --mnc 01 --rid 7 | member kedgeId)
out=$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$SLOW_ID\"}")
expect "AUSF slower than ausf.timeout: 503" 503 TIMED_OUT_REQUEST "$out"
grep -qi '^retry-after: 3' "$T/h" && ok "with Retry-After" || fail "RA: $(cat "$T/h")"

# ---- the AUSF down, then back; the NEF is not restarted ----
stop_daemon AUSF
out=$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$ID2\"}")
expect "AUSF down: 503" 503 TARGET_NF_NOT_REACHABLE "$out"
grep -qi '^retry-after: 3' "$T/h" && ok "AUSF down: Retry-After" || fail "RA: $(cat "$T/h")"
ausf_conf "$T/ausf-again.yaml" "$AUSF_PORT"
start_daemon AUSF kedge-ausfd "$T/ausf-again.yaml"
out=$(nef af "{\"afId\":\"af.kedge.test\",\"kedgeId\":\"$ID2\"}")
[ "$(fp "$(echo "$out" | member kedge)")" = "$(member kedgeFingerprint <"$T/ue2.out")" ] \
  && ok "AUSF back (key from its SQLite store): 200, NEF not restarted" || fail "after restart: $out"

if grep -q -e "$KEDGE" -e "$k1" -e "$k2" "$T/NEF.log"; then fail "a key in the NEF's log"; else
  ok "no key in the NEF's log"; fi
stop_daemon NEF && ok "NEF: clean exit" || fail "NEF exit status"
finish
