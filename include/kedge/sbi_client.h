/* The SBI client: HTTP/2 over (mutual) TLS for daemon-to-daemon calls (AUSF -> UDM,
 * ECS -> AUSF, NEF -> AUSF, ECS -> NEF).
 *
 * libcurl's multi interface driven by the caller's libevent event_base: one client per
 * event_base (one per worker thread); a client and its calls are used from that thread only.
 * Calls never block the loop (see docs/sbi-client.md for the resolver). Requests to the same
 * authority share one TLS connection with HTTP/2 streams (TS 29.500 5.2.2: HTTP/2 is
 * mandatory on the SBI; a peer whose ALPN is not "h2" is refused before the request is sent).
 *
 * Certificate verification against the configured CA file is always on; there is no switch
 * to turn it off. TLS 1.3 is the minimum unless tls12_allowed (the TS 33.210 6.2 profile,
 * to which TS 33.501 13.1 refers, also permits 1.2).
 *
 * Bodies may carry keys (Kedge, K_ECS): buffers kedge owns are wiped before they are freed;
 * what stays in libcurl, OpenSSL and jansson memory is listed in docs/sbi-client.md. Bodies
 * are never logged. */
#ifndef KEDGE_SBI_CLIENT_H
#define KEDGE_SBI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct kedge_sbi_client kedge_sbi_client_t;
/* One request in flight: the handle for kedge_sbi_client_cancel(). */
typedef struct kedge_sbi_client_call kedge_sbi_client_call_t;

#define KEDGE_SBI_CLIENT_TIMEOUT_MS_DEFAULT        5000u
#define KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_DEFAULT (64u * 1024u)
#define KEDGE_SBI_CLIENT_MAX_CONNECTIONS_DEFAULT   4u
#define KEDGE_SBI_CLIENT_MAX_RETRIES_DEFAULT       2u
#define KEDGE_SBI_CLIENT_RETRY_DELAY_MS_DEFAULT    100u
/* Upper bounds accepted by kedge_sbi_client_new(): beyond these a value is a config mistake. */
#define KEDGE_SBI_CLIENT_TIMEOUT_MS_MAX        600000u
#define KEDGE_SBI_CLIENT_MAX_RESPONSE_SIZE_MAX (64u * 1024u * 1024u)
#define KEDGE_SBI_CLIENT_MAX_CONNECTIONS_MAX   1024u
#define KEDGE_SBI_CLIENT_MAX_RETRIES_MAX       5u

typedef struct kedge_sbi_client_options {
  const char *ca_file;      /* required: PEM CA bundle the server certificate must chain to */
  const char *cert_file;    /* PEM client certificate (chain) for mutual TLS, or NULL */
  const char *key_file;     /* PEM private key of cert_file; set both or neither */
  uint32_t timeout_ms;      /* per request, retries included; default 5000 */
  size_t max_response_size; /* response body bound; past it KEDGE_ERR_TOO_BIG; default 64 KiB */
  uint32_t max_connections; /* connections per host (streams multiplex on them); default 4 */
  uint32_t max_retries;     /* extra attempts after a connection failure, GET/PUT/DELETE only;
                               default 2, 0 disables */
  uint32_t retry_delay_ms;  /* wait before a retry (times the attempt number); default 100 */
  bool tls12_allowed;       /* accept TLS 1.2 servers; default false (TLS 1.3 only) */
  bool h2c;                 /* HTTP/2 with prior knowledge over TCP, no TLS (RFC 9113 3.3;
                               transport h2c, SPEC.md 7): http:// URLs only, no ca_file needed;
                               every request on a connection of its own (docs/oauth2.md:
                               Debian 12's libcurl breaks a reused h2c connection) */
  const char *user_agent;   /* User-Agent of every request (TS 29.500 5.2.2.2:
                               "<NF type>-<nfInstanceId>"); NULL: the process default below */
} kedge_sbi_client_options_t;

/* The User-Agent of clients created later without their own (copied; at most 127 octets, no
 * CR/LF). kedge_app_main() sets "<NF type>-<nfInstanceId>" (kedge/app.h) before set-up. */
kedge_err_t kedge_sbi_client_set_default_user_agent(const char *user_agent);

/* OAuth2 for every client created later (TS 33.501 13.4.1.1, docs/oauth2.md): each request
 * carries `Authorization: Bearer` with a token from the NRF's Nnrf_AccessToken at `token_uri`
 * (https://<nrf>/oauth2/token) for the URL's service (its apiName; the NF type from the
 * service name), fetched as `nf_type`/`nf_instance_id`, cached per client until expires_in
 * minus `margin_ms`, refreshed ahead; a 401 from a producer drops the token and the call is
 * sent once more with a new one. A call whose token cannot be had completes with
 * KEDGE_ERR_UNAVAILABLE. NULL `token_uri`: off. Copied. */
kedge_err_t kedge_sbi_client_set_oauth2(const char *token_uri, const char *nf_type,
                                        const char *nf_instance_id, unsigned margin_ms);

/* SCP model C (TS 29.500 6.10.2, TS 23.501 6.3.1.0): every client created later sends its
 * requests to the SCP at `scp_api_root` (https://host[:port], no path) instead of the producer,
 * with `3gpp-Sbi-Target-apiRoot` naming the producer's apiRoot (TS 29.500 5.2.3.2.4); the
 * path stays the same. The token requests to the NRF (kedge_sbi_client_set_oauth2) go direct.
 * NULL: off. Copied. */
kedge_err_t kedge_sbi_client_set_scp(const char *scp_api_root);

/* Fills *opts with the defaults above (file names NULL). */
void kedge_sbi_client_options_init(kedge_sbi_client_options_t *opts);

/* Creates a client on `base`. Reads and checks the CA, certificate and key files now (they are
 * parsed, the key must match the certificate), so that no file is read on the loop later and a
 * bad configuration fails at start-up: KEDGE_ERR_CONFIG with the reason logged; a NULL
 * argument is KEDGE_ERR_INVALID_ARG. The options are copied. */
kedge_err_t kedge_sbi_client_new(struct event_base *base, const kedge_sbi_client_options_t *opts,
                                 kedge_sbi_client_t **client);

/* Cancels every call in flight (their callbacks do not fire), closes the connections and frees
 * the client. May be called from inside a completion callback. NULL is a no-op. */
void kedge_sbi_client_free(kedge_sbi_client_t *client);

typedef struct kedge_sbi_client_request {
  const char *method;   /* "GET", "POST", "PUT", "PATCH" or "DELETE" */
  const char *url;      /* absolute https:// URL, e.g. https://127.0.0.1:8443/nudm-ueau/...
                           (http:// for an h2c client) */
  const json_t *body;   /* sent compactly encoded, or NULL for no body */
  const void *raw_body; /* instead of `body`: octets sent as they are (a form) */
  size_t raw_body_len;
  const char *content_type;   /* of the body; NULL: "application/json" */
  const char *const *headers; /* extra "Name: value" lines, NULL-terminated array, or NULL */
  uint32_t timeout_ms;        /* 0: the client's timeout_ms */
  /* true: the caller reads a success's status and headers only (a 201's Location), so a 2xx
   * body is not parsed: response.json stays NULL, body_len is still set. Any other status's
   * body (ProblemDetails) is parsed as usual. */
  bool unread_2xx_body;
} kedge_sbi_client_request_t;

typedef struct kedge_sbi_client_response {
  /* KEDGE_OK: an HTTP response arrived (any status). Otherwise no usable response:
   * KEDGE_ERR_TIMEOUT       the deadline passed (connect, TLS, or waiting for the answer);
   * KEDGE_ERR_UNAVAILABLE   connection refused/reset/closed, TLS handshake or server
   *                         certificate verification failed (after retries if idempotent);
   * KEDGE_ERR_TOO_BIG       the body exceeded max_response_size;
   * KEDGE_ERR_UNSUPPORTED   the server did not negotiate HTTP/2 (TS 29.500 5.2.2);
   * KEDGE_ERR_CONFIG        libcurl/OpenSSL rejected the local certificate or key;
   * KEDGE_ERR_NOMEM, KEDGE_ERR_IO  local failures. */
  kedge_err_t err;
  long status;              /* HTTP status, 0 if none */
  const char *content_type; /* response headers of interest, NULL when absent */
  const char *location;     /* 201 Created, 3xx (RFC 9110 10.2.2) */
  const char *retry_after;  /* raw: delta-seconds or HTTP-date (RFC 9110 10.2.3) */
  json_t *json;             /* parsed body if its type is application/json or *+json and it
                               parses; NULL otherwise. Borrowed: json_incref() to keep it */
  size_t body_len;          /* octets of body received (also when not JSON) */
  const char *body;         /* those octets (not NUL-terminated; NULL when none), for a caller
                               that reads a 2xx body itself (unread_2xx_body) */
  uint64_t elapsed_us;      /* from kedge_sbi_client_send() to completion, retries included */
  unsigned attempts;        /* 1 + retries made */
} kedge_sbi_client_response_t;

/* Called exactly once per call that was neither cancelled nor dropped by
 * kedge_sbi_client_free(), from the event loop, never from inside kedge_sbi_client_send().
 * Everything in *response is valid only during the callback. The callback may send new
 * requests, cancel other calls, or free the client. */
typedef void (*kedge_sbi_client_cb)(const kedge_sbi_client_response_t *response, void *arg);

/* Starts a request. On KEDGE_OK the callback will fire later and, if `call` is not NULL,
 * *call is a handle valid until the callback starts or the call is cancelled. On error
 * (KEDGE_ERR_INVALID_ARG for a bad method, non-https URL, header with CR/LF; KEDGE_ERR_NOMEM)
 * nothing was started and the callback will not fire. */
kedge_err_t kedge_sbi_client_send(kedge_sbi_client_t *client,
                                  const kedge_sbi_client_request_t *request, kedge_sbi_client_cb cb,
                                  void *arg, kedge_sbi_client_call_t **call);

/* Abandons a call (e.g. the server-side stream it serves went away): its stream is reset or
 * its connection attempt dropped, and its callback will not fire. Only for a handle whose
 * callback has not started yet; NULL is a no-op. */
void kedge_sbi_client_cancel(kedge_sbi_client_call_t *call);

/* A path segment for a request URI (RFC 3986 3.3): unreserved characters and '@' stay, the rest
 * is percent-encoded (a SUPI, a SUCI, an id from a peer). False when `out` is too small. */
bool kedge_sbi_path_segment(const char *in, char *out, size_t size);

/* True for the media types whose bodies the client parses into response.json:
 * application/json and application/<anything>+json (problem+json, 3gppHal+json), parameters
 * after ';' ignored. For a caller reading a 2xx body itself (unread_2xx_body). */
bool kedge_sbi_client_json_type(const char *content_type);

/* Number of calls in flight (started, not yet completed or cancelled). */
size_t kedge_sbi_client_pending(const kedge_sbi_client_t *client);

/* Finished calls' easy handles kept for the next calls: only while calls are in flight (0 once
 * the client is idle; docs/sbi-client.md "Easy handles"). */
size_t kedge_sbi_client_spare_handles(const kedge_sbi_client_t *client);

#ifdef __cplusplus
}
#endif
#endif
