/* The AAnF's per-worker state: the key store handle bound to one worker's event loop. */
#include "aanf.h"
#include "kedge/log.h"

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  aanf_t *aanf = arg;
  kedge_keystore_t *ks = NULL;
  char why[300];
  kedge_err_t err = kedge_keystore_open(aanf->keystore.uri, &aanf->keystore.master_key,
                                        kedge_sbi_worker_base(worker), &aanf->keystore.opts, &ks,
                                        why, sizeof(why));
  if (err) {
    kedge_log_error("keystore %s: %s", aanf->keystore.uri, why);
    return err;
  }
  kedge_sbi_worker_set_data(worker, ks);
  return KEDGE_OK;
}

static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  (void)arg;
  kedge_keystore_t *ks = kedge_sbi_worker_data(worker);
  if (ks)
    kedge_keystore_close(ks);
  kedge_sbi_worker_set_data(worker, NULL);
}

kedge_err_t aanf_workers_setup(aanf_t *aanf, kedge_sbi_server_t *srv)
{
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, aanf);
}

kedge_keystore_t *aanf_keystore_of(const kedge_sbi_request_t *req)
{
  return kedge_sbi_worker_data(kedge_sbi_request_worker(req));
}
