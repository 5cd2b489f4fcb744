/* The NEF's clients toward the AUSFs (and the AAnFs of 3gpp-akma, SPEC.md 9): per worker loop (a
 * libcurl multi handle is bound to one event_base) an SBI client and the key-service client on it
 * (include/kedge/key_client.h: AUSF selection by the Kedge ID's realm and RID, SPEC.md 2, as the
 * SUCI's routing indicator does for TS 23.501 6.3.4; failover to the group's next AUSF). Made when
 * the workers start (a bad certificate or key stops start-up), freed after the loops stopped. One
 * SBI client serves every AUSF URI: libcurl keeps one HTTP/2 connection per authority. */
#include <stdlib.h>

#include "kedge/app.h"
#include "kedge/log.h"
#include "nef.h"

/* One key source: an SBI client and the key-service client on it, and for `discover` groups
 * one toward the NRF. */
typedef struct nef_source {
  kedge_sbi_client_t *sbi;
  kedge_sbi_client_t *nrf;
  kedge_key_client_t *keys;
} nef_source_t;

typedef struct nef_worker {
  nef_source_t ausf;
  nef_source_t aanf; /* only with aanf.groups (SPEC.md 9) */
} nef_worker_t;

static void source_free(nef_source_t *s)
{
  kedge_key_client_free(s->keys);
  kedge_sbi_client_free(s->sbi);
  kedge_sbi_client_free(s->nrf);
}

static kedge_err_t source_new(struct event_base *base, const kedge_sbi_client_options_t *sbi_opts,
                              const kedge_key_routes_t *routes, const char *what,
                              kedge_nrf_disc_t *disc, nef_source_t *s)
{
  kedge_err_t err = kedge_sbi_client_new(base, sbi_opts, &s->sbi);
  if (err) {
    kedge_log_error("cannot create the SBI client toward the %s (%s.ca, %s.cert, %s.key)", what,
                    what, what, what);
    return err;
  }
  if (disc && (err = kedge_sbi_client_new(base, &kedge_app_nrf_config()->client, &s->nrf))) {
    kedge_log_error("cannot create the SBI client toward the NRF (nrf.ca, nrf.cert, nrf.key)");
    source_free(s);
    return err;
  }
  /* Each key source of the group gets the whole timeout; a retrieve has no side effect, so one
   * that timed out is followed by the next (issue 7). */
  size_t most = 1;
  for (size_t i = 0; i < routes->n; i++)
    most = routes->rows[i].n_uris > most ? routes->rows[i].n_uris : most;
  const kedge_key_client_options_t opts = {
      .routes = routes,
      .timeout_ms = sbi_opts->timeout_ms * (uint32_t)most,
      .attempt_timeout_ms = sbi_opts->timeout_ms,
      .max_retry_after_s = 0, /* a key source's Retry-After is passed on to the AF, not kept */
      .disc = disc,
      .nrf = s->nrf,
      .base = base,
  };
  if ((err = kedge_key_client_new(s->sbi, &opts, &s->keys)))
    source_free(s);
  return err;
}

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  nef_t *nef = arg;
  nef_worker_t *w = calloc(1, sizeof(*w));
  if (!w)
    return KEDGE_ERR_NOMEM;
  struct event_base *base = kedge_sbi_worker_base(worker);
  kedge_err_t err = source_new(base, &nef->ausf_client, &nef->groups, "ausf", nef->disc, &w->ausf);
  if (!err && nef->aanf_groups.n &&
      (err = source_new(base, &nef->aanf_client, &nef->aanf_groups, "aanf", nef->disc, &w->aanf)))
    source_free(&w->ausf);
  if (err) {
    free(w);
    return err;
  }
  kedge_sbi_worker_set_data(worker, w);
  return KEDGE_OK;
}

static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  (void)arg;
  nef_worker_t *w = kedge_sbi_worker_data(worker);
  if (!w)
    return;
  source_free(&w->ausf);
  source_free(&w->aanf);
  kedge_sbi_worker_set_data(worker, NULL);
  free(w);
}

kedge_err_t nef_ausf_clients_setup(nef_t *nef, kedge_sbi_server_t *srv)
{
  /* SPEC.md 7: with an NRF, groups that say discover find their AUSF/AAnF there */
  kedge_err_t err;
  if (kedge_app_nrf_config()->uri && !nef->disc &&
      (err = kedge_nrf_disc_new(kedge_app_nrf_config(), "NEF", kedge_sbi_server_metrics(srv),
                                &nef->disc)))
    return err;
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, nef);
}

kedge_key_client_t *nef_ausf_client(const kedge_sbi_request_t *req)
{
  nef_worker_t *w = kedge_sbi_worker_data(kedge_sbi_request_worker(req));
  return w ? w->ausf.keys : NULL;
}

kedge_key_client_t *nef_aanf_client(const kedge_sbi_request_t *req)
{
  nef_worker_t *w = kedge_sbi_worker_data(kedge_sbi_request_worker(req));
  return w ? w->aanf.keys : NULL;
}
