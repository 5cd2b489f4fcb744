/* UDM/ARPF subscriber database on SQLite (see subscriber_db.h). */
#include "subscriber_db.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "kedge/hex.h"
#include "kedge/keystore.h"
#include "kedge/log.h"
#include "kedge/milenage.h"
#include "kedge/sqn.h"
#include "kedge/wal_checkpoint.h"

struct udm_db {
  sqlite3 *sql;
  kedge_master_key_t mk;
  /* K and OPc of each vector opened with the AES-GCM key schedule made once (the handle's
   * thread, like its SQLite connection: the UDM's pool thread) */
  kedge_unsealer_t *unsealer;
  sqlite3_stmt *insert, *select, *select_keys, *update_sqn, *remove, *list, *modify, *export;
  sqlite3_stmt *event_insert, *event_trim, *event_remove, *event_list, *event_delete_supi;
  sqlite3_stmt *tx_begin, *tx_commit, *tx_rollback; /* prepared once, like the rest */
  kedge_wal_checkpoint_t *ckpt; /* the daemon's: checkpoints off the commit path */
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS subscriber ("
    " supi TEXT PRIMARY KEY,"
    " k BLOB NOT NULL,"   /* sealed K */
    " opc BLOB NOT NULL," /* sealed OPc */
    " amf BLOB NOT NULL,"
    " sqn INTEGER NOT NULL," /* last SQN used */
    " rid TEXT NOT NULL,"
    " edge INTEGER NOT NULL,"
    " akma INTEGER NOT NULL DEFAULT 0" /* akmaInd (SPEC.md 9) */
    ") WITHOUT ROWID;"
    /* TS 29.503 AuthEvent: the latest udm.auth_events.keep per SUPI, in arrival order (seq) */
    "CREATE TABLE IF NOT EXISTS auth_event ("
    " seq INTEGER PRIMARY KEY,"
    " supi TEXT NOT NULL,"
    " id TEXT NOT NULL," /* authEventId: 128 random bits in hex */
    " nf_instance_id TEXT NOT NULL,"
    " success INTEGER NOT NULL,"
    " time_stamp TEXT NOT NULL,"
    " auth_type TEXT NOT NULL,"
    " serving_network_name TEXT NOT NULL,"
    " removed_at TEXT" /* set by the removal (authRemovalInd) */
    ");"
    /* A unique index (supi, id) went with the fifth round (docs/performance-latency.md): a
     * third B-tree written per insert and per trim, and a page more per commit, for lookups
     * by id that walk the SUPI's few events by auth_event_by_supi as cheaply; ids are 128
     * random bits made here. A database made before loses it at its next open. */
    "DROP INDEX IF EXISTS auth_event_supi;"
    /* A SUPI's events in seq order (an index holds the rowid, seq, after its columns): the
     * trim finds the newest `keep` by walking it, without sorting them in a temporary B-tree
     * per insert (docs/performance-latency.md, fourth round). A database made before it gets
     * it at its next open. */
    "CREATE INDEX IF NOT EXISTS auth_event_by_supi ON auth_event (supi);";

/* A database made before the akma column gets it (every subscriber not AKMA). */
static const char add_akma[] = "ALTER TABLE subscriber ADD COLUMN akma INTEGER NOT NULL DEFAULT 0";

/* The key-check record (kedge/keystore.h): for a database from before it, a subscriber's
 * sealed K (additional data as in seal_aad()) must open before the record is written. */
#define KEY_CHECK_STORE  "udm-subscribers"
#define KEY_CHECK_SAMPLE "SELECT supi, k FROM subscriber LIMIT 1"
#define KEY_CHECK_AAD    "kedge-udm:k:"

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t size, const char *fmt, ...)
{
  if (!why || !size)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
}

static kedge_err_t prepare(udm_db_t *db, sqlite3_stmt **st, const char *sql)
{
  return sqlite3_prepare_v3(db->sql, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) == SQLITE_OK
             ? KEDGE_OK
             : KEDGE_ERR_IO;
}

kedge_err_t udm_db_check_key(const char *path, const kedge_master_key_t *mk, char *why,
                             size_t why_size)
{
  kedge_err_t err =
      kedge_key_check_sqlite_file(path, mk, KEY_CHECK_STORE, KEY_CHECK_SAMPLE, KEY_CHECK_AAD);
  if (err == KEDGE_ERR_MAC_FAILURE)
    say(why, why_size, "%s: the master key does not open this subscriber database", path);
  else if (err)
    say(why, why_size, "%s: cannot read the subscriber database", path);
  return err;
}

kedge_err_t udm_db_open(const char *path, const kedge_master_key_t *mk, udm_db_t **out, char *why,
                        size_t why_size)
{
  if (!path || !mk || !out)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  udm_db_t *db = calloc(1, sizeof(*db));
  if (!db)
    return KEDGE_ERR_NOMEM;
  db->mk = *mk;
  struct stat st;
  bool created = stat(path, &st) != 0;
  if (sqlite3_open_v2(path, &db->sql,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    say(why, why_size, "%s: cannot open subscriber database: %s", path,
        db->sql ? sqlite3_errmsg(db->sql) : "out of memory");
    udm_db_close(db);
    return KEDGE_ERR_IO;
  }
  if (created)
    chmod(path, 0600); /* sealed keys and SQNs: the UDM's own business */
  /* WAL lets the provisioning CLI write while the daemon reads; synchronous=FULL makes an SQN
   * durable before the vector that used it leaves (SPEC.md 1). */
  char *err = NULL;
  if (sqlite3_busy_timeout(db->sql, 5000) != SQLITE_OK ||
      sqlite3_exec(db->sql, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL,
                   &err) != SQLITE_OK ||
      sqlite3_exec(db->sql, schema, NULL, NULL, &err) != SQLITE_OK ||
      (sqlite3_exec(db->sql, "SELECT akma FROM subscriber LIMIT 0", NULL, NULL, NULL) !=
           SQLITE_OK &&
       sqlite3_exec(db->sql, add_akma, NULL, NULL, &err) != SQLITE_OK)) {
    say(why, why_size, "%s: cannot set up subscriber database: %s", path,
        err ? err : sqlite3_errmsg(db->sql));
    sqlite3_free(err);
    udm_db_close(db);
    return KEDGE_ERR_IO;
  }
  kedge_err_t kerr =
      kedge_key_check_sqlite(db->sql, mk, KEY_CHECK_STORE, KEY_CHECK_SAMPLE, KEY_CHECK_AAD, true);
  if (kerr) {
    if (kerr == KEDGE_ERR_MAC_FAILURE)
      say(why, why_size, "%s: the master key does not open this subscriber database", path);
    else
      say(why, why_size, "%s: cannot check the master key: %s", path, sqlite3_errmsg(db->sql));
    udm_db_close(db);
    return kerr;
  }
  if ((kerr = kedge_unsealer_new(mk, &db->unsealer))) {
    say(why, why_size, "%s: %s", path, kedge_strerror(kerr));
    udm_db_close(db);
    return kerr;
  }
  if (prepare(db, &db->insert,
              "INSERT INTO subscriber (supi, k, opc, amf, sqn, rid, edge, akma) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)") ||
      prepare(db, &db->select,
              "SELECT supi, amf, sqn, rid, edge, akma FROM subscriber WHERE supi = ?") ||
      prepare(db, &db->select_keys,
              "SELECT supi, amf, sqn, rid, edge, akma, k, opc FROM subscriber WHERE supi = ?") ||
      prepare(db, &db->update_sqn, "UPDATE subscriber SET sqn = ? WHERE supi = ?") ||
      prepare(db, &db->remove, "DELETE FROM subscriber WHERE supi = ?") ||
      prepare(db, &db->list,
              "SELECT supi, amf, sqn, rid, edge, akma FROM subscriber ORDER BY supi") ||
      prepare(db, &db->modify,
              /* the insert's parameter numbers (bind_subscriber), without ?5 (sqn) */
              "UPDATE subscriber SET k = ?2, opc = ?3, amf = ?4, rid = ?6, edge = ?7, akma = ?8 "
              "WHERE supi = ?1") ||
      prepare(db, &db->export,
              "SELECT supi, amf, sqn, rid, edge, akma, k, opc FROM subscriber ORDER BY supi") ||
      prepare(db, &db->event_insert,
              "INSERT INTO auth_event (supi, id, nf_instance_id, success, time_stamp, auth_type,"
              " serving_network_name) SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7"
              " WHERE EXISTS (SELECT 1 FROM subscriber WHERE supi = ?1)") ||
      /* everything older than the keep-th newest (no row: fewer than keep + 1, nothing goes) */
      prepare(
          db, &db->event_trim,
          "DELETE FROM auth_event WHERE supi = ?1 AND seq <="
          " (SELECT seq FROM auth_event WHERE supi = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)") ||
      prepare(db, &db->event_remove,
              "UPDATE auth_event SET removed_at = ?3"
              " WHERE supi = ?1 AND id = ?2 AND removed_at IS NULL") ||
      prepare(db, &db->event_list,
              "SELECT supi, id, nf_instance_id, success, time_stamp, auth_type,"
              " serving_network_name, removed_at FROM auth_event WHERE supi = ?1 ORDER BY seq") ||
      prepare(db, &db->event_delete_supi, "DELETE FROM auth_event WHERE supi = ?1") ||
      prepare(db, &db->tx_begin, "BEGIN IMMEDIATE") || prepare(db, &db->tx_commit, "COMMIT") ||
      prepare(db, &db->tx_rollback, "ROLLBACK")) {
    say(why, why_size, "%s: %s", path, sqlite3_errmsg(db->sql));
    udm_db_close(db);
    return KEDGE_ERR_IO;
  }
  *out = db;
  return KEDGE_OK;
}

void udm_db_close(udm_db_t *db)
{
  if (!db)
    return;
  sqlite3_stmt *all[] = {db->insert,
                         db->select,
                         db->select_keys,
                         db->update_sqn,
                         db->remove,
                         db->list,
                         db->modify,
                         db->export,
                         db->event_insert,
                         db->event_trim,
                         db->event_remove,
                         db->event_list,
                         db->event_delete_supi,
                         db->tx_begin,
                         db->tx_commit,
                         db->tx_rollback};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    sqlite3_finalize(all[i]);
  /* First: the close below, the file's last in this process, copies the rest of the WAL into
   * the file and removes it (SQLite's own, as before). */
  kedge_wal_checkpoint_stop(db->ckpt);
  sqlite3_close(db->sql);
  kedge_unsealer_free(db->unsealer);
  kedge_master_key_clear(&db->mk);
  free(db);
}

kedge_err_t udm_db_checkpoint_in_background(udm_db_t *db, const char *path, unsigned pages,
                                            void (*inline_run)(void *arg), void *arg)
{
  if (!db || db->ckpt)
    return KEDGE_ERR_INVALID_ARG;
  char why[256];
  kedge_err_t err = kedge_wal_checkpoint_start(db->sql, path, pages, path, inline_run, arg,
                                               &db->ckpt, why, sizeof(why));
  if (err)
    kedge_log_error("%s", why);
  return err;
}

/* Additional data binding a sealed K or OPc to its SUPI and role. */
static size_t seal_aad(char *aad, size_t size, const char *role, const char *supi)
{
  /* "kedge-udm:<role>:<supi>" (the callers' buffers hold any SUPI) */
  char *p = aad;
  KEDGE_PUT_LIT(&p, aad + size, "kedge-udm:");
  KEDGE_PUT_STR(&p, aad + size, role);
  KEDGE_PUT_LIT(&p, aad + size, ":");
  KEDGE_PUT_STR(&p, aad + size, supi);
  return p ? (size_t)(p - aad) : 0;
}

/* K and OPc of `sub` sealed for its SUPI, as stored. */
static kedge_err_t seal_credentials(udm_db_t *db, const udm_subscriber_t *sub, udm_sealed_t *out)
{
  char aad[KEDGE_SUPI_MAX + 32];
  kedge_err_t err = kedge_seal(&db->mk, aad, seal_aad(aad, sizeof(aad), "k", sub->supi),
                               sub->cred.k, 16, out->k, &out->k_len);
  if (!err)
    err = kedge_seal(&db->mk, aad, seal_aad(aad, sizeof(aad), "opc", sub->supi), sub->cred.opc, 16,
                     out->opc, &out->opc_len);
  return err;
}

static kedge_err_t unseal_column(udm_db_t *db, sqlite3_stmt *st, int col, const char *role,
                                 const char *supi, uint8_t secret[16])
{
  char aad[KEDGE_SUPI_MAX + 32];
  size_t aad_len = seal_aad(aad, sizeof(aad), role, supi), len = 0;
  uint8_t out[KEDGE_SEAL_MAX_PLAINTEXT];
  kedge_err_t err = kedge_unsealer_open(db->unsealer, aad, aad_len, sqlite3_column_blob(st, col),
                                        (size_t)sqlite3_column_bytes(st, col), out, &len);
  if (!err && len != 16)
    err = KEDGE_ERR_BAD_LENGTH;
  if (!err)
    memcpy(secret, out, 16);
  OPENSSL_cleanse(out, sizeof(out));
  return err;
}

/* The subscriber's columns as the insert numbers them (?1 supi, ?2 k, ?3 opc, ?4 amf, ?5 sqn,
 * ?6 rid, ?7 edge, ?8 akma), K and OPc as sealed; ?5 only `with_sqn`. `sealed` must outlive the
 * statement's next step (SQLITE_STATIC). */
static kedge_err_t bind_subscriber(sqlite3_stmt *st, const udm_subscriber_t *sub,
                                   const udm_sealed_t *sealed, bool with_sqn)
{
  if (sqlite3_bind_text(st, 1, sub->supi, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_blob(st, 2, sealed->k, (int)sealed->k_len, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_blob(st, 3, sealed->opc, (int)sealed->opc_len, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_blob(st, 4, sub->amf, 2, SQLITE_STATIC) != SQLITE_OK ||
      (with_sqn && sqlite3_bind_int64(st, 5, (sqlite3_int64)sub->sqn) != SQLITE_OK) ||
      sqlite3_bind_text(st, 6, sub->routing_indicator, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_int(st, 7, sub->edge_capable) != SQLITE_OK ||
      sqlite3_bind_int(st, 8, sub->akma) != SQLITE_OK)
    return KEDGE_ERR_IO;
  return KEDGE_OK;
}

/* Inserts the row of `sub` with K and OPc as sealed: KEDGE_ERR_EXISTS for a SUPI already there. */
static kedge_err_t insert_row(udm_db_t *db, const udm_subscriber_t *sub, const udm_sealed_t *sealed)
{
  sqlite3_stmt *st = db->insert;
  kedge_err_t err = bind_subscriber(st, sub, sealed, true);
  if (!err) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_CONSTRAINT ||
        sqlite3_extended_errcode(db->sql) == SQLITE_CONSTRAINT_PRIMARYKEY)
      err = KEDGE_ERR_EXISTS;
    else if (rc != SQLITE_DONE)
      err = KEDGE_ERR_IO;
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

kedge_err_t udm_db_add(udm_db_t *db, const udm_subscriber_t *sub)
{
  if (!db || !sub)
    return KEDGE_ERR_INVALID_ARG;
  udm_sealed_t sealed;
  kedge_err_t err = seal_credentials(db, sub, &sealed);
  return err ? err : insert_row(db, sub, &sealed);
}

/* Columns supi, amf, sqn, rid, edge, akma of the current row. */
static kedge_err_t read_row(sqlite3_stmt *st, udm_subscriber_t *sub)
{
  memset(sub, 0, sizeof(*sub));
  const unsigned char *supi = sqlite3_column_text(st, 0), *rid = sqlite3_column_text(st, 3);
  if (!supi || !rid || sqlite3_column_bytes(st, 1) != 2 ||
      (size_t)sqlite3_column_bytes(st, 0) > KEDGE_SUPI_MAX ||
      sqlite3_column_bytes(st, 3) > KEDGE_RID_MAX)
    return KEDGE_ERR_IO; /* a row kedge did not write */
  memcpy(sub->supi, supi, (size_t)sqlite3_column_bytes(st, 0));
  memcpy(sub->amf, sqlite3_column_blob(st, 1), 2);
  sub->sqn = (uint64_t)sqlite3_column_int64(st, 2);
  memcpy(sub->routing_indicator, rid, (size_t)sqlite3_column_bytes(st, 3));
  sub->edge_capable = sqlite3_column_int(st, 4) != 0;
  sub->akma = sqlite3_column_int(st, 5) != 0;
  return KEDGE_OK;
}

/* Runs a select by SUPI; with `keys`, also unseals K and OPc. */
static kedge_err_t lookup(udm_db_t *db, const char *supi, bool keys, udm_subscriber_t *sub)
{
  sqlite3_stmt *st = keys ? db->select_keys : db->select;
  kedge_err_t err = KEDGE_OK;
  if (sqlite3_bind_text(st, 1, supi, -1, SQLITE_STATIC) != SQLITE_OK) {
    err = KEDGE_ERR_IO;
  } else {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
      err = KEDGE_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW)
      err = rc == SQLITE_BUSY ? KEDGE_ERR_BUSY : KEDGE_ERR_IO;
    else if (!(err = read_row(st, sub)) && keys &&
             !(err = unseal_column(db, st, 6, "k", supi, sub->cred.k)))
      err = unseal_column(db, st, 7, "opc", supi, sub->cred.opc);
  }
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (err && sub)
    OPENSSL_cleanse(&sub->cred, sizeof(sub->cred));
  return err;
}

kedge_err_t udm_db_get(udm_db_t *db, const char *supi, udm_subscriber_t *sub)
{
  if (!db || !supi || !sub)
    return KEDGE_ERR_INVALID_ARG;
  return lookup(db, supi, false, sub);
}

kedge_err_t udm_db_get_credentials(udm_db_t *db, const char *supi, udm_subscriber_t *sub)
{
  if (!db || !supi || !sub)
    return KEDGE_ERR_INVALID_ARG;
  return lookup(db, supi, true, sub);
}

/* A transaction's BEGIN IMMEDIATE, COMMIT or ROLLBACK: prepared at open (sqlite3_exec parsed
 * the text again for every batch: docs/performance-latency.md, fourth round). */
static kedge_err_t exec(sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? KEDGE_OK : rc == SQLITE_BUSY ? KEDGE_ERR_BUSY : KEDGE_ERR_IO;
}

kedge_err_t udm_db_begin(udm_db_t *db)
{
  return exec(db->tx_begin);
}

kedge_err_t udm_db_commit(udm_db_t *db)
{
  return exec(db->tx_commit);
}

void udm_db_rollback(udm_db_t *db)
{
  exec(db->tx_rollback);
}

kedge_err_t udm_db_next_sqn(udm_db_t *db, const char *supi, const uint64_t *sqn_ms,
                            udm_subscriber_t *sub)
{
  if (!db || !supi || !sub)
    return KEDGE_ERR_INVALID_ARG;
  /* Inside a caller's transaction (group commit) the caller commits; otherwise this call is
   * its own transaction. IMMEDIATE: the write lock is taken before the read, so two requests
   * for one SUPI can never get the same SQN. */
  bool own_tx = sqlite3_get_autocommit(db->sql) != 0;
  kedge_err_t err = own_tx ? exec(db->tx_begin) : KEDGE_OK;
  if (err)
    return err;
  uint64_t next = 0;
  if (!(err = lookup(db, supi, true, sub)) &&
      !(err = kedge_sqn_next(sqn_ms ? *sqn_ms : sub->sqn, &next))) {
    sqlite3_stmt *st = db->update_sqn;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)next) != SQLITE_OK ||
        sqlite3_bind_text(st, 2, supi, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
      err = KEDGE_ERR_IO;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  if (own_tx) {
    if (!err)
      err = exec(db->tx_commit); /* synchronous=FULL: on disk when this returns */
    if (err)
      exec(db->tx_rollback);
  }
  if (err) {
    OPENSSL_cleanse(&sub->cred, sizeof(sub->cred));
    return err;
  }
  sub->sqn = next;
  return KEDGE_OK;
}

kedge_err_t udm_db_delete(udm_db_t *db, const char *supi)
{
  if (!db || !supi)
    return KEDGE_ERR_INVALID_ARG;
  sqlite3_stmt *st = db->remove;
  kedge_err_t err = KEDGE_OK;
  if (sqlite3_bind_text(st, 1, supi, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_DONE)
    err = KEDGE_ERR_IO;
  else if (sqlite3_changes(db->sql) == 0)
    err = KEDGE_ERR_NOT_FOUND;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (!err) { /* its AuthEvents go with it */
    st = db->event_delete_supi;
    if (sqlite3_bind_text(st, 1, supi, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_DONE)
      err = KEDGE_ERR_IO;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
  }
  return err;
}

kedge_err_t udm_db_list(udm_db_t *db, int (*fn)(const udm_subscriber_t *sub, void *arg), void *arg)
{
  if (!db || !fn)
    return KEDGE_ERR_INVALID_ARG;
  sqlite3_stmt *st = db->list;
  kedge_err_t err = KEDGE_OK;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    udm_subscriber_t sub;
    if ((err = read_row(st, &sub)) || fn(&sub, arg))
      break;
  }
  if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
    err = KEDGE_ERR_IO;
  sqlite3_reset(st);
  return err;
}

kedge_err_t udm_db_modify(udm_db_t *db, const udm_subscriber_t *sub)
{
  if (!db || !sub)
    return KEDGE_ERR_INVALID_ARG;
  udm_sealed_t sealed;
  sqlite3_stmt *st = db->modify;
  /* Fresh nonces for K and OPc even when they did not change; the SQN column is not touched
   * (TS 33.102 C.3: the next vector goes on from the last SQN used). */
  kedge_err_t err = seal_credentials(db, sub, &sealed);
  if (!err)
    err = bind_subscriber(st, sub, &sealed, false);
  if (!err && sqlite3_step(st) != SQLITE_DONE)
    err = sqlite3_errcode(db->sql) == SQLITE_BUSY ? KEDGE_ERR_BUSY : KEDGE_ERR_IO;
  else if (!err && sqlite3_changes(db->sql) == 0)
    err = KEDGE_ERR_NOT_FOUND;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  OPENSSL_cleanse(&sealed, sizeof(sealed));
  return err;
}

kedge_err_t udm_db_export(udm_db_t *db, bool reveal,
                          int (*fn)(const udm_subscriber_t *sub, const udm_sealed_t *sealed,
                                    void *arg),
                          void *arg)
{
  if (!db || !fn)
    return KEDGE_ERR_INVALID_ARG;
  sqlite3_stmt *st = db->export;
  kedge_err_t err = KEDGE_OK;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    udm_subscriber_t sub;
    udm_sealed_t sealed = {0};
    if ((err = read_row(st, &sub)))
      break;
    size_t kl = (size_t)sqlite3_column_bytes(st, 6), ol = (size_t)sqlite3_column_bytes(st, 7);
    if (kl > sizeof(sealed.k) || ol > sizeof(sealed.opc)) {
      err = KEDGE_ERR_IO;
      break;
    }
    memcpy(sealed.k, sqlite3_column_blob(st, 6), kl);
    memcpy(sealed.opc, sqlite3_column_blob(st, 7), ol);
    sealed.k_len = kl;
    sealed.opc_len = ol;
    /* Sealed values are checked even when not revealed: an export that would not import
     * again under this master key is an error now, not at the restore. */
    if (!(err = unseal_column(db, st, 6, "k", sub.supi, sub.cred.k)))
      err = unseal_column(db, st, 7, "opc", sub.supi, sub.cred.opc);
    if (!reveal)
      OPENSSL_cleanse(&sub.cred, sizeof(sub.cred));
    int stop = err ? 0 : fn(&sub, &sealed, arg);
    OPENSSL_cleanse(&sub.cred, sizeof(sub.cred));
    if (err || stop)
      break;
  }
  if (!err && rc != SQLITE_ROW && rc != SQLITE_DONE)
    err = KEDGE_ERR_IO;
  sqlite3_reset(st);
  return err;
}

kedge_err_t udm_db_add_sealed(udm_db_t *db, const udm_subscriber_t *sub, const udm_sealed_t *sealed)
{
  if (!db || !sub || !sealed)
    return KEDGE_ERR_INVALID_ARG;
  /* Only what opens under this master key for this SUPI goes in. */
  char aad[KEDGE_SUPI_MAX + 32];
  uint8_t out[KEDGE_SEAL_MAX_PLAINTEXT];
  size_t len = 0;
  kedge_err_t err = kedge_unseal(&db->mk, aad, seal_aad(aad, sizeof(aad), "k", sub->supi),
                                 sealed->k, sealed->k_len, out, &len);
  if (!err && len != 16)
    err = KEDGE_ERR_BAD_LENGTH;
  if (!err)
    err = kedge_unseal(&db->mk, aad, seal_aad(aad, sizeof(aad), "opc", sub->supi), sealed->opc,
                       sealed->opc_len, out, &len);
  if (!err && len != 16)
    err = KEDGE_ERR_BAD_LENGTH;
  OPENSSL_cleanse(out, sizeof(out));
  return err ? err : insert_row(db, sub, sealed);
}

/* ---- AuthEvents ---- */

static kedge_err_t step_done(sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? KEDGE_OK : rc == SQLITE_BUSY ? KEDGE_ERR_BUSY : KEDGE_ERR_IO;
}

kedge_err_t udm_db_add_auth_event(udm_db_t *db, const udm_auth_event_t *ev, size_t keep)
{
  if (!db || !ev || keep == 0)
    return KEDGE_ERR_INVALID_ARG;
  bool own_tx = sqlite3_get_autocommit(db->sql) != 0;
  kedge_err_t err = own_tx ? exec(db->tx_begin) : KEDGE_OK;
  if (err)
    return err;
  sqlite3_stmt *st = db->event_insert;
  if (sqlite3_bind_text(st, 1, ev->supi, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 2, ev->id, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 3, ev->nf_instance_id, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_int(st, 4, ev->success) != SQLITE_OK ||
      sqlite3_bind_text(st, 5, ev->time_stamp, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 6, ev->auth_type, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 7, ev->serving_network_name, -1, SQLITE_STATIC) != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    err = KEDGE_ERR_IO;
  } else if (!(err = step_done(st)) && sqlite3_changes(db->sql) == 0) {
    err = KEDGE_ERR_NOT_FOUND; /* no such subscriber */
  }
  if (!err) {
    st = db->event_trim;
    if (sqlite3_bind_text(st, 1, ev->supi, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 2, (sqlite3_int64)keep) != SQLITE_OK) {
      sqlite3_reset(st);
      sqlite3_clear_bindings(st);
      err = KEDGE_ERR_IO;
    } else {
      err = step_done(st);
    }
  }
  if (own_tx) {
    if (!err)
      err = exec(db->tx_commit);
    if (err)
      exec(db->tx_rollback);
  }
  return err;
}

kedge_err_t udm_db_remove_auth_event(udm_db_t *db, const char *supi, const char *id,
                                     const char *removed_at)
{
  if (!db || !supi || !id || !removed_at)
    return KEDGE_ERR_INVALID_ARG;
  sqlite3_stmt *st = db->event_remove;
  kedge_err_t err;
  if (sqlite3_bind_text(st, 1, supi, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 3, removed_at, -1, SQLITE_STATIC) != SQLITE_OK) {
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return KEDGE_ERR_IO;
  }
  err = step_done(st);
  if (!err && sqlite3_changes(db->sql) == 0)
    err = KEDGE_ERR_NOT_FOUND;
  return err;
}

static void column_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  snprintf(out, size, "%s", t ? (const char *)t : "");
}

kedge_err_t udm_db_list_auth_events(udm_db_t *db, const char *supi,
                                    int (*fn)(const udm_auth_event_t *ev, void *arg), void *arg)
{
  if (!db || !supi || !fn)
    return KEDGE_ERR_INVALID_ARG;
  sqlite3_stmt *st = db->event_list;
  if (sqlite3_bind_text(st, 1, supi, -1, SQLITE_STATIC) != SQLITE_OK) {
    sqlite3_reset(st);
    return KEDGE_ERR_IO;
  }
  kedge_err_t err = KEDGE_OK;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    udm_auth_event_t ev;
    column_text(st, 0, ev.supi, sizeof(ev.supi));
    column_text(st, 1, ev.id, sizeof(ev.id));
    column_text(st, 2, ev.nf_instance_id, sizeof(ev.nf_instance_id));
    ev.success = sqlite3_column_int(st, 3) != 0;
    column_text(st, 4, ev.time_stamp, sizeof(ev.time_stamp));
    column_text(st, 5, ev.auth_type, sizeof(ev.auth_type));
    column_text(st, 6, ev.serving_network_name, sizeof(ev.serving_network_name));
    column_text(st, 7, ev.removed_at, sizeof(ev.removed_at));
    if (fn(&ev, arg))
      break;
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    err = rc == SQLITE_BUSY ? KEDGE_ERR_BUSY : KEDGE_ERR_IO;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}
