#!/bin/sh
# Installs the Debian 12 packages that kedge needs, by list:
#   scripts/deps.sh [LIST...]     LIST: build (default), test, bench, demo, fuzz, deb, interop
#   build  what `make` and `make install` need: compiler, CMake, the libraries' -dev packages,
#          scdoc (man pages)
#   test   the peers `make test` and CI start or call: curl, nghttp, openssl, gnutls-cli,
#          nginx, redis-server, stunnel4, sqlite3, clang with its sanitizer runtime and
#          clang-format (make format-check), xmllint,
#          python3 with jsonschema (tests/openapi_check.py), man, systemd-analyze, the
#          packaging tools and debootstrap (test-man, test-units, test-deb)...
#   deb    what `make deb` needs besides the build list: dpkg-dev, debhelper, lintian
#   bench  the peers of `make bench`: h2load, nginx, stunnel4, redis-server, sqlite3; gnuplot
#          (the report's charts), perf, strace and taskset (docs/performance.md's profiles,
#          bench/ecs pins), cyclictest (rt-tests: bench/keyrequest's scheduling-latency floor)
#   demo   what `make demo`'s "try this" list uses: curl, jq
#   fuzz   clang and libFuzzer's runtime (`make fuzz`)
#   interop what `make interop` needs to build Open5GS's NRF, SCP and AUSF from source
#          (tests/interop/open5gs.sh; docs/interop.md). libgcrypt20-dev, not the virtual
#          libgcrypt-dev: dpkg-query sees only real packages as installed
# Idempotent: when everything is present it only runs dpkg-query and exits. Nothing it installs
# is started, nor enabled at boot: tests and benchmarks start their own instances on 127.0.0.1.
set -eu

list_build="
  build-essential cmake pkg-config
  libssl-dev libnghttp2-dev libevent-dev libcurl4-openssl-dev libjansson-dev libyaml-dev
  libsqlite3-dev libhiredis-dev libsystemd-dev libcmocka-dev
  scdoc
"
list_test="
  clang libclang-rt-14-dev clang-format
  openssl nghttp2-client curl gnutls-bin ca-certificates
  sqlite3 redis-server nginx-light stunnel4
  jq libxml2-utils librsvg2-bin
  python3 python3-jsonschema python3-yaml
  groff-base man-db systemd
  dpkg-dev debhelper lintian debootstrap iproute2
"
list_deb="
  dpkg-dev debhelper lintian
"
list_bench="
  nghttp2-client openssl curl sqlite3 redis-server nginx-light stunnel4
  gnuplot-nox linux-perf strace util-linux python3 rt-tests
"
list_demo="
  curl jq ca-certificates
"
list_fuzz="
  clang libclang-rt-14-dev
"
list_interop="
  meson ninja-build flex bison git libsctp-dev libc-ares-dev libgnutls28-dev libgcrypt20-dev
  libidn11-dev libmongoc-dev libbson-dev libmicrohttpd-dev libtalloc-dev libtins-dev
  libcurl4-openssl-dev libyaml-dev libnghttp2-dev
"
# Packages that ship a service; deps.sh disables at boot what it installed itself (Debian's
# postinst enables every unit it ships, and policy-rc.d only stops the start, not the enable).
services_of() {
  case $1 in
    redis-server) echo redis-server ;;
    nginx-light) echo nginx ;;
    stunnel4) echo stunnel4 ;;
  esac
}

[ $# -gt 0 ] || set -- build
PACKAGES=""
for l in "$@"; do
  case $l in
    build) PACKAGES="$PACKAGES $list_build" ;;
    test) PACKAGES="$PACKAGES $list_test" ;;
    bench) PACKAGES="$PACKAGES $list_bench" ;;
    demo) PACKAGES="$PACKAGES $list_demo" ;;
    fuzz) PACKAGES="$PACKAGES $list_fuzz" ;;
    deb) PACKAGES="$PACKAGES $list_deb" ;;
    interop) PACKAGES="$PACKAGES $list_interop" ;;
    *) echo "deps.sh: unknown list '$l' (build, test, bench, demo, fuzz, deb, interop)" >&2; exit 2 ;;
  esac
done

missing=""
for p in $PACKAGES; do
  case " $missing " in *" $p "*) continue ;; esac
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

# Not enabled at boot either: only the services of packages installed just now (what the
# operator installed and enabled before is theirs). Both init systems' links, when present.
for p in $missing; do
  for s in $(services_of "$p"); do
    if command -v deb-systemd-helper >/dev/null 2>&1; then
      deb-systemd-helper disable "$s.service" >/dev/null 2>&1 || true
    fi
    if [ -e "${KEDGE_INITD:-/etc/init.d}/$s" ] && command -v update-rc.d >/dev/null 2>&1; then
      update-rc.d "$s" disable >/dev/null 2>&1 || true
    fi
    echo "deps.sh: $s installed, not started and not enabled at boot"
  done
done
