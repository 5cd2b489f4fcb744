/* libFuzzer target: the SBI server's request path as a peer reaches it, from HTTP/2 frames to
 * a handler: lib/sbi/h2.c (nghttp2 session and its callbacks, limits) -> request.c (headers,
 * body, media type, JSON, ProblemDetails answers) -> router.c (path split, percent-decoding,
 * {variables}) -> handlers that read a SUPI from the path and check the body as kedge's
 * daemons do (kedge_sbi_request_checked_json), one answering later (the "gone" path).
 *
 * In memory, without the network: one real server (kedge_sbi_server_start, one worker, its own
 * thread) and, per input, a socket pair whose ends finish a TLS 1.3 handshake in this thread
 * and whose server end the worker adopts (kedge_sbi_worker_adopt, the ECS's entry point into
 * the runtime). The input is written as TLS application data: the connection preface (when
 * the first octet is odd) then the rest of the input as raw frames; then end of input. The
 * runner reads until the server closes: every input ends with the connection freed.
 * Invariants: no crash, no leak, no undefined behaviour, no hang. */
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "kedge/identity.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "kedge/sbi_server.h"

static kedge_sbi_server_t *srv;
static kedge_sbi_worker_t *worker;
static SSL_CTX *client_ctx, *server_ctx;

static const unsigned char psk_identity[] = "fuzz";
static const unsigned char psk[32] = {1};

/* ---- handlers: what kedge's daemons do with a request, without their state ---- */

/* TS 29.503 6.3.6.2.2 AuthenticationInfoRequest, as the UDM checks it. */
static const kedge_json_member_t auth_info_request[] = {
    {.name = "servingNetworkName", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "ausfInstanceId", .kind = KEDGE_JSON_STRING, .required = true, .max_len = 64},
    {.name = "resynchronizationInfo",
     .kind = KEDGE_JSON_OBJECT,
     .object = kedge_json_resynchronization_info},
    {.name = NULL},
};

static void by_supi(kedge_sbi_request_t *req, void *arg)
{
  kedge_supi_t supi;
  const char *v = kedge_sbi_request_var(req, "supiOrSuci");
  if (!v || kedge_supi_parse(v, &supi) != KEDGE_OK) {
    kedge_sbi_respond_problem(req, 400, "MANDATORY_IE_INCORRECT", "supiOrSuci");
    return;
  }
  json_t *body =
      kedge_sbi_request_checked_json(req, auth_info_request, "AuthenticationInfoRequest");
  if (!body)
    return;
  json_t *out = json_pack("{s:s, s:O}", "supi", supi.value, "echo", body);
  kedge_sbi_response_header(req, "location", kedge_sbi_request_path(req));
  kedge_sbi_respond_json(req, out ? 201 : 500, NULL, out);
  json_decref(out);
}

static void any(kedge_sbi_request_t *req, void *arg)
{
  size_t len = 0;
  const uint8_t *raw = kedge_sbi_request_body(req, &len);
  const char *q = kedge_sbi_request_query(req), *h = kedge_sbi_request_header(req, "accept");
  (void)kedge_sbi_request_route(req);
  (void)kedge_sbi_request_method(req);
  (void)kedge_sbi_request_peer_is(req, "ausf.kedge.test");
  if (q && h)
    kedge_sbi_respond_problem(req, 406, "NOT_ACCEPTABLE", h);
  else
    kedge_sbi_respond(req, raw ? 200 : 204, "application/octet-stream", raw, len);
}

static void answer_later(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_request_t *req = arg;
  kedge_sbi_respond_problem(req, 503, "NF_CONGESTION", kedge_sbi_request_gone(req) ? "gone" : NULL);
}

static void later(kedge_sbi_request_t *req, void *arg)
{
  struct timeval now = {0, 0};
  if (event_base_once(kedge_sbi_request_base(req), -1, EV_TIMEOUT, answer_later, req, &now) != 0)
    kedge_sbi_respond_problem(req, 500, "SYSTEM_FAILURE", NULL);
}

/* ---- set-up ---- */

static kedge_err_t worker_init(kedge_sbi_worker_t *w, void *arg)
{
  worker = w;
  return KEDGE_OK;
}

static void no_accept(kedge_sbi_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer,
                      int peer_len, void *arg)
{
  close(fd);
}

static int client_psk(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                      SSL_SESSION **sess)
{
  const SSL_CIPHER *c = SSL_CIPHER_find(ssl, (const unsigned char[]){0x13, 0x01});
  SSL_SESSION *s = SSL_SESSION_new();
  if (!c || !s || !SSL_SESSION_set1_master_key(s, psk, sizeof(psk)) ||
      !SSL_SESSION_set_cipher(s, c) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
    SSL_SESSION_free(s);
    return 0;
  }
  *id = psk_identity;
  *idlen = sizeof(psk_identity) - 1;
  *sess = s;
  return 1;
}

static int server_psk(SSL *ssl, const unsigned char *id, size_t len, SSL_SESSION **sess)
{
  const unsigned char *i;
  size_t n;
  return client_psk(ssl, NULL, &i, &n, sess);
}

static SSL_CTX *ctx_new(bool server)
{
  SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!ctx)
    abort();
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256");
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (server)
    SSL_CTX_set_psk_find_session_callback(ctx, server_psk);
  else
    SSL_CTX_set_psk_use_session_callback(ctx, client_psk);
  return ctx;
}

static void *run_main(void *arg)
{
  kedge_sbi_server_run(srv);
  return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  kedge_log_init("fuzz-sbi-h2", KEDGE_LOG_ERROR, false);
  kedge_sbi_server_config_t cfg;
  kedge_sbi_server_config_defaults(&cfg);
  cfg.name = "fuzz";
  cfg.metrics_enabled = false;
  cfg.workers = 1;
  cfg.limits.max_body = 4096;
  cfg.limits.max_header_list = 4096;
  cfg.limits.max_streams = 16;
  if (kedge_sbi_server_new(&cfg, &srv) != KEDGE_OK ||
      kedge_sbi_server_set_accept_hook(srv, no_accept, NULL) != KEDGE_OK ||
      kedge_sbi_server_set_worker_hooks(srv, worker_init, NULL, NULL) != KEDGE_OK ||
      kedge_sbi_server_route(srv, "POST",
                             "/nudm-ueau/v1/{supiOrSuci}/security-information/generate-auth-data",
                             NULL, by_supi, NULL) != KEDGE_OK ||
      kedge_sbi_server_route(srv, "PUT",
                             "/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation",
                             NULL, later, NULL) != KEDGE_OK ||
      kedge_sbi_server_route(srv, "POST", "/nausf-auth/v1/ue-authentications", NULL, any, NULL) !=
          KEDGE_OK ||
      kedge_sbi_server_route(srv, "GET", "/x/{a}/{b}", NULL, any, NULL) != KEDGE_OK ||
      kedge_sbi_server_route(srv, "POST", "/raw", "application/octet-stream", any, NULL) !=
          KEDGE_OK ||
      kedge_sbi_server_start(srv) != KEDGE_OK)
    abort();
  client_ctx = ctx_new(false);
  server_ctx = ctx_new(true);
  pthread_t t;
  if (pthread_create(&t, NULL, run_main, NULL) != 0)
    abort();
  pthread_detach(t);
  return 0;
}

/* ---- one input ---- */

typedef struct handover {
  SSL *ssl;
  int fd;
} handover_t;

static void adopt(evutil_socket_t fd, short what, void *arg)
{
  handover_t *h = arg;
  static const char *const ids[] = {"ausf.kedge.test"};
  kedge_sbi_worker_adopt(worker, h->ssl, h->fd, ids, 1);
  free(h);
}

/* Both ends of the TLS 1.3 PSK handshake in this thread, over non-blocking sockets. */
static bool handshake(SSL *c, SSL *s)
{
  for (int i = 0; i < 100; i++) {
    int rc = SSL_do_handshake(c), rs = SSL_do_handshake(s);
    if (rc == 1 && rs == 1)
      return true;
    if ((rc != 1 && SSL_get_error(c, rc) != SSL_ERROR_WANT_READ) ||
        (rs != 1 && SSL_get_error(s, rs) != SSL_ERROR_WANT_READ))
      return false;
  }
  return false;
}

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 65536)
    return 0;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
    abort();
  int buf = 1 << 18;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  SSL *c = SSL_new(client_ctx), *s = SSL_new(server_ctx);
  if (!c || !s || !SSL_set_fd(c, sv[0]) || !SSL_set_fd(s, sv[1]))
    abort();
  SSL_set_connect_state(c);
  SSL_set_accept_state(s);
  if (!handshake(c, s))
    abort();
  fcntl(sv[0], F_SETFL, 0); /* the client blocks from here */
  handover_t *h = malloc(sizeof(*h));
  if (!h)
    abort();
  h->ssl = s;
  h->fd = sv[1];
  struct timeval now = {0, 0};
  if (event_base_once(kedge_sbi_worker_base(worker), -1, EV_TIMEOUT, adopt, h, &now) != 0)
    abort();

  /* what the peer sends */
  uint8_t *in = malloc(sizeof(preface) - 1 + size);
  if (!in)
    abort();
  size_t n = 0;
  if (data[0] & 1) {
    memcpy(in, preface, sizeof(preface) - 1);
    n = sizeof(preface) - 1;
  }
  memcpy(in + n, data + 1, size - 1);
  n += size - 1;
  for (size_t off = 0; off < n;) {
    size_t chunk = n - off < 16384 ? n - off : 16384;
    int w = SSL_write(c, in + off, (int)chunk);
    if (w <= 0)
      break; /* the server already closed */
    off += (size_t)w;
  }
  free(in);
  shutdown(sv[0], SHUT_WR); /* end of input: the server reads EOF after the frames */
  uint8_t out[16384];
  while (SSL_read(c, out, sizeof(out)) > 0)
    ;
  ERR_clear_error();
  SSL_free(c);
  close(sv[0]);
  return 0;
}
