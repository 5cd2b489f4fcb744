/* kedge-aanfd: the AAnF (AKMA Anchor Function, TS 33.535 4.2, TS 29.535): keeps the latest
 * AKMA anchor key K_AKMA per SUPI, registered by the AUSF after primary authentication, found by
 * its A-KID, and derives K_AF for application functions (SPEC.md 9). K_AKMA never leaves it. */
#ifndef KEDGE_AANF_H
#define KEDGE_AANF_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/config.h"
#include "kedge/identity.h"
#include "kedge/keystore.h"
#include "kedge/metrics.h"
#include "kedge/sbi_server.h"

/* A consumer of Naanf_AKMA_ApplicationKey_Get (retrieve-applicationkey), by certificate SAN
 * DNS name: an AF in the operator's domain (here: an ECS), or the NEF as relay. */
typedef struct aanf_af_consumer {
  const char *name;
  bool supi;  /* may receive the SUPI (TS 29.535 scope naanf-akma:applicationkeyget:supi-access) */
  bool relay; /* listed in applicationkey.relays: may ask for any afId (the NEF) */
} aanf_af_consumer_t;

typedef struct aanf {
  /* configuration */
  kedge_plmn_t home_network; /* the realm of the A-KIDs this AAnF serves */
  int64_t key_lifetime_ms;
  kedge_keystore_config_t keystore;    /* keystore:, redis:, aanf.master_key */
  const char *const *anchor_consumers; /* AUSFs: register-anchorkey, remove-context */
  size_t n_anchor_consumers;
  aanf_af_consumer_t *af_consumers;
  size_t n_af_consumers;

  /* run time */
  kedge_counter_t *registered, *register_failed, *removed, *remove_not_found, *keys_ok,
      *keys_unknown, *refused, *failed;
} aanf_t;

kedge_err_t aanf_read_config(kedge_config_node_t *root, void *state);

/* The key store handle of one worker's loop (kedge_sbi_server_set_worker_hooks). */
kedge_err_t aanf_workers_setup(aanf_t *aanf, kedge_sbi_server_t *srv);
kedge_keystore_t *aanf_keystore_of(const kedge_sbi_request_t *req);

/* Naanf_AKMA: register-anchorkey, retrieve-applicationkey, remove-context. */
kedge_err_t aanf_akma_setup(aanf_t *aanf, kedge_sbi_server_t *srv);

#endif
