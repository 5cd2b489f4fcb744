/* The udm: section of kedge-udmd's configuration (conf/udm.yaml documents every key), and
 * what it names: the master key and the subscriber database it must open. */
#include <stdio.h>
#include <string.h>

#include "udm.h"

/* "udm.master_key FILE does not open the subscriber database DB": the one line an operator
 * needs (issue 11: otherwise every AKA fails as "AUTS does not verify"). */
static kedge_err_t key_refused(const udm_t *udm, kedge_err_t err, char *why, size_t why_size)
{
  if (err == KEDGE_ERR_MAC_FAILURE)
    snprintf(why, why_size, "udm.master_key %s does not open the subscriber database %s (its "
             "key-check record does not verify): wrong master key?", udm->master_key_file,
             udm->database);
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

kedge_err_t udm_read_config(kedge_config_node_t *root, void *state)
{
  udm_t *udm = state;
  kedge_config_node_t *sec = NULL;
  int64_t batch = 0, queued = 0, keep = 0;
  kedge_err_t err = KEDGE_OK, e;
#define KEEP(call) ((e = (call)) && !err ? (void)(err = e) : (void)0)
  KEEP(kedge_config_map(root, "udm", &sec));
  KEEP(kedge_config_string(sec, "database", "udm.sqlite", &udm->database));
  KEEP(kedge_config_string(sec, "master_key", NULL, &udm->master_key_file));
  if (!udm->master_key_file)
    KEEP(kedge_config_require(sec, "master_key"));
  KEEP(kedge_config_strings(sec, "allowed_consumers", &udm->allowed_consumers,
                            &udm->n_allowed_consumers));
  if (!err && udm->n_allowed_consumers == 0)
    KEEP(kedge_config_invalid(sec, "allowed_consumers",
                              "list the SAN DNS names of the AUSFs allowed to ask for vectors"));
  KEEP(kedge_config_int(sec, "group_commit.max_batch", 256, 1, 65536, &batch));
  KEEP(kedge_config_int(sec, "group_commit.max_queued", 20000, 1, 10000000, &queued));
  KEEP(kedge_config_int(sec, "auth_events.keep", 8, 1, 1000, &keep));
  KEEP(kedge_config_string(sec, "api_root", NULL, &udm->api_root));
  if (udm->api_root && strncmp(udm->api_root, "https://", 8) != 0)
    KEEP(kedge_config_invalid(sec, "api_root", "must start with https://"));
#undef KEEP
  udm->max_batch = (size_t)batch;
  udm->max_queued = (size_t)queued;
  udm->auth_events_keep = (size_t)keep;
  return err;
}
