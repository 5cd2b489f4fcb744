/* bench-keyrequest load: HTTP/2 over TLS 1.3 with a client certificate, the one tool for both
 * sides of bench/keyrequest (the AUSF's key service and nginx's static file), because h2load
 * has no client-certificate option and sends one fixed body, while every key request here
 * names a random stored Kedge ID.
 *
 * T threads, each with its own event loop and C connections; each connection keeps up to M
 * streams open (closed loop: a finished request is replaced at once), or, with --rate R, the
 * requests are issued on a fixed schedule of R per second over all threads (open loop) and a
 * request's latency counts from the instant the schedule meant to send it, so that a server
 * that stalls is not flattered by the client waiting for it (coordinated omission).
 *
 * The first --warmup seconds are not measured; then --duration seconds are. Printed, one line:
 *   rps=.. ok=.. other=.. errors=.. verify_failed=.. p50_ms=.. p90_ms=.. p99_ms=.. p999_ms=..
 *   max_ms=.. cpu_us_per_req=.. tool_cpu_us_per_req=.. send_lag_p99_ms=.. send_lag_max_ms=..
 * send_lag (open loop): from the scheduled instant to the request handed to TLS, i.e. the time
 * a request waited inside this tool (its tick, its backlog of requests without a free stream);
 * tool_cpu: this process's CPU per answer, to see whether the tool itself is the bottleneck.
 * ok: 2xx answers; other: any other status; errors: streams reset or lost with a connection.
 * --verify: every 200 must carry the Kedge of the Kedge ID asked for (from the ids file). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kedge/cli.h"
#include "keyrequest.h"

#define OUT_MAX     65536 /* TLS plaintext queued for SSL_write per connection */
#define RESP_MAX    512   /* response body octets kept per stream (for --verify) */
#define BODY_MAX    320
#define BACKLOG_MAX (1 << 20)
/* --rate: the schedule's tick fires at every send instant, but not more often than every
 * --tick-us, default TICK_US (sends due meanwhile go out together). A fixed 100 us tick cost the
 * tool ~100 us of CPU per request at 2,500 req/s (10,000 idle wake-ups a second), CPU the servers
 * it measures share on a 2-core machine. The tick is a periodic timerfd armed once and read at each
 * tick (a periodic timerfd goes on only once read). libevent's precise timers (a timerfd too) were
 * re-armed with timerfd_settime(2) on every pass of the loop, the passes that only read
 * answers included: a system call per pass that the tick's read now makes per tick (strace). */
#define TICK_US 100

/* ---- the ids file: "KEDGE_ID KEDGE_HEX" lines ---- */

typedef struct ids {
  char *text;
  const char **id;  /* n entries, NUL-terminated in text */
  size_t *id_len;   /* their lengths (a request's body is put together without snprintf) */
  const char **hex; /* the Kedge, 64 hex digits, or NULL */
  size_t n;
} ids_t;

static int ids_load(const char *path, ids_t *ids)
{
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    perror(path);
    return -1;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || st.st_size <= 0) {
    fprintf(stderr, "load: %s: empty\n", path);
    fclose(fp);
    return -1;
  }
  ids->text = malloc((size_t)st.st_size + 1);
  size_t len = ids->text ? fread(ids->text, 1, (size_t)st.st_size, fp) : 0;
  fclose(fp);
  if (len != (size_t)st.st_size)
    return -1;
  ids->text[len] = '\0';
  size_t lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += ids->text[i] == '\n';
  ids->id = calloc(lines + 1, sizeof(*ids->id));
  ids->hex = calloc(lines + 1, sizeof(*ids->hex));
  ids->id_len = calloc(lines + 1, sizeof(*ids->id_len));
  if (!ids->id || !ids->hex || !ids->id_len)
    return -1;
  for (char *p = ids->text, *nl; *p; p = nl + 1) {
    nl = strchr(p, '\n');
    if (!nl)
      break;
    *nl = '\0';
    char *sp = strchr(p, ' ');
    if (sp)
      *sp = '\0';
    if (*p && strlen(p) < BODY_MAX - 20) {
      ids->id[ids->n] = p;
      ids->id_len[ids->n] = strlen(p);
      ids->hex[ids->n] = sp && strlen(sp + 1) == 64 ? sp + 1 : NULL;
      ids->n++;
    }
  }
  if (!ids->n) {
    fprintf(stderr, "load: %s: no Kedge IDs\n", path);
    return -1;
  }
  return 0;
}

/* ---- configuration ---- */

typedef struct config {
  char host[256], port[8], path[1024], authority[300];
  size_t path_len, authority_len;
  bool post;
  int threads, conns, streams;
  double rate, warmup, duration;
  double tick; /* --tick-us, in seconds */
  bool verify;
  ids_t ids;
  SSL_CTX *tls;
  struct addrinfo *addr;
} config_t;

/* ---- per thread ---- */

typedef struct conn conn_t;
typedef struct worker worker_t;

typedef struct stream {
  conn_t *c;
  double intended; /* when the request was (meant to be) sent */
  size_t idx;      /* Kedge ID asked for */
  int status;
  char body[BODY_MAX];
  size_t body_len, body_off;
  char clen[16];
  char resp[RESP_MAX];
  size_t resp_len;
  bool in_use;
} stream_t;

struct conn {
  worker_t *w;
  int fd;
  SSL *ssl;
  struct event *rev, *wev, *retry;
  nghttp2_session *h2;
  bool handshaking, ready;
  int active, max_streams;
  stream_t *streams; /* max_streams slots */
  int *free_slots;   /* indexes of the slots not in use */
  int n_free;
  uint8_t out[OUT_MAX];
  size_t out_len, out_off;
  bool want_write;
  bool dirty; /* requests submitted since the last flush */
};

struct worker {
  const config_t *cfg;
  struct event_base *base;
  conn_t *conns;
  int n_conns, rr;
  uint64_t rng;
  double t0, measure_from, measure_to;
  bool measuring, stopping;
  /* --rate */
  struct event *tick;
  double per_second; /* this thread's share */
  uint64_t scheduled;
  double *backlog; /* intended send times waiting for a free stream */
  size_t bl_head, bl_len;
  uint64_t dropped;
  /* results in the measured window */
  uint64_t ok, other, errors, verify_failed;
  uint32_t *lat_us;
  size_t n_lat, cap_lat;
  uint32_t *lag_us; /* open loop: scheduled send -> handed to TLS (the tool's own queueing) */
  size_t n_lag, cap_lag;
  uint64_t conn_failures;
  pthread_t thread;
};

static double now(void)
{
  return kr_now();
}

static uint64_t next_random(worker_t *w)
{
  /* xorshift64*: only a spread over the stored IDs, nothing secret */
  w->rng ^= w->rng >> 12;
  w->rng ^= w->rng << 25;
  w->rng ^= w->rng >> 27;
  return w->rng * 2685821657736338717ULL;
}

/* Appends a microsecond figure to a growing array (results of the measured window). */
static void push_us(uint32_t **v, size_t *n, size_t *cap, double us)
{
  if (*n == *cap) {
    size_t c = *cap ? 2 * *cap : 65536;
    uint32_t *p = realloc(*v, c * sizeof(*p));
    if (!p)
      return;
    *v = p;
    *cap = c;
  }
  (*v)[(*n)++] = us < 0 ? 0 : us > 4e9 ? 4000000000u : (uint32_t)us;
}

static void record(worker_t *w, const stream_t *s, double t)
{
  if (!w->measuring)
    return;
  bool ok = s->status >= 200 && s->status < 300;
  if (ok)
    w->ok++;
  else
    w->other++;
  if (ok && w->cfg->verify) {
    const char *hex = w->cfg->ids.hex[s->idx];
    char want[80];
    snprintf(want, sizeof(want), "\"kedge\":\"%s\"", hex ? hex : "-");
    if (!hex || !memmem(s->resp, s->resp_len, want, strlen(want)))
      w->verify_failed++;
  }
  push_us(&w->lat_us, &w->n_lat, &w->cap_lat, (t - s->intended) * 1e6);
}

/* ---- HTTP/2 ---- */

static ssize_t read_body(nghttp2_session *h2, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *arg)
{
  stream_t *s = src->ptr;
  size_t n = s->body_len - s->body_off;
  if (n > len)
    n = len;
  memcpy(buf, s->body + s->body_off, n);
  s->body_off += n;
  if (s->body_off == s->body_len)
    *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

#define NV(n, v, vlen)                                                                             \
  {                                                                                                \
    (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, (vlen),                                         \
        NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE                               \
  }

/* Sends one request on c for a schedule instant. false: no free stream. */
static bool submit(conn_t *c, double intended)
{
  worker_t *w = c->w;
  const config_t *cfg = w->cfg;
  if (!c->ready || c->active >= c->max_streams)
    return false;
  if (!c->n_free)
    return false;
  stream_t *s = &c->streams[c->free_slots[--c->n_free]];
  memset(s, 0, offsetof(stream_t, resp));
  s->resp_len = 0;
  s->in_use = true;
  s->c = c;
  s->intended = intended;
  s->idx = (size_t)(next_random(w) % cfg->ids.n);
  /* {"kedgeId":"ID"}, put together by hand: snprintf and the strlens were a tenth of the
   * tool's CPU per request (perf, open loop at 15,000/s) */
  static const char head[] = "{\"kedgeId\":\"", tail[] = "\"}";
  size_t id_len = cfg->ids.id_len[s->idx]; /* < BODY_MAX - 20 (ids_load) */
  memcpy(s->body, head, sizeof(head) - 1);
  memcpy(s->body + sizeof(head) - 1, cfg->ids.id[s->idx], id_len);
  memcpy(s->body + sizeof(head) - 1 + id_len, tail, sizeof(tail) - 1);
  s->body_len = sizeof(head) - 1 + id_len + sizeof(tail) - 1;
  size_t clen = 0;
  for (size_t v = s->body_len; v; v /= 10) /* the digits of body_len, backwards, then turned */
    s->clen[clen++] = (char)('0' + v % 10);
  for (size_t i = 0; i < clen / 2; i++) {
    char t = s->clen[i];
    s->clen[i] = s->clen[clen - 1 - i];
    s->clen[clen - 1 - i] = t;
  }
  nghttp2_nv post[] = {NV(":method", "POST", 4),
                       NV(":scheme", "https", 5),
                       NV(":authority", cfg->authority, cfg->authority_len),
                       NV(":path", cfg->path, cfg->path_len),
                       NV("content-type", "application/json", 16),
                       NV("content-length", s->clen, clen)};
  nghttp2_nv get[] = {NV(":method", "GET", 3), NV(":scheme", "https", 5),
                      NV(":authority", cfg->authority, cfg->authority_len),
                      NV(":path", cfg->path, cfg->path_len)};
  nghttp2_data_provider body = {.source.ptr = s, .read_callback = read_body};
  int32_t id = cfg->post ? nghttp2_submit_request(c->h2, NULL, post, 6, &body, s)
                         : nghttp2_submit_request(c->h2, NULL, get, 4, NULL, s);
  if (id < 0) {
    s->in_use = false;
    c->free_slots[c->n_free++] = (int)(s - c->streams);
    return false;
  }
  c->active++;
  c->dirty = true;
  if (w->measuring && cfg->rate > 0)
    push_us(&w->lag_us, &w->n_lag, &w->cap_lag, (now() - intended) * 1e6);
  return true;
}

static int on_header(nghttp2_session *h2, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *arg)
{
  stream_t *s = nghttp2_session_get_stream_user_data(h2, frame->hd.stream_id);
  if (s && namelen == 7 && memcmp(name, ":status", 7) == 0 && valuelen == 3)
    s->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
  return 0;
}

static int on_data(nghttp2_session *h2, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *arg)
{
  stream_t *s = nghttp2_session_get_stream_user_data(h2, id);
  if (s && s->resp_len < RESP_MAX) {
    size_t n = RESP_MAX - s->resp_len < len ? RESP_MAX - s->resp_len : len;
    memcpy(s->resp + s->resp_len, data, n);
    s->resp_len += n;
  }
  return 0;
}

static void refill(worker_t *w, conn_t *c);

static int on_close(nghttp2_session *h2, int32_t id, uint32_t error_code, void *arg)
{
  stream_t *s = nghttp2_session_get_stream_user_data(h2, id);
  if (!s)
    return 0;
  conn_t *c = s->c;
  worker_t *w = c->w;
  double t = now();
  if (error_code == NGHTTP2_NO_ERROR && s->status)
    record(w, s, t);
  else if (w->measuring)
    w->errors++;
  s->in_use = false;
  c->free_slots[c->n_free++] = (int)(s - c->streams);
  c->active--;
  refill(w, c);
  return 0;
}

/* ---- TLS and the socket ---- */

static void conn_start(conn_t *c);

static void conn_drop(conn_t *c)
{
  worker_t *w = c->w;
  if (c->h2) {
    /* streams lost with the connection */
    for (int i = 0; i < c->max_streams; i++)
      if (c->streams[i].in_use) {
        c->streams[i].in_use = false;
        if (w->measuring)
          w->errors++;
      }
    nghttp2_session_del(c->h2);
    c->h2 = NULL;
  }
  if (c->rev)
    event_free(c->rev);
  if (c->wev)
    event_free(c->wev);
  c->rev = c->wev = NULL;
  if (c->ssl)
    SSL_free(c->ssl);
  c->ssl = NULL;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  c->ready = c->handshaking = false;
  c->active = 0;
  for (int i = 0; i < c->max_streams; i++)
    c->free_slots[i] = i;
  c->n_free = c->max_streams;
  c->out_len = c->out_off = 0;
  if (!w->stopping) {
    w->conn_failures++;
    struct timeval tv = {0, 100000}; /* reconnect after 100 ms */
    evtimer_add(c->retry, &tv);
  }
}

/* Writes what nghttp2 has to send. false: the connection is gone. */
static bool conn_flush(conn_t *c)
{
  c->dirty = false;
  for (;;) {
    if (c->out_off == c->out_len) {
      c->out_off = c->out_len = 0;
      while (c->out_len < OUT_MAX / 2) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->h2, &data);
        if (n < 0)
          return false;
        if (n == 0)
          break;
        if ((size_t)n > OUT_MAX - c->out_len)
          return false; /* a frame larger than the buffer: not with these requests */
        memcpy(c->out + c->out_len, data, (size_t)n);
        c->out_len += (size_t)n;
      }
      if (c->out_len == 0)
        break;
    }
    int n = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len - c->out_off));
    if (n <= 0) {
      int e = SSL_get_error(c->ssl, n);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        if (!c->want_write)
          event_add(c->wev, NULL);
        c->want_write = true;
        return true;
      }
      return false;
    }
    c->out_off += (size_t)n;
  }
  if (c->want_write) {
    event_del(c->wev);
    c->want_write = false;
  }
  return nghttp2_session_want_read(c->h2) || nghttp2_session_want_write(c->h2);
}

static bool h2_start(conn_t *c)
{
  const unsigned char *alpn = NULL;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
  if (alpn_len != 2 || memcmp(alpn, "h2", 2) != 0) {
    fprintf(stderr, "load: the server did not select ALPN h2\n");
    return false;
  }
  nghttp2_session_callbacks *cb;
  if (nghttp2_session_callbacks_new(&cb))
    return false;
  nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
  nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
  int rv = nghttp2_session_client_new(&c->h2, cb, c);
  nghttp2_session_callbacks_del(cb);
  if (rv)
    return false;
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2))
    return false;
  /* The connection's own window (RFC 9113 6.9.2: 65,535 until a WINDOW_UPDATE) made large at
   * once, as curl does: otherwise nghttp2 sends one WINDOW_UPDATE per ~32 KiB of answers, a
   * TLS record and a write(2) of its own every ~100 requests. */
  if (nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 1 << 30))
    return false;
  c->ready = true;
  return true;
}

static void conn_io(evutil_socket_t fd, short what, void *arg);

static bool handshake(conn_t *c)
{
  int rv = SSL_do_handshake(c->ssl);
  if (rv == 1) {
    c->handshaking = false;
    if (!h2_start(c))
      return false;
    refill(c->w, c);
    return conn_flush(c);
  }
  int e = SSL_get_error(c->ssl, rv);
  if (e == SSL_ERROR_WANT_WRITE) {
    event_add(c->wev, NULL);
    c->want_write = true;
    return true;
  }
  if (e == SSL_ERROR_WANT_READ) {
    if (c->want_write)
      event_del(c->wev);
    c->want_write = false;
    return true;
  }
  unsigned long err = ERR_peek_last_error();
  fprintf(stderr, "load: TLS handshake failed: %s\n",
          err ? ERR_reason_error_string(err) : "connection closed");
  ERR_clear_error();
  return false;
}

static void conn_io(evutil_socket_t fd, short what, void *arg)
{
  conn_t *c = arg;
  if (c->handshaking) {
    if (!handshake(c))
      conn_drop(c);
    return;
  }
  if (what & EV_READ) {
    uint8_t buf[16384];
    for (int i = 0; i < 16; i++) {
      int n = SSL_read(c->ssl, buf, sizeof(buf));
      if (n <= 0) {
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
          break;
        conn_drop(c);
        return;
      }
      if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0) {
        conn_drop(c);
        return;
      }
      if (!SSL_has_pending(c->ssl))
        break; /* no read(2) that only says EAGAIN: the event is level-triggered */
    }
  }
  if (!conn_flush(c))
    conn_drop(c);
}

static void conn_retry(evutil_socket_t fd, short what, void *arg)
{
  conn_start(arg);
}

static void conn_start(conn_t *c)
{
  worker_t *w = c->w;
  const struct addrinfo *ai = w->cfg->addr;
  c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      (connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS)) {
    conn_drop(c);
    return;
  }
  c->ssl = SSL_new(w->cfg->tls);
  if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
    conn_drop(c);
    return;
  }
  SSL_set_connect_state(c->ssl);
  SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), w->cfg->host);
  c->rev = event_new(w->base, c->fd, EV_READ | EV_PERSIST, conn_io, c);
  c->wev = event_new(w->base, c->fd, EV_WRITE | EV_PERSIST, conn_io, c);
  if (!c->rev || !c->wev) {
    conn_drop(c);
    return;
  }
  event_add(c->rev, NULL);
  c->handshaking = true;
  c->want_write = false;
  /* the handshake starts once connect(2) completes: writable */
  event_add(c->wev, NULL);
  c->want_write = true;
}

/* ---- the schedule ---- */

static void refill(worker_t *w, conn_t *c)
{
  if (w->stopping || !c->ready)
    return;
  if (w->cfg->rate > 0) {
    while (w->bl_len && submit(c, w->backlog[w->bl_head])) {
      w->bl_head = (w->bl_head + 1) % BACKLOG_MAX;
      w->bl_len--;
    }
    return;
  }
  while (c->active < c->max_streams && submit(c, now()))
    ;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
  worker_t *w = arg;
  uint64_t expired; /* how many ticks: unused, the due requests are counted from the clock */
  if (read(fd, &expired, sizeof(expired)) < 0 && errno != EAGAIN)
    return;
  if (w->stopping)
    return;
  double t = now();
  /* request k is meant for t0 + k / rate: due once that instant has come (counting only whole
   * intervals sent each one an interval late, and the lateness was charged to the server) */
  uint64_t due = (uint64_t)((t - w->t0) * w->per_second) + 1;
  while (w->scheduled < due) {
    double intended = w->t0 + (double)w->scheduled / w->per_second;
    w->scheduled++;
    bool sent = false;
    if (!w->bl_len)
      for (int k = 0; k < w->n_conns && !sent; k++) {
        conn_t *c = &w->conns[w->rr];
        w->rr = (w->rr + 1) % w->n_conns;
        sent = submit(c, intended);
      }
    if (!sent) {
      if (w->bl_len == BACKLOG_MAX) {
        w->dropped++;
        continue;
      }
      w->backlog[(w->bl_head + w->bl_len) % BACKLOG_MAX] = intended;
      w->bl_len++;
    }
  }
  for (int k = 0; k < w->n_conns; k++) {
    conn_t *c = &w->conns[k];
    if (c->ready && c->dirty && !conn_flush(c))
      conn_drop(c);
  }
}

/* The tick of a thread's schedule: every 1 / per_second (at least --tick-us) from t0 on, on the
 * clock kr_now() reads (CLOCK_MONOTONIC), so that tick k comes at request k's instant. */
static struct event *tick_new(worker_t *w)
{
  double every = 1.0 / w->per_second;
  if (every < w->cfg->tick)
    every = w->cfg->tick;
  double first = w->t0 + every;
  struct itimerspec its = {
      .it_interval = {(time_t)every, (long)((every - (double)(time_t)every) * 1e9)},
      .it_value = {(time_t)first, (long)((first - (double)(time_t)first) * 1e9)}};
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0)
    return NULL;
  struct event *ev = event_new(w->base, fd, EV_READ | EV_PERSIST, tick, w);
  if (!ev || event_add(ev, NULL) != 0 || timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
    if (ev)
      event_free(ev);
    close(fd);
    return NULL;
  }
  return ev;
}

static void phase(evutil_socket_t fd, short what, void *arg)
{
  worker_t *w = arg;
  if (!w->measuring) {
    w->measuring = true; /* warm-up over */
    struct timeval tv = {(time_t)w->cfg->duration,
                         (suseconds_t)((w->cfg->duration - (time_t)w->cfg->duration) * 1e6)};
    w->measure_from = now();
    struct event *ev = evtimer_new(w->base, phase, w);
    evtimer_add(ev, &tv);
    return;
  }
  w->measure_to = now();
  w->measuring = false;
  w->stopping = true;
  event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
  worker_t *w = arg;
  const config_t *cfg = w->cfg;
  w->base = event_base_new(); /* the schedule's tick is a timerfd of its own (tick_new) */
  w->conns = calloc((size_t)w->n_conns, sizeof(*w->conns));
  if (!w->base || !w->conns)
    return NULL;
  for (int i = 0; i < w->n_conns; i++) {
    conn_t *c = &w->conns[i];
    c->w = w;
    c->fd = -1;
    c->max_streams = cfg->streams;
    c->streams = calloc((size_t)cfg->streams, sizeof(*c->streams));
    c->free_slots = calloc((size_t)cfg->streams, sizeof(*c->free_slots));
    c->retry = evtimer_new(w->base, conn_retry, c);
    if (!c->streams || !c->free_slots || !c->retry)
      return NULL;
    for (int k = 0; k < cfg->streams; k++)
      c->free_slots[k] = k;
    c->n_free = cfg->streams;
    conn_start(c);
  }
  w->t0 = now();
  if (cfg->rate > 0) {
    w->per_second = cfg->rate / cfg->threads;
    w->backlog = calloc(BACKLOG_MAX, sizeof(*w->backlog));
    if (!w->backlog || !(w->tick = tick_new(w)))
      return NULL;
  }
  struct timeval warm = {(time_t)cfg->warmup,
                         (suseconds_t)((cfg->warmup - (time_t)cfg->warmup) * 1e6)};
  struct event *ev = evtimer_new(w->base, phase, w);
  evtimer_add(ev, &warm);
  event_base_dispatch(w->base);
  return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(const uint32_t *v, size_t n, double p)
{
  if (!n)
    return 0;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i] / 1000.0;
}

static void sleep_until(double t)
{
  double d = t - now();
  if (d > 0) {
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
      ;
  }
}

/* utime + stime of each process in a comma-separated list of PIDs (/proc/PID/stat: fields 14
 * and 15, counted after the command name in parentheses, which may hold spaces). */
static bool cpu_seconds(const char *pids, double *out)
{
  *out = 0;
  if (!pids)
    return false;
  long hz = sysconf(_SC_CLK_TCK);
  for (const char *p = pids; *p;) {
    char *end;
    long pid = strtol(p, &end, 10);
    if (end == p || pid <= 0 || (*end && *end != ','))
      return false;
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
    if (fp)
      fclose(fp);
    buf[n] = '\0';
    char *rp = strrchr(buf, ')');
    unsigned long long ut, st;
    if (!rp ||
        sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
      return false;
    *out += (double)(ut + st) / (double)hz;
    p = *end ? end + 1 : end;
  }
  return true;
}

/* The tool's own CPU (all its threads), seconds. */
static double self_cpu(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Sorts the measured figures of every thread (lat_us or lag_us) into one array. */
static uint32_t *gather(const worker_t *w, int threads, bool lag, size_t *n_out)
{
  size_t n = 0;
  for (int i = 0; i < threads; i++)
    n += lag ? w[i].n_lag : w[i].n_lat;
  uint32_t *all = malloc((n ? n : 1) * sizeof(*all));
  if (!all)
    return NULL;
  for (int i = 0, k = 0; i < threads; i++) {
    size_t m = lag ? w[i].n_lag : w[i].n_lat;
    memcpy(all + k, lag ? w[i].lag_us : w[i].lat_us, m * sizeof(*all));
    k += (int)m;
  }
  qsort(all, n, sizeof(*all), cmp_u32);
  *n_out = n;
  return all;
}

static int parse_url(const char *url, config_t *cfg)
{
  if (strncmp(url, "https://", 8) != 0)
    return -1;
  const char *h = url + 8, *colon = strchr(h, ':'), *slash = strchr(h, '/');
  if (!colon || !slash || colon > slash || (size_t)(colon - h) >= sizeof(cfg->host) ||
      (size_t)(slash - colon - 1) >= sizeof(cfg->port) || strlen(slash) >= sizeof(cfg->path))
    return -1;
  memcpy(cfg->host, h, (size_t)(colon - h));
  memcpy(cfg->port, colon + 1, (size_t)(slash - colon - 1));
  strcpy(cfg->path, slash);
  snprintf(cfg->authority, sizeof(cfg->authority), "%s:%s", cfg->host, cfg->port);
  cfg->path_len = strlen(cfg->path);
  cfg->authority_len = strlen(cfg->authority);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
  return getaddrinfo(cfg->host, cfg->port, &hints, &cfg->addr) == 0 ? 0 : -1;
}

static SSL_CTX *tls_new(const char *ca, const char *cert, const char *key)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  static const unsigned char alpn[] = {2, 'h', '2'};
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
      SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn)) != 0 ||
      (ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) ||
      (cert && SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) ||
      (key && SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)) {
    unsigned long e = ERR_peek_last_error();
    fprintf(stderr, "load: TLS set-up: %s\n", e ? ERR_reason_error_string(e) : "failed");
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_verify(ctx, ca ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  /* Read-ahead, as the server's (lib/sbi/tls.c): without it OpenSSL reads each record with two
   * read(2)s, its 5-octet header and then its body (strace: 2 reads per answer at 5,000/s);
   * with it one read takes what the socket has, and SSL_has_pending says when to stop. */
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

static void usage(void)
{
  fprintf(stderr,
          "usage: bench-keyrequest load --url https://HOST:PORT/PATH --ids FILE --ca FILE\n"
          "         [--cert FILE --key FILE] [--get] [--threads 1] [--conns 10] [--streams 100]\n"
          "         [--rate REQ_PER_S] [--tick-us 100] [--warmup 2] [--duration 10] [--verify]\n"
          "         [--cpu-pids PID,...]  (the servers' CPU time per request)\n");
}

int kr_load(int argc, char **argv)
{
  kedge_cli_option_t opts[] = {{.name = "url"},      {.name = "ids"},
                               {.name = "ca"},       {.name = "cert"},
                               {.name = "key"},      {.name = "get", .flag = true},
                               {.name = "threads"},  {.name = "conns"},
                               {.name = "streams"},  {.name = "rate"},
                               {.name = "tick-us"},  {.name = "warmup"},
                               {.name = "duration"}, {.name = "verify", .flag = true},
                               {.name = "cpu-pids"}};
  size_t n_opts = sizeof(opts) / sizeof(opts[0]);
  char why[512];
  if (kedge_cli_parse(argc, argv, 2, opts, n_opts, NULL, 0, NULL, why, sizeof(why))) {
    fprintf(stderr, "load: %s\n", why);
    usage();
    return 2;
  }
#define OPT(name) kedge_cli_get(opts, n_opts, name)
  static config_t cfg;
  const char *url = OPT("url"), *ids = OPT("ids");
  if (!url || !ids || parse_url(url, &cfg) != 0) {
    usage();
    return 2;
  }
  cfg.post = !OPT("get");
  cfg.threads = OPT("threads") ? atoi(OPT("threads")) : 1;
  cfg.conns = OPT("conns") ? atoi(OPT("conns")) : 10;
  cfg.streams = OPT("streams") ? atoi(OPT("streams")) : 100;
  cfg.rate = OPT("rate") ? atof(OPT("rate")) : 0;
  cfg.tick = (OPT("tick-us") ? atof(OPT("tick-us")) : TICK_US) / 1e6;
  cfg.warmup = OPT("warmup") ? atof(OPT("warmup")) : 2;
  cfg.duration = OPT("duration") ? atof(OPT("duration")) : 10;
  cfg.verify = OPT("verify") != NULL;
  if (cfg.threads < 1 || cfg.threads > 64 || cfg.conns < cfg.threads || cfg.streams < 1 ||
      cfg.streams > 1000 || cfg.rate < 0 || cfg.warmup <= 0 || cfg.duration <= 0 ||
      !(cfg.tick >= 1e-6 && cfg.tick <= 0.1)) {
    usage();
    return 2;
  }
  if ((OPT("cert") == NULL) != (OPT("key") == NULL)) {
    fprintf(stderr, "load: --cert and --key go together\n");
    return 2;
  }
  if (ids_load(ids, &cfg.ids) != 0)
    return 1;
  if (!(cfg.tls = tls_new(OPT("ca"), OPT("cert"), OPT("key"))))
    return 1;

  worker_t *w = calloc((size_t)cfg.threads, sizeof(*w));
  if (!w)
    return 1;
  for (int i = 0; i < cfg.threads; i++) {
    w[i].cfg = &cfg;
    w[i].n_conns = cfg.conns / cfg.threads + (i < cfg.conns % cfg.threads);
    w[i].rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1) ^ (uint64_t)getpid();
    if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0)
      return 1;
  }
  /* The servers' CPU time over the measured window (all their threads): on a machine shared
   * with the load tool and others, CPU per request is steadier than requests per second. */
  double t_start = now(), cpu0 = 0, cpu1 = 0;
  sleep_until(t_start + cfg.warmup);
  bool cpu_ok = cpu_seconds(OPT("cpu-pids"), &cpu0);
  double self0 = self_cpu();
  sleep_until(t_start + cfg.warmup + cfg.duration);
  cpu_ok = cpu_ok && cpu_seconds(OPT("cpu-pids"), &cpu1);
  double self1 = self_cpu();
  uint64_t ok = 0, other = 0, errors = 0, verify_failed = 0, dropped = 0, conn_failures = 0;
  double span = 0;
  for (int i = 0; i < cfg.threads; i++) {
    pthread_join(w[i].thread, NULL);
    ok += w[i].ok;
    other += w[i].other;
    errors += w[i].errors;
    verify_failed += w[i].verify_failed;
    dropped += w[i].dropped;
    conn_failures += w[i].conn_failures;
    span += w[i].measure_to - w[i].measure_from;
  }
  span /= cfg.threads;
  size_t n = 0, n_lag = 0;
  uint32_t *all = gather(w, cfg.threads, false, &n), *lag = gather(w, cfg.threads, true, &n_lag);
  if (!all || !lag)
    return 1;
  double done = (double)(ok + other);
  printf("rps=%.0f ok=%llu other=%llu errors=%llu verify_failed=%llu dropped=%llu "
         "reconnects=%llu p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
         "cpu_us_per_req=%.1f tool_cpu_us_per_req=%.1f send_lag_p99_ms=%.3f send_lag_max_ms=%.3f\n",
         span > 0 ? done / span : 0, (unsigned long long)ok, (unsigned long long)other,
         (unsigned long long)errors, (unsigned long long)verify_failed, (unsigned long long)dropped,
         (unsigned long long)conn_failures, pct(all, n, 0.5), pct(all, n, 0.9), pct(all, n, 0.99),
         pct(all, n, 0.999), n ? all[n - 1] / 1000.0 : 0,
         cpu_ok && done > 0 ? (cpu1 - cpu0) * 1e6 / done : 0,
         done > 0 ? (self1 - self0) * 1e6 / done : 0, pct(lag, n_lag, 0.99),
         n_lag ? lag[n_lag - 1] / 1000.0 : 0);
  return 0;
}
