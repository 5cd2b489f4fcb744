#!/bin/sh
# make install's result is usable: the public headers only (each compiling alone), one static
# library and one .pc file per layer (docs/architecture.md "Library layers"), and the umbrella
# kedge.pc let a program outside the tree compile with pkg-config and compute a known answer;
# the programs,
# sample configurations, systemd units (naming the prefix installed into), sysusers.d and
# tmpfiles.d entries, man pages and bash completion are in place.
# Usage: sh test-install.sh BUILD_DIR
BUILD=${1:?usage: test-install.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null || { fail "cmake --install"; finish; }
for f in bin/kedge bin/kedge-udmd bin/kedge-ausfd bin/kedge-ue include/kedge/edge.h \
  lib/libkedge-crypto.a lib/libkedge-core.a lib/libkedge-sbi.a lib/libkedge-store.a \
  lib/pkgconfig/kedge.pc lib/pkgconfig/kedge-crypto.pc lib/pkgconfig/kedge-core.pc \
  lib/pkgconfig/kedge-sbi.pc lib/pkgconfig/kedge-store.pc share/kedge/conf/ausf.yaml \
  lib/systemd/system/kedge-udmd.service lib/systemd/system/kedge-ausfd.service \
  lib/systemd/system/kedge-nefd.service lib/systemd/system/kedge-ecsd.service \
  lib/systemd/system/kedge-ue-agent.service lib/systemd/system/kedge-aanfd.service lib/sysusers.d/kedge.conf lib/tmpfiles.d/kedge.conf \
  share/bash-completion/completions/kedge share/bash-completion/completions/kedge-udmd \
  share/bash-completion/completions/kedge-aanfd; do
  [ -e "$P/$f" ] && ok "installed $f" || fail "missing $f"
done
# The units name the programs where this install put them (not /usr/local/bin whatever PREFIX).
for u in "$P"/lib/systemd/system/kedge-*.service; do
  prog=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$u")
  case $prog in
    "$P/bin/kedge-"*) [ -x "$prog" ] && ok "$(basename "$u") runs $prog" ||
      fail "$(basename "$u"): $prog is not installed" ;;
    *) fail "$(basename "$u"): ExecStart=$prog is not under $P/bin" ;;
  esac
done
# Man pages: one per program, and kedge.yaml(5).
if grep -q 'KEDGE_MAN:BOOL=OFF' "$BUILD/CMakeCache.txt"; then
  echo "SKIPPED: man pages (configured with -DKEDGE_MAN=OFF)"
else
  for m in man1/kedge.1 man1/kedge-eec.1 man1/kedge-ue.1 man5/kedge.yaml.5 man8/kedge-udmd.8 \
    man8/kedge-ausfd.8 man8/kedge-aanfd.8 man8/kedge-nefd.8 man8/kedge-ecsd.8; do
    [ -s "$P/share/man/$m" ] && ok "man page share/man/$m" || fail "missing share/man/$m"
  done
  out=$(MANPATH="$P/share/man" man -w kedge-udmd 2>&1)
  [ "$out" = "$P/share/man/man8/kedge-udmd.8" ] && ok "man finds kedge-udmd(8) in the prefix" ||
    fail "man -w kedge-udmd: $out"
fi
# The public API, and nothing else: the daemon skeleton (app.h, cli.h, daemon.h, trace.h,
# work.h ...) stays in lib/include/kedge/, never installed. A header added to include/kedge/ is
# public: add it here and to docs/architecture.md.
CRYPTO_H="aka.h akma.h base64url.h ecies.h edge.h error.h fingerprint.h hex.h identity.h kdf.h milenage.h random.h
seal.h sqn.h suci.h"
PUBLIC_H="$CRYPTO_H config.h http.h json_check.h jwt.h key_client.h keyed_hash.h keystore.h log.h
metrics.h nrf.h problem.h ratelimit.h revocation.h sbi_client.h sbi_notify.h sbi_oauth2.h
sbi_server.h sbi_subscriptions.h secret_file.h time.h"
want=$(printf '%s\n' $PUBLIC_H | sort | tr '\n' ' ')
got=$(ls "$P/include/kedge" | sort | tr '\n' ' ')
[ "$got" = "$want" ] && ok "installed headers are the public API ($(echo $PUBLIC_H | wc -w))" ||
  fail "installed headers: got [$got], want [$want]"
PKG="env PKG_CONFIG_PATH=$P/lib/pkgconfig pkg-config --define-variable=prefix=$P"
req=$($PKG --print-requires kedge-crypto)
[ "$req" = "libcrypto" ] && ok "kedge-crypto.pc requires libcrypto only" ||
  fail "kedge-crypto.pc requires: $req"
# The derivations' headers include the C library's and OpenSSL's headers and each other, and
# nothing else (no jansson, libevent, nghttp2...: they live in /usr/include too, so only this
# look at the #include lines tells).
foreign=""
for h in $CRYPTO_H; do
  for inc in $(sed -n 's/^#include [<"]\([^>"]*\)[>"].*/\1/p' "$P/include/kedge/$h"); do
    case $inc in
      std*.h | string.h | limits.h | openssl/*) ;;
      kedge/*) case " $(echo $CRYPTO_H) " in *" ${inc#kedge/} "*) ;; *) foreign="$foreign $h:$inc" ;; esac ;;
      *) foreign="$foreign $h:$inc" ;;
    esac
  done
done
[ -z "$foreign" ] && ok "the derivations' headers include only C, OpenSSL and each other" ||
  fail "derivation headers include:$foreign"
# Each header compiles alone, warnings as errors: the derivations with kedge-crypto's flags
# only, the others with kedge's.
hdr_alone() { # PKG-MODULE HEADER
  printf '#include "kedge/%s"\nint kedge_header_alone_%s;\n' "$2" "$(echo "$2" | tr . _)" \
    >"$T/hdr.c"
  # shellcheck disable=SC2046
  cc -std=c11 -Wall -Wextra -Werror -c "$T/hdr.c" -o "$T/hdr.o" $($PKG --cflags "$1") \
    2>"$T/hdr.log" && return 0
  fail "kedge/$2 does not compile alone ($1): $(head -3 "$T/hdr.log")"
  return 1
}
n=0 bad=0
for h in $CRYPTO_H; do n=$((n + 1)); hdr_alone kedge-crypto "$h" || bad=$((bad + 1)); done
for h in $PUBLIC_H; do n=$((n + 1)); hdr_alone kedge "$h" || bad=$((bad + 1)); done
[ "$bad" -eq 0 ] && ok "each installed header compiles alone ($n compilations)"
cat >"$T/app.c" <<'EOC'
#include <stdio.h>
#include <string.h>
#include "kedge/edge.h"
#include "kedge/hex.h"
int main(void)
{
  uint8_t kausf[32], kedge[32];
  char id[KEDGE_ID_MAX + 1], hex[65];
  kedge_supi_t supi;
  kedge_plmn_t home;
  kedge_hex_decode("474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b", kausf, 32);
  if (kedge_supi_parse("imsi-001010000000001", &supi) || kedge_plmn_parse("001", "01", &home) ||
      kedge_derive_kedge_and_id(kausf, &supi, "0", &home, kedge, id))
    return 1;
  kedge_hex_encode(kedge, 32, hex);
  printf("%s %s\n", hex, id);
  return 0;
}
EOC
extra=""
grep -q 'KEDGE_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" && extra="-fsanitize=address,undefined"
flags=$(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --define-variable=prefix="$P" --cflags --libs kedge) ||
  fail "pkg-config kedge"
if cc $extra "$T/app.c" -o "$T/app" $flags 2>"$T/cc.log"; then
  out=$("$T/app")
  [ "$out" = "0578d6582676d2470df2d4400bcc64f658a4e05f9c656f8f0570517066d3251b 0.n7vQzdxI1m6ZzRrt3hmFUq36AjQLHQGB5r3TJBEfjwU@5gc.mnc001.mcc001.3gppnetwork.org" ] &&
    ok "a program built with pkg-config kedge computes [kedge-1]" || fail "app output: $out"
else
  fail "compiling against the installed libkedge: $(head -5 "$T/cc.log")"
fi
finish
