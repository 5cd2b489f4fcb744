/* The AUSF's 5G AKA contexts (TS 33.501 6.1.3.2 step 5-11): what the AUSF keeps between
 * ue-authentications and 5g-aka-confirmation: XRES*, KAUSF and the SUPI, under an unguessable
 * authCtxId (128 random bits), for a bounded time and in a bounded number. Shared by all worker
 * threads (a confirmation may arrive on another connection than the request). */
#ifndef KEDGE_AUSF_CONTEXT_H
#define KEDGE_AUSF_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kedge/aka.h"
#include "kedge/edge.h"
#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/time.h"

#define AUSF_CTX_ID_LEN        32 /* hex of 16 random octets */
#define AUSF_AUTH_EVENT_ID_MAX 64 /* the UDM's authEventId (the last segment of its Location) */

typedef struct ausf_auth_ctx {
  char id[AUSF_CTX_ID_LEN + 1];
  char supi[KEDGE_SUPI_MAX + 1];
  char snn[KEDGE_SNN_LEN + 1];
  char consumer[254]; /* the SAN DNS name that created it: only it may confirm */
  char routing_id[KEDGE_RID_MAX + 1];
  bool edge_ind;
  bool akma_ind;        /* the UDM's akmaInd (TS 29.503): register K_AKMA (SPEC.md 9) */
  bool akma_registered; /* the AAnF took this authentication's anchor key */
  bool rid_from_udm;    /* routing_id came from the UDM's routingId (SPEC.md 7) */
  uint8_t xres_star[KEDGE_RES_STAR_LEN];
  uint8_t kausf[KEDGE_KAUSF_LEN];
  int64_t expiry_ms; /* CLOCK_MONOTONIC */
  /* after the confirmation (the table of confirmed authentications, for DELETE) */
  char kedge_id[KEDGE_ID_MAX + 1];                /* the edge key derived, or "" */
  char auth_event_id[AUSF_AUTH_EVENT_ID_MAX + 1]; /* the UDM's AuthEvent, or "" */
  char udm_root[256]; /* the apiRoot of the UDM that gave the vector: auth-events go there */
} ausf_auth_ctx_t;

typedef struct ausf_ctx_table ausf_ctx_table_t;

kedge_err_t ausf_ctx_table_new(size_t max_contexts, ausf_ctx_table_t **table);
void ausf_ctx_table_free(ausf_ctx_table_t *table); /* wipes every context */

/* Adds a copy of *ctx (its id is filled in here from the CSPRNG); KEDGE_ERR_BUSY when
 * max_contexts are live. */
kedge_err_t ausf_ctx_add(ausf_ctx_table_t *table, ausf_auth_ctx_t *ctx);

/* Adds a copy of *ctx under its own id (a confirmed authentication, kept for
 * DELETE .../5g-aka-confirmation). When max_contexts are live the oldest is dropped first:
 * the table stays bounded and the newest authentications stay deletable. */
kedge_err_t ausf_ctx_put(ausf_ctx_table_t *table, const ausf_auth_ctx_t *ctx);

/* Removes the context `id` and copies it out: a context is confirmed at most once (replays
 * find nothing). KEDGE_ERR_NOT_FOUND when unknown or expired (one answer for both). */
kedge_err_t ausf_ctx_take(ausf_ctx_table_t *table, const char *id, ausf_auth_ctx_t *out);

/* Drops (and wipes) expired contexts; returns how many. Called from a timer. */
size_t ausf_ctx_purge(ausf_ctx_table_t *table);
size_t ausf_ctx_count(ausf_ctx_table_t *table);

#endif
