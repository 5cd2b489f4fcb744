/* Step 2 of SPEC.md 0 at the AUSF: on AUTHENTICATION_SUCCESS of an edge-capable subscriber
 * (edge.enabled, and edge.derive with the UDM's edge flag, SPEC.md 7), derive Kedge and Kedge ID
 * from KAUSF before it is dropped (the solution's NOTE 1) and store them, replacing the SUPI's
 * previous key; only a stored key lets the confirmation succeed. And the one way edge keys
 * leave the store before they expire: ausf_edge_revoke(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ausf.h"
#include "kedge/log.h"
#include "kedge/time.h"

/* The put's state is the confirmation's (c->edge_done, c->edge_kedge_id): one that shutdown
 * abandons before the store answered leaves nothing behind (ausf_confirmation_abandon). */
static void stored(kedge_err_t err, void *arg)
{
  ausf_confirmation_t *c = arg;
  ausf_edge_done_fn done = c->edge_done;
  c->edge_done = NULL; /* no longer out */
  ausf_t *ausf = c->ausf;
  if (err) {
    kedge_counter_add(ausf->keys_store_failed, 1);
  } else {
    kedge_counter_add(ausf->keys_stored, 1);
    kedge_log_subscriber(KEDGE_LOG_INFO, c->ctx.supi, c->edge_kedge_id, "edge keys stored");
    memcpy(c->ctx.kedge_id, c->edge_kedge_id, sizeof(c->ctx.kedge_id)); /* for a DELETE */
    /* the store replaced the SUPI's previous key in the same transaction */
    ausf_edge_replaced(ausf, c->ctx.supi, c->edge_kedge_id);
  }
  done(c, err, err ? "KEY_STORE_UNAVAILABLE" : NULL);
}

/* SPEC.md 7: edge.derive decides whether the UDM's flag is needed (a stock UDM sends none). */
static bool derive_for(const ausf_t *ausf, const ausf_auth_ctx_t *ctx)
{
  if (!ausf->edge_enabled)
    return false;
  switch (ausf->edge_derive) {
  case AUSF_DERIVE_ALWAYS:
    return true;
  case AUSF_DERIVE_NEVER:
    return false;
  case AUSF_DERIVE_UDM_FLAG:
    break;
  }
  return ctx->edge_ind;
}

void ausf_edge_on_success(ausf_confirmation_t *c, kedge_keystore_t *keys, ausf_edge_done_fn done)
{
  ausf_t *ausf = c->ausf;
  if (!derive_for(ausf, &c->ctx)) {
    done(c, KEDGE_OK, NULL);
    return;
  }
  kedge_keystore_record_t rec = {0};
  kedge_supi_t supi;
  kedge_kdf_key_t *kausf_key = NULL;
  kedge_err_t err = kedge_supi_parse(c->ctx.supi, &supi);
  if (!err) /* the key KSEAF is derived under too (confirmation_respond) */
    err = ausf_confirmation_kausf_key(c, &kausf_key);
  /* SPEC.md 2: the UDM's routing indicator and the home network's MCC/MNC */
  if (!err)
    err = kedge_derive_kedge_and_id_keyed(kausf_key, &supi, c->ctx.routing_id, &ausf->home_network,
                                          rec.kedge, rec.kedge_id);
  if (!err) {
    memcpy(rec.supi, supi.value, supi.len + 1);
    rec.created_ms = kedge_wall_ms();
    rec.expiry_ms = rec.created_ms + ausf->key_lifetime_ms;
    memcpy(c->edge_kedge_id, rec.kedge_id, sizeof(c->edge_kedge_id));
    c->edge_done = done;
    err = kedge_keystore_put(keys, &rec, stored, c);
  }
  OPENSSL_cleanse(&rec, sizeof(rec)); /* the store sealed its own copy */
  if (err) {
    c->edge_done = NULL;
    kedge_counter_add(ausf->keys_store_failed, 1);
    done(c, err, "SYSTEM_FAILURE");
  }
}

/* ---- revocation ---- */

void ausf_edge_replaced(ausf_t *ausf, const char *supi, const char *new_kedge_id)
{
  ausf_revocation_notify(ausf, supi, new_kedge_id, NULL, AUSF_REVOKE_REPLACED);
}

typedef struct revoke {
  ausf_t *ausf;
  ausf_revoke_fn done;
  void *arg;
  unsigned pending;     /* the edge key store call and the AAnF remove-contexts */
  kedge_err_t edge_err; /* what done() reports: the edge keys' fate */
  char supi[KEDGE_SUPI_MAX + 1];
  char kedge_id[KEDGE_ID_MAX + 1];
  char reason[32];
} revoke_t;

static void revoke_step_done(revoke_t *r)
{
  if (--r->pending)
    return;
  r->done(r->edge_err, r->arg);
  free(r);
}

static void akma_removed(void *arg)
{
  revoke_step_done(arg);
}

static void revoked(kedge_err_t err, void *arg)
{
  revoke_t *r = arg;
  ausf_t *ausf = r->ausf;
  r->edge_err = err;
  if (!err) {
    kedge_counter_add(ausf->keys_revoked, 1);
    kedge_log_subscriber(KEDGE_LOG_INFO, r->supi, r->kedge_id[0] ? r->kedge_id : NULL,
                         "edge keys revoked (%s)", r->reason);
  } else if (err != KEDGE_ERR_NOT_FOUND) {
    kedge_log_subscriber(KEDGE_LOG_WARN, r->supi, NULL, "edge keys could not be revoked (%s): %s",
                         r->reason, kedge_strerror(err));
  }
  /* issue 13: the consumers that fetched the key hear of it (key_revocation.c). A SUPI-wide
   * delete that found nothing still clears what they may hold; a named key that is no longer
   * the SUPI's was replaced, and its consumers were told then. */
  if (!err || (err == KEDGE_ERR_NOT_FOUND && !r->kedge_id[0]))
    ausf_revocation_notify(ausf, r->supi, NULL, r->kedge_id[0] ? r->kedge_id : NULL,
                           AUSF_REVOKE_DELETED);
  revoke_step_done(r);
}

kedge_err_t ausf_edge_revoke(ausf_t *ausf, ausf_worker_t *w, const char *supi, const char *kedge_id,
                             const char *akma_rid, const char *reason, ausf_revoke_fn done,
                             void *arg)
{
  kedge_keystore_t *ks = w ? w->keys : NULL;
  const bool edge = ausf->edge_enabled && ks;
  const bool akma = ausf->akma_enabled && w && w->aanf;
  if (!edge && !akma)
    return KEDGE_ERR_NOT_FOUND; /* no store, no AAnF: nothing was ever derived here */
  revoke_t *r = calloc(1, sizeof(*r));
  if (!r)
    return KEDGE_ERR_NOMEM;
  r->ausf = ausf;
  r->done = done;
  r->arg = arg;
  snprintf(r->supi, sizeof(r->supi), "%s", supi);
  snprintf(r->kedge_id, sizeof(r->kedge_id), "%s", kedge_id ? kedge_id : "");
  snprintf(r->reason, sizeof(r->reason), "%s", reason);
  r->edge_err = KEDGE_ERR_NOT_FOUND;
  r->pending = 1; /* held until every step has started */
  kedge_err_t err = KEDGE_OK;
  if (edge) {
    err = kedge_id && kedge_id[0] ? kedge_keystore_delete_key(ks, supi, kedge_id, revoked, r)
                                  : kedge_keystore_delete_supi(ks, supi, revoked, r);
    if (!err)
      r->pending++;
  }
  /* SPEC.md 7, 9: the AKMA anchor registration of that authentication goes too */
  if (!err && akma)
    r->pending += ausf_akma_remove(ausf, w->aanf, supi, akma_rid, reason, akma_removed, r);
  if (err || r->pending == 1) {
    free(r);
    return err ? err : KEDGE_ERR_NOT_FOUND;
  }
  r->pending--; /* every step started: the last to finish calls done() */
  return KEDGE_OK;
}
