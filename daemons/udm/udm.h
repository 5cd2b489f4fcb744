/* kedge-udmd: the UDM/ARPF (TS 23.501 6.2.7, TS 33.501 6.1.3.2): holds the subscribers and
 * answers Nudm_UEAuthentication_Get with 5G HE AVs (TS 29.503). */
#ifndef KEDGE_UDM_H
#define KEDGE_UDM_H

#include <stdbool.h>
#include <stddef.h>

#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/identity.h"
#include "kedge/json_check.h"
#include "kedge/metrics.h"
#include "kedge/sbi_server.h"
#include "kedge/seal.h"
#include "kedge/suci.h"
#include "kedge/work.h"
#include "subscriber_db.h"

/* One entry of udm.suci.keys: a home network key pair for SUCI de-concealment. */
typedef struct udm_suci_key_conf {
  unsigned id;                   /* hnPubKeyId, 1..255 */
  kedge_ecies_profile_t profile; /* A or B */
  const char *private_key;       /* file written by `kedge suci keygen` (sealed) */
} udm_suci_key_conf_t;

/* What the database pool's batch runs: vectors and AuthEvents share its transactions. */
typedef enum udm_job_kind { UDM_JOB_VECTOR, UDM_JOB_AUTH_EVENT } udm_job_kind_t;
struct udm;
typedef struct udm_job {
  udm_job_kind_t kind;
  size_t size;     /* of the whole job (av_job_t, event_job_t): wiped with it (udm_job_drop) */
  kedge_err_t err; /* the result, set on the pool thread */
  struct udm *udm;
  kedge_sbi_request_t *req;
} udm_job_t;

/* The database pool's drop (kedge_work_pool_set_drop): wipes and frees a job never answered. */
void udm_job_drop(void *arg);

typedef struct udm {
  /* configuration (udm: section) */
  const char *database;
  const char *master_key_file;
  const char *const *allowed_consumers; /* SAN DNS names of AUSFs */
  size_t n_allowed_consumers;
  size_t max_batch;                   /* SQN updates per transaction (group commit) */
  unsigned wal_checkpoint_pages;      /* background WAL checkpoint at this many pages */
  size_t max_queued;                  /* vector requests waiting for the database */
  udm_suci_key_conf_t *suci_key_conf; /* udm.suci.keys: several at once for rotation */
  size_t n_suci_key_conf;
  size_t auth_events_keep; /* AuthEvents kept per SUPI (the latest) */
  const char *api_root;    /* for Location; NULL: https://<sbi.address>:<port> */

  /* run time */
  kedge_master_key_t master_key;
  udm_db_t *db;                 /* owned by the pool's thread once serving */
  kedge_work_pool_t *pool;      /* batched: one thread, one fsync per batch */
  kedge_suci_keys_t *suci_keys; /* read-only once serving: shared by the workers */
  kedge_sbi_server_t *srv;
  kedge_counter_t *vectors_ok, *vectors_failed, *resyncs, *batches, *suci_ok, *suci_failed;
  kedge_counter_t *checkpoints_inline; /* WAL checkpoints the group commit ran itself */
  kedge_counter_t *auth_events_stored, *auth_events_removed, *auth_events_refused;
} udm_t;

/* udm: section of the configuration file. */
kedge_err_t udm_read_config(kedge_config_node_t *root, void *state);
/* Loads udm.master_key and opens udm.database with it; a key that does not open the database
 * is one line naming both files. */
kedge_err_t udm_open_database(udm_t *udm, udm_db_t **db, char *why, size_t why_size);
/* kedge_app_t.check: the master key loads and opens the database (nothing written). */
kedge_err_t udm_check(void *state, char *why, size_t why_size);
/* kedge_app_t.reload: the allow-list of the new file. */
void udm_reload(void *state, void *next_state);

/* POST /nudm-ueau/v1/{supiOrSuci}/security-information/generate-auth-data */
kedge_err_t udm_ueau_setup(udm_t *udm, kedge_sbi_server_t *srv);

/* The consumer's certificate names one of udm.allowed_consumers. */
bool udm_consumer_allowed(const udm_t *udm, const kedge_sbi_request_t *req);
/* TS 29.503 ServingNetworkName check for kedge/json_check.h tables. */
const char *udm_check_snn(const json_t *value);
/* The same on a string: NULL when it passes, else the reason. */
const char *udm_snn_why(const char *s);

/* POST /nudm-ueau/v1/{supi}/auth-events and PUT .../auth-events/{authEventId} (TS 29.503
 * ResultConfirmation, ResultRemoval). The work runs inside the database pool's batch. */
kedge_err_t udm_auth_events_setup(udm_t *udm, kedge_sbi_server_t *srv);
void udm_auth_event_work(udm_t *udm, udm_job_t *job); /* pool thread, in the transaction */

/* Loads the sealed SUCI keys of udm.suci.keys under the master key (after it is loaded). */
kedge_err_t udm_suci_load(udm_t *udm, char *why, size_t why_size);
void udm_suci_free(udm_t *udm);

/* supiOrSuci (TS 29.503 6.3.3.2.x, TS 23.003 2.2B): a SUPI, or a SUCI of protection scheme 0,
 * 1 or 2 (kedge/suci.h), to the SUPI; `rid` gets the SUCI's routing indicator ("" for a
 * SUPI). KEDGE_ERR_BAD_SUPI for anything malformed, KEDGE_ERR_UNSUPPORTED for another
 * scheme, KEDGE_ERR_MAC_FAILURE for a scheme output that does not de-conceal (unknown
 * hnPubKeyId included). *why: static text for the ProblemDetails detail. */
kedge_err_t udm_resolve_supi_or_suci(const udm_t *udm, const char *text, kedge_supi_t *supi,
                                     char rid[KEDGE_RID_MAX + 1], const char **why);
/* TS 29.503 6.3.6.2.2 AuthenticationInfoRequest as generate-auth-data checks it (also for
 * fuzz/fuzz-udm-bodies.c). */
extern const kedge_json_member_t udm_auth_info_request_members[];
/* TS 29.503 6.3.6.2.8 AuthEvent as auth-events checks it (also for fuzz/fuzz-udm-bodies.c). */
extern const kedge_json_member_t udm_auth_event_members[];

/* The provisioning subcommand: kedge-udmd subscriber add|show|list|delete|import ... */
struct kedge_app;
int udm_subscriber_command(const struct kedge_app *app, int argc, char **argv);

#endif
