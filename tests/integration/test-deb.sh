#!/bin/sh
# The Debian packages, built and installed as a new user would: `scripts/deb.sh` (dpkg-buildpackage
# -us -uc -b, lintian without errors) builds kedge and libkedge-dev; a throw-away Debian 12 root
# made by debootstrap (minbase, from the Debian archive; the tarball is cached in
# BUILD/deb-cache so the download is paid once) installs them with `apt-get install ./*.deb`,
# which resolves their dependencies from Debian. Then: the files are in place, /etc/kedge's
# samples are conffiles, sysusers.d made the kedge user, no unit is enabled or started, the
# installed units pass `systemd-analyze verify` and `security --offline=true` (at most 2.0),
# and after `kedge pki init` and `kedge master-key` the unit's ExecStartPre
# (--check-config) and ExecStart run as the kedge user, umask 0077, with the master key handed
# over as systemd's LoadCredential= does, in a private network namespace: the UDM serves its
# metrics and stops with exit 0 on SIGTERM. PID 1 here is not systemd, so `systemctl start`
# itself is not run (docs/packaging.md says what that leaves unproven).
# Skipped (exit 77) without root, debootstrap, dpkg-buildpackage, unshare or the archive, in a
# sanitizer build, or with KEDGE_TEST_DEB=0; KEDGE_TEST_DEB=1 (make test-deb) turns a skip
# into a failure.
# Usage: sh test-deb.sh BUILD_DIR
BUILD=${1:?usage: test-deb.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
MIRROR=${KEDGE_DEB_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm

skip() {
  if [ "${KEDGE_TEST_DEB:-}" = 1 ]; then
    fail "cannot run (KEDGE_TEST_DEB=1): $*"
    finish
  fi
  echo "SKIPPED: $*"
  exit 77
}
[ "${KEDGE_TEST_DEB:-}" = 0 ] && skip "KEDGE_TEST_DEB=0"
grep -q 'KEDGE_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" &&
  skip "sanitizer build (the packages are built without sanitizers; the gcc run covers them)"
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot)"
for t in debootstrap dpkg-buildpackage dh lintian unshare chroot; do
  command -v "$t" >/dev/null 2>&1 || skip "$t is not installed (scripts/deps.sh test)"
done

ROOT=$T/root
deb_cleanup() {
  [ -n "${UDM_PID:-}" ] && kill -9 "$UDM_PID" 2>/dev/null
  umount "$ROOT/proc" 2>/dev/null
  # Nothing of the host may stay mounted below $T before lib.sh removes it.
  if grep -q " $ROOT/" /proc/mounts; then
    echo "test-deb: $ROOT still has mounts; not removing $T"
    T=/nonexistent
  fi
}
trap 'deb_cleanup; lib_cleanup' EXIT INT TERM

START=$(date +%s)
took() { echo "$(($(date +%s) - START)) s"; }
# 1. The packages.
if "$SRC/scripts/deb.sh" "$BUILD/deb" >"$T/deb.log" 2>&1; then
  ok "scripts/deb.sh built $(cd "$BUILD/deb" && ls *.deb | tr '\n' ' ')and lintian found no error ($(took))"
else
  fail "scripts/deb.sh: $(tail -20 "$T/deb.log")"
  finish
fi
# Known warnings are listed (with the reason) in docs/packaging.md and debian/lintian-known,
# which scripts/deb.sh suppresses: any other is new.
if grep -qE '^[WE]: ' "$T/deb.log"; then
  fail "lintian: new warnings (fix them, or list them with a reason in debian/lintian-known and docs/packaging.md):
$(grep -E '^[WE]: ' "$T/deb.log")"
else
  ok "lintian: no warning beyond debian/lintian-known"
fi

# 2. A Debian 12 root: debootstrap's tarball once per build directory, then unpacked anew.
CACHE=$BUILD/deb-cache/$SUITE-minbase.tgz
if [ ! -s "$CACHE" ]; then
  mkdir -p "$BUILD/deb-cache"
  debootstrap --variant=minbase --make-tarball="$CACHE.part" "$SUITE" "$T/mk" "$MIRROR" \
    >"$T/debootstrap.log" 2>&1 || {
    rm -f "$CACHE.part"
    skip "debootstrap --make-tarball from $MIRROR failed (no archive?): $(tail -3 "$T/debootstrap.log")"
  }
  mv "$CACHE.part" "$CACHE"
fi
# Unpacking runs dpkg some 90 times (2 min on a busy machine): the finished root is kept too.
if [ -s "$CACHE.root.tar" ]; then
  mkdir "$ROOT" && tar -C "$ROOT" -xpf "$CACHE.root.tar" || { fail "tar -x $CACHE.root.tar"; finish; }
  ok "a $SUITE minbase root from $CACHE.root.tar ($(took))"
else
  debootstrap --variant=minbase --unpack-tarball="$CACHE" "$SUITE" "$ROOT" "$MIRROR" \
    >"$T/debootstrap.log" 2>&1 || {
    fail "debootstrap --unpack-tarball: $(tail -5 "$T/debootstrap.log")"
    finish
  }
  tar -C "$ROOT" -cf "$CACHE.root.tar.part" . && mv "$CACHE.root.tar.part" "$CACHE.root.tar"
  ok "debootstrap: a $SUITE minbase root from $CACHE ($(took))"
fi
mount -t proc proc "$ROOT/proc" || { fail "mount proc"; finish; }
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
# The host's archive list (point release, updates, security) so that versions match the build.
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
  rm -f "$ROOT/etc/apt/sources.list"
  cp /etc/apt/sources.list.d/*.sources "$ROOT/etc/apt/sources.list.d/"
fi
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# 3. apt-get install ./*.deb: the dependencies come from Debian.
mkdir -p "$ROOT/tmp/debs"
cp "$BUILD"/deb/kedge_*.deb "$BUILD"/deb/libkedge-dev_*.deb "$ROOT/tmp/debs/"
if in_root apt-get update -q >"$T/apt.log" 2>&1 &&
  (cd "$ROOT/tmp/debs" && in_root sh -c 'cd /tmp/debs && DEBIAN_FRONTEND=noninteractive \
     apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-unsafe-io \
       ./kedge_*.deb ./libkedge-dev_*.deb') \
    >>"$T/apt.log" 2>&1; then
  ok "apt-get install ./kedge_*.deb ./libkedge-dev_*.deb ($(grep -c '^Setting up' "$T/apt.log") packages set up, $(took))"
else
  fail "apt-get install: $(tail -15 "$T/apt.log")"
  finish
fi

# 4. Files, conffiles, the user, nothing enabled.
for f in /usr/bin/kedge /usr/bin/kedge-udmd /usr/bin/kedge-ausfd /usr/bin/kedge-aanfd /usr/bin/kedge-nefd \
  /usr/bin/kedge-ecsd /usr/bin/kedge-eec /usr/bin/kedge-ue /etc/kedge/udm.yaml /etc/kedge/ausf.yaml \
  /etc/kedge/nef.yaml /etc/kedge/ecs.yaml /etc/kedge/ue.yaml /lib/systemd/system/kedge-udmd.service \
  /lib/systemd/system/kedge-ausfd.service /lib/systemd/system/kedge-nefd.service \
  /lib/systemd/system/kedge-ecsd.service /lib/systemd/system/kedge-ue-agent.service \
  /lib/systemd/system/kedge-aanfd.service /etc/kedge/aanf.yaml /usr/share/man/man8/kedge-aanfd.8.gz \
  /usr/lib/sysusers.d/kedge.conf /usr/lib/tmpfiles.d/kedge.conf /usr/share/man/man8/kedge-udmd.8.gz \
  /usr/share/man/man5/kedge.yaml.5.gz /usr/share/man/man1/kedge.1.gz \
  /usr/share/bash-completion/completions/kedge /usr/share/bash-completion/completions/kedge-udmd \
  /usr/include/kedge/edge.h /usr/lib/x86_64-linux-gnu/libkedge-crypto.a \
  /usr/lib/x86_64-linux-gnu/libkedge-core.a /usr/lib/x86_64-linux-gnu/libkedge-sbi.a \
  /usr/lib/x86_64-linux-gnu/libkedge-store.a /usr/lib/x86_64-linux-gnu/pkgconfig/kedge.pc \
  /usr/lib/x86_64-linux-gnu/pkgconfig/kedge-crypto.pc; do
  [ -e "$ROOT$f" ] || fail "not installed: $f"
done
ok "programs, /etc/kedge samples, units, sysusers/tmpfiles entries, man pages, completion, headers, libkedge-*.a, kedge*.pc installed"
conffiles=$(in_root dpkg-query -W -f='${Conffiles}' kedge)
for c in udm ausf aanf nef ecs ue; do
  printf '%s\n' "$conffiles" | grep -q " /etc/kedge/$c.yaml " || fail "/etc/kedge/$c.yaml is not a conffile"
done
ok "/etc/kedge/*.yaml are conffiles"
pw=$(in_root getent passwd kedge)
case $pw in
  kedge:x:*:*:*:/var/lib/kedge:/usr/sbin/nologin) ok "sysusers.d made the kedge user: $pw" ;;
  *) fail "kedge user: '$pw'" ;;
esac
st=$(in_root stat -c '%U:%G %a' /var/lib/kedge 2>&1)
[ "$st" = "kedge:kedge 700" ] && ok "tmpfiles.d made /var/lib/kedge ($st)" || fail "/var/lib/kedge: $st"
wants=$(find "$ROOT/etc/systemd/system" -name 'kedge*' 2>/dev/null)
[ -z "$wants" ] && ok "no kedge unit is enabled (no link in /etc/systemd/system)" ||
  fail "enabled on installation: $wants"
for u in kedge-udmd kedge-ausfd kedge-aanfd kedge-nefd kedge-ecsd kedge-ue-agent; do
  s=$(systemctl --root="$ROOT" is-enabled "$u.service" 2>&1)
  [ "$s" = disabled ] || fail "systemctl is-enabled $u: $s"
done
ok "systemctl --root is-enabled: every kedge unit disabled"

# 5. The installed units, as installed.
for u in kedge-udmd kedge-ausfd kedge-aanfd kedge-nefd kedge-ecsd kedge-ue-agent; do
  out=$(in_root systemd-analyze verify --man=no "/lib/systemd/system/$u.service" 2>&1)
  [ -z "$out" ] || fail "$u.service: systemd-analyze verify in the root: $out"
  score=$(in_root systemd-analyze security --offline=true "/lib/systemd/system/$u.service" 2>&1 |
    sed -n 's/.*Overall exposure level for .*: \([0-9.]*\) .*/\1/p')
  [ -n "$score" ] && awk "BEGIN { exit !($score <= 2.0) }" ||
    fail "$u.service: exposure '$score' in the root"
done
ok "installed units: systemd-analyze verify silent, security --offline at most 2.0"

# 6. The operator's first steps (docs/operations.md), then the UDM as its unit runs it.
in_root sh -c 'kedge pki init /etc/kedge/pki >/dev/null && kedge pki issue /etc/kedge/pki aanf >/dev/null &&
  kedge master-key /etc/kedge/udm-master.key && kedge master-key /etc/kedge/ausf-master.key &&
  kedge master-key /etc/kedge/aanf-master.key &&
  chgrp kedge /etc/kedge/pki /etc/kedge/pki/*.key && chmod 0750 /etc/kedge/pki &&
  chmod 0640 /etc/kedge/pki/udm.key /etc/kedge/pki/ausf.key /etc/kedge/pki/aanf.key \
    /etc/kedge/pki/nef.key /etc/kedge/pki/ecs.key' \
  >"$T/setup.log" 2>&1 && ok "kedge pki init /etc/kedge/pki (and issue aanf), kedge master-key for the UDM, the AUSF and the AAnF" ||
  fail "operator set-up: $(cat "$T/setup.log")"
UNIT=$ROOT/lib/systemd/system/kedge-udmd.service
pre=$(sed -n 's/^ExecStartPre=//p' "$UNIT")
start=$(sed -n 's/^ExecStart=//p' "$UNIT")
cred=$(sed -n 's/^LoadCredential=//p' "$UNIT")
# LoadCredential=NAME:PATH: systemd copies PATH to $CREDENTIALS_DIRECTORY/NAME, mode 0400, owned
# by the service's user, before ExecStartPre.
CREDS=/run/credentials/kedge-udmd.service
mkdir -p "$ROOT$CREDS"
cp "$ROOT${cred#*:}" "$ROOT$CREDS/${cred%%:*}"
in_root sh -c "chown -R kedge:kedge $CREDS && chmod 0400 $CREDS/* && chmod 0500 $CREDS"
# As the unit: user kedge, UMask=0077, the credentials; the master key itself stays root's.
as_unit() {
  in_root setpriv --reuid=kedge --regid=kedge --init-groups \
    /usr/bin/env CREDENTIALS_DIRECTORY=$CREDS sh -c "umask 0077; exec $*"
}
out=$(as_unit "$pre" 2>&1) && ok "ExecStartPre as kedge: $pre" || fail "ExecStartPre ($pre): $out"
# Every daemon's ExecStartPre (--check-config) passes with its shipped sample, as its unit runs
# it: user kedge, umask 0077, its own credentials.
for u in kedge-ausfd kedge-aanfd kedge-nefd kedge-ecsd; do
  c=/run/credentials/$u.service
  mkdir -p "$ROOT$c"
  for lc in $(sed -n 's/^LoadCredential=//p' "$ROOT/lib/systemd/system/$u.service"); do
    cp "$ROOT${lc#*:}" "$ROOT$c/${lc%%:*}"
  done
  in_root sh -c "chown -R kedge:kedge $c && chmod 0500 $c && chmod -f 0400 $c/* || true"
  p=$(sed -n 's/^ExecStartPre=//p' "$ROOT/lib/systemd/system/$u.service")
  out=$(in_root setpriv --reuid=kedge --regid=kedge --init-groups \
    /usr/bin/env CREDENTIALS_DIRECTORY=$c sh -c "umask 0077; exec $p" 2>&1) &&
    ok "$u: ExecStartPre as kedge passes with the shipped sample" || fail "$u: ExecStartPre ($p): $out"
done
out=$(in_root setpriv --reuid=kedge --regid=kedge --init-groups kedge-udmd subscriber list \
  --config /etc/kedge/udm.yaml 2>&1) &&
  fail "the kedge user read the master key without the credential: it must stay root's" ||
  ok "without the credential the kedge user cannot read the master key: $out"
# Type=notify: when the daemon speaks sd_notify (libsystemd), a NOTIFY_SOCKET as systemd gives
# one receives READY=1 once it listens and STOPPING=1 at SIGTERM.
notify=""
if ldd "$ROOT/usr/bin/kedge-udmd" 2>/dev/null | grep -q libsystemd && command -v python3 >/dev/null; then
  notify=/run/kedge-test-notify
  cat >"$T/notify.py" <<'EOP'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a") as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
        out.flush()
EOP
fi
# The sample's ports (8001, 9401) in a network namespace of its own: nothing else is there.
cat >"$T/run.sh" <<EOS
ip link set lo up || exit 3
if [ -n "$notify" ]; then
  python3 "$T/notify.py" "$ROOT$notify" "$T/notify.log" &
  npid=\$!
  until [ -e "$T/notify.log.ready" ]; do sleep 0.05; done
fi
chroot "$ROOT" /usr/bin/env -i PATH=/usr/bin:/bin ${notify:+NOTIFY_SOCKET=$notify} setpriv \
  --reuid=kedge --regid=kedge --init-groups \
  /usr/bin/env CREDENTIALS_DIRECTORY=$CREDS sh -c "umask 0077; exec $start" 2>"$T/udm.log" &
pid=\$!
n=0
until curl -fsS -o "$T/metrics" http://127.0.0.1:9401/metrics 2>/dev/null; do
  n=\$((n + 1))
  [ \$n -gt 100 ] && { kill -9 \$pid; echo "no metrics after 10 s"; exit 4; }
  kill -0 \$pid 2>/dev/null || { wait \$pid; echo "exited with \$?"; exit 5; }
  sleep 0.1
done
ps -o uid= -p \$pid >"$T/uid"
kill -TERM \$pid
wait \$pid
rc=\$?
[ -n "$notify" ] && { sleep 0.2; kill \$npid; }
echo "exit \$rc"
EOS
out=$(timeout 60 unshare -n sh "$T/run.sh" 2>&1)
case $out in
  "exit 0") ok "ExecStart as kedge: $start served /metrics on 127.0.0.1:9401 and exited 0 on SIGTERM" ;;
  *) fail "ExecStart ($start): $out; log: $(tail -5 "$T/udm.log")" ;;
esac
if [ -n "$notify" ]; then
  grep -q '^READY=1' "$T/notify.log" && grep -q '^STOPPING=1' "$T/notify.log" &&
    ok "sd_notify: READY=1 once listening, STOPPING=1 at SIGTERM (Type=notify)" ||
    fail "sd_notify: $(tr '\n' ' ' <"$T/notify.log" 2>/dev/null)"
else
  echo "not checked: sd_notify (this kedge-udmd does not link libsystemd yet)"
fi
grep -q '^kedge_' "$T/metrics" 2>/dev/null && ok "its metrics are kedge's" || fail "metrics: $(head -3 "$T/metrics" 2>/dev/null)"
uid=$(tr -d ' ' <"$T/uid" 2>/dev/null)
[ -n "$uid" ] && [ "$uid" = "$(in_root id -u kedge)" ] && ok "it ran as kedge (uid $uid)" ||
  fail "it ran as uid '$uid', kedge is $(in_root id -u kedge)"
st=$(in_root stat -c '%U %a' /var/lib/kedge/udm.sqlite 2>&1)
[ "$st" = "kedge 600" ] && ok "it created /var/lib/kedge/udm.sqlite ($st)" || fail "udm.sqlite: $st"
# UMask=0077: nothing it wrote is open to group or others, and all of it is kedge's.
loose=$(find "$ROOT/var/lib/kedge" -mindepth 1 \( -perm /077 -o ! -uid "$(in_root id -u kedge)" \) 2>&1)
[ -z "$loose" ] && ok "everything in /var/lib/kedge ($(ls "$ROOT/var/lib/kedge" | tr '\n' ' ' | sed 's/ $//')) is kedge's, mode 0600" ||
  fail "open or foreign files in /var/lib/kedge: $loose"
# Provisioning as the daemon's user (the database keeps its owner).
# K and OPc from files of mode 0600, never argv (issue 12).
printf '465b5ce8b199b49faa5f0a2ee238a6bc\n' >"$ROOT/tmp/k.hex"
printf 'cd63cb71954a9f4e48a5994e37a02baf\n' >"$ROOT/tmp/opc.hex"
in_root sh -c 'chown kedge:kedge /tmp/k.hex /tmp/opc.hex && chmod 0600 /tmp/k.hex /tmp/opc.hex'
out=$(as_unit kedge-udmd subscriber add --config /etc/kedge/udm.yaml --supi imsi-001010000000001 \
  --k-file /tmp/k.hex --opc-file /tmp/opc.hex 2>&1) &&
  as_unit kedge-udmd subscriber list --config /etc/kedge/udm.yaml 2>&1 | grep -q imsi-001010000000001 &&
  ok "subscriber add/list as kedge with the credential" || fail "subscriber add: $out"
echo "test-deb: $(took) in all"
finish
