/* The key store (kedge/keystore.h) on its memory: and sqlite: backends: every behaviour the
 * AUSF relies on, run against both (issue 5): round trip, one key per SUPI, expiry and purge,
 * sealing at rest, another master key, asynchronous completion, bounded queues, closing with
 * calls outstanding, and handles on several loops sharing one table or file. The Redis
 * backend has its own test with a real redis-server (tests/integration/test-keystore-redis.c). */
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "kedge/hex.h"
#include "kedge/keystore.h"
#include "kedge/work.h"
#include "testutil.h"

/* ---- helpers ---- */

typedef struct result {
  int calls;
  kedge_err_t err;
  kedge_keystore_record_t rec;
} result_t;

static void on_done(kedge_err_t err, void *arg)
{
  result_t *r = arg;
  r->calls++;
  r->err = err;
}

static void on_got(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  result_t *r = arg;
  r->calls++;
  r->err = err;
  if (!err) {
    assert_non_null(rec);
    r->rec = *rec;
  } else {
    assert_null(rec);
  }
}

static void deadline_hit(evutil_socket_t fd, short what, void *arg)
{
  *(int *)arg = 1;
}

/* Runs the loop until *calls reaches want (10 s at most). */
static void wait_calls(struct event_base *base, const int *calls, int want)
{
  int late = 0;
  struct event *deadline = evtimer_new(base, deadline_hit, &late);
  struct timeval tv = {.tv_sec = 10};
  evtimer_add(deadline, &tv);
  while (*calls < want && !late)
    event_base_loop(base, EVLOOP_ONCE);
  event_free(deadline);
  assert_int_equal(*calls, want);
}

/* Runs the loop for ms milliseconds. */
static void run_for(struct event_base *base, int ms)
{
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
}

static void make_id(char out[KEDGE_ID_MAX + 1])
{
  kedge_id_t id;
  memset(&id, 0, sizeof(id));
  strcpy(id.rid, "0");
  assert_int_equal(RAND_bytes(id.tid, KEDGE_TID_LEN), 1);
  assert_int_equal(kedge_plmn_parse("001", "01", &id.home), KEDGE_OK);
  assert_int_equal(kedge_id_format(&id, out), KEDGE_OK);
}

static void make_rec(kedge_keystore_record_t *rec, const char *supi, int64_t ttl_ms)
{
  memset(rec, 0, sizeof(*rec));
  make_id(rec->kedge_id);
  snprintf(rec->supi, sizeof(rec->supi), "%s", supi);
  assert_int_equal(RAND_bytes(rec->kedge, KEDGE_KEY_LEN), 1);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rec->expiry_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ttl_ms;
}

static void put_ok(struct event_base *base, kedge_keystore_t *ks,
                   const kedge_keystore_record_t *rec)
{
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, rec, on_done, &r), KEDGE_OK);
  assert_int_equal(r.calls, 0); /* never inside the call */
  wait_calls(base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
}

static kedge_err_t get_one(struct event_base *base, kedge_keystore_t *ks, const char *id,
                           kedge_keystore_record_t *out)
{
  result_t r = {0};
  assert_int_equal(kedge_keystore_get(ks, id, on_got, &r), KEDGE_OK);
  assert_int_equal(r.calls, 0);
  wait_calls(base, &r.calls, 1);
  if (out)
    *out = r.rec;
  kedge_err_t err = r.err;
  OPENSSL_cleanse(&r, sizeof(r));
  return err;
}

static void assert_same(const kedge_keystore_record_t *a, const kedge_keystore_record_t *b)
{
  assert_string_equal(a->kedge_id, b->kedge_id);
  assert_string_equal(a->supi, b->supi);
  assert_int_equal(CRYPTO_memcmp(a->kedge, b->kedge, KEDGE_KEY_LEN), 0);
  assert_true(a->expiry_ms == b->expiry_ms);
}

/* ---- fixture: one handle on memory: or on sqlite:DIR/keys.db ---- */

typedef struct fixture {
  bool sqlite;
  char dir[64];
  char path[128];
  char uri[160];
  struct event_base *base;
  kedge_master_key_t mk;
  kedge_keystore_t *ks;
} fixture_t;

static kedge_keystore_t *open_store(fixture_t *f, struct event_base *base,
                                    const kedge_master_key_t *mk,
                                    const kedge_keystore_options_t *opts)
{
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  kedge_err_t err = kedge_keystore_open(f->uri, mk, base, opts, &ks, why, sizeof(why));
  if (err)
    fprintf(stderr, "open %s: %s\n", f->uri, why);
  assert_int_equal(err, KEDGE_OK);
  assert_string_equal(kedge_keystore_backend(ks), f->sqlite ? "sqlite" : "memory");
  return ks;
}

static int setup(void **state, bool sqlite)
{
  fixture_t *f = calloc(1, sizeof(*f));
  if (!f || kedge_work_threads_init())
    return -1;
  f->sqlite = sqlite;
  snprintf(f->dir, sizeof(f->dir), "/tmp/kedge-test-keystore-XXXXXX");
  if (!mkdtemp(f->dir))
    return -1;
  snprintf(f->path, sizeof(f->path), "%s/keys.db", f->dir);
  snprintf(f->uri, sizeof(f->uri), sqlite ? "sqlite:%s" : "memory:", f->path);
  f->base = event_base_new();
  if (!f->base || RAND_bytes(f->mk.key, sizeof(f->mk.key)) != 1)
    return -1;
  f->ks = open_store(f, f->base, &f->mk, NULL);
  *state = f;
  return 0;
}

static int setup_memory(void **state)
{
  return setup(state, false);
}

static int setup_sqlite(void **state)
{
  return setup(state, true);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static int teardown(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_close(f->ks);
  event_base_free(f->base);
  nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  kedge_master_key_clear(&f->mk);
  free(f);
  return 0;
}

/* Rows in the file, read with a connection of the test's own. */
static int count_rows(const fixture_t *f, const char *where)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char sql[256];
  snprintf(sql, sizeof(sql), "SELECT count(*) FROM edge_key%s%s", where ? " WHERE " : "",
           where ? where : "");
  assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

/* The TID of a Kedge ID, as an SQL blob literal x'...'. */
static void tid_literal(const char *kedge_id, char out[2 * KEDGE_TID_LEN + 4])
{
  kedge_id_t id;
  assert_int_equal(kedge_id_parse(kedge_id, strlen(kedge_id), &id, NULL), KEDGE_OK);
  strcpy(out, "x'");
  kedge_hex_encode(id.tid, KEDGE_TID_LEN, out + 2);
  strcat(out, "'");
}

/* ---- URIs ---- */

static void test_bad_uris(void **state)
{
  static const char *bad[] = {
      "",
      "sqlite:",
      "sqlite://host/file.db",
      "redis://host",
      "redis://host:",
      "redis://:6379",
      "redis://host:0",
      "redis://host:65536",
      "redis://host:6379x",
      "redis://host:6379/",
      "redis://host:6379/x",
      "redis://host:6379/1/2",
      "redis://user:secret@host:6379",
      "redis://[::1",
      "rediss://host:6379",
      "postgres://host/db",
      "memory:x",
      "memory",
      "MEMORY:",
  };
  kedge_master_key_t mk = {{0}};
  struct event_base *base = event_base_new();
  assert_non_null(base);
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    char why[256] = "", why2[256] = "";
    kedge_keystore_t *ks = (kedge_keystore_t *)&mk; /* must become NULL */
    assert_int_equal(kedge_keystore_uri_check(bad[i], why, sizeof(why)), KEDGE_ERR_CONFIG);
    assert_int_equal(kedge_keystore_open(bad[i], &mk, base, NULL, &ks, why2, sizeof(why2)),
                     KEDGE_ERR_CONFIG);
    assert_null(ks);
    /* one line that says something, and the same at open */
    assert_true(strlen(why) > 10);
    assert_null(strchr(why, '\n'));
    assert_string_equal(why, why2);
    assert_null(strstr(why, "secret")); /* a password in a URI is not echoed */
  }
  char why[256];
  assert_int_equal(kedge_keystore_uri_check(NULL, why, sizeof(why)), KEDGE_ERR_CONFIG);
  static const char *good[] = {"memory:",
                               "sqlite:keys.db",
                               "sqlite:/var/lib/kedge/k.db",
                               "redis://127.0.0.1:6379",
                               "redis://redis.example:6380/3",
                               "redis://[::1]:6379/0"};
  for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
    assert_int_equal(kedge_keystore_uri_check(good[i], why, sizeof(why)), KEDGE_OK);
  /* a user without a password is refused at open */
  kedge_keystore_options_t o = {.redis_user = "kedge"};
  kedge_keystore_t *ks = NULL;
  assert_int_equal(kedge_keystore_open("redis://127.0.0.1:1", &mk, base, &o, &ks, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "password"));
  event_base_free(base);
}

static void test_sqlite_bad_path(void **state)
{
  kedge_master_key_t mk = {{0}};
  struct event_base *base = event_base_new();
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  assert_int_equal(kedge_keystore_open("sqlite:/nonexistent-dir/x/keys.db", &mk, base, NULL, &ks,
                                       why, sizeof(why)),
                   KEDGE_ERR_IO);
  assert_null(ks);
  assert_non_null(strstr(why, "/nonexistent-dir/x/keys.db"));
  assert_null(strchr(why, '\n'));
  event_base_free(base);
}

/* ---- both backends ---- */

static void test_round_trip(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec, got;
  make_rec(&rec, "imsi-001010000000001", 60000);
  rec.created_ms = 1700000000000;
  put_ok(f->base, f->ks, &rec);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, &got), KEDGE_OK);
  assert_same(&rec, &got);
  assert_true(got.created_ms == 1700000000000);
  /* created defaults to now */
  make_rec(&rec, "nai-alice@example.org", 60000);
  int64_t before = rec.expiry_ms - 60000;
  put_ok(f->base, f->ks, &rec);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, &got), KEDGE_OK);
  assert_same(&rec, &got);
  assert_true(got.created_ms >= before && got.created_ms <= before + 5000);
  /* the same get for a Kedge ID parsed by the caller (the key request handler's) */
  kedge_id_t id;
  assert_int_equal(kedge_id_parse(rec.kedge_id, strlen(rec.kedge_id), &id, NULL), KEDGE_OK);
  result_t r = {0};
  assert_int_equal(kedge_keystore_get_parsed(f->ks, rec.kedge_id, &id, on_got, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_same(&rec, &r.rec);
  kedge_keystore_record_t unknown;
  make_rec(&unknown, "imsi-001010000000002", 60000); /* never stored */
  assert_int_equal(kedge_id_parse(unknown.kedge_id, strlen(unknown.kedge_id), &id, NULL), KEDGE_OK);
  memset(&r, 0, sizeof(r));
  assert_int_equal(kedge_keystore_get_parsed(f->ks, unknown.kedge_id, &id, on_got, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  assert_int_equal(kedge_keystore_get_parsed(f->ks, unknown.kedge_id, NULL, on_got, &r),
                   KEDGE_ERR_INVALID_ARG);
  OPENSSL_cleanse(&r, sizeof(r));
  assert_int_equal(kedge_keystore_pending(f->ks), 0);
}

static void test_replace_removes_old(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t first, second, other, got;
  make_rec(&first, "imsi-001010000000002", 60000);
  make_rec(&second, "imsi-001010000000002", 60000);
  make_rec(&other, "imsi-001010000000003", 60000);
  put_ok(f->base, f->ks, &first);
  put_ok(f->base, f->ks, &other);
  put_ok(f->base, f->ks, &second);
  assert_int_equal(get_one(f->base, f->ks, first.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, second.kedge_id, &got), KEDGE_OK);
  assert_same(&second, &got);
  assert_int_equal(get_one(f->base, f->ks, other.kedge_id, &got), KEDGE_OK);
  assert_same(&other, &got);
  if (f->sqlite) {
    assert_int_equal(count_rows(f, NULL), 2);
    assert_int_equal(count_rows(f, "supi = 'imsi-001010000000002'"), 1);
  }
}

static void test_unknown_and_malformed(void **state)
{
  fixture_t *f = *state;
  char id[KEDGE_ID_MAX + 1];
  make_id(id);
  assert_int_equal(get_one(f->base, f->ks, id, NULL), KEDGE_ERR_NOT_FOUND);
  /* the same TID under another routing indicator is another Kedge ID */
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000004", 60000);
  put_ok(f->base, f->ks, &rec);
  char other_rid[KEDGE_ID_MAX + 1];
  memcpy(other_rid, rec.kedge_id, sizeof(other_rid));
  other_rid[0] = '1';
  assert_int_equal(get_one(f->base, f->ks, other_rid, NULL), KEDGE_ERR_NOT_FOUND);
  char other_home[KEDGE_ID_MAX + 1];
  memcpy(other_home, rec.kedge_id, sizeof(other_home));
  char *mcc = strstr(other_home, ".mcc001.");
  assert_non_null(mcc);
  mcc[6] = '2';
  assert_int_equal(get_one(f->base, f->ks, other_home, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);
  /* malformed: refused at once, no callback */
  result_t r = {0};
  static const char *bad[] = {"", "0.abc@5gc.mnc001.mcc001.3gppnetwork.org", "not-an-id"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
    assert_int_equal(kedge_keystore_get(f->ks, bad[i], on_got, &r), KEDGE_ERR_BAD_KEDGE_ID);
  assert_int_equal(kedge_keystore_get(f->ks, NULL, on_got, &r), KEDGE_ERR_INVALID_ARG);
  kedge_keystore_record_t badrec = rec;
  snprintf(badrec.supi, sizeof(badrec.supi), "imsi-12");
  assert_int_equal(kedge_keystore_put(f->ks, &badrec, on_done, &r), KEDGE_ERR_BAD_SUPI);
  badrec = rec;
  badrec.kedge_id[2] = '!';
  assert_int_equal(kedge_keystore_put(f->ks, &badrec, on_done, &r), KEDGE_ERR_BAD_KEDGE_ID);
  badrec = rec;
  badrec.expiry_ms = 0;
  assert_int_equal(kedge_keystore_put(f->ks, &badrec, on_done, &r), KEDGE_ERR_INVALID_ARG);
  assert_int_equal(kedge_keystore_delete_supi(f->ks, "imsi-x", on_done, &r), KEDGE_ERR_BAD_SUPI);
  run_for(f->base, 20);
  assert_int_equal(r.calls, 0);
  assert_int_equal(kedge_keystore_pending(f->ks), 0);
}

static void test_expiry_and_purge(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t short_lived, long_lived, past;
  make_rec(&short_lived, "imsi-001010000000005", 300);
  make_rec(&long_lived, "imsi-001010000000006", 60000);
  make_rec(&past, "imsi-001010000000007", -1000);
  put_ok(f->base, f->ks, &short_lived);
  put_ok(f->base, f->ks, &long_lived);
  put_ok(f->base, f->ks, &past);
  assert_int_equal(get_one(f->base, f->ks, past.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, short_lived.kedge_id, NULL), KEDGE_OK);
  run_for(f->base, 400);
  /* expired: exactly the answer for an unknown ID */
  assert_int_equal(get_one(f->base, f->ks, short_lived.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, long_lived.kedge_id, NULL), KEDGE_OK);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 3); /* still there until purged */
  result_t r = {0};
  assert_int_equal(kedge_keystore_purge(f->ks, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 1);
  assert_int_equal(get_one(f->base, f->ks, long_lived.kedge_id, NULL), KEDGE_OK);
  /* the SUPI of a purged record can have a key again */
  make_rec(&short_lived, "imsi-001010000000005", 60000);
  put_ok(f->base, f->ks, &short_lived);
  assert_int_equal(get_one(f->base, f->ks, short_lived.kedge_id, NULL), KEDGE_OK);
}

/* The periodic purge: a handle with a short purge_interval_ms deletes expired rows itself,
 * in chunks, while the store keeps answering. */
static void test_periodic_purge(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_options_t o = {.purge_interval_ms = 50};
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
  enum { N = 2500 }; /* more than one purge chunk */
  static result_t r[N];
  memset(r, 0, sizeof(r));
  kedge_keystore_record_t keep;
  for (int i = 0; i < N; i++) {
    kedge_keystore_record_t rec;
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", i);
    make_rec(&rec, supi, i == 0 ? 60000 : 100);
    if (i == 0)
      keep = rec;
    assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r[i]), KEDGE_OK);
  }
  for (int done = 0; done < N;) {
    event_base_loop(f->base, EVLOOP_ONCE);
    done = 0;
    for (int i = 0; i < N; i++)
      done += r[i].calls;
  }
  for (int i = 0; i < N; i++)
    assert_int_equal(r[i].err, KEDGE_OK);
  /* the timer purges, chunk after chunk, while the loop runs (5 s at most) */
  for (int waited = 0; f->sqlite && count_rows(f, NULL) > 1 && waited < 5000; waited += 100)
    run_for(f->base, 100);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 1);
  else
    run_for(f->base, 300);
  assert_int_equal(get_one(f->base, ks, keep.kedge_id, NULL), KEDGE_OK);
  OPENSSL_cleanse(&keep, sizeof(keep));
  kedge_keystore_close(ks);
}

static void test_other_master_key(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000008", 60000);
  put_ok(f->base, f->ks, &rec);
  kedge_master_key_t other;
  assert_int_equal(RAND_bytes(other.key, sizeof(other.key)), 1);
  kedge_keystore_t *ks2 = open_store(f, f->base, &other, NULL);
  /* the record is there, but does not open: absent, like an unknown ID */
  assert_int_equal(get_one(f->base, ks2, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, ks2, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);
  kedge_keystore_close(ks2);
}

static void test_delete_supi(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000009", 60000);
  put_ok(f->base, f->ks, &rec);
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_supi(f->ks, rec.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(kedge_keystore_delete_supi(f->ks, rec.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 2);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
}

/* delete_key (a revocation of one authentication's key): the SUPI's key goes only while it is
 * still that Kedge ID; a key that replaced it stays. */
static void test_delete_key(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t old_rec, new_rec;
  make_rec(&old_rec, "imsi-001010000000011", 60000);
  make_rec(&new_rec, "imsi-001010000000011", 60000);
  put_ok(f->base, f->ks, &old_rec);
  put_ok(f->base, f->ks, &new_rec);
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_key(f->ks, old_rec.supi, old_rec.kedge_id, on_done, &r),
                   KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, new_rec.kedge_id, NULL), KEDGE_OK);
  assert_int_equal(kedge_keystore_delete_key(f->ks, new_rec.supi, new_rec.kedge_id, on_done, &r),
                   KEDGE_OK);
  wait_calls(f->base, &r.calls, 2);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, new_rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 0);
  assert_int_equal(kedge_keystore_delete_key(f->ks, new_rec.supi, "not-an-id", on_done, &r),
                   KEDGE_ERR_BAD_KEDGE_ID);
}

/* Many puts for one SUPI at once (one group-committed batch for SQLite): one record is left,
 * the last one put. */
static void test_one_record_per_supi(void **state)
{
  fixture_t *f = *state;
  enum { N = 200 };
  static kedge_keystore_record_t recs[N];
  result_t r = {0};
  for (int i = 0; i < N; i++) {
    make_rec(&recs[i], "imsi-001010000000010", 60000);
    assert_int_equal(kedge_keystore_put(f->ks, &recs[i], on_done, &r), KEDGE_OK);
  }
  wait_calls(f->base, &r.calls, N);
  assert_int_equal(r.err, KEDGE_OK);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 1);
  kedge_keystore_record_t got;
  assert_int_equal(get_one(f->base, f->ks, recs[N - 1].kedge_id, &got), KEDGE_OK);
  assert_same(&recs[N - 1], &got);
  for (int i = 0; i < N - 1; i += 17)
    assert_int_equal(get_one(f->base, f->ks, recs[i].kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  OPENSSL_cleanse(recs, sizeof(recs));
}

/* One put of a group-committed batch fails (a trigger refuses its SUPI): that one answers an
 * error, the others of the same batch are stored. The writer runs a batch without a savepoint
 * per call and, when a call fails, runs it again with them (lib/store/sqlite.c write_batch). */
static void test_sqlite_failed_put_in_batch(void **state)
{
  fixture_t *f = *state;
  enum { N = 20, BAD = 7 };
  static kedge_keystore_record_t recs[N];
  static result_t r[N];
  memset(r, 0, sizeof(r));
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TRIGGER refuse BEFORE INSERT ON edge_key"
                                " WHEN NEW.supi = 'imsi-001010000200007'"
                                " BEGIN SELECT RAISE(ABORT, 'refused'); END",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  for (int i = 0; i < N; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 200000 + i);
    make_rec(&recs[i], supi, 60000);
    assert_int_equal(kedge_keystore_put(f->ks, &recs[i], on_done, &r[i]), KEDGE_OK);
  }
  for (int i = 0; i < N; i++)
    wait_calls(f->base, &r[i].calls, 1);
  for (int i = 0; i < N; i++)
    assert_int_equal(r[i].err, i == BAD ? KEDGE_ERR_IO : KEDGE_OK);
  assert_int_equal(count_rows(f, NULL), N - 1);
  for (int i = 0; i < N; i++)
    assert_int_equal(get_one(f->base, f->ks, recs[i].kedge_id, NULL),
                     i == BAD ? KEDGE_ERR_NOT_FOUND : KEDGE_OK);
  OPENSSL_cleanse(recs, sizeof(recs));
}

/* Many SUPIs at once, and reads of all of them at once. */
static void test_many_at_once(void **state)
{
  fixture_t *f = *state;
  enum { N = 1000 };
  static kedge_keystore_record_t recs[N];
  static result_t got[N];
  memset(got, 0, sizeof(got));
  result_t r = {0};
  for (int i = 0; i < N; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 100000 + i);
    make_rec(&recs[i], supi, 60000);
    assert_int_equal(kedge_keystore_put(f->ks, &recs[i], on_done, &r), KEDGE_OK);
  }
  assert_int_equal(kedge_keystore_pending(f->ks), N);
  wait_calls(f->base, &r.calls, N);
  assert_int_equal(r.err, KEDGE_OK);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), N);
  int calls = 0;
  for (int i = 0; i < N; i++)
    assert_int_equal(kedge_keystore_get(f->ks, recs[i].kedge_id, on_got, &got[i]), KEDGE_OK);
  while (calls < N) {
    event_base_loop(f->base, EVLOOP_ONCE);
    calls = 0;
    for (int i = 0; i < N; i++)
      calls += got[i].calls;
  }
  for (int i = 0; i < N; i++) {
    assert_int_equal(got[i].err, KEDGE_OK);
    assert_same(&recs[i], &got[i].rec);
  }
  OPENSSL_cleanse(recs, sizeof(recs));
  OPENSSL_cleanse(got, sizeof(got));
}

static void test_max_pending(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_options_t o = {.max_pending = 4};
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
  char id[KEDGE_ID_MAX + 1];
  make_id(id);
  result_t r[10];
  memset(r, 0, sizeof(r));
  for (int i = 0; i < 10; i++)
    assert_int_equal(kedge_keystore_get(ks, id, on_got, &r[i]), KEDGE_OK);
  int calls = 0, busy = 0;
  while (calls < 10) {
    event_base_loop(f->base, EVLOOP_ONCE);
    calls = 0;
    for (int i = 0; i < 10; i++)
      calls += r[i].calls;
  }
  for (int i = 0; i < 10; i++) {
    assert_int_equal(r[i].calls, 1);
    assert_true(r[i].err == KEDGE_ERR_NOT_FOUND || r[i].err == KEDGE_ERR_BUSY);
    busy += r[i].err == KEDGE_ERR_BUSY;
  }
  assert_int_equal(busy, 6);
  assert_int_equal(kedge_keystore_pending(ks), 0);
  kedge_keystore_close(ks);
}

/* Closing with calls outstanding: no callback afterwards, nothing leaks (ASan build), and the
 * other handles go on. */
static void test_close_with_calls_outstanding(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, NULL);
  result_t r = {0};
  kedge_keystore_record_t rec;
  for (int i = 0; i < 100; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 200000 + i);
    make_rec(&rec, supi, 60000);
    assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
    assert_int_equal(kedge_keystore_get(ks, rec.kedge_id, on_got, &r), KEDGE_OK);
  }
  kedge_keystore_close(ks);
  run_for(f->base, 200);
  assert_int_equal(r.calls, 0);
  make_rec(&rec, "imsi-001010000000011", 60000);
  put_ok(f->base, f->ks, &rec);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);
}

typedef struct closer {
  kedge_keystore_t *ks;
  int calls;
  kedge_err_t err;
} closer_t;

static void close_in_callback(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  closer_t *c = arg;
  c->calls++;
  c->err = err;
  kedge_keystore_close(c->ks);
  c->ks = NULL;
}

static void test_close_from_callback(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000012", 60000);
  put_ok(f->base, f->ks, &rec);
  closer_t c = {.ks = open_store(f, f->base, &f->mk, NULL)};
  result_t r = {0};
  assert_int_equal(kedge_keystore_get(c.ks, rec.kedge_id, close_in_callback, &c), KEDGE_OK);
  assert_int_equal(kedge_keystore_get(c.ks, rec.kedge_id, on_got, &r), KEDGE_OK);
  wait_calls(f->base, &c.calls, 1);
  assert_int_equal(c.err, KEDGE_OK);
  run_for(f->base, 100);
  assert_int_equal(r.calls, 0); /* the second never calls back: its handle is closed */
}

/* Handles on two loops in two threads, one table or file: each writes its SUPIs, reads the
 * other's; SQLite group-commits both through one writer. */
typedef struct worker {
  fixture_t *f;
  int id;
  kedge_keystore_record_t *recs;
  int n;
  pthread_barrier_t *barrier;
  int failures;
} worker_t;

static void *worker_main(void *p)
{
  worker_t *w = p;
  struct event_base *base = event_base_new();
  kedge_keystore_t *ks = NULL;
  char why[256];
  if (!base || kedge_keystore_open(w->f->uri, &w->f->mk, base, NULL, &ks, why, sizeof(why))) {
    w->failures = -1;
    pthread_barrier_wait(w->barrier);
    pthread_barrier_wait(w->barrier);
    return NULL;
  }
  result_t r = {0};
  for (int i = 0; i < w->n; i++)
    if (kedge_keystore_put(ks, &w->recs[w->id * w->n + i], on_done, &r))
      w->failures++;
  while (r.calls < w->n)
    event_base_loop(base, EVLOOP_ONCE);
  if (r.err)
    w->failures++;
  pthread_barrier_wait(w->barrier); /* both wrote: read the other's */
  int other = 1 - w->id;
  for (int i = 0; i < w->n; i++) {
    result_t g = {0};
    if (kedge_keystore_get(ks, w->recs[other * w->n + i].kedge_id, on_got, &g)) {
      w->failures++;
      continue;
    }
    while (!g.calls)
      event_base_loop(base, EVLOOP_ONCE);
    if (g.err || CRYPTO_memcmp(g.rec.kedge, w->recs[other * w->n + i].kedge, KEDGE_KEY_LEN))
      w->failures++;
  }
  pthread_barrier_wait(w->barrier); /* the loops stop before the last close (keystore.h) */
  kedge_keystore_close(ks);
  event_base_free(base);
  return NULL;
}

static void test_two_loops_share(void **state)
{
  fixture_t *f = *state;
  enum { N = 300 };
  static kedge_keystore_record_t recs[2 * N];
  for (int i = 0; i < 2 * N; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 300000 + i);
    make_rec(&recs[i], supi, 60000);
  }
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, 2);
  worker_t w[2] = {{f, 0, recs, N, &barrier, 0}, {f, 1, recs, N, &barrier, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&barrier);
  assert_int_equal(w[0].failures, 0);
  assert_int_equal(w[1].failures, 0);
  if (f->sqlite)
    assert_int_equal(count_rows(f, NULL), 2 * N);
  OPENSSL_cleanse(recs, sizeof(recs));
}

/* ---- SQLite only ---- */

static bool file_contains(const char *path, const void *needle, size_t len)
{
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return false;
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  rewind(fp);
  char *buf = malloc(size > 0 ? (size_t)size : 1);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (size_t)size, fp);
  fclose(fp);
  bool found = n >= len && memmem(buf, n, needle, len) != NULL;
  free(buf);
  return found;
}

static bool any_file_contains(const fixture_t *f, const void *needle, size_t len)
{
  char path[200];
  static const char *suffix[] = {"", "-wal", "-shm", "-journal"};
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof(path), "%s%s", f->path, suffix[i]);
    if (file_contains(path, needle, len))
      return true;
  }
  return false;
}

/* A copy of the database reveals no key: the Kedge octets are in none of its files, while
 * the TID and SUPI are (so the search looked at the right bytes). */
static void test_sqlite_sealed_at_rest(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000013", 60000);
  put_ok(f->base, f->ks, &rec);
  kedge_id_t id;
  assert_int_equal(kedge_id_parse(rec.kedge_id, strlen(rec.kedge_id), &id, NULL), KEDGE_OK);
  assert_true(any_file_contains(f, id.tid, KEDGE_TID_LEN));
  assert_true(any_file_contains(f, rec.supi, strlen(rec.supi)));
  assert_false(any_file_contains(f, rec.kedge, KEDGE_KEY_LEN));
  assert_false(any_file_contains(f, rec.kedge, 16));
  /* after the last close, checkpointed into the main file: still no key */
  kedge_keystore_close(f->ks);
  f->ks = NULL;
  char path[200];
  snprintf(path, sizeof(path), "%s-wal", f->path);
  assert_true(file_contains(f->path, id.tid, KEDGE_TID_LEN));
  assert_false(any_file_contains(f, rec.kedge, 16));
  /* the file is the AUSF's alone */
  struct stat st;
  assert_int_equal(stat(f->path, &st), 0);
  assert_int_equal(st.st_mode & 0077, 0);
  /* and a reopened store (an AUSF restart) has the key */
  f->ks = open_store(f, f->base, &f->mk, NULL);
  kedge_keystore_record_t got;
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, &got), KEDGE_OK);
  assert_same(&rec, &got);
}

/* Committed when the callback says OK: a connection of the test's own sees the row at once,
 * in WAL mode. (That the commit fsyncs is synchronous=FULL, docs/keystore.md; the AUSF's
 * kill -9 test checks it end to end.) */
static void test_sqlite_committed_before_callback(void **state)
{
  fixture_t *f = *state;
  for (int i = 0; i < 20; i++) {
    kedge_keystore_record_t rec;
    char supi[32], where[600];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 400000 + i);
    make_rec(&rec, supi, 60000);
    put_ok(f->base, f->ks, &rec);
    char tid[2 * KEDGE_TID_LEN + 4];
    tid_literal(rec.kedge_id, tid);
    snprintf(where, sizeof(where), "tid = %s AND rid = '0' AND home = '001001' AND supi = '%s'",
             tid, supi);
    assert_int_equal(count_rows(f, where), 1);
  }
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
  sqlite3_finalize(st);
  /* the layout issue 5 asks for: keyed by the 32-octet TID, WITHOUT ROWID */
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT sql FROM sqlite_master WHERE name = 'edge_key'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  const char *sql = (const char *)sqlite3_column_text(st, 0);
  assert_non_null(strstr(sql, "tid BLOB PRIMARY KEY"));
  assert_non_null(strstr(sql, "WITHOUT ROWID"));
  sqlite3_finalize(st);
  assert_int_equal(
      sqlite3_prepare_v2(db, "SELECT length(tid), length(kedge) FROM edge_key", -1, &st, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(st, 0), 32);
  assert_int_equal(sqlite3_column_int(st, 1), 32 + 29); /* sealed: version, nonce, tag */
  sqlite3_finalize(st);
  sqlite3_close(db);
}

/* A record altered in the file (here: its sealed Kedge moved to another Kedge ID) does not
 * open: absent. */
static void test_sqlite_swapped_ciphertext(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t a, b;
  make_rec(&a, "imsi-001010000000014", 60000);
  make_rec(&b, "imsi-001010000000015", 60000);
  put_ok(f->base, f->ks, &a);
  put_ok(f->base, f->ks, &b);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char sql[400], ta[2 * KEDGE_TID_LEN + 4], tb[2 * KEDGE_TID_LEN + 4];
  tid_literal(a.kedge_id, ta);
  tid_literal(b.kedge_id, tb);
  snprintf(sql, sizeof(sql),
           "UPDATE edge_key SET kedge = (SELECT kedge FROM edge_key WHERE tid = %s) "
           "WHERE tid = %s",
           ta, tb);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  assert_int_equal(get_one(f->base, f->ks, b.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, a.kedge_id, NULL), KEDGE_OK);
}

static double mono_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The loop never waits for SQLite's locks: here a child process holds the WAL-index read locks
 * that every reader of the file needs (the -shm file, bytes 120 + 3..7: WAL_READ_LOCK(0..4)).
 * The loop's read fails at once (its VFS does not sleep between SQLite's tries, sqlite.c), the
 * get goes to the handle's reader thread, which retries (sleeping), while the loop keeps running
 * its timers on time; the get completes once the locks are gone. */
static void test_sqlite_locked_wal_read_off_loop(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000016", 60000);
  put_ok(f->base, f->ks, &rec);
  int locked[2], release[2];
  assert_int_equal(pipe(locked), 0);
  assert_int_equal(pipe(release), 0);
  /* The fixture's store threads (writer, reader, checkpointer) are alive at fork(2): the child
   * makes only async-signal-safe calls (POSIX fork: a lock another thread held stays held), so
   * the -shm file's name is made before. */
  char shm[200];
  snprintf(shm, sizeof(shm), "%s-shm", f->path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    alarm(10); /* never outlive a failed test */
    int fd = open(shm, O_RDWR);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 123, .l_len = 5};
    char c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
    if (write(locked[1], &c, 1) != 1 || read(release[0], &c, 1) != 1)
      _exit(1);
    _exit(0);
  }
  char c = 0;
  assert_int_equal(read(locked[0], &c, 1), 1);
  result_t r = {0};
  double looped = 0;
  if (c == 'y') {
    assert_int_equal(kedge_keystore_get(f->ks, rec.kedge_id, on_got, &r), KEDGE_OK);
    double start = mono_now();
    run_for(f->base, 300);
    looped = mono_now() - start;
  }
  assert_int_equal(write(release[1], "x", 1), 1);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  for (int i = 0; i < 2; i++) {
    close(locked[i]);
    close(release[i]);
  }
  assert_int_equal(c, 'y');
  assert_true(looped < 0.6);    /* the loop ran its timer: nothing waited on it */
  assert_int_equal(r.calls, 0); /* while the reader was kept out by the locks */
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_same(&rec, &r.rec);
  /* LOOP_BACKOFF_MS (100 ms) after the read that would have waited, gets are read on the loop
   * again: answered in the pass that follows the ask */
  run_for(f->base, 150);
  result_t again = {0};
  assert_int_equal(kedge_keystore_get(f->ks, rec.kedge_id, on_got, &again), KEDGE_OK);
  assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
  assert_int_equal(again.calls, 1);
  assert_int_equal(again.err, KEDGE_OK);
  OPENSSL_cleanse(&again, sizeof(again));
}

/* A get is read on the loop's own connection and answered in the pass of the loop that follows
 * the ask: no hop to a thread and back (docs/performance-latency.md). Ten gets asked together
 * (one read transaction), known and unknown, all answered in that one pass. */
static void test_sqlite_get_answered_in_one_pass(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec[5];
  for (int i = 0; i < 5; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101000000002%d", i);
    make_rec(&rec[i], supi, 60000);
    put_ok(f->base, f->ks, &rec[i]);
  }
  kedge_keystore_record_t gone;
  make_rec(&gone, "imsi-001010000000029", 60000); /* never stored */
  result_t r[10] = {{0}};
  for (int i = 0; i < 10; i++)
    assert_int_equal(
        kedge_keystore_get(f->ks, i < 5 ? rec[i].kedge_id : gone.kedge_id, on_got, &r[i]),
        KEDGE_OK);
  for (int i = 0; i < 10; i++)
    assert_int_equal(r[i].calls, 0); /* never inside the call */
  assert_int_equal(event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK), 0);
  for (int i = 0; i < 10; i++) {
    assert_int_equal(r[i].calls, 1);
    assert_int_equal(r[i].err, i < 5 ? KEDGE_OK : KEDGE_ERR_NOT_FOUND);
    if (i < 5)
      assert_same(&rec[i], &r[i].rec);
  }
}

/* A caller that asks for the next get from each get's callback: the loop still polls and runs
 * its timers between the gets (a timer of 20 ms ends the chain long before its bound). */
typedef struct chain {
  kedge_keystore_t *ks;
  const char *kedge_id;
  long gets, at_stop; /* gets called back, and when the timer fired */
  bool stop, failed;
} chain_t;

static void chain_got(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  chain_t *c = arg;
  c->gets++;
  c->failed |= err != KEDGE_OK;
  if (!c->stop && c->gets < 1000000 &&
      kedge_keystore_get(c->ks, c->kedge_id, chain_got, c) != KEDGE_OK)
    c->failed = true;
}

static void chain_stop(evutil_socket_t fd, short what, void *arg)
{
  chain_t *c = arg;
  c->stop = true;
  c->at_stop = c->gets;
}

static void test_sqlite_get_chain_lets_loop_poll(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000031", 60000);
  put_ok(f->base, f->ks, &rec);
  chain_t c = {.ks = f->ks, .kedge_id = rec.kedge_id};
  struct event *timer = evtimer_new(f->base, chain_stop, &c);
  struct timeval tv = {0, 20000};
  assert_non_null(timer);
  assert_int_equal(evtimer_add(timer, &tv), 0);
  assert_int_equal(kedge_keystore_get(f->ks, rec.kedge_id, chain_got, &c), KEDGE_OK);
  while (!c.stop)
    event_base_loop(f->base, EVLOOP_ONCE);
  run_for(f->base, 50); /* the get in flight when the timer fired */
  event_free(timer);
  assert_false(c.failed);
  assert_true(c.at_stop > 1);
  assert_true(c.at_stop < 1000000); /* the timer fired while the chain went on */
}

/* The loop's read connection stays open between gets, but every pass reads in a new WAL
 * snapshot: a key revoked through another handle of the file (another worker's loop, the
 * shared writer) is never served from the snapshot of an earlier get (issue 5: a revoked key
 * is gone), and a key put through another handle is found by the next get. */
static void test_sqlite_loop_read_sees_other_handles(void **state)
{
  fixture_t *f = *state;
  struct event_base *base2 = event_base_new();
  assert_non_null(base2);
  kedge_keystore_t *other = open_store(f, base2, &f->mk, NULL);
  kedge_keystore_record_t rec, next;
  make_rec(&rec, "imsi-001010000000041", 60000);
  make_rec(&next, "imsi-001010000000042", 60000);
  put_ok(f->base, f->ks, &rec);
  for (int i = 0; i < 3; i++) /* the other loop's connection has read the key */
    assert_int_equal(get_one(base2, other, rec.kedge_id, NULL), KEDGE_OK);
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_key(f->ks, rec.supi, rec.kedge_id, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(base2, other, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  put_ok(f->base, f->ks, &next);
  kedge_keystore_record_t got;
  assert_int_equal(get_one(base2, other, next.kedge_id, &got), KEDGE_OK);
  assert_same(&next, &got);
  /* and the other way round, a get in the same pass as another get of the handle */
  result_t a = {0}, b = {0};
  assert_int_equal(kedge_keystore_delete_supi(other, next.supi, on_done, &r), KEDGE_OK);
  wait_calls(base2, &r.calls, 2);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(kedge_keystore_get(f->ks, next.kedge_id, on_got, &a), KEDGE_OK);
  assert_int_equal(kedge_keystore_get(f->ks, rec.kedge_id, on_got, &b), KEDGE_OK);
  wait_calls(f->base, &b.calls, 1);
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.err, KEDGE_ERR_NOT_FOUND);
  assert_int_equal(b.err, KEDGE_ERR_NOT_FOUND);
  OPENSSL_cleanse(&got, sizeof(got));
  kedge_keystore_close(other);
  event_base_free(base2);
}

/* Two daemons starting on the same new file at once (two kedge-ausfd sharing one key store
 * on a host): both must open it. SQLite answers the second one's turn to WAL and its schema
 * with SQLITE_BUSY at once, without its busy handler; the open waits and tries again. */
static void test_sqlite_two_processes_create(void **state)
{
  fixture_t *f = *state;
  /* No thread of the fixture's store may hold a lock (SQLite's, OpenSSL's) at fork(2): the
   * children would wait for it forever. So the parent forks with its store closed. */
  kedge_keystore_close(f->ks);
  f->ks = NULL;
  for (int round = 0; round < 30; round++) {
    char uri[200];
    snprintf(uri, sizeof(uri), "sqlite:%s/new-%d.db", f->dir, round);
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t kids[2];
    for (int k = 0; k < 2; k++) {
      kids[k] = fork();
      assert_true(kids[k] >= 0);
      if (kids[k] == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) < 0)
          _exit(3);
        struct event_base *base = event_base_new();
        kedge_keystore_t *ks = NULL;
        char why[256] = "";
        kedge_err_t err = kedge_keystore_open(uri, &f->mk, base, NULL, &ks, why, sizeof(why));
        if (err)
          fprintf(stderr, "round %d, process %d: %s\n", round, k, why);
        _exit(err ? 1 : 0);
      }
    }
    close(go[0]);
    close(go[1]); /* both start now */
    for (int k = 0; k < 2; k++) {
      int status = 0;
      assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
      assert_true(WIFEXITED(status));
      assert_int_equal(WEXITSTATUS(status), 0);
    }
  }
}

/* ---- closing with puts not yet confirmed (issue 17) ---- */

static void count_undone(void *arg)
{
  (*(int *)arg)++;
}

/* The rows of one Kedge ID in the file (0 or 1). */
static int rows_of(const fixture_t *f, const char *kedge_id)
{
  char tid[2 * KEDGE_TID_LEN + 4], where[100];
  tid_literal(kedge_id, tid);
  snprintf(where, sizeof(where), "tid = %s", tid);
  return count_rows(f, where);
}

/* Puts of a handle closed before their commit never land: the AUSF closes its store past
 * sbi.limits.shutdown_grace and its SEAF never hears success, so the SUPI's key must stay the
 * one the SEAF last heard of. Another connection holds the write lock (BEGIN IMMEDIATE): the
 * first put waits in the writer's transaction, the second in its queue. Both are counted
 * through put_undone. */
static void test_sqlite_close_drops_uncommitted_puts(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  kedge_keystore_options_t o = {.put_undone = count_undone, .put_undone_arg = &undone};
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
  kedge_keystore_record_t old_a, old_b, new_a, new_b, other, got;
  make_rec(&old_a, "imsi-001010000000051", 60000);
  make_rec(&old_b, "imsi-001010000000052", 60000);
  make_rec(&new_a, old_a.supi, 60000);
  make_rec(&new_b, old_b.supi, 60000);
  make_rec(&other, "imsi-001010000000053", 60000);
  put_ok(f->base, ks, &old_a);
  put_ok(f->base, ks, &old_b);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, &new_a, on_done, &r), KEDGE_OK);
  run_for(f->base, 200); /* the writer takes it and waits for the lock (5 s at most) */
  assert_int_equal(kedge_keystore_put(ks, &new_b, on_done, &r), KEDGE_OK);
  run_for(f->base, 20);
  kedge_keystore_close(ks);
  assert_int_equal(undone, 2);
  assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
  /* The writer goes on (the fixture's handle keeps it): this put commits after the held batch. */
  put_ok(f->base, f->ks, &other);
  assert_int_equal(r.calls, 0);
  assert_int_equal(rows_of(f, new_a.kedge_id) + rows_of(f, new_b.kedge_id), 0);
  /* and from the file alone, reopened */
  kedge_keystore_close(f->ks);
  f->ks = open_store(f, f->base, &f->mk, NULL);
  assert_int_equal(get_one(f->base, f->ks, old_a.kedge_id, &got), KEDGE_OK);
  assert_same(&old_a, &got);
  assert_int_equal(get_one(f->base, f->ks, old_b.kedge_id, &got), KEDGE_OK);
  assert_same(&old_b, &got);
  assert_int_equal(get_one(f->base, f->ks, new_a.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, new_b.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, other.kedge_id, NULL), KEDGE_OK);
  OPENSSL_cleanse(&got, sizeof(got));
}

/* A put committed whose callback has not run when its handle closes (the loop stopped first):
 * a delete of its Kedge ID goes behind it. `last`: the handle is the file's last, so the writer
 * stops at close and the delete is done when close returns; otherwise the writer, still shared,
 * does it. The put had replaced the SUPI's previous key (as with Redis: docs/keystore.md), so
 * the SUPI has none. */
static void close_after_commit(fixture_t *f, bool last, const char *supi)
{
  int undone = 0;
  kedge_keystore_options_t o = {.put_undone = count_undone, .put_undone_arg = &undone};
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
  kedge_keystore_record_t old, rec;
  make_rec(&old, supi, 60000);
  make_rec(&rec, supi, 60000);
  put_ok(f->base, ks, &old);
  if (last) {
    kedge_keystore_close(f->ks);
    f->ks = NULL;
  }
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
  /* committed, the loop not run: the callback waits */
  for (int i = 0; i < 2000 && rows_of(f, rec.kedge_id) == 0; i++)
    usleep(5000);
  assert_int_equal(rows_of(f, rec.kedge_id), 1);
  kedge_keystore_close(ks);
  assert_int_equal(undone, 1);
  for (int i = 0; !last && i < 2000 && rows_of(f, rec.kedge_id) == 1; i++)
    usleep(5000);
  assert_int_equal(rows_of(f, rec.kedge_id), 0);
  char where[64];
  snprintf(where, sizeof(where), "supi = '%s'", supi);
  assert_int_equal(count_rows(f, where), 0);
  run_for(f->base, 50);
  assert_int_equal(r.calls, 0);
  if (last)
    f->ks = open_store(f, f->base, &f->mk, NULL);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, old.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
}

static void test_sqlite_close_undoes_committed_put(void **state)
{
  close_after_commit(*state, false, "imsi-001010000000054");
  close_after_commit(*state, true, "imsi-001010000000055");
}

/* Closing at any point of a run of puts (before, while and after the writer commits them, the
 * close racing the writer thread: the ASan build checks the hand-over): afterwards exactly the
 * puts whose callbacks said KEDGE_OK are in the file, and every other one was counted. */
static void test_sqlite_close_mid_writes(void **state)
{
  fixture_t *f = *state;
  enum { N = 200 };
  kedge_keystore_record_t *recs = calloc(N, sizeof(*recs));
  result_t *r = calloc(N, sizeof(*r));
  assert_non_null(recs);
  assert_non_null(r);
  for (int round = 0; round < 12; round++) {
    int undone = 0;
    kedge_keystore_options_t o = {.put_undone = count_undone, .put_undone_arg = &undone};
    kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
    memset(r, 0, N * sizeof(*r));
    for (int i = 0; i < N; i++) {
      char supi[32];
      snprintf(supi, sizeof(supi), "imsi-00101%010d", 500000 + round * N + i);
      make_rec(&recs[i], supi, 60000);
      assert_int_equal(kedge_keystore_put(ks, &recs[i], on_done, &r[i]), KEDGE_OK);
    }
    run_for(f->base, round);
    kedge_keystore_close(ks);
    /* queued behind everything the closed handle left to the writer, undos included */
    kedge_keystore_record_t barrier;
    make_rec(&barrier, "imsi-001010000000056", 60000);
    put_ok(f->base, f->ks, &barrier);
    int confirmed = 0;
    for (int i = 0; i < N; i++) {
      assert_true(r[i].calls <= 1);
      bool ok = r[i].calls == 1 && r[i].err == KEDGE_OK;
      assert_int_equal(rows_of(f, recs[i].kedge_id), ok);
      confirmed += ok;
    }
    assert_int_equal(confirmed + undone, N);
  }
  OPENSSL_cleanse(recs, N * sizeof(*recs));
  free(recs);
  free(r);
}

/* memory: the same contract (issue 17). Its calls run at once under the table's lock, so a put
 * is applied before its callback runs: a handle closed in between (the AUSF's worker_fini
 * after sbi.limits.shutdown_grace) must not leave it applied, since its caller never hears it
 * succeed. As with SQLite it had replaced the SUPI's previous key, so the SUPI has none. The
 * undo deletes only the record that put wrote (its sealed value, which carries a fresh nonce):
 * a later put for the SUPI through another handle, even of the same Kedge ID, stays. */
static void test_memory_close_undoes_unanswered_put(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  kedge_keystore_options_t o = {.put_undone = count_undone, .put_undone_arg = &undone};
  kedge_keystore_t *ks = open_store(f, f->base, &f->mk, &o);
  kedge_keystore_record_t old, rec, got;
  make_rec(&old, "imsi-001010000000061", 60000);
  make_rec(&rec, old.supi, 60000);
  put_ok(f->base, ks, &old);
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
  kedge_keystore_close(ks); /* the loop not run: its callback waits */
  assert_int_equal(undone, 1);
  run_for(f->base, 20);
  assert_int_equal(r.calls, 0);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, old.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  r.calls = 0;
  assert_int_equal(kedge_keystore_delete_supi(f->ks, old.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);

  /* A handle on a loop that never runs: its puts stay unanswered until it closes. Meanwhile the
   * fixture's handle stores a newer key for one SUPI and the same Kedge ID again for the other. */
  struct event_base *idle = event_base_new();
  assert_non_null(idle);
  undone = 0;
  ks = open_store(f, idle, &f->mk, &o);
  kedge_keystore_record_t a, a_newer, b;
  make_rec(&a, "imsi-001010000000062", 60000);
  make_rec(&a_newer, a.supi, 60000);
  make_rec(&b, "imsi-001010000000063", 60000);
  memset(&r, 0, sizeof(r));
  assert_int_equal(kedge_keystore_put(ks, &a, on_done, &r), KEDGE_OK);
  assert_int_equal(kedge_keystore_put(ks, &b, on_done, &r), KEDGE_OK);
  put_ok(f->base, f->ks, &a_newer);
  put_ok(f->base, f->ks, &b); /* sealed again: another nonce, another stored value */
  kedge_keystore_close(ks);
  assert_int_equal(undone, 2);
  assert_int_equal(r.calls, 0);
  event_base_free(idle);
  assert_int_equal(get_one(f->base, f->ks, a.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, a_newer.kedge_id, &got), KEDGE_OK);
  assert_same(&a_newer, &got);
  assert_int_equal(get_one(f->base, f->ks, b.kedge_id, &got), KEDGE_OK);
  assert_same(&b, &got);
  OPENSSL_cleanse(&got, sizeof(got));
}

#define BOTH(t)                                                                                    \
  cmocka_unit_test_setup_teardown(t, setup_memory, teardown),                                      \
      cmocka_unit_test_setup_teardown(t, setup_sqlite, teardown)

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_uris),
      cmocka_unit_test(test_sqlite_bad_path),
      BOTH(test_round_trip),
      BOTH(test_replace_removes_old),
      BOTH(test_unknown_and_malformed),
      BOTH(test_expiry_and_purge),
      BOTH(test_periodic_purge),
      BOTH(test_other_master_key),
      BOTH(test_delete_supi),
      BOTH(test_delete_key),
      BOTH(test_one_record_per_supi),
      BOTH(test_many_at_once),
      BOTH(test_max_pending),
      BOTH(test_close_with_calls_outstanding),
      BOTH(test_close_from_callback),
      BOTH(test_two_loops_share),
      cmocka_unit_test_setup_teardown(test_sqlite_sealed_at_rest, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_committed_before_callback, setup_sqlite,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_swapped_ciphertext, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_failed_put_in_batch, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_locked_wal_read_off_loop, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_get_answered_in_one_pass, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_get_chain_lets_loop_poll, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_loop_read_sees_other_handles, setup_sqlite,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_two_processes_create, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_close_drops_uncommitted_puts, setup_sqlite,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_close_undoes_committed_put, setup_sqlite,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sqlite_close_mid_writes, setup_sqlite, teardown),
      cmocka_unit_test_setup_teardown(test_memory_close_undoes_unanswered_put, setup_memory,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
