/* The NEF's SBI clients toward the AUSFs: one per worker loop (a libcurl multi handle is bound
 * to one event_base), made when the workers start (kedge_sbi_server_set_worker_hooks; a bad
 * certificate or key stops start-up) and freed after the loops stopped. One client serves every
 * AUSF URI: libcurl keeps one HTTP/2 connection per authority. */
#include "kedge/log.h"
#include "nef.h"

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  nef_t *nef = arg;
  kedge_sbi_client_t *client = NULL;
  kedge_err_t err = kedge_sbi_client_new(kedge_sbi_worker_base(worker), &nef->ausf_client, &client);
  if (err) {
    kedge_log_error("cannot create the SBI client toward the AUSF (ausf.ca, ausf.cert, ausf.key)");
    return err;
  }
  kedge_sbi_worker_set_data(worker, client);
  return KEDGE_OK;
}

static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  kedge_sbi_client_free(kedge_sbi_worker_data(worker));
  kedge_sbi_worker_set_data(worker, NULL);
}

kedge_err_t nef_ausf_clients_setup(nef_t *nef, kedge_sbi_server_t *srv)
{
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, nef);
}

kedge_sbi_client_t *nef_ausf_client(const kedge_sbi_request_t *req)
{
  return kedge_sbi_worker_data(kedge_sbi_request_worker(req));
}
