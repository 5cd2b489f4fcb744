/* The SBI server: configuration, the listener (one socket, bound without SO_REUSEPORT so that a
 * second process on the same port fails with EADDRINUSE; every worker accepts from its own
 * duplicate of it and hands each connection to the worker with the fewest), worker threads with one
 * libevent loop each, the main loop with signals and the plain-HTTP metrics listener, and graceful
 * shutdown. See docs/sbi.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/thread.h>

#include "kedge/log.h"
#include "sbi/server_int.h"

static void build_api_root(const kedge_sbi_server_t *srv, char *out, size_t size);

/* listen(2)'s backlog: what Linux allows (net.core.somaxconn caps it), see listen_socket() */
#define KEDGE_SBI_LISTEN_BACKLOG 65535

static const int counted_status[SBI_N_STATUS - 1] = {200, 201, 204, 307, 400, 403, 404, 405, 409,
                                                     413, 415, 429, 431, 500, 501, 503, 504};

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,   0.25,   0.5,   1,    2.5};

void kedge_sbi_server_config_defaults(kedge_sbi_server_config_t *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->name = "sbi";
  cfg->address = "127.0.0.1";
  cfg->verify = KEDGE_SBI_VERIFY_REQUIRED;
  cfg->workers = 1;
  cfg->limits.max_body = 64 * 1024;
  cfg->limits.max_header_list = 16 * 1024;
  cfg->limits.max_streams = 128;
  cfg->limits.max_connections = 1024;
  cfg->limits.max_handshakes = 1024;
  cfg->limits.max_handshakes_per_address = 128;
  cfg->limits.hello_timeout_ms = 2000;
  cfg->limits.idle_timeout_ms = 60000;
  cfg->limits.handshake_timeout_ms = 10000;
  cfg->limits.shutdown_grace_ms = 10000;
  cfg->metrics_enabled = true;
  cfg->handle_signals = true;
  cfg->metrics_address = "127.0.0.1";
  cfg->oauth2.check_subject = true;
  cfg->oauth2.clock_skew_ms = 30000;
  cfg->oauth2.token_margin_ms = 10000;
}

static bool dup_opt(const char *in, char **out)
{
  *out = NULL;
  if (!in)
    return true;
  *out = strdup(in);
  return *out != NULL;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg);

kedge_err_t kedge_sbi_server_new(const kedge_sbi_server_config_t *cfg, kedge_sbi_server_t **out)
{
  if (!cfg || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  const kedge_sbi_limits_t *l = &cfg->limits;
  if (cfg->workers < 1 || cfg->workers > 256 || l->max_body == 0 || l->max_header_list < 1024 ||
      l->max_header_list > (1u << 24) || l->max_streams == 0 || l->max_connections == 0 ||
      l->max_handshakes == 0 || l->idle_timeout_ms == 0 || l->hello_timeout_ms == 0 ||
      l->handshake_timeout_ms == 0) {
    kedge_log_error("sbi: invalid server configuration (workers 1..256, limits non-zero)");
    return KEDGE_ERR_CONFIG;
  }
  /* Worker loops are woken from the main thread (event_active at shutdown). */
  static bool threads_enabled;
  if (!threads_enabled) {
    if (evthread_use_pthreads() != 0)
      return KEDGE_ERR_NOMEM;
    threads_enabled = true;
  }
  kedge_sbi_server_t *srv = calloc(1, sizeof(*srv));
  if (!srv)
    return KEDGE_ERR_NOMEM;
  srv->cfg = *cfg;
  pthread_mutex_init(&srv->ctx_lock, NULL);
  pthread_mutex_init(&srv->pause_lock, NULL);
  pthread_cond_init(&srv->pause_cond, NULL);
  sbi_router_init(&srv->router);
  if (!dup_opt(cfg->name ? cfg->name : "sbi", &srv->name) ||
      !dup_opt(cfg->address ? cfg->address : "127.0.0.1", &srv->address) ||
      !dup_opt(cfg->cert_file, &srv->cert_file) || !dup_opt(cfg->key_file, &srv->key_file) ||
      !dup_opt(cfg->ca_file, &srv->ca_file) ||
      !dup_opt(cfg->metrics_address ? cfg->metrics_address : "127.0.0.1", &srv->metrics_address)) {
    kedge_sbi_server_free(srv);
    return KEDGE_ERR_NOMEM;
  }
  srv->cfg.name = srv->name;
  srv->cfg.address = srv->address;
  srv->cfg.cert_file = srv->cert_file;
  srv->cfg.key_file = srv->key_file;
  srv->cfg.ca_file = srv->ca_file;
  srv->cfg.metrics_address = srv->metrics_address;
  /* the strings of cfg.oauth2 are not kept: sbi_oauth2_new copies what it needs */
  memset(&srv->cfg.oauth2, 0, sizeof(srv->cfg.oauth2));
  kedge_err_t err = sbi_oauth2_new(&cfg->oauth2, srv->name, &srv->oauth2);
  if (err) {
    kedge_sbi_server_free(srv);
    return err;
  }
  err = kedge_metrics_new(&srv->metrics);
  if (err) {
    kedge_sbi_server_free(srv);
    return err;
  }
  kedge_metrics_gauge(srv->metrics, "kedge_sbi_connections_open",
                      "SBI connections currently open (handshaking or HTTP/2)", NULL,
                      &srv->m_conns_open);
  kedge_metrics_counter(srv->metrics, "kedge_sbi_connections_total", "SBI connections accepted",
                        NULL, &srv->m_conns_total);
  kedge_metrics_counter(srv->metrics, "kedge_sbi_connections_rejected_total",
                        "SBI connections closed: max_connections reached or shutting down", NULL,
                        &srv->m_conns_rejected);
  kedge_metrics_counter(srv->metrics, "kedge_sbi_handshakes_shed_total",
                        "Unauthenticated connections closed for a newer one (max_handshakes, "
                        "max_handshakes_per_address)",
                        NULL, &srv->m_handshakes_shed);
  kedge_metrics_counter(srv->metrics, "kedge_sbi_tls_handshake_failures_total",
                        "TLS handshakes that failed or timed out", NULL,
                        &srv->m_handshake_failures);
  srv->base = event_base_new();
  if (!srv->base) {
    kedge_sbi_server_free(srv);
    return KEDGE_ERR_NOMEM;
  }
  srv->stop_ev = event_new(srv->base, -1, 0, shutdown_cb, srv);
  if (!srv->stop_ev) {
    kedge_sbi_server_free(srv);
    return KEDGE_ERR_NOMEM;
  }
  if (srv->cert_file) {
    char why[256];
    srv->ssl_ctx = sbi_tls_ctx_new(&srv->cfg, why, sizeof(why));
    if (!srv->ssl_ctx) {
      kedge_log_error("%s", why);
      kedge_sbi_server_free(srv);
      return KEDGE_ERR_CONFIG;
    }
  }
  *out = srv;
  return KEDGE_OK;
}

SSL_CTX *sbi_tls_ctx_get(kedge_sbi_server_t *srv)
{
  pthread_mutex_lock(&srv->ctx_lock);
  SSL_CTX *ctx = srv->ssl_ctx;
  if (ctx)
    SSL_CTX_up_ref(ctx);
  pthread_mutex_unlock(&srv->ctx_lock);
  return ctx;
}

/* Connections in progress keep the context they started with (each SSL holds a reference);
 * only connections accepted after the swap get the new certificate. */
kedge_err_t kedge_sbi_server_reload_tls(kedge_sbi_server_t *srv,
                                        const kedge_sbi_server_config_t *next, char *why,
                                        size_t why_size)
{
  if (!srv || !srv->ssl_ctx || !next)
    return KEDGE_ERR_INVALID_ARG;
  kedge_sbi_server_config_t cfg = srv->cfg;
  cfg.cert_file = next->cert_file;
  cfg.key_file = next->key_file;
  cfg.ca_file = next->ca_file;
  cfg.verify = next->verify;
  cfg.tls12_allowed = next->tls12_allowed;
  char *cert = NULL, *key = NULL, *ca = NULL;
  if (!dup_opt(cfg.cert_file, &cert) || !dup_opt(cfg.key_file, &key) ||
      !dup_opt(cfg.ca_file, &ca)) {
    free(cert);
    free(key);
    free(ca);
    return KEDGE_ERR_NOMEM;
  }
  SSL_CTX *ctx = sbi_tls_ctx_new(&cfg, why, why_size);
  if (!ctx) {
    free(cert);
    free(key);
    free(ca);
    return KEDGE_ERR_CONFIG;
  }
  pthread_mutex_lock(&srv->ctx_lock);
  SSL_CTX *old = srv->ssl_ctx;
  srv->ssl_ctx = ctx;
  pthread_mutex_unlock(&srv->ctx_lock);
  SSL_CTX_free(old);
  free(srv->cert_file);
  free(srv->key_file);
  free(srv->ca_file);
  srv->cfg.cert_file = srv->cert_file = cert;
  srv->cfg.key_file = srv->key_file = key;
  srv->cfg.ca_file = srv->ca_file = ca;
  srv->cfg.verify = cfg.verify;
  srv->cfg.tls12_allowed = cfg.tls12_allowed;
  return KEDGE_OK;
}

/* A worker parks here (between two callbacks of its loop: no handler runs) until resumed. */
static void pause_cb(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  kedge_sbi_server_t *srv = w->srv;
  pthread_mutex_lock(&srv->pause_lock);
  srv->n_parked++;
  pthread_cond_broadcast(&srv->pause_cond);
  while (srv->paused)
    pthread_cond_wait(&srv->pause_cond, &srv->pause_lock);
  srv->n_parked--;
  pthread_cond_broadcast(&srv->pause_cond);
  pthread_mutex_unlock(&srv->pause_lock);
}

void kedge_sbi_server_pause(kedge_sbi_server_t *srv)
{
  if (!srv || !srv->started)
    return;
  pthread_mutex_lock(&srv->pause_lock);
  srv->paused = true;
  pthread_mutex_unlock(&srv->pause_lock);
  for (unsigned i = 0; i < srv->n_workers; i++)
    event_active(srv->workers[i].pause_ev, 0, 0);
  pthread_mutex_lock(&srv->pause_lock);
  while (srv->n_parked < srv->n_workers)
    pthread_cond_wait(&srv->pause_cond, &srv->pause_lock);
  pthread_mutex_unlock(&srv->pause_lock);
}

void kedge_sbi_server_resume(kedge_sbi_server_t *srv)
{
  if (!srv || !srv->started)
    return;
  pthread_mutex_lock(&srv->pause_lock);
  srv->paused = false;
  pthread_cond_broadcast(&srv->pause_cond);
  while (srv->n_parked > 0) /* all out before the next pause may count them again */
    pthread_cond_wait(&srv->pause_cond, &srv->pause_lock);
  pthread_mutex_unlock(&srv->pause_lock);
}

kedge_err_t kedge_sbi_server_set_lifecycle_hooks(kedge_sbi_server_t *srv,
                                                 kedge_sbi_reload_fn reload,
                                                 kedge_sbi_stopping_fn stopping, void *arg)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  srv->reload_fn = reload;
  srv->stopping_fn = stopping;
  srv->hooks_arg = arg;
  return KEDGE_OK;
}

kedge_err_t kedge_sbi_server_route(kedge_sbi_server_t *srv, const char *method, const char *pattern,
                                   const char *media_type, kedge_sbi_handler_fn handler, void *arg)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  return sbi_router_add(&srv->router, method, pattern, media_type, handler, arg);
}

kedge_err_t kedge_sbi_server_route_service(kedge_sbi_server_t *srv, const char *service)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  return sbi_router_set_service(&srv->router, service);
}

kedge_err_t kedge_sbi_server_route_strings(kedge_sbi_server_t *srv,
                                           const struct kedge_json_member *members)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  return sbi_router_set_strings(&srv->router, members);
}

kedge_err_t kedge_sbi_server_set_worker_hooks(kedge_sbi_server_t *srv,
                                              kedge_sbi_worker_init_fn init,
                                              kedge_sbi_worker_fini_fn fini, void *arg)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  srv->worker_init = init;
  srv->worker_fini = fini;
  srv->worker_arg = arg;
  return KEDGE_OK;
}

unsigned kedge_sbi_worker_index(const kedge_sbi_worker_t *worker)
{
  return worker->id;
}

void kedge_sbi_worker_set_data(kedge_sbi_worker_t *worker, void *data)
{
  worker->data = data;
}

void *kedge_sbi_worker_data(const kedge_sbi_worker_t *worker)
{
  return worker->data;
}

kedge_err_t kedge_sbi_server_set_accept_hook(kedge_sbi_server_t *srv, kedge_sbi_accept_fn fn,
                                             void *arg)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  srv->accept_hook = fn;
  srv->accept_arg = arg;
  return KEDGE_OK;
}

kedge_err_t kedge_sbi_server_set_precise_timers(kedge_sbi_server_t *srv, bool on)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  srv->precise_timers = on;
  return KEDGE_OK;
}

/* ---- metrics ---- */

void sbi_metrics_count(kedge_sbi_server_t *srv, const sbi_route_t *route, int status,
                       double seconds)
{
  if (!srv->route_metrics)
    return;
  size_t r = route ? route->index : srv->router.n;
  sbi_route_metrics_t *rm = &srv->route_metrics[r];
  size_t s = SBI_N_STATUS - 1;
  for (size_t i = 0; i < SBI_N_STATUS - 1; i++)
    if (counted_status[i] == status)
      s = i;
  kedge_counter_t *c = atomic_load_explicit(&rm->by_status[s], memory_order_acquire);
  if (!c) {
    /* First time for this (route, status): the registry returns the same series to every
     * thread that races here. Labels come from a bounded set: route patterns, not paths. */
    char labels[256] = "", code[8] = "other"; /* the last series counts every other status */
    if (s < SBI_N_STATUS - 1)
      snprintf(code, sizeof(code), "%d", counted_status[s]);
    kedge_metrics_label(labels, sizeof(labels), "method", route ? route->method : "any");
    kedge_metrics_label(labels, sizeof(labels), "route", route ? route->pattern : "unmatched");
    kedge_metrics_label(labels, sizeof(labels), "status", code);
    if (kedge_metrics_counter(srv->metrics, "kedge_sbi_requests_total",
                              "SBI requests answered, by route pattern and status", labels,
                              &c) != KEDGE_OK)
      return;
    atomic_store_explicit(&rm->by_status[s], c, memory_order_release);
  }
  kedge_counter_add(c, 1);
  kedge_histogram_observe(rm->latency, seconds);
}

static kedge_err_t route_metrics_init(kedge_sbi_server_t *srv)
{
  size_t n = srv->router.n + 1;
  srv->route_metrics = calloc(n, sizeof(*srv->route_metrics));
  if (!srv->route_metrics)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    const sbi_route_t *route = i < srv->router.n ? srv->router.routes[i] : NULL;
    char labels[256] = "";
    kedge_metrics_label(labels, sizeof(labels), "method", route ? route->method : "any");
    kedge_metrics_label(labels, sizeof(labels), "route", route ? route->pattern : "unmatched");
    kedge_err_t err = kedge_metrics_histogram(
        srv->metrics, "kedge_sbi_request_duration_seconds",
        "Time from the request's first header to its response, by route pattern", labels,
        latency_bounds, sizeof(latency_bounds) / sizeof(latency_bounds[0]),
        &srv->route_metrics[i].latency);
    if (err)
      return err;
  }
  return KEDGE_OK;
}

static void metrics_cb(struct evhttp_request *hreq, void *arg)
{
  kedge_sbi_server_t *srv = arg;
  char *text;
  size_t len;
  if (kedge_metrics_render(srv->metrics, &text, &len) != KEDGE_OK) {
    evhttp_send_error(hreq, 500, NULL);
    return;
  }
  struct evbuffer *buf = evbuffer_new();
  if (!buf) {
    free(text);
    evhttp_send_error(hreq, 500, NULL);
    return;
  }
  evbuffer_add(buf, text, len);
  free(text);
  evhttp_add_header(evhttp_request_get_output_headers(hreq), "Content-Type",
                    KEDGE_METRICS_CONTENT_TYPE);
  evhttp_send_reply(hreq, 200, "OK", buf);
  evbuffer_free(buf);
}

static void send_text(struct evhttp_request *hreq, int status, const char *reason, const char *text)
{
  struct evbuffer *buf = evbuffer_new();
  if (!buf) {
    evhttp_send_error(hreq, 500, NULL);
    return;
  }
  evbuffer_add(buf, text, strlen(text));
  evhttp_add_header(evhttp_request_get_output_headers(hreq), "Content-Type",
                    "text/plain; charset=utf-8");
  evhttp_send_reply(hreq, status, reason, buf);
  evbuffer_free(buf);
}

/* Liveness: the main loop answers (it is the one that takes signals and runs reloads). */
static void healthz_cb(struct evhttp_request *hreq, void *arg)
{
  send_text(hreq, 200, "OK", "ok\n");
}

/* Readiness: the SBI port listens and the daemon's set-up is done (the metrics listener opens
 * after both). At SIGTERM the main loop stops answering at once, so this turns unreachable. */
static void readyz_cb(struct evhttp_request *hreq, void *arg)
{
  kedge_sbi_server_t *srv = arg;
  if (srv->started && !atomic_load(&srv->stopping))
    send_text(hreq, 200, "OK", "ready\n");
  else
    send_text(hreq, 503, "Service Unavailable", "not ready\n");
}

static void metrics_other_cb(struct evhttp_request *hreq, void *arg)
{
  evhttp_send_error(hreq, 404, NULL);
}

/* ---- listeners ---- */

static void format_addr(char *out, size_t size, const char *address, uint16_t port)
{
  snprintf(out, size, strchr(address, ':') ? "[%s]:%u" : "%s:%u", address, port);
}

static uint16_t sockaddr_port(evutil_socket_t fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
    return 0;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return 0;
}

/* Numeric addresses only: no DNS lookup ever runs on a loop (nor at start-up). No SO_REUSEPORT:
 * with it a second daemon started by hand on the same port would bind too and the kernel would
 * split the connections between the two (issue 11); without it the second one gets EADDRINUSE.
 * The workers share this one socket (duplicates of it), so they need no reuseport group. */
static evutil_socket_t listen_socket(const char *name, const char *address, uint16_t port)
{
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
  struct addrinfo *ai = NULL;
  char portstr[8], where[80];
  snprintf(portstr, sizeof(portstr), "%u", port);
  format_addr(where, sizeof(where), address, port);
  if (getaddrinfo(address, portstr, &hints, &ai) != 0 || !ai) {
    kedge_log_error("sbi %s: listen address %s is not a numeric IPv4 or IPv6 address", name,
                    address);
    return -1;
  }
  evutil_socket_t fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  /* SO_REUSEADDR only lets a restart bind past TIME_WAIT connections, never past a listener. */
  /* TCP_NODELAY here: accepted sockets inherit it on Linux, one setsockopt(2) fewer per
   * connection (HTTP/2 frames and TLS flights go out at once, not after Nagle's wait). */
  /* The backlog: the listener had 128 (libevent's default, set again by evconnlistener_new),
   * and 200 clients connecting at once overflowed it (issue 17: SYNs dropped, each retried
   * after 1 s, p99 1.03 s in bench/ecs at 200 clients); Linux caps what is asked at
   * net.core.somaxconn (4096 on Debian 12). */
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
      bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, KEDGE_SBI_LISTEN_BACKLOG) != 0 ||
      evutil_make_socket_nonblocking(fd) != 0) {
    if (errno == EADDRINUSE)
      kedge_log_error("sbi %s: cannot listen on %s: address already in use (is another daemon "
                      "serving there?)",
                      name, where);
    else
      kedge_log_error("sbi %s: cannot listen on %s: %s", name, where, strerror(errno));
    if (fd >= 0)
      close(fd);
    freeaddrinfo(ai);
    return -1;
  }
  freeaddrinfo(ai);
  return fd;
}

/* The connection's start on the worker that serves it: the service's accept hook or TLS. */
static void serve_accepted(kedge_sbi_worker_t *w, evutil_socket_t fd, struct sockaddr *addr,
                           int socklen)
{
  kedge_sbi_server_t *srv = w->srv;
  if (srv->accept_hook && !w->draining) {
    srv->accept_hook(w, fd, addr, socklen, srv->accept_arg);
    return;
  }
  sbi_conn_accept_tls(w, fd, addr);
}

/* A worker's load as the others see it: its connections and the sockets handed to it. */
static unsigned worker_load(kedge_sbi_worker_t *w)
{
  return atomic_load_explicit(&w->n_conns, memory_order_relaxed) +
         atomic_load_explicit(&w->n_incoming, memory_order_relaxed);
}

/* Queues `fd` for worker `to` and wakes its loop; false if its queue is full. */
static bool hand_off(kedge_sbi_worker_t *to, evutil_socket_t fd, const struct sockaddr *addr,
                     int socklen)
{
  pthread_mutex_lock(&to->handoff_lock);
  bool ok = to->n_handoff < SBI_HANDOFF_MAX && socklen >= 0 &&
            (size_t)socklen <= sizeof(to->handoff[0].peer);
  if (ok) {
    sbi_handoff_t *h = &to->handoff[to->n_handoff++];
    h->fd = fd;
    memcpy(&h->peer, addr, (size_t)socklen);
    h->peer_len = socklen;
    atomic_fetch_add_explicit(&to->n_incoming, 1, memory_order_relaxed);
  }
  pthread_mutex_unlock(&to->handoff_lock);
  if (ok)
    event_active(to->handoff_ev, 0, 0);
  return ok;
}

/* Every worker accepts from the one listening socket and the first loop awake wins, so a
 * handful of connections could all land on one worker. SBI connections are few and
 * long-lived (TS 29.500 5.2.2: HTTP/2, connections kept and reused; docs/sbi.md), so each new
 * one goes to the worker with the fewest open; on a tie the accepting worker keeps it. None go
 * to others once the server stops (a draining worker takes none). */
static void accept_cb(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                      int socklen, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  kedge_sbi_server_t *srv = w->srv;
  if (srv->n_workers > 1 && !w->draining && !atomic_load(&srv->stopping)) {
    kedge_sbi_worker_t *best = w;
    unsigned best_load = worker_load(w);
    for (unsigned i = 0; i < srv->n_workers; i++) {
      unsigned load = worker_load(&srv->workers[i]);
      if (load < best_load) {
        best = &srv->workers[i];
        best_load = load;
      }
    }
    if (best != w && hand_off(best, fd, addr, socklen))
      return;
  }
  serve_accepted(w, fd, addr, socklen);
}

/* handoff_ev: the sockets other workers accepted for this one. */
static void handoff_cb(evutil_socket_t unused, short what, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  sbi_handoff_t batch[SBI_HANDOFF_MAX];
  pthread_mutex_lock(&w->handoff_lock);
  unsigned n = w->n_handoff;
  memcpy(batch, w->handoff, n * sizeof(batch[0]));
  w->n_handoff = 0;
  pthread_mutex_unlock(&w->handoff_lock);
  for (unsigned i = 0; i < n; i++) {
    serve_accepted(w, batch[i].fd, (struct sockaddr *)&batch[i].peer, batch[i].peer_len);
    /* counted as incoming until its connection counts (ordering among the others' reads) */
    atomic_fetch_sub_explicit(&w->n_incoming, 1, memory_order_relaxed);
  }
}

/* Sockets still queued for a worker whose loop ended (shutdown): closed unserved. */
static void handoff_close_all(kedge_sbi_worker_t *w)
{
  pthread_mutex_lock(&w->handoff_lock);
  for (unsigned i = 0; i < w->n_handoff; i++)
    evutil_closesocket(w->handoff[i].fd);
  atomic_fetch_sub(&w->n_incoming, w->n_handoff);
  w->n_handoff = 0;
  pthread_mutex_unlock(&w->handoff_lock);
}

static void accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  if (w->listener && !w->draining)
    evconnlistener_enable(w->listener);
}

static void accept_error_cb(struct evconnlistener *listener, void *arg)
{
  /* EMFILE and friends (issue 12: many connections at once): the pending connection stays in
   * the backlog and keeps the socket readable, so listening on at once would spin. Pause
   * accepting for 100 ms; connections closing meanwhile free descriptors. */
  kedge_sbi_worker_t *w = arg;
  kedge_log_warn("sbi: accept failed: %s; pausing accept for 100 ms", strerror(errno));
  struct timeval tv = {0, 100000};
  if (w->accept_retry && evconnlistener_disable(listener) == 0)
    evtimer_add(w->accept_retry, &tv);
}

/* ---- shutdown ---- */

void sbi_worker_conn_removed(kedge_sbi_worker_t *w)
{
  if (w->draining && w->n_conns == 0)
    event_base_loopexit(w->base, NULL);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  if (w->n_conns)
    kedge_log_warn("sbi: worker %u: %u connections still busy after the grace period; closing",
                   w->id, w->n_conns);
  sbi_conn_t *conn;
  while ((conn = LIST_FIRST(&w->conns))) {
    conn->fatal = true;
    sbi_conn_free(conn);
  }
  event_base_loopexit(w->base, NULL);
}

static void drain_cb(evutil_socket_t fd, short what, void *arg)
{
  kedge_sbi_worker_t *w = arg;
  w->draining = true;
  if (w->listener) {
    evconnlistener_free(w->listener); /* closes the socket: no new connections */
    w->listener = NULL;
    w->listen_fd = -1;
  }
  sbi_conn_t *conn, *next;
  LIST_FOREACH_SAFE(conn, &w->conns, link, next)
  sbi_conn_drain(conn);
  if (w->n_conns == 0) {
    event_base_loopexit(w->base, NULL);
    return;
  }
  unsigned ms = w->srv->cfg.limits.shutdown_grace_ms;
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  evtimer_add(w->grace_timer, &tv);
}

static void begin_shutdown(kedge_sbi_server_t *srv, const char *why)
{
  bool expected = false;
  if (!atomic_compare_exchange_strong(&srv->stopping, &expected, true))
    return;
  kedge_log_info("sbi %s: %s: no new connections; draining in-flight requests (up to %u ms)",
                 srv->name, why, srv->cfg.limits.shutdown_grace_ms);
  if (srv->stopping_fn)
    srv->stopping_fn(srv, srv->hooks_arg);
  for (unsigned i = 0; i < srv->n_workers; i++)
    event_active(srv->workers[i].drain_ev, 0, 0);
  event_base_loopexit(srv->base, NULL);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
  begin_shutdown(arg, sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* SIGHUP: the daemon's reload (lib/app), on the main loop, never killing the process. */
static void sighup_cb(evutil_socket_t sig, short what, void *arg)
{
  kedge_sbi_server_t *srv = arg;
  if (atomic_load(&srv->stopping))
    return;
  if (srv->reload_fn)
    srv->reload_fn(srv, srv->hooks_arg);
  else
    kedge_log_info("sbi %s: SIGHUP: nothing to reload here; ignored", srv->name);
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
  begin_shutdown(arg, "stop requested");
}

void kedge_sbi_server_stop(kedge_sbi_server_t *srv)
{
  if (srv && srv->stop_ev)
    event_active(srv->stop_ev, 0, 0);
}

/* ---- start / run ---- */

static void *worker_main(void *arg)
{
  kedge_sbi_worker_t *w = arg;
  sbi_this_worker = w;
  event_base_dispatch(w->base);
  sbi_this_worker = NULL;
  return NULL;
}

/* A worker's loop; with precise timers (kedge_sbi_server_set_precise_timers) libevent reads
 * CLOCK_MONOTONIC instead of CLOCK_MONOTONIC_COARSE and waits on a timerfd, not on
 * epoll_wait's millisecond timeout. */
static struct event_base *worker_base_new(bool precise)
{
  if (!precise)
    return event_base_new();
  struct event_config *cfg = event_config_new();
  struct event_base *base = NULL;
  if (cfg && event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
    base = event_base_new_with_config(cfg);
  if (cfg)
    event_config_free(cfg);
  return base;
}

/* Every failure but running out of memory logs its own line. */
static kedge_err_t start(kedge_sbi_server_t *srv)
{
  if (!srv->ssl_ctx && !srv->accept_hook) {
    kedge_log_error("sbi %s: no certificate configured", srv->name);
    return KEDGE_ERR_CONFIG;
  }
  kedge_err_t err = route_metrics_init(srv);
  if (err)
    return err;
  /* A peer closing mid-write must not kill the process (OpenSSL writes with write(2)). */
  signal(SIGPIPE, SIG_IGN);

  srv->n_workers = srv->cfg.workers;
  srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
  if (!srv->workers)
    return KEDGE_ERR_NOMEM;
  for (unsigned i = 0; i < srv->n_workers; i++) /* before anything can fail: free destroys them */
    pthread_mutex_init(&srv->workers[i].handoff_lock, NULL);
  uint16_t port = srv->cfg.port;
  for (unsigned i = 0; i < srv->n_workers; i++) {
    kedge_sbi_worker_t *w = &srv->workers[i];
    w->srv = srv;
    w->id = i;
    kedge_conn_budget_init(&w->hs_budget, srv->cfg.limits.max_handshakes,
                           srv->cfg.limits.max_handshakes_per_address);
    w->listen_fd = -1;
    w->base = worker_base_new(srv->precise_timers);
    if (!w->base)
      return KEDGE_ERR_NOMEM;
    w->drain_ev = event_new(w->base, -1, 0, drain_cb, w);
    w->grace_timer = evtimer_new(w->base, grace_cb, w);
    w->pause_ev = event_new(w->base, -1, 0, pause_cb, w);
    w->accept_retry = evtimer_new(w->base, accept_resume_cb, w);
    w->handoff_ev = event_new(w->base, -1, 0, handoff_cb, w);
    if (!w->drain_ev || !w->grace_timer || !w->pause_ev || !w->accept_retry || !w->handoff_ev)
      return KEDGE_ERR_NOMEM;
    /* The first worker binds; the others accept from duplicates of its socket (one accept
     * queue: whichever loop wakes first takes the connection, then accept_cb hands it to the
     * worker with the fewest). */
    if (i == 0) {
      w->listen_fd = listen_socket(srv->name, srv->address, port);
      if (w->listen_fd < 0)
        return KEDGE_ERR_IO;
      srv->port = sockaddr_port(w->listen_fd);
      build_api_root(srv, srv->api_root, sizeof(srv->api_root));
    } else {
      w->listen_fd = fcntl(srv->workers[0].listen_fd, F_DUPFD_CLOEXEC, 0);
      if (w->listen_fd < 0) {
        kedge_log_error("sbi %s: worker %u: cannot share the listening socket: %s", srv->name, i,
                        strerror(errno));
        return KEDGE_ERR_IO;
      }
    }
    /* backlog 0: the socket listens already (listen_socket()); libevent's -1 would listen(2)
     * again with 128 */
    w->listener = evconnlistener_new(w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE, 0, w->listen_fd);
    if (!w->listener)
      return KEDGE_ERR_NOMEM;
    evconnlistener_set_error_cb(w->listener, accept_error_cb);
  }

  if (srv->cfg.metrics_enabled) {
    srv->metrics_http = evhttp_new(srv->base);
    if (!srv->metrics_http)
      return KEDGE_ERR_NOMEM;
    struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(
        srv->metrics_http, srv->metrics_address, srv->cfg.metrics_port);
    if (!bound) {
      char where[80];
      format_addr(where, sizeof(where), srv->metrics_address, srv->cfg.metrics_port);
      kedge_log_error("sbi %s: cannot listen for metrics on %s: %s", srv->name, where,
                      errno == EADDRINUSE ? "address already in use (is another daemon serving "
                                            "there?)"
                                          : strerror(errno));
      return KEDGE_ERR_IO;
    }
    srv->metrics_port = sockaddr_port(evhttp_bound_socket_get_fd(bound));
    evhttp_set_allowed_methods(srv->metrics_http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(srv->metrics_http, 8192);
    evhttp_set_max_body_size(srv->metrics_http, 0);
    evhttp_set_timeout(srv->metrics_http, 10);
    evhttp_set_cb(srv->metrics_http, "/metrics", metrics_cb, srv);
    evhttp_set_cb(srv->metrics_http, "/healthz", healthz_cb, srv);
    evhttp_set_cb(srv->metrics_http, "/readyz", readyz_cb, srv);
    evhttp_set_gencb(srv->metrics_http, metrics_other_cb, srv);
  }

  if (srv->cfg.handle_signals) {
    srv->sigterm_ev = evsignal_new(srv->base, SIGTERM, signal_cb, srv);
    srv->sigint_ev = evsignal_new(srv->base, SIGINT, signal_cb, srv);
    srv->sighup_ev = evsignal_new(srv->base, SIGHUP, sighup_cb, srv);
    if (!srv->sigterm_ev || !srv->sigint_ev || !srv->sighup_ev ||
        evsignal_add(srv->sigterm_ev, NULL) != 0 || evsignal_add(srv->sigint_ev, NULL) != 0 ||
        evsignal_add(srv->sighup_ev, NULL) != 0)
      return KEDGE_ERR_NOMEM;
  }

  /* Workers never take SIGTERM/SIGINT/SIGHUP themselves: the main loop does. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGHUP);
  /* Every worker's service state first, so a failure leaves no thread running. */
  for (unsigned i = 0; srv->worker_init && i < srv->n_workers; i++) {
    kedge_sbi_worker_t *w = &srv->workers[i];
    if ((err = srv->worker_init(w, srv->worker_arg))) {
      kedge_log_error("sbi %s: worker %u: set-up failed: %s", srv->name, i, kedge_strerror(err));
      return err;
    }
    w->init_done = true;
  }
  pthread_sigmask(SIG_BLOCK, &block, &old);
  for (unsigned i = 0; i < srv->n_workers; i++) {
    kedge_sbi_worker_t *w = &srv->workers[i];
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      pthread_sigmask(SIG_SETMASK, &old, NULL);
      kedge_log_error("sbi: cannot start worker thread %u", i);
      return KEDGE_ERR_NOMEM;
    }
    w->thread_started = true;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  srv->started = true;

  char where[80], metrics[96] = "off";
  format_addr(where, sizeof(where), srv->address, srv->port);
  if (srv->cfg.metrics_enabled) {
    char maddr[80];
    format_addr(maddr, sizeof(maddr), srv->metrics_address, srv->metrics_port);
    snprintf(metrics, sizeof(metrics), "http://%s/metrics", maddr);
  }
  if (srv->cfg.transport == KEDGE_SBI_TRANSPORT_H2C)
    /* TS 33.501 13.1 leaves unprotected SBI links to the operator (SPEC.md 7) */
    kedge_log_warn("sbi %s: sbi.transport h2c: HTTP/2 without TLS; what this NF sends (KAUSF, "
                   "KSEAF in 5G AKA) crosses the link in clear: physically protected links only",
                   srv->name);
  kedge_log_info("sbi %s: listening on %s port=%u (%s, ALPN h2, client verification %s), "
                 "workers=%u, metrics %s metrics_port=%u, limits: body %zu B, header list "
                 "%zu B, %u streams/connection, %u connections/worker",
                 srv->name, where, srv->port,
                 srv->accept_hook                                ? "TLS by the service"
                 : srv->cfg.transport == KEDGE_SBI_TRANSPORT_H2C ? "h2c, no TLS"
                 : srv->cfg.tls12_allowed                        ? "TLS 1.3 and 1.2"
                                                                 : "TLS 1.3",
                 sbi_verify_name(srv->cfg.verify), srv->n_workers, metrics, srv->metrics_port,
                 srv->cfg.limits.max_body, srv->cfg.limits.max_header_list,
                 srv->cfg.limits.max_streams, srv->cfg.limits.max_connections);
  return KEDGE_OK;
}

kedge_err_t kedge_sbi_server_start(kedge_sbi_server_t *srv)
{
  if (!srv || srv->started)
    return KEDGE_ERR_INVALID_ARG;
  kedge_err_t err = start(srv);
  if (err == KEDGE_ERR_NOMEM)
    kedge_log_error("sbi %s: cannot start: %s", srv->name, kedge_strerror(err));
  return err;
}

uint16_t kedge_sbi_server_port(const kedge_sbi_server_t *srv)
{
  return srv ? srv->port : 0;
}
/* https://<address>:<port> of `srv` (127.0.0.1 and port 0 without one) */
static void build_api_root(const kedge_sbi_server_t *srv, char *out, size_t size)
{
  const char *address = srv && srv->address ? srv->address : "127.0.0.1";
  bool v6 = strchr(address, ':') != NULL;
  snprintf(out, size, "https://%s%s%s:%u", v6 ? "[" : "", address, v6 ? "]" : "",
           kedge_sbi_server_port(srv));
}

void kedge_sbi_server_api_root(const kedge_sbi_server_t *srv, const char *configured, char *out,
                               size_t size)
{
  if (configured)
    snprintf(out, size, "%s", configured);
  else if (srv && srv->api_root[0])
    snprintf(out, size, "%s", srv->api_root);
  else
    build_api_root(srv, out, size);
}

const char *kedge_sbi_server_api_root_cached(const kedge_sbi_server_t *srv, const char *configured)
{
  /* no formatting per answer (about 1,500 instructions a call): the configured string itself,
   * or the server's, built when it bound its port */
  if (configured)
    return configured;
  return srv && srv->api_root[0] ? srv->api_root : "https://127.0.0.1:0";
}

uint16_t kedge_sbi_server_metrics_port(const kedge_sbi_server_t *srv)
{
  return srv ? srv->metrics_port : 0;
}
struct event_base *kedge_sbi_server_base(kedge_sbi_server_t *srv)
{
  return srv ? srv->base : NULL;
}
kedge_metrics_t *kedge_sbi_server_metrics(kedge_sbi_server_t *srv)
{
  return srv ? srv->metrics : NULL;
}
struct event_base *kedge_sbi_worker_base(kedge_sbi_worker_t *w)
{
  return w ? w->base : NULL;
}
kedge_sbi_server_t *kedge_sbi_worker_server(kedge_sbi_worker_t *w)
{
  return w ? w->srv : NULL;
}
void kedge_sbi_worker_count_handshake_failure(kedge_sbi_worker_t *w)
{
  if (w)
    kedge_counter_add(w->srv->m_handshake_failures, 1);
}

void kedge_sbi_worker_count_handshake_shed(kedge_sbi_worker_t *w)
{
  if (w)
    kedge_counter_add(w->srv->m_handshakes_shed, 1);
}

const kedge_sbi_limits_t *kedge_sbi_worker_limits(const kedge_sbi_worker_t *w)
{
  return &w->srv->cfg.limits;
}

kedge_err_t kedge_sbi_server_run(kedge_sbi_server_t *srv)
{
  if (!srv || !srv->started)
    return KEDGE_ERR_INVALID_ARG;
  event_base_dispatch(srv->base);
  /* The loop ends only through begin_shutdown(); the workers drain within the grace time. */
  for (unsigned i = 0; i < srv->n_workers; i++) {
    if (srv->workers[i].thread_started) {
      pthread_join(srv->workers[i].thread, NULL);
      srv->workers[i].thread_started = false;
    }
  }
  kedge_log_info("sbi %s: stopped", srv->name);
  return KEDGE_OK;
}

void kedge_sbi_server_free(kedge_sbi_server_t *srv)
{
  if (!srv)
    return;
  if (srv->started && !atomic_load(&srv->stopping)) {
    /* Freed without run(): stop the workers first. */
    begin_shutdown(srv, "freed");
  }
  for (unsigned i = 0; srv->workers && i < srv->n_workers; i++) {
    kedge_sbi_worker_t *w = &srv->workers[i];
    if (w->thread_started)
      pthread_join(w->thread, NULL);
    sbi_conn_t *conn;
    while ((conn = LIST_FIRST(&w->conns))) {
      conn->fatal = true;
      sbi_conn_free(conn);
    }
    if (w->init_done && srv->worker_fini)
      srv->worker_fini(w, srv->worker_arg);
    if (w->listener)
      evconnlistener_free(w->listener);
    else if (w->listen_fd >= 0)
      close(w->listen_fd);
    if (w->drain_ev)
      event_free(w->drain_ev);
    if (w->grace_timer)
      event_free(w->grace_timer);
    if (w->pause_ev)
      event_free(w->pause_ev);
    if (w->accept_retry)
      event_free(w->accept_retry);
    if (w->handoff_ev)
      event_free(w->handoff_ev);
    handoff_close_all(w);
    pthread_mutex_destroy(&w->handoff_lock);
    if (w->base)
      event_base_free(w->base);
    sbi_worker_free_spare_reqs(w);
  }
  free(srv->workers);
  if (srv->metrics_http)
    evhttp_free(srv->metrics_http);
  if (srv->sigterm_ev)
    event_free(srv->sigterm_ev);
  if (srv->sigint_ev)
    event_free(srv->sigint_ev);
  if (srv->sighup_ev)
    event_free(srv->sighup_ev);
  if (srv->stop_ev)
    event_free(srv->stop_ev);
  if (srv->base)
    event_base_free(srv->base);
  if (srv->ssl_ctx)
    SSL_CTX_free(srv->ssl_ctx);
  pthread_mutex_destroy(&srv->ctx_lock);
  pthread_mutex_destroy(&srv->pause_lock);
  pthread_cond_destroy(&srv->pause_cond);
  sbi_router_free(&srv->router);
  free(srv->route_metrics);
  kedge_metrics_free(srv->metrics);
  free(srv->name);
  free(srv->address);
  free(srv->cert_file);
  free(srv->key_file);
  free(srv->ca_file);
  free(srv->metrics_address);
  sbi_oauth2_free(srv->oauth2);
  free(srv);
}
