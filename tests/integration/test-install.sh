#!/bin/sh
# make install's result is usable: headers, libkedge.a and kedge.pc let a program outside the
# tree compile against libkedge with pkg-config and compute a known answer; the programs,
# sample configurations, systemd units (naming the prefix installed into), sysusers.d and
# tmpfiles.d entries, man pages and bash completion are in place.
# Usage: sh test-install.sh BUILD_DIR
BUILD=${1:?usage: test-install.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
P=$T/prefix
cmake --install "$BUILD" --prefix "$P" >/dev/null || { fail "cmake --install"; finish; }
for f in bin/kedge bin/kedge-udmd bin/kedge-ausfd bin/kedge-ue include/kedge/edge.h \
  lib/libkedge.a lib/pkgconfig/kedge.pc share/kedge/conf/ausf.yaml \
  lib/systemd/system/kedge-udmd.service lib/systemd/system/kedge-ausfd.service \
  lib/systemd/system/kedge-nefd.service lib/systemd/system/kedge-ecsd.service \
  lib/systemd/system/kedge-ue-agent.service lib/sysusers.d/kedge.conf lib/tmpfiles.d/kedge.conf \
  share/bash-completion/completions/kedge share/bash-completion/completions/kedge-udmd; do
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
    man8/kedge-ausfd.8 man8/kedge-nefd.8 man8/kedge-ecsd.8; do
    [ -s "$P/share/man/$m" ] && ok "man page share/man/$m" || fail "missing share/man/$m"
  done
  out=$(MANPATH="$P/share/man" man -w kedge-udmd 2>&1)
  [ "$out" = "$P/share/man/man8/kedge-udmd.8" ] && ok "man finds kedge-udmd(8) in the prefix" ||
    fail "man -w kedge-udmd: $out"
fi
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
