/* kedge-ausfd: the AUSF. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

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

/* The key store's master key (a file of mode 0600; for memory: a random one for this run) and
 * the Redis password (from a file, so that the config holds no secret). */
static kedge_err_t load_secrets(ausf_t *a, char *why, size_t why_size)
{
  kedge_err_t err = KEDGE_OK;
  if (a->keystore_master_key_file)
    err = kedge_master_key_load(a->keystore_master_key_file, &a->keystore_master_key, why,
                                why_size);
  else if (RAND_priv_bytes(a->keystore_master_key.key, sizeof(a->keystore_master_key.key)) != 1)
    err = KEDGE_ERR_CRYPTO;
  if (err || !a->redis_password_file)
    return err;
  FILE *f = fopen(a->redis_password_file, "r");
  if (!f || !fgets(a->redis_password, sizeof(a->redis_password), f)) {
    snprintf(why, why_size, "%s: cannot read the Redis password", a->redis_password_file);
    if (f)
      fclose(f);
    return KEDGE_ERR_CONFIG;
  }
  fclose(f);
  a->redis_password[strcspn(a->redis_password, "\r\n")] = '\0';
  a->keystore_opts.redis_password = a->redis_password;
  return KEDGE_OK;
}

static kedge_err_t setup(kedge_sbi_server_t *srv, void *state, char *why, size_t why_size)
{
  ausf_t *a = state;
  a->instance_id = kedge_app_nf_instance_id(); /* ausfInstanceId, AuthEvent.nfInstanceId */
  kedge_err_t err = a->edge_enabled ? load_secrets(a, why, why_size) : KEDGE_OK;
  if (err)
    return err;
  err = ausf_ueau_setup(a, srv);
  if (!err && a->edge_enabled)
    err = ausf_keyrequest_setup(a, srv);
  if (err) {
    snprintf(why, why_size, "cannot set up Nausf_UEAuthentication: %s", kedge_strerror(err));
    ausf_ueau_teardown(a);
    return err;
  }
  kedge_log_info("UDM at %s; AKA contexts expire after %lld ms, at most %zu; instance %s",
                 a->udm_uri, (long long)a->context_expiry_ms, a->max_contexts, a->instance_id);
  if (a->edge_enabled)
    kedge_log_info("edge keys on: realm 5gc.mnc%s.mcc%s.3gppnetwork.org, lifetime %lld s, key "
                   "store %s, %zu key service consumers%s",
                   a->home_network.mnc, a->home_network.mcc, (long long)a->key_lifetime_ms / 1000,
                   a->keystore_uri, a->n_key_consumers,
                   a->testing ? " (TESTING knobs enabled)" : "");
  else
    kedge_log_info("edge keys off (edge.enabled: false): no Kedge is derived");
  return KEDGE_OK;
}

static void teardown(void *state)
{
  ausf_t *a = state;
  ausf_ueau_teardown(a);
  kedge_rate_free(a->keyrequest_limit);
  a->keyrequest_limit = NULL;
  kedge_master_key_clear(&a->keystore_master_key);
  OPENSSL_cleanse(a->redis_password, sizeof(a->redis_password));
}

int main(int argc, char **argv)
{
  const kedge_app_t app = {
    .info = &info,
    .service = "ausf",
    .nf_type = "AUSF",
    .read_config = ausf_read_config,
    .setup = setup,
    .teardown = teardown,
    .state = &ausf,
  };
  return kedge_app_main(&app, argc, argv);
}
