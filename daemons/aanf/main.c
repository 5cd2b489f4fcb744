/* kedge-aanfd: the AAnF. */
#include <stdio.h>

#include "aanf.h"
#include "kedge/app.h"
#include "kedge/log.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-aanfd",
    .description = "kedge AAnF (AKMA Anchor Function, TS 33.535): keeps the latest K_AKMA per "
                   "SUPI that AUSFs register (Naanf_AKMA, TS 29.535 register-anchorkey, "
                   "remove-context) and derives K_AF for the asking AF or the NEF "
                   "(retrieve-applicationkey); K_AKMA never leaves it.",
    .default_config = "/etc/kedge/aanf.yaml",
    .extra_usage = extra_usage,
};

static aanf_t aanf;

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  aanf_t *a = state;
  kedge_err_t err = kedge_keystore_config_load_secrets(&a->keystore, why, why_size);
  if (err)
    return err;
  if ((err = aanf_workers_setup(a, srv)) || (err = aanf_akma_setup(a, srv))) {
    snprintf(why, why_size, "cannot set up Naanf_AKMA: %s", kedge_strerror(err));
    return err;
  }
  kedge_log_info("AAnF for realm 5gc.mnc%s.mcc%s.3gppnetwork.org: anchor keys live %lld s, key "
                 "store %s, %zu anchor key consumers, %zu application key consumers",
                 a->home_network.mnc, a->home_network.mcc, (long long)a->key_lifetime_ms / 1000,
                 a->keystore.uri, a->n_anchor_consumers, a->n_af_consumers);
  return KEDGE_OK;
}

static void teardown(void *state)
{
  kedge_keystore_config_clear(&((aanf_t *)state)->keystore);
}

/* TS 29.510 ServiceName of the AAnF (TS 29.535 Naanf_AKMA) */
static const char *const aanf_services[] = {"naanf-akma", NULL};

/* SPEC.md 7: never over h2c */
static const char *h2c_refused(void *state)
{
  (void)state;
  return "the AAnF serves K_AF and holds K_AKMA";
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
      .info = &info,
      .service = "aanf",
      .nf_type = "AANF", /* TS 29.510 NFType; the User-Agent is "AANF-<nfInstanceId>" */
      .nf_services = aanf_services,
      .default_port = 8006,
      .read_config = aanf_read_config,
      .setup = setup,
      .teardown = teardown,
      .h2c_refused = h2c_refused,
      .state = &aanf,
  };
  return kedge_app_main(&app, argc, argv);
}
