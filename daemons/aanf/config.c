/* kedge-aanfd's own configuration sections (conf/aanf.yaml documents every key). */
#include <stdlib.h>
#include <string.h>

#include "aanf.h"

/* applicationkey: allowed_consumers [{name, supi}], relays [names] */
static kedge_err_t read_af_consumers(aanf_t *aanf, kedge_config_node_t *sec)
{
  kedge_config_node_t *const *items = NULL;
  const char *const *relays = NULL;
  size_t n = 0, n_relays = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_maps(sec, "allowed_consumers", &items, &n));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "relays", &relays, &n_relays));
  aanf->af_consumers = calloc(n ? n : 1, sizeof(*aanf->af_consumers));
  if (!aanf->af_consumers)
    return KEDGE_ERR_NOMEM;
  aanf->n_af_consumers = n;
  for (size_t i = 0; i < n; i++) {
    aanf_af_consumer_t *c = &aanf->af_consumers[i];
    KEDGE_CONFIG_KEEP(err, kedge_config_string(items[i], "name", NULL, &c->name));
    if (!c->name)
      KEDGE_CONFIG_KEEP(err, kedge_config_require(items[i], "name"));
    KEDGE_CONFIG_KEEP(err, kedge_config_bool(items[i], "supi", false, &c->supi));
  }
  for (size_t r = 0; r < n_relays; r++) {
    bool found = false;
    for (size_t i = 0; i < n; i++)
      if (aanf->af_consumers[i].name && !strcmp(aanf->af_consumers[i].name, relays[r])) {
        aanf->af_consumers[i].relay = true;
        found = true;
      }
    if (!found)
      KEDGE_CONFIG_KEEP(
          err, kedge_config_invalid(
                   sec, "relays", "'%.64s' is not in applicationkey.allowed_consumers", relays[r]));
  }
  return err;
}

kedge_err_t aanf_read_config(kedge_config_node_t *root, void *state)
{
  aanf_t *aanf = state;
  kedge_config_node_t *sec = NULL, *anchor = NULL, *appkey = NULL;
  const char *mcc = NULL, *mnc = NULL;
  kedge_err_t err = KEDGE_OK;

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "aanf", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "home_network.mcc", NULL, &mcc));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "home_network.mnc", NULL, &mnc));
  if (!mcc || !mnc)
    KEDGE_CONFIG_KEEP(err,
                      kedge_config_require(sec, mcc ? "home_network.mnc" : "home_network.mcc"));
  else if (kedge_plmn_parse(mcc, mnc, &aanf->home_network))
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(sec, "home_network", "MCC must be 3 digits, MNC 2 or 3"));
  /* SPEC.md 9: anchor keys expire like the AUSF's edge keys (edge.key_lifetime) */
  KEDGE_CONFIG_KEEP(err, kedge_config_duration(sec, "key_lifetime", 24 * 3600 * 1000LL, 1000,
                                               366LL * 24 * 3600 * 1000, &aanf->key_lifetime_ms));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_string(sec, "master_key", NULL, &aanf->keystore.master_key_file));
  KEDGE_CONFIG_KEEP(err, kedge_keystore_config_read(root, &aanf->keystore));
  aanf->keystore.opts.key_lifetime_ms = aanf->key_lifetime_ms; /* Redis tombstones */
  KEDGE_CONFIG_KEEP(err,
                    kedge_keystore_config_check_master_key(&aanf->keystore, sec, "master_key"));

  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "anchorkey", &anchor));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(anchor, "allowed_consumers", &aanf->anchor_consumers,
                                              &aanf->n_anchor_consumers));
  if (!err && aanf->n_anchor_consumers == 0)
    KEDGE_CONFIG_KEEP(
        err, kedge_config_invalid(anchor, "allowed_consumers",
                                  "list the AUSF certificate names that register anchor keys"));
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "applicationkey", &appkey));
  KEDGE_CONFIG_KEEP(err, read_af_consumers(aanf, appkey));
  return err;
}
