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
#include "kedge/key_client.h"
#include "kedge/log.h"

typedef struct akma_call {
  ausf_confirmation_t *c;
  char akid[KEDGE_AKID_MAX + 1];
  const char *aanf_uri;
  json_t *body;                           /* AkmaKeyInfo, while the AAnF is discovered */
  char aanf_root[KEDGE_NRF_API_ROOT_MAX]; /* the discovered AAnF that answered */
} akma_call_t;

/* akma.aanf: the first entry listing the RID (exactly as written) or "*" (ausf.h). */
const char *ausf_aanf_for(const ausf_t *ausf, const char *rid)
{
  for (size_t i = 0; i < ausf->n_aanf_routes; i++)
    for (size_t j = 0; j < ausf->aanf_routes[i].n_rids; j++)
      if (!strcmp(ausf->aanf_routes[i].rids[j], "*") || !strcmp(ausf->aanf_routes[i].rids[j], rid))
        return ausf->aanf_routes[i].uri;
  return NULL;
}

static void registration_done(akma_call_t *k, bool ok, const char *why)
{
  ausf_t *ausf = k->c->ausf;
  if (ok) {
    k->c->ctx.akma_registered = true; /* a DELETE of this confirmation removes it (SPEC.md 7) */
    kedge_counter_add(ausf->akma_registered, 1);
    kedge_log_subscriber(KEDGE_LOG_INFO, k->c->ctx.supi, NULL,
                         "AKMA anchor key registered at %s: A-KID %s", k->aanf_uri, k->akid);
  } else {
    /* The primary authentication stands; the UE's AKMA requests will find no key (204) until
     * its next registration (docs/akma.md). */
    kedge_counter_add(ausf->akma_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, k->c->ctx.supi, NULL,
                         "AKMA anchor key not registered%s%s: %s", k->aanf_uri ? " at " : "",
                         k->aanf_uri ? k->aanf_uri : "", why);
  }
  ausf_confirmation_t *c = k->c;
  c->akma = NULL;
  json_decref(k->body); /* holds K_AKMA in hex: jansson's copy, see docs/sbi-client.md */
  free(k);
  ausf_confirmation_answer(c, KEDGE_OK, NULL);
}

void ausf_akma_abandon(ausf_confirmation_t *c)
{
  akma_call_t *k = c->akma;
  if (!k)
    return;
  c->akma = NULL;
  json_decref(k->body);
  free(k);
}

static void registered(const kedge_sbi_client_response_t *r, void *arg)
{
  akma_call_t *k = arg;
  char why[160];
  if (r->err) {
    registration_done(k, false, kedge_strerror(r->err));
  } else if (r->status != 200 && r->status != 201) {
    const char *cause = r->json ? json_string_value(json_object_get(r->json, "cause")) : NULL;
    snprintf(why, sizeof(why), "the AAnF answered %ld %s", r->status, cause ? cause : "");
    registration_done(k, false, why);
  } else {
    registration_done(k, true, NULL);
  }
}

static void registered_at(const kedge_sbi_client_response_t *r, const char *api_root, void *arg)
{
  akma_call_t *k = arg;
  snprintf(k->aanf_root, sizeof(k->aanf_root), "%s", api_root);
  k->aanf_uri = k->aanf_root;
  registered(r, k);
}

/* SPEC.md 7: akma.aanf says discover: the AAnF of the RID and home PLMN at the NRF (TS 29.510
 * 6.2.3.2.3.1), then the producers it names in order while one is unreachable. */
static void aanf_discovered(kedge_err_t err, const kedge_nrf_candidates_t *cands, void *arg)
{
  akma_call_t *k = arg;
  if (!err) {
    const kedge_sbi_client_request_t req = {.method = "POST", .body = k->body};
    err = kedge_nrf_send(ausf_worker_of(k->c->req)->aanf, cands, &req,
                         "/naanf-akma/v1/register-anchorkey", registered_at, k, NULL);
  }
  if (err) {
    k->aanf_uri = NULL;
    registration_done(k, false,
                      err == KEDGE_ERR_NOT_FOUND ? "the NRF knows no AAnF for its RID"
                                                 : "no AAnF discovered");
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
  c->akma = k; /* until registration_done: ausf_akma_abandon frees it at shutdown */
  k->aanf_uri = ausf_aanf_for(ausf, c->ctx.routing_id);
  if (!k->aanf_uri) {
    registration_done(k, false, "no AAnF for its routing indicator in akma.aanf");
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
    registration_done(k, false, kedge_strerror(err));
    return;
  }
  kedge_hex_encode(k_akma, sizeof(k_akma), hex);
  OPENSSL_cleanse(k_akma, sizeof(k_akma));
  /* TS 29.535 AkmaKeyInfo (step 4: SUPI, A-KID, K_AKMA) */
  json_t *body = json_pack("{s:s, s:s, s:s}", "supi", c->ctx.supi, "aKId", k->akid, "kAkma", hex);
  OPENSSL_cleanse(hex, sizeof(hex));
  if (!strcmp(k->aanf_uri, AUSF_AANF_DISCOVER)) {
    ausf_worker_t *w = ausf_worker_of(c->req);
    kedge_nrf_query_t q = {.target_nf_type = "AANF",
                           .service_name = "naanf-akma",
                           .routing_indicator = c->ctx.routing_id,
                           .target_mcc = ausf->home_network.mcc,
                           .target_mnc = ausf->home_network.mnc};
    k->body = body;
    err = ausf->disc && w->nrf && body
              ? kedge_nrf_discover(ausf->disc, w->nrf,
                                   kedge_sbi_worker_base(kedge_sbi_request_worker(c->req)), &q,
                                   aanf_discovered, k, NULL)
              : KEDGE_ERR_NOMEM;
    if (err) {
      k->aanf_uri = NULL;
      registration_done(k, false, kedge_strerror(err));
    }
    return;
  }
  snprintf(url, sizeof(url), "%s/naanf-akma/v1/register-anchorkey", k->aanf_uri);
  const kedge_sbi_client_request_t req = {.method = "POST", .url = url, .body = body};
  err = body ? kedge_sbi_client_send(ausf_worker_of(c->req)->aanf, &req, registered, k, NULL)
             : KEDGE_ERR_NOMEM;
  json_decref(body);
  if (err)
    registration_done(k, false, kedge_strerror(err));
}

/* ---- remove-context (SPEC.md 7 and 9: deregistration, DELETE 5g-aka-confirmation) ---- */

typedef struct akma_remove {
  ausf_t *ausf;
  void (*done)(void *arg);
  void *arg;
  char supi[KEDGE_SUPI_MAX + 1];
  char uri[KEDGE_KEY_URI_MAX];
  char reason[32];
} akma_remove_t;

static void removed(const kedge_sbi_client_response_t *r, void *arg)
{
  akma_remove_t *m = arg;
  if (!r->err && r->status == 204) {
    kedge_counter_add(m->ausf->akma_removed, 1);
    kedge_log_subscriber(KEDGE_LOG_INFO, m->supi, NULL, "AKMA context removed at %s (%s)", m->uri,
                         m->reason);
  } else if (!r->err && r->status == 404) {
    /* no context there: another AAnF's subscriber, or gone already */
  } else {
    kedge_counter_add(m->ausf->akma_remove_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, m->supi, NULL,
                         "AKMA context not removed at %s (%s): %s%ld", m->uri, m->reason,
                         r->err ? kedge_strerror(r->err) : "status ", r->err ? 0L : r->status);
  }
  m->done(m->arg);
  free(m);
}

static bool remove_at(ausf_t *ausf, kedge_sbi_client_t *aanf, const char *supi, const char *uri,
                      const char *reason, void (*done)(void *arg), void *arg)
{
  akma_remove_t *m = calloc(1, sizeof(*m));
  if (!m)
    return false;
  *m = (akma_remove_t){.ausf = ausf, .done = done, .arg = arg};
  snprintf(m->supi, sizeof(m->supi), "%s", supi);
  snprintf(m->uri, sizeof(m->uri), "%s", uri);
  snprintf(m->reason, sizeof(m->reason), "%s", reason);
  char url[KEDGE_KEY_URI_MAX + 64];
  snprintf(url, sizeof(url), "%s/naanf-akma/v1/remove-context", uri);
  json_t *body = json_pack("{s:s}", "supi", supi); /* TS 29.535 CtxRemove */
  const kedge_sbi_client_request_t req = {.method = "POST", .url = url, .body = body};
  kedge_err_t err = body ? kedge_sbi_client_send(aanf, &req, removed, m, NULL) : KEDGE_ERR_NOMEM;
  json_decref(body);
  if (err) {
    kedge_counter_add(ausf->akma_remove_failed, 1);
    kedge_log_subscriber(KEDGE_LOG_WARN, supi, NULL, "AKMA context not removed at %s (%s): %s", uri,
                         reason, kedge_strerror(err));
    free(m);
    return false;
  }
  return true;
}

unsigned ausf_akma_remove(ausf_t *ausf, kedge_sbi_client_t *aanf, const char *supi, const char *rid,
                          const char *reason, void (*done)(void *arg), void *arg)
{
  if (!ausf->akma_enabled || !aanf || (rid && !rid[0]))
    return 0; /* "" : this authentication registered no anchor key */
  if (rid) {
    const char *uri = ausf_aanf_for(ausf, rid);
    /* a discovered AAnF is not remembered: its anchor key stays until replaced or expired
     * (docs/nrf.md) */
    return uri && strcmp(uri, AUSF_AANF_DISCOVER) &&
                   remove_at(ausf, aanf, supi, uri, reason, done, arg)
               ? 1
               : 0;
  }
  /* deregistration names no RID: every AAnF once (CtxRemove is harmless where there is none) */
  unsigned n = 0;
  for (size_t i = 0; i < ausf->n_aanf_routes; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = !strcmp(ausf->aanf_routes[j].uri, ausf->aanf_routes[i].uri);
    if (!seen && strcmp(ausf->aanf_routes[i].uri, AUSF_AANF_DISCOVER) &&
        remove_at(ausf, aanf, supi, ausf->aanf_routes[i].uri, reason, done, arg))
      n++;
  }
  return n;
}

kedge_err_t ausf_akma_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  kedge_metrics_t *m = kedge_sbi_server_metrics(srv);
  const char *name = "kedge_ausf_akma_anchor_keys_total",
             *help = "AKMA anchor keys registered at the AAnF after 5G AKA, by result";
  kedge_err_t err =
      kedge_metrics_counter(m, name, help, "result=\"registered\"", &ausf->akma_registered);
  if (!err)
    err = kedge_metrics_counter(m, name, help, "result=\"failed\"", &ausf->akma_failed);
  if (!err)
    err = kedge_metrics_counter(m, name, help, "result=\"removed\"", &ausf->akma_removed);
  if (!err)
    err =
        kedge_metrics_counter(m, name, help, "result=\"remove_failed\"", &ausf->akma_remove_failed);
  return err;
}
