/* The udm: section of kedge-udmd's configuration (conf/udm.yaml documents every key). */
#include <string.h>

#include "udm.h"

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
