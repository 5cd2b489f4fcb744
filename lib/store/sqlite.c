/* sqlite:PATH backend.
 *  - one writer per file and process: a batched pool (one thread, one connection) shared by
 *    every handle on the file. It takes whatever puts are queued, runs them in one transaction
 *    and commits once: group commit, one fsync for many puts, and no two writers of one
 *    process contending for SQLite's write lock. Writes never run on a loop.
 *  - gets on the handle's loop, with a read-only connection of the handle (WAL mode: readers
 *    never wait for the writer). The gets asked during one pass of the loop are read together
 *    at the end of the pass, in one read transaction (one round of the file's and the WAL
 *    index's locks), and answered in the same pass: no thread hop. bench/keyrequest and
 *    docs/performance-latency.md: the hop to a reader thread and back (two scheduler wake-ups,
 *    futex and libevent's cross-thread activation) cost more than the B-tree lookup (a few
 *    microseconds: the connection maps the file, mmap_size, so a lookup reads pages of the
 *    page cache without pread(2)) and made the p99 of a key request.
 *  - a read on the loop must never wait: SQLite retries WAL-index locks held by another
 *    process for up to about 10 s, sleeping through its VFS between tries, and calls the busy
 *    handler on SQLITE_BUSY. The loop's connection has no busy handler and opens the file
 *    through a VFS that is the default one except that it never sleeps ("kedge-nowait"), so
 *    such a read fails at once (SQLITE_BUSY or SQLITE_PROTOCOL). Those gets, and the gets of
 *    the next LOOP_BACKOFF_MS, go to the handle's reader thread (a batched pool with its own
 *    connection, the previous design), which waits as long as SQLite does.
 *  - closing a handle leaves none of its puts applied that its caller did not hear succeed
 *    (issue 17: the AUSF closes its store at shutdown with confirmations unanswered): a put
 *    still queued is dropped, one in the writer's open transaction cancelled (the batch runs
 *    again without it), one committed or committing undone by a delete behind it in the same
 *    writer, only while it is still the SUPI's key (sq_close; counted by opts.put_undone).
 * journal_mode=WAL with synchronous=FULL: the WAL is fsynced at every commit, so a put is on
 * disk before its callback says KEDGE_OK (issue 5: "a key is on disk before the confirmation
 * that created it is answered"). NORMAL would survive a crash of the AUSF but could lose the
 * last commits on a power cut, which the AUSF would already have confirmed. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "kedge/log.h"
#include "kedge/wal_checkpoint.h"
#include "kedge/work.h"
#include "store.h"

#define PURGE_CHUNK 1000    /* expired rows deleted per transaction */
#define MAX_QUEUED  1000000 /* writer queue, all handles; each handle has max_pending too */
#define READ_BATCH  64
/* After a read on the loop would have waited, gets go to the reader thread for this long. */
#define LOOP_BACKOFF_MS 100
/* Address space mapped per read connection: files up to this size are read without pread(2)
 * (beyond it SQLite reads the rest as usual). 1M keys take about 280 MB. */
#define MMAP_SIZE "1073741824"
/* The writer's connection. Every put lands in a random place of two B-trees (the table by
 * Kedge-TID, the SUPI index), so a group commit dirties about one page of each per put:
 *  - cache_size 64 MiB keeps the trees' inner pages and recent leaves of millions of keys in
 *    memory (the default 2 MB re-read them with pread(2) for every put beyond ~100k keys);
 *  - mmap_size: pages not in that cache are read from the mapped file, without a system call;
 *  - checkpoints at 8192 pages (32 MiB of WAL; SQLite's default 1000; opts.wal_checkpoint_pages):
 *    a batch of 512 puts alone fills 1000 pages, so the default copied the WAL into the file
 *    (two fsyncs) after nearly every commit; now a page rewritten by several commits is copied
 *    once. They run on a thread of their own (kedge/wal_checkpoint.h), not after the commit that
 *    crossed the mark: no put waits for a copy (issue 17);
 *  - journal_size_limit: the WAL file is cut back to 64 MiB when the writer restarts it.
 * bench/keyrequest, 300k puts on ext4: 30 s of CPU before, 17 s after. */
static const char writer_tuning[] = "PRAGMA cache_size=-65536; PRAGMA mmap_size=" MMAP_SIZE "; "
                                    "PRAGMA journal_size_limit=67108864";

/* One row per SUPI (the latest Kedge), keyed by the 32-octet Kedge-TID: WITHOUT ROWID keeps
 * the row in the primary key's B-tree, no second copy of the key (issue 5). The Kedge ID is
 * kept as its parts: its text repeats the TID in base64 (43 of its 83 octets), and the parts
 * bring a key from about 378 to about 281 octets on disk (issue 5 asks for at most 300);
 * kedge_id_format() gives the text back. */
/* In one BEGIN IMMEDIATE transaction: two daemons creating the same new file at once would
 * otherwise each read the schema and then both ask for the write lock, which SQLite answers
 * with SQLITE_BUSY at once (a deadlock, no busy handler called). */
static const char schema[] =
    "BEGIN IMMEDIATE;"
    "CREATE TABLE IF NOT EXISTS edge_key ("
    " tid BLOB PRIMARY KEY," /* Kedge-TID, 32 octets */
    " rid TEXT NOT NULL,"    /* routing indicator of the Kedge ID, as written */
    " home TEXT NOT NULL,"   /* its realm's MCC || MNC, 3 digits each */
    " kedge BLOB NOT NULL,"  /* sealed: AES-256-GCM, additional data the Kedge ID */
    " supi TEXT NOT NULL,"
    " expiry INTEGER NOT NULL," /* ms since the epoch */
    " created INTEGER NOT NULL" /* ms since the epoch */
    ") WITHOUT ROWID;"
    "CREATE UNIQUE INDEX IF NOT EXISTS edge_key_supi ON edge_key (supi);"
    "CREATE INDEX IF NOT EXISTS edge_key_expiry ON edge_key (expiry);"
    "COMMIT;";

typedef struct sq_job sq_job_t;

typedef struct sq_engine {
  struct sq_engine *next; /* engines, under engines_lock */
  dev_t dev;
  ino_t ino;
  unsigned refs; /* under engines_lock */
  sqlite3 *db;   /* the writer's: used on its thread only (after open) */
  sqlite3_stmt *delete_supi, *insert, *purge, *savepoint, *release, *rollback_to, *begin, *commit,
      *rollback;
  kedge_work_pool_t *pool;
  kedge_wal_checkpoint_t *ckpt; /* the writer's WAL checkpoints */
  pthread_mutex_t lock;         /* orphans, and every job's stage */
  LIST_HEAD(, sq_job) orphans;  /* jobs of closed handles, still in the pool */
} sq_engine_t;

typedef struct sq_handle {
  sq_engine_t *eng;
  sqlite3 *db; /* the reader thread's */
  sqlite3_stmt *select, *begin, *commit;
  sqlite3 *ldb; /* the loop's: VFS kedge-nowait, no busy handler */
  sqlite3_stmt *lselect, *lbegin, *lcommit;
  int64_t loop_off_until; /* kedge_now_ms(): gets go to the reader thread until then */
  kedge_work_pool_t *reader;
  sq_job_t *asked, *asked_tail; /* gets of this loop pass, for flush_gets() */
  struct event *flush_ev;
  bool *delivering;         /* set while callbacks of a read batch run: close clears it */
  LIST_HEAD(, sq_job) jobs; /* outstanding, on the loop's thread only */
  struct event *purge_timer;
  bool purging;
} sq_handle_t;

/* Where a write job is, under eng->lock: what closing its handle does to it (sq_close).
 * QUEUED -> TAKEN (the writer's transaction) -> APPLIED (committed, or about to be: the writer
 * decided) or FAILED; QUEUED or TAKEN -> CANCELLED (its handle closed: never committed). */
typedef enum sq_stage { JOB_QUEUED, JOB_TAKEN, JOB_APPLIED, JOB_FAILED, JOB_CANCELLED } sq_stage_t;

struct sq_job {
  LIST_ENTRY(sq_job) entry; /* in h->jobs, or eng->orphans */
  sq_job_t *gets, *link;    /* a read batch: its gets, linked by link */
  kedge_keystore_t *ks;     /* NULL once orphaned */
  sq_engine_t *eng;
  bool read, internal; /* internal: the periodic purge or an undo, nobody to call back */
  bool undo;           /* the compensating delete of a closed handle's applied put */
  sq_stage_t stage;    /* under eng->lock */
  bool skip;           /* the writer's: cancelled, left out of its transaction */
  ks_call_t call;
  ks_row_t row;
  kedge_err_t err;
  int purged;
};

static pthread_mutex_t engines_lock = PTHREAD_MUTEX_INITIALIZER;
static sq_engine_t *engines;

static kedge_err_t sql_err(int rc)
{
  switch (rc & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW:
    return KEDGE_OK;
  case SQLITE_BUSY:
  case SQLITE_LOCKED:
    return KEDGE_ERR_BUSY;
  case SQLITE_NOMEM:
    return KEDGE_ERR_NOMEM;
  default:
    return KEDGE_ERR_IO;
  }
}

/* Steps a statement that returns no rows, then resets it. */
static kedge_err_t run(sqlite3_stmt *st)
{
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return rc == SQLITE_DONE ? KEDGE_OK : sql_err(rc == SQLITE_ROW ? SQLITE_ERROR : rc);
}

static int prepare(sqlite3 *db, sqlite3_stmt **st, const char *sql)
{
  return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

static void job_free(sq_job_t *job)
{
  OPENSSL_cleanse(job, sizeof(*job));
  free(job);
}

/* ---- the writer (its pool thread) ---- */

static kedge_err_t write_one(sq_engine_t *eng, sq_job_t *job, int64_t now)
{
  const ks_row_t *r = &job->row;
  sqlite3_stmt *st;
  kedge_err_t err = KEDGE_OK;
  switch (job->call.kind) {
  case KS_PUT:
    /* The SUPI's previous Kedge ID goes in the same transaction (issue 5). */
    st = eng->delete_supi;
    if (sqlite3_bind_text(st, 1, r->supi, -1, SQLITE_STATIC) || (err = run(st)))
      return err ? err : KEDGE_ERR_IO;
    st = eng->insert;
    if (sqlite3_bind_blob(st, 1, r->tid, KEDGE_TID_LEN, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 2, r->rid, -1, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 3, r->home, -1, SQLITE_STATIC) ||
        sqlite3_bind_blob(st, 4, r->sealed, (int)r->sealed_len, SQLITE_STATIC) ||
        sqlite3_bind_text(st, 5, r->supi, -1, SQLITE_STATIC) ||
        sqlite3_bind_int64(st, 6, r->expiry_ms) || sqlite3_bind_int64(st, 7, r->created_ms))
      return KEDGE_ERR_IO;
    return run(st);
  case KS_DELETE_SUPI: /* ?2 unbound (NULL): any key of the SUPI; bound: only that one */
    st = eng->delete_supi;
    if (sqlite3_bind_text(st, 1, r->supi, -1, SQLITE_STATIC) ||
        (r->kedge_id[0] && sqlite3_bind_blob(st, 2, r->tid, KEDGE_TID_LEN, SQLITE_STATIC)) ||
        (err = run(st)))
      return err ? err : KEDGE_ERR_IO;
    return sqlite3_changes(eng->db) ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
  case KS_PURGE:
    st = eng->purge;
    if (sqlite3_bind_int64(st, 1, now) || sqlite3_bind_int(st, 2, PURGE_CHUNK) || (err = run(st)))
      return err ? err : KEDGE_ERR_IO;
    job->purged = sqlite3_changes(eng->db);
    return KEDGE_OK;
  case KS_GET:
    break;
  }
  return KEDGE_ERR_INVALID_ARG;
}

/* Under eng->lock, once the batch is written into the open transaction (`written`) or BEGIN
 * failed: a job whose handle was closed meanwhile (CANCELLED) is left out, and if it was
 * written the transaction must be rolled back and run again without it (true): its caller never
 * hears, so it must not land. Otherwise every job is now APPLIED or FAILED: a close from here
 * on undoes an applied put with a compensating delete instead (sq_close), since the COMMIT
 * about to run cannot be called back. */
static bool must_redo(void **args, size_t n, bool written)
{
  bool cancelled = false;
  for (size_t i = 0; i < n; i++) {
    sq_job_t *job = args[i];
    if (!job->skip && job->stage == JOB_CANCELLED)
      job->skip = cancelled = true;
  }
  if (cancelled && written)
    return true;
  for (size_t i = 0; i < n; i++) {
    sq_job_t *job = args[i];
    if (!job->skip)
      job->stage = job->err ? JOB_FAILED : JOB_APPLIED;
  }
  return false;
}

static void write_batch(void **args, size_t n, void *p)
{
  sq_engine_t *eng = p;
  int64_t now = kedge_wall_ms();
  /* Taken: a close from now on cancels these without touching their rows (sq_close); one it
   * cancelled before is left out, its row already wiped. */
  pthread_mutex_lock(&eng->lock);
  for (size_t i = 0; i < n; i++) {
    sq_job_t *job = args[i];
    job->skip = job->stage == JOB_CANCELLED;
    if (!job->skip)
      job->stage = JOB_TAKEN;
  }
  pthread_mutex_unlock(&eng->lock);
  kedge_err_t err;
  bool redo, savepoints = false;
  do { /* at most once more per job cancelled while its transaction was open, and once with
        * savepoints after a failed call */
    err = run(eng->begin);
    bool failed = false;
    for (size_t i = 0; i < n && !failed; i++) {
      sq_job_t *job = args[i];
      if (job->skip)
        continue;
      if (err) {
        job->err = err;
        continue;
      }
      if (!savepoints) {
        /* Without a savepoint per call (two statements fewer per put: docs/
         * performance-latency.md, fourth round): a call that fails spoils the transaction,
         * which is rolled back and run again with them. */
        job->err = write_one(eng, job, now);
        failed = job->err && job->err != KEDGE_ERR_NOT_FOUND;
        continue;
      }
      /* A savepoint per call: one that fails leaves the others of the batch intact. */
      if ((job->err = run(eng->savepoint)))
        continue;
      if ((job->err = write_one(eng, job, now)) && job->err != KEDGE_ERR_NOT_FOUND)
        run(eng->rollback_to);
      run(eng->release);
    }
    if (failed) {
      run(eng->rollback);
      savepoints = redo = true;
      continue;
    }
    pthread_mutex_lock(&eng->lock);
    redo = must_redo(args, n, !err);
    pthread_mutex_unlock(&eng->lock);
    if (redo) {
      kedge_log_debug("keystore sqlite: a put cancelled in the open transaction (its handle "
                      "closed): the batch runs again without it");
      run(eng->rollback);
    }
  } while (redo);
  if (!err && (err = run(eng->commit))) { /* synchronous=FULL: fsynced when this returns */
    run(eng->rollback);
    pthread_mutex_lock(&eng->lock);
    for (size_t i = 0; i < n; i++) {
      sq_job_t *job = args[i];
      if (job->skip)
        continue;
      if (!job->err || job->err == KEDGE_ERR_NOT_FOUND)
        job->err = err;
      job->stage = JOB_FAILED;
    }
    pthread_mutex_unlock(&eng->lock);
  }
  if (err)
    kedge_log_warn("keystore sqlite: write transaction failed: %s (%s)", kedge_strerror(err),
                   sqlite3_errmsg(eng->db));
  /* Cancelled while taken: the row is the writer's until here (sq_close wipes only the
   * queued ones). */
  for (size_t i = 0; i < n; i++) {
    sq_job_t *job = args[i];
    if (job->skip)
      OPENSSL_cleanse(&job->row, sizeof(job->row));
  }
}

/* ---- reading (the loop's connection, or the reader thread's) ---- */

/* Columns rid, home, kedge, supi, expiry, created. */
static kedge_err_t read_row(sqlite3_stmt *st, ks_row_t *r)
{
  const unsigned char *rid = sqlite3_column_text(st, 0), *home = sqlite3_column_text(st, 1),
                      *supi = sqlite3_column_text(st, 3);
  const void *sealed = sqlite3_column_blob(st, 2);
  int sealed_len = sqlite3_column_bytes(st, 2), supi_len = sqlite3_column_bytes(st, 3);
  /* The TID under another routing indicator or realm is another Kedge ID. */
  if (!rid || !home || strcmp((const char *)rid, r->rid) != 0 ||
      strcmp((const char *)home, r->home) != 0)
    return KEDGE_ERR_NOT_FOUND;
  if (!supi || supi_len > KEDGE_SUPI_MAX || sealed_len > KS_SEALED_LEN || !sealed)
    return KEDGE_ERR_NOT_FOUND; /* not a row kedge wrote: unseal would fail anyway */
  memcpy(r->supi, supi, (size_t)supi_len);
  r->supi[supi_len] = '\0';
  memcpy(r->sealed, sealed, (size_t)sealed_len);
  r->sealed_len = (size_t)sealed_len;
  r->expiry_ms = sqlite3_column_int64(st, 4);
  r->created_ms = sqlite3_column_int64(st, 5);
  return r->expiry_ms > kedge_wall_ms() ? KEDGE_OK : KEDGE_ERR_NOT_FOUND;
}

/* Looks up row->tid with `st` (the select of either read connection). */
static kedge_err_t read_one(sqlite3_stmt *st, ks_row_t *row)
{
  if (sqlite3_bind_blob(st, 1, row->tid, KEDGE_TID_LEN, SQLITE_STATIC))
    return KEDGE_ERR_IO;
  int rc = sqlite3_step(st);
  kedge_err_t err = rc == SQLITE_ROW    ? read_row(st, row)
                    : rc == SQLITE_DONE ? KEDGE_ERR_NOT_FOUND
                                        : sql_err(rc);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return err;
}

/* The reader thread. args: read batches (flush_gets), each the gets of one loop pass that the
 * loop could not read without waiting. One read transaction for all: one snapshot, one round of
 * locks. It starts here, after every get of these batches was asked, so each get sees every put
 * that had completed when it was asked, on any loop (the same holds on the loop: its
 * transaction starts at the end of the pass in which the gets were asked). */
static void read_batch(void **args, size_t n, void *p)
{
  sq_handle_t *h = p;
  bool tx = (n > 1 || ((sq_job_t *)args[0])->gets->link) && run(h->begin) == KEDGE_OK;
  for (size_t i = 0; i < n; i++)
    for (sq_job_t *get = ((sq_job_t *)args[i])->gets; get; get = get->link)
      get->err = read_one(h->select, &get->row);
  if (tx)
    run(h->commit);
}

/* ---- completions (the handle's loop) ---- */

static kedge_err_t submit_job(kedge_keystore_t *ks, sq_job_t *job);

static void free_gets(sq_job_t *get)
{
  for (sq_job_t *next; get; get = next) {
    next = get->link;
    job_free(get);
  }
}

/* Calls back every get of a read batch (linked by link), in the order they were asked. */
static void deliver_gets(kedge_keystore_t *ks, sq_job_t *get)
{
  sq_handle_t *h = ks->impl;
  bool open = true;
  h->delivering = &open;
  while (get) {
    sq_job_t *next = get->link;
    ks_deliver(ks, &get->call, get->err, &get->row);
    job_free(get);
    get = next;
    if (!open) { /* a callback closed the handle: the rest are nobody's */
      free_gets(get);
      return;
    }
  }
  h->delivering = NULL;
}

static void job_done(void *p)
{
  sq_job_t *job = p;
  kedge_keystore_t *ks = job->ks;
  if (!ks) { /* its handle was closed */
    pthread_mutex_lock(&job->eng->lock);
    LIST_REMOVE(job, entry);
    pthread_mutex_unlock(&job->eng->lock);
    job_free(job);
    return;
  }
  sq_handle_t *h = ks->impl;
  if (job->gets) {
    LIST_REMOVE(job, entry);
    sq_job_t *gets = job->gets;
    job_free(job);
    deliver_gets(ks, gets);
    return;
  }
  /* A purge deletes PURGE_CHUNK rows per transaction so that puts queued meanwhile are not
   * held up; it goes on until a chunk comes back short. */
  LIST_REMOVE(job, entry);
  if (job->call.kind == KS_PURGE && !job->err && job->purged == PURGE_CHUNK) {
    job->purged = 0;
    if (submit_job(ks, job) == KEDGE_OK)
      return;
    job->err = KEDGE_ERR_BUSY;
  }
  if (job->internal) {
    h->purging = false;
    job_free(job);
    return;
  }
  ks_call_t call = job->call;
  kedge_err_t err = job->err;
  ks_row_t row = job->row;
  job_free(job);
  ks_deliver(ks, &call, err, &row);
  OPENSSL_cleanse(&row, sizeof(row));
}

static kedge_err_t submit_job(kedge_keystore_t *ks, sq_job_t *job)
{
  sq_handle_t *h = ks->impl;
  kedge_err_t err =
      kedge_work_submit(job->read ? h->reader : h->eng->pool, ks->base, NULL, job_done, job);
  if (!err)
    LIST_INSERT_HEAD(&h->jobs, job, entry);
  return err;
}

/* Sends gets (linked by link) to the reader thread as one job. Not KEDGE_OK: they stay the
 * caller's (the reader's queue is full, or no memory). */
static kedge_err_t gets_to_reader(kedge_keystore_t *ks, sq_job_t *gets)
{
  sq_handle_t *h = ks->impl;
  sq_job_t *batch = calloc(1, sizeof(*batch));
  if (!batch)
    return KEDGE_ERR_NOMEM;
  batch->ks = ks;
  batch->eng = h->eng;
  batch->read = true;
  batch->call.kind = KS_GET;
  batch->gets = gets;
  kedge_err_t err = submit_job(ks, batch);
  if (err)
    free(batch);
  return err;
}

/* Reads the gets of this loop pass on the loop's connection, in one read transaction, and
 * answers them. The first one that would wait (its error is neither a row nor "no row") and
 * every one after it go to the reader thread. */
static void flush_gets(evutil_socket_t fd, short what, void *arg)
{
  kedge_keystore_t *ks = arg;
  sq_handle_t *h = ks->impl;
  sq_job_t *gets = h->asked, *rest = gets, *read_tail = NULL;
  h->asked = h->asked_tail = NULL;
  if (!gets)
    return;
  if (h->ldb && kedge_now_ms() >= h->loop_off_until) {
    bool tx = gets->link && run(h->lbegin) == KEDGE_OK;
    for (; rest; read_tail = rest, rest = rest->link) {
      kedge_err_t err = read_one(h->lselect, &rest->row);
      if (err != KEDGE_OK && err != KEDGE_ERR_NOT_FOUND) {
        h->loop_off_until = kedge_now_ms() + LOOP_BACKOFF_MS;
        break;
      }
      rest->err = err;
    }
    /* A read transaction left open would pin its WAL snapshot: every later get on this
     * connection would miss newer puts and revocations. */
    if (tx && run(h->lcommit) != KEDGE_OK && !sqlite3_get_autocommit(h->ldb))
      sqlite3_exec(h->ldb, "ROLLBACK", NULL, NULL, NULL);
  }
  if (rest) {
    kedge_err_t err = gets_to_reader(ks, rest);
    if (err) /* the store's state, reported like any other */
      for (sq_job_t *get = rest; get; get = get->link)
        get->err = err;
    else if (read_tail)
      read_tail->link = NULL; /* the rest are the reader's now */
    else
      return;
  }
  deliver_gets(ks, gets);
}

static void ask_get(kedge_keystore_t *ks, sq_job_t *job)
{
  sq_handle_t *h = ks->impl;
  job->link = NULL;
  if (h->asked_tail)
    h->asked_tail->link = job;
  else
    h->asked = job;
  h->asked_tail = job;
  if (job != h->asked)
    return;
  /* Asked from a get's callback: read at the next pass, after the loop has polled, or a
   * caller that asks again from each callback would keep the loop in this pass for ever. */
  static const struct timeval next_pass = {0, 0};
  if (!h->delivering || event_add(h->flush_ev, &next_pass) != 0)
    event_active(h->flush_ev, EV_TIMEOUT, 0);
}

static kedge_err_t sq_submit(kedge_keystore_t *ks, const ks_call_t *call, const ks_row_t *row)
{
  sq_job_t *job = calloc(1, sizeof(*job));
  if (!job)
    return KEDGE_ERR_NOMEM;
  job->ks = ks;
  job->eng = ((sq_handle_t *)ks->impl)->eng;
  job->read = call->kind == KS_GET;
  job->call = *call;
  job->row = *row;
  if (job->read) {
    ask_get(ks, job);
    return KEDGE_OK;
  }
  kedge_err_t err = submit_job(ks, job);
  if (err) {
    job_free(job);
    /* a full queue is the store's state, reported like any other */
    if (err == KEDGE_ERR_BUSY)
      err = ks_defer(ks, call, err, NULL);
  }
  return err;
}

static void purge_tick(evutil_socket_t fd, short what, void *arg)
{
  kedge_keystore_t *ks = arg;
  sq_handle_t *h = ks->impl;
  if (h->purging)
    return;
  sq_job_t *job = calloc(1, sizeof(*job));
  if (!job)
    return;
  job->ks = ks;
  job->eng = h->eng;
  job->internal = true;
  job->call.kind = KS_PURGE;
  if (submit_job(ks, job) == KEDGE_OK)
    h->purging = true;
  else
    job_free(job);
}

/* ---- open and close ---- */

/* The compensating deletes (sq_close) that the writer did not reach before it stopped: run here,
 * on the closing thread, now that the writer's connection has no thread (as long as one batch
 * of the writer, which close has just waited for: BEGIN waits up to the busy timeout). */
static void undo_left(sq_engine_t *eng)
{
  size_t n = 0;
  sq_job_t *job;
  LIST_FOREACH(job, &eng->orphans, entry)
  n += job->undo && job->stage == JOB_QUEUED;
  if (!n)
    return;
  void **args = calloc(n, sizeof(*args));
  size_t i = 0;
  LIST_FOREACH(job, &eng->orphans, entry)
  if (job->undo && job->stage == JOB_QUEUED) {
    if (args)
      args[i++] = job;
    else /* no memory for one batch: one transaction each */
      write_batch((void **)&job, 1, eng);
  }
  if (args)
    write_batch(args, n, eng);
  free(args);
}

static void engine_free(sq_engine_t *eng)
{
  kedge_work_pool_free(eng->pool); /* joins the writer; its queued jobs are dropped */
  undo_left(eng);
  /* Before the writer's connection closes: that close, the file's last (handles close their
   * readers first), copies the rest of the WAL into the file and removes it. */
  kedge_wal_checkpoint_stop(eng->ckpt);
  sq_job_t *job, *next;
  LIST_FOREACH_SAFE(job, &eng->orphans, entry, next)
  job_free(job);
  sqlite3_stmt *all[] = {eng->delete_supi, eng->insert, eng->purge,  eng->savepoint, eng->release,
                         eng->rollback_to, eng->begin,  eng->commit, eng->rollback};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    sqlite3_finalize(all[i]);
  sqlite3_close(eng->db);
  pthread_mutex_destroy(&eng->lock);
  free(eng);
}

/* The default VFS except that it never sleeps: a WAL-index lock that SQLite would retry for up
 * to about 10 s (sleeping between tries) fails at once instead, for the loop's connection. */
static sqlite3_vfs nowait_vfs;
static pthread_once_t nowait_once = PTHREAD_ONCE_INIT;
static bool nowait_ok;

static int nowait_sleep(sqlite3_vfs *vfs, int us)
{
  (void)vfs;
  (void)us;
  return 0;
}

static void nowait_register(void)
{
  sqlite3_vfs *def = sqlite3_vfs_find(NULL);
  if (!def)
    return;
  nowait_vfs = *def;
  nowait_vfs.pNext = NULL;
  nowait_vfs.zName = "kedge-nowait";
  nowait_vfs.xSleep = nowait_sleep;
  nowait_ok = sqlite3_vfs_register(&nowait_vfs, 0) == SQLITE_OK;
}

/* vfs: NULL for the default one. */
static kedge_err_t open_db(const char *path, sqlite3 **db, const char *vfs, const char *text,
                           char *why, size_t why_size)
{
  if (sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      vfs) != SQLITE_OK) {
    ks_why(why, why_size, "%s: cannot open: %s", text, *db ? sqlite3_errmsg(*db) : "no memory");
    return KEDGE_ERR_IO;
  }
  sqlite3_busy_timeout(*db, 5000); /* another process (sqlite3 CLI) may hold a lock briefly */
  return KEDGE_OK;
}

static int journal_mode(void *arg, int n, char **values, char **names)
{
  if (n > 0 && values[0])
    snprintf(arg, 16, "%s", values[0]);
  return 0;
}

/* PRAGMA journal_mode=WAL. Turning a new file to WAL needs its exclusive lock, and SQLite
 * answers SQLITE_BUSY at once, without the busy handler, while another process opening the
 * same new file holds a shared one: retried here for up to 5 s, like open_db's busy timeout. */
static int set_wal(sqlite3 *db, char mode[16], char **msg)
{
  int rc = SQLITE_BUSY;
  for (int waited_ms = 0; waited_ms <= 5000; waited_ms += 10) {
    sqlite3_free(*msg);
    *msg = NULL;
    rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", journal_mode, mode, msg);
    if ((rc & 0xff) != SQLITE_BUSY)
      break;
    usleep(10 * 1000);
  }
  return rc;
}

/* Finds the engine of the file, or makes it. Called with engines_lock held. */
static kedge_err_t engine_get(const char *path, const char *text, const kedge_keystore_t *ks,
                              sq_engine_t **out, char *why, size_t why_size)
{
  struct stat st;
  bool exists = stat(path, &st) == 0;
  for (sq_engine_t *e = engines; exists && e; e = e->next)
    if (e->dev == st.st_dev && e->ino == st.st_ino) {
      e->refs++;
      *out = e;
      return KEDGE_OK;
    }
  sq_engine_t *eng = calloc(1, sizeof(*eng));
  if (!eng)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_init(&eng->lock, NULL);
  kedge_err_t err = open_db(path, &eng->db, NULL, text, why, why_size);
  char *msg = NULL;
  if (!err && !exists)
    chmod(path, 0600); /* sealed keys, SUPIs: the AUSF's business only */
  char mode[16] = "";
  if (!err && (set_wal(eng->db, mode, &msg) != SQLITE_OK ||
               sqlite3_exec(eng->db, "PRAGMA synchronous=FULL", NULL, NULL, &msg) != SQLITE_OK ||
               sqlite3_exec(eng->db, writer_tuning, NULL, NULL, &msg) != SQLITE_OK ||
               sqlite3_exec(eng->db, schema, NULL, NULL, &msg) != SQLITE_OK)) {
    ks_why(why, why_size, "%s: cannot set up the key table: %s", text,
           msg ? msg : sqlite3_errmsg(eng->db));
    err = KEDGE_ERR_IO;
  }
  sqlite3_free(msg);
  if (!err && (err = kedge_key_check_sqlite(eng->db, &ks->mk, KEDGE_KEYSTORE_KEY_CHECK, NULL, NULL,
                                            true))) {
    if (err == KEDGE_ERR_MAC_FAILURE)
      ks_why(why, why_size,
             "%s: the master key does not open this key store (its key-check "
             "record does not verify): wrong master key?",
             text);
    else
      ks_why(why, why_size, "%s: cannot check the master key: %s", text, sqlite3_errmsg(eng->db));
  }
  if (!err && strcmp(mode, "wal") != 0) {
    /* e.g. a file system without shared memory for the WAL index */
    ks_why(why, why_size, "%s: cannot use WAL mode (journal_mode stays %s)", text, mode);
    err = KEDGE_ERR_IO;
  }
  if (!err &&
      (prepare(eng->db, &eng->delete_supi,
               "DELETE FROM edge_key WHERE supi = ?1 AND (?2 IS NULL OR tid = ?2)") ||
       prepare(eng->db, &eng->insert,
               "INSERT OR REPLACE INTO edge_key (tid, rid, home, kedge, supi, expiry, created) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)") ||
       prepare(eng->db, &eng->purge,
               "DELETE FROM edge_key WHERE tid IN "
               "(SELECT tid FROM edge_key WHERE expiry <= ?1 LIMIT ?2)") ||
       prepare(eng->db, &eng->savepoint, "SAVEPOINT one") ||
       prepare(eng->db, &eng->release, "RELEASE one") ||
       prepare(eng->db, &eng->rollback_to, "ROLLBACK TO one") ||
       prepare(eng->db, &eng->begin, "BEGIN IMMEDIATE") ||
       prepare(eng->db, &eng->commit, "COMMIT") || prepare(eng->db, &eng->rollback, "ROLLBACK"))) {
    ks_why(why, why_size, "%s: %s", text, sqlite3_errmsg(eng->db));
    err = KEDGE_ERR_IO;
  }
  if (!err && stat(path, &st) != 0) {
    ks_why(why, why_size, "%s: %s", text, strerror(errno));
    err = KEDGE_ERR_IO;
  }
  if (!err)
    err = kedge_wal_checkpoint_start(eng->db, path, ks->opts.wal_checkpoint_pages, text,
                                     ks->opts.checkpoint_inline, ks->opts.checkpoint_inline_arg,
                                     &eng->ckpt, why, why_size);
  if (!err && (err = kedge_work_pool_new_batched(MAX_QUEUED, ks->opts.max_batch, write_batch, eng,
                                                 &eng->pool)))
    ks_why(why, why_size, "%s: cannot start the writer thread: %s", text, kedge_strerror(err));
  if (err) {
    engine_free(eng);
    return err;
  }
  /* Gets read the file through a memory map: ask the kernel to read it ahead now (a hint) */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    close(fd);
  }
  eng->dev = st.st_dev;
  eng->ino = st.st_ino;
  eng->refs = 1;
  eng->next = engines;
  engines = eng;
  *out = eng;
  return KEDGE_OK;
}

/* Drops a reference; the last one unlinks the engine and frees it. */
static void engine_put(sq_engine_t *eng)
{
  pthread_mutex_lock(&engines_lock);
  bool last = --eng->refs == 0;
  if (last)
    for (sq_engine_t **p = &engines; *p; p = &(*p)->next)
      if (*p == eng) {
        *p = eng->next;
        break;
      }
  pthread_mutex_unlock(&engines_lock);
  if (last)
    engine_free(eng);
}

static void handle_free(sq_handle_t *h)
{
  kedge_work_pool_free(h->reader);
  sqlite3_stmt *all[] = {h->select, h->begin, h->commit, h->lselect, h->lbegin, h->lcommit};
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
    sqlite3_finalize(all[i]);
  sqlite3_close(h->db);
  sqlite3_close(h->ldb);
  if (h->delivering)
    *h->delivering = false;
  free_gets(h->asked);
  if (h->flush_ev)
    event_free(h->flush_ev);
  if (h->purge_timer)
    event_free(h->purge_timer);
  free(h);
}

/* The loop's connection while it is opened: up to 5 s (open_db's busy timeout) in real sleeps. */
static int open_busy(void *arg, int count)
{
  (void)arg;
  if (count >= 5000)
    return 0;
  usleep(1000);
  return 1;
}

/* A read-only connection's statements: the point select and its read transaction. */
static kedge_err_t open_reader(sqlite3 *db, sqlite3_stmt **select, sqlite3_stmt **begin,
                               sqlite3_stmt **commit, const char *text, char *why, size_t why_size)
{
  if (sqlite3_exec(db, "PRAGMA query_only=1; PRAGMA mmap_size=" MMAP_SIZE, NULL, NULL, NULL) ||
      prepare(db, select,
              "SELECT rid, home, kedge, supi, expiry, created FROM edge_key WHERE tid = ?1") ||
      prepare(db, begin, "BEGIN") || prepare(db, commit, "COMMIT")) {
    ks_why(why, why_size, "%s: %s", text, sqlite3_errmsg(db));
    return KEDGE_ERR_IO;
  }
  return KEDGE_OK;
}

static kedge_err_t sq_open(kedge_keystore_t *ks, const ks_uri_t *uri, const char *text, char *why,
                           size_t why_size)
{
  sq_handle_t *h = calloc(1, sizeof(*h));
  if (!h)
    return KEDGE_ERR_NOMEM;
  pthread_mutex_lock(&engines_lock);
  kedge_err_t err = engine_get(uri->path, text, ks, &h->eng, why, why_size);
  pthread_mutex_unlock(&engines_lock);
  if (err) {
    free(h);
    return err;
  }
  if (!(err = open_db(uri->path, &h->db, NULL, text, why, why_size)))
    err = open_reader(h->db, &h->select, &h->begin, &h->commit, text, why, why_size);
  /* The loop's connection: kedge-nowait, and no busy handler (open_db sets one). */
  pthread_once(&nowait_once, nowait_register);
  if (!err && !nowait_ok) {
    ks_why(why, why_size, "%s: cannot register SQLite's VFS kedge-nowait", text);
    err = KEDGE_ERR_IO;
  }
  if (!err && !(err = open_db(uri->path, &h->ldb, nowait_vfs.zName, text, why, why_size))) {
    /* Reading the schema to prepare may meet another process's WAL lock (a second daemon on
     * the same file opening it): wait for it here, at start-up, as the other connections do
     * (kedge-nowait's sleep returns at once, so SQLite's own busy timeout would only spin). */
    sqlite3_busy_handler(h->ldb, open_busy, NULL);
    err = open_reader(h->ldb, &h->lselect, &h->lbegin, &h->lcommit, text, why, why_size);
    sqlite3_busy_handler(h->ldb, NULL, NULL);
  }
  if (!err && (err = kedge_work_pool_new_batched(ks->opts.max_pending, READ_BATCH, read_batch, h,
                                                 &h->reader)))
    ks_why(why, why_size, "%s: cannot start the reader thread: %s", text, kedge_strerror(err));
  if (!err && !(h->flush_ev = event_new(ks->base, -1, 0, flush_gets, ks))) {
    ks_why(why, why_size, "%s: out of memory", text);
    err = KEDGE_ERR_NOMEM;
  }
  struct timeval every = {.tv_sec = ks->opts.purge_interval_ms / 1000,
                          .tv_usec = (ks->opts.purge_interval_ms % 1000) * 1000};
  if (!err && (!(h->purge_timer = event_new(ks->base, -1, EV_PERSIST, purge_tick, ks)) ||
               event_add(h->purge_timer, &every) != 0)) {
    ks_why(why, why_size, "%s: out of memory", text);
    err = KEDGE_ERR_NOMEM;
  }
  if (err) {
    sq_engine_t *eng = h->eng;
    handle_free(h);
    engine_put(eng);
    return err;
  }
  ks->impl = h;
  return KEDGE_OK;
}

/* A put whose handle is closing, in the stage `applied`: its caller never hears, so it must take
 * it as not stored (the AUSF answers its confirmation 503 or drops it at shutdown: worker.c),
 * yet the writer has committed it or is committing it. A delete of that Kedge ID, only while
 * it is still the SUPI's key (delete_key's statement), is queued behind it in the same writer:
 * it runs after the put's commit. If the writer stops first, the file's last close runs it
 * (undo_left). Under eng->lock. */
static void undo_put(kedge_keystore_t *ks, sq_engine_t *eng, const sq_job_t *put)
{
  sq_job_t *undo = calloc(1, sizeof(*undo));
  if (!undo) {
    kedge_log_warn("keystore sqlite: out of memory: the put of Kedge ID %s, not confirmed, "
                   "stays until the SUPI's next key or its expiry",
                   put->row.kedge_id);
    return;
  }
  undo->eng = eng;
  undo->internal = undo->undo = true;
  undo->call.kind = KS_DELETE_SUPI;
  memcpy(undo->row.kedge_id, put->row.kedge_id, sizeof(undo->row.kedge_id));
  memcpy(undo->row.tid, put->row.tid, sizeof(undo->row.tid));
  memcpy(undo->row.supi, put->row.supi, sizeof(undo->row.supi));
  LIST_INSERT_HEAD(&eng->orphans, undo, entry);
  /* Not queued (full, no memory): it waits in orphans for the file's last close. */
  kedge_work_submit(eng->pool, ks->base, NULL, job_done, undo);
}

static void sq_close(kedge_keystore_t *ks)
{
  sq_handle_t *h = ks->impl;
  sq_engine_t *eng = h->eng;
  /* The reader is the handle's own: stopping it drops its queued reads. */
  kedge_work_pool_free(h->reader);
  h->reader = NULL;
  /* Writes still in the shared writer's queue go on there; their completions find no handle
   * (job->ks NULL) and free themselves, or engine_free frees them with the writer. Puts are
   * the exception: no put whose caller did not hear KEDGE_OK may land (issue 17, as Redis'
   * rs_close). One still queued is dropped and wiped; one in the writer's open transaction is
   * cancelled (the writer rolls back and runs the others again: must_redo); one committed or
   * being committed gets its compensating delete behind it (undo_put). */
  unsigned dropped = 0, undone = 0;
  pthread_mutex_lock(&eng->lock);
  sq_job_t *job, *next;
  LIST_FOREACH_SAFE(job, &h->jobs, entry, next)
  {
    LIST_REMOVE(job, entry);
    if (job->read) {
      free_gets(job->gets);
      job_free(job);
      continue;
    }
    job->ks = NULL;
    LIST_INSERT_HEAD(&eng->orphans, job, entry);
    if (job->call.kind != KS_PUT)
      continue;
    switch (job->stage) {
    case JOB_QUEUED: /* the writer never reads it now */
      OPENSSL_cleanse(&job->row, sizeof(job->row));
      /* fall through */
    case JOB_TAKEN:
      job->stage = JOB_CANCELLED;
      dropped++;
      break;
    case JOB_APPLIED:
      undo_put(ks, eng, job);
      undone++;
      break;
    case JOB_FAILED:
    case JOB_CANCELLED:
      break;
    }
  }
  pthread_mutex_unlock(&eng->lock);
  if (dropped || undone)
    kedge_log_warn("keystore sqlite: closed with %u put(s) not confirmed: %u dropped before "
                   "their commit, %u committed and deleted behind",
                   dropped + undone, dropped, undone);
  for (unsigned i = 0; ks->opts.put_undone && i < dropped + undone; i++)
    ks->opts.put_undone(ks->opts.put_undone_arg);
  handle_free(h);
  engine_put(eng);
}

const ks_backend_t ks_sqlite_backend = {
    .name = "sqlite", .open = sq_open, .close = sq_close, .submit = sq_submit};
