/* kedge-ecsd: the Edge Configuration Server (TS 23.558 8.3, TS 24.558 EDGE-4) that
 * authenticates EECs with TLS 1.3 and an external PSK (SPEC.md 4): Kedge ID as the identity,
 * Kedge (profile kedge) or K_ECS (profile bound, SPEC.md 6) as the key, fetched from the AUSF
 * (Nausf_UEAuthentication_keyrequest, in the operator's domain) or the NEF (outside it) while
 * the handshake waits, without blocking other connections. Inside the tunnel: HTTP/2 with
 * the ECS service provisioning API. Design: docs/ecs.md.
 *
 * This header: the ECS's configuration and run-time state (config.c, ecs.c). Each other concern
 * has its own: psk_handshake.h, key_fetch.h, worker.h, binder_alert.h, conn_binding.h,
 * service_provisioning.h, key_cache.h, key_revocation.h, rate_limit.h, psk_identity.h. */
#ifndef KEDGE_ECS_H
#define KEDGE_ECS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/key_client.h"
#include "kedge/metrics.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_server.h"
#include "key_cache.h"
#include "key_revocation.h"
#include "rate_limit.h"
#include "service_provisioning.h"

typedef enum ecs_source_type { ECS_SOURCE_AUSF, ECS_SOURCE_NEF, ECS_SOURCE_AANF } ecs_source_type_t;
/* SPEC.md 6 and 9: kedge (Kedge), bound (K_ECS), akma (identity A-KID, key K_AF for ecs_id) */
typedef enum ecs_profile { ECS_PROFILE_KEDGE, ECS_PROFILE_BOUND, ECS_PROFILE_AKMA } ecs_profile_t;

/* How a handshake ended (metric kedge_ecs_handshakes_total{outcome}). */
typedef enum ecs_outcome {
  ECS_OUTCOME_SUCCESS,          /* handshake done, connection handed to HTTP/2 */
  ECS_OUTCOME_BAD_BINDER,       /* a real key, but the client's binder did not verify */
  ECS_OUTCOME_UNKNOWN_IDENTITY, /* dummy key (unknown, expired, malformed identity) */
  ECS_OUTCOME_KEY_SOURCE_ERROR, /* internal_error: key source down, slow, 403/429/5xx */
  ECS_OUTCOME_RATE_LIMITED,     /* fetch rate limit: dummy key, decrypt_error (issue 12) */
  ECS_OUTCOME_NO_PSK,           /* no PSK offered, or only psk_ke when it is not allowed */
  ECS_OUTCOME_NO_ALPN,          /* handshake done without ALPN h2 (RFC 9113 3.2) */
  ECS_OUTCOME_TIMEOUT,          /* handshake_timeout passed */
  ECS_OUTCOME_BUSY,             /* shed for a newer handshake (issue 12), or shutting down */
  ECS_OUTCOME_FAILED,           /* anything else (protocol error, peer closed) */
  ECS_OUTCOME__COUNT
} ecs_outcome_t;

/* Key lookup results (metric kedge_ecs_key_lookups_total{result}). */
typedef enum ecs_lookup {
  ECS_LOOKUP_HIT,          /* key cache */
  ECS_LOOKUP_NEGATIVE_HIT, /* negative cache: dummy key without a fetch */
  ECS_LOOKUP_MALFORMED,    /* not a Kedge ID: dummy key without a fetch */
  ECS_LOOKUP_NO_ROUTE,     /* no route for its home network / RID: dummy key */
  ECS_LOOKUP_FETCH,        /* a fetch started */
  ECS_LOOKUP_JOINED,       /* joined a fetch already in flight for the same identity */
  ECS_LOOKUP_LIMITED,      /* rate limit or max_pending: dummy key without a fetch */
  ECS_LOOKUP__COUNT
} ecs_lookup_t;

typedef struct ecs {
  /* configuration */
  ecs_profile_t profile;
  const char *ecs_id; /* normalised (ecs_id_buf); NULL unless configured */
  char ecs_id_buf[KEDGE_ECS_ID_MAX + 1];
  bool allow_psk_ke;
  ecs_source_type_t source;
  const char *af_id;         /* NEF only */
  kedge_key_routes_t routes; /* key_source.routes (or key_source.uri) */
  kedge_nrf_disc_t *disc;    /* with nrf.uri: `discover` routes (SPEC.md 7) */
  kedge_sbi_client_options_t client;
  size_t max_pending_fetches; /* per worker */
  size_t key_cache_size;
  int64_t key_cache_ttl_ms;
  size_t negative_cache_size;
  int64_t negative_cache_ttl_ms;
  int64_t max_retry_after_ms; /* a key source's Retry-After is honoured up to this */
  kedge_key_api_t api;        /* AUSF or NEF Kedge API, from source */
  ecs_rate_config_t rate;
  unsigned handshake_timeout_ms; /* sbi.limits.handshake_timeout */
  int64_t answer_floor_ms;       /* key_cache.answer_floor: no identity answered sooner */
  int64_t answer_floor_max_ms;   /* key_cache.answer_floor_max: what the fetch time may add */
  ecs_provisioning_t prov;
  ecs_revocation_t revocation; /* key_revocation.h */

  /* run time */
  kedge_sbi_server_t *srv;
  SSL_CTX *ssl_ctx;
  ecs_key_cache_t *keys, *negative;
  ecs_rate_limit_t *rate_limit;
  kedge_counter_t *m_outcome[ECS_OUTCOME__COUNT];
  kedge_counter_t *m_lookup[ECS_LOOKUP__COUNT];
  kedge_counter_t *m_fetch[KEDGE_KEY__COUNT]; /* by kedge_key_outcome_t */
  kedge_histogram_t *m_fetch_seconds;
  kedge_gauge_t *m_handshakes;
  kedge_gauge_t *m_fetches;
  kedge_gauge_t *m_answer_floor;
  _Atomic int64_t fetch_avg_us;    /* running average of key fetch times (the answer floor) */
  _Atomic int64_t answer_floor_us; /* the floor m_answer_floor shows */
} ecs_t;

/* "AUSF", "NEF", "AAnF" for logs; "kedge", "bound", "akma". */
const char *ecs_source_name(const ecs_t *ecs);
const char *ecs_profile_name(ecs_profile_t profile);

/* ---- config.c ---- */
kedge_err_t ecs_read_config(kedge_config_node_t *root, void *state);
void ecs_config_free(ecs_t *ecs);

/* ---- ecs.c: set-up and tear-down of every part ---- */
kedge_err_t ecs_setup(ecs_t *ecs, kedge_sbi_server_t *srv, char *why, size_t why_size);
void ecs_teardown(ecs_t *ecs);
void ecs_count_outcome(ecs_t *ecs, ecs_outcome_t outcome);
const char *ecs_outcome_name(ecs_outcome_t outcome);
/* What set-up would refuse in key_source.tls (CA, client certificate, key): kedge_app_t.check. */
kedge_err_t ecs_check(void *state, char *why, size_t why_size);

#endif
