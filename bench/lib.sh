# Shell helpers shared by the bench/*/run.sh scripts: . "$(dirname "$0")/../lib.sh"

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
