/* AKMA at the AUSF (TS 33.535 6.1; SPEC.md 9): after a successful confirmation of a subscriber
 * the UDM marks with akmaInd, derive K_AKMA and the A-KID from KAUSF while it is still here and
 * register them at the AAnF chosen by the routing indicator (Naanf_AKMA_AnchorKey_Register,
 * TS 29.535 register-anchorkey); only then answer the SEAF, which drops KAUSF. A later primary
 * authentication registers a new anchor key, which replaces the old one at the AAnF (the latest
 * per SUPI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ausf.h"
#include "kedge/akma.h"
#include "kedge/hex.h"
#include "kedge/log.h"

typedef struct akma_call {
  ausf_confirmation_t *c;
  char akid[KEDGE_AKID_MAX + 1];
  const char *aanf_uri;
} akma_call_t;

/* akma.aanf: the first entry listing the RID (exactly as written) or "*". */
static const char *aanf_for(const ausf_t *ausf, const char *rid)
{
  for (size_t i = 0; i < ausf->n_aanf_routes; i++)
    for (size_t j = 0; j < ausf->aanf_routes[i].n_rids; j++)
      if (!strcmp(ausf->aanf_routes[i].rids[j], "*") || !strcmp(ausf->aanf_routes[i].rids[j], rid))
        return ausf->aanf_routes[i].uri;
  return NULL;
}

static void done(akma_call_t *k, bool ok, const char *why)
{
  ausf_t *ausf = k->c->ausf;
  if (ok) {
    kedge_counter_add(ausf->akma_registered, 1);
    kedge_log_info("AKMA anchor key for %s registered at %s: A-KID %s", k->c->ctx.supi,
                   k->aanf_uri, k->akid);
  } else {
    /* The primary authentication stands; the UE's AKMA requests will find no key (204) until
     * its next registration (docs/akma.md). */
    kedge_counter_add(ausf->akma_failed, 1);
    kedge_log_warn("AKMA anchor key for %s not registered%s%s: %s", k->c->ctx.supi,
                   k->aanf_uri ? " at " : "", k->aanf_uri ? k->aanf_uri : "", why);
  }
  ausf_confirmation_t *c = k->c;
  free(k);
  ausf_confirmation_answer(c, KEDGE_OK, NULL);
}

static void registered(const kedge_sbi_client_response_t *r, void *arg)
{
  akma_call_t *k = arg;
  char why[160];
  if (r->err) {
    done(k, false, kedge_strerror(r->err));
  } else if (r->status != 200 && r->status != 201) {
    const char *cause = r->json ? json_string_value(json_object_get(r->json, "cause")) : NULL;
    snprintf(why, sizeof(why), "the AAnF answered %ld %s", r->status, cause ? cause : "");
    done(k, false, why);
  } else {
    done(k, true, NULL);
  }
}

void ausf_akma_on_success(ausf_confirmation_t *c)
{
  ausf_t *ausf = c->ausf;
  if (!ausf->akma_enabled || !c->ctx.akma_ind) {
    ausf_confirmation_answer(c, KEDGE_OK, NULL);
    return;
  }
  akma_call_t *k = calloc(1, sizeof(*k));
  if (!k) {
    kedge_counter_add(ausf->akma_failed, 1);
    ausf_confirmation_answer(c, KEDGE_OK, NULL);
    return;
  }
  k->c = c;
  k->aanf_uri = aanf_for(ausf, c->ctx.routing_id);
  if (!k->aanf_uri) {
    done(k, false, "no AAnF for its routing indicator in akma.aanf");
    return;
  }
  kedge_supi_t supi;
  uint8_t k_akma[KEDGE_K_AKMA_LEN];
  char hex[2 * KEDGE_K_AKMA_LEN + 1], url[1200];
  /* TS 33.535 6.1 step 3: K_AKMA and A-TID from KAUSF; the A-KID with the UDM's RID and the
   * home network's realm */
  kedge_err_t err = kedge_supi_parse(c->ctx.supi, &supi);
  if (!err)
    err = kedge_derive_k_akma_and_akid(c->ctx.kausf, &supi, c->ctx.routing_id, &ausf->home_network,
                                       k_akma, k->akid);
  if (err) {
    done(k, false, kedge_strerror(err));
    return;
  }
  kedge_hex_encode(k_akma, sizeof(k_akma), hex);
  OPENSSL_cleanse(k_akma, sizeof(k_akma));
  /* TS 29.535 AkmaKeyInfo (step 4: SUPI, A-KID, K_AKMA) */
  json_t *body = json_pack("{s:s, s:s, s:s}", "supi", c->ctx.supi, "aKId", k->akid, "kAkma", hex);
  OPENSSL_cleanse(hex, sizeof(hex));
  snprintf(url, sizeof(url), "%s/naanf-akma/v1/register-anchorkey", k->aanf_uri);
  const kedge_sbi_client_request_t req = {.method = "POST", .url = url, .body = body};
  err = body ? kedge_sbi_client_send(ausf_worker_of(c->req)->aanf, &req, registered, k, NULL)
             : KEDGE_ERR_NOMEM;
  json_decref(body);
  if (err)
    done(k, false, kedge_strerror(err));
}

kedge_err_t ausf_akma_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  const char *name = "kedge_ausf_akma_anchor_keys_total",
             *help = "AKMA anchor keys registered at the AAnF after 5G AKA, by result";
  kedge_err_t err = kedge_metrics_counter(m, name, help, "result=\"registered\"",
                                          &ausf->akma_registered);
  if (!err)
    err = kedge_metrics_counter(m, name, help, "result=\"failed\"", &ausf->akma_failed);
  return err;
}
