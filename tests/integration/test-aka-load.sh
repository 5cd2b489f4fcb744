#!/bin/sh
# 1,000 UEs registering at once (issue 4: "concurrent registrations of 1,000 UEs with no
# failure"): real kedge-udmd and kedge-ausfd on loopback, 1,000 distinct subscribers imported
# from a generated CSV, and kedge-aka-load (tests/integration/aka-load.c: 1,000 ue_core UEs on
# one event loop) starting all 1,000 registrations before the first answer. Checks: every
# registration succeeded (AUTHENTICATION_SUCCESS and the same KSEAF on both sides), none
# needed a resynchronisation, each UE accepted SQN 1; the AUSF counted 1,000 successful
# confirmations and the UDM 1,000 vectors; each of the 1,000 SQNs in the UDM's database
# advanced by exactly one (0 -> 1), and a second round takes each to 2. Nothing is asserted
# on time.
# Usage: sh test-aka-load.sh BUILD_DIR
BUILD=${1:?usage: test-aka-load.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

N=1000
SNN=5G:mnc001.mcc001.3gppnetwork.org
pki_init

udm_conf
echo "log: {level: warn}" >>"$T/udm.yaml"
"$BIN/kedge-aka-load" generate --count $N --out "$T/subscribers.csv" \
  || { echo "generate failed"; exit 1; }
[ "$(wc -l <"$T/subscribers.csv")" -eq $((N + 1)) ] && ok "generated $N subscribers" \
  || fail "generated CSV: $(wc -l <"$T/subscribers.csv") lines"
out=$("$BIN/kedge-udmd" subscriber import --config "$T/udm.yaml" "$T/subscribers.csv" 2>&1)
echo "$out" | grep -q "imported $N subscribers" && ok "kedge-udmd subscriber import: $N" \
  || fail "import: $out"
start_daemon UDM kedge-udmd "$T/udm.yaml"

cat >"$T/ausf.yaml" <<EOF
log: {level: warn}
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
  metrics: {port: 0}
udm:
  uri: https://127.0.0.1:$UDM_PORT
  timeout: 20s
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
EOF
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

# The template of every UE: usim.supi, k and opc are replaced by each CSV line's, SQNms is
# kept in memory (sqn_file is not used).
cat >"$T/ue.yaml" <<EOF
usim:
  supi: imsi-001010000000000
  k: 00000000000000000000000000000000
  opc: 00000000000000000000000000000000
  home_network: {mcc: "001", mnc: "01"}
  sqn_file: $T/unused.sqn
ausf:
  uri: https://127.0.0.1:$AUSF_PORT
  ca: $T/pki/ca.crt
  cert: $T/pki/seaf.crt
  key: $T/pki/seaf.key
  timeout: 20s
EOF
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read

# metric NAME PORT: the value of one sample line of GET /metrics.
metric() {
  curl -s --max-time 5 "http://127.0.0.1:$2/metrics" | grep "^$1 " | sed 's/.* //'
}

# --- round 1: 1,000 registrations in flight at once ---
"$BIN/kedge-aka-load" run --config "$T/ue.yaml" --subscribers "$T/subscribers.csv" \
  --concurrency $N --rounds 1 --clients 8 --log "$T/round1.log" >"$T/round1.out" 2>"$T/round1.err"
RC=$?
cat "$T/round1.out"
result=$(grep '^result ' "$T/round1.out")
[ $RC -eq 0 ] && echo "$result" | grep -q "registrations=$N registered=$N failed=0 resynchronised=0 " \
  && ok "$N concurrent registrations, no failure, no resynchronisation" \
  || fail "round 1 (rc $RC): $result $(head -5 "$T/round1.err")"
# bench/aka reads the tool's own CPU per registration from this line (getrusage)
echo "$result" | grep -Eq ' cpu_us_per_run=[0-9]*[1-9][0-9]*(\.[0-9]+)?$' \
  && ok "the summary gives the tool's CPU per registration" \
  || fail "no cpu_us_per_run in: $result"
[ "$(wc -l <"$T/round1.log")" -eq $N ] \
  && [ "$(cut -d' ' -f1 "$T/round1.log" | sort -u | wc -l)" -eq $N ] \
  && [ "$(grep -c ' 000000000001 REGISTERED 0 ' "$T/round1.log")" -eq $N ] \
  && ok "$N distinct UEs each accepted SQN 000000000001" \
  || fail "round 1 log: $(grep -v ' 000000000001 REGISTERED 0 ' "$T/round1.log" | head -3)"
succ=$(metric 'kedge_ausf_ue_authentications_total{result="success"}' "$AUSF_METRICS_PORT")
[ "$succ" = $N ] && ok "AUSF: $N confirmations with AUTHENTICATION_SUCCESS" \
  || fail "AUSF success counter: '$succ'"
vec=$(metric 'kedge_udm_auth_vectors_total{result="ok"}' "$UDM_METRICS_PORT")
commits=$(metric 'kedge_udm_sqn_commits_total' "$UDM_METRICS_PORT")
[ "$vec" = $N ] && ok "UDM: $N vectors in $commits commit(s) (group commit)" \
  || fail "UDM vector counter: '$vec'"

# the UDM's database: every SQN advanced by exactly one
"$BIN/kedge-udmd" subscriber list --config "$T/udm.yaml" >"$T/list1" 2>&1
[ "$(grep -c ' sqn=000000000001 ' "$T/list1")" -eq $N ] && [ "$(wc -l <"$T/list1")" -eq $N ] \
  && ok "UDM database: all $N SQNs 0 -> 1" \
  || fail "UDM database after round 1: $(grep -v ' sqn=000000000001 ' "$T/list1" | head -3)"

# --- round 2: the same subscribers again: each SQN 1 -> 2 (a new kedge-aka-load starts its
# USIMs from the CSV, which has no sqn column: SQNms 0, so SQN 2 is fresh) ---
"$BIN/kedge-aka-load" run --config "$T/ue.yaml" \
  --subscribers "$T/subscribers.csv" --concurrency $N --rounds 1 --clients 8 \
  --log "$T/round2.log" >"$T/round2.out" 2>"$T/round2.err"
RC=$?
[ $RC -eq 0 ] && [ "$(grep -c ' 000000000002 REGISTERED 0 ' "$T/round2.log")" -eq $N ] \
  && ok "round 2: $N registrations, each UE accepted SQN 000000000002" \
  || fail "round 2 (rc $RC): $(grep '^result' "$T/round2.out") $(head -3 "$T/round2.err")"
"$BIN/kedge-udmd" subscriber list --config "$T/udm.yaml" >"$T/list2" 2>&1
[ "$(grep -c ' sqn=000000000002 ' "$T/list2")" -eq $N ] \
  && ok "UDM database: all $N SQNs 1 -> 2" \
  || fail "UDM database after round 2: $(grep -v ' sqn=000000000002 ' "$T/list2" | head -3)"

finish
