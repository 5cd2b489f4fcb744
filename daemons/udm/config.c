/* The udm: section of kedge-udmd's configuration (conf/udm.yaml documents every key), and
 * what it names: the master key and the subscriber database it must open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "udm.h"

/* "udm.master_key FILE does not open the subscriber database DB": the one line an operator
 * needs (issue 11: otherwise every AKA fails as "AUTS does not verify"). */
static kedge_err_t key_refused(const udm_t *udm, kedge_err_t err, char *why, size_t why_size)
{
  if (err == KEDGE_ERR_MAC_FAILURE)
    snprintf(why, why_size,
             "udm.master_key %s does not open the subscriber database %s (its "
             "key-check record does not verify): wrong master key?",
             udm->master_key_file, udm->database);
  return err;
}

kedge_err_t udm_open_database(udm_t *udm, udm_db_t **db, char *why, size_t why_size)
{
  kedge_err_t err = kedge_master_key_load(udm->master_key_file, &udm->master_key, why, why_size);
  if (!err)
    err = key_refused(udm, udm_db_open(udm->database, &udm->master_key, db, why, why_size), why,
                      why_size);
  if (err)
    kedge_master_key_clear(&udm->master_key);
  return err;
}

kedge_err_t udm_check(void *state, char *why, size_t why_size)
{
  udm_t *udm = state;
  kedge_master_key_t mk;
  kedge_err_t err = kedge_master_key_load(udm->master_key_file, &mk, why, why_size);
  if (!err)
    err = key_refused(udm, udm_db_check_key(udm->database, &mk, why, why_size), why, why_size);
  kedge_master_key_clear(&mk);
  return err;
}

void udm_reload(void *state, void *next_state)
{
  udm_t *udm = state;
  const udm_t *next = next_state;
  udm->allowed_consumers = next->allowed_consumers;
  udm->n_allowed_consumers = next->n_allowed_consumers;
}

/* udm.suci.keys: [{id, profile, private_key}], ids unique (TS 33.501 6.12.2: the UE names the
 * key by hnPubKeyId; several ids at once let an operator rotate keys). */
static kedge_err_t read_suci_keys(kedge_config_node_t *sec, udm_t *udm)
{
  kedge_config_node_t *const *items = NULL;
  size_t n = 0;
  kedge_err_t err = kedge_config_maps(sec, "suci.keys", &items, &n), e;
  if (err || n == 0)
    return err;
  udm->suci_key_conf = calloc(n, sizeof(*udm->suci_key_conf));
  if (!udm->suci_key_conf)
    return KEDGE_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    udm_suci_key_conf_t *c = &udm->suci_key_conf[i];
    int64_t id = 0;
    const char *profile = NULL;
    if ((e = kedge_config_require(items[i], "id")) ||
        (e = kedge_config_int(items[i], "id", 0, 1, 255, &id)) ||
        (e = kedge_config_require(items[i], "profile")) ||
        (e = kedge_config_string(items[i], "profile", NULL, &profile)) ||
        (e = kedge_config_require(items[i], "private_key")) ||
        (e = kedge_config_string(items[i], "private_key", NULL, &c->private_key))) {
      err = err ? err : e;
      continue;
    }
    c->id = (unsigned)id;
    if (kedge_ecies_profile_parse(profile, &c->profile))
      e = kedge_config_invalid(items[i], "profile", "must be A (X25519) or B (secp256r1)");
    for (size_t j = 0; j < i && !e; j++)
      if (udm->suci_key_conf[j].id == c->id)
        e = kedge_config_invalid(items[i], "id", "hnPubKeyId %u is given twice", c->id);
    err = err ? err : e;
  }
  udm->n_suci_key_conf = n;
  return err;
}

kedge_err_t udm_read_config(kedge_config_node_t *root, void *state)
{
  udm_t *udm = state;
  kedge_config_node_t *sec = NULL;
  int64_t batch = 0, queued = 0, keep = 0, ckpt = 0;
  kedge_err_t err = KEDGE_OK;
  KEDGE_CONFIG_KEEP(err, kedge_config_map(root, "udm", &sec));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "database", "udm.sqlite", &udm->database));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "master_key", NULL, &udm->master_key_file));
  if (!udm->master_key_file)
    KEDGE_CONFIG_KEEP(err, kedge_config_require(sec, "master_key"));
  KEDGE_CONFIG_KEEP(err, kedge_config_strings(sec, "allowed_consumers", &udm->allowed_consumers,
                                              &udm->n_allowed_consumers));
  if (!err && udm->n_allowed_consumers == 0)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(
                               sec, "allowed_consumers",
                               "list the SAN DNS names of the AUSFs allowed to ask for vectors"));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "group_commit.max_batch", 256, 1, 65536, &batch));
  KEDGE_CONFIG_KEEP(err,
                    kedge_config_int(sec, "group_commit.max_queued", 20000, 1, 10000000, &queued));
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "auth_events.keep", 8, 1, 1000, &keep));
  /* SQLite's own wal_autocheckpoint default, now run beside the commits (docs/udm.md) */
  KEDGE_CONFIG_KEEP(err, kedge_config_int(sec, "wal_checkpoint_pages", 1000, 1, 1000000, &ckpt));
  KEDGE_CONFIG_KEEP(err, kedge_config_string(sec, "api_root", NULL, &udm->api_root));
  if (udm->api_root && strncmp(udm->api_root, "https://", 8) != 0)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "api_root", "must start with https://"));
  else if (udm->api_root && strlen(udm->api_root) > KEDGE_SBI_API_ROOT_MAX)
    KEDGE_CONFIG_KEEP(err, kedge_config_invalid(sec, "api_root", "must be at most %d octets",
                                                KEDGE_SBI_API_ROOT_MAX));
  KEDGE_CONFIG_KEEP(err, read_suci_keys(sec, udm));
  udm->max_batch = (size_t)batch;
  udm->max_queued = (size_t)queued;
  udm->auth_events_keep = (size_t)keep;
  udm->wal_checkpoint_pages = (unsigned)ckpt;
  return err;
}
