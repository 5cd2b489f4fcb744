#!/bin/sh
# The in-domain flow end to end with real processes (SPEC.md 0, steps 0-7): kedge-udmd,
# kedge-ausfd (edge keys, Nausf_UEAuthentication_keyrequest), kedge-ue register, kedge-ecsd
# fetching Kedge from the AUSF, kedge-eec provisioning with the UE's key:
# - UE registers -> key agent -> EEC: the EES list arrives; two successive connections cost
#   the AUSF one key request (cache); kedge-eec keys --reveal waits for the agent;
# - openssl s_client and gnutls-cli complete a handshake with the agent's keys;
# - profile bound through the agent (it derives K_ECS; the EEC never holds Kedge);
# - profile bound end to end (the AUSF derives K_ECS for the ECS's certificate name), and a
#   kedge-profile key fails against the bound ECS;
# - out of the operator's domain: ECS -> kedge-nefd -> AUSF (key source type nef, as AF
#   ecs.partner.example, profiles bound and kedge);
# - a new registration replaces the key: the old Kedge ID stops working once key_cache_ttl ends;
# - AUSF down: handshakes end with internal_error; back: they work, the ECS never restarted;
# - 100 EECs at once while the AUSF delays every key answer (testing.keyrequest_delay).
# Besides the agent, the EECs here use key files holding the Kedge the AUSF returns to a test
# consumer, checked against the UE's own fingerprint of the Kedge it derived.
# Usage: sh test-ecs-e2e.sh BUILD_DIR
BUILD=${1:?usage: test-ecs-e2e.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/test-ecs-common.inc"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
N=100
pki_init
"$BIN/kedge" pki issue "$T/pki" ecs.example.com >/dev/null
"$BIN/kedge" pki issue "$T/pki" ecs.partner.example >/dev/null
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null

supi() { echo "imsi-00101$(printf %010d "$1")"; }
udm_conf
udm_import $((N + 3)) 7 # supi 1 .. N+3, RID 7
start_daemon UDM kedge-udmd "$T/udm.yaml"

# ausf_conf DELAY [PORT]
ausf_conf() {
  cat >"$T/ausf.yaml" <<EOC
sbi: {port: ${2:-0}, workers: 2, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  home_network: {mcc: "001", mnc: "01"}
  master_key: $T/ausf.key
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
    - {name: ecs.example.com, profiles: [bound]}
    - {name: nef.kedge.test, profiles: [kedge, bound]}
  relays: [nef.kedge.test]
testing: {enabled: true, keyrequest_delay: $1}
EOC
}
ausf_conf 0
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"

jget() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" "$2"; }
fp() { perl -e 'print pack("H*", $ARGV[0])' "$1" | sha256sum | cut -c1-8; }
# register I: the UE of subscriber I registers; sets ID; its Kedge goes to $T/kI.hex (0600)
register() {
  cat >"$T/ue$1.yaml" <<EOC
usim: {supi: $(supi "$1"), k: $K, opc: $OPC, routing_indicator: "7",
       home_network: {mcc: "001", mnc: "01"}, sqn_file: $T/ue$1.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt,
       key: $T/pki/seaf.key}
EOC
  chmod 600 "$T/ue$1.yaml" # K and OPc: kedge-ue refuses a file others may read
  "$BIN/kedge-ue" register --config "$T/ue$1.yaml" --json >"$T/ue$1.out" 2>"$T/ue$1.err" ||
    { fail "register $1: $(cat "$T/ue$1.err")"; return 1; }
  ID=$(jget kedgeId "$T/ue$1.out")
  echo "$ID" >"$T/id$1"
  sbi_curl nef -o "$T/r" -H 'content-type: application/json' -d '{"kedgeId":"'"$ID"'"}' \
    "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve"
  KEDGE=$(jget kedge "$T/r")
  [ -n "$KEDGE" ] && [ "$(fp "$KEDGE")" = "$(jget kedgeFingerprint "$T/ue$1.out")" ] ||
    { fail "the AUSF's Kedge for $1 is not the UE's"; return 1; }
  (umask 077 && echo "$KEDGE" >"$T/k$1.hex")
}
# eec ECS_PORT I [ARGS]: kedge-eec provision with subscriber I's Kedge ID and key file
eec() {
  p=$1 i=$2
  shift 2
  "$BIN/kedge-eec" provision --ecs "127.0.0.1:$p" --eec-id "eec-$i" --kedge-id "$(cat "$T/id$i")" \
    --key-file "$T/k$i.hex" "$@"
}
ausf_ok() { metric kedge_ausf_keyrequests_total 'result="ok"' "$AUSF_METRICS_PORT"; }

KS_PORT=$AUSF_PORT HS_TIMEOUT=30s KS_TIMEOUT=10s write_ecs ecs "key_cache: {ttl: 2s}"
start_daemon ECS kedge-ecsd "$T/ecs.yaml"

# ---- steps 0-7 with the UE's key agent ----
A=$((N + 3))
S=$T/run/agent.sock
cat >"$T/agent.yaml" <<EOC
usim: {supi: $(supi $A), k: $K, opc: $OPC, routing_indicator: "7",
       home_network: {mcc: "001", mnc: "01"}, sqn_file: $T/agent.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt,
       key: $T/pki/seaf.key}
agent: {socket: $S}
log: {level: info}
EOC
chmod 600 "$T/agent.yaml" # K and OPc: kedge-ue refuses a file others may read
"$BIN/kedge-ue" agent --config "$T/agent.yaml" 2>"$T/agent.log" &
PIDS="$PIDS $!"
"$BIN/kedge-eec" keys --agent "$S" --reveal --wait 10 >"$T/keys.json" 2>"$T/keys.err"
AID=$(jget kedgeId "$T/keys.json")
AKEY=$(jget kedge "$T/keys.json")
[ -n "$AID" ] && [ ${#AKEY} = 64 ] && grep -q "revealed the Kedge" "$T/keys.err" &&
  ok "kedge-eec keys --reveal --wait: waited for the agent's registration, says it revealed" ||
  fail "keys --reveal: $(cat "$T/keys.json" "$T/keys.err")"
c0=$(ausf_ok)
out=$("$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-agent --agent "$S")
echo "$out" | grep -q "EES ees-video https://ees-video.example:8443" && echo "$out" | grep -q "$AID" &&
  ok "UE registered (5G AKA) -> agent -> EEC provisioned from the in-domain ECS: EES list" ||
  fail "provision with the agent: $out"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-agent --agent "$S" --json \
  >/dev/null && ok "second provisioning" || fail "second provisioning"
check "two connections, one key request at the AUSF (ECS cache)" test $(($(ausf_ok) - c0)) = 1
check "the ECS counted one fetch, one cache hit" \
  test "$(metric kedge_ecs_key_fetches_total 'result="ok"' "$ECS_METRICS_PORT")" = 1 -a \
  "$(metric kedge_ecs_key_lookups_total 'result="hit"' "$ECS_METRICS_PORT")" = 1
grep -q "keyrequest: profile kedge: key returned peer=ecs.kedge.test kedge_id=$AID status=200" \
  "$T/AUSF.log" && ok "the AUSF audit-logged the ECS's key request" || fail "AUSF audit line"
s_client "$ECS_PORT" "$AID" "$AKEY" | grep -q "Cipher is TLS_AES_128_GCM_SHA256" &&
  ok "openssl s_client with the agent's keys" || fail "s_client with the agent's keys"
gnutls "$ECS_PORT" "$AID" "$AKEY" "$PSK_DHE" | grep -q "Handshake was completed" &&
  ok "gnutls-cli with the agent's keys" || fail "gnutls-cli with the agent's keys"
BAD=$(echo "$AKEY" | tr '0-9a-f' '1-9a-f0')
s_client "$ECS_PORT" "$AID" "$BAD" | grep -q "SSL alert number 51" &&
  s_client "$ECS_PORT" "0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA@5gc.mnc001.mcc001.3gppnetwork.org" "$AKEY" |
  grep -q "SSL alert number 51" && ok "wrong key and unknown ID: the same alert, decrypt_error" ||
  fail "alerts with the real AUSF"
! grep -q "$AKEY" "$T/ECS.log" "$T/AUSF.log" "$T/agent.log" && ok "no Kedge in any log" ||
  fail "a key in a log"

# ---- the key-file EEC ----
register 1
eec "$ECS_PORT" 1 >/dev/null && ok "EEC with a key file (the AUSF's Kedge of a registered UE)" ||
  fail "key-file EEC"

# ---- profile bound ----
KS_PORT=$AUSF_PORT write_ecs bound "ecs: {psk_profile: bound, ecs_id: ecs.example.com}"
sed -i -e "s#pki/ecs.crt#pki/ecs.example.com.crt#" -e "s#pki/ecs.key#pki/ecs.example.com.key#" \
  "$T/bound.yaml"
start_daemon BOUND kedge-ecsd "$T/bound.yaml"
eec "$BOUND_PORT" 1 --profile bound --ecs-id ecs.example.com >/dev/null 2>"$T/err" &&
  ok "bound end to end: AUSF derives K_ECS for ecs.example.com, the EEC from Kedge" ||
  fail "bound: $(cat "$T/err")"
eec "$BOUND_PORT" 1 >/dev/null 2>"$T/err"
[ $? = 5 ] && grep -q decrypt_error "$T/err" && ok "a kedge-profile key fails against the bound ECS" ||
  fail "kedge key at bound ECS: $(cat "$T/err")"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$BOUND_PORT" --eec-id eec-agent --agent "$S" \
  --profile bound --ecs-id ecs.example.com >/dev/null 2>"$T/err" &&
  ok "bound through the agent: it derives K_ECS, the EEC never holds Kedge" ||
  fail "bound via agent: $(cat "$T/err")"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$BOUND_PORT" --eec-id eec-agent --agent "$S" \
  >/dev/null 2>"$T/err"
[ $? = 5 ] && ok "the agent's Kedge (profile kedge) fails against the bound ECS" ||
  fail "agent kedge at bound: $(cat "$T/err")"

# ---- out of the operator's domain: the ECS asks the NEF (steps 5.1-6.2) ----
cat >"$T/nef.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/nef.crt, key: $T/pki/nef.key, ca: $T/pki/ca.crt}}
afs:
  - {af_id: ecs.partner.example, profiles: [kedge, bound], home_networks: [{mcc: "001", mnc: "01"}]}
ausf:
  groups: [{name: home, mcc: "001", mnc: "01", rids: ["*"], uris: ["https://127.0.0.1:$AUSF_PORT"]}]
EOC
start_daemon NEF kedge-nefd "$T/nef.yaml"
for profile in bound kedge; do
  extra="ecs: {ecs_id: ecs.partner.example}"
  [ $profile = bound ] && extra="ecs: {psk_profile: bound, ecs_id: ecs.partner.example}"
  KS_TYPE=nef KS_PORT=$NEF_PORT write_ecs "out-$profile" "$extra"
  sed -i -e "s#pki/ecs.crt#pki/ecs.partner.example.crt#" -e "s#pki/ecs.key#pki/ecs.partner.example.key#" \
    "$T/out-$profile.yaml"
  name=$(echo "OUT_$profile" | tr a-z A-Z)
  start_daemon "$name" kedge-ecsd "$T/out-$profile.yaml"
  eval "port=\$${name}_PORT"
  args="--agent $S"
  [ $profile = bound ] && args="$args --profile bound --ecs-id ecs.partner.example"
  # shellcheck disable=SC2086
  "$BIN/kedge-eec" provision --ecs "127.0.0.1:$port" --eec-id eec-agent $args >/dev/null 2>"$T/err" &&
    ok "ECS outside the domain, profile $profile: key through the NEF, EEC provisioned" ||
    fail "NEF path ($profile): $(cat "$T/err")"
done
grep -q "ecs.partner.example" "$T/NEF.log" && ok "the NEF logged the AF's requests" ||
  fail "NEF audit: $(tail -3 "$T/NEF.log")"

# ---- a new registration replaces the key; the ECS's copy lives at most key_cache_ttl ----
"$BIN/kedge-ue" register --agent "$S" >/dev/null 2>"$T/err" || fail "register --agent: $(cat "$T/err")"
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-agent --agent "$S" \
  >"$T/out" 2>"$T/err" && ! grep -q "$AID" "$T/out" &&
  ok "kedge-ue register --agent: new keys, the EEC provisions with the new Kedge ID" ||
  fail "after agent re-registration: $(cat "$T/err")"
old_id=$(cat "$T/id1")
cp "$T/k1.hex" "$T/kold.hex"
register 1
[ "$(cat "$T/id1")" != "$old_id" ] && eec "$ECS_PORT" 1 >/dev/null &&
  ok "after a new 5G AKA the new Kedge ID works" || fail "new key"
sleep 2.1
"$BIN/kedge-eec" provision --ecs "127.0.0.1:$ECS_PORT" --eec-id eec-1 --kedge-id "$old_id" \
  --key-file "$T/kold.hex" >/dev/null 2>"$T/err"
[ $? = 5 ] && grep -q decrypt_error "$T/err" &&
  ok "the replaced key fails (decrypt_error) once key_cache_ttl has passed" ||
  fail "old key after ttl: $(cat "$T/err")"

# ---- AUSF down, back (then with every key answer delayed) ----
register 2
i=3 # for the 100 EECs below, while the AUSF answers at once
while [ "$i" -le $((N + 2)) ]; do
  register "$i" || break
  i=$((i + 1))
done
stop_daemon AUSF
eec "$ECS_PORT" 2 >/dev/null 2>"$T/err"
[ $? = 5 ] && grep -q "internal_error" "$T/err" && ok "AUSF down: the EEC sees internal_error" ||
  fail "AUSF down: $(cat "$T/err")"
ausf_conf 500ms "$AUSF_PORT"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
eec "$ECS_PORT" 2 >/dev/null 2>"$T/err" && ok "AUSF back: works without restarting the ECS" ||
  fail "AUSF back: $(cat "$T/err")"

# ---- 100 EECs at once, the AUSF answering each key request after 500 ms ----
c0=$(ausf_ok)
start=$(date +%s%N)
i=3
while [ "$i" -le $((N + 2)) ]; do
  eec "$ECS_PORT" "$i" >/dev/null 2>"$T/e$i" &
  eval "pid$i=\$!"
  i=$((i + 1))
done
failed=0
i=3
while [ "$i" -le $((N + 2)) ]; do
  eval "wait \$pid$i" || failed=$((failed + 1))
  i=$((i + 1))
done
ms=$((($(date +%s%N) - start) / 1000000))
echo "$N EECs, AUSF key answers delayed 500 ms: all provisioned in $ms ms"
check "$N concurrent EECs provisioned ($failed failed)" test "$failed" = 0
check "$N key requests at the AUSF" test $(($(ausf_ok) - c0)) = "$N"
check "no handshake waited on another's fetch ($ms ms; one after another: 50 s)" test "$ms" -lt 25000
check "no daemon crashed" kill -0 "$UDM_PID" "$AUSF_PID" "$ECS_PID" "$BOUND_PID" "$NEF_PID" \
  "$OUT_BOUND_PID" "$OUT_KEDGE_PID"
finish
