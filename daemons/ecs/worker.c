/* Per worker thread state (the SBI runtime's worker hooks): the handshakes and fetches of that
 * worker's loop, and its SBI client toward the key source (a libcurl multi handle belongs to
 * one event_base). Made before the worker's thread runs; freed after its loop stopped and its
 * connections were closed. */
#include <stdlib.h>

#include "worker.h"

#include "kedge/app.h"
#include "kedge/log.h"
#include "key_fetch.h"
#include "psk_handshake.h"

static kedge_err_t worker_init(kedge_sbi_worker_t *worker, void *arg)
{
  ecs_t *ecs = arg;
  ecs_worker_t *ew = calloc(1, sizeof(*ew));
  if (!ew)
    return KEDGE_ERR_NOMEM;
  ew->ecs = ecs;
  ew->worker = worker;
  ew->base = kedge_sbi_worker_base(worker);
  LIST_INIT(&ew->fetches);
  const kedge_sbi_limits_t *lim = kedge_sbi_worker_limits(worker);
  kedge_conn_budget_init(&ew->hs_budget, lim->max_handshakes, lim->max_handshakes_per_address);
  kedge_err_t err = kedge_sbi_client_new(ew->base, &ecs->client, &ew->client);
  if (err) {
    kedge_log_error("cannot create the SBI client toward the key source (key_source.tls)");
    free(ew);
    return err;
  }
  if (ecs->disc &&
      (err = kedge_sbi_client_new(ew->base, &kedge_app_nrf_config()->client, &ew->nrf))) {
    kedge_log_error("cannot create the SBI client toward the NRF (nrf.ca, nrf.cert, nrf.key)");
    kedge_sbi_client_free(ew->client);
    free(ew);
    return err;
  }
  const kedge_key_client_options_t opts = {
      .routes = &ecs->routes,
      .timeout_ms = ecs->client.timeout_ms, /* one deadline for the handshake's fetch */
      .max_retry_after_s = (unsigned)(ecs->max_retry_after_ms / 1000),
      .disc = ecs->disc,
      .nrf = ew->nrf,
      .base = ew->base,
  };
  if ((err = kedge_key_client_new(ew->client, &opts, &ew->keys))) {
    kedge_sbi_client_free(ew->nrf);
    kedge_sbi_client_free(ew->client);
    free(ew);
    return err;
  }
  kedge_sbi_worker_set_data(worker, ew);
  return KEDGE_OK;
}

static void worker_fini(kedge_sbi_worker_t *worker, void *arg)
{
  ecs_worker_t *ew = kedge_sbi_worker_data(worker);
  if (!ew)
    return;
  ecs_handshakes_free(ew);
  ecs_fetches_free(ew);
  kedge_key_client_free(ew->keys);
  kedge_sbi_client_free(ew->client);
  kedge_sbi_client_free(ew->nrf);
  kedge_sbi_worker_set_data(worker, NULL);
  free(ew);
}

kedge_err_t ecs_workers_setup(ecs_t *ecs, kedge_sbi_server_t *srv)
{
  /* SPEC.md 7: with an NRF, `discover` routes find the AUSF or AAnF there (the ECS is an AF) */
  kedge_err_t err;
  if (kedge_app_nrf_config()->uri && !ecs->disc &&
      (err = kedge_nrf_disc_new(kedge_app_nrf_config(), "AF", kedge_sbi_server_metrics(srv),
                                &ecs->disc)))
    return err;
  return kedge_sbi_server_set_worker_hooks(srv, worker_init, worker_fini, ecs);
}

ecs_worker_t *ecs_worker_get(kedge_sbi_worker_t *worker)
{
  return kedge_sbi_worker_data(worker);
}
