/* The ECS's TLS 1.3 external-PSK handshake (SPEC.md 4, RFC 8446, RFC 9257/9258 for external
 * PSKs), driven by the ECS's own events on the worker's loop, then handed to the SBI runtime's
 * HTTP/2 (kedge_sbi_worker_adopt) with the Kedge ID as the connection's identity.
 *
 * OpenSSL 3.0 has no asynchronous PSK lookup. What works (issue 6): the ClientHello callback
 * reads the identity from the pre_shared_key extension itself, starts the fetch and returns
 * SSL_CLIENT_HELLO_RETRY, which makes SSL_do_handshake() return with
 * SSL_ERROR_WANT_CLIENT_HELLO_CB; when the key has arrived, SSL_do_handshake() runs the
 * callback again, which now says yes, and the psk_find_session callback builds the session
 * from the key kept in the connection's state. A HelloRetryRequest (RFC 8446 4.1.4) runs both
 * callbacks again on the second ClientHello; the key is still in that state.
 *
 * SPEC.md 4: unknown, expired and malformed identities get a random dummy key, so the client
 * sees the binder fail with decrypt_error exactly as with a wrong key; a key source that
 * fails ends the handshake with internal_error.
 *
 * Issue 12 (no oracle, docs/security.md): a lookup refused by the fetch budget also gets the
 * dummy key, and every identity is answered no sooner than a floor after its ClientHello
 * arrived (the callback keeps returning RETRY until then), so cache hits, negative hits and
 * fetches take the same time. Hellos that can never complete (no TLS 1.3, no SHA-256 suite, no
 * usable PSK mode) cost no fetch: OpenSSL ends them with the alert TLS gives. Connections
 * still handshaking have their own budget (kedge/conn_budget.h): the oldest is shed for a
 * newcomer, and the ClientHello must arrive within sbi.limits.hello_timeout. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "psk_handshake.h"

#include "binder_alert.h"
#include "conn_binding.h"
#include "kedge/log.h"
#include "kedge/ratelimit.h"
#include "kedge/time.h"
#include "key_fetch.h"
#include "psk_identity.h"

typedef struct ecs_hs {
  kedge_conn_node_t node;   /* in the worker's handshake budget */
  struct ecs_hs *pool_next; /* in the worker's pool of free handshake state */
  ecs_worker_t *ew;
  evutil_socket_t fd;
  SSL *ssl;
  struct event *rev, *wev, *timer;
  struct event *hold; /* the answer floor */
  bool hello_seen;    /* the ClientHello arrived: handshake_timeout from acceptance */
  bool released;      /* the floor has passed for the identity looked up */
  bool paused;        /* SSL_ERROR_WANT_CLIENT_HELLO_CB: waiting for the key or floor */
  int64_t accepted_ms;
  int64_t hello_us; /* the answer floor counts from here, in microseconds */
  struct sockaddr_storage peer;
  bool has_peer;
  ecs_key_waiter_t waiter;
  ecs_key_state_t key_state; /* FOUND: the identity's key; UNKNOWN, LIMITED: a dummy key */
  bool no_psk;               /* no usable PSK offer in the ClientHello */
  bool psk_used;             /* psk_find_session handed OpenSSL a session */
  uint8_t key[KEDGE_KEY_LEN];
  size_t id_len; /* the identity looked up (its first KEDGE_ID_MAX octets kept) */
  char id[KEDGE_ID_MAX + 1];
} ecs_hs_t;

/* RFC 8446 B.4: TLS_AES_128_GCM_SHA256. The PSK's hash must be the suite's (SPEC.md 4:
 * SHA-256), so only SHA-256 suites are offered. */
static const unsigned char tls_aes_128_gcm_sha256[2] = {0x13, 0x01};

/* ---- OpenSSL callbacks ---- */

static bool same_identity(const ecs_hs_t *hs, const uint8_t *id, size_t len)
{
  size_t kept = len < KEDGE_ID_MAX ? len : KEDGE_ID_MAX;
  return hs->key_state != ECS_KEY_NONE && hs->id_len == len && memcmp(hs->id, id, kept) == 0;
}

/* A lookup's answer (`key`: the key that arrived, for a fetch; NULL when ecs_key_lookup()
 * already copied it into hs->key). SPEC.md 4: an unknown identity gets a random dummy key, so
 * the binder fails as with a wrong key; issue 12: a refused fetch (LIMITED) too, so the refusal
 * tells nothing about the cache. */
static void take_verdict(ecs_hs_t *hs, ecs_key_state_t state, const uint8_t *key)
{
  hs->key_state = state;
  if (state == ECS_KEY_FOUND && key)
    memcpy(hs->key, key, KEDGE_KEY_LEN);
  else if ((state == ECS_KEY_UNKNOWN || state == ECS_KEY_LIMITED) &&
           RAND_bytes(hs->key, sizeof(hs->key)) != 1) {
    ERR_clear_error();
    hs->key_state = ECS_KEY_FAILED;
  }
}

static void hold_cb(evutil_socket_t fd, short what, void *arg);
static void hs_io_cb(evutil_socket_t fd, short what, void *arg);
static void hs_timeout_cb(evutil_socket_t fd, short what, void *arg);
static void key_done(ecs_key_waiter_t *waiter, ecs_key_state_t state,
                     const uint8_t key[KEDGE_KEY_LEN]);

/* The verdict for the identity looked up, once the floor has passed: RETRY until then. */
static int answer(ecs_hs_t *hs, int *al)
{
  if (hs->key_state == ECS_KEY_PENDING)
    return SSL_CLIENT_HELLO_RETRY;
  if (!hs->released) {
    /* In microseconds, on a loop with precise timers (ecs_setup): issue 17 measured the floor
     * in whole milliseconds on libevent's coarse clock (4 ms ticks) firing 0.4-4 ms late, the
     * most of the cold path's time above the floor. */
    int64_t left = hs->hello_us + ecs_answer_floor_ms(hs->ew->ecs) * 1000 - kedge_now_us();
    if (left > 0) {
      struct timeval tv = {(time_t)(left / 1000000), (suseconds_t)(left % 1000000)};
      /* from now, not from the pass's cached time (earlier by this pass's work): never early */
      event_base_update_cache_time(hs->ew->base);
      if (evtimer_add(hs->hold, &tv) == 0)
        return SSL_CLIENT_HELLO_RETRY;
    }
    hs->released = true;
  }
  if (hs->key_state == ECS_KEY_FAILED) {
    *al = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

static int client_hello_cb(SSL *ssl, int *al, void *arg)
{
  ecs_hs_t *hs = SSL_get_app_data(ssl);
  const ecs_t *ecs = arg;
  const unsigned char *ext = NULL;
  size_t len = 0;
  if (!hs) {
    *al = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  if (!hs->hello_seen) {
    /* sbi.limits.hello_timeout met: from now on the whole handshake_timeout applies */
    hs->hello_seen = true;
    hs->hello_us = kedge_now_us();
    int64_t left = hs->accepted_ms + ecs->handshake_timeout_ms - hs->hello_us / 1000;
    if (left < 1)
      left = 1;
    struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
    evtimer_add(hs->timer, &tv);
  }
  /* Issue 12: what can never complete costs no fetch. No TLS 1.3 in supported_versions
   * (RFC 8446 4.2.1): OpenSSL answers protocol_version; no SHA-256 suite (SPEC.md 4):
   * handshake_failure. */
  const unsigned char *suites = NULL;
  size_t n_suites = SSL_client_hello_get0_ciphers(ssl, &suites);
  bool tls13 = SSL_client_hello_get0_ext(ssl, ECS_TLSEXT_SUPPORTED_VERSIONS, &ext, &len) == 1 &&
               ecs_hello_offers_tls13(ext, len);
  /* RFC 8446 4.2.9: psk_dhe_ke always; psk_ke (no forward secrecy) only when configured
   * (SPEC.md 4). Without a usable mode OpenSSL ignores the PSK; no fetch is worth it. */
  unsigned modes = 0;
  if (SSL_client_hello_get0_ext(ssl, ECS_TLSEXT_PSK_KEX_MODES, &ext, &len) == 1)
    ecs_psk_kex_modes_parse(ext, len, &modes);
  bool usable = (modes & ECS_PSK_DHE_KE) || (ecs->allow_psk_ke && (modes & ECS_PSK_KE));
  ecs_psk_offer_t offer;
  if (!tls13 || !ecs_hello_offers_sha256_suite(suites, n_suites) || !usable ||
      SSL_client_hello_get0_ext(ssl, ECS_TLSEXT_PRE_SHARED_KEY, &ext, &len) != 1 ||
      ecs_psk_offer_parse(ext, len, &offer) != KEDGE_OK) {
    /* No PSK to check: without a certificate the handshake fails (handshake_failure), or
     * OpenSSL rejects the malformed extension itself (decode_error). */
    hs->no_psk = true;
    return SSL_CLIENT_HELLO_SUCCESS;
  }
  hs->no_psk = false;
  const ecs_psk_identity_t *id = &offer.identities[ecs_psk_offer_choose(&offer)];

  /* the key has arrived, the floor has passed, or a second ClientHello after
   * HelloRetryRequest */
  if (same_identity(hs, id->data, id->len))
    return answer(hs, al);
  /* A new identity (first ClientHello, or a second one naming another: start over). */
  ecs_key_waiter_cancel(&hs->waiter);
  hs->released = false;
  hs->id_len = id->len;
  memcpy(hs->id, id->data, id->len < KEDGE_ID_MAX ? id->len : KEDGE_ID_MAX);
  hs->id[id->len < KEDGE_ID_MAX ? id->len : KEDGE_ID_MAX] = '\0';
  kedge_id_t parsed;
  if (kedge_id_parse((const char *)id->data, id->len, &parsed, NULL) != KEDGE_OK) {
    /* SPEC.md 4: the strict parser first; malformed -> dummy key, no fetch */
    kedge_counter_add(hs->ew->ecs->m_lookup[ECS_LOOKUP_MALFORMED], 1);
    take_verdict(hs, ECS_KEY_UNKNOWN, NULL);
    return answer(hs, al);
  }
  take_verdict(hs,
               ecs_key_lookup(hs->ew, hs->id, hs->id_len, &parsed,
                              hs->has_peer ? (const struct sockaddr *)&hs->peer : NULL, &hs->waiter,
                              hs->key),
               NULL);
  return answer(hs, al);
}

/* RFC 8446 4.2.11: called per offered identity; the session carries the PSK. */
static int psk_find_session_cb(SSL *ssl, const unsigned char *identity, size_t identity_len,
                               SSL_SESSION **sess)
{
  ecs_hs_t *hs = SSL_get_app_data(ssl);
  *sess = NULL;
  if (!hs || !ecs_key_state_has_key(hs->key_state) || !same_identity(hs, identity, identity_len))
    return 1; /* not this identity: OpenSSL tries the next one */
  const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, tls_aes_128_gcm_sha256);
  SSL_SESSION *s = SSL_SESSION_new();
  if (!cipher || !s || SSL_SESSION_set1_master_key(s, hs->key, sizeof(hs->key)) != 1 ||
      SSL_SESSION_set_cipher(s, cipher) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return 0; /* fatal: internal_error */
  }
  hs->psk_used = true;
  *sess = s;
  return 1;
}

SSL_CTX *ecs_tls_ctx_new(const ecs_t *ecs)
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  kedge_tls_keylog_enable(ctx); /* SSLKEYLOGFILE, for captures of test beds */
  if (!ctx)
    return NULL;
  /* SPEC.md 4: TLS 1.3 only; SHA-256 suites; psk_dhe_ke over X25519 then P-256; no 0-RTT,
   * no tickets (every connection is a full PSK handshake against a key the ECS holds for at
   * most key_cache_ttl), no certificate. */
  uint64_t options = SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                     SSL_OP_NO_COMPRESSION;
  if (ecs->allow_psk_ke)
    options |= SSL_OP_ALLOW_NO_DHE_KEX;
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256") != 1 ||
      SSL_CTX_set1_groups_list(ctx, "X25519:P-256") != 1 ||
      SSL_CTX_set_max_early_data(ctx, 0) != 1 || SSL_CTX_set_num_tickets(ctx, 0) != 1) {
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  /* the SBI runtime writes with these modes once it has adopted the connection */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  /* as lib/sbi/tls.c: one read(2) for what the socket holds; the runtime drains SSL_read, and
   * what the handshake read ahead (the client's HTTP/2 preface) is read at adoption */
  SSL_CTX_set_read_ahead(ctx, 1);
  SSL_CTX_set_client_hello_cb(ctx, client_hello_cb, (void *)ecs);
  SSL_CTX_set_psk_find_session_callback(ctx, psk_find_session_cb);
  SSL_CTX_set_alpn_select_cb(ctx, kedge_tls_alpn_select_h2, NULL); /* RFC 9113 3.2: h2 only */
  return ctx;
}

/* ---- connection life ---- */

/* Handshake state is pooled per worker (issue 17): a connection's ecs_hs_t and its four
 * events are kept for the next one (at most ECS_HS_POOL_MAX), so a handshake costs no
 * calloc/free and no event_new/event_free; the read and write events are re-bound to the new
 * socket with event_assign(). */
#define ECS_HS_POOL_MAX 256

static void hs_destroy(ecs_hs_t *hs)
{
  /* libevent 2.1.12's event_free(NULL) crashes: free what exists */
  if (hs->rev)
    event_free(hs->rev);
  if (hs->wev)
    event_free(hs->wev);
  if (hs->timer)
    event_free(hs->timer);
  if (hs->hold)
    event_free(hs->hold);
  free(hs);
}

/* Ends a handshake: out of the budget, events off, the key wiped, the state back to the pool
 * (or freed). ecs_accept() may call it on a half-built handshake (out of memory). */
static void hs_free(ecs_hs_t *hs, bool close_conn)
{
  ecs_worker_t *ew = hs->ew;
  ecs_key_waiter_cancel(&hs->waiter);
  if (hs->node.linked) {
    kedge_conn_budget_remove(&ew->hs_budget, &hs->node);
    kedge_gauge_add(ew->ecs->m_handshakes, -1);
  }
  /* events off before the socket closes (an epoll_ctl on a closed socket fails) */
  struct event *evs[] = {hs->rev, hs->wev, hs->timer, hs->hold};
  bool complete = true;
  for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
    if (evs[i])
      event_del(evs[i]);
    else
      complete = false;
  }
  if (close_conn) {
    SSL_free(hs->ssl);
    evutil_closesocket(hs->fd);
  }
  hs->ssl = NULL;
  OPENSSL_cleanse(hs->key, sizeof(hs->key));
  if (!complete || ew->n_hs_pool >= ECS_HS_POOL_MAX) {
    hs_destroy(hs);
    return;
  }
  hs->pool_next = ew->hs_pool;
  ew->hs_pool = hs;
  ew->n_hs_pool++;
}

/* A handshake's state for `fd`: from the pool, or new; NULL when out of memory. */
static ecs_hs_t *hs_get(ecs_worker_t *ew, evutil_socket_t fd)
{
  ecs_hs_t *hs = ew->hs_pool;
  if (hs) {
    ew->hs_pool = hs->pool_next;
    ew->n_hs_pool--;
    struct event *rev = hs->rev, *wev = hs->wev, *timer = hs->timer, *hold = hs->hold;
    memset(hs, 0, sizeof(*hs));
    hs->rev = rev;
    hs->wev = wev;
    hs->timer = timer;
    hs->hold = hold;
    event_assign(hs->rev, ew->base, fd, EV_READ | EV_PERSIST, hs_io_cb, hs);
    event_assign(hs->wev, ew->base, fd, EV_WRITE, hs_io_cb, hs);
  } else if ((hs = calloc(1, sizeof(*hs)))) {
    hs->rev = event_new(ew->base, fd, EV_READ | EV_PERSIST, hs_io_cb, hs);
    hs->wev = event_new(ew->base, fd, EV_WRITE, hs_io_cb, hs);
    hs->timer = evtimer_new(ew->base, hs_timeout_cb, hs);
    hs->hold = evtimer_new(ew->base, hold_cb, hs);
  }
  if (hs) {
    hs->ew = ew;
    hs->fd = fd;
    hs->waiter.done = key_done;
  }
  return hs;
}

static void hs_fail(ecs_hs_t *hs, ecs_outcome_t outcome)
{
  ecs_count_outcome(hs->ew->ecs, outcome);
  kedge_sbi_worker_count_handshake_failure(hs->ew->worker);
  if (kedge_log_enabled(KEDGE_LOG_DEBUG)) {
    char buf[256] = "";
    if (ERR_peek_last_error())
      ERR_error_string_n(ERR_peek_last_error(), buf, sizeof(buf));
    kedge_log_debug("PSK handshake failed: %s %s", ecs_outcome_name(outcome), buf);
  }
  ERR_clear_error();
  hs_free(hs, true);
}

static ecs_outcome_t failure_outcome(const ecs_hs_t *hs)
{
  unsigned long e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_BINDER_DOES_NOT_VERIFY)
    return hs->key_state == ECS_KEY_UNKNOWN   ? ECS_OUTCOME_UNKNOWN_IDENTITY
           : hs->key_state == ECS_KEY_LIMITED ? ECS_OUTCOME_RATE_LIMITED
                                              : ECS_OUTCOME_BAD_BINDER;
  if (hs->key_state == ECS_KEY_FAILED)
    return ECS_OUTCOME_KEY_SOURCE_ERROR;
  if (hs->no_psk || (!hs->psk_used && hs->key_state == ECS_KEY_NONE))
    return ECS_OUTCOME_NO_PSK;
  return ECS_OUTCOME_FAILED;
}

/* The handshake is done: the connection goes to HTTP/2 with the Kedge ID as its identity
 * (the first identity of the connection, SPEC.md 4) and its binding token. */
static void hs_established(ecs_hs_t *hs)
{
  const unsigned char *proto = NULL;
  unsigned int proto_len = 0;
  SSL_get0_alpn_selected(hs->ssl, &proto, &proto_len);
  if (proto_len != 2 || memcmp(proto, "h2", 2) != 0) {
    hs_fail(hs, ECS_OUTCOME_NO_ALPN);
    return;
  }
  if (!hs->psk_used || hs->key_state != ECS_KEY_FOUND) {
    hs_fail(hs, ECS_OUTCOME_FAILED); /* cannot happen without a certificate; never adopt it */
    return;
  }
  char token[ECS_CONN_TOKEN_MAX];
  if (ecs_conn_binding_new(hs->ssl, token) != KEDGE_OK) {
    hs_fail(hs, ECS_OUTCOME_FAILED);
    return;
  }
  ecs_worker_t *ew = hs->ew;
  SSL *ssl = hs->ssl;
  evutil_socket_t fd = hs->fd;
  char id[KEDGE_ID_MAX + 1];
  memcpy(id, hs->id, sizeof(id));
  const char *identities[2] = {id, token};
  SSL_set_app_data(ssl, NULL);
  ecs_binder_alert_detach(ssl);
  /* Adopted first, then the handshake's events go: libevent sees the socket's read interest
   * pass from one event to the other and makes no epoll_ctl(2) for either. */
  kedge_err_t err = kedge_sbi_worker_adopt(ew->worker, ssl, fd, identities, 2);
  hs_free(hs, false);
  ecs_count_outcome(ew->ecs, err ? ECS_OUTCOME_BUSY : ECS_OUTCOME_SUCCESS);
  if (err)
    kedge_log_debug("PSK handshake done but the connection was refused: %s", kedge_strerror(err));
}

static void hs_step(ecs_hs_t *hs)
{
  hs->paused = false;
  ERR_clear_error();
  int rv = SSL_do_handshake(hs->ssl);
  if (rv == 1) {
    hs_established(hs);
    return;
  }
  switch (SSL_get_error(hs->ssl, rv)) {
  case SSL_ERROR_WANT_READ:
    event_add(hs->rev, NULL);
    return;
  case SSL_ERROR_WANT_WRITE:
    event_add(hs->wev, NULL);
    return;
  case SSL_ERROR_WANT_CLIENT_HELLO_CB:
    /* paused until the key arrives or the floor passes. The read event stays armed: a client
     * sends nothing more until the server's flight, so leaving it costs nothing, where
     * removing and re-adding it cost two epoll_ctl(2) per handshake. Should the socket become
     * readable meanwhile (more data, EOF), hs_io_cb() removes it then, lest it spin. */
    hs->paused = true;
    event_del(hs->wev);
    return;
  default:
    hs_fail(hs, failure_outcome(hs));
  }
}

static void hs_io_cb(evutil_socket_t fd, short what, void *arg)
{
  ecs_hs_t *hs = arg;
  if (hs->paused) {
    event_del(hs->rev); /* hs_step() adds it again when OpenSSL wants to read */
    return;
  }
  hs_step(hs);
}

static void hs_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
  ecs_hs_t *hs = arg;
  if (!hs->hello_seen)
    kedge_log_debug("no ClientHello within sbi.limits.hello_timeout");
  hs_fail(hs, ECS_OUTCOME_TIMEOUT);
}

/* The answer floor has passed: SSL_do_handshake again, the ClientHello callback decides. */
static void hold_cb(evutil_socket_t fd, short what, void *arg)
{
  ecs_hs_t *hs = arg;
  hs->released = true;
  hs_step(hs);
}

static void key_done(ecs_key_waiter_t *waiter, ecs_key_state_t state,
                     const uint8_t key[KEDGE_KEY_LEN])
{
  ecs_hs_t *hs = kedge_container_of(waiter, ecs_hs_t, waiter);
  take_verdict(hs, state, key);
  hs_step(hs); /* SSL_do_handshake again: the ClientHello callback now decides */
}

void ecs_accept(kedge_sbi_worker_t *worker, evutil_socket_t fd, const struct sockaddr *peer,
                int peer_len, void *arg)
{
  ecs_t *ecs = arg;
  ecs_worker_t *ew = ecs_worker_get(worker);
  if (!ew) {
    ecs_count_outcome(ecs, ECS_OUTCOME_BUSY);
    evutil_closesocket(fd);
    return;
  }
  /* Issue 12: room for the newcomer is made by shedding the oldest handshake (of its address
   * first); adopted (authenticated) connections are not in this budget. */
  kedge_conn_node_t *victim;
  while ((victim = kedge_conn_budget_victim(&ew->hs_budget, peer))) {
    kedge_sbi_worker_count_handshake_shed(worker);
    hs_fail(kedge_container_of(victim, ecs_hs_t, node), ECS_OUTCOME_BUSY);
  }
  /* TCP_NODELAY: inherited from the SBI runtime's listening socket */
  /* Build every part, then link it in (as lib/sbi/h2.c does); on failure free what exists. */
  ecs_hs_t *hs = hs_get(ew, fd);
  if (!hs) {
    evutil_closesocket(fd);
    return;
  }
  if (peer && peer_len > 0 && (size_t)peer_len <= sizeof(hs->peer)) {
    memcpy(&hs->peer, peer, (size_t)peer_len);
    hs->has_peer = true;
  }
  hs->ssl = SSL_new(ecs->ssl_ctx);
  if (!hs->ssl || !hs->rev || !hs->wev || !hs->timer || !hs->hold ||
      ecs_binder_alert_attach(hs->ssl, (int)fd) != KEDGE_OK) {
    ERR_clear_error();
    hs_free(hs, true);
    return;
  }
  kedge_conn_budget_add(&ew->hs_budget, &hs->node, hs->has_peer ? peer : NULL);
  kedge_gauge_add(ecs->m_handshakes, 1);
  SSL_set_accept_state(hs->ssl);
  SSL_set_app_data(hs->ssl, hs);
  hs->accepted_ms = kedge_now_ms();
  /* first the ClientHello's deadline (client_hello_cb then extends it) */
  const kedge_sbi_limits_t *lim = kedge_sbi_worker_limits(worker);
  unsigned first = lim->hello_timeout_ms < ecs->handshake_timeout_ms ? lim->hello_timeout_ms
                                                                     : ecs->handshake_timeout_ms;
  struct timeval tv = {first / 1000, (first % 1000) * 1000};
  evtimer_add(hs->timer, &tv);
  event_add(hs->rev, NULL);
}

void ecs_handshakes_free(ecs_worker_t *ew)
{
  kedge_conn_node_t *oldest;
  while ((oldest = kedge_conn_budget_oldest(&ew->hs_budget)))
    hs_free(kedge_container_of(oldest, ecs_hs_t, node), true);
  while (ew->hs_pool) {
    ecs_hs_t *hs = ew->hs_pool;
    ew->hs_pool = hs->pool_next;
    hs_destroy(hs);
  }
  ew->n_hs_pool = 0;
}
