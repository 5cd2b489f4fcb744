/* The SBI server runtime every kedge daemon is built from: HTTP/2 (RFC 9113) over TLS
 * (RFC 8446; TLS 1.2 only when configured), JSON bodies, ProblemDetails errors (TS 29.500
 * 5.2.7), limits, metrics and graceful shutdown. Design notes: docs/sbi.md.
 *
 * Threads: `workers` threads, each with its own libevent loop, accepting from one listening
 * socket (bound without SO_REUSEPORT: a second process on the port gets EADDRINUSE). Handlers run
 * on the worker thread that owns the connection and must never block; they may answer before
 * returning or later (after an async call), but always on that worker's thread
 * (kedge_sbi_request_base()).
 *
 * Request life time: the runtime hands each request to at most one handler. The handler owns
 * the request until it calls one kedge_sbi_respond*() function exactly once; answering is what
 * releases it. If the peer resets the stream or the connection dies first, the cancel callback
 * (if set) runs on the worker thread and kedge_sbi_request_gone() becomes true; the request
 * stays valid and the handler must still call a respond function, which then only frees it
 * (returning KEDGE_ERR_UNAVAILABLE). Answering from inside the cancel callback is allowed. */
#ifndef KEDGE_SBI_SERVER_H
#define KEDGE_SBI_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/util.h>
#include <jansson.h>
#include <openssl/ssl.h>

#include "kedge/error.h"
#include "kedge/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KEDGE_SBI_JSON     "application/json"
#define KEDGE_SBI_HAL_JSON "application/3gppHal+json"

typedef struct kedge_sbi_server kedge_sbi_server_t;
typedef struct kedge_sbi_worker kedge_sbi_worker_t;
typedef struct kedge_sbi_request kedge_sbi_request_t;

/* Client certificate verification (TS 33.210 / TS 33.501 13.1: mutual TLS on the SBI). */
typedef enum kedge_sbi_verify {
  KEDGE_SBI_VERIFY_OFF = 0,  /* no certificate requested */
  KEDGE_SBI_VERIFY_OPTIONAL, /* requested; verified against ca_file when sent */
  KEDGE_SBI_VERIFY_REQUIRED, /* handshake fails without a certificate from ca_file's CAs */
} kedge_sbi_verify_t;

/* SPEC.md 7: how the SBI is carried (sbi.transport; docs/oauth2.md "Transport modes"). */
typedef enum kedge_sbi_transport {
  KEDGE_SBI_TRANSPORT_TLS_MUTUAL = 0, /* TLS with client certificates (TS 33.501 13.1) */
  KEDGE_SBI_TRANSPORT_TLS_SERVER,     /* server certificate only; the caller is known by its
                                         OAuth2 token (oauth2.required) */
  KEDGE_SBI_TRANSPORT_H2C,            /* HTTP/2 with prior knowledge, no TLS (RFC 9113 3.3):
                                         the AKA services in a lab only, never key material */
} kedge_sbi_transport_t;

/* "tls-mutual", "tls-server", "h2c" */
const char *kedge_sbi_transport_name(kedge_sbi_transport_t t);

/* Exceeding a limit costs the offender its request or its connection, never the process. */
typedef struct kedge_sbi_limits {
  size_t max_body;                     /* request body octets; beyond: 413 (default 64 KiB) */
  size_t max_header_list;              /* RFC 9113 6.5.2 SETTINGS_MAX_HEADER_LIST_SIZE; beyond: 431
                                          (default 16 KiB) */
  uint32_t max_streams;                /* SETTINGS_MAX_CONCURRENT_STREAMS (default 128) */
  unsigned max_connections;            /* established (HTTP/2) per worker; beyond: closed once the
                                          handshake is done (default 1024) */
  unsigned max_handshakes;             /* handshaking per worker; beyond: the oldest of them is shed
                                          (default 1024; kedge/conn_budget.h) */
  unsigned max_handshakes_per_address; /* of them from one IPv4 address or IPv6 /64; beyond:
                                     that address's oldest is shed (default 128; 0: no cap) */
  unsigned idle_timeout_ms;            /* no open stream and no traffic: GOAWAY (default 60 s) */
  unsigned hello_timeout_ms;           /* the ClientHello must have arrived by then (default 2 s) */
  unsigned handshake_timeout_ms;       /* TLS handshake must finish in time (default 10 s) */
  unsigned shutdown_grace_ms; /* in-flight requests get this long at shutdown (default 10 s) */
} kedge_sbi_limits_t;

/* OAuth2 on the producer side (TS 33.501 13.4.1, TS 29.500 6.7.3): the `oauth2:` section of a
 * daemon's file (docs/oauth2.md). */
typedef struct kedge_sbi_oauth2_config {
  bool required;          /* every routed request needs a valid access token */
  const char *jwks_file;  /* the NRF's public key(s) as a JWK Set (RFC 7517 5) */
  const char *issuer;     /* NULL: "iss" not checked; else the NRF's nfInstanceId */
  bool check_subject;     /* "sub" must name the consumer: the urn:uuid SAN of its client
                             certificate when mutual TLS carries one (default true) */
  unsigned clock_skew_ms; /* leeway for exp, nbf and iat (default 30 s) */
  const char *realm;      /* WWW-Authenticate realm (default: the server's name) */
  /* consumer side (kedge_sbi_client_set_oauth2) */
  const char *token_uri;    /* https://<nrf>/oauth2/token; NULL: requests carry no token */
  unsigned token_margin_ms; /* a token is dropped this long before it expires (default 10 s) */
} kedge_sbi_oauth2_config_t;

typedef struct kedge_sbi_server_config {
  const char *name;                /* service name for logs ("ausf"); default "sbi" */
  const char *address;             /* listen address, default "127.0.0.1" */
  uint16_t port;                   /* 0: the kernel picks; see kedge_sbi_server_port() */
  const char *cert_file;           /* PEM chain, leaf first; required unless an accept hook */
  const char *key_file;            /* PEM private key */
  const char *ca_file;             /* PEM CA bundle for client certificates */
  kedge_sbi_verify_t verify;       /* default REQUIRED */
  kedge_sbi_transport_t transport; /* default tls-mutual; tls-server turns verify OFF, h2c
                                      needs no certificate */
  bool tls12_allowed;              /* default false: TLS 1.3 only */
  unsigned workers;                /* threads, default 1 */
  kedge_sbi_limits_t limits;
  bool metrics_enabled;             /* default true */
  const char *metrics_address;      /* default "127.0.0.1" */
  uint16_t metrics_port;            /* 0: the kernel picks */
  kedge_sbi_oauth2_config_t oauth2; /* off by default */
  bool handle_signals;              /* default true: SIGTERM/SIGINT stop run(). false for a
                                       second server of a process (libevent delivers a signal
                                       to one event_base only), which is never run() and stops
                                       at kedge_sbi_server_free() */
} kedge_sbi_server_config_t;

/* Fills every field with its default. */
void kedge_sbi_server_config_defaults(kedge_sbi_server_config_t *cfg);

/* Reads the common SBI keys of a daemon's YAML file (kedge/config.h) from the map `sbi` into
 * `cfg` (which holds the defaults or the daemon's own): address, port, workers, transport,
 * tls.{cert,key,ca,client_verification (off|optional|required),tls12},
 * limits.{max_body,max_header_list (sizes), max_streams, max_connections,
 * idle_timeout,handshake_timeout,shutdown_grace (durations)},
 * metrics.{enabled,address,port}. Strings point into the config tree (copied by
 * kedge_sbi_server_new()). KEDGE_ERR_CONFIG after recording the problem in the tree. */
struct kedge_config_node;
kedge_err_t kedge_sbi_server_config_read(struct kedge_config_node *sbi,
                                         kedge_sbi_server_config_t *cfg);

/* When the environment variable SSLKEYLOGFILE names a file, TLS session secrets of `ctx` are
 * appended to it (NSS key log format) for Wireshark/tshark; otherwise nothing. Test beds only
 * (`kedge demo --keylog`). The SBI server enables it on its own contexts. */
void kedge_tls_keylog_enable(SSL_CTX *ctx);

/* The one ALPN callback of kedge's TLS servers (SSL_CTX_set_alpn_select_cb): "h2" or, when the
 * client does not offer it, the no_application_protocol alert (RFC 7301 3.2, RFC 9113 3.2). */
int kedge_tls_alpn_select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                             const unsigned char *in, unsigned int inlen, void *arg);

/* ---- server life cycle (main thread) ---- */

/* Copies the configuration; loads certificate, key and CA (KEDGE_ERR_CONFIG with one log line
 * naming the file on failure). Nothing listens yet. */
kedge_err_t kedge_sbi_server_new(const kedge_sbi_server_config_t *cfg, kedge_sbi_server_t **out);

typedef void (*kedge_sbi_handler_fn)(kedge_sbi_request_t *req, void *arg);

/* Registers a handler for a method and a path pattern: literal segments and {name} segments
 * ("/nausf-auth/v1/ue-authentications/{authCtxId}/5g-aka-confirmation"). Literal segments win
 * over variables. The request body must be `media_type` (NULL: application/json), else 415.
 * Before kedge_sbi_server_start() only. */
kedge_err_t kedge_sbi_server_route(kedge_sbi_server_t *srv, const char *method, const char *pattern,
                                   const char *media_type, kedge_sbi_handler_fn handler, void *arg);

/* Names the TS 29.510 service of the route registered last (kedge_sbi_server_route), whose
 * OAuth2 scope a token must carry, where it is not the path's apiName: the kedge key service
 * under /nausf-auth/v1 is "nausf-kedge" (SPEC.md 7). NULL: no token checked on that route
 * (notification callbacks). Before start only. */
kedge_err_t kedge_sbi_server_route_service(kedge_sbi_server_t *srv, const char *service);

/* The route registered last takes a body that is an object of `members`
 * (kedge/json_check.h; at most KEDGE_JSON_FLAT_MAX members, a string's `check` run on its
 * value; borrowed: give a static table): such a body is read in place without a jansson tree
 * when it holds only string and boolean members and nothing in them needs decoding
 * (kedge_json_flat_read), else as any JSON body. Its handler reads the strings (a boolean as
 * "true" or "false") with kedge_sbi_request_strings(), and the members of other kinds from
 * kedge_sbi_request_json(), which is NULL for a body read flat (none of them was present).
 * KEDGE_ERR_INVALID_ARG for another table. Before start only.
 * This is lib/sbi's one way for a route to take its body without a jansson tree, and
 * kedge_json_flat_read lib/json's one in-place reader (issue 17): a route that wants more
 * extends these, never a second mechanism or a reader of one peer's exact serialization. */
struct kedge_json_member;
kedge_err_t kedge_sbi_server_route_strings(kedge_sbi_server_t *srv,
                                           const struct kedge_json_member *members);

/* Reads the top-level `oauth2:` section (required, jwks_file, issuer, check_subject,
 * clock_skew, realm; token_uri, token_margin for the consumer side) into cfg->oauth2.
 * KEDGE_ERR_CONFIG after recording the problem. */
kedge_err_t kedge_sbi_oauth2_config_read(struct kedge_config_node *root,
                                         kedge_sbi_server_config_t *cfg);

/* Who this producer is for "aud" (TS 29.510 6.3.5.2.4: its NF type or nfInstanceId); both
 * copied. Required before start when oauth2.required. */
kedge_err_t kedge_sbi_server_set_oauth2_audience(kedge_sbi_server_t *srv, const char *nf_type,
                                                 const char *nf_instance_id);

/* Worker loops with libevent's precise timers (EVENT_BASE_FLAG_PRECISE_TIMER: CLOCK_MONOTONIC
 * and a timerfd, one timerfd_settime(2) per loop pass) instead of its default coarse clock,
 * whose resolution is the kernel tick (4 ms on Debian 12's kernels): a timer then fires up to a
 * tick late. For a service whose timers are promises in milliseconds (the ECS's answer
 * floor, issue 12). Before start only. */
kedge_err_t kedge_sbi_server_set_precise_timers(kedge_sbi_server_t *srv, bool on);

/* Replaces the runtime's own TLS accept path (for the ECS: TLS 1.3 PSK handshakes it drives
 * itself). Called on the worker thread with a new non-blocking socket that the hook owns; when
 * its handshake is done it calls kedge_sbi_worker_adopt(). Before start only. */
typedef void (*kedge_sbi_accept_fn)(kedge_sbi_worker_t *worker, evutil_socket_t fd,
                                    const struct sockaddr *peer, int peer_len, void *arg);
kedge_err_t kedge_sbi_server_set_accept_hook(kedge_sbi_server_t *srv, kedge_sbi_accept_fn fn,
                                             void *arg);

/* Per-worker state of the service (an SBI client, a key store handle bound to the worker's
 * loop): `init` runs for each worker on the main thread during kedge_sbi_server_start(), after
 * the worker's event_base exists and before its thread runs (a failure makes start fail);
 * `fini` runs in kedge_sbi_server_free() after the worker's loop stopped and its connections
 * were closed (their cancel callbacks have run), before its event_base is freed. */
typedef kedge_err_t (*kedge_sbi_worker_init_fn)(kedge_sbi_worker_t *worker, void *arg);
typedef void (*kedge_sbi_worker_fini_fn)(kedge_sbi_worker_t *worker, void *arg);
kedge_err_t kedge_sbi_server_set_worker_hooks(kedge_sbi_server_t *srv,
                                              kedge_sbi_worker_init_fn init,
                                              kedge_sbi_worker_fini_fn fini, void *arg);

/* Binds the SBI port (one socket shared by the workers) and the metrics listener, starts the
 * worker threads and logs one line naming what listens where. */
kedge_err_t kedge_sbi_server_start(kedge_sbi_server_t *srv);

/* Reload and shutdown hooks (main thread; before start). `reload` runs on SIGHUP (without it
 * SIGHUP is logged and ignored: it never kills the daemon); `stopping` when the drain begins
 * (SIGTERM, SIGINT or kedge_sbi_server_stop()). */
typedef void (*kedge_sbi_reload_fn)(kedge_sbi_server_t *srv, void *arg);
typedef void (*kedge_sbi_stopping_fn)(kedge_sbi_server_t *srv, void *arg);
kedge_err_t kedge_sbi_server_set_lifecycle_hooks(kedge_sbi_server_t *srv,
                                                 kedge_sbi_reload_fn reload,
                                                 kedge_sbi_stopping_fn stopping, void *arg);

/* Loads `next`'s certificate chain, key, CA file, client verification and TLS 1.2 setting into
 * a new TLS context and makes it the one new connections get; established connections and
 * their requests keep theirs. On failure (KEDGE_ERR_CONFIG, with one line naming the file in
 * `why`) the old context stays. The other fields of `next` (address, port, workers, limits) need a
 * restart and are not looked at. Main thread. */
kedge_err_t kedge_sbi_server_reload_tls(kedge_sbi_server_t *srv,
                                        const kedge_sbi_server_config_t *next, char *why,
                                        size_t why_size);

/* Parks every worker between two callbacks of its loop (no handler runs; connections and
 * requests stay as they are) and returns when all are parked, so that the main thread may
 * change state the handlers read (a reload's allow-lists and tables); resume() lets them go
 * on. Main thread, after start, never while stopping. */
void kedge_sbi_server_pause(kedge_sbi_server_t *srv);
void kedge_sbi_server_resume(kedge_sbi_server_t *srv);

/* The bound ports (after start). */
/* The apiRoot of this server for Location headers and links (TS 29.501 4.4.1): `configured`
 * when not NULL, else https://<sbi.address>:<bound port>. A configured one (udm.api_root,
 * ausf.api_root) is refused at load past KEDGE_SBI_API_ROOT_MAX octets, so that it fits `out`
 * of KEDGE_SBI_API_ROOT_MAX + 1 whole (a cut apiRoot would make every Location wrong). */
#define KEDGE_SBI_API_ROOT_MAX 299
void kedge_sbi_server_api_root(const kedge_sbi_server_t *srv, const char *configured, char *out,
                               size_t size);
/* The same without a copy: `configured` itself, or the server's own, built once when it bound
 * its port (so only after start: sbi.port 0 is known then). Valid while `configured` and the
 * server live (a reload keeps both: udm.api_root, ausf.api_root). */
const char *kedge_sbi_server_api_root_cached(const kedge_sbi_server_t *srv, const char *configured);
uint16_t kedge_sbi_server_port(const kedge_sbi_server_t *srv);
uint16_t kedge_sbi_server_metrics_port(const kedge_sbi_server_t *srv);

/* The main loop (signals SIGTERM/SIGINT, the metrics listener). Runs until a signal or
 * kedge_sbi_server_stop(); then stops accepting, lets in-flight requests finish within
 * shutdown_grace_ms, joins the workers and returns KEDGE_OK. */
kedge_err_t kedge_sbi_server_run(kedge_sbi_server_t *srv);

/* Asks run() to shut down as on SIGTERM; safe from any thread. */
void kedge_sbi_server_stop(kedge_sbi_server_t *srv);

/* The main thread's loop (for timers of the daemon itself), valid after new(). */
struct event_base *kedge_sbi_server_base(kedge_sbi_server_t *srv);

/* The registry behind GET /metrics; daemons add their own counters to it. */
kedge_metrics_t *kedge_sbi_server_metrics(kedge_sbi_server_t *srv);

/* After run() returned (or if start() was never called). */
void kedge_sbi_server_free(kedge_sbi_server_t *srv);

/* ---- workers (worker thread) ---- */

struct event_base *kedge_sbi_worker_base(kedge_sbi_worker_t *worker);
unsigned kedge_sbi_worker_index(const kedge_sbi_worker_t *worker);
void kedge_sbi_worker_set_data(kedge_sbi_worker_t *worker, void *data);
void *kedge_sbi_worker_data(const kedge_sbi_worker_t *worker);
kedge_sbi_server_t *kedge_sbi_worker_server(kedge_sbi_worker_t *worker);

/* Runs HTTP/2 on an established TLS connection (ALPN h2 negotiated). Takes ownership of `ssl`
 * and `fd` in every case (closes them on error). `identities` (may be NULL/0) is the peer
 * identity the caller decided (SAN DNS names, or the Kedge ID for the ECS); copied. Call on
 * the worker's thread. KEDGE_ERR_BUSY past max_connections or while shutting down. */
kedge_err_t kedge_sbi_worker_adopt(kedge_sbi_worker_t *worker, SSL *ssl, evutil_socket_t fd,
                                   const char *const *identities, size_t n_identities);

/* Ends the HTTP/2 connections whose peer identity (a SAN DNS name, or what an adopter set:
 * the ECS's Kedge ID) is `name`, on every worker. Any thread: the work is posted to each
 * worker's loop and done there shortly after. KEDGE_SBI_CLOSE_NOW sends GOAWAY and closes
 * once it is written (requests in flight are cancelled); KEDGE_SBI_CLOSE_DRAIN sends GOAWAY
 * (RFC 9113 6.8) and closes when the streams already open are done. `closed` (may be NULL)
 * is incremented once per connection found. */
typedef enum kedge_sbi_close { KEDGE_SBI_CLOSE_NOW, KEDGE_SBI_CLOSE_DRAIN } kedge_sbi_close_t;
kedge_err_t kedge_sbi_server_close_peer(kedge_sbi_server_t *srv, const char *name,
                                        kedge_sbi_close_t how, kedge_counter_t *closed);

/* Counts a failed TLS handshake in the metrics (for accept hooks). */
void kedge_sbi_worker_count_handshake_failure(kedge_sbi_worker_t *worker);
/* Counts a handshaking connection shed for a newer one (for accept hooks). */
void kedge_sbi_worker_count_handshake_shed(kedge_sbi_worker_t *worker);
/* The server's limits (for accept hooks that run their own handshakes). */
const kedge_sbi_limits_t *kedge_sbi_worker_limits(const kedge_sbi_worker_t *worker);

/* ---- request (handler, worker thread) ---- */

const char *kedge_sbi_request_method(const kedge_sbi_request_t *req);
const char *kedge_sbi_request_path(const kedge_sbi_request_t *req);  /* without query */
const char *kedge_sbi_request_query(const kedge_sbi_request_t *req); /* after '?', or NULL */
const char *kedge_sbi_request_route(const kedge_sbi_request_t *req); /* matched pattern */
/* A {name} path variable, percent-decoded; NULL if the pattern has none of that name. */
const char *kedge_sbi_request_var(const kedge_sbi_request_t *req, const char *name);
/* A request header by lower-case name (the first one), or NULL. */
const char *kedge_sbi_request_header(const kedge_sbi_request_t *req, const char *name);
/* The parsed body (borrowed; NULL when there is no body). */
json_t *kedge_sbi_request_json(const kedge_sbi_request_t *req);
/* The raw body octets (NULL and 0 when none). */
const uint8_t *kedge_sbi_request_body(const kedge_sbi_request_t *req, size_t *len);
/* Peer identity: SAN DNS names of the verified client certificate, or what the adopter set. */
size_t kedge_sbi_request_peer_count(const kedge_sbi_request_t *req);
const char *kedge_sbi_request_peer(const kedge_sbi_request_t *req, size_t i);
bool kedge_sbi_request_peer_is(const kedge_sbi_request_t *req, const char *name);

struct event_base *kedge_sbi_request_base(const kedge_sbi_request_t *req);
kedge_sbi_worker_t *kedge_sbi_request_worker(const kedge_sbi_request_t *req);

/* True once the stream or connection is gone; answering then only frees the request. */
bool kedge_sbi_request_gone(const kedge_sbi_request_t *req);
typedef void (*kedge_sbi_cancel_fn)(kedge_sbi_request_t *req, void *arg);
void kedge_sbi_request_on_cancel(kedge_sbi_request_t *req, kedge_sbi_cancel_fn fn, void *arg);

/* The request's JSON body checked against `members` (kedge/json_check.h): the body when it
 * passes; otherwise NULL after answering 400 with a ProblemDetails (cause MANDATORY_IE_MISSING
 * when only required members are missing, else MANDATORY_IE_INCORRECT, with invalidParams and
 * the detail "invalid <type_name>"), which ends the request. */
struct kedge_json_member;
json_t *kedge_sbi_request_checked_json(kedge_sbi_request_t *req,
                                       const struct kedge_json_member *members,
                                       const char *type_name);

/* The body of a route with kedge_sbi_server_route_strings(), checked against its table:
 * values[i] is the i-th member's string (a boolean's "true" or "false"; NULL when absent or of
 * another kind), valid until the request is answered, and the answer is true. Read flat or through
 * jansson and kedge_json_check alike; a body that does not pass is answered as by
 * kedge_sbi_request_checked_json (400 with ProblemDetails naming `type_name`) and the answer is
 * false, which ends the request. */
bool kedge_sbi_request_strings(kedge_sbi_request_t *req, const char *type_name,
                               const char *values[]);

/* ---- response (exactly one respond call per request) ---- */

/* Adds a response header (Location, Retry-After...); name and value are copied. */
kedge_err_t kedge_sbi_response_header(kedge_sbi_request_t *req, const char *name,
                                      const char *value);

/* JSON body (borrowed; NULL: no body) with `content_type` (NULL: application/json). The
 * serialized body is wiped (OPENSSL_cleanse) once sent or dropped: it may carry keys. */
kedge_err_t kedge_sbi_respond_json(kedge_sbi_request_t *req, int status, const char *content_type,
                                   const json_t *body);

/* Raw body (copied; wiped after sending). */
kedge_err_t kedge_sbi_respond(kedge_sbi_request_t *req, int status, const char *content_type,
                              const void *body, size_t len);

/* ProblemDetails (application/problem+json) with `cause` (TS 29.500 Table 5.2.7.2-1 or the
 * service's own table) and optional detail. */
kedge_err_t kedge_sbi_respond_problem(kedge_sbi_request_t *req, int status, const char *cause,
                                      const char *detail);

/* A ProblemDetails built with kedge/problem.h (e.g. with invalidParams); its `status` member
 * is the HTTP status. Borrowed. */
kedge_err_t kedge_sbi_respond_problem_json(kedge_sbi_request_t *req, const json_t *problem);

/* The one mapping of a library error to status + cause (kedge_problem_from_err). */
kedge_err_t kedge_sbi_respond_err(kedge_sbi_request_t *req, kedge_err_t err, const char *detail);

#ifdef __cplusplus
}
#endif
#endif
