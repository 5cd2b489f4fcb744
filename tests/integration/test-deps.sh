#!/bin/sh
# scripts/deps.sh against stub dpkg-query and apt-get: it installs what is missing and exits 0
# both when it must create policy-rc.d itself (and removes it after) and when the image already
# has one (every Debian container image: it is left alone), and exits 0 at once when nothing is
# missing. Nothing here touches the machine's packages or its /usr/sbin/policy-rc.d.
# Usage: sh test-deps.sh BUILD_DIR
BUILD=${1:?usage: test-deps.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
DEPS=$(cd "$(dirname "$0")/../.." && pwd)/scripts/deps.sh
STUB=$T/stub
mkdir -p "$STUB"
# dpkg-query: every package missing unless $T/all-installed exists.
cat >"$STUB/dpkg-query" <<EOS
#!/bin/sh
[ -e "$T/all-installed" ] && { printf installed; exit 0; }
exit 1
EOS
# apt-get: records its arguments and whether policy-rc.d was in place while it ran.
cat >"$STUB/apt-get" <<EOS
#!/bin/sh
echo "\$*" >>"$T/apt.log"
if [ -x "\$KEDGE_POLICY_RC_D" ]; then echo policy-present >>"$T/apt.log"; fi
exit 0
EOS
cat >"$STUB/id" <<'EOS'
#!/bin/sh
echo 0
EOS
# deb-systemd-helper and update-rc.d: record what deps.sh disables at boot.
cat >"$STUB/deb-systemd-helper" <<EOS
#!/bin/sh
echo "deb-systemd-helper \$*" >>"$T/boot.log"
EOS
cat >"$STUB/update-rc.d" <<EOS
#!/bin/sh
echo "update-rc.d \$*" >>"$T/boot.log"
EOS
mkdir -p "$T/init.d"
touch "$T/init.d/redis-server" "$T/init.d/nginx"
chmod +x "$STUB/dpkg-query" "$STUB/apt-get" "$STUB/id" "$STUB/deb-systemd-helper" \
  "$STUB/update-rc.d"

run_deps() {
  PATH="$STUB:$PATH" KEDGE_POLICY_RC_D="$T/policy-rc.d" KEDGE_INITD="$T/init.d" sh "$DEPS" "$@" \
    >"$T/deps.out" 2>&1
}
# installed LIST...: the packages of the last `apt-get install`, one a line.
installed() { grep '^install ' "$T/apt.log" | tail -1 | tr ' ' '\n' | grep -v '^-\|^install$\|^$'; }

# 1. No policy-rc.d before: deps.sh creates one for apt-get, removes it after, exits 0.
rm -f "$T/apt.log" "$T/policy-rc.d"
run_deps; rc=$?
check "no policy-rc.d before: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "no policy-rc.d before: apt-get install ran" grep -q '^install ' "$T/apt.log"
check "no policy-rc.d before: it was in place during apt-get" grep -q policy-present "$T/apt.log"
check "no policy-rc.d before: removed after" [ ! -e "$T/policy-rc.d" ]

# 2. The image ships one (a container): deps.sh exits 0 and leaves it as it was.
rm -f "$T/apt.log"
printf '#!/bin/sh\nexit 101\n# the image'"'"'s own\n' >"$T/policy-rc.d"
chmod 0755 "$T/policy-rc.d"
cp "$T/policy-rc.d" "$T/policy-rc.d.orig"
run_deps; rc=$?
check "policy-rc.d already there: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "policy-rc.d already there: apt-get install ran" grep -q '^install ' "$T/apt.log"
check "policy-rc.d already there: left in place, unchanged" cmp -s "$T/policy-rc.d" "$T/policy-rc.d.orig"

# 3. Nothing missing: exit 0 without apt-get.
rm -f "$T/apt.log"
touch "$T/all-installed"
run_deps; rc=$?
check "nothing missing: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "nothing missing: no apt-get" [ ! -e "$T/apt.log" ]
rm -f "$T/all-installed"

# 4. Separate lists (issue 11 item 7): `make` and `make install` get the build list only, with
# no test or benchmark peer; `make test` and `make bench` add theirs.
rm -f "$T/apt.log" "$T/boot.log" "$T/policy-rc.d"
run_deps build; rc=$?
installed >"$T/build.list"
check "build list: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "build list has the compiler and libsystemd-dev" grep -qx libsystemd-dev "$T/build.list"
check "build list has build-essential" grep -qx build-essential "$T/build.list"
for peer in nginx-light redis-server stunnel4 gnutls-bin clang nghttp2-client; do
  check "build list has no $peer" sh -c "! grep -qx $peer '$T/build.list'"
done
check "build list: nothing to disable at boot" [ ! -e "$T/boot.log" ]
run_deps; installed >"$T/default.list"
check "no list given means build" cmp -s "$T/build.list" "$T/default.list"

rm -f "$T/apt.log" "$T/boot.log"
run_deps test; rc=$?
installed >"$T/test.list"
check "test list: exit 0 (got $rc)" [ "$rc" -eq 0 ]
for peer in nginx-light redis-server stunnel4 gnutls-bin clang nghttp2-client curl; do
  check "test list has $peer" grep -qx $peer "$T/test.list"
done
check "test list: redis-server disabled at boot (systemd)" \
  grep -qx 'deb-systemd-helper disable redis-server.service' "$T/boot.log"
check "test list: nginx disabled at boot (systemd)" \
  grep -qx 'deb-systemd-helper disable nginx.service' "$T/boot.log"
check "test list: redis-server disabled at boot (sysv)" \
  grep -qx 'update-rc.d redis-server disable' "$T/boot.log"

rm -f "$T/apt.log"
run_deps bench; installed >"$T/bench.list"
for peer in nginx-light stunnel4 nghttp2-client redis-server; do
  check "bench list has $peer" grep -qx $peer "$T/bench.list"
done
check "bench list has no clang" sh -c "! grep -qx clang '$T/bench.list'"

run_deps frob; rc=$?
check "unknown list: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "unknown list: one line naming it" grep -q "unknown list 'frob'" "$T/deps.out"

# 5. The Makefile asks for the lists its goals need.
TOP=$(cd "$(dirname "$0")/../.." && pwd)
for goal in "all:build" "install:build" "test:build test" "bench:build bench" "demo:build demo"; do
  g=${goal%%:*} want=${goal#*:}
  line=$(make -n -C "$TOP" BUILD="$T/none" "$g" 2>/dev/null | grep 'scripts/deps.sh' | head -1)
  check "make $g runs deps.sh $want (got: $line)" [ "$line" = "scripts/deps.sh $want" ]
done

[ "$FAILS" -eq 0 ] || cat "$T/deps.out"
finish
