#!/bin/sh
# kedge pki against a TLS stack kedge did not write: `kedge pki init` makes the files, then
# `openssl s_server` (client certificate required, TLS 1.3, 127.0.0.1, port 0) and
# `openssl s_client` must complete a mutual-TLS handshake with the ausf and seaf identities,
# and refuse a client whose certificate comes from a second, independent PKI.
# Usage: sh test-pki-tls.sh BUILD_DIR
set -u

BUILD=${1:?usage: sh test-pki-tls.sh BUILD_DIR}
KEDGE=$BUILD/bin/kedge
NAME=test-pki-tls

fail() {
  echo "$NAME: FAIL: $*" >&2
  exit 1
}
ok() {
  echo "ok - $*"
}

[ -x "$KEDGE" ] || fail "$KEDGE is not built"
command -v openssl >/dev/null 2>&1 || fail "openssl command not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kedge-pki-tls.XXXXXX") || fail "mktemp failed"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

pki=$tmp/pki
other=$tmp/other

# --- the command line: exit status, one path per file written, one line per error ----------
"$KEDGE" pki init "$pki" >"$tmp/out" 2>"$tmp/err" || fail "kedge pki init: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out")" -eq 14 ] || fail "kedge pki init printed $(wc -l <"$tmp/out") lines, want 14"
while read -r path; do
  [ -s "$path" ] || fail "kedge pki init printed $path, which is missing or empty"
done <"$tmp/out"
[ "$(stat -c %a "$pki/ausf.key")" = 600 ] || fail "ausf.key mode is not 0600"
[ -s "$tmp/err" ] && fail "kedge pki init wrote to stderr: $(cat "$tmp/err")"
ok "kedge pki init wrote 14 files"

"$KEDGE" pki init "$pki" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] || fail "second kedge pki init exited $rc, want 2"
[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'ca.crt' "$tmp/err" ||
  fail "second kedge pki init: want one line naming ca.crt, got: $(cat "$tmp/err")"
[ -s "$tmp/out" ] && fail "second kedge pki init printed files"
ok "kedge pki init refuses an existing CA (exit 2)"

"$KEDGE" pki issue "$pki" ECS2 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] ||
  fail "kedge pki issue with a bad name: exit $rc, stderr: $(cat "$tmp/err")"
"$KEDGE" pki >/dev/null 2>&1
[ $? -eq 2 ] || fail "kedge pki without a command must exit 2"
"$KEDGE" pki --help >"$tmp/out" 2>&1 && grep -q 'kedge pki init DIR' "$tmp/out" ||
  fail "kedge pki --help"
ok "bad usage exits 2, --help exits 0"

"$KEDGE" pki issue "$pki" ecs.example.com >"$tmp/out" 2>"$tmp/err" ||
  fail "kedge pki issue ecs.example.com: $(cat "$tmp/err")"
printf '%s\n%s\n' "$pki/ecs.example.com.crt" "$pki/ecs.example.com.key" | cmp -s - "$tmp/out" ||
  fail "kedge pki issue printed: $(cat "$tmp/out")"
# Longer than a CN may be (64): the name lives in the SAN alone.
long=edge-application-server-discovery.ecs.region-one.operator-with-a-long-name.example
"$KEDGE" pki issue "$pki" "$long" >/dev/null 2>"$tmp/err" || fail "kedge pki issue $long: $(cat "$tmp/err")"
"$KEDGE" pki init "$other" >/dev/null 2>"$tmp/err" || fail "second PKI: $(cat "$tmp/err")"
ok "kedge pki issue, and a second independent PKI"

# --- mutual TLS with openssl s_server / s_client -------------------------------------------
# s_server -www answers "HTTP/1.0 200 ok" and a page describing the session, including the
# client certificate it verified; -Verify 1 -verify_return_error makes a client certificate
# that chains to ca.crt mandatory.
openssl s_server -accept 127.0.0.1:0 -tls1_3 -www \
  -cert "$pki/ausf.crt" -key "$pki/ausf.key" \
  -CAfile "$pki/ca.crt" -Verify 1 -verify_return_error \
  >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!

port=
i=0
while [ $i -lt 100 ]; do
  port=$(sed -n 's/^ACCEPT 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/server.out")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || fail "openssl s_server exited: $(cat "$tmp/server.err")"
  sleep 0.1
  i=$((i + 1))
done
[ -n "$port" ] || fail "openssl s_server did not report its port within 10 s"

# client NAME OPTIONS...: one HTTP/1.0 request over TLS 1.3 to the ausf server, checking the
# server certificate against ca.crt; output in $tmp/NAME.out and $tmp/NAME.err.
client() {
  cname=$1
  shift
  printf 'GET / HTTP/1.0\r\n\r\n' |
    timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 -ign_eof \
      -verify_return_error "$@" >"$tmp/$cname.out" 2>"$tmp/$cname.err"
}

served() {
  grep -q 'HTTP/1.0 200 ok' "$tmp/$1.out"
}

client good -CAfile "$pki/ca.crt" -servername ausf.kedge.test -verify_hostname ausf.kedge.test \
  -cert "$pki/seaf.crt" -key "$pki/seaf.key" ||
  fail "seaf -> ausf handshake failed: $(tail -n 3 "$tmp/good.err")"
served good || fail "seaf -> ausf: no HTTP/1.0 200 from s_server"
grep -q 'Verify return code: 0 (ok)' "$tmp/good.out" || fail "seaf -> ausf: server not verified"
grep -q 'Subject: *CN *= *seaf\.kedge\.test' "$tmp/good.out" ||
  fail "s_server did not see the seaf client certificate"
ok "mutual TLS: seaf client <-> ausf server, both verified"

client by_ip -CAfile "$pki/ca.crt" -verify_ip 127.0.0.1 -cert "$pki/seaf.crt" -key "$pki/seaf.key" &&
  served by_ip || fail "ausf server not verified by its SAN IP 127.0.0.1: $(tail -n 3 "$tmp/by_ip.err")"
ok "server certificate matches SAN IP 127.0.0.1"

client wrong_host -CAfile "$pki/ca.crt" -verify_hostname udm.kedge.test \
  -cert "$pki/seaf.crt" -key "$pki/seaf.key"
served wrong_host && fail "client accepted the ausf certificate as udm.kedge.test"
ok "ausf certificate is not accepted for udm.kedge.test"

client dotted -CAfile "$pki/ca.crt" -verify_hostname ausf.kedge.test \
  -cert "$pki/ecs.example.com.crt" -key "$pki/ecs.example.com.key" && served dotted ||
  fail "ecs.example.com client refused: $(tail -n 3 "$tmp/dotted.err")"
grep -q 'DNS:ecs\.example\.com' "$tmp/dotted.out" || fail "s_server did not see DNS:ecs.example.com"
client long -CAfile "$pki/ca.crt" -verify_hostname ausf.kedge.test \
  -cert "$pki/$long.crt" -key "$pki/$long.key" && served long ||
  fail "client with a SAN-only certificate refused: $(tail -n 3 "$tmp/long.err")"
ok "issued identities (ecs.example.com, an 83-character name) authenticate as clients"

client foreign -CAfile "$pki/ca.crt" -verify_hostname ausf.kedge.test \
  -cert "$other/seaf.crt" -key "$other/seaf.key"
served foreign && fail "s_server served a client whose certificate is from another PKI"
grep -qi 'unknown ca' "$tmp/foreign.err" ||
  fail "foreign client: want an unknown_ca alert, got: $(tail -n 3 "$tmp/foreign.err")"
ok "client certificate from another PKI refused (unknown_ca)"

client anonymous -CAfile "$pki/ca.crt" -verify_hostname ausf.kedge.test
served anonymous && fail "s_server served a client without a certificate"
ok "client without a certificate refused"

client distrust -CAfile "$other/ca.crt" -cert "$other/seaf.crt" -key "$other/seaf.key"
served distrust && fail "a client trusting only the other CA accepted the ausf server"
grep -q 'Verify return code: 0' "$tmp/distrust.out" && fail "other CA verified the ausf server"
ok "client trusting another CA refuses the ausf server"

kill -0 "$server_pid" 2>/dev/null || fail "openssl s_server died"
client again -CAfile "$pki/ca.crt" -verify_hostname ausf.kedge.test \
  -cert "$pki/seaf.crt" -key "$pki/seaf.key" && served again ||
  fail "seaf -> ausf failed after the refusals"
ok "server still serves verified clients"
echo "$NAME: PASS"
