# Shell helpers shared by the bench/*/run.sh scripts: . "$(dirname "$0")/../lib.sh"

# bench_scratch: T, a new temporary directory, and PIDS, the processes to stop; at exit (or
# INT/TERM) every PID in PIDS is killed and waited for, bench_cleanup_more runs if the script
# defines it (files kept outside T), and T is removed. One copy for every bench script.
bench_scratch() {
  T=$(mktemp -d)
  PIDS=
  trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if command -v bench_cleanup_more >/dev/null 2>&1; then bench_cleanup_more; fi
  rm -rf "$T"
}

# peer_port N: a port for a peer that cannot listen on port 0 (nginx, redis-server), varied by N
# and this shell's PID, below Linux's ephemeral range (32768-60999 by default: after bench/ecs's
# hundred thousand connections a port there may be some client's), and not listened on now.
peer_port() {
  p=$(((($$ + $1 * 7919) % 12000) + 20000))
  while ss -ltnH "sport = :$p" 2>/dev/null | grep -q .; do p=$((p + 1)); done
  echo "$p"
}

# listening PORT PID: waits until PORT listens, up to 10 s; fails as soon as PID has exited
# (the peer could not bind, or refused its configuration), or after the 10 s. A fixed sleep
# before the first request was too short on a loaded machine: nginx not yet listening.
listening() {
  i=0
  while [ $i -lt 200 ]; do
    kill -0 "$2" 2>/dev/null || return 1
    ss -ltnH "sport = :$1" 2>/dev/null | grep -q . && kill -0 "$2" 2>/dev/null && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# hist_quantile Q NAME [FILTER] < METRICS_TEXT: the Q quantile (0..1) of the Prometheus
# histogram NAME (its cumulative NAME_bucket{...,le="..."} lines whose labels contain FILTER),
# in the histogram's unit, interpolated linearly inside the bucket it falls in (as PromQL's
# histogram_quantile): an estimate no finer than the buckets. Empty without observations.
hist_quantile() {
  grep "^$2_bucket{" | grep -F -- "${3:-}" |
    sed -n 's/.*le="\([^"]*\)"} \([0-9.e+]*\)$/\1 \2/p' |
    awk -v q="$1" '{ le[NR] = ($1 == "+Inf") ? 1e300 : $1 + 0; c[NR] = $2 + 0 }
      END {
        if (NR == 0 || c[NR] == 0) exit
        want = q * c[NR]; lo = 0; prev = 0
        for (i = 1; i <= NR; i++) {
          if (c[i] >= want) {
            if (le[i] == 1e300) { printf "%g\n", lo; exit }
            f = c[i] > prev ? (want - prev) / (c[i] - prev) : 1
            printf "%g\n", lo + (le[i] - lo) * f
            exit
          }
          lo = le[i]; prev = c[i]
        }
      }'
}

# keyrequest_ausf_conf FILE KEYSTORE LOGLEVEL DIR WORKERS: a kedge-ausfd configuration for the key
# request benchmarks (bench/keyrequest/run.sh, callgrind.sh): DIR holds pki/ (kedge pki init) and
# master.key; one consumer, ecs.kedge.test, profile kedge, without its rate limit.
keyrequest_ausf_conf() {
  cat >"$1" <<YAML
log: {level: $3}
sbi:
  address: 127.0.0.1
  port: 0
  workers: $5
  tls: {cert: $4/pki/ausf.crt, key: $4/pki/ausf.key, ca: $4/pki/ca.crt, client_verification: required}
  limits: {max_streams: 128}
  metrics: {enabled: false}
udm: {uri: "https://127.0.0.1:9"}
ue_authentication:
  allowed_consumers: [{name: seaf.kedge.test, serving_networks: ["*"]}]
edge:
  enabled: true
  home_network: {mcc: "001", mnc: "01"}
  master_key: $4/master.key
keystore: "$2"
keyrequest:
  allowed_consumers:
    - {name: ecs.kedge.test, profiles: [kedge]}
  per_consumer_rate: 0 # off: the bench is one consumer at many times the default 1000/s (429)
YAML
}
