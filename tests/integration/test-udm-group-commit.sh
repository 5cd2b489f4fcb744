#!/bin/sh
# The UDM's group commit and its answers (SPEC.md 1: an SQN is stored durably before its vector
# leaves; docs/udm.md "SQN and group commit"). The database thread stores SQNs only; each vector
# is built afterwards on its worker loop, and only if its transaction committed:
# - a vector while the database is free: 200, and the stored SQN is the vector's;
# - while another process holds SQLite's write lock longer than the UDM waits for it (5 s), the
#   transaction cannot start: 503 NF_CONGESTION with Retry-After, no authenticationVector, and
#   the stored SQN does not move;
# - afterwards: 200 again, with the next SQN (the failed batch consumed none);
# - several at once (one batch): every answer a vector, every SQN distinct, the stored SQN the
#   highest of them.
# SQNs are read from the vectors' AUTN (SQN xor AK, so compared through the stored value) with
# `kedge-udmd subscriber list --json`.
# Usage: sh test-udm-group-commit.sh BUILD_DIR
BUILD=${1:?usage: test-udm-group-commit.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "skip: sqlite3 missing (scripts/deps.sh test)"; exit 77; }
pki_init
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
SNN=5G:mnc001.mcc001.3gppnetwork.org
S1=imsi-001010000000001
udm_conf
echo "log: {level: warn}" >>"$T/udm.yaml"
udm_add $S1 --sqn 000000000020
start_daemon UDM kedge-udmd "$T/udm.yaml"
URL="https://127.0.0.1:$UDM_PORT/nudm-ueau/v1/$S1/security-information/generate-auth-data"
REQ='{"servingNetworkName":"'$SNN'","ausfInstanceId":"3fa85f64-5717-4562-b3fc-2c963f66afa6"}'
# vector FILE: one generate-auth-data; the body in FILE, headers in FILE.h; prints the status
vector() {
  sbi_curl ausf -o "$1" -D "$1.h" -w '%{http_code}' -H 'content-type: application/json' \
    -d "$REQ" "$URL"
}
stored_sqn() {
  "$BIN/kedge-udmd" subscriber list --config "$T/udm.yaml" --json | jq -r "select(.supi == \"$S1\") | .sqn"
}

code=$(vector "$T/v1")
check "a vector while the database is free: 200 ($code)" [ "$code" = 200 ]
check "it carries an authenticationVector" grep -q '"authenticationVector"' "$T/v1"
sqn1=$(stored_sqn)
# next_sqn SQN N: the SQN N vectors later (each vector uses last + 1: docs/udm.md)
next_sqn() { printf '%012x' $((0x$1 + $2)); }
check "the stored SQN is the imported one's next ($sqn1)" [ "$sqn1" = "$(next_sqn 000000000020 1)" ]

# Another process takes SQLite's write lock for 7 s (the UDM's busy timeout is 5 s).
(echo "BEGIN EXCLUSIVE; SELECT 'locked';"; sleep 7; echo "COMMIT;") |
  sqlite3 "$T/udm.sqlite" >"$T/locked" 2>&1 &
LOCKER=$!
wait_for 5 grep -q locked "$T/locked" || fail "the lock was not taken: $(cat "$T/locked")"
code=$(vector "$T/v2")
check "no transaction: 503 ($code)" [ "$code" = 503 ]
check "  cause NF_CONGESTION" grep -q '"cause":"NF_CONGESTION"' "$T/v2"
check "  with Retry-After" grep -qi '^retry-after:' "$T/v2.h"
check "  and no authenticationVector" sh -c "! grep -q authenticationVector '$T/v2'"
wait "$LOCKER"
check "the stored SQN did not move ($(stored_sqn))" [ "$(stored_sqn)" = "$sqn1" ]

code=$(vector "$T/v3")
check "after the lock: 200 ($code)" [ "$code" = 200 ]
sqn3=$(stored_sqn)
check "the next SQN is stored: the refused one consumed none ($sqn1 -> $sqn3)" \
  [ "$sqn3" = "$(next_sqn "$sqn1" 1)" ]

# Eight at once: group-committed together; each answer a vector with its own AUTN (its own SQN).
i=0 curls=
while [ $i -lt 8 ]; do
  vector "$T/b$i" >"$T/b$i.code" &
  curls="$curls $!"
  i=$((i + 1))
done
for p in $curls; do wait "$p"; done
codes=$(cat "$T"/b?.code)
check "eight at once: eight 200s ($codes)" [ "$codes" = 200200200200200200200200 ]
autns=$(for f in "$T"/b?; do jq -r .authenticationVector.autn "$f"; done | sort -u | wc -l)
check "eight at once: eight vectors, eight distinct AUTNs ($autns)" [ "$autns" = 8 ]
check "the stored SQN is eight further ($(stored_sqn))" [ "$(stored_sqn)" = "$(next_sqn "$sqn3" 8)" ]
finish
