/* kedge-nefd: the NEF relay for ECSs outside the operator domain (SPEC.md 0 steps 5.1-6.2,
 * SPEC.md 3 "NEF northbound key API"). An AF (the out-of-domain ECS) asks
 * POST /3gpp-kedge/v1/retrieve over mutual TLS; the NEF authenticates it by its certificate
 * (and optionally an OAuth 2.0 bearer token, TS 33.501 clause 12), authorises it against the AF
 * table, picks the AUSF group from the Kedge ID's realm and RID, asks that AUSF
 * (Nausf_UEAuthentication_keyrequest) as itself, and relays the answer without keeping it.
 * Design notes: docs/nef.md. */
#ifndef KEDGE_NEF_H
#define KEDGE_NEF_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "kedge/json_check.h"
#include "kedge/jwt.h"
#include "kedge/key_client.h"
#include "kedge/metrics.h"
#include "kedge/ratelimit.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_notify.h"
#include "kedge/sbi_server.h"
#include "kedge/sbi_subscriptions.h"

/* PSK profiles an AF may ask for (SPEC.md 6), a bit set. */
#define NEF_PROFILE_KEDGE 1u /* the raw Kedge: request without ecsId */
#define NEF_PROFILE_BOUND 2u /* K_ECS for the AF's own FQDN: request with ecsId == afId */
#define NEF_PROFILE_AKMA  4u /* K_AF for the AF's own FQDN through 3gpp-akma (SPEC.md 9) */

/* One row of the AF table: who may ask for what. Run-time state (the token bucket and the
 * number of requests in flight) is shared by the worker threads. */
typedef struct nef_af {
  char af_id[KEDGE_ECS_ID_MAX + 1]; /* normalised FQDN; one of the certificate's SAN names */
  unsigned profiles;                /* NEF_PROFILE_* */
  kedge_plmn_t *home_networks;      /* the HPLMNs whose keys it may ask for */
  size_t n_home_networks;
  uint32_t rate;           /* tokens per second, 0: no rate limit */
  uint32_t burst;          /* bucket size */
  uint32_t max_concurrent; /* requests in flight toward the AUSF, 0: no cap */

  kedge_rate_t *bucket; /* rate/burst (kedge/ratelimit.h); NULL: no rate limit */
  atomic_uint in_flight;
} nef_af_t;

typedef struct nef_oauth {
  const char *jwks_file; /* NULL: OAuth off */
  kedge_jwks_t *jwks;
  kedge_jwt_policy_t policy;
  const char *realm; /* RFC 6750 3: the realm of WWW-Authenticate */
} nef_oauth_t;

/* Revocation relay (issue 13; revocation_relay.c): an AF that gives revocCallbackUri is
 * remembered with the Kedge ID it got; the NEF asks the AUSF to notify the NEF itself, and
 * relays each KedgeRevocationNotification to the AFs that fetched those keys. */
typedef struct nef_revocation {
  /* configuration (revocation: in the NEF's YAML) */
  bool enabled;
  const char *callback_uri; /* NULL: https://<sbi.address>:<port><path> */
  const char *sbi_address;
  const char *const *notifiers; /* certificate names of the AUSFs that may notify */
  size_t n_notifiers;
  size_t max_subscriptions;
  int64_t max_age_ms; /* a subscription is forgotten after this long */
  kedge_sbi_notifier_options_t notify;
  kedge_sbi_client_options_t client; /* the NEF's SBI certificate */
  /* run time */
  pthread_mutex_t uri_lock;
  char uri_buf[300];
  kedge_sbi_subs_t *subs;
  kedge_sbi_notifier_t *notifier;
  struct event *purge;
  kedge_counter_t *m_relayed, *m_unknown, *m_refused, *m_full;
  kedge_gauge_t *m_subs;
} nef_revocation_t;

/* Outcomes of a request, for the audit line and kedge_nef_requests_total. */
typedef enum nef_outcome {
  NEF_OUT_SUCCESS = 0,
  NEF_OUT_NOT_FOUND,    /* 404: the AUSF has no such key, or no AUSF group serves the ID */
  NEF_OUT_BAD_REQUEST,  /* 400 */
  NEF_OUT_UNAUTHORIZED, /* 401: OAuth */
  NEF_OUT_FORBIDDEN,    /* 403: certificate, AF table, profile, home network, scope */
  NEF_OUT_RATE_LIMITED, /* 429 */
  NEF_OUT_UNAVAILABLE,  /* 503: no AUSF of the group answered, or the AUSF is congested */
  NEF_OUT_UPSTREAM,     /* 502: the AUSF answered something the NEF cannot relay */
  NEF_OUT_CANCELLED,    /* the AF went away first */
  NEF_OUT_INTERNAL,     /* 500 */
  NEF_OUT__COUNT
} nef_outcome_t;

const char *nef_outcome_name(nef_outcome_t outcome);

typedef struct nef {
  /* configuration */
  nef_af_t *afs;
  size_t n_afs;
  kedge_key_routes_t groups;              /* ausf.groups: home network + RID -> AUSF apiRoots */
  kedge_sbi_client_options_t ausf_client; /* mTLS toward the AUSFs, as the NEF itself */
  kedge_key_routes_t aanf_groups;         /* aanf.groups: home network + RID -> AAnF apiRoots */
  kedge_sbi_client_options_t aanf_client; /* mTLS toward the AAnFs (3gpp-akma, SPEC.md 9) */
  unsigned retry_after_s;                 /* Retry-After when no AUSF answered */
  kedge_nrf_disc_t *disc;                 /* with nrf.uri: `discover` groups (SPEC.md 7) */
  nef_oauth_t oauth;
  nef_revocation_t revocation;

  /* run time */
  kedge_sbi_server_t *srv;
  kedge_counter_t *requests[NEF_OUT__COUNT];
  kedge_counter_t *ausf_unreachable, *ausf_timeouts, *ausf_answers;
  kedge_histogram_t *ausf_latency;
  kedge_counter_t *akma_requests[NEF_OUT__COUNT];
  kedge_counter_t *aanf_unreachable, *aanf_timeouts, *aanf_answers;
  kedge_histogram_t *aanf_latency;
} nef_t;

/* config.c */
kedge_err_t nef_read_config(kedge_config_node_t *root, void *state);
void nef_config_free(nef_t *nef);

/* af_table.c: the AF whose afId (normalised) this is, or NULL. */
nef_af_t *nef_af_find(nef_t *nef, const char *af_id);
/* The KedgeAfKeyRequest as 3gpp-kedge/retrieve checks it (also for fuzz/fuzz-nef-bodies.c). */
extern const kedge_json_member_t nef_key_request_members[];
bool nef_af_serves_home(const nef_af_t *af, const kedge_plmn_t *home);

/* rate_limit.c: admission of one request of `af` at `now_us` (CLOCK_MONOTONIC). KEDGE_OK: a
 * slot is held until nef_rate_release(); KEDGE_ERR_BUSY: refused, *retry_after_s says when to
 * come back (at least 1), *why whether the rate or the concurrency cap refused it. */
kedge_err_t nef_rate_admit(nef_af_t *af, int64_t now_us, unsigned *retry_after_s, const char **why);
void nef_rate_release(nef_af_t *af);
/* Makes the AF's token bucket from its rate and burst (none for rate 0); nef_rate_fini frees. */
kedge_err_t nef_rate_init(nef_af_t *af);
void nef_rate_fini(nef_af_t *af);

/* oauth.c: checks the Authorization header of a request (RFC 6750 2.1). KEDGE_OK: allowed (or
 * OAuth is off). Otherwise the request has been answered (401, or 403 insufficient_scope)
 * with WWW-Authenticate, and *status says why. */
kedge_err_t nef_oauth_check(nef_t *nef, kedge_sbi_request_t *req, kedge_jwt_status_t *status);

/* nausf_client.c: one key-service client toward the AUSFs per worker (on an SBI client made
 * when the workers start, freed after their loops stopped), and the one of the worker serving
 * `req`. */
kedge_err_t nef_ausf_clients_setup(nef_t *nef, kedge_sbi_server_t *srv);
kedge_key_client_t *nef_ausf_client(const kedge_sbi_request_t *req);
/* The same toward the AAnFs (aanf.groups); NULL when none is configured. */
kedge_key_client_t *nef_aanf_client(const kedge_sbi_request_t *req);

/* kedge_retrieve.c: POST /3gpp-kedge/v1/retrieve and POST /3gpp-akma/v1/retrieve (routes,
 * metrics, the key-service clients). */
kedge_err_t nef_retrieve_setup(nef_t *nef, kedge_sbi_server_t *srv);

/* revocation_relay.c */
kedge_err_t nef_revocation_read_config(nef_t *nef, kedge_config_node_t *root);
kedge_err_t nef_revocation_setup(nef_t *nef, kedge_sbi_server_t *srv);
void nef_revocation_teardown(nef_t *nef);
/* The URI the NEF gives the AUSF as revocCallbackUri (after the server started), or NULL
 * when revocation is off. Any worker. */
const char *nef_revocation_callback_uri(nef_t *nef);
/* The AF `af_id` got `kedge_id` and asked to hear of its revocation at `uri`. Any worker. */
void nef_revocation_subscribe(nef_t *nef, const char *kedge_id, const char *af_id, const char *uri);

#endif
