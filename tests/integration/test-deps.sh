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
chmod +x "$STUB/dpkg-query" "$STUB/apt-get" "$STUB/id"

run_deps() { PATH="$STUB:$PATH" KEDGE_POLICY_RC_D="$T/policy-rc.d" sh "$DEPS" >"$T/deps.out" 2>&1; }

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
[ "$FAILS" -eq 0 ] || cat "$T/deps.out"
finish
