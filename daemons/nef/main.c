/* kedge-nefd: the NEF relay for ECSs outside the operator domain. */
#include <stdio.h>

#include "kedge/app.h"
#include "kedge/json_check.h"
#include "kedge/log.h"
#include "nef.h"

static const char *const extra_usage[] = {KEDGE_APP_PORTS_FILE_USAGE, NULL};

static const kedge_daemon_info_t info = {
    .program = "kedge-nefd",
    .description = "kedge NEF: the key relay for ECSs outside the operator domain (steps 5.1-6.2). "
                   "An AF asks POST /3gpp-kedge/v1/retrieve over mutual TLS (and, if configured, "
                   "with an OAuth 2.0 bearer token); the NEF checks its certificate against the AF "
                   "table, asks the AUSF group that holds the Kedge ID "
                   "(Nausf_UEAuthentication_keyrequest) as itself, and relays the key without "
                   "keeping a copy.",
    .default_config = "/etc/kedge/nef.yaml",
    .extra_usage = extra_usage,
};

static nef_t nef;

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  nef_t *n = state;
  kedge_err_t err = nef_retrieve_setup(n, srv);
  if (!err)
    err = nef_revocation_setup(n, srv);
  if (err) {
    snprintf(why, why_size, "cannot set up 3gpp-kedge: %s", kedge_strerror(err));
    return err;
  }
  for (size_t i = 0; i < n->n_afs; i++)
    if (n->afs[i].profiles & NEF_PROFILE_KEDGE)
      /* SPEC.md 6: bound protects only if no consumer can get the raw Kedge */
      kedge_log_info("AF %s may obtain the raw Kedge (profile kedge)", n->afs[i].af_id);
  kedge_log_info("%zu AF(s), %zu AUSF group(s); OAuth 2.0 %s; revocation relay %s", n->n_afs,
                 n->groups.n, n->oauth.jwks ? "required" : "off",
                 n->revocation.enabled ? "on" : "off");
  return KEDGE_OK;
}

/* SIGHUP, workers parked: the AF table and the AUSF routing table of the new file. The old
 * tables stay allocated (a request in flight may still point at its AF) until exit. */
static void reload(void *state, void *next_state)
{
  nef_t *live = state;
  const nef_t *next = next_state;
  live->afs = next->afs;
  live->n_afs = next->n_afs;
  live->groups = next->groups;
  live->retry_after_s = next->retry_after_s;
}

static void teardown(void *state)
{
  nef_t *n = state;
  nef_revocation_teardown(n);
  kedge_nrf_disc_free(n->disc);
  n->disc = NULL;
}

/* The NEF's northbound key APIs announced as custom service names (SPEC.md 7, docs/nrf.md):
 * TS 29.510 ServiceName allows any string besides 3GPP's own */
static const char *const nef_services[] = {"3gpp-kedge", "3gpp-akma", NULL};

/* SPEC.md 7: never over h2c */
static const char *h2c_refused(void *state)
{
  (void)state;
  return "the NEF relays Kedge, K_ECS and K_AF";
}

int main(int argc, char **argv)
{
  /* Before anything allocates: every block OpenSSL, jansson and libcurl free is wiped
   * (kedge_app_main adds jansson's and libcurl's; OpenSSL's only the NEF takes). */
  kedge_json_wipe_on_free();
  if (kedge_app_wipe_openssl() != KEDGE_OK || kedge_app_wipe_curl() != KEDGE_OK) {
    fprintf(stderr, "kedge-nefd: cannot install the wiping allocators\n");
    return 1;
  }
  const kedge_app_t app = {
      .info = &info,
      .service = "nef",
      .default_port = 8005, /* conf/nef.yaml, docs/config.md "Ports" */
      .nf_type = "NEF",
      .nf_services = nef_services,
      .read_config = nef_read_config,
      .setup = setup,
      .reload = reload,
      .h2c_refused = h2c_refused,
      .state_size = sizeof(nef),
      .teardown = teardown,
      .state = &nef,
  };
  int rc = kedge_app_main(&app, argc, argv);
  nef_config_free(&nef);
  kedge_app_wipe_release();
  return rc;
}
