/* The key-check record of a sealed SQLite store (kedge/keystore.h): one row in a table
 * key_check, written at the first open, verified at every open. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "kedge/keystore.h"
#include "store/store.h"

static const char table[] = "CREATE TABLE IF NOT EXISTS key_check ("
                            " id INTEGER PRIMARY KEY CHECK (id = 1),"
                            " sealed BLOB NOT NULL);";

/* 1: the table exists, 0: not, -1: error. */
static int has_table(sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                         "name = 'key_check'",
                         -1, &st, NULL) != SQLITE_OK)
    return -1;
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* A record sealed under the store's key before there was a key-check record must open too. */
static kedge_err_t check_sample(sqlite3 *db, const kedge_master_key_t *mk, const char *sample_sql,
                                const char *aad_prefix)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sample_sql, -1, &st, NULL) != SQLITE_OK)
    return KEDGE_ERR_IO;
  kedge_err_t err = KEDGE_OK;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    char aad[512];
    uint8_t out[KEDGE_SEAL_MAX_PLAINTEXT];
    size_t len = 0;
    int n = snprintf(aad, sizeof(aad), "%s%s", aad_prefix ? aad_prefix : "",
                     (const char *)sqlite3_column_text(st, 0));
    if (n < 0 || (size_t)n >= sizeof(aad) ||
        kedge_unseal(mk, aad, (size_t)n, sqlite3_column_blob(st, 1),
                     (size_t)sqlite3_column_bytes(st, 1), out, &len) != KEDGE_OK)
      err = KEDGE_ERR_MAC_FAILURE;
    OPENSSL_cleanse(out, sizeof(out));
  } else if (rc != SQLITE_DONE) {
    err = KEDGE_ERR_IO;
  }
  sqlite3_finalize(st);
  return err;
}

kedge_err_t kedge_key_check_sqlite(sqlite3 *db, const kedge_master_key_t *mk, const char *store,
                                   const char *sample_sql, const char *aad_prefix, bool write)
{
  if (!db || !mk || !store)
    return KEDGE_ERR_INVALID_ARG;
  int t = has_table(db);
  if (t < 0)
    return KEDGE_ERR_IO;
  sqlite3_stmt *st = NULL;
  kedge_err_t err = KEDGE_OK;
  if (t == 1) {
    if (sqlite3_prepare_v2(db, "SELECT sealed FROM key_check WHERE id = 1", -1, &st, NULL) !=
        SQLITE_OK)
      return KEDGE_ERR_IO;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
      err = kedge_key_check_verify(mk, store, sqlite3_column_blob(st, 0),
                                   (size_t)sqlite3_column_bytes(st, 0));
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
      return err ? KEDGE_ERR_MAC_FAILURE : KEDGE_OK;
    if (rc != SQLITE_DONE)
      return KEDGE_ERR_IO;
  }
  /* No record yet: a store from before it existed (or a new one). */
  if (sample_sql && (err = check_sample(db, mk, sample_sql, aad_prefix)))
    return err;
  if (!write)
    return KEDGE_OK;
  uint8_t rec[KEDGE_KEY_CHECK_LEN];
  size_t len = 0;
  if ((err = kedge_key_check_make(mk, store, rec, &len)))
    return err;
  if (sqlite3_exec(db, table, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO key_check (id, sealed) VALUES (1, ?1)", -1, &st,
                         NULL) != SQLITE_OK)
    return KEDGE_ERR_IO;
  if (sqlite3_bind_blob(st, 1, rec, (int)len, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_step(st) != SQLITE_DONE)
    err = KEDGE_ERR_IO;
  sqlite3_finalize(st);
  return err;
}

kedge_err_t kedge_key_check_sqlite_file(const char *path, const kedge_master_key_t *mk,
                                        const char *store, const char *sample_sql,
                                        const char *aad_prefix)
{
  struct stat sb;
  if (stat(path, &sb) != 0)
    return errno == ENOENT ? KEDGE_OK : KEDGE_ERR_IO; /* created at first start, with one */
  sqlite3 *db = NULL;
  kedge_err_t err = KEDGE_ERR_IO;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
    sqlite3_busy_timeout(db, 5000);
    err = kedge_key_check_sqlite(db, mk, store, sample_sql, aad_prefix, false);
  }
  sqlite3_close(db);
  return err;
}

kedge_err_t kedge_keystore_check_key(const char *uri, const kedge_master_key_t *mk,
                                     const char *key_file, char *why, size_t why_size)
{
  ks_uri_t u;
  kedge_err_t err = ks_parse_uri(uri, &u, why, why_size);
  if (err || u.be != &ks_sqlite_backend)
    return err; /* Redis: checked when the daemon connects; memory: a key of its own run */
  err = kedge_key_check_sqlite_file(u.path, mk, KEDGE_KEYSTORE_KEY_CHECK, NULL, NULL);
  if (err == KEDGE_ERR_MAC_FAILURE)
    snprintf(why, why_size,
             "keystore master key %s does not open the key store %s (its "
             "key-check record does not verify): wrong master key?",
             key_file, u.path);
  else if (err)
    snprintf(why, why_size, "%s: cannot read the key store", u.path);
  return err;
}
