/* The key-service client: the one way kedge asks a key source for a key (SPEC.md 0 steps 5-6):
 * the ECS asks the AUSF (Nausf_UEAuthentication_keyrequest) or the NEF (3gpp-kedge); the NEF
 * asks the AUSF. One routing table (the key ID's home network and RID pick a row of apiRoots,
 * SPEC.md 2), URI failover within one deadline, Retry-After honoured per URI, and a typed
 * outcome, over the SBI client of the caller's worker. Each API is a codec (key_codec.c): its
 * path, the request body it builds and the answer it accepts, checked against the key ID asked
 * about. Design: docs/key-client.md. */
#ifndef KEDGE_KEY_CLIENT_H
#define KEDGE_KEY_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "kedge/nrf.h"
#include "kedge/sbi_client.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The key APIs kedge consumes. */
typedef enum kedge_key_api {
  /* POST {apiRoot}/nausf-auth/v1/kedge-keys/retrieve {kedgeId, ecsId?} -> KedgeKeyResponse
   * (SPEC.md 3, api/TS29509_Nausf_UEAuthentication_keyrequest.yaml) */
  KEDGE_KEY_API_AUSF_KEDGE,
  /* POST {apiRoot}/3gpp-kedge/v1/retrieve {afId, kedgeId, ecsId?} -> KedgeKeyResponse
   * (SPEC.md 3, the NEF northbound key API) */
  KEDGE_KEY_API_NEF_KEDGE,
  /* K_AF at the AAnF (SPEC.md 9, TS 29.535 Naanf_AKMA_ApplicationKey_Get):
   * POST {apiRoot}/naanf-akma/v1/retrieve-applicationkey {afId, aKId} -> AkmaAfKeyData
   * {kaf, expiry, supi?}; 204 when the A-KID is unknown */
  KEDGE_KEY_API_AANF_AKMA,
  /* K_AF at the NEF (SPEC.md 9, TS 29.522 3gpp-akma):
   * POST {apiRoot}/3gpp-akma/v1/retrieve {afId, aKId} -> AkmaAfKeyData; 204 when unknown */
  KEDGE_KEY_API_NEF_AKMA,
  KEDGE_KEY_API__COUNT
} kedge_key_api_t;

/* ---- the routing table ---- */

#define KEDGE_KEY_URI_MAX 1024

/* One row: key IDs of home network `home` (any when any_home) whose RID is one of `rids` (any
 * when any_rid; exact digit strings, "012" is not "12") go to `uris`, tried in order. */
typedef struct kedge_key_route {
  const char *name; /* for logs and audit lines; never NULL after reading */
  bool any_home;
  kedge_plmn_t home;
  bool any_rid;
  const char *const *rids;
  size_t n_rids;
  char **uris; /* https://host[:port][/prefix], no trailing '/' */
  size_t n_uris;
  bool discover; /* `discover: true` instead of uris: the key source is found at the NRF per
                    fetch by the key ID's RID and home PLMN (SPEC.md 7; n_uris is 0) */
  _Atomic int64_t *not_before_ms; /* per URI: kedge_now_ms() before which it is not asked
                                     (a Retry-After, RFC 9110 10.2.3) */
} kedge_key_route_t;

typedef struct kedge_key_routes {
  kedge_key_route_t *rows;
  size_t n;
} kedge_key_routes_t;

/* What a row must say in a config file (the ECS may leave home network and RIDs out: any). */
#define KEDGE_KEY_ROUTE_NEED_NAME 1u
#define KEDGE_KEY_ROUTE_NEED_HOME 2u
#define KEDGE_KEY_ROUTE_NEED_RIDS 4u

/* Reads the list of maps `key` under `sec` ({name, mcc, mnc, rids, uris | discover: true} each)
 * into *routes; `need` says which members are mandatory. With `shorthand` (e.g. "uri") a single
 * apiRoot (or the word "discover") may be given instead (one row: any home network, any RID) —
 * but not both. KEDGE_ERR_CONFIG with
 * the file:line reason recorded in the config. */
kedge_err_t kedge_key_routes_read(kedge_config_node_t *sec, const char *key, const char *shorthand,
                                  unsigned need, kedge_key_routes_t *routes);
void kedge_key_routes_free(kedge_key_routes_t *routes);
/* Whether a row says `discover`. */
bool kedge_key_routes_discover(const kedge_key_routes_t *routes);
/* A `discover` row needs an NRF: KEDGE_ERR_CONFIG naming sec's `key` when `root` has no
 * nrf.uri. */
kedge_err_t kedge_key_routes_check_nrf(kedge_config_node_t *root, kedge_config_node_t *sec,
                                       const char *key, const kedge_key_routes_t *routes);
/* The first row (in file order) for this home network and RID, or NULL. */
const kedge_key_route_t *kedge_key_route_find(const kedge_key_routes_t *routes,
                                              const kedge_plmn_t *home, const char *rid);

/* ---- fetching a key ---- */

typedef enum kedge_key_outcome {
  KEDGE_KEY_OK,          /* the key */
  KEDGE_KEY_NOT_FOUND,   /* 404, 204 of the AKMA APIs (TS 29.535, TS 29.522), or a 200 whose
                            expiry has passed: an expired key is an unknown key, SPEC.md 3 */
  KEDGE_KEY_BAD_REQUEST, /* 400 */
  KEDGE_KEY_FORBIDDEN,   /* 403 */
  KEDGE_KEY_TOO_MANY,    /* 429 */
  KEDGE_KEY_UNAVAILABLE, /* 5xx */
  KEDGE_KEY_TIMEOUT,     /* the deadline passed without an answer */
  KEDGE_KEY_UNREACHABLE, /* no connection to any URI of the row (or all under Retry-After) */
  KEDGE_KEY_BAD_ANSWER,  /* a 200 that is not this API's answer for this key ID; another status */
  KEDGE_KEY__COUNT
} kedge_key_outcome_t;

/* "ok", "not_found", ... (metric labels). */
const char *kedge_key_outcome_name(kedge_key_outcome_t outcome);
/* "key received", "not found (404)", ... (log lines). */
const char *kedge_key_outcome_text(kedge_key_outcome_t outcome);

typedef struct kedge_key_request {
  kedge_key_api_t api;
  const char *key_id; /* as it will be sent (passed the API's strict parser) */
  size_t key_id_len;
  const kedge_plmn_t *home; /* of the key ID: picks the row */
  const char *rid;
  const char *af_id;  /* NEF and AKMA APIs: the asking AF (normalised FQDN); for AKMA the
                         FQDN K_AF is bound to */
  const char *ecs_id; /* profile bound (SPEC.md 6): K_ECS for this ECS ID; NULL otherwise */
  /* issue 13: revocCallbackUri, where the key source tells of this key's revocation; NULL:
   * none. Read only while kedge_key_fetch() builds the body (not kept). */
  const char *revoc_callback_uri;
  uint32_t timeout_ms; /* for the whole fetch, failover included; 0: the client's timeout */
} kedge_key_request_t;

typedef struct kedge_key_answer {
  kedge_key_outcome_t outcome;
  const uint8_t *key;     /* KEDGE_KEY_OK: KEDGE_KEY_LEN octets, wiped after the callback */
  int64_t expiry_unix_ms; /* KEDGE_KEY_OK */
  long status;            /* of the last answer, 0 if none */
  unsigned retry_after_s; /* of a 429/5xx answer (capped), 0 if none */
  const char *cause;      /* the ProblemDetails cause of an error answer, reduced to
                             [A-Za-z0-9_] (a peer's text), "" if none */
  const kedge_key_route_t *route;
  const char *uri;      /* the apiRoot that answered last (or was tried last) */
  unsigned unreachable; /* URIs that could not be reached on the way */
  unsigned timeouts;    /* attempts that timed out on the way */
  uint64_t elapsed_us;  /* from kedge_key_fetch() to the answer */
} kedge_key_answer_t;

typedef void (*kedge_key_done_fn)(const kedge_key_answer_t *answer, void *arg);

typedef struct kedge_key_client kedge_key_client_t;
typedef struct kedge_key_fetch kedge_key_fetch_t;

typedef struct kedge_key_client_options {
  const kedge_key_routes_t *routes; /* borrowed; outlives the client */
  uint32_t timeout_ms;              /* default per fetch (kedge_key_request_t.timeout_ms) */
  uint32_t attempt_timeout_ms;      /* per URI; a timed-out URI is followed by the next while
                                       the fetch's deadline allows; 0: the whole deadline */
  unsigned max_retry_after_s;       /* a Retry-After is honoured up to this; 0: not at all */
  /* For `discover` rows (NULL otherwise: such a row then fails as unreachable): the daemon's
   * discovery (shared), an SBI client toward the NRF on this worker's loop, and that loop. */
  kedge_nrf_disc_t *disc;
  kedge_sbi_client_t *nrf;
  struct event_base *base;
} kedge_key_client_options_t;

/* A client on one worker's SBI client (borrowed: used from that worker's thread only). */
kedge_err_t kedge_key_client_new(kedge_sbi_client_t *sbi, const kedge_key_client_options_t *opts,
                                 kedge_key_client_t **client);
/* Cancels every fetch in flight (no callbacks) and frees the client. NULL is a no-op. */
void kedge_key_client_free(kedge_key_client_t *client);

/* Starts a fetch. KEDGE_OK: done() runs later on the loop, exactly once, unless cancelled.
 * KEDGE_ERR_NOT_FOUND: no row serves this home network and RID (nothing sent);
 * KEDGE_ERR_UNAVAILABLE: every URI of the row is under a Retry-After or refused the send;
 * KEDGE_ERR_INVALID_ARG, KEDGE_ERR_NOMEM. `fetch` (may be NULL) is the handle for cancel. */
kedge_err_t kedge_key_fetch(kedge_key_client_t *client, const kedge_key_request_t *request,
                            kedge_key_done_fn done, void *arg, kedge_key_fetch_t **fetch);
/* The asker went away: the request is dropped, done() will not run. NULL is a no-op. */
void kedge_key_fetch_cancel(kedge_key_fetch_t *fetch);

/* ---- the codecs (key_codec.c), also for the test peers and fuzzers ---- */

/* The path under an apiRoot, e.g. "/nausf-auth/v1/kedge-keys/retrieve". */
const char *kedge_key_api_path(kedge_key_api_t api);
/* The producer of this API for NRF discovery: its NFType and service name (TS 29.510; the
 * AUSF's key service is the custom service nausf-kedge, SPEC.md 7; the NEF's northbound APIs
 * are announced by their API names). */
void kedge_key_api_target(kedge_key_api_t api, const char **nf_type, const char **service);
/* The AKMA APIs (key ID an A-KID, key K_AF, 204 for an unknown A-KID). */
bool kedge_key_api_is_akma(kedge_key_api_t api);
/* The request body of this API for `request`, or NULL (out of memory). */
json_t *kedge_key_request_body(const kedge_key_request_t *request);
/* Reads a 200 answer of this API for `request`: KEDGE_OK with the key and its expiry, else
 * KEDGE_ERR_INVALID_ARG (not this API's answer, or for another key ID; AkmaAfKeyData names no
 * key ID, so for AKMA only its shape is checked: kaf of 64 hex digits, an RFC 3339 expiry). */
kedge_err_t kedge_key_answer_read(const kedge_key_request_t *request, const json_t *answer,
                                  uint8_t key[KEDGE_KEY_LEN], int64_t *expiry_unix_ms);

#ifdef __cplusplus
}
#endif
#endif
