#!/bin/sh
# bench/revoke: how long a revoked edge key stays usable at an ECS that subscribed (issue 13;
# target p99 < 50 ms on loopback). Real daemons started here: kedge-udmd, kedge-ausfd (SQLite key
# store), kedge-ecsd with revocation on (connections: close) and, beside it, a kedge-ecsd
# without a subscription (key_cache_ttl 60 s, the rule that holds without revocation).
#
# Each round: a UE registers (5G AKA, kedge-ue), an EEC's handshake (openssl s_client -psk)
# makes the ECS fetch the key and subscribe, the UE registers again (the new key replaces the
# old one in the AUSF's store: the "delete"), then a NEW handshake with the old key must be
# refused. The latency is measured from the AUSF's log line written in the store's commit
# callback ("revocation of Kedge ID X ... queued") to the ECS's ("revocation: Kedge ID X ...
# dropped from the key cache"); both processes log milliseconds from the same clock.
#
# Peer in the same run: one key request round trip ECS -> AUSF (kedge_ecs_key_fetch_seconds,
# the same TLS 1.3 + HTTP/2 path, one SBI exchange): a notification is one such exchange plus
# the queue. Nothing is asserted; the refusals are counted and printed. With KEDGE_BENCH_OUT, the
# result file revoke.json (bench/report/kbench.py), from one run of ROUNDS rounds.
# Usage: sh bench/revoke/run.sh [BUILD_DIR]     env: ROUNDS=60
set -eu
BUILD=${1:-build}
ROUNDS=${ROUNDS:-60}
BIN=$BUILD/bin
for prog in kedge kedge-udmd kedge-ausfd kedge-ecsd kedge-ue; do
  [ -x "$BIN/$prog" ] || { echo "bench/revoke: $BIN/$prog missing"; exit 1; }
done
command -v openssl >/dev/null && command -v python3 >/dev/null ||
  { echo "bench/revoke: needs openssl and python3"; exit 1; }
. "$(dirname "$0")/../lib.sh"
bench_scratch

start() { # start NAME PROGRAM CONFIG
  "$BIN/$2" --config "$3" --ports-file "$T/$1.ports" 2>>"$T/$1.log" &
  PIDS="$PIDS $!"
  i=0
  while [ ! -s "$T/$1.ports" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
  [ -s "$T/$1.ports" ] || { echo "bench/revoke: $2 did not start:"; cat "$T/$1.log"; exit 1; }
  eval "$1_PORT=$(sed -n 's/^port=//p' "$T/$1.ports")"
  eval "$1_METRICS_PORT=$(sed -n 's/^metrics_port=//p' "$T/$1.ports")"
}
metric() { curl -s --max-time 5 "http://127.0.0.1:$2/metrics" | grep "^$1 " | sed 's/.* //'; }

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
"$BIN/kedge" pki init "$T/pki" >/dev/null
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
cat >"$T/udm.yaml" <<EOF
log: {level: warn}
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}}
udm: {database: $T/udm.sqlite, master_key: $T/udm.key, allowed_consumers: [ausf.kedge.test]}
EOF
printf 'supi,k,opc,rid\nimsi-001010000000001,%s,%s,7\n' "$K" "$OPC" >"$T/subscribers.csv"
chmod 600 "$T/subscribers.csv" # K and OPc
"$BIN/kedge-udmd" subscriber import --config "$T/udm.yaml" "$T/subscribers.csv" >/dev/null
start UDM kedge-udmd "$T/udm.yaml"
cat >"$T/ausf.yaml" <<EOF
log: {level: info}
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication: {allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]}
edge: {enabled: true, home_network: {mcc: "001", mnc: "01"}, master_key: $T/ausf.key}
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers: [{name: ecs.kedge.test, profiles: [kedge]}, {name: nef.kedge.test, profiles: [kedge]}]
EOF
start AUSF kedge-ausfd "$T/ausf.yaml"
ecs_conf() { # ecs_conf NAME EXTRA
  cat >"$T/$1.yaml" <<EOF
log: {level: info}
sbi: {port: 0}
key_source:
  type: ausf
  uri: https://127.0.0.1:$AUSF_PORT
  tls: {ca: $T/pki/ca.crt, cert: $T/pki/ecs.crt, key: $T/pki/ecs.key}
key_cache: {ttl: 60s}
$2
EOF
}
ecs_conf ecs "revocation: {enabled: true, notifiers: [ausf.kedge.test], connections: close}"
start ECS kedge-ecsd "$T/ecs.yaml"
ecs_conf plain ""
start PLAIN kedge-ecsd "$T/plain.yaml"
cat >"$T/ue.yaml" <<EOF
usim: {supi: imsi-001010000000001, k: $K, opc: $OPC, routing_indicator: "7",
       home_network: {mcc: "001", mnc: "01"}, sqn_file: $T/ue.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt, key: $T/pki/seaf.key}
EOF
chmod 600 "$T/ue.yaml" # K and OPc: kedge-ue refuses a file others may read

register() { # sets ID and KEY
  "$BIN/kedge-ue" register --config "$T/ue.yaml" --json >"$T/ue.out" 2>>"$T/ue.log"
  ID=$(sed -n 's/.*"kedgeId":"\([^"]*\)".*/\1/p' "$T/ue.out")
  KEY=$(curl -s --http2 --cacert "$T/pki/ca.crt" --cert "$T/pki/nef.crt" --key "$T/pki/nef.key" \
    -H 'content-type: application/json' -d '{"kedgeId":"'"$ID"'"}' \
    "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve" |
    sed -n 's/.*"kedge":"\([^"]*\)".*/\1/p')
}
handshake() { # handshake PORT ID KEY -> prints the s_client output
  timeout 10 openssl s_client -connect "127.0.0.1:$1" -tls1_3 -psk_identity "$2" -psk "$3" \
    -alpn h2 </dev/null 2>&1
}

accepted=0 refused=0 plain_kept=0
register
r=0
while [ $r -lt "$ROUNDS" ]; do
  handshake "$ECS_PORT" "$ID" "$KEY" | grep -q "Cipher is TLS_" || echo "round $r: handshake failed"
  [ $r = 0 ] && handshake "$PLAIN_PORT" "$ID" "$KEY" >/dev/null
  OLD_ID=$ID OLD_KEY=$KEY
  [ $r = 0 ] && FIRST_ID=$ID FIRST_KEY=$KEY
  register # replaces OLD_ID at the AUSF
  if handshake "$ECS_PORT" "$OLD_ID" "$OLD_KEY" | grep -q "SSL alert number 51"; then
    refused=$((refused + 1))
  else
    accepted=$((accepted + 1))
  fi
  r=$((r + 1))
done
handshake "$PLAIN_PORT" "$FIRST_ID" "$FIRST_KEY" | grep -q "Cipher is TLS_" && plain_kept=1

fetch_sum=$(metric kedge_ecs_key_fetch_seconds_sum "$ECS_METRICS_PORT")
fetch_n=$(metric kedge_ecs_key_fetch_seconds_count "$ECS_METRICS_PORT")
python3 - "$T/AUSF.log" "$T/ECS.log" "$ROUNDS" "$refused" "$accepted" "$plain_kept" \
  "${fetch_sum:-0}" "${fetch_n:-0}" "$(nproc)" "$T/figures" <<'EOF'
import re, sys
from datetime import datetime
ausf, ecs, rounds, refused, accepted, plain_kept, fsum, fn, cores, figures = sys.argv[1:]
def stamps(path, pattern):
    out = {}
    for line in open(path):
        m = re.match(r'(\S+Z) .*' + pattern, line)
        if m:
            t = datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S.%fZ').timestamp()
            out.setdefault(m.group(2), t)
    return out
t0 = stamps(ausf, r'revocation of Kedge ID (\S+) \(REPLACED\): notification to .* queued')
t1 = stamps(ecs, r'revocation: Kedge ID (\S+) \(REPLACED\): dropped from the key cache')
lat = sorted((t1[k] - t0[k]) * 1000 for k in t0 if k in t1)
def pct(p):
    return lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))] if lat else float('nan')
fetch_ms = float(fsum) / float(fn) * 1000 if float(fn) else float('nan')
print(f"revocation rounds: {rounds} on {cores} cores (shared), AUSF SQLite key store")
print(f"  notices matched AUSF -> ECS: {len(lat)} of {rounds}; old key refused on a new "
      f"handshake right after the re-registration: {refused} of {rounds} (accepted: {accepted})")
def ms(v):
    return "< 1 ms" if v < 1 else f"{v:.0f} ms"  # the logs' clock counts milliseconds
print(f"  AUSF delete -> ECS refuses the old key: p50 {ms(pct(50))}, p90 {ms(pct(90))}, "
      f"p99 {ms(pct(99))}, max {ms(max(lat)) if lat else '-'}, mean {sum(lat) / len(lat) if lat else float('nan'):.2f} ms "
      f"(target p99 < 50 ms)")
ratio = pct(99) / fetch_ms if fetch_ms == fetch_ms and fetch_ms else float('nan')
print(f"  peer: one key request ECS -> AUSF, mean {fetch_ms:.2f} ms over {fn} fetches; "
      f"revocation p99 / key request mean = {ratio:.1f}x")
print(f"  ECS without a subscription: the first replaced key still "
      f"{'accepted after all rounds (key_cache_ttl 60 s rule)' if plain_kept == '1' else 'refused'}")
with open(figures, "w") as f:  # for the result file: p50 p99 fetch_ms refused_percent
    if lat:
        f.write(f"{pct(50):.3f} {pct(99):.3f} {fetch_ms:.3f} {100 * int(refused) / int(rounds):.1f}\n")
EOF
if [ -n "${KEDGE_BENCH_OUT:-}" ] && [ -s "$T/figures" ]; then
  KBENCH="/usr/bin/python3 $(cd "$(dirname "$0")/.." && pwd)/report/kbench.py"
  read -r p50 p99 fetch pct <"$T/figures"
  OUT=$KEDGE_BENCH_OUT/revoke.json
  $KBENCH add "$OUT" --bench revoke --id revoke.p99 --label "AUSF delete -> ECS refuses the old key, p99 of $ROUNDS" \
    --unit ms --better lower --value "$p99" --peer-name "one key request ECS -> AUSF (mean)" \
    --peer-value "$fetch" --target max=50
  $KBENCH add "$OUT" --bench revoke --id revoke.p50 --label "AUSF delete -> ECS refuses the old key, p50" \
    --unit ms --better lower --value "$p50"
  $KBENCH add "$OUT" --bench revoke --id revoke.refused --label "old key refused right after the re-registration" \
    --unit % --better higher --value "$pct" --target min=100
fi
