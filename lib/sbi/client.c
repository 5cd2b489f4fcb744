/* The SBI client: libcurl multi driven by a libevent event_base (curl's "multi_socket" API:
 * CURLMOPT_SOCKETFUNCTION tells which sockets to watch, CURLMOPT_TIMERFUNCTION when to call
 * back; we answer with curl_multi_socket_action()). Design notes: docs/sbi-client.md. */
#include "kedge/sbi_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "kedge/buf.h"
#include "kedge/list.h"
#include "kedge/log.h"
#include "kedge/time.h"
#include "kedge/trace.h"
#include "sbi/access_token.h"
#include "sbi/json_body.h"

/* PEM files larger than this are not certificates or keys we expect. */
#define PEM_FILE_MAX (1024 * 1024)
/* Bounds for what a caller passes in; longer is a programming mistake, not a peer's doing. */
#define URL_MAX 8192
/* h2c connection reuse (see setup_easy): off for the libcurl versions curl issue 10634 hits
 * (the library running, not the headers built against) */
#define H2C_NO_REUSE (curl_version_info(CURLVERSION_NOW)->version_num < 0x080000)
#define HEADER_MAX   8192
/* Copied response headers longer than this are dropped (reported as absent). */
#define RESPONSE_HEADER_MAX 4096
/* Finished easy handles kept for the next calls while others are in flight (SPARE_EASY). */
#define SPARE_EASY_MAX 64

typedef struct pem_blob {
  unsigned char *data;
  size_t len;
} pem_blob_t;

/* One socket libcurl asked us to watch. */
typedef struct sbi_socket {
  struct event ev;
  short events; /* ev's flags (EV_PERSIST and EV_READ/EV_WRITE) once added, else 0 */
  bool corked;  /* TCP_CORK set for one curl_multi_socket_action (on_timer_event) */
  curl_socket_t fd;
  kedge_sbi_client_t *client;
  LIST_ENTRY(sbi_socket) link; /* in client->sockets */
} sbi_socket_t;

struct kedge_sbi_client {
  struct event_base *base;
  CURLM *multi;
  struct event *timer;
  kedge_sbi_client_options_t opts; /* file names cleared: the contents are below */
  pem_blob_t ca, cert, key;
  LIST_HEAD(, kedge_sbi_client_call) calls; /* in flight */
  size_t pending;
  LIST_HEAD(, sbi_socket) sockets;
  unsigned dispatching;      /* > 0 while a completion callback runs */
  bool free_pending;         /* kedge_sbi_client_free() called from inside a callback */
  bool in_timer;             /* libcurl runs its timeouts (on_timer_event) */
  char user_agent[128];      /* "" : none */
  char scp[256];             /* SCP apiRoot (model C), "" : direct */
  sbi_token_cache_t *tokens; /* NULL: no OAuth2 (access_token.c) */
  /* Every option that is the same for all calls, set once: a call's easy handle is a
   * curl_easy_duphandle() of it (docs/sbi-client.md "Easy handles"). Never runs a transfer. */
  CURL *tmpl;
  /* The header lines of a call without its own (no extra headers, no token, JSON or no
   * body), built once: hdr_plain for no body, hdr_json with Content-Type: application/json */
  struct curl_slist *hdr_plain, *hdr_json;
  /* Easy handles of calls that got an answer, reused in turn (first in, first out) by the next
   * calls instead of a curl_easy_duphandle() and a curl_easy_cleanup() per call; all freed
   * (wiped) as soon as no call is in flight (docs/sbi-client.md "Easy handles"). */
  CURL *spare[SPARE_EASY_MAX];
  unsigned spare_head, n_spare;
};

typedef enum call_state {
  CALL_ACTIVE,     /* the easy handle is in the multi handle */
  CALL_RETRY_WAIT, /* between attempts: timer set to the next attempt */
  CALL_TOKEN_WAIT, /* waiting for an access token (access_token.c); timer: the deadline */
  CALL_DONE,       /* its callback runs */
} call_state_t;

struct kedge_sbi_client_call {
  kedge_sbi_client_t *client;
  LIST_ENTRY(kedge_sbi_client_call) link; /* in client->calls */
  call_state_t state;
  CURL *easy;
  struct curl_slist *headers;        /* the call's own header lines, or NULL */
  const struct curl_slist *hdr_list; /* what it sends: headers or one of the client's */
  const char *method;                /* static string */
  bool idempotent;
  char *req_body; /* may carry keys: wiped */
  size_t req_len;
  kedge_buf_t body; /* response body (at most max_response_size), may carry keys: wiped */
  bool too_big;
  bool not_h2;
  bool unread_2xx_body; /* the request's: a success's body is not parsed */
  bool answered;        /* an HTTP answer came: its easy handle may serve another call */
  unsigned attempts;
  uint64_t start_us, deadline_us;
  /* The deadline while ACTIVE, the next attempt while RETRY_WAIT. libcurl's own
   * CURLOPT_TIMEOUT_MS does not run while a transfer is queued for a connection (PIPEWAIT,
   * host connection limit), so the deadline is also kept here. */
  struct event *timer;
  kedge_sbi_client_cb cb;
  void *arg;
  char errbuf[CURL_ERROR_SIZE];
  /* OAuth2: the request kept for a (re)start once a token is there */
  int token_slot;     /* -1: no token */
  bool token_retried; /* a 401 already made it fetch a new token */
  char *url, *content_type, **extra_headers;
};

static const struct {
  const char *name;
  bool idempotent;
} methods[] = {
    /* RFC 9110 9.2.2: GET, PUT and DELETE are idempotent; POST and PATCH are not, so a POST
     * that may have reached the server is never sent again by kedge. */
    {"GET", true}, {"PUT", true}, {"DELETE", true}, {"POST", false}, {"PATCH", false},
};

static void blob_wipe_free(pem_blob_t *b)
{
  if (b->data) {
    OPENSSL_cleanse(b->data, b->len);
    free(b->data);
  }
  b->data = NULL;
  b->len = 0;
}

/* ---- options and files ---------------------------------------------------------------- */

static char default_user_agent[128];
static pthread_mutex_t default_user_agent_lock = PTHREAD_MUTEX_INITIALIZER;

static bool user_agent_ok(const char *ua)
{
  return strlen(ua) < sizeof(default_user_agent) && !strpbrk(ua, "\r\n");
}

static char default_scp[256];

kedge_err_t kedge_sbi_client_set_scp(const char *scp_api_root)
{
  if (scp_api_root) {
    const char *auth = strncmp(scp_api_root, "https://", 8) == 0  ? scp_api_root + 8
                       : strncmp(scp_api_root, "http://", 7) == 0 ? scp_api_root + 7
                                                                  : NULL;
    if (!auth || !*auth || strpbrk(auth, "/?# \t\r\n") ||
        strlen(scp_api_root) >= sizeof(default_scp))
      return KEDGE_ERR_INVALID_ARG;
  }
  pthread_mutex_lock(&default_user_agent_lock);
  snprintf(default_scp, sizeof(default_scp), "%s", scp_api_root ? scp_api_root : "");
  pthread_mutex_unlock(&default_user_agent_lock);
  return KEDGE_OK;
}

/* TS 29.500 6.10.2.2: the SCP gets the request with the producer's apiRoot (scheme and
 * authority of the URL) in 3gpp-Sbi-Target-apiRoot and the same path. */
static kedge_err_t scp_route(const kedge_sbi_client_t *c, const kedge_sbi_client_request_t *req,
                             char *url, size_t url_size, char *target, size_t target_size)
{
  const char *auth = strstr(req->url, "://");
  const char *path = auth ? strchr(auth + 3, '/') : NULL;
  size_t root_len = path ? (size_t)(path - req->url) : strlen(req->url);
  int n = snprintf(target, target_size, "3gpp-Sbi-Target-apiRoot: %.*s", (int)root_len, req->url);
  int m = snprintf(url, url_size, "%s%s", c->scp, path ? path : "/");
  return n > 0 && (size_t)n < target_size && m > 0 && (size_t)m < url_size ? KEDGE_OK
                                                                           : KEDGE_ERR_INVALID_ARG;
}

kedge_err_t kedge_sbi_client_set_default_user_agent(const char *user_agent)
{
  if (!user_agent || !user_agent_ok(user_agent))
    return KEDGE_ERR_INVALID_ARG;
  pthread_mutex_lock(&default_user_agent_lock);
  snprintf(default_user_agent, sizeof(default_user_agent), "%s", user_agent);
  pthread_mutex_unlock(&default_user_agent_lock);
  return KEDGE_OK;
}

void kedge_sbi_client_options_init(kedge_sbi_client_options_t *opts)
{
  if (!opts)
    return;
  memset(opts, 0, sizeof(*opts));
  opts->timeout_ms = KEDGE_SBI_CLIENT_TIMEOUT_MS_DEFAULT;
  opts->max_response_size = KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_DEFAULT;
  opts->max_connections = KEDGE_SBI_CLIENT_MAX_CONNECTIONS_DEFAULT;
  opts->max_retries = KEDGE_SBI_CLIENT_MAX_RETRIES_DEFAULT;
  opts->retry_delay_ms = KEDGE_SBI_CLIENT_RETRY_DELAY_MS_DEFAULT;
  opts->tls12_allowed = false;
}

static kedge_err_t read_pem(const char *what, const char *path, pem_blob_t *out)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    kedge_log_error("sbi client: %s %s: %s", what, path, strerror(errno));
    return KEDGE_ERR_CONFIG;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
      st.st_size > PEM_FILE_MAX) {
    kedge_log_error("sbi client: %s %s: not a regular file of 1 to %d octets", what, path,
                    PEM_FILE_MAX);
    fclose(f);
    return KEDGE_ERR_CONFIG;
  }
  size_t len = (size_t)st.st_size;
  unsigned char *data = malloc(len);
  if (!data) {
    fclose(f);
    return KEDGE_ERR_NOMEM;
  }
  size_t got = fread(data, 1, len, f);
  fclose(f);
  if (got != len) {
    kedge_log_error("sbi client: %s %s: short read", what, path);
    OPENSSL_cleanse(data, len);
    free(data);
    return KEDGE_ERR_CONFIG;
  }
  out->data = data;
  out->len = len;
  return KEDGE_OK;
}

/* Never prompt on a terminal for an encrypted key: a daemon has none. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
  return 0;
}

/* Parses the files now so that a wrong path, a non-PEM file or a key that does not belong to
 * the certificate stops the daemon at start-up instead of failing every request. */
static kedge_err_t check_pems(const kedge_sbi_client_t *c, const kedge_sbi_client_options_t *o)
{
  kedge_err_t err = KEDGE_ERR_CONFIG;
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  STACK_OF(X509_INFO) *infos = NULL;
  BIO *bio = BIO_new_mem_buf(c->ca.data, (int)c->ca.len);
  if (!bio)
    return KEDGE_ERR_NOMEM;
  infos = PEM_X509_INFO_read_bio(bio, NULL, no_passphrase, NULL);
  BIO_free(bio);
  int n = 0;
  for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++)
    if (sk_X509_INFO_value(infos, i)->x509)
      n++;
  if (n == 0) {
    kedge_log_error("sbi client: ca_file %s: no PEM certificate", o->ca_file);
    goto out;
  }
  if (c->cert.data) {
    bio = BIO_new_mem_buf(c->cert.data, (int)c->cert.len);
    cert = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!cert) {
      kedge_log_error("sbi client: cert_file %s: no PEM certificate", o->cert_file);
      goto out;
    }
    bio = BIO_new_mem_buf(c->key.data, (int)c->key.len);
    key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
      kedge_log_error("sbi client: key_file %s: no unencrypted PEM private key", o->key_file);
      goto out;
    }
    if (X509_check_private_key(cert, key) != 1) {
      kedge_log_error("sbi client: key_file %s does not match cert_file %s", o->key_file,
                      o->cert_file);
      goto out;
    }
  }
  err = KEDGE_OK;
out:
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  X509_free(cert);
  EVP_PKEY_free(key); /* OpenSSL clears private key material as it frees it */
  ERR_clear_error();
  return err;
}

static kedge_err_t check_options(const kedge_sbi_client_options_t *o)
{
  if (!o->h2c && (!o->ca_file || !*o->ca_file)) {
    /* Verification is always on, so a CA is always needed. */
    kedge_log_error("sbi client: ca_file is required");
    return KEDGE_ERR_CONFIG;
  }
  if (o->user_agent && !user_agent_ok(o->user_agent)) {
    kedge_log_error("sbi client: user_agent: at most 127 octets, no CR or LF");
    return KEDGE_ERR_CONFIG;
  }
  bool has_cert = o->cert_file && *o->cert_file, has_key = o->key_file && *o->key_file;
  if (has_cert != has_key) {
    kedge_log_error("sbi client: cert_file and key_file go together");
    return KEDGE_ERR_CONFIG;
  }
  if (o->timeout_ms == 0 || o->timeout_ms > KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX) {
    kedge_log_error("sbi client: timeout_ms must be 1..%u", KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX);
    return KEDGE_ERR_CONFIG;
  }
  if (o->max_response_size == 0 || o->max_response_size > KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_MAX) {
    kedge_log_error("sbi client: max_response_size must be 1..%u",
                    KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_MAX);
    return KEDGE_ERR_CONFIG;
  }
  if (o->max_connections == 0 || o->max_connections > KEDGE_SBI_CLIENT_MAX_CONNECTIONS_MAX) {
    kedge_log_error("sbi client: max_connections must be 1..%u",
                    KEDGE_SBI_CLIENT_MAX_CONNECTIONS_MAX);
    return KEDGE_ERR_CONFIG;
  }
  if (o->max_retries > KEDGE_SBI_CLIENT_MAX_RETRIES_MAX) {
    kedge_log_error("sbi client: max_retries must be 0..%u", KEDGE_SBI_CLIENT_MAX_RETRIES_MAX);
    return KEDGE_ERR_CONFIG;
  }
  if (o->retry_delay_ms > o->timeout_ms) {
    kedge_log_error("sbi client: retry_delay_ms must not exceed timeout_ms");
    return KEDGE_ERR_CONFIG;
  }
  return KEDGE_OK;
}

/* ---- libevent <-> libcurl ------------------------------------------------------------- */

static void process_done(kedge_sbi_client_t *c);
static void client_destroy(kedge_sbi_client_t *c);
static void on_call_timer(evutil_socket_t fd, short what, void *arg);
static kedge_err_t template_new(kedge_sbi_client_t *c);

/* After every entry from the loop: finish a kedge_sbi_client_free() requested by a callback. */
static void after_dispatch(kedge_sbi_client_t *c)
{
  if (c->free_pending && c->dispatching == 0)
    client_destroy(c);
}

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
  sbi_socket_t *s = arg;
  kedge_sbi_client_t *c = s->client;
  int flags = ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
  int running;
  /* s may be freed inside (CURL_POLL_REMOVE): not used after this line. */
  CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
  if (mc != CURLM_OK)
    kedge_log_debug("sbi client: curl_multi_socket_action: %s", curl_multi_strerror(mc));
  process_done(c);
  after_dispatch(c);
}

/* libcurl 7.88 writes a request's HEADERS and then its DATA frame as two TLS records with two
 * send(2)s (its HTTP/2 code never puts a body in the request's first write). New requests go
 * out while libcurl runs its timeouts, so the client's connections are corked for that call:
 * what it writes leaves in one segment and wakes the peer once (docs/sbi-client.md
 * "Sockets"). Never left on past the call: a corked socket holds data up to 200 ms. */
static void cork(kedge_sbi_client_t *c, bool on)
{
  int v = on ? 1 : 0;
  sbi_socket_t *s;
  LIST_FOREACH(s, &c->sockets, link)
  {
    if (s->corked == on)
      continue;
    s->corked = on;
    (void)setsockopt(s->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
  }
}

static void on_timer_event(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_client_t *c = arg;
  int running;
  c->in_timer = true;
  cork(c, true);
  CURLMcode mc = curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  cork(c, false);
  c->in_timer = false;
  if (mc != CURLM_OK)
    kedge_log_debug("sbi client: curl_multi_socket_action: %s", curl_multi_strerror(mc));
  process_done(c);
  after_dispatch(c);
}

static void socket_free(kedge_sbi_client_t *c, sbi_socket_t *s)
{
  (void)c;
  if (s->corked) { /* libcurl may keep the connection (only no longer watched): never corked */
    int v = 0;
    (void)setsockopt(s->fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v));
  }
  event_del(&s->ev);
  LIST_REMOVE(s, link);
  free(s);
}

/* CURLMOPT_SOCKETFUNCTION: watch `fd` for what libcurl wants. */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
  kedge_sbi_client_t *c = userp;
  sbi_socket_t *s = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (s) {
      curl_multi_assign(c->multi, fd, NULL);
      socket_free(c, s);
    }
    return 0;
  }
  /* Never -1 to libcurl: that marks the whole multi handle dead. A socket we cannot watch
   * stalls its transfers until their deadline (on_call_timer) fails them instead. */
  if (!s) {
    s = calloc(1, sizeof(*s));
    if (!s) {
      kedge_log_error("sbi client: out of memory watching a socket");
      return 0;
    }
    s->fd = fd;
    s->client = c;
    LIST_INSERT_HEAD(&c->sockets, s, link);
    curl_multi_assign(c->multi, fd, s);
  }
  short ev = EV_PERSIST;
  if (what & CURL_POLL_IN)
    ev |= EV_READ;
  if (what & CURL_POLL_OUT)
    ev |= EV_WRITE;
  /* libcurl 7.88 tells the same interest again for most transfers on a multiplexed
   * connection: leave the event as it is (each re-add was an EPOLL_CTL_DEL and _ADD pair). */
  if (ev == s->events)
    return 0;
  if (s->events)
    event_del(&s->ev);
  s->events = 0;
  if (event_assign(&s->ev, c->base, fd, ev, on_socket_event, s) != 0 ||
      event_add(&s->ev, NULL) != 0) {
    kedge_log_error("sbi client: cannot watch socket %d", (int)fd);
    return 0;
  }
  s->events = ev;
  return 0;
}

/* CURLMOPT_TIMERFUNCTION: one timer for the whole multi handle. libcurl must not be called
 * back from here, so even a 0 ms timeout goes through the loop. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
  kedge_sbi_client_t *c = userp;
  if (!c->timer)
    return 0;
  if (timeout_ms < 0) {
    evtimer_del(c->timer);
    return 0;
  }
  if (timeout_ms == 0 && !c->in_timer) {
    /* "Now" (a transfer was added, or data is due): run it at the end of this loop pass, as
     * the server's answers are flushed (lib/sbi/h2.c), not as a timer of the next pass. A 0 ms
     * timer waits for the next epoll_wait and runs after every read it reports: the request
     * left a pass later, behind all new input (issue 17: docs/performance-latency.md). Asked
     * again while libcurl runs its timeouts, it stays a timer: the loop polls the sockets
     * before libcurl runs again, so a libcurl that keeps asking for 0 ms cannot spin. */
    evtimer_del(c->timer);
    event_active(c->timer, EV_TIMEOUT, 0);
    return 0;
  }
  struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
  if (evtimer_add(c->timer, &tv) != 0)
    kedge_log_error("sbi client: cannot arm the timer"); /* call deadlines still fire */
  return 0;
}

/* ---- client --------------------------------------------------------------------------- */

kedge_err_t kedge_sbi_client_new(struct event_base *base, const kedge_sbi_client_options_t *opts,
                                 kedge_sbi_client_t **client)
{
  if (!base || !opts || !client)
    return KEDGE_ERR_INVALID_ARG;
  *client = NULL;
  kedge_err_t err = check_options(opts);
  if (err)
    return err;
  /* Thread-safe in this libcurl (CURL_VERSION_THREADSAFE) and reference-counted. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
    return KEDGE_ERR_NOMEM;
  kedge_sbi_client_t *c = calloc(1, sizeof(*c));
  if (!c) {
    curl_global_cleanup();
    return KEDGE_ERR_NOMEM;
  }
  LIST_INIT(&c->calls);
  LIST_INIT(&c->sockets);
  c->base = base;
  c->opts = *opts;
  c->opts.ca_file = c->opts.cert_file = c->opts.key_file = c->opts.user_agent = NULL;
  if (opts->user_agent) {
    snprintf(c->user_agent, sizeof(c->user_agent), "%s", opts->user_agent);
  } else {
    pthread_mutex_lock(&default_user_agent_lock);
    memcpy(c->user_agent, default_user_agent, sizeof(c->user_agent));
    pthread_mutex_unlock(&default_user_agent_lock);
  }
  c->tokens = sbi_token_cache_new(); /* NULL: OAuth2 off in this process */
  pthread_mutex_lock(&default_user_agent_lock);
  memcpy(c->scp, default_scp, sizeof(c->scp));
  pthread_mutex_unlock(&default_user_agent_lock);
  /* h2c: no TLS, so no files (the options are refused where key material would cross it) */
  err = opts->h2c ? KEDGE_OK : read_pem("ca_file", opts->ca_file, &c->ca);
  if (!err && opts->cert_file && *opts->cert_file) {
    err = read_pem("cert_file", opts->cert_file, &c->cert);
    if (!err)
      err = read_pem("key_file", opts->key_file, &c->key);
  }
  if (!err && !opts->h2c)
    err = check_pems(c, opts);
  if (!err)
    err = template_new(c);
  if (err)
    goto fail;

  err = KEDGE_ERR_NOMEM;
  c->timer = evtimer_new(base, on_timer_event, c);
  c->multi = curl_multi_init();
  if (!c->timer || !c->multi)
    goto fail;
  CURLMcode mc = CURLM_OK;
#define MSETOPT(opt, val)                                                                          \
  do {                                                                                             \
    if (mc == CURLM_OK)                                                                            \
      mc = curl_multi_setopt(c->multi, opt, val);                                                  \
  } while (0)
  MSETOPT(CURLMOPT_SOCKETFUNCTION, on_curl_socket);
  MSETOPT(CURLMOPT_SOCKETDATA, c);
  MSETOPT(CURLMOPT_TIMERFUNCTION, on_curl_timer);
  MSETOPT(CURLMOPT_TIMERDATA, c);
  /* RFC 9113 9.1: one connection per peer carries many concurrent streams. */
  MSETOPT(CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  MSETOPT(CURLMOPT_MAX_HOST_CONNECTIONS, (long)opts->max_connections);
#undef MSETOPT
  if (mc != CURLM_OK) {
    kedge_log_error("sbi client: curl_multi_setopt: %s", curl_multi_strerror(mc));
    err = KEDGE_ERR_UNSUPPORTED;
    goto fail;
  }
  *client = c;
  return KEDGE_OK;

fail:
  client_destroy(c);
  return err;
}

/* Frees the spare easy handles (the wiping allocator wipes their buffers). */
static CURL *spare_take(kedge_sbi_client_t *c)
{
  CURL *e = c->spare[c->spare_head];
  c->spare_head = (c->spare_head + 1) % SPARE_EASY_MAX;
  c->n_spare--;
  return e;
}

static void spare_drain(kedge_sbi_client_t *c)
{
  while (c->n_spare)
    curl_easy_cleanup(spare_take(c));
}

static void call_free(kedge_sbi_client_call_t *call)
{
  kedge_sbi_client_t *c = call->client;
  if (call->timer)
    event_free(call->timer);
  /* A handle that got an answer serves a later call while others are in flight: libcurl's
   * receive buffer may hold its last answer (a key) until then, so the spares are reused in
   * turn (each within the next SPARE_EASY_MAX calls) and all go as soon as the client is
   * idle. */
  if (call->easy && call->answered && c->pending > 0 && !c->free_pending &&
      c->n_spare < SPARE_EASY_MAX) {
    c->spare[(c->spare_head + c->n_spare++) % SPARE_EASY_MAX] = call->easy;
    call->easy = NULL;
  }
  if (call->easy)
    curl_easy_cleanup(call->easy);
  if (c->pending == 0)
    spare_drain(c);
  curl_slist_free_all(call->headers);
  free(call->url);
  free(call->content_type);
  for (char **h = call->extra_headers; h && *h; h++)
    free(*h);
  free(call->extra_headers);
  if (call->req_body) {
    OPENSSL_cleanse(call->req_body, call->req_len);
    free(call->req_body);
  }
  kedge_buf_free(&call->body);
  free(call);
}

static void call_unlink(kedge_sbi_client_call_t *call)
{
  kedge_sbi_client_t *c = call->client;
  LIST_REMOVE(call, link);
  c->pending--;
}

/* Drops a call in flight without its callback. Removing the easy handle makes libcurl reset
 * the HTTP/2 stream (RFC 9113 8.7: RST_STREAM CANCEL) and keep the connection. */
static void call_discard(kedge_sbi_client_call_t *call)
{
  if (call->state == CALL_ACTIVE)
    curl_multi_remove_handle(call->client->multi, call->easy);
  call_unlink(call);
  call_free(call);
}

static void client_destroy(kedge_sbi_client_t *c)
{
  while (!LIST_EMPTY(&c->calls))
    call_discard(LIST_FIRST(&c->calls));
  spare_drain(c); /* before the PEM buffers their blobs point at */
  /* curl_multi_cleanup closes the connections and may still call on_curl_socket and
   * on_curl_timer: everything they touch stays valid until it returns. */
  if (c->multi)
    curl_multi_cleanup(c->multi);
  while (!LIST_EMPTY(&c->sockets))
    socket_free(c, LIST_FIRST(&c->sockets));
  if (c->timer)
    event_free(c->timer);
  if (c->tmpl) /* before the PEM buffers its blobs point at */
    curl_easy_cleanup(c->tmpl);
  curl_slist_free_all(c->hdr_plain);
  curl_slist_free_all(c->hdr_json);
  blob_wipe_free(&c->ca);
  blob_wipe_free(&c->cert);
  blob_wipe_free(&c->key);
  sbi_token_cache_free(c->tokens);
  free(c);
  curl_global_cleanup();
}

void kedge_sbi_client_free(kedge_sbi_client_t *client)
{
  if (!client || client->free_pending)
    return;
  while (!LIST_EMPTY(&client->calls))
    call_discard(LIST_FIRST(&client->calls));
  if (client->dispatching) {
    /* Inside a completion callback: the dispatcher still uses the client; it finishes the
     * job when the callback has returned (after_dispatch). */
    client->free_pending = true;
    return;
  }
  client_destroy(client);
}

size_t kedge_sbi_client_spare_handles(const kedge_sbi_client_t *client)
{
  return client ? client->n_spare : 0;
}

size_t kedge_sbi_client_pending(const kedge_sbi_client_t *client)
{
  return client ? client->pending : 0;
}

/* ---- one call ------------------------------------------------------------------------- */

/* CURLOPT_WRITEFUNCTION: the body into the call's bounded buffer (kedge/buf.h). */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
  kedge_sbi_client_call_t *call = userp;
  size_t n = size * nmemb; /* size is always 1 */
  kedge_err_t err = kedge_buf_add(&call->body, data, n);
  if (err == KEDGE_ERR_TOO_BIG)
    call->too_big = true;
  /* 0: CURLE_WRITE_ERROR, the stream is reset, the connection stays */
  return err ? 0 : n;
}

/* CURLOPT_PREREQFUNCTION: runs once the connection (new or reused) is up and before the
 * request goes out. TS 29.500 5.2.2 mandates HTTP/2; libcurl would fall back to HTTP/1.1 if
 * ALPN chose it, so the request is stopped here unless "h2" was negotiated. */
static int on_connected(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                        int local_port)
{
  kedge_sbi_client_call_t *call = clientp;
  if (call->client->opts.h2c)
    return CURL_PREREQFUNC_OK; /* prior knowledge: HTTP/2 by configuration, no ALPN */
  struct curl_tlssessioninfo *tls = NULL;
  if (curl_easy_getinfo(call->easy, CURLINFO_TLS_SSL_PTR, &tls) == CURLE_OK && tls &&
      tls->backend == CURLSSLBACKEND_OPENSSL && tls->internals) {
    const unsigned char *alpn = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(tls->internals, &alpn, &len);
    if (len == 2 && memcmp(alpn, "h2", 2) == 0)
      return CURL_PREREQFUNC_OK;
  }
  call->not_h2 = true;
  return CURL_PREREQFUNC_ABORT;
}

static bool header_value_ok(const char *s, size_t max)
{
  size_t n = 0;
  for (; s[n]; n++)
    if (n >= max || s[n] == '\r' || s[n] == '\n')
      return false;
  return n > 0;
}

static bool url_ok(const char *url, bool h2c)
{
  const char *scheme = h2c ? "http://" : "https://";
  size_t sl = strlen(scheme);
  if (strncasecmp(url, scheme, sl) != 0 || !url[sl])
    return false;
  for (size_t n = 0; url[n]; n++)
    if (n >= URL_MAX || (unsigned char)url[n] <= 0x20 || url[n] == 0x7f)
      return false;
  return true;
}

/* TS 29.500 5.4: JSON bodies; errors come as application/problem+json (RFC 9457). No
 * "Accept:" line of ours: libcurl then sends its built-in one, the media range of any type and
 * subtype (RFC 9110 12.5.1; TS 29.500 5.2.2.2 makes Accept mandatory to support, not to send),
 * and every answer is read by its Content-Type; libcurl 7.88 printed our line into the request
 * byte by byte and parsed it back into an HTTP/2 field at every transfer (issue 17,
 * docs/performance-latency.md "Seventh round: the AUSF"). No "Expect:" line: libcurl adds
 * Expect: 100-continue only below HTTP/2 (7.88 http.c expect100), and the SBI is HTTP/2
 * (TS 29.500 5.2.2). */
#define CONTENT_TYPE_JSON "application/json"

static kedge_err_t build_headers(kedge_sbi_client_call_t *call,
                                 const kedge_sbi_client_request_t *req, const char *token)
{
  const kedge_sbi_client_t *c = call->client;
  curl_slist_free_all(call->headers);
  call->headers = NULL;
  call->hdr_list = NULL;
  bool json_type = !req->content_type || strcmp(req->content_type, CONTENT_TYPE_JSON) == 0;
  if (!token && !(req->headers && *req->headers) && (!call->req_body || json_type)) {
    /* the lines every such call sends: the client's, not a list per call */
    call->hdr_list = call->req_body ? c->hdr_json : c->hdr_plain;
    return KEDGE_OK;
  }
  char line[HEADER_MAX + 32];
  struct curl_slist *l = NULL, *t;
  /* the client's lines first (User-Agent), then the call's; a User-Agent of the
   * call's own replaces the client's, as it did CURLOPT_USERAGENT's */
  bool own_ua = false;
  for (const char *const *h = req->headers; h && *h; h++)
    own_ua = own_ua || strncasecmp(*h, "User-Agent:", 11) == 0;
  for (const struct curl_slist *h = c->hdr_plain; h; h = h->next) {
    if (own_ua && strncasecmp(h->data, "User-Agent:", 11) == 0)
      continue;
    if (!(t = curl_slist_append(l, h->data)))
      goto nomem;
    l = t;
  }
#define APPEND(s)                                                                                  \
  do {                                                                                             \
    t = curl_slist_append(l, s);                                                                   \
    if (!t)                                                                                        \
      goto nomem;                                                                                  \
    l = t;                                                                                         \
  } while (0)
  if (call->req_body) {
    snprintf(line, sizeof(line), "Content-Type: %s",
             req->content_type ? req->content_type : CONTENT_TYPE_JSON);
    APPEND(line);
  }
  for (const char *const *h = req->headers; h && *h; h++)
    APPEND(*h);
  char *auth = NULL;
  if (token) { /* RFC 6750 2.1; wiped: it is a credential */
    size_t n = strlen(token) + 32;
    auth = malloc(n);
    if (!auth)
      goto nomem;
    snprintf(auth, n, "Authorization: Bearer %s", token);
    t = curl_slist_append(l, auth);
    OPENSSL_cleanse(auth, n);
    free(auth);
    if (!t)
      goto nomem;
    l = t;
  }
#undef APPEND
  call->headers = l;
  call->hdr_list = l;
  return KEDGE_OK;
nomem:
  curl_slist_free_all(l);
  return KEDGE_ERR_NOMEM;
}

#define SETOPT(e, opt, val)                                                                        \
  do {                                                                                             \
    if (rc == CURLE_OK)                                                                            \
      rc = curl_easy_setopt(e, opt, val);                                                          \
  } while (0)

static kedge_err_t setopt_failed(CURLcode rc)
{
  kedge_log_error("sbi client: curl_easy_setopt: %s", curl_easy_strerror(rc));
  return rc == CURLE_OUT_OF_MEMORY ? KEDGE_ERR_NOMEM : KEDGE_ERR_UNSUPPORTED;
}

/* The client's template handle and header lines: every option that does not change between
 * calls. curl_easy_duphandle() copies them (strings duplicated, blobs by reference: the
 * CURL_BLOB_NOCOPY flag is kept) instead of a curl_easy_init() and two dozen setopts per call
 * (issue 17: docs/performance-latency.md, "The SBI client per transfer"). */
static kedge_err_t template_new(kedge_sbi_client_t *c)
{
  /* User-Agent (TS 29.500 5.2.2.2) as a line of the lists, not CURLOPT_USERAGENT: libcurl
   * formats that one into a header with its own printf at every transfer, then copies it
   * into the request with the same printf, at about 90 instructions an octet each time. */
  char ua[sizeof(c->user_agent) + 16] = "";
  if (c->user_agent[0])
    snprintf(ua, sizeof(ua), "User-Agent: %s", c->user_agent);
  struct curl_slist **lists[] = {&c->hdr_plain, &c->hdr_json};
  for (size_t i = 0; i < 2; i++) {
    const char *lines[] = {ua, i ? "Content-Type: " CONTENT_TYPE_JSON : ""};
    for (size_t j = 0; j < 2; j++) {
      if (!lines[j][0])
        continue;
      struct curl_slist *t = curl_slist_append(*lists[i], lines[j]);
      if (!t)
        return KEDGE_ERR_NOMEM;
      *lists[i] = t;
    }
  }
  CURL *e = c->tmpl = curl_easy_init();
  if (!e)
    return KEDGE_ERR_NOMEM;
  CURLcode rc = CURLE_OK;
  /* The blobs point at the client's PEM buffers (CURL_BLOB_NOCOPY): no per-call copies of
   * the private key in libcurl's heap, and no file read on the loop. */
  struct curl_blob ca = {c->ca.data, c->ca.len, CURL_BLOB_NOCOPY};
  struct curl_blob cert = {c->cert.data, c->cert.len, CURL_BLOB_NOCOPY};
  struct curl_blob key = {c->key.data, c->key.len, CURL_BLOB_NOCOPY};
  SETOPT(e, CURLOPT_NOSIGNAL, 1L);
  SETOPT(e, CURLOPT_PROTOCOLS_STR, c->opts.h2c ? "http" : "https");
  SETOPT(e, CURLOPT_FOLLOWLOCATION, 0L); /* a 307/308 to another NF is the caller's decision */
  SETOPT(e, CURLOPT_PROXY, "");          /* ignore https_proxy & co. from the environment */
  SETOPT(e, CURLOPT_HTTP_VERSION,
         (long)(c->opts.h2c ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_2TLS));
  if (c->opts.h2c && H2C_NO_REUSE) {
    /* curl issue 10634 (fixed in 8.0.0): libcurl 7.88.1 sends the second request on a reused
     * prior-knowledge connection wrongly; one connection per request (test-sbi-client) */
    SETOPT(e, CURLOPT_FRESH_CONNECT, 1L);
    SETOPT(e, CURLOPT_FORBID_REUSE, 1L);
  }
  /* Wait for the connection being set up rather than opening one per concurrent request. */
  SETOPT(e, CURLOPT_PIPEWAIT, 1L);
  SETOPT(e, CURLOPT_PREREQFUNCTION, on_connected);
  if (!c->opts.h2c) {
    /* TS 33.501 13.1 + TS 33.210 6.2: TLS for the SBI; kedge requires 1.3 unless told. */
    SETOPT(e, CURLOPT_SSLVERSION,
           (long)(c->opts.tls12_allowed ? CURL_SSLVERSION_TLSv1_2 : CURL_SSLVERSION_TLSv1_3));
    SETOPT(e, CURLOPT_SSL_VERIFYPEER, 1L);
    SETOPT(e, CURLOPT_SSL_VERIFYHOST, 2L);
    /* Only the configured CA: no system bundle, no CA directory. */
    SETOPT(e, CURLOPT_CAINFO, NULL);
    SETOPT(e, CURLOPT_CAPATH, NULL);
    SETOPT(e, CURLOPT_CAINFO_BLOB, &ca);
    if (c->cert.data) { /* PEM: libcurl's default CURLOPT_SSLCERTTYPE and _SSLKEYTYPE */
      SETOPT(e, CURLOPT_SSLCERT_BLOB, &cert);
      SETOPT(e, CURLOPT_SSLKEY_BLOB, &key);
    }
  }
  SETOPT(e, CURLOPT_WRITEFUNCTION, on_body);
  /* Fails early when Content-Length already says too much; on_body bounds the rest. */
  SETOPT(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->opts.max_response_size);
  /* libcurl's upload (64 KiB) and receive (16 KiB) buffers are allocated per transfer and
   * freed with the handle: through the wiping allocator (lib/app/wipe_alloc.c) each is
   * cleansed whole, and a free of >= 64 KiB runs glibc's malloc_consolidate. SBI bodies are
   * small (a larger one takes more passes through on_body); 16 KiB is libcurl's minimum for
   * the upload buffer (issue 17: docs/performance-latency.md, "What costs CPU"). */
  SETOPT(e, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
  SETOPT(e, CURLOPT_BUFFERSIZE, 4096L);
  return rc == CURLE_OK ? KEDGE_OK : setopt_failed(rc);
}

/* A spare handle, its last call's method and body forgotten: the template's GET, no body, no
 * custom method (setup_easy sets the rest, as on a copy of the template). */
static CURL *reuse_easy(kedge_sbi_client_t *c)
{
  CURL *e = spare_take(c);
  if (curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL) != CURLE_OK) {
    curl_easy_cleanup(e);
    return NULL;
  }
  return e;
}

/* What is the call's own on its handle (a copy of the client's template). */
static kedge_err_t setup_easy(kedge_sbi_client_call_t *call, const kedge_sbi_client_request_t *req)
{
  CURL *e = call->easy;
  CURLcode rc = CURLE_OK;
  SETOPT(e, CURLOPT_URL, req->url);
  SETOPT(e, CURLOPT_PRIVATE, call);
  SETOPT(e, CURLOPT_ERRORBUFFER, call->errbuf);
  SETOPT(e, CURLOPT_PREREQDATA, call);
  SETOPT(e, CURLOPT_WRITEDATA, call);
  SETOPT(e, CURLOPT_HTTPHEADER, call->hdr_list);
  if (strcmp(call->method, "GET") == 0) {
    SETOPT(e, CURLOPT_HTTPGET, 1L);
  } else {
    if (call->req_body || strcmp(call->method, "POST") == 0) {
      SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->req_len);
      /* POSTFIELDS, not COPYPOSTFIELDS: libcurl reads our (wiped) buffer, no copy. */
      SETOPT(e, CURLOPT_POSTFIELDS, call->req_body ? call->req_body : "");
    }
    if (strcmp(call->method, "POST") != 0)
      SETOPT(e, CURLOPT_CUSTOMREQUEST, call->method);
  }
  return rc == CURLE_OK ? KEDGE_OK : setopt_failed(rc);
}
#undef SETOPT

/* Starts (or restarts) the transfer with what is left of the deadline. */
static kedge_err_t call_start(kedge_sbi_client_call_t *call)
{
  uint64_t now = (uint64_t)kedge_now_us();
  uint64_t left_ms = call->deadline_us > now ? (call->deadline_us - now + 999) / 1000 : 1;
  call->attempts++;
  kedge_buf_clear(&call->body);
  call->too_big = call->not_h2 = false;
  call->errbuf[0] = '\0';
  if (curl_easy_setopt(call->easy, CURLOPT_TIMEOUT_MS, (long)left_ms) != CURLE_OK)
    return KEDGE_ERR_IO;
  struct timeval tv = {.tv_sec = (time_t)(left_ms / 1000),
                       .tv_usec = (suseconds_t)(left_ms % 1000) * 1000};
  if (evtimer_add(call->timer, &tv) != 0)
    return KEDGE_ERR_IO;
  CURLMcode mc = curl_multi_add_handle(call->client->multi, call->easy);
  if (mc != CURLM_OK) {
    evtimer_del(call->timer);
    return mc == CURLM_OUT_OF_MEMORY ? KEDGE_ERR_NOMEM : KEDGE_ERR_IO;
  }
  call->state = CALL_ACTIVE;
  return KEDGE_OK;
}

/* OAuth2: what a call needs to be (re)started once its token is there. */
static kedge_err_t save_request(kedge_sbi_client_call_t *call,
                                const kedge_sbi_client_request_t *req)
{
  size_t n = 0;
  while (req->headers && req->headers[n])
    n++;
  call->url = strdup(req->url);
  call->content_type = req->content_type ? strdup(req->content_type) : NULL;
  call->extra_headers = calloc(n + 1, sizeof(char *));
  if (!call->url || (req->content_type && !call->content_type) || !call->extra_headers)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++)
    if (!(call->extra_headers[i] = strdup(req->headers[i])))
      return KEDGE_ERR_NOMEM;
  return KEDGE_OK;
}

static kedge_sbi_client_request_t saved_request(const kedge_sbi_client_call_t *call)
{
  return (kedge_sbi_client_request_t){.method = call->method,
                                      .url = call->url,
                                      .content_type = call->content_type,
                                      .headers = (const char *const *)call->extra_headers};
}

/* Parked until sbi_client_token_ready(); the timer keeps the call's deadline. */
static kedge_err_t wait_for_token(kedge_sbi_client_call_t *call)
{
  uint64_t now = (uint64_t)kedge_now_us();
  uint64_t left_us = call->deadline_us > now ? call->deadline_us - now : 1;
  struct timeval tv = {.tv_sec = (time_t)(left_us / 1000000u),
                       .tv_usec = (suseconds_t)(left_us % 1000000u)};
  if (!evtimer_pending(call->timer, NULL) && evtimer_add(call->timer, &tv) != 0)
    return KEDGE_ERR_IO;
  call->state = CALL_TOKEN_WAIT;
  return KEDGE_OK;
}

static void call_complete(kedge_sbi_client_call_t *call, kedge_err_t err);

/* Starts a parked call with the token now in its slot. */
static kedge_err_t start_with_token(kedge_sbi_client_call_t *call)
{
  const char *token = NULL;
  int slot = -1;
  sbi_token_answer_t ta =
      sbi_token_get(call->client, call->client->tokens, call->url, &slot, &token);
  if (ta == SBI_TOKEN_WAIT)
    return KEDGE_OK; /* dropped meanwhile: a new fetch runs; stay parked */
  if (ta != SBI_TOKEN_READY)
    return KEDGE_ERR_UNAVAILABLE;
  const kedge_sbi_client_request_t req = saved_request(call);
  evtimer_del(call->timer);
  kedge_err_t err = build_headers(call, &req, token);
  if (!err)
    err = setup_easy(call, &req);
  if (!err)
    err = call_start(call);
  return err;
}

void sbi_client_token_ready(kedge_sbi_client_t *c, int slot, bool ok)
{
  /* A completion callback may cancel other calls: look again from the head after each. */
  bool again = true;
  while (again) {
    again = false;
    kedge_sbi_client_call_t *call;
    LIST_FOREACH(call, &c->calls, link)
    {
      if (call->state != CALL_TOKEN_WAIT || call->token_slot != slot)
        continue;
      kedge_err_t err = ok ? start_with_token(call) : KEDGE_ERR_UNAVAILABLE;
      if (err) {
        snprintf(call->errbuf, sizeof(call->errbuf), "no OAuth2 access token");
        call_complete(call, err);
        again = !c->free_pending;
        break;
      }
      if (call->state == CALL_TOKEN_WAIT)
        continue; /* still parked for a new fetch */
    }
  }
}

kedge_err_t kedge_sbi_client_send(kedge_sbi_client_t *client, const kedge_sbi_client_request_t *req,
                                  kedge_sbi_client_cb cb, void *arg,
                                  kedge_sbi_client_call_t **handle)
{
  if (handle)
    *handle = NULL;
  if (!client || client->free_pending || !req || !req->method || !req->url || !cb)
    return KEDGE_ERR_INVALID_ARG;
  const char *method = NULL;
  bool idempotent = false;
  for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
    if (strcmp(req->method, methods[i].name) == 0) {
      method = methods[i].name;
      idempotent = methods[i].idempotent;
    }
  if (!method || !url_ok(req->url, client->opts.h2c))
    return KEDGE_ERR_INVALID_ARG;
  if (req->content_type && !header_value_ok(req->content_type, HEADER_MAX))
    return KEDGE_ERR_INVALID_ARG;
  for (const char *const *h = req->headers; h && *h; h++)
    if (!header_value_ok(*h, HEADER_MAX) || !strchr(*h, ':'))
      return KEDGE_ERR_INVALID_ARG;
  if (req->timeout_ms > KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX)
    return KEDGE_ERR_INVALID_ARG;

  kedge_sbi_client_call_t *call = calloc(1, sizeof(*call));
  if (!call)
    return KEDGE_ERR_NOMEM;
  call->client = client;
  kedge_buf_init(&call->body, client->opts.max_response_size);
  call->method = method;
  call->unread_2xx_body = req->unread_2xx_body;
  call->idempotent = idempotent;
  call->cb = cb;
  call->arg = arg;
  call->start_us = (uint64_t)kedge_now_us();
  uint32_t timeout_ms = req->timeout_ms ? req->timeout_ms : client->opts.timeout_ms;
  call->deadline_us = call->start_us + (uint64_t)timeout_ms * 1000u;

  call->token_slot = -1;
  kedge_err_t err = KEDGE_OK;
  if (req->body) {
    uint8_t *body = NULL;
    err = sbi_json_dump(req->body, &body, &call->req_len); /* not an object or array: INVALID_ARG */
    call->req_body = (char *)body;
    if (err)
      goto fail;
  } else if (req->raw_body) {
    call->req_body = malloc(req->raw_body_len + 1);
    if (!call->req_body) {
      err = KEDGE_ERR_NOMEM;
      goto fail;
    }
    memcpy(call->req_body, req->raw_body, req->raw_body_len);
    call->req_len = req->raw_body_len;
  }
  call->easy = client->n_spare ? reuse_easy(client) : curl_easy_duphandle(client->tmpl);
  call->timer = evtimer_new(client->base, on_call_timer, call);
  if (!call->easy || !call->timer) {
    err = KEDGE_ERR_NOMEM;
    goto fail;
  }
  const char *token = NULL;
  sbi_token_answer_t ta =
      sbi_token_get(client, client->tokens, req->url, &call->token_slot, &token);
  if (ta == SBI_TOKEN_ERROR) {
    err = KEDGE_ERR_UNAVAILABLE;
    goto fail;
  }
  /* SCP model C: the request goes to the SCP (not the token request: the NRF is asked direct) */
  kedge_sbi_client_request_t routed = *req;
  char scp_url[URL_MAX + 256], target[URL_MAX + 64];
  const char *scp_headers[66];
  if (client->scp[0] && !sbi_token_is_nrf(req->url)) {
    size_t n = 0;
    for (const char *const *h = req->headers; h && *h && n < 64; h++)
      scp_headers[n++] = *h;
    if (n == 64 ||
        (err = scp_route(client, req, scp_url, sizeof(scp_url), target, sizeof(target)))) {
      err = KEDGE_ERR_INVALID_ARG;
      goto fail;
    }
    scp_headers[n++] = target;
    scp_headers[n] = NULL;
    routed.url = scp_url;
    routed.headers = scp_headers;
  }
  req = &routed;
  if (ta != SBI_TOKEN_NONE && (err = save_request(call, req)))
    goto fail;
  if (ta == SBI_TOKEN_WAIT) {
    err = wait_for_token(call);
  } else {
    err = build_headers(call, req, token);
    if (!err)
      err = setup_easy(call, req);
    if (!err)
      err = call_start(call);
  }
  if (err)
    goto fail;

  LIST_INSERT_HEAD(&client->calls, call, link);
  client->pending++;
  if (handle)
    *handle = call;
  return KEDGE_OK;
fail:
  call_free(call);
  return err;
}

void kedge_sbi_client_cancel(kedge_sbi_client_call_t *call)
{
  if (!call || call->state == CALL_DONE)
    return;
  kedge_log_debug("sbi client: %s cancelled", call->method);
  call_discard(call);
}

/* libcurl's result -> kedge's error, and whether it was a connection failure that an
 * idempotent request may be retried after. */
static kedge_err_t classify(const kedge_sbi_client_call_t *call, CURLcode rc, bool *retryable)
{
  *retryable = false;
  switch (rc) {
  case CURLE_OK:
    return KEDGE_OK;
  case CURLE_OPERATION_TIMEDOUT:
    return KEDGE_ERR_TIMEOUT;
  case CURLE_WRITE_ERROR:
    return call->too_big ? KEDGE_ERR_TOO_BIG : KEDGE_ERR_NOMEM;
  case CURLE_FILESIZE_EXCEEDED:
    return KEDGE_ERR_TOO_BIG;
  case CURLE_ABORTED_BY_CALLBACK:
    return call->not_h2 ? KEDGE_ERR_UNSUPPORTED : KEDGE_ERR_IO;
  case CURLE_OUT_OF_MEMORY:
    return KEDGE_ERR_NOMEM;
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_CONNECT:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
    *retryable = true;
    return KEDGE_ERR_UNAVAILABLE;
  case CURLE_PEER_FAILED_VERIFICATION:
    /* Not a peer we trust: trying again will not change that. */
    return KEDGE_ERR_UNAVAILABLE;
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_CIPHER:
    return KEDGE_ERR_CONFIG;
  case CURLE_UNSUPPORTED_PROTOCOL:
    return KEDGE_ERR_UNSUPPORTED;
  default:
    return KEDGE_ERR_IO;
  }
}

static bool schedule_retry(kedge_sbi_client_call_t *call)
{
  kedge_sbi_client_t *c = call->client;
  uint64_t delay_us = (uint64_t)c->opts.retry_delay_ms * 1000u * call->attempts;
  /* Retrying only makes sense with time left for a connect and an answer after the wait. */
  if ((uint64_t)kedge_now_us() + delay_us >= call->deadline_us)
    return false;
  struct timeval tv = {.tv_sec = (time_t)(delay_us / 1000000u),
                       .tv_usec = (suseconds_t)(delay_us % 1000000u)};
  if (evtimer_add(call->timer, &tv) != 0)
    return false;
  call->state = CALL_RETRY_WAIT;
  return true;
}

static char *copy_header(CURL *easy, const char *name)
{
  struct curl_header *h = NULL;
  if (curl_easy_header(easy, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value)
    return NULL;
  size_t n = strnlen(h->value, RESPONSE_HEADER_MAX + 1);
  return n > RESPONSE_HEADER_MAX ? NULL : strndup(h->value, n);
}

/* application/json or application/<anything>+json (problem+json, merge-patch+json). */
bool kedge_sbi_client_json_type(const char *ct)
{
  if (!ct)
    return false;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  size_t n = strcspn(ct, "; \t");
  if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
    return true;
  return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
         strncasecmp(ct + n - 5, "+json", 5) == 0;
}

/* Delivers the result: the call leaves the client's list, its callback runs, it is freed. */
static void call_complete(kedge_sbi_client_call_t *call, kedge_err_t err)
{
  kedge_sbi_client_t *c = call->client;
  kedge_sbi_client_response_t r = {.err = err, .attempts = call->attempts};
  call->answered = err == KEDGE_OK;
  char *content_type = NULL, *location = NULL, *retry_after = NULL;
  const char *url = NULL;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(call->easy, CURLINFO_EFFECTIVE_URL, &url);
  if (err == KEDGE_OK) {
    content_type = copy_header(call->easy, "Content-Type");
    location = copy_header(call->easy, "Location");
    retry_after = copy_header(call->easy, "Retry-After");
    r.content_type = content_type;
    r.location = location;
    r.retry_after = retry_after;
    r.body_len = call->body.len;
    r.body = call->body.len ? (const char *)call->body.data : NULL;
    /* A body the caller does not read is not parsed: jansson costs about 170 instructions an
     * octet (issue 17: the UDM's AuthEvent in its 201, docs/performance-latency.md "Fifth
     * round: the AUSF"). */
    bool unread = call->unread_2xx_body && r.status >= 200 && r.status < 300;
    if (call->body.len > 0 && !unread && kedge_sbi_client_json_type(content_type)) {
      json_error_t jerr;
      r.json =
          json_loadb((const char *)call->body.data, call->body.len, JSON_REJECT_DUPLICATES, &jerr);
      /* jerr.text may quote the body: never logged, and wiped. */
      OPENSSL_cleanse(&jerr, sizeof(jerr));
    }
  }
  r.elapsed_us = (uint64_t)kedge_now_us() - call->start_us;
  if (kedge_trace_enabled()) {
    /* the demo's sequence diagram: who asked whom for what, and how long it took */
    const char *path = url && strlen(url) > 8 ? strchr(url + 8, '/') : NULL;
    char msg[256];
    snprintf(msg, sizeof(msg), "%s %s", call->method, path ? path : "?");
    kedge_trace_event(kedge_trace_role_of_url(url), msg, kedge_wall_us() - (int64_t)r.elapsed_us,
                      (int64_t)r.elapsed_us, (int)r.status, err ? kedge_strerror(err) : NULL);
  }

  if (err == KEDGE_OK)
    kedge_log_debug("sbi client: %s %s -> %ld in %.1f ms", call->method, url ? url : "?", r.status,
                    (double)r.elapsed_us / 1000.0);
  else
    kedge_log_debug("sbi client: %s %s -> %s (%s) in %.1f ms after %u attempt(s)", call->method,
                    url ? url : "?", kedge_strerror(err), call->errbuf,
                    (double)r.elapsed_us / 1000.0, call->attempts);

  call_unlink(call);
  call->state = CALL_DONE;
  c->dispatching++;
  call->cb(&r, call->arg);
  c->dispatching--;

  json_decref(r.json);
  free(content_type);
  free(location);
  free(retry_after);
  call_free(call);
}

/* The next attempt is due, or the deadline passed. */
static void on_call_timer(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_client_call_t *call = arg;
  kedge_sbi_client_t *c = call->client;
  if (call->state == CALL_RETRY_WAIT) {
    kedge_err_t err = call_start(call);
    if (err)
      call_complete(call, err);
  } else {
    if (call->state == CALL_ACTIVE)
      curl_multi_remove_handle(c->multi, call->easy);
    snprintf(call->errbuf, sizeof(call->errbuf), "deadline passed");
    call_complete(call, KEDGE_ERR_TIMEOUT);
  }
  after_dispatch(c);
}

/* A transfer ended: retry it, or hand the result to the caller. */
static void call_finished(kedge_sbi_client_call_t *call, CURLcode rc)
{
  bool retryable;
  kedge_err_t err = classify(call, rc, &retryable);
  curl_multi_remove_handle(call->client->multi, call->easy);
  if (rc == CURLE_PEER_FAILED_VERIFICATION || err == KEDGE_ERR_CONFIG) {
    const char *url = NULL;
    curl_easy_getinfo(call->easy, CURLINFO_EFFECTIVE_URL, &url);
    kedge_log_warn("sbi client: %s: TLS refused: %s", url ? url : "?", call->errbuf);
  }
  long status = 0;
  curl_easy_getinfo(call->easy, CURLINFO_RESPONSE_CODE, &status);
  if (err == KEDGE_OK && status == 401 && call->token_slot >= 0 && !call->token_retried) {
    /* TS 29.500 6.7.3: the producer refused the token before serving the request, so even a
     * POST goes once more, with a fresh token */
    call->token_retried = true;
    sbi_token_drop(call->client->tokens, call->token_slot);
    kedge_log_info("sbi client: %s %s: 401 from the producer; fetching a new access token",
                   call->method, call->url);
    if (wait_for_token(call) == KEDGE_OK) {
      const char *token = NULL;
      int slot;
      sbi_token_answer_t ta =
          sbi_token_get(call->client, call->client->tokens, call->url, &slot, &token);
      if (ta == SBI_TOKEN_WAIT)
        return;
      if (ta == SBI_TOKEN_READY && start_with_token(call) == KEDGE_OK)
        return;
    }
  }
  if (retryable && call->idempotent && call->attempts <= call->client->opts.max_retries) {
    kedge_log_debug("sbi client: %s attempt %u failed (%s), retrying", call->method, call->attempts,
                    call->errbuf);
    if (schedule_retry(call))
      return;
  }
  call_complete(call, err);
}

/* Reads libcurl's completion messages. A callback may cancel other calls (which also removes
 * their pending messages) or free the client: then reading stops. */
static void process_done(kedge_sbi_client_t *c)
{
  CURLMsg *msg;
  int left;
  while (!c->free_pending && (msg = curl_multi_info_read(c->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    CURLcode rc = msg->data.result;
    char *priv = NULL;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    if (priv)
      call_finished((kedge_sbi_client_call_t *)(void *)priv, rc);
  }
}

/* RFC 3986 3.3: a path segment keeps unreserved characters and '@'; the rest is %-encoded. */
bool kedge_sbi_path_segment(const char *in, char *out, size_t size)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("-._~@", *p);
    if (o + (keep ? 1 : 3) >= size)
      return false;
    if (keep) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return true;
}
