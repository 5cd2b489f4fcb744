#!/bin/sh
# Man pages (man/*.scd, built into BUILD/man by scdoc): each renders with groff -man -ww and
# man -l without a warning, and every option that a program's --help (and its commands'
# --help) names appears in that program's page; kedge.yaml(5) names every key of the sample
# configurations in conf/. The bash completion offers every long option of every --help.
# Usage: sh test-man.sh BUILD_DIR
BUILD=${1:?usage: test-man.sh BUILD_DIR}
. "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
MAN=$BUILD/man
if grep -q 'KEDGE_MAN:BOOL=OFF' "$BUILD/CMakeCache.txt"; then
  echo "SKIPPED: configured with -DKEDGE_MAN=OFF"
  exit 77
fi
if ! command -v groff >/dev/null 2>&1; then
  echo "SKIPPED: groff is not installed (package groff-base)"
  exit 77
fi

# render PAGE: plain text, no hyphenation, one line per paragraph (options stay whole words).
render() { groff -man -Tutf8 -rLL=2000n -rHY=0 -P-cbou "$1" 2>/dev/null; }

n=0
for page in "$MAN"/*.[158]; do
  n=$((n + 1))
  name=$(basename "$page")
  w=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [ -z "$w" ] && ok "$name: groff -man -ww renders it without a warning" || fail "$name: $w"
  if command -v man >/dev/null 2>&1; then
    w=$(MANWIDTH=80 man -l "$page" 2>&1 >"$T/$name.txt")
    [ -z "$w" ] && [ -s "$T/$name.txt" ] && ok "$name: man -l renders it" ||
      fail "$name: man -l: $w"
  fi
  render "$page" | grep -q '^NAME' || fail "$name: no NAME section"
done
[ "$n" -eq 9 ] && ok "9 man pages built" || fail "$n man pages built, 9 expected"

# options PROGRAM [COMMAND]: every option its --help names, one a line.
options() {
  "$BIN/$1" ${2:+"$2"} --help 2>&1 |
    grep -oE '(^|[^a-zA-Z0-9-])--?[a-zA-Z][a-zA-Z0-9-]*' | sed 's/^[^-]*//' | sort -u
}
# check_page PAGE PROGRAM [COMMAND...]
check_page() {
  page=$1
  prog=$2
  shift 2
  render "$MAN/$page" >"$T/page.txt"
  missing=""
  total=0
  for cmd in "" "$@"; do
    for o in $(options "$prog" "$cmd"); do
      total=$((total + 1))
      grep -qE -- "(^|[^a-zA-Z0-9-])$o([^a-zA-Z0-9-]|\$)" "$T/page.txt" ||
        missing="$missing $prog${cmd:+ $cmd}:$o"
      # The bash completion offers the long ones.
      case $o in
        --help | --version) ;;
        --*) grep -qE -- "(\"| )$o( |\")" "$SRC/contrib/bash-completion/kedge" ||
          fail "bash completion does not offer $prog${cmd:+ $cmd} $o" ;;
      esac
    done
  done
  [ "$total" -ge 3 ] || fail "$prog: only $total options found in --help"
  [ -z "$missing" ] && ok "$page names all $total options of $prog --help" ||
    fail "$page misses$missing"
}
check_page kedge.1 kedge derive pki master-key demo suci
check_page kedge-udmd.8 kedge-udmd subscriber
check_page kedge-ausfd.8 kedge-ausfd
check_page kedge-aanfd.8 kedge-aanfd
check_page kedge-nefd.8 kedge-nefd
check_page kedge-ecsd.8 kedge-ecsd
check_page kedge-eec.1 kedge-eec provision keys
check_page kedge-ue.1 kedge-ue

# kedge.yaml(5): every key of every sample (comments and quoted strings removed first).
render "$MAN/kedge.yaml.5" >"$T/yaml.txt"
missing=""
keys=0
for f in "$SRC"/conf/*.yaml; do
  for k in $(sed -e 's/#.*//' -e 's/"[^"]*"//g' "$f" |
    grep -oE '(^|[ {,-])[a-z_][a-z_0-9]*:( |$)' | tr -d ' {,:-' | sort -u); do
    keys=$((keys + 1))
    grep -qE "(^|[^a-z_0-9])$k([^a-z_0-9]|\$)" "$T/yaml.txt" || missing="$missing $(basename "$f"):$k"
  done
done
[ "$keys" -ge 50 ] || fail "only $keys keys found in conf/*.yaml"
[ -z "$missing" ] && ok "kedge.yaml(5) names all $keys keys of conf/*.yaml" ||
  fail "kedge.yaml(5) misses$missing"

# The completion works in bash: kedge-udmd --ch<TAB>, kedge de<TAB>, kedge-eec provision --ec<TAB>.
if command -v bash >/dev/null 2>&1; then
  complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _kedge; echo "${COMPREPLY[*]}"' \
      sh "$SRC/contrib/bash-completion/kedge" "$@"
  }
  out=$(complete_words kedge-udmd --ch)
  [ "$out" = "--check-config" ] && ok "bash completion: kedge-udmd --ch -> $out" || fail "kedge-udmd --ch -> '$out'"
  out=$(complete_words kedge de)
  [ "$out" = "derive demo" ] && ok "bash completion: kedge de -> $out" || fail "kedge de -> '$out'"
  out=$(complete_words kedge-eec provision --ec)
  [ "$out" = "--ecs --ecs-id" ] && ok "bash completion: kedge-eec provision --ec -> $out" ||
    fail "kedge-eec provision --ec -> '$out'"
fi
finish
