#!/bin/sh
# The benchmark report's logic (bench/report/kbench.py) on fixture files, no benchmark run:
# `check` names the CPU-per-operation figure that moved by more than 20 % against the baseline
# and no other; `report` takes medians, min-max, ratios to the peer and says met / not met;
# `add` and `merge` accumulate one value per run; a broken file gets one line naming it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
KB="/usr/bin/python3 $here/../../bench/report/kbench.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- check: +50 % on one CPU figure, +5 % on another, a rate that moved (not compared) ---
cp -r "$here/current" "$T/cur"
$KB report "$T/cur" >/dev/null
$KB check "$T/cur" "$here/baseline.json" >"$T/check.out" || fail "check exited $?"
cat "$T/check.out"
grep -q '^  SLOWER  *kdf.kedge_id_cpu_us_per_derivation: 2.00 -> 3.00 us (+50 %)' "$T/check.out" ||
  fail "the moved figure is not reported"
grep -q '^  same  *kdf.he_av_cpu_us_per_vector: .*(+5 %)' "$T/check.out" || fail "+5 % is not 'same'"
grep -q 'kdf.kedge_id_rate' "$T/check.out" && fail "a rate was compared (only *_cpu_us_per_*)"
grep -q '^  new  *kdf.new_cpu_us_per_thing' "$T/check.out" || fail "a new figure is not named"
grep -q '^  missing  *sbi.get_cpu_us_per_request' "$T/check.out" || fail "a missing figure is not named"
grep -q '1 figure(s) moved by more than 20 %' "$T/check.out" || fail "wrong count of moved figures"
# a result file as the current side works as well, and a lower threshold catches the +5 %
$KB check "$T/cur/kdf.json" "$here/baseline.json" --threshold 0.04 | grep -q '2 figure(s) moved' ||
  fail "--threshold 0.04 should report 2 figures"

# --- report: medians, ratios, verdicts ---
grep -q '| Kedge + Kedge ID (`kdf.kedge_id_cpu_us_per_derivation`) | 3.00 us | 2.90–3.10 | 3 | HMAC(): 1.00 us | 3.00 | ratio ≤ 2.2 | \*\*not met\*\* |' \
  "$T/cur/report.md" || { cat "$T/cur/report.md"; fail "report row for the figure with a peer"; }
grep -q '| 0.50 | ratio ≥ 0.4 | met |' "$T/cur/report.md" || fail "the met target"
grep -q 'Targets: 1 met, 1 not met.' "$T/cur/report.md" || fail "target count"
/usr/bin/python3 - "$T/cur/report.json" <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["id"]: x for b in r["benches"] for x in b["figures"]}["kdf.kedge_id_cpu_us_per_derivation"]
assert (f["median"], f["min"], f["max"], f["runs"]) == (3.0, 2.9, 3.1, 3), f
assert abs(f["ratio"] - 3.0) < 1e-9 and f["verdict"] == "not met", f
assert r["targets"] == {"met": 1, "not_met": 1}, r["targets"]
PY
if command -v gnuplot >/dev/null 2>&1; then
  grep -q '<svg' "$T/cur/kdf_curve.svg" || fail "no SVG for the curve"
fi

# --- add and merge: one value per run, points replaced by x ---
$KB add "$T/a.json" --bench x --id x.y_cpu_us_per_op --label y --unit us --better lower --value 1 \
  --peer-name p --peer-value 2 --target ratio_max=1.3
$KB add "$T/a.json" --bench x --id x.y_cpu_us_per_op --label y --unit us --better lower --value 3 \
  --peer-name p --peer-value 4
$KB point "$T/a.json" --bench x --curve x.c --title t --x n --y r --series s 10 1
$KB point "$T/a.json" --bench x --curve x.c --title t --x n --y r --series s 10 2
cp "$T/a.json" "$T/b.json"
$KB merge "$T/b.json" "$T/a.json"
/usr/bin/python3 - "$T/a.json" <<'PY' || fail "add/merge"
import json, sys
d = json.load(open(sys.argv[1]))
f = d["figures"][0]
assert f["values"] == [1.0, 3.0, 1.0, 3.0] and f["peer"]["values"] == [2.0, 4.0, 2.0, 4.0], f
assert f["target"] == {"ratio_max": 1.3}, f
assert d["curves"][0]["series"][0]["points"] == [[10.0, 2.0]], d["curves"]
PY

# --- time: bench.sh's time.tsv as the report's "Time" table, planned beside actual ---
cp -r "$here/current" "$T/timed"
printf 'name\tplanned_s\tactual_s\tplan\nkdf\t47\t94\t3 x 15 s\nsuci\t48\t40\t3 x 15 s\n' >"$T/timed/time.tsv"
$KB report "$T/timed" >/dev/null
grep -q '^## Time' "$T/timed/report.md" || fail "no Time section"
grep -q '^| kdf | 47 | 94 | 2.00 | 3 x 15 s |' "$T/timed/report.md" || fail "the kdf time row"
grep -q '^| \*\*total\*\* | 95 | 134 | 1.41 | |' "$T/timed/report.md" || fail "the time total"
grep -q 'Budget: 1800 s (full run' "$T/timed/report.md" || fail "the budget line"
/usr/bin/python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["time"]; assert (t["planned_s"], t["actual_s"], t["budget_s"]) == (95, 134, 1800), t' \
  "$T/timed/report.json" || fail "report.json time"
printf 'name\tplanned_s\tactual_s\tplan\nkdf\tx\t94\tp\n' >"$T/timed/time.tsv"
if $KB report "$T/timed" 2>"$T/err" >/dev/null; then fail "a broken time.tsv was accepted"; fi
grep -q "time.tsv:2: planned_s" "$T/err" || fail "the error does not name time.tsv's line: $(cat "$T/err")"

# --- bad input: one line naming the file, exit 2 ---
echo '{"figures": 3' >"$T/bad.json"
if $KB check "$T/bad.json" "$here/baseline.json" 2>"$T/err"; then fail "a broken file was accepted"; fi
grep -q "bad.json: cannot read" "$T/err" || fail "the error does not name the file: $(cat "$T/err")"
if $KB add "$T/a.json" --bench x --id z --label z --unit us --better lower --value abc 2>"$T/err"; then
  fail "a non-number was accepted"
fi
grep -q "'abc' is not a number" "$T/err" || fail "no clear error for a non-number"
echo "ok"
