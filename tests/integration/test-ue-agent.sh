#!/bin/sh
# kedge-ue agent (SPEC.md 5, step 3): registers at start, serves Kedge / K_ECS on a Unix socket
# (mode 0660 in a 0750 directory, SO_PEERCRED uid check, bounded frames), re-registers on
# request (the AUSF then holds the new key only), keeps serving after garbage, removes its
# socket on SIGTERM. The peer here is perl speaking the frame format of kedge/agent.h.
# Usage: sh test-ue-agent.sh BUILD_DIR
BUILD=${1:?usage: test-ue-agent.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"

K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
pki_init
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
udm_conf
udm_add imsi-001010000000001
start_daemon UDM kedge-udmd "$T/udm.yaml"
cat >"$T/ausf.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:$UDM_PORT"}
ue_authentication: {allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]}
edge: {enabled: true, home_network: {mcc: "001", mnc: "01"}, master_key: $T/ausf.key}
keystore: "sqlite:$T/keys.sqlite"
keyrequest: {allowed_consumers: [{name: ecs.kedge.test}]}
EOC
start_daemon AUSF kedge-ausfd "$T/ausf.yaml"
ue_conf() { # ue_conf FILE SOCKET [AGENT EXTRA]
  cat >"$1" <<EOC
usim: {supi: imsi-001010000000001, k: $K, opc: $OPC, home_network: {mcc: "001", mnc: "01"},
       sqn_file: $T/ue.sqn}
ausf: {uri: "https://127.0.0.1:$AUSF_PORT", ca: $T/pki/ca.crt, cert: $T/pki/seaf.crt,
       key: $T/pki/seaf.key}
agent: {socket: $2 ${3:-}}
log: {level: info}
EOC
  chmod 600 "$1" # K and OPc: kedge-ue refuses a file others may read
}
# ask SOCKET JSON: one frame out, one frame in (empty output if the agent closed on us)
ask() {
  perl -MIO::Socket::UNIX -e '
    my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or exit 3;
    my $m = $ARGV[1]; print $s pack("N", length $m) . $m;
    read($s, my $h, 4) == 4 or exit 0; read($s, my $b, unpack("N", $h)); print "$b\n"' "$1" "$2"
}
retrieve() {
  sbi_curl ecs -o "$T/r" -w '%{http_code}' -H 'content-type: application/json' \
    -d '{"kedgeId":"'"$1"'"}' "https://127.0.0.1:$AUSF_PORT/nausf-auth/v1/kedge-keys/retrieve"
}
jget() { echo "$2" | jq -r ".$1"; }

S=$T/run/agent.sock
ue_conf "$T/ue.yaml" "$S"
"$BIN/kedge-ue" agent --config "$T/ue.yaml" 2>"$T/agent.log" &
AGENT=$!
PIDS="$PIDS $AGENT"
wait_for 10 grep -q 'serving keys' "$T/agent.log" || { cat "$T/agent.log"; fail "agent did not serve"; finish; }
[ "$(stat -c %a "$S")" = 660 ] && [ "$(stat -c %a "$T/run")" = 750 ] &&
  ok "socket 0660 in a 0750 directory" || fail "modes: $(stat -c %a "$S") $(stat -c %a "$T/run")"

A=$(ask "$S" '{"op":"keys"}')
ID=$(jget kedgeId "$A")
KEDGE=$(jget key "$A")
code=$(retrieve "$ID")
[ "$(jget profile "$A")" = kedge ] && [ "$code" = 200 ] && [ "$(jq -r .kedge "$T/r")" = "$KEDGE" ] &&
  ok "agent's Kedge equals the AUSF's for the same Kedge ID" || fail "keys: $A / $code $(cat "$T/r")"
B=$(ask "$S" '{"op":"keys","ecsId":"ECS.Example.com."}')
want=$("$BIN/kedge" derive k-ecs --kedge "$KEDGE" --ecs-id ecs.example.com | jq -r .kEcs)
[ "$(jget profile "$B")" = bound ] && [ "$(jget ecsId "$B")" = ecs.example.com ] &&
  [ "$(jget key "$B")" = "$want" ] && ok "profile bound: K_ECS for the named ECS ID" || fail "bound: $B"
C=$(ask "$S" '{"op":"keys","ecsId":"not a name"}')
[ -n "$(jget error "$C")" ] && [ "$(jget error "$C")" != null ] && ok "bad ecsId: an error answer" ||
  fail "bad ecsId: $C"

ID2=$("$BIN/kedge-ue" register --agent "$S")
A2=$(ask "$S" '{"op":"keys"}')
[ -n "$ID2" ] && [ "$ID2" != "$ID" ] && [ "$(jget kedgeId "$A2")" = "$ID2" ] &&
  [ "$(retrieve "$ID")" = 404 ] && [ "$(retrieve "$ID2")" = 200 ] &&
  ok "register --agent: new keys at the agent and the AUSF, old ID gone" || fail "re-register: $ID2 $A2"

# garbage: a bad op, a frame too large, not JSON, a truncated frame; then it still serves
[ -n "$(jget error "$(ask "$S" '{"op":"bogus"}')")" ] && ok "unknown op: an error answer" || fail "op"
perl -MIO::Socket::UNIX -e '$s=IO::Socket::UNIX->new(Peer=>shift); print $s pack("N", 1<<30); sleep 1' "$S"
perl -MIO::Socket::UNIX -e '$s=IO::Socket::UNIX->new(Peer=>shift); print $s pack("N", 5)."{{{{{"; read($s,$h,4)' "$S"
perl -MIO::Socket::UNIX -e '$s=IO::Socket::UNIX->new(Peer=>shift); print $s pack("N", 50)."{\"op\""; close $s' "$S"
[ "$(jget kedgeId "$(ask "$S" '{"op":"keys"}')")" = "$ID2" ] && ok "still serving after garbage" ||
  fail "agent after garbage"
! grep -qi "$KEDGE\|$(jget key "$A2")" "$T/agent.log" && ok "no key in the agent's log" || fail "key in log"

kill -TERM "$AGENT"
wait "$AGENT"
st=$?
[ "$st" = 0 ] && [ ! -e "$S" ] && ok "SIGTERM: exit 0, socket removed" || fail "SIGTERM: $st"

# SO_PEERCRED: an allow-list without this uid refuses the connection
ue_conf "$T/ue2.yaml" "$T/run2/agent.sock" ", allowed_uids: [\"4000000\"]"
"$BIN/kedge-ue" agent --config "$T/ue2.yaml" 2>"$T/agent2.log" &
PIDS="$PIDS $!"
wait_for 10 grep -q 'serving keys' "$T/agent2.log" || fail "second agent did not start"
out=$(ask "$T/run2/agent.sock" '{"op":"keys"}')
[ -z "$out" ] && grep -q 'refused a peer with uid' "$T/agent2.log" &&
  ok "a uid not in agent.allowed_uids gets nothing" || fail "peercred: $out"
finish
