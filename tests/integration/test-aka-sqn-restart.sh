#!/bin/sh
# No SQN is ever reused across a UDM crash (issue 4: "after a UDM kill -9 and restart, no SQN
# is ever reused"). kedge-aka-load keeps registering 200 UEs (50 in flight) through a real
# kedge-ausfd while kedge-udmd is killed with SIGKILL twice in the middle of the burst and
# restarted on the same port each time. Registrations caught by a kill fail (the AUSF answers
# 503): that is expected. Checks, from kedge-aka-load's log (one line per registration, the
# SQN of every accepted AUTN) and the UDM's database:
# - registrations succeeded before the first kill, between the kills and after the second;
# - no UE ever needed a resynchronisation and no AUTN was refused: an SQN the UDM had handed
#   out before a crash and handed out again after it would not be fresh for the USIM
#   (TS 33.102 6.3.3, SQN > SQNms) and would show up here;
# - per subscriber, the accepted SQNs are strictly increasing (no repeat);
# - group commit durability: every SQN a UE accepted is <= the SQN the restarted UDM has
#   stored for it (`kedge-udmd subscriber list`): a vector never leaves the UDM before the
#   transaction holding its SQN is committed (synchronous=FULL).
# The UDM checkpoints its WAL every 8 pages (udm.wal_checkpoint_pages; default 1000), so the
# kills land while the background checkpoint thread copies the WAL into the file (issue 17):
# a checkpoint moves committed frames only, and the restarted UDM must still find every SQN.
# kill -9 loses what the process held, not what the kernel holds: a power cut is not
# simulated here. Nothing is asserted on time.
# Usage: sh test-aka-sqn-restart.sh BUILD_DIR
BUILD=${1:?usage: test-aka-sqn-restart.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

N=200
SNN=5G:mnc001.mcc001.3gppnetwork.org
pki_init

udm_conf
echo "  wal_checkpoint_pages: 8" >>"$T/udm.yaml"
echo "log: {level: warn}" >>"$T/udm.yaml"
# a bad udm.wal_checkpoint_pages is refused with one line naming the key (0, then not a number)
for bad in 0 many; do
  sed "s/wal_checkpoint_pages: 8/wal_checkpoint_pages: $bad/" "$T/udm.yaml" >"$T/udm-bad.yaml"
  if out=$("$BIN/kedge-udmd" --check-config --config "$T/udm-bad.yaml" 2>&1); then
    echo "wal_checkpoint_pages: $bad accepted"; exit 1
  fi
  echo "$out" | grep -q wal_checkpoint_pages || { echo "wal_checkpoint_pages: $bad: $out"; exit 1; }
done
"$BIN/kedge-aka-load" generate --count $N --out "$T/subscribers.csv" >/dev/null \
  || { echo "generate failed"; exit 1; }
"$BIN/kedge-udmd" subscriber import --config "$T/udm.yaml" "$T/subscribers.csv" >/dev/null \
  || { echo "import failed"; exit 1; }
start_daemon UDM kedge-udmd "$T/udm.yaml"
# restarts take the port the kernel gave the first UDM: the AUSF's udm.uri stays valid
udm_conf "$T/udm-fixed.yaml" "$UDM_PORT"
echo "  wal_checkpoint_pages: 8" >>"$T/udm-fixed.yaml"
echo "log: {level: warn}" >>"$T/udm-fixed.yaml"

cat >"$T/ausf.yaml" <<EOF
log: {level: error}
sbi:
  port: 0
  tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}
  metrics: {enabled: false}
udm:
  uri: https://127.0.0.1:$UDM_PORT
  timeout: 2s
ue_authentication:
  allowed_consumers:
    - name: seaf.kedge.test
      serving_networks: ["$SNN"]
EOF
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

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
  timeout: 10s
EOF
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read

LOG=$T/burst.log
registered() { # successful registrations in the log so far
  n=$(grep -c ' REGISTERED ' "$LOG" 2>/dev/null)
  echo "${n:-0}"
}
# more_registered N: at least N more registrations succeeded than $BASE
more_registered() { [ "$(registered)" -ge $((BASE + $1)) ]; }

"$BIN/kedge-aka-load" run --config "$T/ue.yaml" --subscribers "$T/subscribers.csv" \
  --concurrency 50 --duration 30 --clients 2 --log "$LOG" >"$T/burst.out" 2>"$T/burst.err" &
DRIVER=$!
PIDS="$PIDS $DRIVER"

MARKS=""
for round in 1 2; do
  BASE=$(registered)
  wait_for 20 more_registered 400 || fail "kill $round: the burst did not get going"
  kill -9 "$UDM_PID"
  wait "$UDM_PID" 2>/dev/null
  MARKS="$MARKS $(wc -l <"$LOG")"
  start_daemon UDM kedge-udmd "$T/udm-fixed.yaml"
  ok "kill -9 of the UDM in the middle of the burst ($(registered) registered so far), restarted on port $UDM_PORT"
done
BASE=$(registered)
wait_for 20 more_registered 400 && ok "registrations go on after the second restart" \
  || fail "no registration after the second restart"
kill -TERM "$DRIVER" # it starts no more registrations, lets those in flight end, sums up
wait "$DRIVER"
grep '^result ' "$T/burst.out" || fail "kedge-aka-load: no summary: $(cat "$T/burst.err")"

# registrations succeeded in each of the three periods
set -- $MARKS
periods=$(awk -v m1="$1" -v m2="$2" '/ REGISTERED / { p = NR <= m1 ? 0 : NR <= m2 ? 1 : 2; n[p]++ }
  END { printf "%d %d %d", n[0], n[1], n[2] }' "$LOG")
echo "$periods" | awk '{ exit !($1 > 0 && $2 > 0 && $3 > 0) }' \
  && ok "registered before, between and after the kills: $periods" \
  || fail "registrations per period: $periods"
total=$(wc -l <"$LOG")
failed=$(grep -vc ' REGISTERED ' "$LOG")
echo "burst: $total registrations, $failed failed while the UDM was down"

# only the UDM's absence may fail a registration: no USIM refusal, no resynchronisation
bad=$(awk '$3 != "REGISTERED" && $3 != "HTTP_ERROR" || $4 != 0' "$LOG" | head -3)
[ -z "$bad" ] && ok "no resynchronisation, no AUTN refused by a USIM; failures only HTTP errors" \
  || fail "unexpected outcome: $bad"
# every failure is the AUSF's answer for the missing UDM: 504 (SPEC.md 7, TS 29.500 Table
# 5.2.7.2-1: not reachable or timed out), 502 for a half-sent answer, 503 when it is congested
bad=$(awk '$3 == "HTTP_ERROR" && !/answered 50[234]/' "$LOG" | head -3)
[ -z "$bad" ] && ok "failed registrations: the AUSF answered 502/503/504" || fail "failures: $bad"

# per subscriber: accepted SQNs strictly increasing (12 hex digits compare as strings)
bad=$(awk '$3 == "REGISTERED" { s = "" $2; if (($1 in last) && s <= last[$1]) print; last[$1] = s }' "$LOG" | head -3)
[ -z "$bad" ] && ok "per subscriber, accepted SQNs strictly increasing, none repeated" \
  || fail "SQN not increasing: $bad"
[ "$(awk '$3 == "REGISTERED" { print $1, $2 }' "$LOG" | sort | uniq -d | wc -l)" -eq 0 ] \
  && ok "no (SUPI, SQN) accepted twice" || fail "an SQN was accepted twice"

# durability: every accepted SQN <= the SQN in the restarted UDM's database
"$BIN/kedge-udmd" subscriber list --config "$T/udm.yaml" >"$T/list" 2>&1
bad=$(awk 'NR == FNR { s = "" $2; if ($3 == "REGISTERED" && s > max[$1]) max[$1] = s; next }
  { split($3, a, "="); if (($1 in max) && max[$1] > "" a[2]) print $1, "accepted", max[$1], "stored", a[2]; seen[$1] = 1 }
  END { for (s in max) if (!(s in seen)) print s, "missing from the database" }' "$LOG" "$T/list" | head -3)
[ -z "$bad" ] && [ "$(wc -l <"$T/list")" -eq $N ] \
  && ok "every accepted SQN <= the SQN stored in the UDM's database after the restarts" \
  || fail "durability: $bad"

finish
