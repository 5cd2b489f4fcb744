#!/bin/sh
# The systemd units that CMake generates (build/systemd/, contrib/systemd/*.service.in): each
# names the configured programs' directory, passes `systemd-analyze verify` (with the units
# pointed at this build's programs, which must exist for verify) and is rated at most 2.0 ("OK")
# by `systemd-analyze security --offline=true`; sysusers.d creates the kedge user the units run
# as. PID 1 here is not systemd: starting the units is not proven here (docs/packaging.md).
# Usage: sh test-units.sh BUILD_DIR
BUILD=${1:?usage: test-units.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "SKIPPED: systemd-analyze is not installed (package systemd)"
  exit 77
fi
bindir=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")/bin
n=0
for u in "$BUILD"/systemd/*.service; do
  name=$(basename "$u")
  n=$((n + 1))
  grep -q "^ExecStart=$bindir/kedge-" "$u" && ok "$name: ExecStart in $bindir" ||
    fail "$name: ExecStart does not name $bindir: $(grep '^ExecStart=' "$u")"
  grep -q '@[A-Z_]*@' "$u" && fail "$name: an unsubstituted @VAR@ is left"
  out=$(cd "$BUILD/systemd" && systemd-analyze security --offline=true "$name" 2>&1)
  score=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  if [ -z "$score" ]; then
    fail "$name: no rating from systemd-analyze security: $out"
  elif awk "BEGIN { exit !($score <= 2.0) }"; then
    ok "$name: systemd-analyze security rates it $score (at most 2.0)"
  else
    fail "$name: systemd-analyze security rates it $score (above 2.0):
$(printf '%s\n' "$out" | grep '✗')"
  fi
  (cd "$BUILD/systemd" && systemd-analyze security --offline=true --threshold=20 "$name" \
    >/dev/null 2>&1) || fail "$name: systemd-analyze security --threshold=20 refuses it"
  for k in 'Type=notify' 'User=kedge' 'StateDirectory=kedge' 'ConfigurationDirectory=kedge' \
    'UMask=0077' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'PrivateDevices=yes' \
    'CapabilityBoundingSet=$' 'SystemCallFilter=@system-service' 'RestrictAddressFamilies=' 'WatchdogSec=30s'; do
    case "$name:$k" in kedge-ue-agent.service:Type=notify | kedge-ue-agent.service:WatchdogSec=*) continue ;; esac
    grep -q "^$k" "$u" || fail "$name: no $k"
  done
done
[ "$n" -eq 6 ] && ok "6 units generated" || fail "$n units generated, 6 expected"
for nf in udm ausf aanf; do
  grep -q "^LoadCredential=$nf-master.key:/etc/kedge/$nf-master.key\$" "$BUILD/systemd/kedge-${nf}d.service" &&
    grep -q "master_key: /etc/kedge/$nf-master.key" "$SRC/conf/$nf.yaml" &&
    ok "kedge-${nf}d gets conf/$nf.yaml's master key with LoadCredential=" ||
    fail "kedge-${nf}d: no LoadCredential= for conf/$nf.yaml's master_key"
done
grep -q '^After=.*kedge-udmd.service' "$BUILD/systemd/kedge-ausfd.service" &&
  grep -q '^After=.*kedge-aanfd.service' "$BUILD/systemd/kedge-ausfd.service" &&
  grep -q '^After=.*kedge-ausfd.service' "$BUILD/systemd/kedge-nefd.service" &&
  grep -q '^After=.*kedge-aanfd.service' "$BUILD/systemd/kedge-nefd.service" &&
  ok "ordering: UDM and AAnF, then AUSF, then NEF" || fail "ordering UDM, AAnF -> AUSF -> NEF missing"

# verify: the same templates with this build's programs, which exist.
cmake -DKEDGE_UNITS_SRC="$SRC/contrib/systemd" -DKEDGE_UNITS_OUT="$T/units" \
  -DKEDGE_BINDIR="$BIN" -P "$SRC/cmake/units.cmake" || fail "cmake -P cmake/units.cmake"
for u in "$T"/units/*.service; do
  if out=$(systemd-analyze verify --man=no "$u" 2>&1) && [ -z "$out" ]; then
    ok "$(basename "$u"): systemd-analyze verify is silent"
  else
    fail "$(basename "$u"): systemd-analyze verify: $out"
  fi
done

# sysusers.d: the kedge user and group, in a scratch root.
if command -v systemd-sysusers >/dev/null 2>&1; then
  mkdir -p "$T/root/etc"
  : >"$T/root/etc/passwd"
  : >"$T/root/etc/group"
  systemd-sysusers --root="$T/root" "$SRC/contrib/systemd/kedge.sysusers" 2>"$T/sysusers.log" ||
    fail "systemd-sysusers: $(cat "$T/sysusers.log")"
  grep -q '^kedge:x:[0-9]*:[0-9]*:.*:/var/lib/kedge:/usr/sbin/nologin$' "$T/root/etc/passwd" &&
    ok "sysusers.d creates the kedge user (home /var/lib/kedge, no shell)" ||
    fail "no kedge user: $(cat "$T/root/etc/passwd")"
  grep -q '^kedge:x:' "$T/root/etc/group" && ok "sysusers.d creates the kedge group" ||
    fail "no kedge group"
fi
finish
