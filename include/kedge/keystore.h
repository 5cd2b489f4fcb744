/* The AUSF's key store for edge keys (issue 5, SPEC.md 2 and 3): the latest Kedge per SUPI,
 * found by its Kedge ID, with an expiry. One asynchronous interface, three backends chosen by
 * a URI (docs/keystore.md):
 *
 *   sqlite:PATH             embedded, durable: a put is on disk before its callback says OK
 *   redis://HOST:PORT[/DB]  shared by several AUSF instances (the UDSF role); hiredis async
 *   memory:                 for tests of the AUSF alone; keys vanish at exit
 *
 * Kedge is sealed (AES-256-GCM, kedge/seal.h) under the master key with the Kedge ID as
 * additional data before it leaves the caller's thread, so neither the database file nor a
 * Redis dump holds a key. A record that does not open under the handle's master key is
 * treated as absent. Expired records are never returned and are purged.
 *
 * Threads: one handle per event loop (each AUSF worker opens its own). A handle and its
 * callbacks belong to its loop's thread: call every function of a handle on that thread (or,
 * for close, after the loop has stopped). Nothing here blocks the loop once the handle is
 * open: SQLite writes run on a thread of their own, SQLite gets on the loop through a connection
 * that never waits for a lock (a get that would wait goes to a reader thread of the handle,
 * docs/keystore.md), Redis on the loop with hiredis async. Handles
 * of one process on the same `memory:` table or the same SQLite file share it (and, for
 * SQLite, one writer thread that group-commits the puts of every handle).
 *
 * Calls: put, get, delete_supi, delete_key and purge return KEDGE_OK when their callback will run,
 * exactly once, later, on the handle's loop (never inside the call). Any other return value means
 * the callback will not run; that is only for bad arguments (KEDGE_ERR_INVALID_ARG,
 * KEDGE_ERR_BAD_KEDGE_ID, KEDGE_ERR_BAD_SUPI), KEDGE_ERR_NOMEM or KEDGE_ERR_CRYPTO. The state
 * of the store always arrives through the callback:
 *   KEDGE_ERR_NOT_FOUND    get: unknown, expired, or not sealed under this master key (all
 *                          alike); delete_supi: no key for that SUPI; delete_key: not that key
 *   KEDGE_ERR_UNAVAILABLE  Redis is disconnected (failed at once; it reconnects by itself)
 *   KEDGE_ERR_TIMEOUT      Redis did not answer within op_timeout_ms
 *   KEDGE_ERR_BUSY         max_pending calls are outstanding on the handle, or the SQLite
 *                          queue is full, or another process holds the SQLite write lock
 *   KEDGE_ERR_IO           the database failed
 * The AUSF answers UNAVAILABLE, TIMEOUT, BUSY and IO with 503 (issue 5: never a success
 * without a key). */
#ifndef KEDGE_KEYSTORE_H
#define KEDGE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "kedge/config.h"
#include "kedge/edge.h"
#include "kedge/error.h"
#include "kedge/identity.h"
#include "kedge/seal.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;

typedef struct kedge_keystore kedge_keystore_t;

/* Times are milliseconds since the Unix epoch (UTC), the unit of Redis PXAT. */
typedef struct kedge_keystore_record {
  char kedge_id[KEDGE_ID_MAX + 1]; /* the NAI of SPEC.md 2 */
  char supi[KEDGE_SUPI_MAX + 1];   /* as in JSON: "imsi-...", "nai-..." */
  uint8_t kedge[KEDGE_KEY_LEN];
  int64_t expiry_ms;  /* the record is gone from this instant on (expiry_ms <= now) */
  int64_t created_ms; /* put: 0 means now; Redis refuses a put older than the SUPI's key */
} kedge_keystore_record_t;

/* Zero (or a NULL options pointer) means the default for every field. */
typedef struct kedge_keystore_options {
  /* Redis AUTH (hiredis 0.14 sends it in clear: loopback or a private network only). No
   * password: no AUTH. A user without a password is refused at open. */
  const char *redis_user; /* ACL user (Redis >= 6); NULL: the default user */
  const char *redis_password;
  unsigned connect_timeout_ms; /* Redis connect and AUTH (default 1000) */
  unsigned op_timeout_ms;      /* Redis, per call (default 1000) -> KEDGE_ERR_TIMEOUT */
  unsigned reconnect_min_ms;   /* Redis back-off: first retry (default 100) */
  unsigned reconnect_max_ms;   /* doubling up to this (default 5000) */
  unsigned purge_interval_ms;  /* SQLite and memory: delete expired records (60000) */
  unsigned max_pending;        /* calls outstanding per handle (default 10000) */
  unsigned max_batch;          /* SQLite: puts per transaction and fsync (default 512) */
  /* Redis: a put that failed after it was sent (KEDGE_ERR_TIMEOUT, or KEDGE_ERR_UNAVAILABLE when
   * its connection was dropped), or that is still out at close, may still be applied by Redis;
   * the handle then writes a delete of that Kedge ID (only while it is still the SUPI's) behind
   * it on the same connection, and calls this, on the handle's loop, for a metric. SQLite: a
   * put still out at close is dropped before its commit, or (committed, its callback not yet
   * run) deleted behind it the same way; this is called for each, inside close. NULL: not
   * told. memory: a put still unanswered at close is deleted again (only the record it wrote),
   * counted the same way inside close. */
  void (*put_undone)(void *arg);
  void *put_undone_arg;
  /* Redis: the longest lifetime (expiry_ms - created_ms) of a key any instance puts into this
   * store (the AUSF's edge.key_lifetime, the AAnF's key_lifetime; default 24 h). A delete
   * leaves a tombstone this long that refuses the puts issued before it which reach Redis
   * after it (a late put: docs/operations.md); a put outlives no such tombstone. */
  int64_t key_lifetime_ms;
  /* SQLite: the writer's WAL is copied into the file by a thread of its own once a commit
   * leaves this many pages in it (default 8192); at 4 times that the writer checkpoints
   * itself again (docs/keystore.md), and calls this, on its thread, for a metric. */
  unsigned wal_checkpoint_pages;
  void (*checkpoint_inline)(void *arg);
  void *checkpoint_inline_arg;
} kedge_keystore_options_t;

/* Checks the form of a key store URI without opening anything (for --check-config). On error,
 * one line naming the problem in `why`: KEDGE_ERR_CONFIG. */
kedge_err_t kedge_keystore_uri_check(const char *uri, char *why, size_t why_size);

/* Opens a handle whose callbacks run on `base`. The master key is copied. Blocks (start-up
 * only): SQLite opens and sets up the file; Redis connects once synchronously to check the
 * address, AUTH, DB, the server version (PXAT needs Redis >= 6.2) and loads the scripts, then
 * connects asynchronously on `base`. On error, one line in `why` (no secrets):
 * KEDGE_ERR_CONFIG (URI or options), KEDGE_ERR_IO (SQLite file), KEDGE_ERR_UNAVAILABLE (Redis
 * unreachable), KEDGE_ERR_FORBIDDEN (Redis AUTH refused or required), KEDGE_ERR_UNSUPPORTED
 * (Redis too old). If the SQLite backend may be used, make libevent thread-aware before
 * creating `base`: evthread_use_pthreads() (in kedge's own programs kedge_work_threads_init()),
 * since SQLite jobs complete on `base` from a pool thread. */
kedge_err_t kedge_keystore_open(const char *uri, const kedge_master_key_t *mk,
                                struct event_base *base, const kedge_keystore_options_t *opts,
                                kedge_keystore_t **out, char *why, size_t why_size);

/* The key-check record (kedge/seal.h) of a sealed SQLite store, in a table key_check of `db`:
 * verified when present (KEDGE_ERR_MAC_FAILURE when `mk` does not open it); when absent, the
 * first row of `sample_sql` (columns: additional data after `aad_prefix`, sealed value), if
 * any, must open under `mk`, and with `write` the record is added. The AUSF's SQLite key store
 * (store name KEDGE_KEYSTORE_KEY_CHECK) and the UDM's subscriber database use it at open. */
#define KEDGE_KEYSTORE_KEY_CHECK "ausf-edge-keys"
struct sqlite3;
kedge_err_t kedge_key_check_sqlite(struct sqlite3 *db, const kedge_master_key_t *mk,
                                   const char *store, const char *sample_sql,
                                   const char *aad_prefix, bool write);
/* The same on a file opened read-only, writing nothing (--check-config); KEDGE_OK when the
 * file does not exist yet. */
kedge_err_t kedge_key_check_sqlite_file(const char *path, const kedge_master_key_t *mk,
                                        const char *store, const char *sample_sql,
                                        const char *aad_prefix);
/* For --check-config: whether `mk` (read from `key_file`) opens the store `uri` names (SQLite;
 * Redis and memory: KEDGE_OK). One line naming both in `why` otherwise. */
kedge_err_t kedge_keystore_check_key(const char *uri, const kedge_master_key_t *mk,
                                     const char *key_file, char *why, size_t why_size);

/* "sqlite", "redis" or "memory". */
const char *kedge_keystore_backend(const kedge_keystore_t *ks);

/* Callbacks. `rec` is non-NULL only with KEDGE_OK; it and the Kedge in it are wiped when the
 * callback returns: copy what you need. A callback may call anything here, close included. */
typedef void (*kedge_keystore_done_fn)(kedge_err_t err, void *arg);
typedef void (*kedge_keystore_get_fn)(kedge_err_t err, const kedge_keystore_record_t *rec,
                                      void *arg);

/* Stores rec as the SUPI's key, replacing (deleting) the SUPI's previous Kedge ID record in
 * the same transaction (SQLite) or Lua script (Redis). KEDGE_OK in the callback means durable:
 * on disk (SQLite, synchronous=FULL) or written to Redis (whose own persistence settings
 * decide the rest). rec->kedge_id must pass the strict parser, rec->supi kedge_supi_parse.
 * Redis, where a put can land late (a stalled server, another instance): a put whose
 * created_ms is older than the SUPI's key or this Kedge ID's record, or than a delete's
 * tombstone, is not applied, and its callback has KEDGE_OK, as if it had been applied and then
 * replaced or deleted (lib/store/redis.c, docs/keystore.md). */
kedge_err_t kedge_keystore_put(kedge_keystore_t *ks, const kedge_keystore_record_t *rec,
                               kedge_keystore_done_fn done, void *arg);

/* Looks up a Kedge ID (NUL-terminated text; checked with the strict parser). */
kedge_err_t kedge_keystore_get(kedge_keystore_t *ks, const char *kedge_id,
                               kedge_keystore_get_fn got, void *arg);
/* The same for a Kedge ID the caller has parsed already: `id` is what kedge_id_parse() gave
 * for `kedge_id` (the key request handler's, which checks it for its 400). */
kedge_err_t kedge_keystore_get_parsed(kedge_keystore_t *ks, const char *kedge_id,
                                      const kedge_id_t *id, kedge_keystore_get_fn got, void *arg);

/* Deletes the SUPI's key (e.g. when the subscription ends). */
kedge_err_t kedge_keystore_delete_supi(kedge_keystore_t *ks, const char *supi,
                                       kedge_keystore_done_fn done, void *arg);

/* Deletes the SUPI's key only while it is still `kedge_id` (compare and delete in one
 * transaction or script): revoking the keys of one authentication never removes the key of a
 * later one, which replaced it. KEDGE_ERR_NOT_FOUND in the callback: the SUPI has no key, or
 * another one. */
kedge_err_t kedge_keystore_delete_key(kedge_keystore_t *ks, const char *supi, const char *kedge_id,
                                      kedge_keystore_done_fn done, void *arg);

/* Deletes expired records now (SQLite, memory; Redis expires them itself: KEDGE_OK). The
 * handles also do this every purge_interval_ms on their own. */
kedge_err_t kedge_keystore_purge(kedge_keystore_t *ks, kedge_keystore_done_fn done, void *arg);

/* Calls outstanding on the handle (for metrics). */
size_t kedge_keystore_pending(const kedge_keystore_t *ks);

/* Closes the handle; callbacks of calls still outstanding never run, so a put still out is
 * not left applied (SQLite: dropped or deleted behind; Redis: deleted behind, best effort;
 * memory: deleted; see put_undone). Call it on the loop's thread or after the loop has stopped.
 * With SQLite, the last handle of a file stops the shared writer thread (after its current batch,
 * then runs the deletes behind that the writer did not reach): every loop that used the file must
 * have stopped by then, and no handle's event_base may be freed before the last handle of its file
 * is closed (the thread pool: stop the loops, free the pool, then free the event_bases). */
void kedge_keystore_close(kedge_keystore_t *ks);

/* The configuration a daemon with a key store reads (the AUSF, the AAnF): the top-level
 * `keystore:` URI and `redis:` section, the master key file (from wherever the daemon keeps that
 * key), and the secrets loaded at set-up (lib/store/config.c; conf/ausf.yaml documents the keys).
 */
typedef struct kedge_keystore_config {
  const char *uri;                 /* keystore: (default memory:) */
  const char *master_key_file;     /* NULL: a random key for this run (memory: only) */
  const char *redis_password_file; /* redis.password_file: the secret stays out of the config */
  kedge_keystore_options_t opts;
  kedge_master_key_t master_key; /* loaded by kedge_keystore_config_load_secrets */
  char redis_password[256];
} kedge_keystore_config_t;

/* Reads `keystore` and `redis.{user,password_file,connect_timeout,timeout}` from root; problems
 * recorded with kedge_config_invalid (KEDGE_ERR_CONFIG). */
kedge_err_t kedge_keystore_config_read(kedge_config_node_t *root, kedge_keystore_config_t *c);
/* With `required` (the store is in use), a store other than memory: needs master_key_file:
 * `node`/`key` name where the daemon keeps it. */
kedge_err_t kedge_keystore_config_check_master_key(const kedge_keystore_config_t *c,
                                                   kedge_config_node_t *node, const char *key);
/* Loads the master key (or makes a random one for memory:) and the Redis password. One line
 * in `why` on error. */
kedge_err_t kedge_keystore_config_load_secrets(kedge_keystore_config_t *c, char *why,
                                               size_t why_size);
/* Wipes the secrets. */
void kedge_keystore_config_clear(kedge_keystore_config_t *c);

#ifdef __cplusplus
}
#endif
#endif
