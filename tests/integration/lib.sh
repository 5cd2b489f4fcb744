# Shared helpers for the shell integration tests: source it after setting BUILD.
#   . "$(dirname "$0")/lib.sh"
# Gives: $T (a fresh temporary directory, removed at exit), $BIN, ok/fail/finish, pki_init,
# start_daemon/stop_daemon (processes started here are killed at exit), wait_for, sbi_curl.
set -u
: "${BUILD:?set BUILD before sourcing lib.sh}"
BIN=$(cd "$BUILD/bin" && pwd)
T=$(mktemp -d /tmp/kedge-it-XXXXXX)
PIDS=""
FAILS=0

lib_cleanup() {
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
  sleep 0.1
  for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
  if [ "$FAILS" -ne 0 ] && [ -n "${KEEP_LOGS:-}" ]; then
    echo "logs kept in $T"
  else
    rm -rf "$T"
  fi
}
trap lib_cleanup EXIT INT TERM

ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
# check DESCRIPTION COMMAND...: ok if the command succeeds, else fail.
check() {
  d=$1
  shift
  if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
  if [ "$FAILS" -ne 0 ]; then
    echo "$FAILS check(s) failed"
    exit 1
  fi
  echo "all checks passed"
  exit 0
}

# wait_for SECONDS COMMAND...: polls every 50 ms until the command succeeds.
wait_for() {
  n=$(($1 * 20))
  shift
  while [ "$n" -gt 0 ]; do
    "$@" 2>/dev/null && return 0
    sleep 0.05
    n=$((n - 1))
  done
  return 1
}

# start_redis: a redis-server of the test's own on 127.0.0.1 (no persistence, files in $T);
# sets RPORT and RPID. The port is below Linux's ephemeral range (32768-60999), not listened on
# when chosen, and another is tried when the server still does not answer PING (a port taken
# meanwhile by a test running in parallel). 1 when none of 5 ports worked.
start_redis() {
  for try in 1 2 3 4 5; do
    RPORT=$(((($$ + try * 7919) % 12000) + 20000))
    while ss -ltnH "sport = :$RPORT" 2>/dev/null | grep -q .; do RPORT=$((RPORT + 1)); done
    redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$T" \
      >>"$T/redis.log" 2>&1 &
    RPID=$!
    PIDS="$PIDS $RPID"
    wait_for 10 sh -c "kill -0 $RPID && redis-cli -p $RPORT ping | grep -q PONG" && return 0
    kill "$RPID" 2>/dev/null
  done
  return 1
}

# pki_init: $T/pki with ca.crt and NAME.crt/.key for udm ausf nef ecs af seaf.
pki_init() {
  "$BIN/kedge" pki init "$T/pki" >/dev/null || { echo "kedge pki init failed"; exit 1; }
}

# udm_conf [FILE [PORT]]: FILE (default $T/udm.yaml), a UDM on PORT (default 0: the kernel
# picks) with TLS from pki_init, database $T/udm.sqlite and master key $T/udm.key (made at the
# first call) that serves ausf.kedge.test. udm: comes last, one key a line: a test adds keys of
# its own by appending lines, indented for udm:, or sections (log:, nf:...) at the left margin.
udm_conf() {
  [ -s "$T/udm.key" ] || "$BIN/kedge" master-key "$T/udm.key" >/dev/null ||
    { echo "kedge master-key failed"; exit 1; }
  cat >"${1:-$T/udm.yaml}" <<EOC
sbi: {port: ${2:-0}, tls: {cert: $T/pki/udm.crt, key: $T/pki/udm.key, ca: $T/pki/ca.crt}}
udm:
  database: $T/udm.sqlite
  master_key: $T/udm.key
  allowed_consumers: [ausf.kedge.test]
EOC
}

# udm_add SUPI [OPTIONS...]: adds subscriber SUPI with the caller's $K and $OPC to udm_conf's
# database (K and OPc through stdin, never argv); OPTIONS e.g. --rid 12, --no-edge.
udm_add() {
  supi=$1
  shift
  printf '%s\n%s\n' "$K" "$OPC" |
    "$BIN/kedge-udmd" subscriber add --config "$T/udm.yaml" --supi "$supi" --k-file - \
      --opc-file - "$@" >/dev/null
}

# udm_import COUNT RID: subscribers imsi-00101 followed by i on 10 digits, i = 1..COUNT, with
# the caller's $K and $OPC and routing indicator RID, imported into udm_conf's database in one
# go (kedge-udmd subscriber import; the CSV file holds K and OPc: mode 0600). Exits on failure.
udm_import() {
  (
    umask 077
    {
      echo "supi,k,opc,rid"
      i=1
      while [ "$i" -le "$1" ]; do
        printf 'imsi-00101%010d,%s,%s,%s\n' "$i" "$K" "$OPC" "$2"
        i=$((i + 1))
      done
    } >"$T/subscribers.csv"
  )
  "$BIN/kedge-udmd" subscriber import --config "$T/udm.yaml" "$T/subscribers.csv" >/dev/null ||
    { echo "subscriber import failed"; exit 1; }
}

# start_daemon NAME PROGRAM CONFIG [ARGS...]: starts $BIN/PROGRAM with --config CONFIG and
# --ports-file, stderr to $T/NAME.log; waits for it to listen. Sets NAME_PID, NAME_PORT,
# NAME_METRICS_PORT (NAME upper-cased by the caller's choice: pass e.g. UDM).
start_daemon() {
  name=$1 prog=$2 conf=$3
  shift 3
  rm -f "$T/$name.ports"
  "$BIN/$prog" --config "$conf" --ports-file "$T/$name.ports" "$@" 2>>"$T/$name.log" &
  pid=$!
  PIDS="$PIDS $pid"
  eval "${name}_PID=$pid"
  if ! wait_for 10 test -s "$T/$name.ports"; then
    echo "$prog did not start; its log:"
    cat "$T/$name.log"
    exit 1
  fi
  eval "${name}_PORT=$(sed -n 's/^port=//p' "$T/$name.ports")"
  eval "${name}_METRICS_PORT=$(sed -n 's/^metrics_port=//p' "$T/$name.ports")"
}

# stop_daemon NAME: SIGTERM and wait; returns the exit status.
stop_daemon() {
  eval "pid=\$${1}_PID"
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
}

# sbi_curl CLIENT [curl args...]: curl over HTTP/2 with $T/pki/CLIENT.crt as the client
# certificate, trusting $T/pki/ca.crt.
sbi_curl() {
  c=$1
  shift
  curl -s --http2 --max-time 10 --cacert "$T/pki/ca.crt" --cert "$T/pki/$c.crt" \
    --key "$T/pki/$c.key" "$@"
}

# schema_ok DESCRIPTION request|response|schema FILE.yaml ... < BODY: the body (standard input) is
# valid against 3GPP's OpenAPI file (tests/util/openapi_check.py; the folder ../shared/ref/openapi
# or $KEDGE_OPENAPI_DIR). ok/fail like check; when the folder is absent, says so once and counts
# the body as unchecked ($SCHEMA_SKIPPED) rather than passing it silently.
OPENAPI_CHECK=$(cd "$(dirname "$0")/../util" && pwd)/openapi_check.py
SCHEMA_CHECKED=0
SCHEMA_SKIPPED=0
schema_ok() {
  d=$1
  shift
  /usr/bin/python3 "$OPENAPI_CHECK" "$@" 2>"$T/schema.err"
  rc=$?
  case $rc in
  0) ok "$d (3GPP schema)"; SCHEMA_CHECKED=$((SCHEMA_CHECKED + 1)) ;;
  77)
    [ "$SCHEMA_SKIPPED" -eq 0 ] && echo "skip: schema checks: $(cat "$T/schema.err")"
    SCHEMA_SKIPPED=$((SCHEMA_SKIPPED + 1))
    ;;
  *) fail "$d (3GPP schema): $(cat "$T/schema.err")" ;;
  esac
}

# supi_hash SUPI: the supi_hash field of log lines about a subscriber (kedge_log_supi_hash:
# the first 16 hex digits of SHA-256(SUPI)); the SUPI itself is never logged.
supi_hash() { printf %s "$1" | sha256sum | cut -c1-16; }
