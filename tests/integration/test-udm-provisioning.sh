#!/bin/sh
# Provisioning at scale (issue 11 item 9) with kedge-udmd's subscriber command: RFC 4180 CSV
# (BOM, CRLF, quoted fields) and JSON lines, from a file or stdin, all or nothing; list --json;
# export (JSON lines, K/OPc sealed; --reveal in clear) and export | import into a new database;
# modify keeps the SQN, takes K/OPc from files or stdin and never from argv.
# Usage: sh test-udm-provisioning.sh BUILD_DIR
BUILD=${1:?usage: test-udm-provisioning.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
pki_init
K=465b5ce8b199b49faa5f0a2ee238a6bc
OPC=cd63cb71954a9f4e48a5994e37a02baf
"$BIN/kedge" master-key "$T/udm.key" >/dev/null
"$BIN/kedge" master-key "$T/other.key" >/dev/null
conf() { # conf FILE DB KEY
  cat >"$1" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}}
udm: {database: $2, master_key: $3, allowed_consumers: [ausf.kedge.test]}
EOC
}
conf "$T/a.yaml" "$T/a.sqlite" "$T/udm.key"
conf "$T/b.yaml" "$T/b.sqlite" "$T/udm.key"
conf "$T/c.yaml" "$T/c.sqlite" "$T/other.key"
sub() { "$BIN/kedge-udmd" subscriber "$@"; }
umask 077 # the subscriber files hold K and OPc: kedge-udmd refuses them readable by others
jqe() { jq -e "$@" >/dev/null; }

# CSV as a spreadsheet writes it: BOM, CRLF, quoted fields (one with a doubled quote inside a
# JSON-ish note is not a column here: quotes around plain values).
printf '\357\273\277supi,k,opc,sqn,rid,edge\r\n"imsi-001010000000001",%s,"%s","000000000010","12",true\r\nimsi-001010000000002,%s,%s,,0,"false"\r\n' \
  $K $OPC $K $OPC >"$T/s.csv"
out=$(sub import --config "$T/a.yaml" "$T/s.csv" 2>&1)
check "CSV with BOM, CRLF and quotes imports ($out)" [ "$out" = "imported 2 subscribers from $T/s.csv" ]
sub list --config "$T/a.yaml" --json >"$T/list.json"
check "list --json: one object a line, fields as given" \
  jqe -s 'length == 2 and .[0].supi == "imsi-001010000000001" and .[0].rid == "12" and
    .[0].sqn == "000000000010" and .[0].edge == true and .[1].edge == false and
    (.[0] | has("k") or has("opc") | not)' "$T/list.json"

# A quoted field holding a comma and a line break: parsed as one field (and refused as a RID).
printf 'supi,k,opc,rid\nimsi-001010000000003,%s,%s,"1,\n2"\n' $K $OPC >"$T/q.csv"
out=$(sub import --config "$T/a.yaml" "$T/q.csv" 2>&1); rc=$?
check "quoted comma and newline stay in one field (rid refused, rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'q.csv:2: rid:'"
printf 'supi,k,opc\nimsi-001010000000004,%s,%s\nimsi-001010000000005,%s,"%s\n' $K $OPC $K $OPC >"$T/open.csv"
out=$(sub import --config "$T/a.yaml" "$T/open.csv" 2>&1); rc=$?
check "unclosed quote: refused naming the line ($out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'open.csv:3: a quoted field is not closed'"
check "all or nothing: the good record before it was not kept" \
  sh -c "! '$BIN/kedge-udmd' subscriber show --config '$T/a.yaml' --supi imsi-001010000000004 >/dev/null 2>&1"

# stdin and JSON lines.
printf 'supi,k,op\nimsi-001010000000006,%s,cdc202d5123e20f62b6d676ac72cb318\n' $K |
  sub import --config "$T/a.yaml" - >"$T/out" 2>&1
check "CSV from stdin ($(cat "$T/out"))" grep -q 'imported 1 subscribers from -' "$T/out"
printf '{"supi":"nai-alice@edge.example.org","k":"%s","opc":"%s","rid":"4321","edge":false}\n\n{"supi":"imsi-001010000000007","k":"%s","opc":"%s"}\n' \
  $K $OPC $K $OPC >"$T/s.jsonl"
out=$(sub import --config "$T/a.yaml" - <"$T/s.jsonl" 2>&1)
check "JSON lines from stdin ($out)" [ "$out" = "imported 2 subscribers from -" ]
printf '{"supi":"imsi-001010000000008","k":"%s","opc":"%s"}\n{"supi":"imsi-001010000000009","k":"%s","opc":"%s","colour":"red"}\n' \
  $K $OPC $K $OPC >"$T/bad.jsonl"
out=$(sub import --config "$T/a.yaml" "$T/bad.jsonl" 2>&1); rc=$?
check "JSON lines: unknown member refused naming line and member, nothing kept ($out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'bad.jsonl:2: colour: unknown member' &&
    ! '$BIN/kedge-udmd' subscriber show --config '$T/a.yaml' --supi imsi-001010000000008 >/dev/null 2>&1"

# export: sealed by default, never K in clear; --reveal shows it; export | import restores.
sub export --config "$T/a.yaml" >"$T/export.jsonl"
n=$(wc -l <"$T/export.jsonl")
check "export: one line per subscriber ($n)" [ "$n" -eq 5 ]
check "export: no K or OPc in clear" sh -c "! grep -qi -e $K -e $OPC '$T/export.jsonl'"
check "export: k_sealed and opc_sealed on every line" \
  jqe -s 'all(has("k_sealed") and has("opc_sealed") and (has("k") | not))' "$T/export.jsonl"
sub export --config "$T/a.yaml" --reveal >"$T/reveal.jsonl"
check "export --reveal: K in clear" grep -q "\"k\":\"$K\"" "$T/reveal.jsonl"
sub export --config "$T/a.yaml" | sub import --config "$T/b.yaml" - >/dev/null
sub export --config "$T/b.yaml" --reveal >"$T/reveal-b.jsonl"
check "export | import - restores every field (SQN, K, OPc included)" cmp -s "$T/reveal.jsonl" "$T/reveal-b.jsonl"
out=$(sub export --config "$T/a.yaml" | sub import --config "$T/c.yaml" - 2>&1); rc=$?
check "sealed records under another master key are refused ($out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'do not open under this master key'"

# modify: keeps the SQN, K from a file or stdin, never argv.
printf '00112233445566778899aabbccddeeff\n' >"$T/k.txt" && chmod 600 "$T/k.txt"
out=$(sub modify --config "$T/a.yaml" --supi imsi-001010000000001 --k-file "$T/k.txt" --rid 77 --no-edge 2>&1)
check "modify ($out)" echo "$out" | grep -q 'sqn 000000000010 kept'
sub export --config "$T/a.yaml" --reveal | grep imsi-001010000000001 >"$T/m.json"
check "modify changed K, RID and edge, kept SQN and OPc" \
  jqe --arg opc $OPC '.k == "00112233445566778899aabbccddeeff" and .rid == "77" and
    .edge == false and .sqn == "000000000010" and .opc == $opc' "$T/m.json"
printf '%s\n' $OPC | sub modify --config "$T/a.yaml" --supi imsi-001010000000001 --opc-file - >/dev/null
check "modify: OPc from stdin" sh -c "'$BIN/kedge-udmd' subscriber export --config '$T/a.yaml' --reveal | grep -q '\"opc\":\"$OPC\"'"
out=$(sub modify --config "$T/a.yaml" --supi imsi-001010000000001 --k $K 2>&1); rc=$?
check "modify never takes K on the command line (rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q -- '--k: not an option of modify'"
chmod 644 "$T/k.txt"
out=$(sub modify --config "$T/a.yaml" --supi imsi-001010000000001 --k-file "$T/k.txt" 2>&1); rc=$?
check "modify refuses a key file readable by others ($out)" sh -c "[ $rc -ne 0 ] && echo '$out' | grep -q 'chmod 600'"
out=$(sub modify --config "$T/a.yaml" --supi imsi-001019999999999 --rid 1 2>&1); rc=$?
check "modify of an unknown SUPI: exit 1 ($out)" sh -c "[ $rc -eq 1 ] && echo '$out' | grep -q 'no such subscriber'"
# the verb table: each verb's options, wherever the verb or the option stands
out=$(sub list --config "$T/a.yaml" --reveal 2>&1); rc=$?
check "list refuses export's --reveal (rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q -- '--reveal: not an option of list'"
out=$(sub export --json --config "$T/a.yaml" 2>&1); rc=$?
check "export refuses list's --json (rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q -- '--json: not an option of export'"
out=$(sub show --config "$T/a.yaml" extra --supi imsi-001010000000001 2>&1); rc=$?
check "show takes no file argument (rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'unexpected argument'"
out=$(sub frobnicate --config "$T/a.yaml" 2>&1); rc=$?
check "an unknown verb names the verbs (rc $rc: $out)" \
  sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q 'unknown (add, modify, show, list, delete, import, export)'"
out=$(sub delete --config "$T/a.yaml" 2>&1); rc=$?
check "delete needs --supi (rc $rc: $out)" sh -c "[ $rc -eq 2 ] && echo '$out' | grep -q -- '--supi: required'"
finish
