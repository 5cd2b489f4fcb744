#!/bin/sh
# `kedge-* --check-config` refuses what the daemon would refuse at start (issue 11 items 3 and
# 9), each with one line naming the file: a master key that does not open the subscriber
# database or the AUSF's key store (key-check record), a master key readable by others, a
# config without sbi.tls, a missing certificate, the ECS's key-source CA, the key store's
# sqlite.wal_checkpoint_pages out of range; and the daemon and `subscriber` commands refuse the
# wrong master key the same way. A master key given as
# credential:NAME is read from $CREDENTIALS_DIRECTORY (systemd LoadCredential=).
# Usage: sh test-check-config.sh BUILD_DIR
BUILD=${1:?usage: test-check-config.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
pki_init
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
"$BIN/kedge" master-key "$T/other.key" >/dev/null
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
TLS="tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}"
udm_conf() { # udm_conf FILE MASTER_KEY [SBI]
  cat >"$1" <<EOC
sbi: {port: 0, ${3:-$TLS}}
udm: {database: $T/udm.sqlite, master_key: $2, allowed_consumers: [ausf.kedge.test]}
EOC
}
# expect_refusal DESCRIPTION PATTERN COMMAND...: exit 1, exactly one line on stderr, matching.
expect_refusal() {
  d=$1 pat=$2
  shift 2
  "$@" >"$T/out" 2>"$T/err"
  rc=$?
  n=$(grep -vc ' info: ' "$T/err")
  if [ "$rc" -eq 1 ] && [ "$n" -eq 1 ] && grep -q "$pat" "$T/err"; then ok "$d"; else
    fail "$d: rc=$rc lines=$n: $(cat "$T/err")"; fi
}

udm_conf "$T/udm.yaml" "$T/udm.key"
check "--check-config before the database exists: OK (creates nothing)" \
  sh -c "'$BIN/kedge-udmd' --check-config --config '$T/udm.yaml' >/dev/null && [ ! -e '$T/udm.sqlite' ]"
printf '%s\n%s\n' $K $OPC | "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" \
  --supi imsi-001010000000001 --k-file - --opc-file - >/dev/null || fail "subscriber add"
check "--check-config with the right key: OK" "$BIN/kedge-udmd" --check-config --config "$T/udm.yaml"

# Item 3: the wrong master key.
udm_conf "$T/wrong.yaml" "$T/other.key"
WRONG="udm.master_key $T/other.key does not open the subscriber database $T/udm.sqlite"
expect_refusal "wrong master key: --check-config refuses naming the key file" "$WRONG" \
  "$BIN/kedge-udmd" --check-config --config "$T/wrong.yaml"
expect_refusal "wrong master key: the daemon refuses to start" "$WRONG" \
  "$BIN/kedge-udmd" --config "$T/wrong.yaml"
expect_refusal "wrong master key: subscriber list refuses too" "$WRONG" \
  "$BIN/kedge-udmd" subscriber list --config "$T/wrong.yaml"

# Master key mode.
cp "$T/udm.key" "$T/open.key" && chmod 644 "$T/open.key"
udm_conf "$T/open.yaml" "$T/open.key"
expect_refusal "master key readable by others: --check-config refuses" "open.key.*chmod 600" \
  "$BIN/kedge-udmd" --check-config --config "$T/open.yaml"

# No tls: section, a missing certificate.
udm_conf "$T/notls.yaml" "$T/udm.key" "metrics: {port: 0}"
expect_refusal "no sbi.tls: --check-config refuses naming the key" "notls.yaml:1: sbi.tls.cert: missing" \
  "$BIN/kedge-udmd" --check-config --config "$T/notls.yaml"
udm_conf "$T/nocert.yaml" "$T/udm.key" "tls: {cert: $T/absent.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}"
"$BIN/kedge-udmd" --check-config --config "$T/nocert.yaml" >/dev/null 2>"$T/err"; rc=$?
check "missing certificate: --check-config exits 1 naming it ($(tr '\n' ' ' <"$T/err"))" \
  sh -c "[ $rc -eq 1 ] && grep -q 'absent.crt' '$T/err'"

# credential:NAME (systemd LoadCredential=).
mkdir -p "$T/creds" && cp "$T/udm.key" "$T/creds/udm-master" && chmod 600 "$T/creds/udm-master"
udm_conf "$T/cred.yaml" "credential:udm-master"
check "credential:NAME read from \$CREDENTIALS_DIRECTORY" \
  env CREDENTIALS_DIRECTORY="$T/creds" "$BIN/kedge-udmd" --check-config --config "$T/cred.yaml"
expect_refusal "credential:NAME without \$CREDENTIALS_DIRECTORY: one line" \
  "credential:udm-master: no such credential" \
  env -u CREDENTIALS_DIRECTORY "$BIN/kedge-udmd" --check-config --config "$T/cred.yaml"

# AUSF: the key store's master key against its key-check record.
"$BIN/kedge" master-key "$T/ausf.key" >/dev/null
ausf_conf() { # ausf_conf FILE MASTER_KEY
  cat >"$1" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/ausf.crt, key: $T/pki/ausf.key, ca: $T/pki/ca.crt}}
udm: {uri: "https://127.0.0.1:9"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge: {enabled: true, key_lifetime: 1h, home_network: {mcc: "001", mnc: "01"}, master_key: $2}
keystore: "sqlite:$T/ausf-keys.sqlite"
keyrequest:
  allowed_consumers: [{name: ecs.kedge.test, profiles: [kedge]}]
EOC
}
ausf_conf "$T/ausf.yaml" "$T/ausf.key"
start_daemon AUSF kedge-ausfd "$T/ausf.yaml" # writes the key store with its record
stop_daemon AUSF
check "AUSF --check-config with the right key: OK" "$BIN/kedge-ausfd" --check-config --config "$T/ausf.yaml"
ausf_conf "$T/ausf-wrong.yaml" "$T/other.key"
expect_refusal "AUSF wrong key-store master key: --check-config refuses naming it" \
  "keystore master key $T/other.key does not open the key store $T/ausf-keys.sqlite" \
  "$BIN/kedge-ausfd" --check-config --config "$T/ausf-wrong.yaml"
"$BIN/kedge-ausfd" --config "$T/ausf-wrong.yaml" >/dev/null 2>"$T/err"; rc=$?
check "AUSF wrong key-store master key: the daemon refuses to start ($(grep -v ' info: ' "$T/err"))" \
  sh -c "[ $rc -eq 1 ] && grep -q 'does not open' '$T/err'"

# AUSF: ue_authentication.max_confirmed (the confirmed authentications kept for a DELETE, issue
# 17) out of range is one line naming the file, line and key, never a silent default.
for v in 0 -1 10000001 many; do
  sed "s/^ue_authentication:\$/ue_authentication:\n  max_confirmed: $v/" "$T/ausf.yaml" >"$T/ausf-mc.yaml"
  expect_refusal "AUSF ue_authentication.max_confirmed: $v: one line" \
    "ausf-mc.yaml:4: ue_authentication.max_confirmed: must be an integer 1..10000000" \
    "$BIN/kedge-ausfd" --check-config --config "$T/ausf-mc.yaml"
done

# AUSF: the key store's sqlite.wal_checkpoint_pages (its writer's background WAL checkpoint,
# docs/keystore.md) out of range or not a number is one line naming the file, line and key; the
# default (absent, 8192) and a value in range are accepted.
for v in 0 many; do
  { cat "$T/ausf.yaml"; echo "sqlite: {wal_checkpoint_pages: $v}"; } >"$T/ausf-wcp.yaml"
  expect_refusal "AUSF sqlite.wal_checkpoint_pages: $v: one line" \
    "ausf-wcp.yaml:9: sqlite.wal_checkpoint_pages: must be an integer 1..1000000" \
    "$BIN/kedge-ausfd" --check-config --config "$T/ausf-wcp.yaml"
done
{ cat "$T/ausf.yaml"; echo "sqlite: {wal_checkpoint_pages: 64}"; } >"$T/ausf-wcp.yaml"
check "AUSF sqlite.wal_checkpoint_pages: 64: --check-config OK" \
  "$BIN/kedge-ausfd" --check-config --config "$T/ausf-wcp.yaml"

# udm.api_root and ausf.api_root, the apiRoot of their Location headers and links (TS 29.501
# 4.4.1): at most KEDGE_SBI_API_ROOT_MAX (299) octets; a longer one is one line naming the file
# and key, never an apiRoot cut short in every Location.
ROOT299="https://$(printf '%0291d' 0)" ROOT300="https://$(printf '%0292d' 0)"
for r in "$ROOT299" "$ROOT300"; do
  sed "s#allowed_consumers: \[ausf.kedge.test\]}#allowed_consumers: [ausf.kedge.test], api_root: \"$r\"}#" \
    "$T/udm.yaml" >"$T/udm-root.yaml"
  { cat "$T/ausf.yaml"; echo "ausf: {api_root: \"$r\"}"; } >"$T/ausf-root.yaml"
  if [ "$r" = "$ROOT299" ]; then
    check "UDM api_root of 299 octets: --check-config OK" \
      "$BIN/kedge-udmd" --check-config --config "$T/udm-root.yaml"
    check "AUSF api_root of 299 octets: --check-config OK" \
      "$BIN/kedge-ausfd" --check-config --config "$T/ausf-root.yaml"
  else
    expect_refusal "UDM api_root of 300 octets: one line" \
      "udm-root.yaml:2: udm.api_root: must be at most 299 octets" \
      "$BIN/kedge-udmd" --check-config --config "$T/udm-root.yaml"
    expect_refusal "AUSF api_root of 300 octets: one line" \
      "ausf-root.yaml:9: ausf.api_root: must be at most 299 octets" \
      "$BIN/kedge-ausfd" --check-config --config "$T/ausf-root.yaml"
  fi
done

# ECS: the key source's CA.
cat >"$T/ecs.yaml" <<EOC
sbi: {port: 0}
key_source:
  type: ausf
  uri: https://127.0.0.1:9
  tls: {ca: $T/absent-ca.crt, cert: $T/pki/ecs.crt, key: $T/pki/ecs.key}
service_provisioning:
  allowed_eec_ids: ["*"]
  allowed_ac_ids: [ac.video]
  edns: [{dnn: edge.example, eess: [{ees_id: e, uri: "https://e.example:8443", ac_ids: ["*"]}]}]
EOC
"$BIN/kedge-ecsd" --check-config --config "$T/ecs.yaml" >/dev/null 2>"$T/err"; rc=$?
check "ECS key-source CA missing: --check-config exits 1 naming it ($(tr '\n' ' ' <"$T/err"))" \
  sh -c "[ $rc -eq 1 ] && grep -q 'absent-ca.crt' '$T/err'"
sed -i "s#$T/absent-ca.crt#$T/pki/ca.crt#" "$T/ecs.yaml"
check "ECS with its CA: --check-config OK" "$BIN/kedge-ecsd" --check-config --config "$T/ecs.yaml"
finish
