/* SQLite WAL checkpoints off the commit path (issue 17; docs/performance-latency.md,
 * "Checkpoints off the commit path").
 *
 * By default the connection that commits copies the WAL back into the database file
 * (wal_autocheckpoint, run inline after the COMMIT that crossed the threshold): every commit
 * queued behind it waits for the copy and the database file's fsync. kedge_wal_checkpoint_start
 * replaces that on one committing connection (sqlite3_wal_hook, which turns its
 * auto-checkpoint off) by a thread of its own with a second connection to the same file: when a
 * commit leaves at least `pages` frames in the WAL, the hook wakes the thread, which runs
 * sqlite3_wal_checkpoint_v2(SQLITE_CHECKPOINT_PASSIVE) beside the writer (in WAL mode a passive
 * checkpoint never blocks a writer, nor waits for one: sqlite.org/wal.html). It copies only
 * committed frames, so durability is the commit's fsync as before.
 *
 * Bounded: a reader holding an old snapshot keeps a passive checkpoint from reaching the end
 * of the WAL ("checkpoint starvation", sqlite.org/wal.html), and the thread may fall behind.
 * Once a commit leaves 4 x `pages` frames or more, the committing connection checkpoints
 * itself again after each commit, as SQLite's auto-checkpoint does (one warning, the first
 * time; each such checkpoint counted: `fallback`), so the file grows no more than it did.
 * PRAGMA journal_size_limit stays the committing connection's: it cuts the WAL back when that
 * connection restarts it. Not thread-safe beyond this: one committing connection per
 * checkpointer, start and stop on the thread that owns that connection (or with it idle). */
#ifndef KEDGE_WAL_CHECKPOINT_H
#define KEDGE_WAL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "kedge/error.h"

typedef struct kedge_wal_checkpoint kedge_wal_checkpoint_t;

typedef struct kedge_wal_checkpoint_stats {
  uint64_t woken;       /* times a commit woke the thread (each is one checkpoint once done) */
  uint64_t background;  /* checkpoints the thread ran */
  uint64_t backfilled;  /* WAL frames they copied into the database file */
  uint64_t inline_runs; /* checkpoints the committing connection ran (past the hard limit) */
} kedge_wal_checkpoint_stats_t;

/* Starts the checkpoint thread for `db` (in WAL mode), the committing connection of `path`:
 * wakes at `pages` frames (> 0), falls back to inline checkpoints at 4 x `pages`.
 * `fallback(arg)`, when set, is called on the committing thread for every inline checkpoint
 * (for a metric). `what` names the database in log lines. On error one line in `why`:
 * KEDGE_ERR_IO (second connection), KEDGE_ERR_NOMEM, KEDGE_ERR_INVALID_ARG. */
kedge_err_t kedge_wal_checkpoint_start(sqlite3 *db, const char *path, unsigned pages,
                                       const char *what, void (*fallback)(void *arg), void *arg,
                                       kedge_wal_checkpoint_t **out, char *why, size_t why_size);

/* Stops and joins the thread, closes its connection and gives `db` back SQLite's own
 * auto-checkpoint at `pages`. Its owner closes `db` next: SQLite's last close of the file
 * checkpoints the whole WAL into it and removes the WAL, as before. NULL: nothing. */
void kedge_wal_checkpoint_stop(kedge_wal_checkpoint_t *cp);

/* Counters so far (any thread). */
void kedge_wal_checkpoint_stats(kedge_wal_checkpoint_t *cp, kedge_wal_checkpoint_stats_t *st);

#endif
