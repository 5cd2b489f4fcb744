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

typedef struct edge_put {
  ausf_confirmation_t *c;
  char kedge_id[KEDGE_ID_MAX + 1];
} edge_put_t;

static void stored(kedge_err_t err, void *arg)
{
  edge_put_t *p = arg;
  ausf_t *ausf = p->c->ausf;
  if (err) {
    kedge_counter_add(ausf->keys_store_failed, 1);
    ausf_confirmation_answer(p->c, err, "KEY_STORE_UNAVAILABLE");
  } else {
    kedge_counter_add(ausf->keys_stored, 1);
    kedge_log_info("edge keys for %s stored: Kedge ID %s", p->c->ctx.supi, p->kedge_id);
    memcpy(p->c->ctx.kedge_id, p->kedge_id, sizeof(p->c->ctx.kedge_id)); /* for a DELETE */
    ausf_confirmation_answer(p->c, KEDGE_OK, NULL);
  }
  free(p);
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

void ausf_edge_on_success(ausf_confirmation_t *c)
{
  ausf_t *ausf = c->ausf;
  if (!derive_for(ausf, &c->ctx)) {
    ausf_confirmation_answer(c, KEDGE_OK, NULL);
    return;
  }
  kedge_keystore_record_t rec = {0};
  kedge_supi_t supi;
  edge_put_t *p = calloc(1, sizeof(*p));
  kedge_err_t err = p ? kedge_supi_parse(c->ctx.supi, &supi) : KEDGE_ERR_NOMEM;
  /* SPEC.md 2: the UDM's routing indicator and the home network's MCC/MNC */
  if (!err)
    err = kedge_derive_kedge_and_id(c->ctx.kausf, &supi, c->ctx.routing_id, &ausf->home_network,
                                    rec.kedge, rec.kedge_id);
  if (!err) {
    memcpy(rec.supi, supi.value, supi.len + 1);
    rec.created_ms = kedge_wall_ms();
    rec.expiry_ms = rec.created_ms + ausf->key_lifetime_ms;
    memcpy(p->kedge_id, rec.kedge_id, sizeof(p->kedge_id));
    p->c = c;
    err = kedge_keystore_put(ausf_worker_of(c->req)->keys, &rec, stored, p);
  }
  OPENSSL_cleanse(&rec, sizeof(rec)); /* the store sealed its own copy */
  if (err) {
    free(p);
    kedge_counter_add(ausf->keys_store_failed, 1);
    ausf_confirmation_answer(c, err, "SYSTEM_FAILURE");
  }
}

/* ---- revocation ---- */

typedef struct revoke {
  ausf_t *ausf;
  ausf_revoke_fn done;
  void *arg;
  char supi[KEDGE_SUPI_MAX + 1];
  char kedge_id[KEDGE_ID_MAX + 1];
  char reason[32];
} revoke_t;

static void revoked(kedge_err_t err, void *arg)
{
  revoke_t *r = arg;
  ausf_t *ausf = r->ausf;
  if (!err) {
    kedge_counter_add(ausf->keys_revoked, 1);
    kedge_log_info("edge keys of %s revoked (%s)%s%s", r->supi, r->reason,
                   r->kedge_id[0] ? ": Kedge ID " : "", r->kedge_id);
  } else if (err != KEDGE_ERR_NOT_FOUND) {
    kedge_log_warn("edge keys of %s could not be revoked (%s): %s", r->supi, r->reason,
                   kedge_strerror(err));
  }
  r->done(err, r->arg);
  free(r);
}

kedge_err_t ausf_edge_revoke(ausf_t *ausf, kedge_keystore_t *ks, const char *supi,
                             const char *kedge_id, const char *reason, ausf_revoke_fn done,
                             void *arg)
{
  if (!ausf->edge_enabled || !ks)
    return KEDGE_ERR_NOT_FOUND; /* no store: nothing was ever derived here */
  revoke_t *r = calloc(1, sizeof(*r));
  if (!r)
    return KEDGE_ERR_NOMEM;
  r->ausf = ausf;
  r->done = done;
  r->arg = arg;
  snprintf(r->supi, sizeof(r->supi), "%s", supi);
  snprintf(r->kedge_id, sizeof(r->kedge_id), "%s", kedge_id ? kedge_id : "");
  snprintf(r->reason, sizeof(r->reason), "%s", reason);
  kedge_err_t err = kedge_id && kedge_id[0]
                        ? kedge_keystore_delete_key(ks, supi, kedge_id, revoked, r)
                        : kedge_keystore_delete_supi(ks, supi, revoked, r);
  if (err)
    free(r);
  return err;
}
