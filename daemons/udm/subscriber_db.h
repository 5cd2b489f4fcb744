/* The UDM/ARPF subscriber database (SQLite): SUPI, K, OPc, AMF, SQN, routing indicator and the
 * edge-capable flag. K and OPc are sealed (kedge/seal.h) under the UDM's master key with the
 * SUPI as additional data, so a copy of the file alone reveals no key.
 *
 * Every call blocks (SQLite, fsync with synchronous=FULL): the daemon calls it from its work
 * pool, never on the event loop. One handle per thread. */
#ifndef KEDGE_UDM_SUBSCRIBER_DB_H
#define KEDGE_UDM_SUBSCRIBER_DB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "kedge/aka.h"
#include "kedge/edge.h"
#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/seal.h"
#include "kedge/str.h" /* kedge_str_put: the UDM's answers and sealing AADs written out */

typedef struct udm_db udm_db_t;

/* What is provisioned for one subscriber. */
typedef struct udm_subscriber {
  char supi[KEDGE_SUPI_MAX + 1];
  kedge_aka_credentials_t cred; /* K, OPc: filled only by calls that need them */
  uint8_t amf[KEDGE_AMF_LEN];
  uint64_t sqn; /* the last SQN used in a vector (SPEC.md 1) */
  char routing_indicator[KEDGE_RID_MAX + 1];
  bool edge_capable;
  bool akma; /* AKMA subscriber: akmaInd (TS 29.503, TS 33.535 6.1) */
} udm_subscriber_t;

/* One AuthEvent (TS 29.503 6.3.6.2.8) as the UDM keeps it: the latest few per SUPI. */
#define UDM_AUTH_EVENT_ID_LEN 32 /* hex of 16 random octets */
typedef struct udm_auth_event {
  char supi[KEDGE_SUPI_MAX + 1];
  char id[UDM_AUTH_EVENT_ID_LEN + 1];
  char nf_instance_id[64 + 1];
  bool success;
  char time_stamp[64 + 1]; /* as the AUSF wrote it (RFC 3339) */
  char auth_type[32 + 1];
  char serving_network_name[64 + 1];
  char removed_at[21]; /* RFC 3339, when authRemovalInd came; "" if not */
} udm_auth_event_t;

/* Opens (creating if needed) the database at `path` in WAL mode with synchronous=FULL. The
 * master key is copied; `why` receives a one-line reason on error. */
kedge_err_t udm_db_open(const char *path, const kedge_master_key_t *mk, udm_db_t **db, char *why,
                        size_t why_size);
void udm_db_close(udm_db_t *db);
/* The group commit's connection: its WAL checkpoints run on a thread of their own from now on,
 * at `pages` WAL pages, and inline again past 4 x `pages` (kedge/wal_checkpoint.h), calling
 * `inline_run(arg)` each time. The daemon's only; udm_db_close() stops it. */
kedge_err_t udm_db_checkpoint_in_background(udm_db_t *db, const char *path, unsigned pages,
                                            void (*inline_run)(void *arg), void *arg);
/* The database keeps a key-check record (kedge/seal.h), written at the first open (also of a
 * database from before the record existed, once a subscriber's K opened). udm_db_open() fails
 * with KEDGE_ERR_MAC_FAILURE when `mk` does not open it; udm_db_check_key() checks the same
 * without writing anything (KEDGE_OK when the file does not exist yet). */
kedge_err_t udm_db_check_key(const char *path, const kedge_master_key_t *mk, char *why,
                             size_t why_size);

/* KEDGE_ERR_EXISTS when the SUPI is provisioned already. */
kedge_err_t udm_db_add(udm_db_t *db, const udm_subscriber_t *sub);

/* Changes K, OPc, AMF, routing indicator and edge flag of a provisioned subscriber (sub holds
 * them all: read the record with udm_db_get_credentials() and change what was asked); the SQN
 * stays as it is. KEDGE_ERR_NOT_FOUND if absent. */
kedge_err_t udm_db_modify(udm_db_t *db, const udm_subscriber_t *sub);

/* K and OPc as stored: sealed under the master key for their SUPI (kedge/seal.h). */
typedef struct udm_sealed {
  uint8_t k[16 + KEDGE_SEAL_OVERHEAD], opc[16 + KEDGE_SEAL_OVERHEAD];
  size_t k_len, opc_len;
} udm_sealed_t;

/* Every subscriber in SUPI order with K and OPc sealed as stored, and in `sub->cred` only with
 * `reveal` (wiped after the callback). Each sealed pair is checked to open under the master
 * key (KEDGE_ERR_MAC_FAILURE otherwise), so an export always imports again. */
kedge_err_t udm_db_export(udm_db_t *db, bool reveal,
                          int (*fn)(const udm_subscriber_t *sub, const udm_sealed_t *sealed,
                                    void *arg),
                          void *arg);

/* Adds a subscriber whose K and OPc come sealed (an export of a database under the same
 * master key); KEDGE_ERR_MAC_FAILURE when they do not open here for this SUPI. */
kedge_err_t udm_db_add_sealed(udm_db_t *db, const udm_subscriber_t *sub,
                              const udm_sealed_t *sealed);

/* Without K and OPc (cred is zeroed): for show and list. KEDGE_ERR_NOT_FOUND if absent. */
kedge_err_t udm_db_get(udm_db_t *db, const char *supi, udm_subscriber_t *sub);

kedge_err_t udm_db_delete(udm_db_t *db, const char *supi);

/* Calls `fn` for each subscriber in SUPI order (without K and OPc); stops at a non-zero
 * return. */
kedge_err_t udm_db_list(udm_db_t *db, int (*fn)(const udm_subscriber_t *sub, void *arg), void *arg);

/* For one authentication vector (TS 33.501 6.1.3.2 step 2, SPEC.md 1): in one transaction,
 * reads the subscriber with K and OPc, takes SQN = last + 1 (or SQNms + 1 when `sqn_ms` is
 * not NULL: resynchronisation, TS 33.102 6.3.5), stores it durably and returns the record with
 * `sqn` set to the SQN to use. The caller wipes sub->cred. Between udm_db_begin() and
 * udm_db_commit() it joins that transaction instead (group commit: one fsync for many), and
 * the SQN is durable only once the commit succeeded. */
kedge_err_t udm_db_next_sqn(udm_db_t *db, const char *supi, const uint64_t *sqn_ms,
                            udm_subscriber_t *sub);

/* Reads K and OPc (for the resynchronisation check) without changing anything. */
kedge_err_t udm_db_get_credentials(udm_db_t *db, const char *supi, udm_subscriber_t *sub);

/* Stores an AuthEvent (TS 29.503 5.4.2.3 ResultConfirmation) and keeps only the SUPI's `keep`
 * latest. KEDGE_ERR_NOT_FOUND when the SUPI is not provisioned. Joins a transaction in progress
 * (group commit) like udm_db_next_sqn. */
kedge_err_t udm_db_add_auth_event(udm_db_t *db, const udm_auth_event_t *ev, size_t keep);

/* Marks an AuthEvent removed (TS 29.503 5.4.2.4 ResultRemoval, authRemovalInd) at `removed_at`;
 * the record stays as history. KEDGE_ERR_NOT_FOUND: no such event of that SUPI, or removed
 * already. */
kedge_err_t udm_db_remove_auth_event(udm_db_t *db, const char *supi, const char *id,
                                     const char *removed_at);

/* The SUPI's AuthEvents, oldest first (for `subscriber show`); stops at a non-zero return. */
kedge_err_t udm_db_list_auth_events(udm_db_t *db, const char *supi,
                                    int (*fn)(const udm_auth_event_t *ev, void *arg), void *arg);

/* Explicit transactions (for import): all adds between begin and commit land together. */
kedge_err_t udm_db_begin(udm_db_t *db);
kedge_err_t udm_db_commit(udm_db_t *db);
void udm_db_rollback(udm_db_t *db);

/* Provisions many subscribers in one transaction from a CSV file with the header
 * `supi,k,opc,amf,sqn,rid,edge` (op may replace opc: it is converted). All or nothing;
 * on error `why` names the file, line and column. */
kedge_err_t udm_db_import_csv(udm_db_t *db, const char *path, size_t *count, char *why,
                              size_t why_size);

/* Provisioning input as text (command line or CSV). NULL fields take their defaults: AMF 8000
 * (separation bit set, TS 33.501 Annex A.2... and TS 33.102 Annex H), SQN 0, RID "0", edge
 * capable. Exactly one of opc and op. */
typedef struct udm_subscriber_text {
  const char *supi, *k, *opc, *op, *amf, *sqn, *rid, *edge, *akma; /* akma default false */
} udm_subscriber_text_t;

/* Checks and converts; on error *field names the offending field ("k", "sqn", ...) and
 * *why a short reason (never echoing a key). */
kedge_err_t udm_subscriber_from_text(const udm_subscriber_text_t *in, udm_subscriber_t *sub,
                                     const char **field, const char **why);

#endif
