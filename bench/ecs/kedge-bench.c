/* kedge-bench (built as bench/bench-ecs): a load generator for TLS 1.3 + HTTP/2 servers,
 * libevent + OpenSSL + nghttp2, one thread. h2load cannot offer an external PSK, so the ECS
 * benchmark (bench/ecs/run.sh) uses this; on a plain TLS endpoint its figures are checked
 * against h2load's.
 *
 *   bench-ecs --target HOST:PORT [-c CLIENTS] [-n REQUESTS] [-m STREAMS] [--path PATH]
 *             [--data FILE] [--psk-identity ID --psk HEX] [--new-connection] [--handshake-only]
 *             [--warmup N] [--label TEXT]
 *   bench-ecs --openssl-reference [--tcp] [-n HANDSHAKES] [--warmup N]   (openssl_reference.c)
 *
 * Modes:
 * - default (like h2load): CLIENTS connections (TLS 1.3, certificate not verified, ALPN h2),
 *   each with up to STREAMS requests in flight, REQUESTS in total (GET, or POST with --data).
 * - --psk-identity/--psk: TLS 1.3 with that external PSK (SHA-256, psk_dhe_ke, X25519) and no
 *   certificate.
 * - --new-connection: every request on a fresh connection (full handshake + one request);
 *   --handshake-only: full handshakes without HTTP (connect, handshake, close_notify).
 * Prints one line: requests (or handshakes) per second, successes, latency p50/p90/p99 (from
 * the TCP connect with --new-connection/--handshake-only, else from the request's start).
 * Without --target it only says where it is used (scripts/bench.sh runs every bench program). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "kedge/hex.h"
#include "openssl_reference.h"

typedef struct bench bench_t;

typedef enum { C_CONNECTING, C_HANDSHAKE, C_H2, C_CLOSING } cstate_t;

typedef struct client {
  bench_t *b;
  int fd;
  SSL *ssl;
  nghttp2_session *h2;
  struct event *rev, *wev;
  cstate_t state;
  double t_connect;
  int in_flight;
  int started_here; /* requests started on this connection */
  bool unit_open;   /* per-connection modes: this connection's handshake/request not counted yet */
  uint8_t *out;     /* TLS plaintext not yet accepted by SSL_write */
  size_t out_len, out_cap;
} client_t;

struct bench {
  struct event_base *base;
  SSL_CTX *ctx;
  struct sockaddr_storage addr;
  socklen_t addr_len;
  char authority[128];
  const char *path;
  uint8_t *data;
  size_t data_len;
  bool psk;
  char psk_identity[256];
  uint8_t psk_key[64];
  size_t psk_len;
  bool new_connection, handshake_only;
  int clients, streams;
  long total, started, done, ok, failed;
  double *lat;
  long n_lat;
  client_t *cl;
  int active;
};

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void client_start(client_t *c);

/* ---- TLS ---- */

static const unsigned char alpn_h2[] = {2, 'h', '2'};
static const unsigned char aes128gcm[2] = {0x13, 0x01};

static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                          SSL_SESSION **sess)
{
  bench_t *b = SSL_get_app_data(ssl);
  *sess = NULL;
  if (md && EVP_MD_get_type(md) != NID_sha256)
    return 1;
  SSL_SESSION *s = SSL_SESSION_new();
  const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm);
  if (!s || !cipher || !SSL_SESSION_set1_master_key(s, b->psk_key, b->psk_len) ||
      !SSL_SESSION_set_cipher(s, cipher) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
    SSL_SESSION_free(s);
    return 0;
  }
  *sess = s;
  *id = (const unsigned char *)b->psk_identity;
  *idlen = strlen(b->psk_identity);
  return 1;
}

static SSL_CTX *make_ctx(bench_t *b)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx)
    return NULL;
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof(alpn_h2));
  SSL_CTX_set1_groups_list(ctx, "X25519:P-256");
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* like h2load: load, not authentication */
  if (b->psk) {
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_psk_use_session_callback(ctx, use_session_cb);
  }
  return ctx;
}

/* ---- accounting ---- */

static bool per_connection(const bench_t *b)
{
  return b->new_connection || b->handshake_only;
}

static void record(bench_t *b, double start)
{
  if (b->n_lat < b->total)
    b->lat[b->n_lat++] = now_s() - start;
}

static void count(bench_t *b, bool ok, double start)
{
  b->done++;
  if (ok) {
    b->ok++;
    record(b, start);
  } else {
    b->failed++;
  }
  if (b->done >= b->total)
    event_base_loopbreak(b->base);
}

/* ---- connection life ---- */

static void client_close(client_t *c)
{
  if (c->rev)
    event_free(c->rev);
  if (c->wev)
    event_free(c->wev);
  c->rev = c->wev = NULL;
  if (c->h2)
    nghttp2_session_del(c->h2);
  c->h2 = NULL;
  if (c->ssl)
    SSL_free(c->ssl);
  c->ssl = NULL;
  if (c->fd >= 0) {
    /* RST instead of TIME_WAIT: thousands of connections a second from one address */
    struct linger lg = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c->fd);
  }
  c->fd = -1;
  c->out_len = 0;
}

/* The connection is finished: the next one starts if work is left. */
static void client_next(client_t *c)
{
  bench_t *b = c->b;
  client_close(c);
  if (b->started < b->total && b->done < b->total) {
    client_start(c);
  } else if (--b->active == 0) {
    event_base_loopbreak(b->base);
  }
}

static void client_fail(client_t *c)
{
  bench_t *b = c->b;
  if (per_connection(b)) {
    if (c->unit_open) {
      c->unit_open = false;
      count(b, false, 0);
    }
  } else {
    for (; c->in_flight > 0; c->in_flight--) /* requests lost with the connection */
      count(b, false, 0);
  }
  c->in_flight = 0;
  client_next(c);
}

/* ---- HTTP/2 ---- */

typedef struct stream {
  double start;
  int status;
} stream_t;

static ssize_t send_cb(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
  client_t *c = arg;
  if (c->out_len + len > c->out_cap) {
    size_t cap = (c->out_len + len) * 2;
    uint8_t *grown = realloc(c->out, cap);
    if (!grown)
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    c->out = grown;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
  return (ssize_t)len;
}

static int header_cb(nghttp2_session *s, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *arg)
{
  stream_t *st = nghttp2_session_get_stream_user_data(s, frame->hd.stream_id);
  if (st && namelen == 7 && !memcmp(name, ":status", 7))
    st->status = atoi((const char *)value);
  return 0;
}

static ssize_t data_read_cb(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len,
                            uint32_t *flags, nghttp2_data_source *src, void *arg)
{
  client_t *c = arg;
  size_t n = c->b->data_len < len ? c->b->data_len : len; /* bodies are small */
  memcpy(buf, c->b->data, n);
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static void submit_one(client_t *c)
{
  bench_t *b = c->b;
  stream_t *st = calloc(1, sizeof(*st));
  if (!st)
    return;
  st->start = b->new_connection ? c->t_connect : now_s();
  char len[24];
  snprintf(len, sizeof(len), "%zu", b->data_len);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE}
  nghttp2_nv nva[] = {NV(":method", b->data ? "POST" : "GET"), NV(":scheme", "https"),
                      NV(":authority", b->authority),          NV(":path", b->path),
                      NV("content-type", "application/json"),  NV("content-length", len)};
#undef NV
  nghttp2_data_provider prd = {.read_callback = data_read_cb};
  if (nghttp2_submit_request(c->h2, NULL, nva, b->data ? 6 : 4, b->data ? &prd : NULL, st) < 0) {
    free(st);
    return;
  }
  if (!per_connection(b))
    b->started++;
  c->started_here++;
  c->in_flight++;
}

static void fill(client_t *c)
{
  bench_t *b = c->b;
  if (b->new_connection) {
    if (c->started_here == 0)
      submit_one(c);
    return;
  }
  while (c->in_flight < b->streams && b->started < b->total)
    submit_one(c);
}

static int stream_close_cb(nghttp2_session *s, int32_t id, uint32_t err, void *arg)
{
  client_t *c = arg;
  stream_t *st = nghttp2_session_get_stream_user_data(s, id);
  if (!st)
    return 0;
  c->in_flight--;
  c->unit_open = false;
  count(c->b, err == 0 && st->status >= 200 && st->status < 300, st->start);
  free(st);
  return 0;
}

static bool h2_start(client_t *c)
{
  nghttp2_session_callbacks *cbs;
  if (nghttp2_session_callbacks_new(&cbs))
    return false;
  nghttp2_session_callbacks_set_send_callback(cbs, send_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, stream_close_cb);
  int rv = nghttp2_session_client_new(&c->h2, cbs, c);
  nghttp2_session_callbacks_del(cbs);
  if (rv)
    return false;
  nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                  {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
  nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set, 2);
  c->state = C_H2;
  fill(c);
  return true;
}

/* Moves nghttp2's output through SSL_write; waits for writability when needed. */
static void client_flush(client_t *c)
{
  bench_t *b = c->b;
  if (c->h2 && nghttp2_session_send(c->h2) != 0) {
    client_fail(c);
    return;
  }
  while (c->out_len > 0) {
    int n = SSL_write(c->ssl, c->out, (int)c->out_len);
    if (n <= 0) {
      int e = SSL_get_error(c->ssl, n);
      if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        event_add(c->wev, NULL);
        return;
      }
      client_fail(c);
      return;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
  }
  if (c->state == C_H2 && c->in_flight == 0 &&
      (b->done >= b->total || b->started >= b->total || (b->new_connection && c->started_here)))
    client_next(c);
}

/* ---- events ---- */

static void handshake_step(client_t *c)
{
  bench_t *b = c->b;
  ERR_clear_error();
  int rv = SSL_do_handshake(c->ssl);
  if (rv == 1) {
    if (b->handshake_only) {
      c->unit_open = false;
      count(b, true, c->t_connect);
      SSL_shutdown(c->ssl); /* close_notify */
      client_next(c);
      return;
    }
    if (!h2_start(c)) {
      client_fail(c);
      return;
    }
    client_flush(c);
    return;
  }
  int e = SSL_get_error(c->ssl, rv);
  if (e == SSL_ERROR_WANT_READ)
    return; /* rev is persistent */
  if (e == SSL_ERROR_WANT_WRITE) {
    event_add(c->wev, NULL);
    return;
  }
  ERR_clear_error();
  client_fail(c);
}

static void read_cb(evutil_socket_t fd, short what, void *arg)
{
  client_t *c = arg;
  if (c->state == C_HANDSHAKE) {
    handshake_step(c);
    return;
  }
  if (c->state != C_H2)
    return;
  uint8_t buf[16384];
  for (int i = 0; i < 16; i++) {
    int n = SSL_read(c->ssl, buf, sizeof(buf));
    if (n <= 0) {
      int e = SSL_get_error(c->ssl, n);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        break;
      client_fail(c);
      return;
    }
    if (nghttp2_session_mem_recv(c->h2, buf, (size_t)n) < 0) {
      client_fail(c);
      return;
    }
  }
  fill(c);
  client_flush(c);
}

static void write_cb(evutil_socket_t fd, short what, void *arg)
{
  client_t *c = arg;
  if (c->state == C_CONNECTING) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      fprintf(stderr, "bench-ecs: connect: %s\n", strerror(err));
      client_fail(c);
      return;
    }
    c->state = C_HANDSHAKE;
    event_add(c->rev, NULL);
    handshake_step(c);
    return;
  }
  if (c->state == C_HANDSHAKE)
    handshake_step(c);
  else
    client_flush(c);
}

static void client_start(client_t *c)
{
  bench_t *b = c->b;
  c->in_flight = 0;
  c->started_here = 0;
  c->state = C_CONNECTING;
  c->t_connect = now_s();
  c->unit_open = per_connection(b);
  if (per_connection(b))
    b->started++; /* one handshake (and request) per connection */
  c->fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c->ssl = SSL_new(b->ctx);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_app_data(c->ssl, b);
  SSL_set_connect_state(c->ssl);
  c->rev = event_new(b->base, c->fd, EV_READ | EV_PERSIST, read_cb, c);
  c->wev = event_new(b->base, c->fd, EV_WRITE, write_cb, c);
  if (connect(c->fd, (struct sockaddr *)&b->addr, b->addr_len) != 0 && errno != EINPROGRESS) {
    client_fail(c);
    return;
  }
  event_add(c->wev, NULL);
}

/* ---- main ---- */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double pct(const double *v, long n, double p)
{
  if (n == 0)
    return 0;
  long i = (long)(p * (double)(n - 1) + 0.5);
  return v[i];
}

static int run(bench_t *b, long total, const char *label, bool quiet)
{
  b->total = total;
  b->started = b->done = b->ok = b->failed = b->n_lat = 0;
  free(b->lat);
  b->lat = calloc((size_t)total + 1, sizeof(double));
  b->cl = calloc((size_t)b->clients, sizeof(client_t));
  if (!b->lat || !b->cl)
    return 1;
  b->active = b->clients;
  double t0 = now_s();
  for (int i = 0; i < b->clients; i++) {
    b->cl[i].b = b;
    b->cl[i].fd = -1;
    client_start(&b->cl[i]);
  }
  event_base_dispatch(b->base);
  double secs = now_s() - t0;
  for (int i = 0; i < b->clients; i++) {
    client_close(&b->cl[i]);
    free(b->cl[i].out);
  }
  free(b->cl);
  b->cl = NULL;
  if (quiet)
    return 0;
  qsort(b->lat, (size_t)b->n_lat, sizeof(double), cmp_double);
  const char *unit = b->handshake_only ? "handshakes/s" : "req/s";
  printf("%-44s %10.0f %s  ok %ld/%ld  latency p50 %.2f ms p90 %.2f ms p99 %.2f ms\n",
         label ? label : "kedge-bench", (double)b->ok / secs, unit, b->ok, total,
         pct(b->lat, b->n_lat, 0.50) * 1e3, pct(b->lat, b->n_lat, 0.90) * 1e3,
         pct(b->lat, b->n_lat, 0.99) * 1e3);
  return b->failed ? 2 : 0;
}

static const char usage[] =
    "Usage: bench-ecs --target HOST:PORT [-c CLIENTS] [-n REQUESTS] [-m STREAMS] [--path PATH]\n"
    "                 [--data FILE] [--psk-identity ID --psk HEX] [--new-connection]\n"
    "                 [--handshake-only] [--warmup N] [--label TEXT]\n"
    "       bench-ecs --openssl-reference [--tcp] [-n HANDSHAKES] [--warmup N]\n"
    "(kedge-bench; bench/ecs/run.sh shows it at work)\n";

int main(int argc, char **argv)
{
  bench_t b = {.clients = 10, .streams = 1, .path = "/"};
  long n = 10000, warmup = 0;
  const char *target = NULL, *label = NULL, *data_file = NULL, *psk_hex = NULL;
  bool reference = false, tcp = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define ARG(name) (!strcmp(a, name) && v && (i++, 1))
    if (ARG("--target"))
      target = v;
    else if (ARG("-c"))
      b.clients = atoi(v);
    else if (ARG("-n"))
      n = atol(v);
    else if (ARG("-m"))
      b.streams = atoi(v);
    else if (ARG("--path"))
      b.path = v;
    else if (ARG("--data"))
      data_file = v;
    else if (ARG("--psk-identity"))
      snprintf(b.psk_identity, sizeof(b.psk_identity), "%s", v);
    else if (ARG("--psk"))
      psk_hex = v;
    else if (ARG("--warmup"))
      warmup = atol(v);
    else if (ARG("--label"))
      label = v;
    else if (!strcmp(a, "--new-connection"))
      b.new_connection = true;
    else if (!strcmp(a, "--handshake-only"))
      b.handshake_only = true;
    else if (!strcmp(a, "--openssl-reference"))
      reference = true;
    else if (!strcmp(a, "--tcp"))
      tcp = true;
    else if (!target && strspn(a, "0123456789") == strlen(a)) {
      /* scripts/bench.sh passes BENCH_SECONDS: this program needs peers */
      printf("bench-ecs is kedge-bench, the load generator of bench/ecs/run.sh (needs peers)\n");
      return 0;
    } else {
      fputs(usage, stderr);
      return 2;
    }
#undef ARG
  }
  if (reference)
    return n > 0 && warmup >= 0 ? openssl_reference(n, warmup, tcp) : 2;
  if (!target) {
    printf("bench-ecs is kedge-bench, the load generator of bench/ecs/run.sh (needs peers)\n");
    return 0;
  }
  char host[64];
  const char *colon = strrchr(target, ':');
  if (!colon || (size_t)(colon - target) >= sizeof(host) || b.clients < 1 || n < 1 ||
      b.streams < 1) {
    fputs(usage, stderr);
    return 2;
  }
  memcpy(host, target, (size_t)(colon - target));
  host[colon - target] = '\0';
  struct sockaddr_in *sin = (struct sockaddr_in *)&b.addr;
  sin->sin_family = AF_INET;
  sin->sin_port = htons((uint16_t)atoi(colon + 1));
  if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
    fprintf(stderr, "bench-ecs: --target needs a numeric IPv4 address\n");
    return 2;
  }
  b.addr_len = sizeof(*sin);
  snprintf(b.authority, sizeof(b.authority), "%s", target);
  if (psk_hex) {
    size_t len = 0;
    if (kedge_hex_decode_var(psk_hex, b.psk_key, sizeof(b.psk_key), &len) || len < 16 ||
        !b.psk_identity[0]) {
      fprintf(stderr, "bench-ecs: --psk needs 16 to 64 octets in hex and --psk-identity\n");
      return 2;
    }
    b.psk_len = len;
    b.psk = true;
  }
  if (data_file) {
    FILE *f = fopen(data_file, "rb");
    static uint8_t buf[65536];
    if (!f) {
      perror(data_file);
      return 2;
    }
    b.data_len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    b.data = buf;
  }
  if (b.handshake_only || b.new_connection)
    b.streams = 1;
  b.base = event_base_new();
  b.ctx = make_ctx(&b);
  if (!b.base || !b.ctx)
    return 1;
  if (warmup > 0)
    run(&b, warmup, NULL, true);
  int rc = run(&b, n, label, false);
  free(b.lat);
  SSL_CTX_free(b.ctx);
  event_base_free(b.base);
  return rc;
}
