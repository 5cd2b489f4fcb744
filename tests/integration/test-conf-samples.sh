#!/bin/sh
# Every sample configuration in conf/ loads with --check-config of its program (paths pointed
# at a temporary PKI), so the documented keys stay the real ones.
# Usage: sh test-conf-samples.sh BUILD_DIR
BUILD=${1:?usage: test-conf-samples.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
CONF=$(cd "$(dirname "$0")/../../conf" && pwd)
pki_init
"$BIN/kedge" pki issue "$T/pki" aanf >/dev/null  # conf/aanf.yaml: the AAnF's certificate
n=0
for f in "$CONF"/*.yaml; do
  name=$(basename "$f" .yaml)
  case $name in
    ue) prog=kedge-ue ;;
    ecs*) prog=kedge-ecsd ;;
    *) prog=kedge-${name}d ;;
  esac
  [ -x "$BIN/$prog" ] || { fail "$f: no program $prog"; continue; }
  sed -e "s#/etc/kedge/pki/#$T/pki/#g" -e "s#/var/lib/kedge/#$T/#g" -e "s#/etc/kedge/#$T/#g" \
    "$f" >"$T/$name.yaml"
  chmod 600 "$T/$name.yaml" # ue.yaml holds K and OPc: kedge-ue refuses it otherwise
  out=$(cd "$T" && "$BIN/$prog" --check-config --config "$T/$name.yaml" 2>&1) &&
    ok "conf/$name.yaml passes $prog --check-config" || fail "conf/$name.yaml: $out"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "only $n sample configurations found"
finish
