/* The AUSF's per-worker state: what is bound to one worker's event loop. */
#include <stdlib.h>

#include "ausf.h"
#include "kedge/app.h"
#include "kedge/log.h"

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  ausf_t *ausf = arg;
  ausf_worker_t *w = calloc(1, sizeof(*w));
  if (!w)
    return KEDGE_ERR_NOMEM;
  kedge_err_t err = kedge_sbi_client_new(kedge_sbi_worker_base(worker), &ausf->udm_client, &w->udm);
  if (err) {
    kedge_log_error("cannot create the SBI client toward the UDM (udm.ca, udm.cert, udm.key)");
    free(w);
    return err;
  }
  if (ausf->edge_enabled) {
    char why[300];
    err = kedge_keystore_open(ausf->keystore.uri, &ausf->keystore.master_key,
                              kedge_sbi_worker_base(worker), &ausf->keystore.opts, &w->keys, why,
                              sizeof(why));
    if (err) {
      kedge_log_error("keystore %s: %s", ausf->keystore.uri, why);
      kedge_sbi_client_free(w->udm);
      free(w);
      return err;
    }
  }
  if (ausf->akma_enabled &&
      (err = kedge_sbi_client_new(kedge_sbi_worker_base(worker), &ausf->aanf_client, &w->aanf))) {
    kedge_log_error("cannot create the SBI client toward the AAnF (akma.ca, akma.cert, akma.key)");
    if (w->keys)
      kedge_keystore_close(w->keys);
    kedge_sbi_client_free(w->udm);
    free(w);
    return err;
  }
  if (ausf->disc && (err = kedge_sbi_client_new(kedge_sbi_worker_base(worker),
                                                &kedge_app_nrf_config()->client, &w->nrf))) {
    kedge_log_error("cannot create the SBI client toward the NRF (nrf.ca, nrf.cert, nrf.key)");
    kedge_sbi_client_free(w->aanf);
    if (w->keys)
      kedge_keystore_close(w->keys);
    kedge_sbi_client_free(w->udm);
    free(w);
    return err;
  }
  LIST_INIT(&w->confirmations);
  LIST_INIT(&w->removals);
  kedge_sbi_worker_set_data(worker, w);
  return KEDGE_OK;
}

/* After the worker's loop ended (the drain is over, or its grace ran out). The drain waits for
 * a confirmation's key store put like for any answer in flight, bounded by
 * sbi.limits.shutdown_grace; a put the store had not answered by then would otherwise stay
 * queued with its confirmation (KAUSF, Kedge ID) until exit, its callback never run: the clients
 * and the store are closed first (none of their callbacks can come any more), then each such
 * confirmation is failed, wiped and freed (issue 17). */
static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  ausf_worker_t *w = kedge_sbi_worker_data(worker);
  if (!w)
    return;
  kedge_sbi_client_free(w->udm);
  kedge_sbi_client_free(w->aanf);
  kedge_sbi_client_free(w->nrf);
  if (w->keys)
    kedge_keystore_close(w->keys);
  w->udm = w->aanf = w->nrf = NULL;
  w->keys = NULL;
  ausf_confirmation_t *c;
  while ((c = LIST_FIRST(&w->confirmations)))
    ausf_confirmation_abandon(c); /* unlinks it */
  ausf_auth_event_removals_drop(arg, w);
  free(w);
  kedge_sbi_worker_set_data(worker, NULL);
}

/* The key store's put_undone: a put the SEAF heard failed (Redis: 503 KEY_STORE_UNAVAILABLE), or
 * that was still out when the store was closed at shutdown, was dropped before its commit
 * (SQLite) or got a delete of its Kedge ID behind it (docs/operations.md). */
static void put_undone(void *arg)
{
  ausf_t *ausf = arg;
  kedge_counter_add(ausf->keys_put_undone, 1);
}

/* The SQLite key store's writer checkpointed its WAL itself (its background thread behind). */
static void checkpoint_inline(void *arg)
{
  ausf_t *ausf = arg;
  kedge_counter_add(ausf->keys_checkpoints_inline, 1);
}

kedge_err_t ausf_workers_setup(ausf_t *ausf, kedge_sbi_server_t *srv)
{
  kedge_err_t err;
  if (ausf->edge_enabled) {
    if ((err = kedge_metrics_counter(
             kedge_sbi_server_metrics(srv), "kedge_ausf_key_store_puts_undone_total",
             "Key store puts undone: Redis puts that timed out, lost their connection or were "
             "still out at shutdown, SQLite puts still uncommitted or unanswered at shutdown "
             "(dropped, or followed by a delete of their Kedge ID)",
             NULL, &ausf->keys_put_undone)) ||
        (err = kedge_metrics_counter(
             kedge_sbi_server_metrics(srv), "kedge_ausf_key_store_wal_checkpoints_inline_total",
             "WAL checkpoints the SQLite key store's writer ran itself (the WAL past 4 x "
             "sqlite.wal_checkpoint_pages: the background checkpoint thread behind)",
             NULL, &ausf->keys_checkpoints_inline)))
      return err;
    ausf->keystore.opts.checkpoint_inline = checkpoint_inline;
    ausf->keystore.opts.checkpoint_inline_arg = ausf;
    ausf->keystore.opts.put_undone = put_undone;
    ausf->keystore.opts.put_undone_arg = ausf;
  }
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, ausf);
}

ausf_worker_t *ausf_worker_of(const kedge_sbi_request_t *req)
{
  return kedge_sbi_worker_data(kedge_sbi_request_worker(req));
}
