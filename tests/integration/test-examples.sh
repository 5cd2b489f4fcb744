#!/bin/sh
# examples/ built as an outside user would (docs/libkedge-crypto.md): `make install DESTDIR=`,
# then examples/Makefile with pkg-config kedge-crypto against that tree. The example derives
# Kedge, the Kedge ID and K_ECS for every block of tests/vectors/kedge.txt and must find them
# all; a file with one wrong octet must make it fail. kedge-crypto pulls no event loop, HTTP,
# store or configuration library: not in libkedge-crypto.a's undefined symbols, not among the
# example's shared libraries.
# Usage: sh test-examples.sh BUILD_DIR
BUILD=${1:?usage: test-examples.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
D=$T/root
DESTDIR=$D cmake --install "$BUILD" >"$T/install.log" 2>&1 || {
  fail "make install DESTDIR=$D: $(tail -3 "$T/install.log")"
  finish
}
pc=$(find "$D" -name kedge-crypto.pc | head -1)
lib=$(find "$D" -name libkedge-crypto.a | head -1)
[ -n "$pc" ] && [ -n "$lib" ] && ok "installed ${pc#"$D"} and ${lib#"$D"}" ||
  { fail "kedge-crypto.pc or libkedge-crypto.a not installed under $D"; finish; }

# The layer's undefined symbols: libc and libcrypto only.
foreign=$(nm -u "$lib" | awk '{print $NF}' |
  grep -E '^(event_|evthread_|evbuffer_|bufferevent_|evhttp_|nghttp2_|curl_|sqlite3_|redis|yaml_|json_|sd_)' |
  sort -u | tr '\n' ' ')
[ -z "$foreign" ] && ok "libkedge-crypto.a needs no libevent, nghttp2, curl, SQLite, hiredis, libyaml, jansson or libsystemd symbol" ||
  fail "libkedge-crypto.a needs: $foreign"

extra=""
grep -q 'KEDGE_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && extra="-fsanitize=address,undefined"
if PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$D \
  make -s -C "$SRC/examples" O="$T" CFLAGS="-O2 -Wall -Wextra -Werror $extra" >"$T/make.log" 2>&1; then
  ok "examples/ built with pkg-config kedge-crypto against the installed tree"
else
  fail "building examples/: $(head -5 "$T/make.log")"
  finish
fi
needed=$(readelf -d "$T/kedge-vectors" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case $needed in
  *libevent* | *nghttp2* | *curl* | *sqlite* | *hiredis* | *yaml* | *jansson* | *systemd* | *libssl*)
    fail "kedge-vectors links more than libcrypto: $needed" ;;
  *libcrypto*) ok "kedge-vectors needs $needed" ;;
  *) fail "kedge-vectors does not link libcrypto: $needed" ;;
esac

out=$("$T/kedge-vectors" "$SRC/tests/vectors/kedge.txt" 2>&1)
rc=$?
[ "$rc" -eq 0 ] && echo "$out" | grep -q '^3 block(s): all match$' &&
  ok "kedge-vectors: every block of tests/vectors/kedge.txt matches" ||
  fail "kedge-vectors (exit $rc): $out"
# One octet of [kedge-2]'s expected Kedge changed: that block, and only it, must differ.
sed 's/^Kedge     = b561/Kedge     = b562/' "$SRC/tests/vectors/kedge.txt" >"$T/wrong.txt"
out=$("$T/kedge-vectors" "$T/wrong.txt" 2>&1)
rc=$?
[ "$rc" -eq 1 ] && [ "$(echo "$out" | grep -c DIFFERS)" -eq 1 ] &&
  echo "$out" | grep -q '^\[kedge-2\] Kedge DIFFERS' &&
  ok "kedge-vectors finds the one wrong Kedge (exit 1)" || fail "wrong vector: exit $rc: $out"
"$T/kedge-vectors" "$T/absent.txt" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 2 ] && ok "kedge-vectors: a missing file exits 2" || fail "missing file: exit $rc"
finish
