/* bench-attack: the load generator of bench/attack/run.sh (issue 12). TLS 1.3 external-PSK
 * ClientHellos against kedge-ecsd, from chosen loopback source addresses, at a fixed rate, on
 * one poll(2) loop:
 *   bench-attack genuine --port P --keys FILE --rate R --seconds S --sources 127.0.1.1/50
 *       full handshakes with the keys of FILE ("KEDGE_ID HEX" lines, each used once in turn);
 *       prints success %, p50, p99 (connect to handshake done)
 *   bench-attack probe --port P --keys FILE --rate R --seconds S --sources A/N
 *       the identities of FILE with random keys, as a prober without the keys: prints the time
 *       from connect to the alert, p10/p50/p90, and which alerts came, per class (an optional
 *       third word on each line of FILE; the lines interleave the classes, so that each sees
 *       the ECS in the same state): the timing oracle, issue 12
 *   bench-attack flood --port P --rate R --seconds S --sources 127.0.0.10/100
 *       ClientHellos with random well-formed Kedge IDs and random keys; prints how each ended
 *       (the alert received, closed, timeout)
 * Every connection ends after at most 2 s; the whole run after S + 2 s. Figures, not
 * assertions. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "kedge/daemon.h"
#include "kedge/hex.h"

#define MAX_INFLIGHT 8192
#define CONN_TIMEOUT 2.0

#define MAX_CLASSES 8

typedef struct key {
  char id[160];
  uint8_t psk[32];
  int cls;
} key_t_;

typedef struct conn {
  int fd;
  SSL *ssl;
  bool connecting;
  double start;
  int alert; /* received, -1 none */
  const key_t_ *key;
  key_t_ random_key;
} conn_t;

typedef struct run {
  bool genuine;
  bool probe; /* genuine's identities, random keys: a decrypt_error is the expected end */
  int port;
  double rate, seconds;
  struct in_addr source0;
  int n_sources;
  key_t_ *keys;
  size_t n_keys, next_key;
  SSL_CTX *ctx;
  conn_t conns[MAX_INFLIGHT];
  struct pollfd pfd[MAX_INFLIGHT];
  int n;
  long started, ok, closed, timeouts, refused, alerts[256], busy;
  double *lat;
  long n_lat;
  char class_names[MAX_CLASSES][48];
  int n_classes;
  double *class_lat[MAX_CLASSES];
  long n_class_lat[MAX_CLASSES], class_alerts[MAX_CLASSES][2]; /* [51, other] */
} run_t;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                          SSL_SESSION **sess)
{
  conn_t *c = SSL_get_app_data(ssl);
  static const unsigned char aes128[2] = {0x13, 0x01};
  const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128);
  SSL_SESSION *s = SSL_SESSION_new();
  if (!s || !cipher || !SSL_SESSION_set1_master_key(s, c->key->psk, sizeof(c->key->psk)) ||
      !SSL_SESSION_set_cipher(s, cipher) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
    SSL_SESSION_free(s);
    return 0;
  }
  *sess = s;
  *id = (const unsigned char *)c->key->id;
  *idlen = strlen(c->key->id);
  return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
  conn_t *c = SSL_get_app_data(ssl);
  /* alerts received only (SSL_CB_READ_ALERT shares the SSL_CB_ALERT bit with write alerts);
   * OpenSSL 3.0 "sends" decode_error itself when the server closes without an alert */
  if (c && (where & SSL_CB_ALERT) && (where & SSL_CB_READ) && c->alert < 0)
    c->alert = ret & 0xff;
}

/* SPEC.md 2: RID "." base64url(Kedge-TID, 32 octets) "@" realm */
static void random_key(key_t_ *k)
{
  uint8_t tid[32];
  unsigned char b64[64];
  RAND_bytes(tid, sizeof(tid));
  RAND_bytes(k->psk, sizeof(k->psk));
  int n = EVP_EncodeBlock(b64, tid, sizeof(tid));
  while (n > 0 && b64[n - 1] == '=')
    n--;
  for (int i = 0; i < n; i++)
    b64[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
  snprintf(k->id, sizeof(k->id), "0.%.*s@5gc.mnc001.mcc001.3gppnetwork.org", n, b64);
}

static void conn_end(run_t *r, int i, int outcome)
{
  conn_t *c = &r->conns[i];
  double t = now_s();
  if (outcome == 1) {
    r->ok++;
    if (r->lat)
      r->lat[r->n_lat++] = t - c->start;
  } else if (outcome == 2) {
    r->timeouts++;
  } else if (c->alert >= 0) {
    r->alerts[c->alert]++;
    if (r->probe) {
      int k = c->key->cls;
      r->class_alerts[k][c->alert == 51 ? 0 : 1]++;
      if (c->alert == 51)
        r->class_lat[k][r->n_class_lat[k]++] = t - c->start;
    }
  } else {
    r->closed++;
  }
  SSL_free(c->ssl);
  close(c->fd);
  r->n--;
  if (i != r->n) {
    r->conns[i] = r->conns[r->n];
    r->pfd[i] = r->pfd[r->n];
    SSL_set_app_data(r->conns[i].ssl, &r->conns[i]);
  }
}

static bool conn_start(run_t *r)
{
  if (r->n >= MAX_INFLIGHT) {
    r->busy++;
    return false;
  }
  conn_t *c = &r->conns[r->n];
  memset(c, 0, sizeof(*c));
  c->alert = -1;
  c->start = now_s();
  if (r->probe) {
    c->random_key = r->keys[r->next_key++ % r->n_keys];
    RAND_bytes(c->random_key.psk, sizeof(c->random_key.psk));
    c->key = &c->random_key;
  } else if (r->genuine) {
    c->key = &r->keys[r->next_key++ % r->n_keys];
  } else {
    random_key(&c->random_key);
    c->key = &c->random_key;
  }
  struct sockaddr_in src = {.sin_family = AF_INET}, dst = {.sin_family = AF_INET};
  src.sin_addr.s_addr = htonl(ntohl(r->source0.s_addr) + (uint32_t)(r->started % r->n_sources));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  dst.sin_port = htons((uint16_t)r->port);
  r->started++;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  if (c->fd < 0 || bind(c->fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
    if (c->fd >= 0)
      close(c->fd);
    r->refused++;
    return false;
  }
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(c->fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS) {
    close(c->fd);
    r->refused++;
    return false;
  }
  c->connecting = true;
  c->ssl = SSL_new(r->ctx);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_connect_state(c->ssl);
  r->pfd[r->n] = (struct pollfd){.fd = c->fd, .events = POLLOUT};
  r->n++;
  SSL_set_app_data(c->ssl, c);
  return true;
}

/* 0: go on; 1: handshake done; -1: failed */
static int step(run_t *r, int i)
{
  conn_t *c = &r->conns[i];
  if (c->connecting) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err)
      return -1;
    c->connecting = false;
  }
  ERR_clear_error();
  int rv = SSL_connect(c->ssl);
  if (rv == 1) {
    const unsigned char *proto = NULL;
    unsigned plen = 0;
    SSL_get0_alpn_selected(c->ssl, &proto, &plen);
    return SSL_session_reused(c->ssl) && plen == 2 ? 1 : -1;
  }
  switch (SSL_get_error(c->ssl, rv)) {
  case SSL_ERROR_WANT_READ:
    r->pfd[i].events = POLLIN;
    return 0;
  case SSL_ERROR_WANT_WRITE:
    r->pfd[i].events = POLLOUT;
    return 0;
  default:
    ERR_clear_error();
    return -1;
  }
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int load_keys(run_t *r, const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  char line[512], hex[128], cls[48];
  size_t cap = 0;
  while (fgets(line, sizeof(line), f)) {
    if (r->n_keys == cap) {
      cap = cap ? 2 * cap : 256;
      key_t_ *k = realloc(r->keys, cap * sizeof(*k));
      if (!k)
        break;
      r->keys = k;
    }
    key_t_ *k = &r->keys[r->n_keys];
    int words = sscanf(line, "%159s %127s %47s", k->id, hex, cls);
    if (words < 2 || kedge_hex_decode(hex, k->psk, sizeof(k->psk)) != KEDGE_OK)
      continue;
    if (words < 3)
      strcpy(cls, "all");
    k->cls = -1;
    for (int i = 0; i < r->n_classes; i++)
      if (!strcmp(r->class_names[i], cls))
        k->cls = i;
    if (k->cls < 0 && r->n_classes < MAX_CLASSES) {
      k->cls = r->n_classes;
      snprintf(r->class_names[r->n_classes++], sizeof(r->class_names[0]), "%s", cls);
    }
    if (k->cls >= 0)
      r->n_keys++;
  }
  fclose(f);
  return r->n_keys ? 0 : -1;
}

static const char usage[] =
    "Usage: bench-attack keys N   (N random \"KEDGE_ID HEX\" lines)\n"
    "       bench-attack genuine --port P --keys FILE --rate R --seconds S --sources A/N\n"
    "       bench-attack probe --port P --keys FILE --rate R --seconds S --sources A/N\n"
    "       bench-attack flood --port P --rate R --seconds S --sources A/N\n"
    "(bench/attack/run.sh shows it at work)\n";

int main(int argc, char **argv)
{
  if (argc == 2 && strspn(argv[1], "0123456789") == strlen(argv[1])) {
    puts("bench-attack is the load generator of bench/attack/run.sh (needs peers)");
    return 0;
  }
  if (argc == 3 && !strcmp(argv[1], "keys")) {
    /* N lines "KEDGE_ID HEX" of random well-formed identities and keys (the key source's file) */
    long n = atol(argv[2]);
    for (long i = 0; i < n && i < 1000000; i++) {
      key_t_ k;
      char hex[65];
      random_key(&k);
      kedge_hex_encode(k.psk, sizeof(k.psk), hex);
      printf("%s %s\n", k.id, hex);
    }
    return 0;
  }
  kedge_process_init(); /* the ECS closes connections under us: EPIPE, not SIGPIPE */
  static run_t r;
  const char *keys = NULL, *sources = "127.0.0.1/1";
  if (argc < 2 ||
      (strcmp(argv[1], "genuine") && strcmp(argv[1], "flood") && strcmp(argv[1], "probe"))) {
    fputs(usage, stderr);
    return 2;
  }
  r.probe = !strcmp(argv[1], "probe");
  r.genuine = r.probe || !strcmp(argv[1], "genuine");
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port"))
      r.port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--keys"))
      keys = argv[i + 1];
    else if (!strcmp(argv[i], "--rate"))
      r.rate = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds"))
      r.seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--sources"))
      sources = argv[i + 1];
    else {
      fputs(usage, stderr);
      return 2;
    }
  }
  char first[32];
  if (sscanf(sources, "%31[0-9.]/%d", first, &r.n_sources) != 2 || r.n_sources < 1 ||
      inet_pton(AF_INET, first, &r.source0) != 1 || (ntohl(r.source0.s_addr) >> 24) != 127 ||
      r.port <= 0 || r.rate <= 0 || r.rate > 20000 || r.seconds <= 0 || r.seconds > 600 ||
      (r.genuine && (!keys || load_keys(&r, keys)))) {
    fputs("bench-attack: loopback sources, a port, 0 < rate <= 20000, 0 < seconds <= 600 "
          "(and a readable --keys FILE for genuine)\n",
          stderr);
    return 2;
  }
  struct rlimit nofile;
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);
  r.ctx = SSL_CTX_new(TLS_client_method());
  static const unsigned char alpn[] = {2, 'h', '2'};
  SSL_CTX_set_min_proto_version(r.ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(r.ctx, "TLS_AES_128_GCM_SHA256");
  SSL_CTX_set1_groups_list(r.ctx, "X25519");
  SSL_CTX_set_alpn_protos(r.ctx, alpn, sizeof(alpn));
  SSL_CTX_set_options(r.ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_psk_use_session_callback(r.ctx, use_session_cb);
  SSL_CTX_set_info_callback(r.ctx, info_cb);
  long total = (long)(r.rate * r.seconds);
  if (r.genuine)
    r.lat = calloc((size_t)total + 1, sizeof(double));
  for (int k = 0; r.probe && k < r.n_classes; k++)
    r.class_lat[k] = calloc((size_t)total + 1, sizeof(double));
  double t0 = now_s(), end = t0 + r.seconds + CONN_TIMEOUT;
  while (now_s() < end && (r.started < total || r.n > 0)) {
    double t = now_s();
    long due = (long)((t - t0) * r.rate);
    while (r.started < due && r.started < total)
      if (!conn_start(&r) && r.n >= MAX_INFLIGHT)
        break;
    int n = poll(r.pfd, (nfds_t)r.n, 1);
    for (int i = r.n - 1; n > 0 && i >= 0; i--) {
      if (!r.pfd[i].revents)
        continue;
      r.pfd[i].revents = 0;
      int s = step(&r, i);
      if (s)
        conn_end(&r, i, s > 0 ? 1 : 0);
    }
    t = now_s();
    for (int i = r.n - 1; i >= 0; i--)
      if (t - r.conns[i].start > CONN_TIMEOUT)
        conn_end(&r, i, 2);
  }
  double secs = now_s() - t0;
  if (r.probe) {
    for (int k = 0; k < r.n_classes; k++) {
      double *l = r.class_lat[k];
      long n = r.n_class_lat[k];
      qsort(l, (size_t)n, sizeof(double), cmp_double);
      printf("    %-36s decrypt_error %ld, other %ld; time to the alert p10 %.2f ms, p50 %.2f "
             "ms, p90 %.2f ms\n",
             r.class_names[k], r.class_alerts[k][0], r.class_alerts[k][1],
             n ? l[(long)(0.10 * (n - 1))] * 1e3 : 0, n ? l[(long)(0.50 * (n - 1))] * 1e3 : 0,
             n ? l[(long)(0.90 * (n - 1))] * 1e3 : 0);
      free(l);
    }
  } else if (r.genuine) {
    qsort(r.lat, (size_t)r.n_lat, sizeof(double), cmp_double);
    double p50 = r.n_lat ? r.lat[(long)(0.50 * (r.n_lat - 1))] : 0;
    double p99 = r.n_lat ? r.lat[(long)(0.99 * (r.n_lat - 1))] : 0;
    printf("genuine: %ld handshakes, %ld ok (%.2f %%), p50 %.2f ms, p99 %.2f ms; failures: "
           "decrypt_error %ld, internal_error %ld, closed %ld, timeout %ld, not started %ld\n",
           r.started, r.ok, r.started ? 100.0 * r.ok / r.started : 0, p50 * 1e3, p99 * 1e3,
           r.alerts[51], r.alerts[80], r.closed, r.timeouts, r.refused);
  } else {
    char others[256] = "";
    size_t o = 0;
    for (int a = 0; a < 256; a++)
      if (a != 51 && a != 80 && r.alerts[a] && o < sizeof(others) - 32)
        o += (size_t)snprintf(others + o, sizeof(others) - o, " %d:%ld", a, r.alerts[a]);
    printf("flood: %ld ClientHellos in %.1f s (%.0f/s) from %d addresses; ended with "
           "decrypt_error %ld, internal_error %ld, other alerts [code:count]%s, closed %ld, "
           "timeout %ld, not started %ld\n",
           r.started, secs, r.started / (secs > 0 ? secs : 1), r.n_sources, r.alerts[51],
           r.alerts[80], others[0] ? others : " none", r.closed, r.timeouts, r.refused);
  }
  SSL_CTX_free(r.ctx);
  free(r.lat);
  free(r.keys);
  return 0;
}
