#!/bin/sh
# bench/import: provisioning at scale (issue 11 item 9). `kedge-udmd subscriber import` of N
# subscribers (default 1,000,000) from an RFC 4180 CSV into a new SQLite subscriber database
# (K and OPc sealed with AES-256-GCM, one transaction), then `export` (JSON lines, sealed) and
# `import -` of that export into a second database. For each: wall time, rate, the peak RSS of
# the process (VmHWM from /proc, sampled), and the database size.
# Peer in the same run: the sqlite3 shell's `.import` of the same CSV into a plain table with
# the same columns (no parsing into fields, no sealing, no checks): the floor SQLite itself sets.
# Nothing is asserted. The CSV import and its peer run KEDGE_BENCH_RUNS times (default 1), each
# into new files; with KEDGE_BENCH_OUT, the result file import.json (bench/report/kbench.py),
# CPU per subscriber from the shell's `times` (user + system of the finished children).
# Usage: sh bench/import/run.sh [BUILD_DIR]    env: N=1000000
set -eu
BUILD=${1:-build}
N=${N:-1000000}
BIN=$BUILD/bin
for prog in kedge kedge-udmd; do
  [ -x "$BIN/$prog" ] || { echo "bench/import: $BIN/$prog missing"; exit 1; }
done
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
"$BIN/kedge" pki init "$T/pki" >/dev/null
"$BIN/kedge" master-key "$T/m.key" >/dev/null
for db in a b; do
  cat >"$T/$db.yaml" <<EOC
sbi: {port: 0, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}}
udm: {database: $T/$db.sqlite, master_key: $T/m.key, allowed_consumers: [ausf.kedge.test]}
EOC
done
awk -v n="$N" 'BEGIN {
  print "supi,k,opc,sqn,rid,edge"
  for (i = 0; i < n; i++)
    printf "imsi-00101%010d,465b5ce8b199b49faa5f0a2ee238a6bc,cd63cb71954a9f4e48a5994e37a02baf,%012x,%d,%s\n",
      i, i % 4096, i % 10, (i % 3 ? "true" : "false")
}' >"$T/s.csv"
chmod 600 "$T/s.csv"

now() { date +%s.%N; }
# children_cpu VAR: sets VAR to the user + system seconds of this shell's finished children so
# far (`times` in this shell, not in a $(...) subshell, which has no children of its own)
children_cpu() {
  times >"$T/times"
  eval "$1=$(tail -1 "$T/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }')"
}
RUNS=${KEDGE_BENCH_RUNS:-1}
KBENCH="/usr/bin/python3 $(cd "$(dirname "$0")/.." && pwd)/report/kbench.py"
OUT=${KEDGE_BENCH_OUT:+$KEDGE_BENCH_OUT/import.json}
# measure NAME CMD...: runs CMD (stdin/stdout as given), sampling its VmHWM; prints a line.
peak=0
run_sampled() { # stdin from $IN (a background job's stdin is /dev/null otherwise)
  "$@" <"${IN:-/dev/null}" &
  pid=$!
  peak=0
  while kill -0 "$pid" 2>/dev/null; do
    h=$(sed -n 's/^VmHWM:[^0-9]*\([0-9]*\) kB/\1/p' /proc/"$pid"/status 2>/dev/null || true)
    [ -n "$h" ] && [ "$h" -gt "$peak" ] && peak=$h
    sleep 0.05
  done
  wait "$pid"
}
size_of() { du -cb "$@" 2>/dev/null | tail -1 | cut -f1; }
report() { # report WHAT SECONDS PEAK_KB FILES...
  awk -v w="$1" -v s="$2" -v n="$N" -v kb="$3" -v b="$4" 'BEGIN {
    printf "%-44s %8.2f s %10.0f /s  peak RSS %6.1f MiB  size %7.1f MiB\n", w, s, n / s, kb / 1024,
      b / 1048576 }'
}

echo "bench/import: $N subscribers, $(nproc) CPUs (load average $(cut -d" " -f1-3 /proc/loadavg)), $(sqlite3 --version 2>/dev/null | cut -d' ' -f1 | sed 's/^/SQLite /')"
echo "CSV: $(size_of "$T/s.csv" | awk '{printf "%.1f MiB", $1 / 1048576}')"
run=1
while [ $run -le "$RUNS" ]; do
  rm -f "$T"/a.sqlite* "$T"/peer.sqlite*
  children_cpu c0
  t0=$(now)
  run_sampled "$BIN/kedge-udmd" subscriber import --config "$T/a.yaml" "$T/s.csv" >"$T/out"
  t1=$(now)
  children_cpu c1
  grep -q "imported $N subscribers" "$T/out" || { echo "import failed: $(cat "$T/out")"; exit 1; }
  import_s=$(echo "$t1 $t0" | awk '{print $1 - $2}')
  import_peak=$peak import_size=$(size_of "$T"/a.sqlite*)
  report "kedge-udmd subscriber import (CSV)" "$import_s" "$peak" "$import_size"

  # The peer right after kedge's CSV import, so both see about the same machine.
  peer_s= peer_cpu=
  if command -v sqlite3 >/dev/null 2>&1; then
    cat >"$T/peer.sql" <<EOS
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
CREATE TABLE subscriber (supi TEXT PRIMARY KEY, k TEXT NOT NULL, opc TEXT NOT NULL,
  sqn TEXT NOT NULL, rid TEXT NOT NULL, edge TEXT NOT NULL) WITHOUT ROWID;
.import --csv --skip 1 $T/s.csv subscriber
EOS
    t0=$(now)
    run_sampled sqlite3 "$T/peer.sqlite" ".read $T/peer.sql" >/dev/null
    t1=$(now)
    children_cpu c2
    peer_s=$(echo "$t1 $t0" | awk '{print $1 - $2}')
    peer_size=$(size_of "$T"/peer.sqlite*)
    report "peer: sqlite3 .import (plain table, no sealing)" "$peer_s" "$peak" "$peer_size"
    awk -v a="$import_s" -v p="$peer_s" 'BEGIN {
      printf "kedge CSV import time / sqlite3 .import time: %.2f (run back to back; the machine is shared)\n", a / p }'
  else
    echo "peer: sqlite3 not installed (scripts/deps.sh bench)"
  fi
  if [ -n "$OUT" ]; then
    P="sqlite3 .import (plain table, no sealing)"
    $KBENCH add "$OUT" --bench import --id import.csv_rate --label "subscriber import from CSV, $N rows" \
      --unit /s --better higher --value "$(awk -v n="$N" -v s="$import_s" 'BEGIN { print n / s }')" \
      ${peer_s:+--peer-name "$P" --peer-value "$(awk -v n="$N" -v s="$peer_s" 'BEGIN { print n / s }')"}
    $KBENCH add "$OUT" --bench import --id import.csv_cpu_us_per_subscriber \
      --label "subscriber import CPU per subscriber (parse, seal K and OPc, insert)" --unit us --better lower \
      --value "$(awk -v n="$N" -v c="$(echo "$c1 $c0" | awk '{print $1 - $2}')" 'BEGIN { print c / n * 1e6 }')" \
      ${peer_s:+--peer-name "$P" --peer-value "$(awk -v n="$N" -v c="$(echo "$c2 $c1" | awk '{print $1 - $2}')" 'BEGIN { print c / n * 1e6 }')"}
    $KBENCH add "$OUT" --bench import --id import.bytes_per_subscriber --label "subscriber database size per subscriber" \
      --unit B --better lower --value "$(awk -v n="$N" -v b="$import_size" 'BEGIN { print b / n }')" \
      ${peer_s:+--peer-name "$P" --peer-value "$(awk -v n="$N" -v b="$peer_size" 'BEGIN { print b / n }')"}
    $KBENCH add "$OUT" --bench import --id import.peak_rss --label "subscriber import peak RSS" --unit MiB \
      --better lower --value "$(awk -v kb="$import_peak" 'BEGIN { print kb / 1024 }')"
  fi
  run=$((run + 1))
done

t0=$(now)
run_sampled "$BIN/kedge-udmd" subscriber export --config "$T/a.yaml" >"$T/export.jsonl"
t1=$(now)
report "kedge-udmd subscriber export (JSON lines)" "$(echo "$t1 $t0" | awk '{print $1 - $2}')" \
  "$peak" "$(size_of "$T/export.jsonl")"

t0=$(now)
IN=$T/export.jsonl run_sampled "$BIN/kedge-udmd" subscriber import --config "$T/b.yaml" - >"$T/out"
t1=$(now)
grep -q "imported $N subscribers" "$T/out" || { echo "import of the export failed: $(cat "$T/out")"; exit 1; }
report "kedge-udmd subscriber import - (sealed JSONL)" "$(echo "$t1 $t0" | awk '{print $1 - $2}')" \
  "$peak" "$(size_of "$T"/b.sqlite*)"

