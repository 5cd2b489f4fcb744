#!/bin/sh
# SUCI end to end (SPEC.md 8): `kedge suci keygen` makes a Profile A and a Profile B key pair
# (sealed under the UDM's master key); real kedge-udmd holds both at once (hnPubKeyId 1 and 2);
# kedge-ue registers through real kedge-ausfd with a SUCI of each profile (an IMSI and a NAI
# SUPI); a SUCI made by `kedge derive suci` goes to the UDM and the AUSF with curl; a tampered
# MAC, an unknown key id and a key id of the other profile get the identical 403
# INVALID_SCHEME_OUTPUT answer; scheme 3 gets 403 UNSUPPORTED_PROTECTION_SCHEME; a key file
# under the wrong profile stops the UDM at start with one line naming it.
# Usage: sh test-suci.sh BUILD_DIR
BUILD=${1:?usage: test-suci.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
IMSI=imsi-001010000000001
NAI=nai-alice@example.org
SNN=5G:mnc001.mcc001.3gppnetwork.org
GAD=security-information/generate-auth-data
REQ='{"servingNetworkName":"'$SNN'","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
jget() { sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\)\"\\{0,1\\}[,}].*/\\1/p" "$2"; }

pki_init
udm_conf # makes $T/udm.key, which seals the home network keys too

# --- keygen ---
PUB_A=$("$BIN/kedge" suci keygen --profile A --master-key "$T/udm.key" --out "$T/hn-a.key")
PUB_B=$("$BIN/kedge" suci keygen --profile B --master-key "$T/udm.key" --out "$T/hn-b.key")
PUB_X=$("$BIN/kedge" suci keygen --profile A --master-key "$T/udm.key" --out "$T/hn-x.key")
echo "$PUB_A" | grep -q '^[0-9a-f]\{64\}$' && echo "$PUB_B" | grep -q '^0[23][0-9a-f]\{64\}$' &&
  ok "keygen: A 32 octets, B 33 compressed" || fail "keygen: A $PUB_A B $PUB_B"
[ "$(stat -c %a "$T/hn-a.key")" = 600 ] && grep -q '^kedge-suci-key B [0-9a-f]*$' "$T/hn-b.key" &&
  ok "keygen: sealed private key file, mode 0600" || fail "key file: $(stat -c %a "$T/hn-a.key") $(cat "$T/hn-b.key")"

udm_yaml() { # udm_yaml FILE KEY2_FILE: udm_conf's UDM with two home network keys
  udm_conf "$1"
  cat >>"$1" <<EOC
  suci:
    keys:
      - {id: 1, profile: A, private_key: $T/hn-a.key}
      - {id: 2, profile: B, private_key: $2}
log: {level: info}
EOC
}
udm_yaml "$T/udm-bad.yaml" "$T/hn-x.key"
out=$("$BIN/kedge-udmd" --config "$T/udm-bad.yaml" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "hn-x.key: holds a profile A key, but udm.suci.keys says B" &&
  ok "UDM refuses a key file of the other profile" || fail "profile mismatch: $out"

udm_yaml "$T/udm.yaml" "$T/hn-b.key"
for s in $IMSI $NAI; do
  udm_add $s || { echo "subscriber add failed"; exit 1; }
done
start_daemon UDM kedge-udmd "$T/udm.yaml"
grep -q "hnPubKeyId 2, profile B, public key $PUB_B" "$T/UDM.log" && ok "UDM logs both public keys" ||
  fail "UDM log: $(cat "$T/UDM.log")"
cat >"$T/ausf.yaml" <<EOF
log: {level: info}
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
udm:
  uri: https://127.0.0.1:$UDM_PORT
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
EOF
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
UDM=https://127.0.0.1:$UDM_PORT
AUSF=https://127.0.0.1:$AUSF_PORT
suci_ok() { curl -s "http://127.0.0.1:$UDM_METRICS_PORT/metrics" | sed -n 's/^kedge_udm_suci_total{result="ok"} //p'; }

# --- kedge-ue with a SUCI of each profile ---
ue_yaml() { # ue_yaml NAME SUPI SCHEME ID PUB
  cat >"$T/$1.yaml" <<EOF
usim:
  supi: $2
  k: $K
  opc: $OPC
  routing_indicator: "37"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/$1.sqn
  suci:
    protection_scheme: $3
    home_network_public_key_id: $4
    home_network_public_key: $5
ausf:
  uri: $AUSF
  ca: $T/pki/ca.crt
  cert: $T/pki/seaf.crt
  key: $T/pki/seaf.key
EOF
  chmod 600 "$T/$1.yaml" # K and OPc: kedge-ue refuses a file others may read
}
register() { "$BIN/kedge-ue" register --config "$T/$1.yaml" --json >"$T/$1.out" 2>"$T/$1.err"; RC=$?; }
ue_yaml ue-a $IMSI A 1 "$PUB_A"
ue_yaml ue-b $NAI B 2 "$PUB_B"
for ue in ue-a ue-b ue-a; do
  before=$(suci_ok)
  register $ue
  [ $RC -eq 0 ] && [ "$(jget authResult "$T/$ue.out")" = AUTHENTICATION_SUCCESS ] &&
    [ "$(suci_ok)" = $((before + 1)) ] &&
    ok "$ue: registered with a SUCI through the AUSF ($(jget supi "$T/$ue.out"))" ||
    fail "$ue (rc $RC): $(cat "$T/$ue.out" "$T/$ue.err")"
done
# a key the UDM does not hold: refused with the cause of a MAC failure
ue_yaml ue-x $IMSI A 9 "$PUB_X"
register ue-x
[ $RC -ne 0 ] && grep -q INVALID_SCHEME_OUTPUT "$T/ue-x.out" && ok "UE with an unknown key id: INVALID_SCHEME_OUTPUT" ||
  fail "unknown key at the UE (rc $RC): $(cat "$T/ue-x.out" "$T/ue-x.err")"

# --- a SUCI from kedge derive suci, with curl ---
for p in A B; do
  if [ $p = A ]; then pub=$PUB_A id=1; else pub=$PUB_B id=2; fi
  SUCI=$("$BIN/kedge" derive suci --supi $IMSI --profile $p --mcc 001 --mnc 01 --rid 5 \
    --hn-public "$pub" --hn-key-id $id | sed -n 's/.*"suci":"\([^"]*\)".*/\1/p')
  code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
    "$UDM/nudm-ueau/v1/$SUCI/$GAD")
  [ "$code" = 200 ] && grep -q "\"supi\":\"$IMSI\"" "$T/b" && ok "UDM: profile $p SUCI from kedge derive suci" ||
    fail "UDM profile $p: $code $(cat "$T/b") ($SUCI)"
  eval "SUCI_$p=\$SUCI"
done
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supiOrSuci":"'"$SUCI_B"'","servingNetworkName":"'$SNN'"}' "$AUSF/nausf-auth/v1/ue-authentications")
[ "$code" = 201 ] && grep -q '"5gAuthData"' "$T/b" && ok "AUSF: POST with a profile B SUCI" ||
  fail "AUSF SUCI: $code $(cat "$T/b")"
NAI_SUCI=$("$BIN/kedge" derive suci --supi $NAI --profile A --hn-public "$PUB_A" --hn-key-id 1 |
  sed -n 's/.*"nai":"\([^"]*\)".*/\1/p')
code=$(sbi_curl ausf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' -d "$REQ" \
  "$UDM/nudm-ueau/v1/$NAI_SUCI/$GAD")
[ "$code" = 200 ] && grep -q "\"supi\":\"$NAI\"" "$T/b" && ok "UDM: a SUCI in NAI form (TS 23.003 2.2B)" ||
  fail "UDM NAI form: $code $(cat "$T/b") ($NAI_SUCI)"

# --- failures: one answer for a tampered MAC, an unknown key id, the other profile's id ---
prefix=${SUCI_B%-*}
output=${SUCI_B##*-}
last=$(printf '%s' "$output" | tail -c 1)
if [ "$last" = 0 ]; then flip=1; else flip=0; fi
tampered=$(printf '%s' "$output" | sed 's/.$//')$flip
try() { # try NAME SUCI -> $T/NAME.h (status and type), $T/NAME.b (body)
  sbi_curl ausf -o "$T/$1.b" -w '%{http_code} %{content_type}' -H 'content-type: application/json' \
    -d "$REQ" "$UDM/nudm-ueau/v1/$2/$GAD" >"$T/$1.h"
}
try mac "$prefix-$tampered"
try keyid "$(echo "$SUCI_B" | sed 's/^\(suci-0-001-01-5-2\)-2-/\1-77-/')"
try other "$(echo "$SUCI_B" | sed 's/^\(suci-0-001-01-5-2\)-2-/\1-1-/')"
try short "$prefix-$(printf '%s' "$output" | cut -c 1-40)"
[ "$(cat "$T/mac.h")" = "403 application/problem+json" ] && grep -q '"cause":"INVALID_SCHEME_OUTPUT"' "$T/mac.b" &&
  ok "tampered MAC: 403 INVALID_SCHEME_OUTPUT" || fail "tampered MAC: $(cat "$T/mac.h" "$T/mac.b")"
for t in keyid other short; do
  cmp -s "$T/mac.h" "$T/$t.h" && cmp -s "$T/mac.b" "$T/$t.b" && ok "$t: the identical answer" ||
    fail "$t differs: $(cat "$T/$t.h" "$T/$t.b") vs $(cat "$T/mac.b")"
done
try scheme3 "suci-0-001-01-5-3-1-$output"
[ "$(cat "$T/scheme3.h")" = "403 application/problem+json" ] &&
  grep -q '"cause":"UNSUPPORTED_PROTECTION_SCHEME"' "$T/scheme3.b" && ok "scheme 3: 403 UNSUPPORTED_PROTECTION_SCHEME" ||
  fail "scheme 3: $(cat "$T/scheme3.h" "$T/scheme3.b")"
try odd "$prefix-${output}a"
cmp -s "$T/mac.h" "$T/odd.h" && cmp -s "$T/mac.b" "$T/odd.b" && ok "malformed (odd) scheme output: the identical answer" ||
  fail "odd hex: $(cat "$T/odd.h" "$T/odd.b")"
try rid "suci-0-001-01-12345-2-2-$output"
[ "$(cat "$T/rid.h")" = "400 application/problem+json" ] && grep -q '"cause":"MANDATORY_IE_INCORRECT"' "$T/rid.b" &&
  ok "malformed SUCI (RID of 5 digits): 400 MANDATORY_IE_INCORRECT" || fail "bad RID: $(cat "$T/rid.h" "$T/rid.b")"
code=$(sbi_curl seaf -o "$T/b" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"supiOrSuci":"'"$prefix-$tampered"'","servingNetworkName":"'$SNN'"}' "$AUSF/nausf-auth/v1/ue-authentications")
[ "$code" = 403 ] && grep -q '"cause":"INVALID_SCHEME_OUTPUT"' "$T/b" && ok "AUSF relays 403 INVALID_SCHEME_OUTPUT" ||
  fail "AUSF tampered: $code $(cat "$T/b")"
kill -0 "$UDM_PID" && kill -0 "$AUSF_PID" && ok "both daemons still serve" || fail "a daemon died"
if grep -qi "$(printf '%s' "$output" | cut -c 3-22)" "$T/UDM.log"; then fail "the UDM logged a scheme output"
else ok "no scheme output in the UDM's log"; fi
finish
