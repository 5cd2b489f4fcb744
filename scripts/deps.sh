#!/bin/sh
# Installs the Debian 12 packages that kedge's build, tests, demo and benchmarks need.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -eu

PACKAGES="
  build-essential cmake pkg-config clang libclang-rt-14-dev scdoc
  libssl-dev openssl
  libnghttp2-dev nghttp2-client
  libevent-dev
  libcurl4-openssl-dev curl
  libjansson-dev
  libyaml-dev
  libsqlite3-dev sqlite3
  libhiredis-dev redis-server
  libcmocka-dev
  nginx-light stunnel4 gnutls-bin
  ca-certificates jq
  python3 python3-jsonschema python3-yaml
  libxml2-utils librsvg2-bin
  groff-base man-db systemd
  dpkg-dev debhelper lintian debootstrap iproute2
"

missing=""
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing packages:$missing; run as root (or: sudo apt-get install$missing)" >&2
  exit 1
fi

echo "deps.sh: installing$missing"
# Daemons installed here (redis-server, nginx) must not be started by their packages: tests start
# their own instances on 127.0.0.1. policy-rc.d 101 tells invoke-rc.d not to start services.
# KEDGE_POLICY_RC_D: another path for it (tests/integration/test-deps.sh, which must not touch
# the real one).
policy=${KEDGE_POLICY_RC_D:-/usr/sbin/policy-rc.d}
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  own_policy=1
fi
# An EXIT trap's status becomes the script's: it must succeed when there is nothing to remove (an
# image that ships its own policy-rc.d, as every Debian container image does).
cleanup() {
  if [ "$own_policy" -eq 1 ]; then rm -f "$policy"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
