/* kedge/wal_checkpoint.h: a committing connection's WAL is checkpointed by the background
 * thread (never by the committing connection while the thread keeps up), the committing
 * connection falls back to checkpointing itself past 4 x pages (a reader's snapshot holding
 * the passive checkpoints back: sqlite.org/wal.html "Checkpoint starvation"), and a stop
 * leaves the file whole, the WAL removed at the last close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "kedge/wal_checkpoint.h"

#define PAGES 16

static char dir[64], path[128], wal[140];

static int setup(void **state)
{
  (void)state;
  strcpy(dir, "/tmp/kedge-test-walckpt-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  snprintf(path, sizeof(path), "%s/t.sqlite", dir);
  snprintf(wal, sizeof(wal), "%s-wal", path);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  return system(cmd);
}

/* A connection in WAL mode with synchronous=FULL, as the UDM's and the key store's. */
static sqlite3 *open_wal(void)
{
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v BLOB)",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  return db;
}

/* One transaction writing a new 3000-octet row: one or two new pages each. */
static void commit_one(sqlite3 *db)
{
  assert_int_equal(
      sqlite3_exec(db, "INSERT INTO t (v) VALUES (randomblob(3000))", NULL, NULL, NULL), SQLITE_OK);
}

/* Frames now in the WAL, as the next commit's hook would see before its own. */
static int wal_frames(void)
{
  struct stat st;
  if (stat(wal, &st) != 0 || st.st_size < 32)
    return 0;
  return (int)((st.st_size - 32) / (4096 + 24));
}

static unsigned fallbacks;

static void count_fallback(void *arg)
{
  (void)arg;
  fallbacks++;
}

/* Waits (at most 5 s) until the thread has run every checkpoint a commit asked for. */
static void wait_idle(kedge_wal_checkpoint_t *cp, kedge_wal_checkpoint_stats_t *st)
{
  for (int i = 0; i < 5000; i++) {
    kedge_wal_checkpoint_stats(cp, st);
    if (st->background == st->woken)
      return;
    usleep(1000);
  }
}

static void test_background_checkpoints(void **state)
{
  (void)state;
  sqlite3 *db = open_wal();
  kedge_wal_checkpoint_t *cp = NULL;
  char why[256] = "";
  fallbacks = 0;
  assert_int_equal(kedge_wal_checkpoint_start(db, path, PAGES, "test", count_fallback, NULL, &cp,
                                              why, sizeof(why)),
                   KEDGE_OK);
  kedge_wal_checkpoint_stats_t st;
  /* 300 commits, each followed by the checkpoint it asked for (if any): SQLite's own
   * checkpoints are off on this connection, so without the thread the WAL would hold them all. */
  for (int i = 0; i < 300; i++) {
    commit_one(db);
    wait_idle(cp, &st);
  }
  kedge_wal_checkpoint_stats(cp, &st);
  assert_true(st.woken > 0);
  assert_int_equal(st.background, st.woken);
  assert_true(st.backfilled >= 300); /* every page written went through the thread */
  /* the committing connection ran none itself, and the WAL restarted behind the thread: it
   * never grew past the mark and one commit */
  assert_int_equal(st.inline_runs, 0);
  assert_int_equal(fallbacks, 0);
  assert_true(wal_frames() < PAGES + 4);
  kedge_wal_checkpoint_stop(cp);
  assert_int_equal(sqlite3_close(db), SQLITE_OK);
  /* the last close copied the rest and removed the WAL; every row is in the file */
  assert_int_not_equal(access(wal, F_OK), 0);
  db = open_wal();
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 300);
  sqlite3_finalize(q);
  sqlite3_close(db);
}

/* A reader's open snapshot keeps passive checkpoints from the WAL's end: the thread cannot
 * catch up, the WAL passes 4 x PAGES and the committing connection checkpoints itself (counted,
 * the callback called each time); once the reader is gone that brings the WAL back. */
static void test_hard_limit_falls_back(void **state)
{
  (void)state;
  sqlite3 *db = open_wal(), *reader = open_wal();
  kedge_wal_checkpoint_t *cp = NULL;
  char why[256] = "";
  fallbacks = 0;
  assert_int_equal(kedge_wal_checkpoint_start(db, path, PAGES, "test", count_fallback, NULL, &cp,
                                              why, sizeof(why)),
                   KEDGE_OK);
  commit_one(db);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM t", -1, &q, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW); /* the snapshot: one row */
  sqlite3_finalize(q);
  for (int i = 0; i < 6 * PAGES; i++)
    commit_one(db);
  kedge_wal_checkpoint_stats_t st;
  kedge_wal_checkpoint_stats(cp, &st);
  assert_true(st.inline_runs > 0);
  assert_int_equal(fallbacks, st.inline_runs);
  assert_true(wal_frames() >= 4 * PAGES); /* held by the reader */
  assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  /* the reader gone: the next commit's own checkpoint copies it all, the one after restarts
   * the WAL from its start, and commits go on without inline checkpoints */
  commit_one(db);
  commit_one(db);
  uint64_t before = st.inline_runs;
  for (int i = 0; i < PAGES; i++)
    commit_one(db);
  kedge_wal_checkpoint_stats(cp, &st);
  assert_true(st.inline_runs <= before + 1);
  kedge_wal_checkpoint_stop(cp);
  sqlite3_close(reader);
  assert_int_equal(sqlite3_close(db), SQLITE_OK);
  assert_int_not_equal(access(wal, F_OK), 0);
}

static void test_bad_arguments(void **state)
{
  (void)state;
  sqlite3 *db = open_wal();
  kedge_wal_checkpoint_t *cp = NULL;
  char why[256] = "";
  assert_int_equal(
      kedge_wal_checkpoint_start(db, path, 0, "test", NULL, NULL, &cp, why, sizeof(why)),
      KEDGE_ERR_INVALID_ARG);
  assert_null(cp);
  char missing[160];
  snprintf(missing, sizeof(missing), "%s/none/t.sqlite", dir);
  assert_int_equal(kedge_wal_checkpoint_start(db, missing, PAGES, "the test file", NULL, NULL, &cp,
                                              why, sizeof(why)),
                   KEDGE_ERR_IO);
  assert_null(cp);
  assert_non_null(strstr(why, "the test file: cannot open the checkpoint connection"));
  kedge_wal_checkpoint_stop(NULL);
  sqlite3_close(db);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_background_checkpoints, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hard_limit_falls_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
