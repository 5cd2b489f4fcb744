/* kedge-ausfd: the AUSF (TS 23.501 6.2.8, TS 33.501 6.1.3.2): 5G AKA toward the SEAF with
 * vectors from the UDM (Nausf_UEAuthentication, TS 29.509), and, after a successful AKA, the
 * edge keys (SPEC.md 2) and their key service. */
#ifndef KEDGE_AUSF_H
#define KEDGE_AUSF_H

#include <stdbool.h>
#include <stddef.h>

#include "context.h"
#include "kedge/config.h"
#include "kedge/json_check.h"
#include "kedge/kdf.h"
#include "kedge/keystore.h"
#include "kedge/list.h"
#include "kedge/metrics.h"
#include "kedge/nrf.h"
#include "kedge/ratelimit.h"
#include "kedge/revocation.h"
#include "kedge/sbi_client.h"
#include "kedge/sbi_notify.h"
#include "kedge/sbi_server.h"
#include "kedge/seal.h"
#include "kedge/time.h"

/* An allowed consumer of ue-authentications: a SEAF/AMF by certificate SAN DNS name, with
 * the serving network names it may authenticate for ("*" = any). */
typedef struct ausf_seaf {
  const char *name;
  const char *const *serving_networks;
  size_t n_serving_networks;
} ausf_seaf_t;

/* The AAnF that keeps the anchor keys of subscribers with these routing indicators
 * (akma.aanf, SPEC.md 9: picked by RID; "*" matches any). */
#define AUSF_AANF_DISCOVER "discover" /* akma.aanf[].uri: found at the NRF by RID (SPEC.md 7) */
typedef struct ausf_aanf_route {
  const char *const *rids;
  size_t n_rids;
  const char *uri; /* apiRoot, https://, or AUSF_AANF_DISCOVER */
} ausf_aanf_route_t;

/* A consumer of Nausf_UEAuthentication_keyrequest (SPEC.md 3): an internal ECS or the NEF, by
 * certificate SAN DNS name, with the PSK profiles (SPEC.md 6) it may use. */
typedef struct ausf_key_consumer {
  const char *name;
  bool profile_kedge; /* may receive Kedge itself (no ecsId) */
  bool profile_bound; /* may receive K_ECS (with ecsId) */
  bool relay;         /* listed in keyrequest.relays: any ecsId (the NEF) */
} ausf_key_consumer_t;

/* Why a key ends before its expiry (KedgeRevokedKey.cause in
 * api/TS29509_Nausf_UEAuthentication_keyrequest.yaml). */
typedef enum ausf_revoke_cause {
  AUSF_REVOKE_REPLACED, /* a new primary authentication of the SUPI replaced it (SPEC.md 2) */
  AUSF_REVOKE_DELETED,  /* deleted: 5g-aka-confirmation DELETE, deregister (SPEC.md 7) */
  AUSF_REVOKE_EXPIRED,  /* ended early by the AUSF for another reason */
  AUSF_REVOKE__COUNT
} ausf_revoke_cause_t;

typedef struct ausf_revocation ausf_revocation_t;

/* edge.derive (SPEC.md 7): when the AUSF derives edge keys at 5G AKA success. */
typedef enum ausf_edge_derive {
  AUSF_DERIVE_UDM_FLAG, /* when the UDM marks the subscriber (the vendor-specific edgeInd) */
  AUSF_DERIVE_ALWAYS,   /* for every subscriber (a stock UDM that sends no flag) */
  AUSF_DERIVE_NEVER,
} ausf_edge_derive_t;

typedef struct ausf {
  /* configuration */
  const char *api_root;    /* absolute URI prefix for Location/_links; NULL: from sbi */
  const char *instance_id; /* nfInstanceId (kedge_app_nf_instance_id): ausfInstanceId */
  ausf_seaf_t *seafs;
  size_t n_seafs;
  int64_t context_expiry_ms; /* an AKA context not confirmed in time is gone */
  size_t max_contexts;
  size_t max_confirmed; /* confirmed authentications kept for a DELETE (oldest dropped) */
  const char *udm_uri;  /* static UDM apiRoot; NULL: discovered at the NRF (SPEC.md 7) */
  kedge_sbi_client_options_t udm_client;
  struct kedge_nrf_disc *disc;   /* NRF discovery (nrf.uri; NULL without), shared by workers */
  int64_t auth_event_timeout_ms; /* udm.auth_event_timeout: the SEAF waits at most this long */

  /* edge keys (SPEC.md 2) and their key service */
  bool edge_enabled;
  ausf_edge_derive_t edge_derive;
  int64_t key_lifetime_ms;
  kedge_plmn_t home_network;        /* the Kedge ID realm */
  kedge_keystore_config_t keystore; /* keystore:, redis:, edge.master_key */
  ausf_key_consumer_t *key_consumers;
  size_t n_key_consumers;
  /* AKMA (SPEC.md 9): register K_AKMA and the A-KID at the AAnF after 5G AKA */
  bool akma_enabled;
  ausf_aanf_route_t *aanf_routes;
  size_t n_aanf_routes;
  kedge_sbi_client_options_t aanf_client;
  double keyrequest_rate;      /* keyrequest.per_consumer_rate: per second; 0: no limit */
  double keyrequest_burst;     /* keyrequest.per_consumer_burst */
  bool testing;                /* testing.enabled: the knobs below are honoured */
  int64_t keyrequest_delay_ms; /* testing: answers of kedge-keys/retrieve wait this long */

  /* revocation: notices to consumers that gave revocCallbackUri (key_revocation.c) */
  bool revocation_enabled;
  size_t revocation_max_subscriptions;
  kedge_sbi_notifier_options_t revocation_notify;
  kedge_sbi_client_options_t revocation_client; /* the AUSF's SBI certificate */
  ausf_revocation_t *revocation;

  /* run time */
  kedge_counter_t *keys_stored, *keys_store_failed, *keys_revoked, *keyrequests_ok,
      *keyrequests_not_found, *keyrequests_refused, *keyrequests_failed, *keyrequests_limited;
  kedge_counter_t *keys_put_undone;         /* key store puts undone (worker.c put_undone) */
  kedge_counter_t *keys_checkpoints_inline; /* the SQLite writer's own WAL checkpoints */
  kedge_rate_t *keyrequest_limit;           /* one bucket per consumer (issue 12) */
  kedge_sbi_server_t *srv;
  ausf_ctx_table_t *contexts;
  ausf_ctx_table_t *confirmed; /* confirmed authentications, for DELETE 5g-aka-confirmation */
  struct event *purge_timer;
  kedge_counter_t *aka_success, *aka_failure, *aka_rejected, *udm_errors;
  kedge_counter_t *akma_registered, *akma_failed, *akma_removed, *akma_remove_failed;
  kedge_counter_t *auth_events_ok, *auth_events_failed, *auth_removals_ok, *auth_removals_failed;
  kedge_counter_t *auth_removals_no_id; /* ResultRemoval due, but the AuthEvent POST gave no id */
  kedge_gauge_t *contexts_live;
  kedge_gauge_t *confirmed_live; /* ausf->confirmed's size, set by the purge timer */
} ausf_t;

kedge_err_t ausf_read_config(kedge_config_node_t *root, void *state);

/* Nausf_UEAuthentication: ue-authentications and 5g-aka-confirmation. */
kedge_err_t ausf_ueau_setup(ausf_t *ausf, kedge_sbi_server_t *srv);
/* Request bodies as the handlers check them (TS 29.509 6.1.6.2.2 AuthenticationInfo,
 * 6.1.6.2.5 ConfirmationData; SPEC.md 3 KedgeKeyRequest), and the UDM's
 * AuthenticationInfoResult (TS 29.503 6.3.6.2.3) read into ctx: false unless it holds a
 * well-formed 5G HE AV. Outside the handlers for fuzz/fuzz-ausf-bodies.c. */
extern const kedge_json_member_t ausf_auth_info_members[];
extern const kedge_json_member_t ausf_confirmation_members[];
extern const kedge_json_member_t ausf_key_request_members[];
bool ausf_read_vector(const json_t *body, ausf_auth_ctx_t *ctx, uint8_t rand[16], uint8_t autn[16]);
void ausf_ueau_teardown(ausf_t *ausf);

/* What belongs to one worker's event loop (kedge_sbi_server_set_worker_hooks). */
typedef struct ausf_worker {
  kedge_sbi_client_t *udm;  /* HTTP/2 client toward the UDM */
  kedge_keystore_t *keys;   /* this loop's handle on the key store (NULL without edge) */
  kedge_sbi_client_t *aanf; /* HTTP/2 client toward the AAnFs (NULL without akma) */
  kedge_sbi_client_t *nrf;  /* toward the NRF for discovery (NULL with a static udm.uri) */
  /* Confirmations whose steps (AuthEvent, key store put, AKMA) are still out: at shutdown
   * (worker_fini) the ones the drain did not see end are failed, wiped and freed. */
  LIST_HEAD(, ausf_confirmation) confirmations;
  LIST_HEAD(, removal_call) removals; /* ResultRemovals sent, not yet answered (nudm_ueau.c) */
} ausf_worker_t;

kedge_err_t ausf_workers_setup(ausf_t *ausf, kedge_sbi_server_t *srv);
ausf_worker_t *ausf_worker_of(const kedge_sbi_request_t *req);

/* A successful confirmation on its way out (TS 33.501 6.1.3.2 step 11-12). The edge-key step
 * (SPEC.md 0, step 2) runs between the RES* check and the answer, while KAUSF is still here:
 * it reports to its completion callback exactly once, possibly later (after a key store
 * write); an error there makes the confirmation fail with 503 and a cause, never a success
 * without a key. The answer wipes KAUSF. */
typedef void (*ausf_edge_done_fn)(struct ausf_confirmation *c, kedge_err_t err, const char *cause);
struct akma_call;
typedef struct ausf_confirmation {
  ausf_t *ausf;
  kedge_sbi_request_t *req;
  ausf_worker_t *w;                   /* the loop it runs on */
  LIST_ENTRY(ausf_confirmation) link; /* in w->confirmations while steps are out */
  ausf_auth_ctx_t ctx;
  bool success; /* RES* matched */
  /* After a match the AuthEvent POST and the edge-key step (then AKMA) run at once; the answer
   * waits for both (nausf_ueau.c confirmation_step_done). */
  unsigned pending;
  kedge_err_t edge_err;   /* the edge-key step's result */
  const char *edge_cause; /* its 503's cause (static string) */
  /* The steps' own state, here so that a confirmation abandoned at shutdown (their callbacks
   * never run) frees all of it: the edge step's put (edge.c), the AuthEvent (nudm_ueau.c), the
   * AKMA registration (akma.c, allocated: it holds the AkmaKeyInfo body). */
  ausf_edge_done_fn edge_done;
  char edge_kedge_id[KEDGE_ID_MAX + 1];
  void (*event_done)(struct ausf_confirmation *c);
  struct akma_call *akma;
  /* HMAC keyed once with KAUSF for KSEAF (TS 33.501 A.6) and the edge keys (SPEC.md 2): made by
   * the first of them (ausf_confirmation_kausf_key), wiped and freed with the confirmation */
  kedge_kdf_key_t *kausf_key;
} ausf_confirmation_t;

/* The confirmation's KDF key keyed with its KAUSF, set up on the first call. */
kedge_err_t ausf_confirmation_kausf_key(ausf_confirmation_t *c, kedge_kdf_key_t **key);

/* worker.c at shutdown, after the worker's loop ended and its key store and clients were closed
 * (so no step's callback can come): a confirmation still waiting is answered 503 if its stream
 * is still there (normally the drain's end closed it), logged, wiped and freed. */
void ausf_confirmation_abandon(ausf_confirmation_t *c);
/* akma.c: frees the AKMA step's state of an abandoned confirmation. */
void ausf_akma_abandon(ausf_confirmation_t *c);

/* ausf_edge_done_fn, the edge-key step's end: KEDGE_OK when the key is stored (or none was
 * due: edge off, or no edge flag from the UDM under edge.derive udm-flag); otherwise the error
 * and the `cause` of the 503 ("KEY_STORE_UNAVAILABLE", "SYSTEM_FAILURE"). */
/* Derives Kedge and Kedge ID from c->ctx.kausf and stores them through `keys` (the caller
 * loop's handle; unused when no key is due), then done(c, ...) once, on that loop. */
void ausf_edge_on_success(ausf_confirmation_t *c, kedge_keystore_t *keys, ausf_edge_done_fn done);
/* The AKMA step after the edge step (SPEC.md 9, TS 33.535 6.1 steps 3-5): for an AKMA
 * subscriber derive K_AKMA and the A-KID and register them at the AAnF of the RID, then answer.
 * A failed registration is logged and counted but does not fail the primary authentication
 * (docs/akma.md). */
void ausf_akma_on_success(ausf_confirmation_t *c);
kedge_err_t ausf_akma_setup(ausf_t *ausf, kedge_sbi_server_t *srv);

/* Revokes edge keys now (SPEC.md 7: a delete is a key revocation; the AUSF stops serving the
 * key at once). The one function through which edge keys leave the store before they expire:
 * DELETE .../5g-aka-confirmation and POST .../deregister call it, and whatever must follow a
 * revocation (notifying key consumers, the AAnF's remove-context) belongs here. With
 * `kedge_id`, only that key goes, and only while it is still the SUPI's (a later
 * authentication's key stays); NULL or "": whatever key the SUPI has. `reason` is a short word
 * for the log ("deregistration"). KEDGE_OK: done(err) runs once, later, on the loop of `ks`,
 * with KEDGE_OK (revoked), KEDGE_ERR_NOT_FOUND (nothing to revoke) or a key store error.
 * Anything else (KEDGE_ERR_NOT_FOUND without edge keys here, KEDGE_ERR_BAD_SUPI, ...): no
 * callback. */
typedef void (*ausf_revoke_fn)(kedge_err_t err, void *arg);
/* With AKMA on (SPEC.md 9, 7) the same call removes the SUPI's AKMA context at the AAnF
 * (remove-context): at the AAnF of `akma_rid` when the authentication registered there, or,
 * with `akma_rid` NULL (deregistration: the RID is not known), at every AAnF of akma.aanf.
 * done() then runs after the AAnFs answered too; their failures are logged and counted, not
 * reported (like a failed registration, docs/akma.md). `w` is the caller's worker. */
kedge_err_t ausf_edge_revoke(ausf_t *ausf, ausf_worker_t *w, const char *supi, const char *kedge_id,
                             const char *akma_rid, const char *reason, ausf_revoke_fn done,
                             void *arg);
/* akma.c: remove-context for `supi` at the AAnF of `rid` (NULL: every AAnF of akma.aanf);
 * done(arg) runs once per request started, later, on the loop; returns how many started. */
unsigned ausf_akma_remove(ausf_t *ausf, kedge_sbi_client_t *aanf, const char *supi, const char *rid,
                          const char *reason, void (*done)(void *arg), void *arg);

/* Nudm_UEAuthentication_ResultConfirmation and _ResultRemoval toward the UDM (TS 29.503
 * 5.4.2.3, 5.4.2.4; TS 33.501 6.1.4.1): POST {supi}/auth-events with the result of a
 * confirmation, then done(c) once the UDM answered or udm.auth_event_timeout passed (the
 * AuthEvent's id, if any, in c->ctx.auth_event_id). Never fails the authentication. */
void ausf_auth_event_send(ausf_confirmation_t *c, void (*done)(ausf_confirmation_t *c));
/* PUT {supi}/auth-events/{authEventId} with authRemovalInd: fire and forget (logged). Without
 * an authEventId (the POST failed or timed out) one warning and
 * kedge_ausf_auth_event_removals_total{result="no_event_id"} instead. */
void ausf_auth_event_remove(ausf_t *ausf, ausf_worker_t *w, const ausf_auth_ctx_t *ctx);
/* worker.c at shutdown, after w->udm was freed (their answers never come): frees the removals
 * still in flight, counted as failed, one line. */
void ausf_auth_event_removals_drop(ausf_t *ausf, ausf_worker_t *w);

/* A new authentication's key replaced the SUPI's previous one in the store (SPEC.md 2): the
 * consumers that fetched an older key of the SUPI hear of it (cause REPLACED). The other
 * revocation point is ausf_edge_revoke() (cause DELETED). */
void ausf_edge_replaced(ausf_t *ausf, const char *supi, const char *new_kedge_id);

/* key_revocation.c */
kedge_err_t ausf_revocation_setup(ausf_t *ausf, kedge_sbi_server_t *srv);
void ausf_revocation_teardown(ausf_t *ausf);
const char *ausf_revoke_cause_name(ausf_revoke_cause_t cause);
/* A consumer got `kedge_id` (the SUPI's key until expiry_ms) and gave `uri`: KEDGE_OK, or
 * KEDGE_ERR_BUSY when max_subscriptions are kept (counted; the TTL rule still holds),
 * KEDGE_ERR_UNSUPPORTED when revocation is off. Any worker. */
kedge_err_t ausf_revocation_subscribe(ausf_t *ausf, const char *supi, const char *kedge_id,
                                      int64_t expiry_ms, const char *uri);
/* The SUPI's keys other than `keep_kedge_id` (NULL: all), or only `only_kedge_id` when not
 * NULL, are gone: queue a notice to each of their subscribers and forget them. Any worker. */
void ausf_revocation_notify(ausf_t *ausf, const char *supi, const char *keep_kedge_id,
                            const char *only_kedge_id, ausf_revoke_cause_t cause);

/* Nausf_UEAuthentication_keyrequest: POST /nausf-auth/v1/kedge-keys/retrieve */
kedge_err_t ausf_keyrequest_setup(ausf_t *ausf, kedge_sbi_server_t *srv);

/* A KedgeKeyRequest (SPEC.md 3) that passed ausf_key_request_members: the strings are the
 * request's (kedge_sbi_request_strings); ecs_norm is ecsId normalised ("" without ecsId). */
typedef struct ausf_key_request {
  const char *kedge_id;
  const char *ecs_id;       /* NULL: profile kedge */
  const char *callback_uri; /* revocCallbackUri, or NULL */
  char ecs_norm[KEDGE_ECS_ID_MAX + 1];
  kedge_id_t id; /* kedge_id parsed (for kedge_keystore_get_parsed) */
} ausf_key_request_t;
/* keyrequest.c: fills `kr` from the body's members (values[i]: ausf_key_request_members[i],
 * NULL when absent); NULL when they are valid, else the 400 ProblemDetails to answer
 * (MANDATORY_IE_INCORRECT for kedgeId/ecsId, OPTIONAL_IE_INCORRECT for revocCallbackUri;
 * TS 29.500 Table 5.2.7.2-1) for the caller to free. */
enum { AUSF_KR_KEDGE_ID, AUSF_KR_ECS_ID, AUSF_KR_CALLBACK_URI, AUSF_KR_MEMBERS };
json_t *ausf_key_request_parse(const char *const values[AUSF_KR_MEMBERS], ausf_key_request_t *kr);
/* keyrequest.c: the KedgeKeyResponse (SPEC.md 3) {kedgeId, kedge (hex), expiry (RFC 3339)}
 * as JSON text in `out`, for a Kedge ID that passed kedge_id_parse; its length, 0 if it does not
 * fit. The key's hex copy is wiped; the caller wipes `out`. */
#define AUSF_KEY_RESPONSE_MAX (KEDGE_ID_MAX + 2 * KEDGE_KEY_LEN + KEDGE_RFC3339_LEN + 48)
size_t ausf_key_response_format(const char *kedge_id, const uint8_t key[KEDGE_KEY_LEN],
                                int64_t expiry_ms, char out[AUSF_KEY_RESPONSE_MAX]);
/* akma.c: the AAnF apiRoot (or AUSF_AANF_DISCOVER) of akma.aanf for routing indicator `rid`:
 * the first entry listing it exactly or "*" (SPEC.md 9); NULL when none does. */
const char *ausf_aanf_for(const ausf_t *ausf, const char *rid);
/* The edge-key and AKMA steps are over: edge_err says whether the key was kept (KEDGE_OK) or
 * not (then `cause` is the 503's). The SEAF is answered once the AuthEvent POST is over too. */
void ausf_confirmation_answer(ausf_confirmation_t *c, kedge_err_t edge_err, const char *cause);

#endif
