#!/bin/sh
# kedge-ue register end to end: kedge-udmd and kedge-ausfd as real processes on loopback
# (certificates from `kedge pki init`, master key from `kedge master-key`, subscribers from
# `kedge-udmd subscriber add`), the UE as the SEAF (seaf.kedge.test). Checks: happy path for an
# IMSI and a NAI SUPI (Kedge ID grammar, RID and home realm, SQN stored, a fresh Kedge ID per
# run); the KAUSF fingerprint of the UE equals the AUSF's when the AUSF logs one; roaming (the
# realm stays the home network's); SQN resynchronisation (UE ahead of the UDM); MAC failure
# (wrong K; SQN file untouched); --corrupt-res -> AUTHENTICATION_FAILURE; unknown SUPI -> 404
# USER_NOT_FOUND; a consumer or serving network the AUSF does not allow -> 403; no AUSF;
# configuration and SQN file errors -> exit 2; --help, --version, --check-config; the UE's
# AuthenticationInfo and ConfirmationData, recorded by kedge-udm-recorder between the UE and the
# AUSF, against 3GPP's schema (schema_ok).
# Usage: sh test-ue-register.sh BUILD_DIR
BUILD=${1:?usage: test-ue-register.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
IMSI=imsi-001010000000001
NAI=nai-alice@example.org
SNN_HOME=5G:mnc001.mcc001.3gppnetwork.org
SNN_VISITED=5G:mnc093.mcc208.3gppnetwork.org

# jget MEMBER FILE: a string, number or boolean member of the UE's one-line JSON.
jget() {
  sed -n "s/.*\"$1\":\"\\{0,1\\}\\([^\",}]*\\)\"\\{0,1\\}[,}].*/\\1/p" "$2"
}

pki_init

udm_conf
echo "log: {level: info}" >>"$T/udm.yaml"
udm_add $IMSI || { echo "subscriber add failed"; exit 1; }
udm_add $NAI --rid 12 || { echo "subscriber add failed"; exit 1; }
start_daemon UDM kedge-udmd "$T/udm.yaml"

cat >"$T/ausf.yaml" <<EOF
log: {level: info}
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
udm:
  uri: https://127.0.0.1:$UDM_PORT
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN_HOME", "$SNN_VISITED"]
EOF
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

# ue_yaml NAME SUPI [K] [RID] [SERVING_MCC SERVING_MNC] [CLIENT]: writes $T/NAME.yaml.
ue_yaml() {
  name=$1 supi=$2 k=${3:-$K} rid=${4:-0} smcc=${5:-001} smnc=${6:-01} client=${7:-seaf}
  cat >"$T/$name.yaml" <<EOF
usim:
  supi: $supi
  k: $k
  opc: $OPC
  routing_indicator: "$rid"
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/$name.sqn
serving_network: {mcc: "$smcc", mnc: "$smnc"}
ausf:
  uri: https://127.0.0.1:$AUSF_PORT
  ca: $T/pki/ca.crt
  cert: $T/pki/$client.crt
  key: $T/pki/$client.key
  timeout: 5s
EOF
  chmod 600 "$T/$name.yaml" # K and OPc: kedge-ue refuses a file others may read
}

# register NAME [ARGS...]: runs kedge-ue register --json; $T/NAME.out, $T/NAME.err, $RC.
register() {
  n=$1
  shift
  "$BIN/kedge-ue" register --config "$T/$n.yaml" --json "$@" >"$T/$n.out" 2>"$T/$n.err"
  RC=$?
}

KEDGE_ID_RE='^[0-9]\{1,4\}\.[A-Za-z0-9_-]\{43\}@5gc\.mnc001\.mcc001\.3gppnetwork\.org$'

# --- command line and configuration ---
"$BIN/kedge-ue" --help | grep -q 'kedge-ue register' && ok "--help" || fail "--help"
"$BIN/kedge-ue" --version | grep -q '^kedge-ue (kedge) ' && ok "--version" || fail "--version"
"$BIN/kedge-ue" register --frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && ok "unknown option: exit 2" || fail "unknown option: exit status"
ue_yaml imsi $IMSI
out=$("$BIN/kedge-ue" register --check-config --config "$T/imsi.yaml" 2>&1)
[ $? -eq 0 ] && echo "$out" | grep -q 'configuration OK' && ok "--check-config" \
  || fail "--check-config: $out"
sed 's/^  timeout: 5s$/  timeout: 5s\n  retries: 3/' "$T/imsi.yaml" >"$T/bad.yaml"
chmod 600 "$T/bad.yaml"
out=$("$BIN/kedge-ue" register --config "$T/bad.yaml" 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "bad.yaml:15: ausf.retries: unknown key" \
  && ok "unknown key: exit 2 with FILE:LINE: key" || fail "unknown key: $out"
rm -f "$T/bad.yaml"
sed "s/^  k: .*/  k: 12345/" "$T/imsi.yaml" >"$T/bad.yaml" # a new file: mode 0644 (umask 022)
chmod 644 "$T/bad.yaml"
out=$("$BIN/kedge-ue" register --config "$T/bad.yaml" 2>&1)
[ $? -eq 2 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
  echo "$out" | grep -q "bad.yaml: K and OPc (usim:) is readable by group or others (mode 644): chmod 600" &&
  ok "a ue.yaml others may read is refused, one line (issue 12)" || fail "0644 ue.yaml: $out"
chmod 600 "$T/bad.yaml"
out=$("$BIN/kedge-ue" register --config "$T/bad.yaml" 2>&1)
[ $? -eq 2 ] && echo "$out" | grep -q "bad.yaml:3: usim.k: must be 32 hex digits" \
  && ! echo "$out" | grep -q 12345 && ok "bad K: exit 2, value not echoed" || fail "bad K: $out"

# --- happy path, IMSI ---
register imsi
fp=$(jget kausfFingerprint "$T/imsi.out")
id1=$(jget kedgeId "$T/imsi.out")
if [ $RC -eq 0 ] && [ "$(jget authResult "$T/imsi.out")" = AUTHENTICATION_SUCCESS ] \
   && [ "$(jget supi "$T/imsi.out")" = $IMSI ] && [ "$(jget sqn "$T/imsi.out")" = 000000000001 ] \
   && [ "$(jget resynchronised "$T/imsi.out")" = false ] \
   && echo "$fp" | grep -q '^[0-9a-f]\{8\}$' \
   && jget kedgeFingerprint "$T/imsi.out" | grep -q '^[0-9a-f]\{8\}$' \
   && echo "$id1" | grep -q "$KEDGE_ID_RE" && echo "$id1" | grep -q '^0\.'; then
  ok "IMSI: registered, SQN 1, Kedge ID $id1"
else
  fail "IMSI happy path (rc $RC): $(cat "$T/imsi.out" "$T/imsi.err")"
fi
"$BIN/kedge" derive parse-id "$id1" >/dev/null 2>&1 && ok "Kedge ID passes the strict parser" \
  || fail "kedge derive parse-id $id1"
[ "$(cat "$T/imsi.sqn")" = 000000000001 ] && ok "SQN file holds 000000000001" \
  || fail "SQN file: $(cat "$T/imsi.sqn")"
grep -q '"kausf"\|"kedge"\|"kseaf"\|"resStar"' "$T/imsi.out" && fail "a key in the JSON output" \
  || ok "no key in the JSON output"
# KAUSF on both sides (compare hashes, not keys): the AUSF's log line for this SUPI (its
# supi_hash field: the first 16 hex digits of SHA-256 of the SUPI).
grep "supi_hash=$(printf %s "$IMSI" | sha256sum | cut -c1-16)" "$T/AUSF.log" | grep -qi "kausf sha256:$fp" \
  && ok "KAUSF fingerprint $fp in the AUSF's log too" \
  || fail "KAUSF fingerprint $fp not in the AUSF's log: $(grep -i kausf "$T/AUSF.log")"

# a second run: SQN 2, a new Kedge ID (fresh TID per primary authentication)
register imsi
id2=$(jget kedgeId "$T/imsi.out")
[ $RC -eq 0 ] && [ "$(jget sqn "$T/imsi.out")" = 000000000002 ] && [ -n "$id2" ] \
  && [ "$id2" != "$id1" ] && ok "second run: SQN 2, new Kedge ID" \
  || fail "second run (rc $RC): $(cat "$T/imsi.out" "$T/imsi.err")"

# the text step log: steps 0 and 1, fingerprints, no keys
"$BIN/kedge-ue" register --config "$T/imsi.yaml" >"$T/steps.out" 2>"$T/steps.err"
RC=$?
[ $RC -eq 0 ] && grep -q '^step 0 .*POST ue-authentications: 201' "$T/steps.out" \
  && grep -q '^step 0 .*PUT 5g-aka-confirmation: 200 AUTHENTICATION_SUCCESS' "$T/steps.out" \
  && grep -q '^step 1 .*Kedge ID ' "$T/steps.out" && grep -q '^registered in ' "$T/steps.out" \
  && ok "step log" || fail "step log (rc $RC): $(cat "$T/steps.out" "$T/steps.err")"

# --- what the UE sends (its ConfirmationData is written out, not built with jansson), against
# 3GPP's schema: kedge-udm-recorder between the UE and the AUSF records both requests ---
cat >"$T/rec.yaml" <<EOF
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
EOF
export KEDGE_RECORDER_UPSTREAM=https://127.0.0.1:$AUSF_PORT KEDGE_RECORDER_FILE=$T/rec.jsonl \
  KEDGE_RECORDER_CA=$T/pki/ca.crt KEDGE_RECORDER_CERT=$T/pki/seaf.crt KEDGE_RECORDER_KEY=$T/pki/seaf.key
start_daemon REC kedge-udm-recorder "$T/rec.yaml"
sed "s|https://127.0.0.1:$AUSF_PORT|https://127.0.0.1:$REC_PORT|" "$T/imsi.yaml" >"$T/rec-ue.yaml"
chmod 600 "$T/rec-ue.yaml"
register rec-ue
# rec_body N: the body of the Nth recorded request; rec_path N: its method and path
rec_body() { sed -n "${1}p" "$T/rec.jsonl" | /usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["body"]))'; }
rec_path() { sed -n "${1}p" "$T/rec.jsonl" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["method"], r["path"])'; }
AUTH=TS29509_Nausf_UEAuthentication.yaml
[ $RC -eq 0 ] && [ "$(wc -l <"$T/rec.jsonl")" -eq 2 ] && rec_path 2 | grep -q '^PUT /nausf-auth/v1/ue-authentications/.*/5g-aka-confirmation$' \
  && ok "through the recorder: registered, POST and the confirmation's PUT recorded" \
  || fail "through the recorder (rc $RC): $(cat "$T/rec-ue.err" "$T/rec.jsonl")"
rec_body 1 | schema_ok "UE -> AUSF AuthenticationInfo" request $AUTH /ue-authentications POST
rec_body 2 | schema_ok "UE -> AUSF ConfirmationData" request $AUTH '/ue-authentications/{authCtxId}/5g-aka-confirmation' PUT
stop_daemon REC

# --- happy path, NAI, routing indicator 12 ---
ue_yaml nai $NAI $K 12
register nai
idn=$(jget kedgeId "$T/nai.out")
[ $RC -eq 0 ] && [ "$(jget supi "$T/nai.out")" = $NAI ] && echo "$idn" | grep -q "$KEDGE_ID_RE" \
  && echo "$idn" | grep -q '^12\.' && ok "NAI: registered, Kedge ID $idn" \
  || fail "NAI happy path (rc $RC): $(cat "$T/nai.out" "$T/nai.err")"

# --- roaming: serving network 208/93, the Kedge ID realm stays the home network's ---
ue_yaml roam $IMSI $K 0 208 93
cp "$T/imsi.sqn" "$T/roam.sqn"
register roam
[ $RC -eq 0 ] && jget kedgeId "$T/roam.out" | grep -q "$KEDGE_ID_RE" \
  && ok "visited serving network: registered, home realm" \
  || fail "roaming (rc $RC): $(cat "$T/roam.out" "$T/roam.err")"
ue_yaml roam2 $IMSI $K 0 001 02
register roam2
[ $RC -eq 1 ] && [ "$(jget status "$T/roam2.out")" = 403 ] \
  && ok "serving network not allowed for this SEAF: 403 reported" \
  || fail "serving network not allowed (rc $RC): $(cat "$T/roam2.out" "$T/roam2.err")"

# --- SQN resynchronisation: the USIM is ahead of the UDM ---
ue_yaml resync $IMSI
echo 000000000100 >"$T/resync.sqn"
register resync
[ $RC -eq 0 ] && [ "$(jget resynchronised "$T/resync.out")" = true ] \
  && [ "$(jget sqn "$T/resync.out")" = 000000000101 ] \
  && [ "$(cat "$T/resync.sqn")" = 000000000101 ] \
  && "$BIN/kedge-udmd" subscriber show --config "$T/udm.yaml" --supi $IMSI | grep -q 'sqn: 000000000101' \
  && ok "resynchronisation: UE at 0x100, UDM continues from 0x101" \
  || fail "resynchronisation (rc $RC): $(cat "$T/resync.out" "$T/resync.err")"
# the old USIM (SQNms 3 after the runs above) is now behind: its next challenge is fresh
register imsi
[ $RC -eq 0 ] && [ "$(jget sqn "$T/imsi.out")" = 000000000102 ] \
  && [ "$(jget resynchronised "$T/imsi.out")" = false ] && ok "after resynchronisation: SQN 0x102" \
  || fail "after resynchronisation (rc $RC): $(cat "$T/imsi.out" "$T/imsi.err")"

# --- MAC failure: wrong K in ue.yaml ---
ue_yaml wrongk $IMSI 465b5ce8b199b49faa5f0a2ee238a6bd
echo 000000000005 >"$T/wrongk.sqn"
register wrongk
[ $RC -eq 1 ] && [ "$(jget failure "$T/wrongk.out")" = MAC_FAILURE ] \
  && grep -q 'MAC-A does not verify' "$T/wrongk.err" && [ "$(wc -l <"$T/wrongk.err")" -eq 1 ] \
  && [ "$(cat "$T/wrongk.sqn")" = 000000000005 ] && ok "wrong K: MAC failure, SQN file untouched" \
  || fail "MAC failure (rc $RC): $(cat "$T/wrongk.out" "$T/wrongk.err")"

# --- RES* mismatch: --corrupt-res ---
register imsi --corrupt-res
[ $RC -eq 1 ] && [ "$(jget failure "$T/imsi.out")" = AUTHENTICATION_REJECTED ] \
  && [ "$(jget authResult "$T/imsi.out")" = AUTHENTICATION_FAILURE ] \
  && grep -q 'AUTHENTICATION_FAILURE' "$T/imsi.err" && ok "--corrupt-res: AUTHENTICATION_FAILURE" \
  || fail "--corrupt-res (rc $RC): $(cat "$T/imsi.out" "$T/imsi.err")"

# --- unknown SUPI: the AUSF's 404 ---
ue_yaml unknown imsi-001010000000099
register unknown
[ $RC -eq 1 ] && [ "$(jget status "$T/unknown.out")" = 404 ] \
  && [ "$(jget cause "$T/unknown.out")" = USER_NOT_FOUND ] \
  && grep -q '404.*USER_NOT_FOUND' "$T/unknown.err" && ok "unknown SUPI: 404 USER_NOT_FOUND" \
  || fail "unknown SUPI (rc $RC): $(cat "$T/unknown.out" "$T/unknown.err")"

# --- a client certificate the AUSF does not list: 403 CONSUMER_NOT_AUTHORIZED ---
ue_yaml ecs $IMSI $K 0 001 01 ecs
register ecs
[ $RC -eq 1 ] && [ "$(jget cause "$T/ecs.out")" = CONSUMER_NOT_AUTHORIZED ] \
  && ok "consumer not allowed: 403 CONSUMER_NOT_AUTHORIZED" \
  || fail "consumer not allowed (rc $RC): $(cat "$T/ecs.out" "$T/ecs.err")"

# --- a malformed SQN file: exit 2 before any network call ---
printf 'garbage\n' >"$T/imsi.sqn"
register imsi
[ $RC -eq 2 ] && grep -q "imsi.sqn: malformed" "$T/imsi.err" && ok "malformed SQN file: exit 2" \
  || fail "malformed SQN file (rc $RC): $(cat "$T/imsi.err")"

# --- no AUSF ---
stop_daemon AUSF
echo 000000000200 >"$T/imsi.sqn"
register imsi
[ $RC -eq 1 ] && [ "$(jget failure "$T/imsi.out")" = AUSF_UNREACHABLE ] \
  && ok "AUSF down: reported, exit 1" || fail "AUSF down (rc $RC): $(cat "$T/imsi.out" "$T/imsi.err")"

finish
