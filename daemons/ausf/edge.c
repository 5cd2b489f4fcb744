/* Step 2 of SPEC.md 0 at the AUSF: on AUTHENTICATION_SUCCESS of an edge-capable subscriber
 * (edge.enabled and the UDM's edgeInd), derive Kedge and Kedge ID from KAUSF before it is
 * dropped (the solution's NOTE 1) and store them, replacing the SUPI's previous key; only a
 * stored key lets the confirmation succeed. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "ausf.h"
#include "kedge/log.h"

typedef struct edge_put {
  ausf_confirmation_t *c;
  char kedge_id[KEDGE_ID_MAX + 1];
} edge_put_t;

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
    /* the store replaced the SUPI's previous key in the same transaction */
    ausf_edge_replaced(ausf, p->c->ctx.supi, p->kedge_id);
    ausf_confirmation_answer(p->c, KEDGE_OK, NULL);
  }
  free(p);
}

void ausf_edge_on_success(ausf_confirmation_t *c)
{
  ausf_t *ausf = c->ausf;
  if (!ausf->edge_enabled || !c->ctx.edge_ind) {
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
    rec.created_ms = wall_ms();
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

/* ---- revocation (SPEC.md 7: a delete is a key revocation) ---- */

typedef struct edge_delete {
  ausf_t *ausf;
  ausf_revoke_cause_t cause;
  kedge_keystore_done_fn done;
  void *arg;
  char supi[KEDGE_SUPI_MAX + 1];
} edge_delete_t;

void ausf_edge_replaced(ausf_t *ausf, const char *supi, const char *new_kedge_id)
{
  ausf_revocation_notify(ausf, supi, new_kedge_id, AUSF_REVOKE_REPLACED);
}

static void deleted(kedge_err_t err, void *arg)
{
  edge_delete_t *d = arg;
  /* The key is gone from the store (or was not there: a subscriber may still hold a key
   * another AUSF instance deleted); either way no consumer should keep it. */
  if (!err || err == KEDGE_ERR_NOT_FOUND)
    ausf_revocation_notify(d->ausf, d->supi, NULL, d->cause);
  if (!err)
    kedge_log_info("edge keys for %s deleted (%s)", d->supi, ausf_revoke_cause_name(d->cause));
  if (d->done)
    d->done(err, d->arg);
  free(d);
}

kedge_err_t ausf_edge_revoke(ausf_t *ausf, kedge_keystore_t *keys, const char *supi,
                             ausf_revoke_cause_t cause, kedge_keystore_done_fn done, void *arg)
{
  if (!ausf || !keys || !supi || strlen(supi) > KEDGE_SUPI_MAX)
    return KEDGE_ERR_INVALID_ARG;
  edge_delete_t *d = calloc(1, sizeof(*d));
  if (!d)
    return KEDGE_ERR_NOMEM;
  d->ausf = ausf;
  d->cause = cause;
  d->done = done;
  d->arg = arg;
  memcpy(d->supi, supi, strlen(supi) + 1);
  kedge_err_t err = kedge_keystore_delete_supi(keys, supi, deleted, d);
  if (err)
    free(d);
  return err;
}
