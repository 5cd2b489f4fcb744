/* kedge-ausfd: the AUSF. */
#include <stdio.h>
#include <string.h>

#include "ausf.h"
#include "kedge/app.h"
#include "kedge/log.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-ausfd",
    .description = "kedge AUSF: 5G AKA for SEAFs (Nausf_UEAuthentication, TS 29.509) with vectors "
                   "from the UDM; after a successful AKA of an edge-capable subscriber it derives "
                   "Kedge and Kedge ID from KAUSF and keeps them for the key service.",
    .default_config = "/etc/kedge/ausf.yaml",
    .extra_usage = extra_usage,
};

static ausf_t ausf;

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  ausf_t *a = state;
  a->instance_id = kedge_app_nf_instance_id(); /* ausfInstanceId, AuthEvent.nfInstanceId */
  kedge_err_t err =
      a->edge_enabled ? kedge_keystore_config_load_secrets(&a->keystore, why, why_size) : KEDGE_OK;
  if (err)
    return err;
  err = ausf_ueau_setup(a, srv);
  if (!err && a->edge_enabled)
    err = ausf_keyrequest_setup(a, srv);
  if (!err && a->edge_enabled)
    err = ausf_revocation_setup(a, srv);
  if (!err && a->akma_enabled)
    err = ausf_akma_setup(a, srv);
  if (err) {
    snprintf(why, why_size, "cannot set up Nausf_UEAuthentication: %s", kedge_strerror(err));
    ausf_revocation_teardown(a);
    ausf_ueau_teardown(a);
    return err;
  }
  kedge_log_info("UDM at %s; AKA contexts expire after %lld ms, at most %zu; instance %s",
                 a->udm_uri ? a->udm_uri : "(discovered at the NRF)",
                 (long long)a->context_expiry_ms, a->max_contexts, a->instance_id);
  if (a->edge_enabled)
    kedge_log_info("edge keys on: realm 5gc.mnc%s.mcc%s.3gppnetwork.org, lifetime %lld s, key "
                   "store %s, %zu key service consumers%s",
                   a->home_network.mnc, a->home_network.mcc, (long long)a->key_lifetime_ms / 1000,
                   a->keystore.uri, a->n_key_consumers,
                   a->testing ? " (TESTING knobs enabled)" : "");
  if (a->revocation)
    kedge_log_info("revocation notices on: at most %zu subscriptions, queue %zu, batches of "
                   "%zu, %u attempts",
                   a->revocation_max_subscriptions, a->revocation_notify.max_queue,
                   a->revocation_notify.max_batch, a->revocation_notify.max_attempts);
  else
    kedge_log_info("edge keys off (edge.enabled: false): no Kedge is derived");
  if (a->akma_enabled)
    kedge_log_info("AKMA on: anchor keys of akmaInd subscribers go to %zu AAnF route(s)",
                   a->n_aanf_routes);
  return KEDGE_OK;
}

static void teardown(void *state)
{
  ausf_t *a = state;
  ausf_revocation_teardown(a);
  ausf_ueau_teardown(a);
  kedge_rate_free(a->keyrequest_limit);
  a->keyrequest_limit = NULL;
  kedge_keystore_config_clear(&a->keystore);
}

/* TS 29.510 ServiceName; the key service is the custom name nausf-kedge (SPEC.md 7) */
static const char *const ausf_services[] = {"nausf-auth", "nausf-kedge", NULL};

/* What set-up would refuse: the key store's master key (mode, format), checked with a copy
 * that is wiped at once. */
static kedge_err_t check(void *state, char *why, size_t why_size)
{
  ausf_t *a = state;
  if (!a->edge_enabled || !a->keystore.master_key_file)
    return KEDGE_OK;
  kedge_master_key_t mk;
  kedge_err_t err = kedge_master_key_load(a->keystore.master_key_file, &mk, why, why_size);
  if (!err)
    err =
        kedge_keystore_check_key(a->keystore.uri, &mk, a->keystore.master_key_file, why, why_size);
  kedge_master_key_clear(&mk);
  return err;
}

/* SIGHUP, workers parked: who may run 5G AKA here and who may ask for keys. The old lists stay
 * allocated until exit. */
static void reload(void *state, void *next_state)
{
  ausf_t *a = state;
  const ausf_t *next = next_state;
  a->seafs = next->seafs;
  a->n_seafs = next->n_seafs;
  a->key_consumers = next->key_consumers;
  a->n_key_consumers = next->n_key_consumers;
}

/* SPEC.md 7: Kedge (the key service) and K_AKMA never cross h2c; 5G AKA alone may */
static const char *h2c_refused(void *state)
{
  const ausf_t *a = state;
  if (a->edge_enabled)
    return "edge.enabled: the AUSF serves Kedge (nausf-kedge key service)";
  if (a->akma_enabled)
    return "akma: the AUSF sends K_AKMA to the AAnF";
  return NULL;
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info,
      .service = "ausf",
      .default_port = 8002, /* conf/ausf.yaml, docs/config.md "Ports" */
      .nf_type = "AUSF",
      .nf_services = ausf_services,
      .read_config = ausf_read_config,
      .setup = setup,
      .teardown = teardown,
      .check = check,
      .reload = reload,
      .h2c_refused = h2c_refused,
      .state_size = sizeof(ausf),
      .state = &ausf,
  };
  return kedge_app_main(&app, argc, argv);
}
