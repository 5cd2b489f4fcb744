/* The NRF client (TS 29.510 Nnrf_NFManagement, SPEC.md 7): a daemon with an `nrf:` section
 * registers its NFProfile (NFRegister, PUT .../nf-instances/{nfInstanceId}), sends the
 * heartbeat (NFUpdate, PATCH replacing /nfStatus) at the interval the NRF answered
 * (heartBeatTimer), registers again when a heartbeat gets 404 (the NRF forgot it), and
 * deregisters (NFDeregister, DELETE) when it stops. An unreachable NRF never stops the
 * daemon: registration is retried with back-off. It runs on its own thread and event loop
 * with the SBI client (kedge/sbi_client.h, mutual TLS). Design notes: docs/nrf.md. */
#ifndef KEDGE_NRF_H
#define KEDGE_NRF_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "kedge/error.h"
#include "kedge/metrics.h"
#include "kedge/sbi_client.h"

#ifdef __cplusplus
extern "C" {
#endif

struct kedge_config_node;

/* TS 29.510 SupiRange: start..end (decimal digit strings of equal length) or a pattern. */
typedef struct kedge_nrf_supi_range {
  const char *start, *end, *pattern;
} kedge_nrf_supi_range_t;

/* What the `nrf:` section says (strings point into the config tree). */
typedef struct kedge_nrf_config {
  const char *uri;                       /* the NRF's apiRoot (https://); NULL: no NRF */
  kedge_sbi_client_options_t client;     /* ca/cert/key (default: sbi.tls.*), timeout */
  int64_t retry_min_ms, retry_max_ms;    /* back-off while the NRF does not answer */
  int64_t heartbeat_ms;                  /* used when the NRF's answer has no heartBeatTimer */
  const char *const *allowed_nf_types;   /* allowedNfTypes of the profile and its services */
  size_t n_allowed_nf_types;
  const char *group_id;                  /* ausfInfo/udmInfo groupId, or NULL */
  const char *const *routing_indicators; /* ausfInfo/udmInfo routingIndicators */
  size_t n_routing_indicators;
  kedge_nrf_supi_range_t *supi_ranges;   /* ausfInfo/udmInfo supiRanges (malloc'ed) */
  size_t n_supi_ranges;
} kedge_nrf_config_t;

/* Reads `nrf:` of `root` (absent, or nrf.uri null: cfg->uri NULL, no NRF). sbi.tls.{ca,cert,key} are
 * the client's defaults. KEDGE_ERR_CONFIG after recording the problem in the tree. */
kedge_err_t kedge_nrf_config_read(struct kedge_config_node *root, kedge_nrf_config_t *cfg);
void kedge_nrf_config_clear(kedge_nrf_config_t *cfg);

/* This NF as the profile announces it. */
typedef struct kedge_nrf_self {
  const char *nf_instance_id;     /* UUID (kedge_app_nf_instance_id()) */
  const char *nf_type;            /* TS 29.510 NFType: "UDM", "AUSF", ... */
  const char *address;            /* the SBI listen address (IPv4 or IPv6, numeric) */
  uint16_t port;                  /* the bound SBI port */
  const char *const *services;    /* service names offered, NULL-terminated (may be NULL) */
} kedge_nrf_self_t;

/* The NFProfile (TS 29.510 6.1.6.2.2) for NFRegister: nfInstanceId, nfType, nfStatus
 * REGISTERED, ipv4Addresses/ipv6Addresses, allowedNfTypes, nfServices (serviceInstanceId,
 * serviceName, versions, scheme https, nfServiceStatus, ipEndPoints), and ausfInfo or udmInfo
 * (groupId, supiRanges, routingIndicators) for an AUSF or UDM. NULL when out of memory. */
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

/* The current state (any thread). */
kedge_nrf_state_t kedge_nrf_state(const kedge_nrf_t *nrf);

/* Deregisters (DELETE, waiting at most the client timeout) if registered, stops the thread and
 * frees everything. NULL is a no-op. */
void kedge_nrf_stop(kedge_nrf_t *nrf);

#ifdef __cplusplus
}
#endif
#endif
