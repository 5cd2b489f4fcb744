/* The NRF client (TS 29.510 Nnrf_NFManagement, SPEC.md 7): a daemon with an `nrf:` section
 * registers its NFProfile (NFRegister, PUT .../nf-instances/{nfInstanceId}), sends the
 * heartbeat (NFUpdate, PATCH replacing /nfStatus) at the interval the NRF answered
 * (heartBeatTimer), registers again when a heartbeat gets 404 (the NRF forgot it), and
 * deregisters (NFDeregister, DELETE) when it stops. An unreachable NRF never stops the
 * daemon: registration is retried with back-off. It runs on its own thread and event loop
 * with the SBI client (kedge/sbi_client.h, mutual TLS). Design notes: docs/nrf.md. */
#ifndef KEDGE_NRF_H
#define KEDGE_NRF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/metrics.h"
#include "kedge/sbi_client.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kedge_config_node;
struct event_base;

/* TS 29.510 SupiRange: start..end (decimal digit strings of equal length) or a pattern. */
typedef struct kedge_nrf_supi_range {
  const char *start, *end, *pattern;
} kedge_nrf_supi_range_t;

/* What the `nrf:` section says (strings point into the config tree). */
typedef struct kedge_nrf_config {
  const char *uri;                     /* the NRF's apiRoot (https://); NULL: no NRF */
  kedge_sbi_client_options_t client;   /* ca/cert/key (default: sbi.tls.*), timeout */
  int64_t retry_min_ms, retry_max_ms;  /* back-off while the NRF does not answer */
  int64_t heartbeat_ms;                /* used when the NRF's answer has no heartBeatTimer */
  const char *const *allowed_nf_types; /* allowedNfTypes of the profile and its services */
  size_t n_allowed_nf_types;
  const char *group_id;                  /* ausfInfo/udmInfo groupId, or NULL */
  const char *const *routing_indicators; /* ausfInfo/udmInfo routingIndicators */
  size_t n_routing_indicators;
  kedge_nrf_supi_range_t *supi_ranges; /* ausfInfo/udmInfo supiRanges (malloc'ed) */
  size_t n_supi_ranges;
  int priority, capacity; /* NFProfile priority/capacity (0..65535); -1: absent */
  const char *fqdn;       /* nf.fqdn: the profile's fqdn, or NULL */
  /* discovery (lib/nrf/disc.c) */
  int64_t discovery_validity_ms; /* when a SearchResult's validityPeriod is unusable */
  size_t discovery_cache_size;   /* cached queries at most */
} kedge_nrf_config_t;

/* Reads `nrf:` of `root` (absent, or nrf.uri null: cfg->uri NULL, no NRF). sbi.tls.{ca,cert,key}
 * are the client's defaults. KEDGE_ERR_CONFIG after recording the problem in the tree. */
kedge_err_t kedge_nrf_config_read(struct kedge_config_node *root, kedge_nrf_config_t *cfg);
void kedge_nrf_config_clear(kedge_nrf_config_t *cfg);

/* This NF as the profile announces it. */
typedef struct kedge_nrf_self {
  const char *nf_instance_id;  /* UUID (kedge_app_nf_instance_id()) */
  const char *nf_type;         /* TS 29.510 NFType: "UDM", "AUSF", ... */
  const char *address;         /* the SBI listen address (IPv4 or IPv6, numeric) */
  uint16_t port;               /* the bound SBI port */
  const char *const *services; /* service names offered, NULL-terminated (may be NULL) */
  bool h2c;                    /* the SBI is plain HTTP/2 (sbi.transport h2c): scheme http */
} kedge_nrf_self_t;

/* The NFProfile (TS 29.510 6.1.6.2.2) for NFRegister: nfInstanceId, nfType, nfStatus
 * REGISTERED, ipv4Addresses/ipv6Addresses, allowedNfTypes, nfServices (serviceInstanceId,
 * serviceName, versions, scheme (https, http when h2c), nfServiceStatus, ipEndPoints), and ausfInfo
 * or udmInfo (groupId, supiRanges, routingIndicators) for an AUSF or UDM, aanfInfoList
 * (routingIndicators) for an AANF, nefInfo (nefId) for a NEF, priority, capacity and fqdn when
 * configured. NULL when out of memory. */
json_t *kedge_nrf_profile(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self);

/* The heartbeat interval in milliseconds from an NFRegister answer: its heartBeatTimer
 * (seconds, TS 29.510 5.2.2.3.2) if present and positive, else `fallback_ms`. */
int64_t kedge_nrf_heartbeat_ms(const json_t *answer, int64_t fallback_ms);

/* The next back-off after `current_ms` (0: the first): retry_min, doubling up to retry_max. */
int64_t kedge_nrf_backoff_ms(const kedge_nrf_config_t *cfg, int64_t current_ms);

typedef enum kedge_nrf_state {
  KEDGE_NRF_UNREGISTERED = 0, /* registering (or retrying) */
  KEDGE_NRF_REGISTERED = 1,   /* the last register or heartbeat was accepted */
  KEDGE_NRF_UNREACHABLE = 2,  /* registered, but the last heartbeat got no answer */
  KEDGE_NRF_DEREGISTERED = 3, /* after kedge_nrf_stop() */
} kedge_nrf_state_t;

typedef struct kedge_nrf kedge_nrf_t;

/* Starts the client thread; the first NFRegister goes out at once. `cfg` and `self` must stay
 * valid until kedge_nrf_stop(). Metrics: kedge_nrf_registration_state (the state above),
 * kedge_nrf_registrations_total{result}, kedge_nrf_heartbeats_total{result}. */
kedge_err_t kedge_nrf_start(const kedge_nrf_config_t *cfg, const kedge_nrf_self_t *self,
                            kedge_metrics_t *metrics, kedge_nrf_t **out);

/* NFUpdate after a reload (TS 29.510 5.2.2.3): `next` (copied; its supi_ranges are taken
 * over and `next` is cleared; its strings must stay valid until kedge_nrf_stop()) replaces the
 * section. When the profile it gives differs from the registered one the whole profile is sent
 * again (PUT, TS 29.510 5.2.2.3.1 "complete replacement"); a new nrf.uri registers there (the
 * old NRF expires the profile). Any thread; the NRF thread applies it. */
kedge_err_t kedge_nrf_update(kedge_nrf_t *nrf, kedge_nrf_config_t *next);

/* The current state (any thread). */
kedge_nrf_state_t kedge_nrf_state(const kedge_nrf_t *nrf);

/* Deregisters (DELETE, waiting at most the client timeout) if registered, stops the thread and
 * frees everything. NULL is a no-op. */
void kedge_nrf_stop(kedge_nrf_t *nrf);

/* ---- Nnrf_NFDiscovery (TS 29.510 5.3.2.2, 6.2.3.2.3.1; lib/nrf/disc.c) ----
 * A consumer asks GET {nrf}/nnrf-disc/v1/nf-instances for producers of one service, keeps the
 * answer for its validityPeriod (per query), and tries the candidates in the order the NRF's
 * priority and capacity give. Asynchronous on the caller's loop and SBI client; the cache is
 * shared by every thread. Design: docs/nrf.md "Discovery". */

#define KEDGE_NRF_API_ROOT_MAX   256 /* scheme://host:port[/apiPrefix] */
#define KEDGE_NRF_CANDIDATES_MAX 8   /* producers kept per answer: more is a misconfigured NRF */

/* One producer of the service asked for: where to send (apiRoot, without the API name). */
typedef struct kedge_nrf_candidate {
  char api_root[KEDGE_NRF_API_ROOT_MAX];
  char nf_instance_id[64];
  int priority; /* the service's priority, else the profile's (lower first, 0..65535) */
  int capacity; /* the service's capacity, else the profile's (higher first) */
} kedge_nrf_candidate_t;

typedef struct kedge_nrf_candidates {
  kedge_nrf_candidate_t c[KEDGE_NRF_CANDIDATES_MAX];
  size_t n;
} kedge_nrf_candidates_t;

/* What a consumer looks for. Exactly one of supi / routing_indicator where the producer is per
 * subscriber (AUSF->UDM by SUPI or, for a SUCI, by its RID and home PLMN; ECS/NEF->AUSF or
 * AAnF by the key ID's RID and home PLMN); neither for any producer of the service. */
typedef struct kedge_nrf_query {
  const char *target_nf_type;    /* TS 29.510 NFType: "UDM", "AUSF", "AANF" */
  const char *service_name;      /* "nudm-ueau", "nausf-kedge", "naanf-akma" */
  const char *supi;              /* supi=imsi-..., or NULL */
  const char *routing_indicator; /* routing-indicator=NNNN, or NULL */
  /* target-plmn-list=[{mcc,mnc}] when both are given: the MNC as written (2 or 3 digits are
   * different PLMNs in TS 29.571 PlmnId; the Kedge ID realm writes 3) */
  const char *target_mcc, *target_mnc;
} kedge_nrf_query_t;

/* The discovery URL (also the cache key): {nrf_uri}/nnrf-disc/v1/nf-instances?target-nf-type=
 * &requester-nf-type=&service-names=[&supi=][&routing-indicator=][&target-plmn-list=], each
 * value percent-encoded (RFC 3986; target-plmn-list is JSON, TS 29.510 6.2.3.2.3.1).
 * KEDGE_ERR_INVALID_ARG for a missing type or service, KEDGE_ERR_TOO_BIG when `size` is small. */
kedge_err_t kedge_nrf_disc_url(const char *nrf_uri, const char *requester_nf_type,
                               const kedge_nrf_query_t *query, char *out, size_t size);

/* Reads a SearchResult (TS 29.510 6.2.6.2.2): the REGISTERED profiles' instances of
 * `service_name` (from nfServiceList, the map, or else nfServices, the array; Open5GS sends
 * either) with scheme https, their apiRoot from the service's ipEndPoints (or fqdn, or the
 * profile's fqdn/address) and apiPrefix, ordered by priority (lower first), then capacity
 * (higher first), then the NRF's order. *validity_ms: validityPeriod (seconds) in ms, or
 * `default_validity_ms` when absent or out of range. KEDGE_ERR_INVALID_ARG when the body is not
 * a SearchResult; KEDGE_OK with out->n == 0 when no profile offers the service. */
kedge_err_t kedge_nrf_search_result_read(const json_t *body, const char *service_name,
                                         int64_t default_validity_ms, kedge_nrf_candidates_t *out,
                                         int64_t *validity_ms);

typedef struct kedge_nrf_disc kedge_nrf_disc_t;
typedef struct kedge_nrf_disc_call kedge_nrf_disc_call_t;

/* Shared discovery state (thread-safe): the NRF's apiRoot, this NF's type (requester-nf-type),
 * the cache, and the metrics kedge_nrf_discovery_total{result="ok"|"cached"|"not_found"|
 * "failed"} (metrics may be NULL). `cfg` must outlive it. */
kedge_err_t kedge_nrf_disc_new(const kedge_nrf_config_t *cfg, const char *requester_nf_type,
                               kedge_metrics_t *metrics, kedge_nrf_disc_t **out);
void kedge_nrf_disc_free(kedge_nrf_disc_t *disc);

/* The cache itself, with the time given (monotonic ms: kedge_now_ms()): a fresh entry for
 * `url` is copied to *out (true); an expired one is dropped (false). Store replaces. */
bool kedge_nrf_disc_cache_get(kedge_nrf_disc_t *disc, const char *url, int64_t now_ms,
                              kedge_nrf_candidates_t *out);
kedge_err_t kedge_nrf_disc_cache_put(kedge_nrf_disc_t *disc, const char *url,
                                     const kedge_nrf_candidates_t *cands, int64_t expiry_ms);

/* The answer: KEDGE_OK with at least one candidate (valid during the callback only);
 * KEDGE_ERR_NOT_FOUND: the NRF knows no producer (an empty SearchResult, or 404);
 * KEDGE_ERR_TIMEOUT / KEDGE_ERR_UNAVAILABLE: the NRF did not answer / could not be reached or
 * answered with an error status or a body that is not a SearchResult. */
typedef void (*kedge_nrf_disc_cb)(kedge_err_t err, const kedge_nrf_candidates_t *cands, void *arg);

/* Discovers: from the cache when fresh, else a GET over `nrf_client` (an SBI client on the
 * caller's loop `base`, with the nrf: section's TLS options). The callback runs later on that
 * loop exactly once unless cancelled, never inside this call. One log line per failure. */
kedge_err_t kedge_nrf_discover(kedge_nrf_disc_t *disc, kedge_sbi_client_t *nrf_client,
                               struct event_base *base, const kedge_nrf_query_t *query,
                               kedge_nrf_disc_cb cb, void *arg, kedge_nrf_disc_call_t **call);
/* The asker went away: no callback. NULL is a no-op. */
void kedge_nrf_discover_cancel(kedge_nrf_disc_call_t *call);

/* Sending to one of several producers (lib/nrf/disc_send.c): `path` (e.g.
 * "/nudm-ueau/v1/...") under each candidate's apiRoot in order, the next one only when the
 * previous could not be reached (KEDGE_ERR_UNAVAILABLE: refused, reset, TLS failed, so the
 * request was not processed; TS 29.500 6.10.3 lets the consumer reselect), each attempt with
 * the SBI client's own retry rules. The callback gets the last answer and the apiRoot that gave
 * it; it runs exactly once unless cancelled. `body` is kept (referenced) until then; a
 * `raw_body` is copied (and wiped with the send). */
typedef struct kedge_nrf_send kedge_nrf_send_t;
typedef void (*kedge_nrf_send_cb)(const kedge_sbi_client_response_t *response, const char *api_root,
                                  void *arg);
kedge_err_t kedge_nrf_send(kedge_sbi_client_t *client, const kedge_nrf_candidates_t *cands,
                           const kedge_sbi_client_request_t *request, const char *path,
                           kedge_nrf_send_cb cb, void *arg, kedge_nrf_send_t **send);
void kedge_nrf_send_cancel(kedge_nrf_send_t *send);

#ifdef __cplusplus
}
#endif
#endif
