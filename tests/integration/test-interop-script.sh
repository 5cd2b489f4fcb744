#!/bin/sh
# tests/interop/open5gs.sh (`make interop`, docs/interop.md) without Open5GS: CI machines cannot
# download it, so without OPEN5GS_SRC the script says so in one line and exits 0; a tree that is
# not there, or lacks the subprojects meson needs, stops it with one line naming what is missing
# (exit 1) before anything is built or started.
# Usage: sh test-interop-script.sh BUILD_DIR
BUILD=${1:?usage: test-interop-script.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
S=$(cd "$(dirname "$0")/../interop" && pwd)/open5gs.sh

out=$(env -u OPEN5GS_SRC sh "$S" "$BUILD" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q '^interop: OPEN5GS_SRC is not set' &&
  ok "OPEN5GS_SRC unset: one line, exit 0" || fail "OPEN5GS_SRC unset (rc $rc): $out"

out=$(OPEN5GS_SRC=$T/nowhere sh "$S" "$BUILD" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "OPEN5GS_SRC=$T/nowhere: no such directory" &&
  ok "OPEN5GS_SRC not a directory: one line, exit 1" || fail "missing tree (rc $rc): $out"

mkdir -p "$T/o5gs/subprojects/prometheus-client-c"
out=$(OPEN5GS_SRC=$T/o5gs OPEN5GS_BUILD=$T/o5gs-build sh "$S" "$BUILD" 2>&1)
rc=$?
[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q "subprojects/freeDiameter is missing" &&
  [ ! -e "$T/o5gs-build" ] && ok "a tree without subprojects/freeDiameter: one line naming it, nothing built" ||
  fail "no freeDiameter (rc $rc): $out"
finish
