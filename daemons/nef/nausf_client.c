/* The NEF's clients toward the AUSFs: per worker loop (a libcurl multi handle is bound to one
 * event_base) an SBI client and the key-service client on it (include/kedge/key_client.h:
 * AUSF selection by the Kedge ID's realm and RID, SPEC.md 2, as the SUCI's routing indicator
 * does for TS 23.501 6.3.4; failover to the group's next AUSF). Made when the workers start (a
 * bad certificate or key stops start-up), freed after the loops stopped. One SBI client serves
 * every AUSF URI: libcurl keeps one HTTP/2 connection per authority. */
#include <stdlib.h>

#include "kedge/log.h"
#include "nef.h"

typedef struct nef_worker {
  kedge_sbi_client_t *sbi;
  kedge_key_client_t *keys;
} nef_worker_t;

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  nef_t *nef = arg;
  nef_worker_t *w = calloc(1, sizeof(*w));
  if (!w)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = kedge_sbi_client_new(kedge_sbi_worker_base(worker), &nef->ausf_client, &w->sbi);
  if (err) {
    kedge_log_error("cannot create the SBI client toward the AUSF (ausf.ca, ausf.cert, ausf.key)");
    free(w);
    return err;
  }
  /* Each AUSF of the group gets the whole ausf.timeout; a retrieve has no side effect, so one
   * that timed out is followed by the next (issue 7). */
  size_t most = 1;
  for (size_t i = 0; i < nef->groups.n; i++)
    most = nef->groups.rows[i].n_uris > most ? nef->groups.rows[i].n_uris : most;
  const kedge_key_client_options_t opts = {
      .routes = &nef->groups,
      .timeout_ms = nef->ausf_client.timeout_ms * (uint32_t)most,
      .attempt_timeout_ms = nef->ausf_client.timeout_ms,
      .max_retry_after_s = 0, /* an AUSF's Retry-After is passed on to the AF, not kept */
  };
  if ((err = kedge_key_client_new(w->sbi, &opts, &w->keys))) {
    kedge_sbi_client_free(w->sbi);
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
  kedge_key_client_free(w->keys);
  kedge_sbi_client_free(w->sbi);
  kedge_sbi_worker_set_data(worker, NULL);
  free(w);
}

kedge_err_t nef_ausf_clients_setup(nef_t *nef, kedge_sbi_server_t *srv)
{
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, nef);
}

kedge_key_client_t *nef_ausf_client(const kedge_sbi_request_t *req)
{
  nef_worker_t *w = kedge_sbi_worker_data(kedge_sbi_request_worker(req));
  return w ? w->keys : NULL;
}
