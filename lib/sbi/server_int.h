/* Internal structures shared by the SBI server files: server.c (listeners, workers,
 * shutdown, metrics listener), tls.c (SSL_CTX, handshake, peer identity), h2.c (connection
 * I/O and the nghttp2 session), request.c (request accessors, responses). */
#ifndef KEDGE_SBI_SERVER_INT_H
#define KEDGE_SBI_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>

#include "kedge/buf.h"
#include "kedge/conn_budget.h"
#include "kedge/json_check.h"
#include "kedge/list.h"
#include "kedge/metrics.h"
#include "kedge/sbi_server.h"
#include "sbi/router.h"

#define SBI_READ_BUF 16384
#define SBI_OUT_HIGH 65536 /* stop asking nghttp2 for frames past this much pending output */
/* ... so the output holds at most that plus one frame (RFC 9113 4.1: 9 + 2^24-1 octets). */
#define SBI_OUT_MAX          (SBI_OUT_HIGH + 9 + (1u << 24))
#define SBI_MAX_PEER_NAMES   16 /* SAN DNS names kept per connection */
#define SBI_MAX_RESP_HEADERS 8  /* extra response headers per request */
#define SBI_MAX_REQ_HEADERS  64 /* request header fields kept per request */
/* freed request objects a worker keeps for its next streams (sbi_request_new): the object is
 * over 1 KiB, and glibc's malloc consolidates its fast bins for each one it hands out */
#define SBI_SPARE_REQS 256
#define SBI_SPARE_BODY 4096 /* a kept request keeps its body's block up to this size, wiped */
/* :path and the header fields' names and values are copied into the request's own block while
 * they fit (a key request's five fields: ~110 octets), the rest each with strndup: five
 * malloc/free pairs per request less (issue 17, docs/performance-latency.md fourth session) */
#define SBI_REQ_TEXT 256
/* accepted sockets waiting for the worker they were handed to (server.c, hand_off()) */
#define SBI_HANDOFF_MAX 64
#define SBI_DISCARD_FACTOR                                                                         \
  16 /* body dropped after an early answer before RST_STREAM, in                                   \
        units of max_body */

/* Status codes counted per route; anything else is counted as "other". */
#define SBI_N_STATUS 18

typedef struct sbi_route_metrics {
  kedge_histogram_t *latency;
  _Atomic(kedge_counter_t *) by_status[SBI_N_STATUS];
} sbi_route_metrics_t;

typedef struct sbi_conn sbi_conn_t;

/* A socket accepted by one worker for another (server.c, hand_off()). */
typedef struct sbi_handoff {
  evutil_socket_t fd;
  struct sockaddr_storage peer;
  int peer_len;
} sbi_handoff_t;

struct kedge_sbi_worker {
  kedge_sbi_server_t *srv;
  unsigned id;
  pthread_t thread;
  bool thread_started;
  struct event_base *base;
  evutil_socket_t listen_fd;
  struct evconnlistener *listener;
  struct event *drain_ev;     /* activated by the main thread at shutdown */
  struct event *pause_ev;     /* activated by kedge_sbi_server_pause() */
  struct event *grace_timer;  /* ends the drain */
  struct event *accept_retry; /* resumes accepting after EMFILE (accept_error_cb) */
  bool draining;
  LIST_HEAD(, sbi_conn) conns; /* all connections of this worker, handshaking or HTTP/2 */
  /* written by this worker's thread only; read by the other workers to pick the one with the
   * fewest connections (server.c, accept_cb) */
  _Atomic unsigned n_conns;
  /* sockets other workers accepted for this one, taken by handoff_ev on this loop */
  pthread_mutex_t handoff_lock;
  sbi_handoff_t handoff[SBI_HANDOFF_MAX];
  unsigned n_handoff;          /* under handoff_lock */
  _Atomic unsigned n_incoming; /* n_handoff, readable without the lock */
  struct event *handoff_ev;
  kedge_conn_budget_t hs_budget;   /* the handshaking ones among them (issue 12) */
  void *data;                      /* the service's per-worker state (kedge_sbi_worker_set_data) */
  bool init_done;                  /* the worker init hook succeeded: fini runs at free */
  kedge_sbi_request_t *spare_reqs; /* freed on this loop, kept for reuse (SBI_SPARE_REQS) */
  unsigned n_spare_reqs;
  uint8_t read_buf[SBI_READ_BUF]; /* one thread: shared by its connections */
};

/* oauth2.c: the producer's token check (NULL when oauth2.required is off). */
typedef struct sbi_oauth2 sbi_oauth2_t;
kedge_err_t sbi_oauth2_new(const kedge_sbi_oauth2_config_t *cfg, const char *server_name,
                           sbi_oauth2_t **out);
void sbi_oauth2_free(sbi_oauth2_t *o);
/* true: go on to the handler; false: the request was answered 401/403. */
bool sbi_oauth2_allow(kedge_sbi_request_t *req);

struct kedge_sbi_server {
  kedge_sbi_server_config_t cfg; /* strings below are owned copies */
  char *name, *address, *cert_file, *key_file, *ca_file, *metrics_address;
  sbi_router_t router;
  sbi_oauth2_t *oauth2;
  SSL_CTX *ssl_ctx; /* for new connections; swapped at a reload under ctx_lock */
  pthread_mutex_t ctx_lock;
  pthread_mutex_t pause_lock; /* kedge_sbi_server_pause(): workers park on pause_cond */
  pthread_cond_t pause_cond;
  bool paused;
  unsigned n_parked;
  kedge_sbi_reload_fn reload_fn;     /* SIGHUP */
  kedge_sbi_stopping_fn stopping_fn; /* the drain begins */
  void *hooks_arg;
  kedge_sbi_accept_fn accept_hook;
  bool precise_timers; /* kedge_sbi_server_set_precise_timers */
  void *accept_arg;
  kedge_sbi_worker_init_fn worker_init;
  kedge_sbi_worker_fini_fn worker_fini;
  void *worker_arg;
  kedge_sbi_worker_t *workers;
  unsigned n_workers;
  struct event_base *base;
  struct event *sigterm_ev, *sigint_ev, *sighup_ev, *stop_ev;
  struct evhttp *metrics_http;
  uint16_t port, metrics_port;
  /* https://<sbi.address>:<bound port>, built once the port is bound (TS 29.501 4.4.1) */
  char api_root[KEDGE_SBI_API_ROOT_MAX + 1];
  bool started;
  _Atomic bool stopping;
  kedge_metrics_t *metrics;
  kedge_gauge_t *m_conns_open;
  kedge_counter_t *m_conns_total;
  kedge_counter_t *m_conns_rejected;
  kedge_counter_t *m_handshake_failures;
  kedge_counter_t *m_handshakes_shed;
  sbi_route_metrics_t *route_metrics; /* one per route, plus one for unmatched requests */
};

typedef enum { CONN_HANDSHAKE, CONN_H2 } sbi_conn_state_t;

struct sbi_conn {
  LIST_ENTRY(sbi_conn) link; /* in w->conns */
  kedge_sbi_worker_t *w;
  evutil_socket_t fd;
  SSL *ssl;
  nghttp2_session *h2;
  sbi_conn_state_t state;
  struct event *rev, *wev, *timer, *flush_ev;
  bool read_wants_write; /* SSL_read needs the socket writable (TLS KeyUpdate) */
  bool fatal;            /* tear down at the end of the current callback */
  bool in_recv;          /* inside nghttp2_session_mem_recv: no mem_send now */
  bool goaway_sent;
  bool closing;              /* kedge_sbi_server_close_peer(DRAIN): closed once its streams end */
  bool hello_seen;           /* the ClientHello arrived (hello_timeout met) */
  kedge_conn_node_t hs_node; /* in w->hs_budget while handshaking */
  struct timeval accepted;
  struct timeval last_activity;
  char *peer_names[SBI_MAX_PEER_NAMES];
  size_t n_peer_names;
  kedge_buf_t
      out; /* TLS plaintext waiting for SSL_write (at most SBI_OUT_MAX); wiped once written */
  size_t out_off;                      /* octets of out already written */
  LIST_HEAD(, kedge_sbi_request) reqs; /* the open streams */
  size_t n_streams;
};

typedef enum {
  REQ_RECEIVING,  /* headers and body arriving */
  REQ_REJECTED,   /* answered early with an error; the rest of the body is dropped */
  REQ_DISPATCHED, /* a handler owns it until it answers */
  REQ_RESPONDED,  /* response submitted to nghttp2 */
} sbi_req_state_t;

typedef struct sbi_header {
  char *name, *value;
} sbi_header_t;

struct kedge_sbi_request {
  LIST_ENTRY(kedge_sbi_request) link;   /* in conn->reqs while the stream is open */
  struct kedge_sbi_request *spare_next; /* in w->spare_reqs once freed */
  sbi_conn_t *conn;                     /* NULL once gone */
  kedge_sbi_worker_t *w;
  int32_t stream_id;
  sbi_req_state_t state;
  bool gone;
  bool headers_too_big;
  size_t header_bytes;
  char method[SBI_MAX_METHOD];
  char *path;  /* :path with the query cut off at '?' */
  char *query; /* points into path's allocation, or NULL */
  sbi_header_t headers[SBI_MAX_REQ_HEADERS];
  size_t n_headers;
  char text[SBI_REQ_TEXT]; /* path and headers[] strings while they fit (sbi_request_text) */
  size_t text_used;
  int64_t content_length; /* -1 if absent */
  size_t discarded;       /* body octets dropped after an early answer */
  bool reset_sent;
  kedge_buf_t body; /* at most limits.max_body */
  json_t *json;
  /* a route's string members read flat (kedge_sbi_server_route_strings), each copied with
   * sbi_request_text; flat: the body was read so, and json stays NULL */
  char *strings[KEDGE_JSON_FLAT_MAX];
  bool flat;
  sbi_match_t match;
  const sbi_route_t *route;
  int64_t started_us; /* kedge_now_us() when the stream opened */
  kedge_sbi_cancel_fn cancel_fn;
  void *cancel_arg;
  /* response */
  int status;
  sbi_header_t resp_headers[SBI_MAX_RESP_HEADERS];
  size_t n_resp_headers;
  char *resp_type;
  uint8_t *resp_body;
  size_t resp_len, resp_off;
};

/* tls.c */
/* NULL with one line naming the file in `why` on failure. */
SSL_CTX *sbi_tls_ctx_new(const kedge_sbi_server_config_t *cfg, char *why, size_t why_size);
/* A new reference to the context new connections get (it changes at a reload). */
SSL_CTX *sbi_tls_ctx_get(kedge_sbi_server_t *srv);
/* 1 done, 0 again (events set), -1 failed. */
int sbi_tls_handshake_step(sbi_conn_t *conn);
/* Copies the verified client certificate's SAN DNS names into conn->peer_names. */
void sbi_tls_peer_names(sbi_conn_t *conn);
const char *sbi_verify_name(kedge_sbi_verify_t v);

/* h2.c */
void sbi_conn_accept_tls(kedge_sbi_worker_t *w, evutil_socket_t fd, const struct sockaddr *peer);
/* The ClientHello arrived (tls.c's ClientHello callback): the deadline becomes
 * handshake_timeout from acceptance. */
void sbi_conn_hello_seen(sbi_conn_t *conn);
void sbi_conn_free(sbi_conn_t *conn);
void sbi_conn_drain(sbi_conn_t *conn);
/* Submits the prepared response of `req` (status, headers, body) to nghttp2. */
kedge_err_t sbi_conn_submit_response(kedge_sbi_request_t *req);
void sbi_worker_conn_removed(kedge_sbi_worker_t *w);

/* request.c */
/* The worker whose loop runs on this thread (NULL elsewhere), set by its thread. */
extern _Thread_local kedge_sbi_worker_t *sbi_this_worker;
/* Frees the request objects a worker kept for reuse (after its thread ended). */
void sbi_worker_free_spare_reqs(kedge_sbi_worker_t *w);
kedge_sbi_request_t *sbi_request_new(sbi_conn_t *conn, int32_t stream_id);
void sbi_request_free(kedge_sbi_request_t *req);
/* A copy of s[0..n) and a '\0', in req->text while it fits, else strndup'd; NULL: no memory.
 * Freed with sbi_request_text_free (or with the request). */
char *sbi_request_text(kedge_sbi_request_t *req, const uint8_t *s, size_t n);
void sbi_request_text_free(kedge_sbi_request_t *req, char *p);
/* Called when the request is complete (END_STREAM): checks media type, parses the JSON body
 * and calls the route's handler. */
void sbi_request_dispatch(kedge_sbi_request_t *req);
/* Early answer from the runtime (404, 405, 413, 415, 431...). */
void sbi_request_reject(kedge_sbi_request_t *req, int status, const char *cause, const char *detail,
                        const char *allow);
/* The stream or connection went away: detach, mark gone, call the cancel callback, free
 * unless a handler still owns it. */
void sbi_request_detach(kedge_sbi_request_t *req);

/* server.c */
void sbi_metrics_count(kedge_sbi_server_t *srv, const sbi_route_t *route, int status,
                       double seconds);

#endif
