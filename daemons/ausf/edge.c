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
    kedge_log_subscriber(KEDGE_LOG_INFO, p->c->ctx.supi, p->kedge_id, "edge keys stored");
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
