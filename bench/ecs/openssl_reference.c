/* The bare OpenSSL reference of bench/ecs (issue 17): the ECS's handshake with nothing around
 * it. Two in-memory SSL objects joined by a BIO pair run the same TLS 1.3 psk_dhe_ke handshake
 * the ECS does (TLS_AES_128_GCM_SHA256, X25519, external PSK through
 * SSL_CTX_set_psk_use_session_callback on the client and SSL_CTX_set_psk_find_session_callback
 * on the server, the binder checked, ALPN h2, no tickets, no certificate), and each side's CPU
 * time is measured on its own with CLOCK_THREAD_CPUTIME_ID around that side's calls: SSL_new,
 * every SSL_do_handshake, reading the peer's close_notify and SSL_free. The server side is
 * what an ECS cannot do with less; bench/ecs/run.sh divides kedge-ecsd's CPU per handshake
 * (from /proc) by it. With --tcp the two SSL objects talk over a loopback TCP connection each
 * (in one thread, non-blocking sockets, the client closing with a reset as kedge-bench does):
 * the same OpenSSL work plus the kernel's for the same bytes, accept(2) and close(2) in the
 * server's share; what kedge-ecsd spends beyond that is its own (event loop, answer floor,
 * HTTP/2 adoption) and the cost of interleaving connections.
 *
 *   bench-ecs --openssl-reference [--tcp] [-n HANDSHAKES] [--warmup N]
 *
 * Prints one line: handshakes, server side us per handshake, client side us per handshake. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "kedge/sbi_server.h"
#include "openssl_reference.h"

static const unsigned char aes128gcm[2] = {0x13, 0x01};
static const unsigned char alpn_h2[] = {2, 'h', '2'};
static const char identity[] = "kedge-bench-reference-identity";
static unsigned char psk[32];

static SSL_SESSION *psk_session(SSL *ssl)
{
  const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm);
  SSL_SESSION *s = SSL_SESSION_new();
  if (!cipher || !s || SSL_SESSION_set1_master_key(s, psk, sizeof(psk)) != 1 ||
      SSL_SESSION_set_cipher(s, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return NULL;
  }
  return s;
}

static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                          SSL_SESSION **sess)
{
  *sess = NULL;
  if (md && EVP_MD_get_type(md) != NID_sha256)
    return 1;
  if (!(*sess = psk_session(ssl)))
    return 0;
  *id = (const unsigned char *)identity;
  *idlen = sizeof(identity) - 1;
  return 1;
}

/* The ECS's lookup at its cheapest: a known identity, a key at hand. */
static int find_session_cb(SSL *ssl, const unsigned char *id, size_t len, SSL_SESSION **sess)
{
  *sess = NULL;
  if (len != sizeof(identity) - 1 || memcmp(id, identity, len) != 0)
    return 1;
  return (*sess = psk_session(ssl)) != NULL;
}

static SSL_CTX *ctx_new(bool server)
{
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  if (server) {
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_psk_find_session_callback(ctx, find_session_cb);
    SSL_CTX_set_alpn_select_cb(ctx, kedge_tls_alpn_select_h2, NULL); /* as the ECS */
  } else {
    SSL_CTX_set_alpn_protos(ctx, alpn_h2, sizeof(alpn_h2));
    SSL_CTX_set_psk_use_session_callback(ctx, use_session_cb);
  }
  return ctx;
}

static int64_t cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One full handshake; adds each side's CPU nanoseconds. False when it did not complete (or
 * no PSK was used: the figure would not be the ECS's handshake). */
static bool one_handshake(SSL_CTX *sctx, SSL_CTX *cctx, int lfd, const struct sockaddr_in *addr,
                          int64_t *server_ns, int64_t *client_ns)
{
  int64_t t = cpu_ns();
  SSL *c = SSL_new(cctx);
  BIO *cb = NULL, *sb = NULL;
  int cfd = -1, sfd = -1;
  bool ok = c != NULL;
  if (ok && lfd < 0) {
    ok = BIO_new_bio_pair(&cb, 0, &sb, 0) == 1;
  } else if (ok) {
    /* --tcp: a loopback connection as kedge-bench makes it (TCP_NODELAY, non-blocking) */
    int one = 1;
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ok = cfd >= 0 && setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0 &&
         connect(cfd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 &&
         (cb = BIO_new_socket(cfd, BIO_CLOSE)) != NULL;
    if (ok)
      BIO_socket_nbio(cfd, 1);
    else if (cfd >= 0)
      close(cfd);
  }
  if (ok) {
    SSL_set_bio(c, cb, cb);
    SSL_set_connect_state(c);
  }
  int64_t u = cpu_ns();
  *client_ns += u - t;
  if (ok && lfd >= 0) {
    /* the server's accept(2), as the ECS's: the listener holds TCP_NODELAY for it */
    sfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ok = sfd >= 0 && (sb = BIO_new_socket(sfd, BIO_CLOSE)) != NULL;
    if (!ok && sfd >= 0)
      close(sfd);
  }
  SSL *s = SSL_new(sctx);
  if (s && ok) {
    SSL_set_read_ahead(s, 1); /* as the ECS: one read(2) for what the socket holds */
    SSL_set_bio(s, sb, sb);
    SSL_set_accept_state(s);
  } else {
    BIO_free(sb);
    ok = false;
  }
  t = cpu_ns();
  *server_ns += t - u;
  bool c_done = false, s_done = false;
  for (int round = 0; ok && !(c_done && s_done) && round < 16; round++) {
    u = cpu_ns();
    if (!c_done) {
      int rv = SSL_do_handshake(c);
      c_done = rv == 1;
      ok = c_done || SSL_get_error(c, rv) == SSL_ERROR_WANT_READ;
    }
    t = cpu_ns();
    *client_ns += t - u;
    if (ok && !s_done) {
      int rv = SSL_do_handshake(s);
      s_done = rv == 1;
      ok = s_done || SSL_get_error(s, rv) == SSL_ERROR_WANT_READ;
    }
    u = cpu_ns();
    *server_ns += u - t;
  }
  ok = ok && c_done && s_done && SSL_session_reused(s);
  /* the client closes (as kedge-bench --handshake-only does: over TCP a reset, without
   * close_notify); the server reads it and frees */
  u = cpu_ns();
  if (c && lfd < 0)
    SSL_shutdown(c);
  if (c && lfd >= 0) {
    struct linger lg = {1, 0};
    setsockopt(SSL_get_fd(c), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  SSL_free(c);
  t = cpu_ns();
  *client_ns += t - u;
  if (s) {
    char byte;
    SSL_read(s, &byte, 1);
    SSL_free(s);
  }
  *server_ns += cpu_ns() - t;
  ERR_clear_error();
  return ok;
}

/* --tcp: a listener on 127.0.0.1, port chosen by the kernel; -1 on failure */
static int tcp_listener(struct sockaddr_in *addr)
{
  int one = 1;
  socklen_t len = sizeof(*addr);
  memset(addr, 0, sizeof(*addr));
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      bind(fd, (struct sockaddr *)addr, sizeof(*addr)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)addr, &len) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int openssl_reference(long n, long warmup, bool tcp)
{
  SSL_CTX *sctx = ctx_new(true), *cctx = ctx_new(false);
  struct sockaddr_in addr;
  int lfd = tcp ? tcp_listener(&addr) : -1;
  if (!sctx || !cctx || RAND_bytes(psk, sizeof(psk)) != 1 || (tcp && lfd < 0)) {
    fprintf(stderr, "bench-ecs: cannot set up OpenSSL%s\n", tcp && lfd < 0 ? " (listener)" : "");
    SSL_CTX_free(sctx);
    SSL_CTX_free(cctx);
    if (lfd >= 0)
      close(lfd);
    return 1;
  }
  int64_t s_ns = 0, c_ns = 0;
  long ok = 0;
  for (long i = 0; i < warmup; i++)
    one_handshake(sctx, cctx, lfd, &addr, &s_ns, &c_ns);
  s_ns = c_ns = 0;
  for (long i = 0; i < n; i++)
    ok += one_handshake(sctx, cctx, lfd, &addr, &s_ns, &c_ns);
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  if (lfd >= 0)
    close(lfd);
  printf("openssl %s, psk_dhe_ke X25519: ok %ld/%ld  server side %.1f us/handshake  "
         "client side %.1f us/handshake\n",
         tcp ? "over loopback TCP" : "BIO pair", ok, n, ok ? (double)s_ns / 1e3 / (double)ok : 0,
         ok ? (double)c_ns / 1e3 / (double)ok : 0);
  return ok == n ? 0 : 2;
}
