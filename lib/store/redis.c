/* redis://HOST:PORT[/DB] backend: several AUSF instances share their keys in one Redis (the
 * UDSF role of TS 23.501 6.2.16 in a cloud-native core). hiredis 0.14 async on the handle's
 * own libevent loop: one connection per handle, commands pipelined on it.
 *
 * hiredis 0.14 has no connect timeout, no reconnection and no TLS; kedge adds the first two:
 *  - a handle is DOWN, CONNECTING (TCP connect, AUTH, SELECT, PING in flight; calls queue
 *    behind them) or UP. A connect that is not UP within connect_timeout_ms is dropped.
 *  - when DOWN, calls fail at once with KEDGE_ERR_UNAVAILABLE and a timer reconnects after
 *    reconnect_min_ms, doubling up to reconnect_max_ms.
 *  - a call not answered within op_timeout_ms gets KEDGE_ERR_TIMEOUT, and the connection is
 *    dropped: a Redis that does not answer is treated as down (calls then fail fast instead of
 *    each waiting, and nothing piles up behind a stalled server).
 *  - a put that failed that way (its own timeout, or the drop of its connection) may still be
 *    applied: a stalled Redis reads it when it resumes. Its caller was told the key is not
 *    stored (the AUSF's 503 KEY_STORE_UNAVAILABLE), and SPEC.md 2 keeps only the Kedge of the
 *    SUPI's latest successful authentication, so a compensating delete (undo_script) is written
 *    behind it on the same connection before the connection is closed: Redis runs one
 *    connection's commands in order, so it lands after the put if the put lands at all. It
 *    deletes only the record that put wrote (compare and delete), never a later put's of the
 *    same Kedge ID. The same for the puts still out when the handle is closed (their callers
 *    never hear). Best effort: hiredis' output buffer is flushed without waiting, and a delete
 *    that did not leave it (a full socket, a connection Redis closed) is lost with it. Only the
 *    deletes that left are counted through opts.put_undone (undos_settle). What left runs: a
 *    dropped connection's socket stays half open until Redis has read it all (drain_start).
 * Keys: kedge:kid:<Kedge ID> -> record (below), kedge:supi:<SUPI> -> Kedge ID, both with PXAT
 * expiry so Redis purges them itself. Replacing a SUPI's key is one Lua script: it must read
 * the old Kedge ID before deleting it, which MULTI/EXEC cannot.
 *
 * Late puts (issue 17): a put sent on a connection that was dropped may run long after it was
 * issued, behind puts and deletes sent since on other connections (or by other instances), and
 * must not undo them (SPEC.md 2: the Kedge of the SUPI's latest authentication only). So
 * a put is conditional, in its script, on the time it was issued (the record's created_ms, the
 * issuer's wall clock): it is not applied, and answers 0, if the Kedge ID's record or the
 * SUPI's current one was created later than it, or if a delete issued after it left a
 * tombstone. Deletes leave tombstones instead of nothing, for key_lifetime_ms (the longest a
 * put they must refuse can live): "!<ms>" under kedge:supi:<SUPI> (no key; a put created
 * before <ms> is refused) and, for delete_key, under kedge:kid:<Kedge ID> (that Kedge ID is
 * refused). docs/operations.md (Key store outages) gives the rule. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "kedge/hex.h"
#include "kedge/list.h"
#include "kedge/log.h"
#include "store.h"

/* A dropped connection's socket stays open this long at most, reading and discarding what Redis
 * answers (drain_start), and at most this many per handle. */
#define DRAIN_MS   60000
#define MAX_DRAINS 8

/* kedge_keystore_options_t.key_lifetime_ms when not given: edge.key_lifetime's default. */
#define DEFAULT_LIFETIME_MS (24 * 3600 * 1000LL)

#define KID_PREFIX  "kedge:kid:"
#define SUPI_PREFIX "kedge:supi:"
#define KEY_CHECK   "kedge:key-check"

/* Record: version 0x01 || expiry (8 octets, big endian, ms) || created (8) || SUPI length (1)
 * || SUPI || sealed Kedge. */
#define RECORD_VERSION 0x01
#define RECORD_HEAD    18
#define RECORD_MAX     (RECORD_HEAD + KEDGE_SUPI_MAX + KS_SEALED_LEN)

/* A tombstone's first octet (a record's is RECORD_VERSION, a Kedge ID's a letter or digit). */
#define TOMBSTONE "!"

/* Lua shared by the scripts: the created_ms of a value if it is a record (octets 10..17 of the
 * Lua string, big endian; Redis' struct library, exact in a double below 2^53), else nil. */
#define LUA_BORN                                                                                   \
  "local function born(v)\n"                                                                       \
  "  if not v or #v < 18 or string.byte(v) ~= 1 then return nil end\n"                             \
  "  return (struct.unpack('>i8', v, 10))\n"                                                       \
  "end\n"

/* KEYS[1] kedge:kid:<new ID>, KEYS[2] kedge:supi:<SUPI>; ARGV[1] record, ARGV[2] expiry (ms
 * since the epoch), ARGV[3] the new Kedge ID, ARGV[4] the record's created_ms. The old ID's key
 * is built inside the script, so this needs a single Redis, not a cluster (docs/keystore.md).
 * 0: not applied (a newer record, or a tombstone of a later delete: see the top). A record
 * created in the same millisecond is replaced (so a put right after a delete is applied). */
static const char put_script[] =
    LUA_BORN "local created = tonumber(ARGV[4])\n"
             "local mine = redis.call('GET', KEYS[1])\n"
             "if mine and (string.sub(mine, 1, 1) == '" TOMBSTONE "' or\n"
             "             (born(mine) or created) > created) then return 0 end\n"
             "local old = redis.call('GET', KEYS[2])\n"
             "if old and string.sub(old, 1, 1) == '" TOMBSTONE "' then\n"
             "  if created < (tonumber(string.sub(old, 2)) or 0) then return 0 end\n"
             "elseif old and old ~= ARGV[3] then\n"
             "  local k = '" KID_PREFIX "' .. old\n"
             "  if (born(redis.call('GET', k)) or created) > created then return 0 end\n"
             "  redis.call('DEL', k)\n"
             "end\n"
             "redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])\n"
             "redis.call('SET', KEYS[2], ARGV[3], 'PXAT', ARGV[2])\n"
             "return 1\n";

/* KEYS[1] kedge:supi:<SUPI>; ARGV[1] the Kedge ID to delete, or "" for any; ARGV[2] now (ms,
 * the deleting instance's wall clock), ARGV[3] the tombstones' expiry (now + key_lifetime_ms).
 * delete_supi: the SUPI's tombstone refuses every put issued before now (or before its key's
 * creation, if later: another instance's clock). delete_key: the Kedge ID's tombstone refuses
 * that ID, found or not (its put may still be on its way); if it was the SUPI's key, the SUPI's
 * tombstone refuses the puts older than it. 1: a key was deleted. */
static const char delete_script[] =
    LUA_BORN "local old = redis.call('GET', KEYS[1])\n"
             "local live = old and string.sub(old, 1, 1) ~= '" TOMBSTONE "'\n"
             "if ARGV[1] ~= '' then\n"
             "  local k = '" KID_PREFIX "' .. ARGV[1]\n"
             "  local floor = live and old == ARGV[1] and born(redis.call('GET', k))\n"
             "  redis.call('SET', k, '" TOMBSTONE "' .. ARGV[2], 'PXAT', ARGV[3])\n"
             "  if not (live and old == ARGV[1]) then return 0 end\n"
             "  floor = string.format('%.0f', floor or tonumber(ARGV[2]))\n"
             "  redis.call('SET', KEYS[1], '" TOMBSTONE "' .. floor, 'PXAT', ARGV[3])\n"
             "  return 1\n"
             "end\n"
             "local floor = tonumber(ARGV[2])\n"
             "if live then\n"
             "  local k = '" KID_PREFIX "' .. old\n"
             "  floor = math.max(floor, born(redis.call('GET', k)) or 0)\n"
             "  redis.call('DEL', k)\n"
             "elseif old then\n"
             "  floor = math.max(floor, tonumber(string.sub(old, 2)) or 0)\n"
             "end\n"
             "redis.call('SET', KEYS[1], '" TOMBSTONE "' .. string.format('%.0f', floor), 'PXAT', "
             "ARGV[3])\n"
             "if live then return 1 end\n"
             "return 0\n";

/* KEYS[1] kedge:kid:<Kedge ID>, KEYS[2] kedge:supi:<SUPI>; ARGV[1] the record a put wrote,
 * ARGV[2] its Kedge ID. The compensating delete of that put (undo_put): its record goes only if
 * it is still the one stored, byte for byte; the sealed Kedge in it carries a fresh random
 * nonce (kedge/seal.h), so a later put of the same Kedge ID (a retry, through another
 * connection or instance) differs and stays. The SUPI's mapping goes with it while it names
 * that Kedge ID. Sent with EVAL: its reply is never read, so NOSCRIPT could not be acted on. */
static const char undo_script[] = "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
                                  "redis.call('DEL', KEYS[1])\n"
                                  "if redis.call('GET', KEYS[2]) == ARGV[2] then\n"
                                  "  redis.call('DEL', KEYS[2])\n"
                                  "end\n"
                                  "return 1\n";

static char put_sha[41], delete_sha[41];
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;

static void sha1_hex(const char *text, char out[41])
{
  uint8_t md[20];
  unsigned len = 0;
  if (EVP_Digest(text, strlen(text), md, &len, EVP_sha1(), NULL) == 1 && len == 20)
    kedge_hex_encode(md, 20, out);
  else
    out[0] = '\0'; /* EVALSHA then fails with NOSCRIPT and EVAL takes over */
}

static void compute_shas(void)
{
  sha1_hex(put_script, put_sha);
  sha1_hex(delete_script, delete_sha);
}

typedef enum rs_state { RS_DOWN, RS_CONNECTING, RS_UP } rs_state_t;

enum { STEP_AUTH = 1, STEP_SELECT, STEP_PING };

typedef struct rs_op rs_op_t;
typedef struct rs_drain rs_drain_t;

typedef struct redis_store {
  kedge_keystore_t *ks;
  struct event_base *base;
  char addr[INET6_ADDRSTRLEN];
  int port, db;
  char name[INET6_ADDRSTRLEN + 24]; /* "ADDR:PORT/DB" for the log */
  char *user, *password;
  size_t password_len;
  unsigned connect_timeout_ms, op_timeout_ms, backoff_min_ms, backoff_max_ms, backoff_ms;
  int64_t tombstone_ms; /* how long a delete refuses the puts issued before it */
  redisAsyncContext *ac;
  rs_state_t state;
  struct event *connect_timer, *retry_timer, *drop_ev;
  /* op_timeout_ms as a libevent common timeout: every call has the same one, so its timer
   * goes into one queue in order (O(1)) instead of the loop's heap of timers. */
  const struct timeval *op_tv;
  LIST_HEAD(, rs_op) ops; /* sent, hiredis still holds them */
  bool outage_logged;     /* one warning per outage */
  unsigned errors_logged;
  /* Bytes queued on this connection by append() since it was opened (hiredis' output buffer
   * holds their last, unsent, part), and the compensating deletes queued on it (undo_put): where
   * each ends in those bytes, and where its put ends, so that undos_settle tells which left. */
  size_t appended;
  struct rs_undo {
    size_t put_end, end;
  } * undos;
  unsigned n_undos, cap_undos;
  LIST_HEAD(, rs_drain) drains; /* dropped connections Redis has not closed yet */
  unsigned n_drains;
} redis_store_t;

struct rs_drain {
  LIST_ENTRY(rs_drain) link; /* in rs->drains */
  redis_store_t *rs;
  evutil_socket_t fd;
  struct event *ev;
};

struct rs_op {
  LIST_ENTRY(rs_op) link; /* in rs->ops until answered or the handle is closed */
  redis_store_t *rs;      /* NULL once the handle is closed: hiredis' callback frees the op */
  ks_call_t call;
  ks_row_t row;
  struct event *timer;
  bool answered; /* the caller already had KEDGE_ERR_TIMEOUT */
  bool evaled;   /* NOSCRIPT: sent once more with EVAL */
  bool undone;   /* a put whose compensating delete is queued behind it */
  size_t end;    /* where the command ends in rs->appended (append) */
};

static struct timeval ms_tv(unsigned ms)
{
  return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* ---- records ---- */

static void be64_put(uint8_t *p, int64_t v)
{
  for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
    p[i] = (uint8_t)v;
}

static int64_t be64_get(const uint8_t *p)
{
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | p[i];
  return (int64_t)v;
}

static size_t record_pack(const ks_row_t *r, uint8_t out[RECORD_MAX])
{
  size_t supi_len = strlen(r->supi);
  out[0] = RECORD_VERSION;
  be64_put(out + 1, r->expiry_ms);
  be64_put(out + 9, r->created_ms);
  out[17] = (uint8_t)supi_len;
  memcpy(out + RECORD_HEAD, r->supi, supi_len);
  memcpy(out + RECORD_HEAD + supi_len, r->sealed, r->sealed_len);
  return RECORD_HEAD + supi_len + r->sealed_len;
}

/* A value kedge did not write leaves sealed_len 0: it then fails to open and counts as
 * absent, like one sealed under another master key. */
static void record_unpack(const uint8_t *p, size_t len, ks_row_t *r)
{
  r->sealed_len = 0;
  r->expiry_ms = INT64_MAX;
  if (len < RECORD_HEAD || p[0] != RECORD_VERSION || len < RECORD_HEAD + (size_t)p[17])
    return;
  size_t supi_len = p[17], sealed_len = len - RECORD_HEAD - supi_len;
  if (sealed_len > KS_SEALED_LEN)
    return;
  r->expiry_ms = be64_get(p + 1);
  r->created_ms = be64_get(p + 9);
  memcpy(r->supi, p + RECORD_HEAD, supi_len);
  r->supi[supi_len] = '\0';
  memcpy(r->sealed, p + RECORD_HEAD + supi_len, sealed_len);
  r->sealed_len = sealed_len;
}

/* ---- the connection ---- */

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);

static void log_outage(redis_store_t *rs, const char *reason)
{
  if (rs->outage_logged) {
    kedge_log_debug("keystore redis %s: still unavailable: %s", rs->name, reason);
    return;
  }
  rs->outage_logged = true;
  kedge_log_warn("keystore redis %s: unavailable: %s; calls fail until it is back, reconnecting "
                 "every %u to %u ms",
                 rs->name, reason, rs->backoff_min_ms, rs->backoff_max_ms);
}

static void schedule_retry(redis_store_t *rs)
{
  rs->backoff_ms = rs->backoff_ms ? rs->backoff_ms * 2 : rs->backoff_min_ms;
  if (rs->backoff_ms > rs->backoff_max_ms)
    rs->backoff_ms = rs->backoff_max_ms;
  struct timeval tv = ms_tv(rs->backoff_ms);
  evtimer_add(rs->retry_timer, &tv);
}

static void undo_put(redis_store_t *rs, rs_op_t *op);

/* The connection `ac` is being given up: which of the compensating deletes queued on it left
 * hiredis' output buffer (the bytes after a command number at least what is still in it), and so
 * went to Redis behind their puts? Those are counted (put_undone); the rest are discarded with
 * the buffer. One warning gives the numbers: a delete that could not be sent while its put was
 * leaves that put's key in Redis if it applies it (until the SUPI's next key or its expiry). */
static void undos_settle(redis_store_t *rs, redisAsyncContext *ac)
{
  if (!rs->n_undos)
    return;
  size_t unsent = ac->c.obuf ? sdslen(ac->c.obuf) : 0;
  unsigned sent = 0, lost = 0, neither = 0;
  for (unsigned i = 0; i < rs->n_undos; i++) {
    if (rs->undos[i].end + unsent <= rs->appended)
      sent++;
    else if (rs->undos[i].put_end + unsent <= rs->appended)
      lost++;
    else
      neither++;
  }
  rs->n_undos = 0;
  kedge_log_warn(
      "keystore redis %s: %u put(s) not confirmed: %u deleted behind (sent after the put, "
      "in case Redis applies it later), %u whose delete could not be sent (if Redis "
      "applies them, their keys stay until the SUPI's next key or their expiry), %u "
      "not sent at all",
      rs->name, sent + lost + neither, sent, lost, neither);
  for (unsigned i = 0; rs->ks->opts.put_undone && i < sent; i++)
    rs->ks->opts.put_undone(rs->ks->opts.put_undone_arg);
}

/* The connection is about to be dropped with calls in flight, whose callers hear they failed:
 * each put among them gets its compensating delete, and what hiredis has not written yet goes
 * out now (non-blocking, best effort): redisAsyncFree discards its output buffer. */
static void undo_puts_in_flight(redis_store_t *rs)
{
  redisAsyncContext *ac = rs->ac;
  if (!ac)
    return;
  rs_op_t *op;
  LIST_FOREACH(op, &rs->ops, link)
  undo_put(rs, op);
  int done = 0;
  /* redisBufferWrite, not redisAsyncHandleWrite: the latter frees the context on an error */
  for (int i = 0; i < 8 && !done && (ac->c.flags & REDIS_CONNECTED); i++)
    if (redisBufferWrite(&ac->c, &done) != REDIS_OK)
      break;
  undos_settle(rs, ac);
}

static void drain_free(rs_drain_t *d)
{
  LIST_REMOVE(d, link);
  d->rs->n_drains--;
  event_free(d->ev);
  close(d->fd);
  free(d);
}

static void drain_read(evutil_socket_t fd, short what, void *arg)
{
  rs_drain_t *d = arg;
  if (what & EV_READ) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
      ;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
      return;
  }
  drain_free(d); /* Redis closed it (it has run everything), or DRAIN_MS passed */
}

/* The connection is dropped with commands sent that a stalled Redis has not read yet: puts and
 * the compensating deletes behind them. Closing the socket would lose them: when Redis resumes
 * and answers the first commands it reads, the kernel resets a closed socket and Redis drops
 * the rest, deletes included. So the socket stays open on a duplicate descriptor, half closed
 * (FIN behind the data), reading and discarding the answers until Redis, having run everything,
 * closes it too (or DRAIN_MS). Without a descriptor or memory to spare it closes as before. */
static void drain_start(redis_store_t *rs, redisAsyncContext *ac)
{
  if (!(ac->c.flags & REDIS_CONNECTED) || ac->c.fd < 0 || rs->n_drains >= MAX_DRAINS)
    return;
  rs_drain_t *d = calloc(1, sizeof(*d));
  if (!d)
    return;
  d->rs = rs;
  if ((d->fd = fcntl(ac->c.fd, F_DUPFD_CLOEXEC, 0)) < 0) {
    free(d);
    return;
  }
  struct timeval tv = ms_tv(DRAIN_MS);
  if (!(d->ev = event_new(rs->base, d->fd, EV_READ | EV_PERSIST, drain_read, d)) ||
      event_add(d->ev, &tv) != 0) {
    if (d->ev)
      event_free(d->ev);
    close(d->fd);
    free(d);
    return;
  }
  shutdown(d->fd, SHUT_WR);
  LIST_INSERT_HEAD(&rs->drains, d, link);
  rs->n_drains++;
}

/* Ends the connection: calls in flight get KEDGE_ERR_UNAVAILABLE from their hiredis callbacks
 * (at once, or when the current hiredis callback returns). Those callbacks may close the
 * handle: callers return right after this. */
static void drop(redis_store_t *rs)
{
  redisAsyncContext *ac = rs->ac;
  undo_puts_in_flight(rs);
  if (ac)
    drain_start(rs, ac);
  rs->ac = NULL;
  rs->state = RS_DOWN;
  evtimer_del(rs->connect_timer);
  schedule_retry(rs);
  if (ac) {
    ac->data = NULL; /* its connect and disconnect callbacks no longer concern us */
    redisAsyncFree(ac);
  }
}

static void on_connect(const redisAsyncContext *cac, int status)
{
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  redis_store_t *rs = ac->data;
  if (!rs || rs->ac != ac)
    return;
  if (status != REDIS_OK) {
    /* hiredis frees the context when this returns */
    log_outage(rs, ac->errstr[0] ? ac->errstr : "connect failed");
    undos_settle(rs, ac);
    ac->data = NULL;
    rs->ac = NULL;
    rs->state = RS_DOWN;
    evtimer_del(rs->connect_timer);
    schedule_retry(rs);
    return;
  }
  redisEnableKeepAlive(&ac->c); /* notices a peer that vanished without a FIN */
}

static void on_disconnect(const redisAsyncContext *cac, int status)
{
  redisAsyncContext *ac = (redisAsyncContext *)cac;
  redis_store_t *rs = ac->data;
  if (!rs || rs->ac != ac)
    return;
  /* the calls in flight have had their NULL replies already */
  log_outage(rs, ac->errstr[0] ? ac->errstr : "connection closed");
  undos_settle(rs, ac);
  ac->data = NULL;
  rs->ac = NULL;
  rs->state = RS_DOWN;
  evtimer_del(rs->connect_timer);
  schedule_retry(rs);
}

static void on_handshake(redisAsyncContext *ac, void *r, void *privdata)
{
  redis_store_t *rs = ac->data;
  redisReply *reply = r;
  if (!rs || rs->ac != ac || !reply)
    return;
  intptr_t step = (intptr_t)privdata;
  if (reply->type == REDIS_REPLY_ERROR) {
    kedge_log_error("keystore redis %s: %s refused: %s", rs->name,
                    step == STEP_AUTH     ? "AUTH"
                    : step == STEP_SELECT ? "SELECT"
                                          : "PING",
                    reply->str);
    rs->outage_logged = true;
    drop(rs);
    return;
  }
  if (step != STEP_PING)
    return;
  rs->state = RS_UP;
  rs->backoff_ms = 0;
  rs->errors_logged = 0;
  evtimer_del(rs->connect_timer);
  if (rs->outage_logged)
    kedge_log_info("keystore redis %s: connected again", rs->name);
  rs->outage_logged = false;
}

/* ---- the connection on the loop ----
 * hiredis's own libevent adapter (hiredis/adapters/libevent.h) re-arms a one-shot read event
 * after every read and arms the write event for every batch of commands: two to four
 * epoll_ctl(2) per batch and one more loop pass (an epoll_wait that returns at once) before the
 * commands leave (issue 17: 0.13 epoll_ctl per key request at 58,000/s, a quarter of the AUSF's
 * system calls on Redis). This one, on the public hooks of redisAsyncContext.ev, keeps the read
 * event armed (EV_PERSIST) and, once connected, writes the commands asked during a loop pass at
 * the end of that pass (an event made active, like the SQLite store's gets): one write(2) for
 * the pass, no epoll_ctl. What the socket does not take at once waits for the socket's write
 * event; a failed write goes to hiredis's write handler, which meets the error and disconnects
 * as before. Before the connect completes, writes wait for the write event and hiredis's
 * handler: it is how hiredis learns that the connect finished. */
typedef struct rs_events {
  redisAsyncContext *ac;
  struct event *rev, *wev, *flush;
} rs_events_t;

static void ev_read(evutil_socket_t fd, short what, void *arg)
{
  redisAsyncHandleRead(((rs_events_t *)arg)->ac);
}

/* Writes what hiredis holds: at the end of a pass (the flush event) or when the socket takes
 * more (the write event). Before the connect completes, and after a failed write, hiredis's own
 * handler runs instead: it completes the connect, or meets the error and disconnects (which
 * frees the context and these events: nothing is touched after it). */
static void ev_write(evutil_socket_t fd, short what, void *arg)
{
  rs_events_t *e = arg;
  redisContext *c = &e->ac->c;
  int done = 0;
  if (!(c->flags & REDIS_CONNECTED) || redisBufferWrite(c, &done) != REDIS_OK) {
    redisAsyncHandleWrite(e->ac);
    return;
  }
  if (!done)
    event_add(e->wev, NULL); /* the rest when the socket drains */
}

static void ev_add_read(void *p)
{
  event_add(((rs_events_t *)p)->rev, NULL); /* already armed: nothing */
}

static void ev_del_read(void *p)
{
  event_del(((rs_events_t *)p)->rev);
}

static void ev_add_write(void *p)
{
  rs_events_t *e = p;
  if (!(e->ac->c.flags & REDIS_CONNECTED))
    event_add(e->wev, NULL);
  else if (!event_pending(e->wev, EV_WRITE, NULL)) /* else it writes these too */
    event_active(e->flush, EV_WRITE, 0); /* at the end of this pass; once if asked again */
}

static void ev_del_write(void *p)
{
  event_del(((rs_events_t *)p)->wev);
}

static void ev_cleanup(void *p)
{
  rs_events_t *e = p;
  if (e->rev)
    event_free(e->rev);
  if (e->wev)
    event_free(e->wev);
  if (e->flush)
    event_free(e->flush); /* also takes it off the active queue */
  free(e);
}

static int attach(redisAsyncContext *ac, struct event_base *base)
{
  rs_events_t *e = calloc(1, sizeof(*e));
  if (!e)
    return REDIS_ERR;
  e->ac = ac;
  e->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, ev_read, e);
  e->wev = event_new(base, ac->c.fd, EV_WRITE, ev_write, e);
  e->flush = event_new(base, -1, 0, ev_write, e);
  if (!e->rev || !e->wev || !e->flush || event_add(e->rev, NULL) != 0 ||
      event_add(e->wev, NULL) != 0) { /* the write event: the connect's completion */
    ev_cleanup(e);
    return REDIS_ERR;
  }
  ac->ev.data = e;
  ac->ev.addRead = ev_add_read;
  ac->ev.delRead = ev_del_read;
  ac->ev.addWrite = ev_add_write;
  ac->ev.delWrite = ev_del_write;
  ac->ev.cleanup = ev_cleanup;
  return REDIS_OK;
}

static void start_connect(redis_store_t *rs)
{
  redisAsyncContext *ac = redisAsyncConnect(rs->addr, rs->port);
  if (!ac || ac->err) {
    log_outage(rs, ac ? ac->errstr : "out of memory");
    if (ac)
      redisAsyncFree(ac);
    schedule_retry(rs);
    return;
  }
  ac->data = rs;
  if (attach(ac, rs->base) != REDIS_OK) {
    log_outage(rs, "cannot watch the socket");
    redisAsyncFree(ac);
    schedule_retry(rs);
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  rs->ac = ac;
  rs->appended = 0;
  rs->state = RS_CONNECTING;
  /* Queued before any call, so Redis runs them first; PING's answer means UP. */
  if (rs->password) {
    /* AUTH [user] password (Redis 6 ACL) */
    const char *argv[3] = {"AUTH", rs->user ? rs->user : rs->password, rs->password};
    size_t lens[3] = {4, rs->user ? strlen(rs->user) : rs->password_len, rs->password_len};
    redisAsyncCommandArgv(ac, on_handshake, (void *)(intptr_t)STEP_AUTH, rs->user ? 3 : 2, argv,
                          lens);
  }
  if (rs->db)
    redisAsyncCommand(ac, on_handshake, (void *)(intptr_t)STEP_SELECT, "SELECT %d", rs->db);
  redisAsyncCommand(ac, on_handshake, (void *)(intptr_t)STEP_PING, "PING");
  struct timeval tv = ms_tv(rs->connect_timeout_ms);
  evtimer_add(rs->connect_timer, &tv);
}

static void retry_tick(evutil_socket_t fd, short what, void *arg)
{
  start_connect(arg);
}

static void connect_timeout(evutil_socket_t fd, short what, void *arg)
{
  redis_store_t *rs = arg;
  if (rs->state != RS_CONNECTING)
    return;
  log_outage(rs, "no answer to connect, AUTH or PING in time");
  drop(rs);
}

static void drop_tick(evutil_socket_t fd, short what, void *arg)
{
  redis_store_t *rs = arg;
  if (rs->ac) {
    log_outage(rs, "a call was not answered in time");
    drop(rs);
  }
}

/* ---- calls ---- */

static void op_free(rs_op_t *op)
{
  if (op->timer)
    event_free(op->timer);
  OPENSSL_cleanse(op, sizeof(*op));
  free(op);
}

static void op_unlink(redis_store_t *rs, rs_op_t *op)
{
  (void)rs;
  LIST_REMOVE(op, link);
}

/* Queues a command on the connection, counting its bytes in rs->appended: hiredis only adds
 * to its output buffer here (ev_write sends it later: at the end of the pass, or when the
 * socket drains), so the buffer grows by exactly the command. */
static int append(redis_store_t *rs, redisCallbackFn *fn, void *privdata, int argc,
                  const char **argv, const size_t *lens)
{
  size_t before = sdslen(rs->ac->c.obuf);
  if (redisAsyncCommandArgv(rs->ac, fn, privdata, argc, argv, lens) != REDIS_OK)
    return REDIS_ERR;
  rs->appended += sdslen(rs->ac->c.obuf) - before;
  return REDIS_OK;
}

static int send_op(redis_store_t *rs, rs_op_t *op)
{
  const ks_row_t *r = &op->row;
  char kid_key[sizeof(KID_PREFIX) + KEDGE_ID_MAX], supi_key[sizeof(SUPI_PREFIX) + KEDGE_SUPI_MAX];
  char expiry[24], when[24];
  uint8_t record[RECORD_MAX];
  const char *argv[10];
  size_t lens[10];
  int argc = 0;
  snprintf(kid_key, sizeof(kid_key), KID_PREFIX "%s", r->kedge_id);
  snprintf(supi_key, sizeof(supi_key), SUPI_PREFIX "%s", r->supi);
#define ARG(s, n) (argv[argc] = (const char *)(s), lens[argc++] = (n))
  switch (op->call.kind) {
  case KS_PUT:
    if (op->evaled)
      ARG("EVAL", 4), ARG(put_script, strlen(put_script));
    else
      ARG("EVALSHA", 7), ARG(put_sha, 40);
    ARG("2", 1);
    ARG(kid_key, strlen(kid_key));
    ARG(supi_key, strlen(supi_key));
    ARG(record, record_pack(r, record));
    snprintf(expiry, sizeof(expiry), "%lld", (long long)r->expiry_ms);
    ARG(expiry, strlen(expiry));
    ARG(r->kedge_id, strlen(r->kedge_id));
    snprintf(when, sizeof(when), "%lld", (long long)r->created_ms);
    ARG(when, strlen(when));
    break;
  case KS_GET:
    ARG("GET", 3);
    ARG(kid_key, strlen(kid_key));
    break;
  case KS_DELETE_SUPI:
    if (op->evaled)
      ARG("EVAL", 4), ARG(delete_script, strlen(delete_script));
    else
      ARG("EVALSHA", 7), ARG(delete_sha, 40);
    ARG("1", 1);
    ARG(supi_key, strlen(supi_key));
    ARG(r->kedge_id, strlen(r->kedge_id));
    {
      /* the delete's time, and its tombstones' expiry (delete_script) */
      int64_t now = kedge_wall_ms();
      snprintf(when, sizeof(when), "%lld", (long long)now);
      snprintf(expiry, sizeof(expiry), "%lld", (long long)(now + rs->tombstone_ms));
    }
    ARG(when, strlen(when));
    ARG(expiry, strlen(expiry));
    break;
  case KS_PURGE:
    return REDIS_ERR;
  }
#undef ARG
  int rc = append(rs, on_reply, op, argc, argv, lens);
  op->end = rs->appended;
  OPENSSL_cleanse(record, sizeof(record));
  return rc;
}

kedge_err_t ks_redis_reply(ks_kind_t kind, const redisReply *reply, ks_row_t *row)
{
  if (!reply)
    return KEDGE_ERR_UNAVAILABLE; /* the connection went */
  if (reply->type == REDIS_REPLY_ERROR)
    return KEDGE_ERR_IO;
  switch (kind) {
  case KS_GET:
    if (reply->type == REDIS_REPLY_NIL)
      return KEDGE_ERR_NOT_FOUND;
    if (reply->type != REDIS_REPLY_STRING)
      return KEDGE_ERR_IO;
    if (reply->len > 0 && reply->str[0] == TOMBSTONE[0])
      return KEDGE_ERR_NOT_FOUND; /* a Kedge ID deleted by delete_key */
    record_unpack((const uint8_t *)reply->str, reply->len, row);
    return row->expiry_ms > kedge_wall_ms() ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
  case KS_PUT:
    /* 0: not applied, as if it had been and then replaced or deleted (put_script) */
    return reply->type == REDIS_REPLY_INTEGER && (reply->integer == 1 || reply->integer == 0)
               ? KEDGE_OK
               : KEDGE_ERR_IO;
  case KS_DELETE_SUPI:
    if (reply->type != REDIS_REPLY_INTEGER)
      return KEDGE_ERR_IO;
    return reply->integer == 1 ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
  case KS_PURGE:
    break;
  }
  return KEDGE_ERR_IO;
}

static void on_reply(redisAsyncContext *ac, void *r, void *privdata)
{
  rs_op_t *op = privdata;
  redisReply *reply = r;
  redis_store_t *rs = op->rs;
  if (!rs) { /* closed */
    op_free(op);
    return;
  }
  if (op->answered) { /* timed out: the caller knows */
    op_unlink(rs, op);
    op_free(op);
    return;
  }
  /* The script cache is empty after a Redis restart or SCRIPT FLUSH: EVAL loads it again. */
  if (reply && reply->type == REDIS_REPLY_ERROR && !op->evaled &&
      strncmp(reply->str, "NOSCRIPT", 8) == 0) {
    op->evaled = true;
    if (rs->ac == ac && send_op(rs, op) == REDIS_OK)
      return;
    reply = NULL; /* the connection is going */
  }
  if (reply && reply->type == REDIS_REPLY_ERROR && rs->errors_logged++ < 5)
    kedge_log_warn("keystore redis %s: %s", rs->name, reply->str);
  if (reply && op->call.kind == KS_PUT && reply->type == REDIS_REPLY_INTEGER && !reply->integer)
    kedge_log_info("keystore redis %s: Kedge ID %s: put not applied: the SUPI's key is newer, or "
                   "a delete issued after this put came first (docs/operations.md: late puts)",
                   rs->name, op->row.kedge_id);
  ks_row_t row = op->row;
  kedge_err_t err = ks_redis_reply(op->call.kind, reply, &row);
  ks_call_t call = op->call;
  kedge_keystore_t *ks = rs->ks;
  op_unlink(rs, op);
  op_free(op);
  ks_deliver(ks, &call, err, &row);
  OPENSSL_cleanse(&row, sizeof(row));
}

/* Whatever the reply to it, the compensating delete changes nothing more. */
static void on_undo_reply(redisAsyncContext *ac, void *r, void *privdata)
{
  (void)ac, (void)r, (void)privdata;
}

/* A put whose caller hears it failed: its compensating delete (undo_script, with the record
 * the put wrote) queued behind it on the same connection, once. Counted when the connection is
 * given up, if it left (undos_settle). */
static void undo_put(redis_store_t *rs, rs_op_t *op)
{
  if (op->call.kind != KS_PUT || op->undone || !rs->ac)
    return;
  op->undone = true;
  if (rs->n_undos == rs->cap_undos) {
    unsigned cap = rs->cap_undos ? rs->cap_undos * 2 : 16;
    struct rs_undo *undos = realloc(rs->undos, cap * sizeof(*undos));
    if (!undos) {
      kedge_log_warn("keystore redis %s: out of memory: the put of Kedge ID %s, not confirmed, "
                     "stays if Redis applies it, until the SUPI's next key or its expiry",
                     rs->name, op->row.kedge_id);
      return;
    }
    rs->undos = undos;
    rs->cap_undos = cap;
  }
  char kid_key[sizeof(KID_PREFIX) + KEDGE_ID_MAX], supi_key[sizeof(SUPI_PREFIX) + KEDGE_SUPI_MAX];
  uint8_t record[RECORD_MAX];
  snprintf(kid_key, sizeof(kid_key), KID_PREFIX "%s", op->row.kedge_id);
  snprintf(supi_key, sizeof(supi_key), SUPI_PREFIX "%s", op->row.supi);
  size_t record_len = record_pack(&op->row, record);
  const char *args[7] = {"EVAL",          undo_script, "2", kid_key, supi_key, (const char *)record,
                         op->row.kedge_id};
  size_t lens[7] = {4,          strlen(undo_script),     1, strlen(kid_key), strlen(supi_key),
                    record_len, strlen(op->row.kedge_id)};
  int rc = append(rs, on_undo_reply, NULL, 7, args, lens);
  OPENSSL_cleanse(record, sizeof(record));
  if (rc != REDIS_OK)
    return;
  rs->undos[rs->n_undos++] = (struct rs_undo){.put_end = op->end, .end = rs->appended};
  kedge_log_debug("keystore redis %s: Kedge ID %s: its put was not confirmed; delete queued behind "
                  "it",
                  rs->name, op->row.kedge_id);
}

static void op_timeout(evutil_socket_t fd, short what, void *arg)
{
  rs_op_t *op = arg;
  redis_store_t *rs = op->rs;
  op->answered = true; /* hiredis still holds it: its callback frees it */
  undo_put(rs, op);
  ks_call_t call = op->call;
  kedge_log_warn("keystore redis %s: no answer within %u ms: dropping the connection", rs->name,
                 rs->op_timeout_ms);
  /* Dropped from the loop, not here: the callback below may close the handle. */
  event_active(rs->drop_ev, EV_TIMEOUT, 0);
  ks_deliver(rs->ks, &call, KEDGE_ERR_TIMEOUT, NULL);
}

static kedge_err_t rs_submit(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *row)
{
  redis_store_t *rs = ks->impl;
  if (call->kind == KS_PURGE)
    return ks_defer(ks, call, KEDGE_OK, NULL); /* PXAT: Redis expires the keys itself */
  if (rs->state == RS_DOWN || !rs->ac)
    return ks_defer(ks, call, KEDGE_ERR_UNAVAILABLE, NULL);
  rs_op_t *op = calloc(1, sizeof(*op));
  if (!op)
    return KEDGE_ERR_NOMEM;
  op->rs = rs;
  op->call = *call;
  op->row = *row;
  if (!(op->timer = evtimer_new(rs->base, op_timeout, op)) ||
      evtimer_add(op->timer, rs->op_tv) != 0) {
    op_free(op);
    return KEDGE_ERR_NOMEM;
  }
  if (send_op(rs, op) != REDIS_OK) { /* the connection is going */
    op_free(op);
    return ks_defer(ks, call, KEDGE_ERR_UNAVAILABLE, NULL);
  }
  LIST_INSERT_HEAD(&rs->ops, op, link);
  return KEDGE_OK;
}

/* ---- open and close ---- */

static kedge_err_t resolve(const ks_uri_t *uri, char *addr, const char *text, char *why,
                           size_t why_size)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(uri->host, NULL, &hints, &res);
  if (rc != 0 || !res) {
    ks_why(why, why_size, "%s: cannot resolve %s: %s", text, uri->host, gai_strerror(rc));
    return KEDGE_ERR_CONFIG;
  }
  /* Resolved once, here: reconnecting on the loop then never waits for DNS. */
  rc = getnameinfo(res->ai_addr, res->ai_addrlen, addr, INET6_ADDRSTRLEN, NULL, 0, NI_NUMERICHOST);
  freeaddrinfo(res);
  if (rc != 0) {
    ks_why(why, why_size, "%s: cannot resolve %s: %s", text, uri->host, gai_strerror(rc));
    return KEDGE_ERR_CONFIG;
  }
  return KEDGE_OK;
}

/* A blocking command for the check at open. NULL with why set if there was no reply. */
static redisReply *command(redisContext *c, const char *text, char *why, size_t why_size, int argc,
                           const char **argv, const size_t *lens)
{
  redisReply *reply = redisCommandArgv(c, argc, argv, lens);
  if (!reply)
    ks_why(why, why_size, "%s: no answer from Redis: %s", text,
           c->errstr[0] ? c->errstr : "connection lost");
  return reply;
}

/* The key-check record (kedge/seal.h, issue 11): KEY_CHECK holds a constant sealed under the
 * store's master key, written (SET NX) by the first process that opens the store and checked by
 * every one after, so that a wrong master key stops start-up with one line instead of showing
 * as keys that do not open. A database of an older kedge gets the record at its next start. */
static kedge_err_t check_key(redisContext *c, const kedge_master_key_t *mk, const char *text,
                             char *why, size_t why_size)
{
  uint8_t rec[KEDGE_KEY_CHECK_LEN];
  size_t len = 0;
  kedge_err_t err = kedge_key_check_make(mk, KEDGE_KEYSTORE_KEY_CHECK, rec, &len);
  if (err) {
    ks_why(why, why_size, "%s: cannot make the key-check record: %s", text, kedge_strerror(err));
    return err;
  }
  const char *set[4] = {"SET", KEY_CHECK, (const char *)rec, "NX"};
  size_t set_lens[4] = {3, strlen(KEY_CHECK), len, 2};
  const char *get[2] = {"GET", KEY_CHECK};
  size_t get_lens[2] = {3, strlen(KEY_CHECK)};
  redisReply *reply = command(c, text, why, why_size, 4, set, set_lens);
  if (!reply)
    return KEDGE_ERR_UNAVAILABLE;
  if (reply->type == REDIS_REPLY_ERROR) {
    ks_why(why, why_size, "%s: Redis SET %s: %s", text, KEY_CHECK, reply->str);
    err = KEDGE_ERR_FORBIDDEN;
  }
  freeReplyObject(reply);
  if (!err && !(reply = command(c, text, why, why_size, 2, get, get_lens)))
    return KEDGE_ERR_UNAVAILABLE;
  if (!err) {
    if (reply->type != REDIS_REPLY_STRING ||
        kedge_key_check_verify(mk, KEDGE_KEYSTORE_KEY_CHECK, (const uint8_t *)reply->str,
                               reply->len) != KEDGE_OK) {
      ks_why(why, why_size,
             "%s: the master key does not open this key store (its key-check "
             "record %s does not verify): wrong master key?",
             text, KEY_CHECK);
      err = KEDGE_ERR_MAC_FAILURE;
    }
    freeReplyObject(reply);
  }
  return err;
}

/* Start-up check, synchronous: address, AUTH, DB, version, scripts, the master key. The
 * asynchronous connection that follows repeats AUTH and SELECT. */
static kedge_err_t check_server(const redis_store_t *rs, const char *text, char *why,
                                size_t why_size)
{
  struct timeval tv = ms_tv(rs->connect_timeout_ms);
  redisContext *c = redisConnectWithTimeout(rs->addr, rs->port, tv);
  if (!c || c->err) {
    ks_why(why, why_size, "%s: cannot connect to Redis: %s", text, c ? c->errstr : "no memory");
    redisFree(c);
    return KEDGE_ERR_UNAVAILABLE;
  }
  redisSetTimeout(c, tv);
  kedge_err_t err = KEDGE_OK;
  redisReply *reply = NULL;
  if (rs->password) {
    const char *argv[3] = {"AUTH", rs->user ? rs->user : rs->password, rs->password};
    size_t lens[3] = {4, rs->user ? strlen(rs->user) : rs->password_len, rs->password_len};
    if (!(reply = command(c, text, why, why_size, rs->user ? 3 : 2, argv, lens))) {
      err = KEDGE_ERR_UNAVAILABLE;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      ks_why(why, why_size, "%s: Redis AUTH%s%s refused: %s", text, rs->user ? " as " : "",
             rs->user ? rs->user : "", reply->str);
      err = KEDGE_ERR_FORBIDDEN;
    }
    freeReplyObject(reply);
  }
  if (!err) {
    const char *argv[1] = {"PING"};
    size_t lens[1] = {4};
    if (!(reply = command(c, text, why, why_size, 1, argv, lens))) {
      err = KEDGE_ERR_UNAVAILABLE;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      bool noauth = strncmp(reply->str, "NOAUTH", 6) == 0;
      ks_why(why, why_size, "%s: Redis %s: %s", text,
             noauth ? "asks for AUTH: configure the key store's Redis password" : "PING refused",
             reply->str);
      err = noauth ? KEDGE_ERR_FORBIDDEN : KEDGE_ERR_IO;
    }
    freeReplyObject(reply);
  }
  if (!err && rs->db) {
    char db[16];
    snprintf(db, sizeof(db), "%d", rs->db);
    const char *argv[2] = {"SELECT", db};
    size_t lens[2] = {6, strlen(db)};
    if (!(reply = command(c, text, why, why_size, 2, argv, lens))) {
      err = KEDGE_ERR_UNAVAILABLE;
    } else if (reply->type == REDIS_REPLY_ERROR) {
      ks_why(why, why_size, "%s: Redis SELECT %d: %s", text, rs->db, reply->str);
      err = KEDGE_ERR_CONFIG;
    }
    freeReplyObject(reply);
  }
  if (!err) { /* SET ... PXAT came with Redis 6.2; an ACL may forbid INFO: then trust it */
    const char *argv[2] = {"INFO", "server"};
    size_t lens[2] = {4, 6};
    int major = 0, minor = 0;
    const char *v;
    if (!(reply = command(c, text, why, why_size, 2, argv, lens))) {
      err = KEDGE_ERR_UNAVAILABLE;
    } else if (reply->type == REDIS_REPLY_STRING && (v = strstr(reply->str, "redis_version:")) &&
               sscanf(v + 14, "%d.%d", &major, &minor) == 2 &&
               (major < 6 || (major == 6 && minor < 2))) {
      ks_why(why, why_size, "%s: Redis %d.%d is too old: the key store needs 6.2 or later (PXAT)",
             text, major, minor);
      err = KEDGE_ERR_UNSUPPORTED;
    }
    freeReplyObject(reply);
  }
  const char *scripts[2] = {put_script, delete_script}, *shas[2] = {put_sha, delete_sha};
  for (int i = 0; i < 2 && !err; i++) {
    const char *argv[3] = {"SCRIPT", "LOAD", scripts[i]};
    size_t lens[3] = {6, 4, strlen(scripts[i])};
    if (!(reply = command(c, text, why, why_size, 3, argv, lens))) {
      err = KEDGE_ERR_UNAVAILABLE;
    } else if (reply->type != REDIS_REPLY_STRING || strcmp(reply->str, shas[i]) != 0) {
      ks_why(why, why_size, "%s: Redis SCRIPT LOAD: %s", text,
             reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected answer");
      err = KEDGE_ERR_FORBIDDEN;
    }
    freeReplyObject(reply);
  }
  if (!err)
    err = check_key(c, &rs->ks->mk, text, why, why_size);
  redisFree(c);
  return err;
}

static void rs_free(redis_store_t *rs)
{
  while (!LIST_EMPTY(&rs->drains))
    drain_free(LIST_FIRST(&rs->drains));
  if (rs->connect_timer)
    event_free(rs->connect_timer);
  if (rs->retry_timer)
    event_free(rs->retry_timer);
  if (rs->drop_ev)
    event_free(rs->drop_ev);
  free(rs->undos);
  free(rs->user);
  if (rs->password) {
    OPENSSL_cleanse(rs->password, rs->password_len);
    free(rs->password);
  }
  free(rs);
}

/* hiredis 0.14 writes with write(2): on a connection Redis has closed, that raises SIGPIPE,
 * whose default action ends the process. Ignored, as the SBI server does too (lib/sbi). */
static void ignore_sigpipe(void)
{
  struct sigaction sa;
  if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
    signal(SIGPIPE, SIG_IGN);
}

static kedge_err_t rs_open(kedge_keystore_t *ks, const ks_uri_t *uri, const char *text, char *why,
                           size_t why_size)
{
  pthread_once(&sha_once, compute_shas);
  ignore_sigpipe();
  redis_store_t *rs = calloc(1, sizeof(*rs));
  if (!rs)
    return KEDGE_ERR_NOMEM;
  LIST_INIT(&rs->ops);
  LIST_INIT(&rs->drains);
  rs->ks = ks;
  rs->base = ks->base;
  rs->port = uri->port;
  rs->db = uri->db;
  rs->connect_timeout_ms = ks->opts.connect_timeout_ms;
  rs->op_timeout_ms = ks->opts.op_timeout_ms;
  rs->backoff_min_ms = ks->opts.reconnect_min_ms;
  rs->backoff_max_ms = ks->opts.reconnect_max_ms;
  rs->tombstone_ms = ks->opts.key_lifetime_ms > 0 ? ks->opts.key_lifetime_ms : DEFAULT_LIFETIME_MS;
  kedge_err_t err = resolve(uri, rs->addr, text, why, why_size);
  if (err) {
    rs_free(rs);
    return err;
  }
  snprintf(rs->name, sizeof(rs->name), strchr(rs->addr, ':') ? "[%s]:%d/%d" : "%s:%d/%d", rs->addr,
           rs->port, rs->db);
  if (ks->opts.redis_password) {
    rs->password = strdup(ks->opts.redis_password);
    rs->password_len = rs->password ? strlen(rs->password) : 0;
    if (ks->opts.redis_user)
      rs->user = strdup(ks->opts.redis_user);
    if (!rs->password || (ks->opts.redis_user && !rs->user)) {
      rs_free(rs);
      return KEDGE_ERR_NOMEM;
    }
  }
  if ((err = check_server(rs, text, why, why_size))) {
    rs_free(rs);
    return err;
  }
  struct timeval op_tv = ms_tv(rs->op_timeout_ms);
  if (!(rs->op_tv = event_base_init_common_timeout(rs->base, &op_tv)) ||
      !(rs->connect_timer = evtimer_new(rs->base, connect_timeout, rs)) ||
      !(rs->retry_timer = evtimer_new(rs->base, retry_tick, rs)) ||
      !(rs->drop_ev = event_new(rs->base, -1, 0, drop_tick, rs))) {
    rs_free(rs);
    return KEDGE_ERR_NOMEM;
  }
  ks->impl = rs;
  start_connect(rs);
  kedge_log_info("keystore redis %s: ready (no TLS in hiredis 0.14: loopback or a private "
                 "network only)",
                 rs->name);
  return KEDGE_OK;
}

static void rs_close(kedge_keystore_t *ks)
{
  redis_store_t *rs = ks->impl;
  /* A put still out is never confirmed to its caller, who must take it as not stored (the
   * AUSF's shutdown answers its confirmation 503 KEY_STORE_UNAVAILABLE: worker.c), yet a
   * stalled Redis may apply it when it resumes, replacing the SUPI's key: its compensating
   * delete goes behind it, as for a dropped connection (issue 17; test_close_put_undone). */
  undo_puts_in_flight(rs);
  /* Calls still in hiredis: their callbacks come with NULL while the context is freed (or
   * after the current callback, if we are inside one) and free them; nobody is called. */
  rs_op_t *op;
  while ((op = LIST_FIRST(&rs->ops))) {
    LIST_REMOVE(op, link);
    op->rs = NULL;
    if (op->timer) {
      event_free(op->timer);
      op->timer = NULL;
    }
  }
  redisAsyncContext *ac = rs->ac;
  rs->ac = NULL;
  if (ac) {
    ac->data = NULL;
    redisAsyncFree(ac);
  }
  rs_free(rs);
}

const ks_backend_t ks_redis_backend = {
    .name = "redis", .open = rs_open, .close = rs_close, .submit = rs_submit};
