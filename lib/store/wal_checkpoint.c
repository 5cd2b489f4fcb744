/* SQLite WAL checkpoints on a thread of their own (kedge/wal_checkpoint.h). */
#include "kedge/wal_checkpoint.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "kedge/log.h"
#include "store.h"

/* Past this many times `pages` the committing connection checkpoints itself again. */
#define HARD_LIMIT_FACTOR 4

struct kedge_wal_checkpoint {
  sqlite3 *db;   /* the committing connection (its owner's) */
  sqlite3 *ckpt; /* the thread's */
  int pages, hard_limit;
  char what[128];
  void (*fallback)(void *arg);
  void *arg;
  pthread_t thread;
  bool started;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool asked, stop; /* under lock */
  bool warned;      /* the committing thread's */
  _Atomic uint64_t woken, background, backfilled, inline_runs;
};

/* sqlite3_wal_hook: on the committing thread, after each commit, with the WAL's frame count. */
static int on_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
  kedge_wal_checkpoint_t *cp = arg;
  if (frames >= cp->hard_limit) {
    /* The thread could not keep up (or a reader's snapshot holds it back): checkpoint here, as
     * SQLite's auto-checkpoint does (passive too), so the WAL cannot grow without bound. */
    if (!cp->warned) {
      cp->warned = true;
      kedge_log_warn("%s: the WAL reached %d pages (background checkpoints behind, or a long "
                     "reader): the committing connection checkpoints itself from now on while "
                     "it stays past %d",
                     cp->what, frames, cp->hard_limit);
    }
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    atomic_fetch_add(&cp->inline_runs, 1);
    if (cp->fallback)
      cp->fallback(cp->arg);
    return SQLITE_OK;
  }
  if (frames >= cp->pages) {
    pthread_mutex_lock(&cp->lock);
    if (!cp->asked) {
      cp->asked = true;
      atomic_fetch_add(&cp->woken, 1);
      pthread_cond_signal(&cp->wake);
    }
    pthread_mutex_unlock(&cp->lock);
  }
  return SQLITE_OK;
}

static void *run(void *arg)
{
  kedge_wal_checkpoint_t *cp = arg;
  pthread_mutex_lock(&cp->lock);
  for (;;) {
    while (!cp->asked && !cp->stop)
      pthread_cond_wait(&cp->wake, &cp->lock);
    if (cp->stop)
      break;
    cp->asked = false;
    pthread_mutex_unlock(&cp->lock);
    /* PASSIVE: copies what no reader still needs, never waits for the writer or a reader
     * (sqlite.org/c3ref/wal_checkpoint_v2.html); the next commit restarts the WAL once all
     * of it is in the file. */
    int log = 0, done = 0;
    int rc = sqlite3_wal_checkpoint_v2(cp->ckpt, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY)
      kedge_log_warn("%s: background checkpoint failed: %s", cp->what, sqlite3_errmsg(cp->ckpt));
    if (done > 0)
      atomic_fetch_add(&cp->backfilled, (uint64_t)done);
    atomic_fetch_add(&cp->background, 1);
    pthread_mutex_lock(&cp->lock);
  }
  pthread_mutex_unlock(&cp->lock);
  return NULL;
}

static void cp_free(kedge_wal_checkpoint_t *cp)
{
  sqlite3_close(cp->ckpt);
  pthread_cond_destroy(&cp->wake);
  pthread_mutex_destroy(&cp->lock);
  free(cp);
}

kedge_err_t kedge_wal_checkpoint_start(sqlite3 *db, const char *path, unsigned pages,
                                       const char *what, void (*fallback)(void *arg), void *arg,
                                       kedge_wal_checkpoint_t **out, char *why, size_t why_size)
{
  if (!db || !path || !out || pages == 0 || pages > INT32_MAX / HARD_LIMIT_FACTOR)
    return KEDGE_ERR_INVALID_ARG;
  *out = NULL;
  kedge_wal_checkpoint_t *cp = calloc(1, sizeof(*cp));
  if (!cp)
    return KEDGE_ERR_NOMEM;
  cp->db = db;
  cp->pages = (int)pages;
  cp->hard_limit = (int)pages * HARD_LIMIT_FACTOR;
  snprintf(cp->what, sizeof(cp->what), "%s", what ? what : path);
  cp->fallback = fallback;
  cp->arg = arg;
  pthread_mutex_init(&cp->lock, NULL);
  pthread_cond_init(&cp->wake, NULL);
  /* synchronous=FULL: the checkpoint fsyncs the WAL before it copies and the file after, so a
   * frame is never lost between the two (the owner's setting does not reach this connection).
   * wal_autocheckpoint=0: this connection writes nothing, but should it ever, it must not
   * checkpoint inline either. */
  char *msg = NULL;
  if (sqlite3_open_v2(path, &cp->ckpt, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
          SQLITE_OK ||
      sqlite3_busy_timeout(cp->ckpt, 5000) != SQLITE_OK ||
      sqlite3_exec(cp->ckpt, "PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0", NULL, NULL,
                   &msg) != SQLITE_OK) {
    ks_why(why, why_size, "%s: cannot open the checkpoint connection: %s", cp->what,
           msg        ? msg
           : cp->ckpt ? sqlite3_errmsg(cp->ckpt)
                      : "out of memory");
    sqlite3_free(msg);
    cp_free(cp);
    return KEDGE_ERR_IO;
  }
  if (pthread_create(&cp->thread, NULL, run, cp) != 0) {
    ks_why(why, why_size, "%s: cannot start the checkpoint thread", cp->what);
    cp_free(cp);
    return KEDGE_ERR_NOMEM;
  }
  cp->started = true;
  /* Replaces the connection's auto-checkpoint (sqlite.org/c3ref/wal_hook.html: the two share
   * one hook). */
  sqlite3_wal_hook(db, on_commit, cp);
  *out = cp;
  return KEDGE_OK;
}

void kedge_wal_checkpoint_stop(kedge_wal_checkpoint_t *cp)
{
  if (!cp)
    return;
  sqlite3_wal_autocheckpoint(cp->db, cp->pages); /* the hook no longer names cp */
  pthread_mutex_lock(&cp->lock);
  cp->stop = true;
  pthread_cond_signal(&cp->wake);
  pthread_mutex_unlock(&cp->lock);
  if (cp->started)
    pthread_join(cp->thread, NULL);
  cp_free(cp);
}

void kedge_wal_checkpoint_stats(kedge_wal_checkpoint_t *cp, kedge_wal_checkpoint_stats_t *st)
{
  st->woken = cp ? atomic_load(&cp->woken) : 0;
  st->background = cp ? atomic_load(&cp->background) : 0;
  st->backfilled = cp ? atomic_load(&cp->backfilled) : 0;
  st->inline_runs = cp ? atomic_load(&cp->inline_runs) : 0;
}
