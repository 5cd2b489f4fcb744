/* The key store's Redis backend against a real redis-server (Debian's, started by the test on
 * 127.0.0.1, tests/util/redis.h): round trip and replacement, PXAT expiry done by Redis,
 * sealing (the value and an RDB dump hold no key), another master key, the atomic Lua
 * replacement under concurrent puts from two connections, the EVAL fallback after SCRIPT
 * FLUSH, DB selection, Redis down (fast UNAVAILABLE, then reconnection by itself), a stalled
 * Redis (TIMEOUT, then recovery), AUTH and ACL users, and closing with calls in flight. */
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "kedge/keystore.h"
#include "redis.h"
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
  if (!err)
    r->rec = *rec;
}

static void deadline_hit(evutil_socket_t fd, short what, void *arg)
{
  *(int *)arg = 1;
}

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

static void run_for(struct event_base *base, int ms)
{
  struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  event_base_loopexit(base, &tv);
  event_base_dispatch(base);
}

static int64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_rec(kedge_keystore_record_t *rec, const char *supi, int64_t ttl_ms)
{
  memset(rec, 0, sizeof(*rec));
  kedge_id_t id;
  memset(&id, 0, sizeof(id));
  strcpy(id.rid, "12");
  assert_int_equal(RAND_bytes(id.tid, KEDGE_TID_LEN), 1);
  assert_int_equal(kedge_plmn_parse("001", "01", &id.home), KEDGE_OK);
  assert_int_equal(kedge_id_format(&id, rec->kedge_id), KEDGE_OK);
  snprintf(rec->supi, sizeof(rec->supi), "%s", supi);
  assert_int_equal(RAND_bytes(rec->kedge, KEDGE_KEY_LEN), 1);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  rec->expiry_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + ttl_ms;
}

static kedge_err_t put_one(struct event_base *base, kedge_keystore_t *ks,
                           const kedge_keystore_record_t *rec)
{
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, rec, on_done, &r), KEDGE_OK);
  assert_int_equal(r.calls, 0);
  wait_calls(base, &r.calls, 1);
  return r.err;
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

/* A command on the test's own connection. */
static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  redisReply *reply = redisvCommand(c, fmt, ap);
  va_end(ap);
  assert_non_null(reply);
  return reply;
}

static long long cmd_int(redisContext *c, const char *fmt, const char *arg)
{
  redisReply *reply = cmd(c, fmt, arg);
  assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
  long long v = reply->integer;
  freeReplyObject(reply);
  return v;
}

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The key holds a delete's tombstone ("!" and a time in ms, lib/store/redis.c), expiring
 * within 10 s of the end of the fixture's key_lifetime_ms from now; returns its time. */
static long long assert_tombstone(redisContext *c, const char *prefix, const char *arg)
{
  char key[400];
  snprintf(key, sizeof(key), "%s%s", prefix, arg);
  redisReply *reply = cmd(c, "GET %s", key);
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  assert_true(reply->len > 1 && reply->str[0] == '!');
  char *end = NULL;
  long long t = strtoll(reply->str + 1, &end, 10);
  assert_true(*end == '\0' && t > 1700000000000LL);
  freeReplyObject(reply);
  long long at = cmd_int(c, "PEXPIRETIME %s", key), want = wall_ms() + 3600 * 1000;
  assert_true(at > want - 10000 && at <= want);
  return t;
}

/* ---- fixture ---- */

#define PASSWORD "kedge-test-requirepass"

typedef struct fixture {
  char dir[64];
  kedge_test_redis_t redis;
  char uri[64];
  struct event_base *base;
  kedge_master_key_t mk;
  kedge_keystore_options_t opts;
  kedge_keystore_t *ks;
  redisContext *c;
} fixture_t;

static kedge_keystore_t *open_store(fixture_t *f, const char *uri, const kedge_master_key_t *mk)
{
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  kedge_err_t err = kedge_keystore_open(uri, mk, f->base, &f->opts, &ks, why, sizeof(why));
  if (err)
    fprintf(stderr, "open %s: %s\n", uri, why);
  assert_int_equal(err, KEDGE_OK);
  assert_string_equal(kedge_keystore_backend(ks), "redis");
  return ks;
}

static int setup_with(void **state, const char *password)
{
  fixture_t *f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  *state = f;
  snprintf(f->dir, sizeof(f->dir), "/tmp/kedge-test-keystore-redis-XXXXXX");
  if (!mkdtemp(f->dir) || kedge_test_redis_start(&f->redis, f->dir, password) != 0)
    return -1;
  snprintf(f->uri, sizeof(f->uri), "redis://127.0.0.1:%d", f->redis.port);
  f->base = event_base_new();
  if (!f->base || RAND_bytes(f->mk.key, sizeof(f->mk.key)) != 1)
    return -1;
  /* short times keep the test fast; the defaults are 1 s, 100 ms to 5 s */
  f->opts.op_timeout_ms = 400;
  f->opts.connect_timeout_ms = 400;
  f->opts.reconnect_min_ms = 50;
  f->opts.reconnect_max_ms = 400;
  f->opts.key_lifetime_ms = 3600 * 1000; /* the tombstones' (assert_tombstone) */
  f->opts.redis_password = password;
  char why[256] = "";
  if (kedge_keystore_open(f->uri, &f->mk, f->base, &f->opts, &f->ks, why, sizeof(why))) {
    fprintf(stderr, "open %s: %s\n", f->uri, why);
    return -1;
  }
  f->c = kedge_test_redis_connect(&f->redis);
  return f->c ? 0 : -1;
}

static int setup(void **state)
{
  return setup_with(state, NULL);
}

static int setup_auth(void **state)
{
  return setup_with(state, PASSWORD);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static int teardown(void **state)
{
  fixture_t *f = *state;
  if (!f)
    return 0;
  kedge_keystore_close(f->ks);
  if (f->base)
    event_base_free(f->base);
  redisFree(f->c);
  kedge_test_redis_stop(&f->redis);
  nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* ---- tests ---- */

static void test_round_trip_and_replace(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t first, second, got;
  make_rec(&first, "imsi-001010000000001", 60000);
  make_rec(&second, "imsi-001010000000001", 60000);
  assert_int_equal(put_one(f->base, f->ks, &first), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, first.kedge_id, &got), KEDGE_OK);
  assert_same(&first, &got);
  assert_int_equal(put_one(f->base, f->ks, &second), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, first.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, second.kedge_id, &got), KEDGE_OK);
  assert_same(&second, &got);
  /* in Redis: the old record is gone, the SUPI maps to the new ID, both expire at PXAT */
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", first.kedge_id), 0);
  redisReply *reply = cmd(f->c, "GET kedge:supi:%s", second.supi);
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  assert_string_equal(reply->str, second.kedge_id);
  freeReplyObject(reply);
  assert_true(cmd_int(f->c, "PEXPIRETIME kedge:kid:%s", second.kedge_id) == second.expiry_ms);
  assert_true(cmd_int(f->c, "PEXPIRETIME kedge:supi:%s", second.supi) == second.expiry_ms);
  /* unknown */
  kedge_keystore_record_t unknown;
  make_rec(&unknown, "imsi-001010000000002", 60000);
  assert_int_equal(get_one(f->base, f->ks, unknown.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  /* delete_key of the replaced ID: the current key stays */
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_key(f->ks, first.supi, first.kedge_id, on_done, &r),
                   KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, second.kedge_id, NULL), KEDGE_OK);
  r.calls = 0;
  /* delete */
  assert_int_equal(kedge_keystore_delete_supi(f->ks, second.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, second.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", second.kedge_id), 0);
  assert_tombstone(f->c, "kedge:supi:", second.supi); /* test_late_put_refused */
  assert_int_equal(kedge_keystore_delete_supi(f->ks, second.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 2);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  /* purge: Redis does it (PXAT) */
  assert_int_equal(kedge_keystore_purge(f->ks, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 3);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(kedge_keystore_pending(f->ks), 0);
}

static int count_write_watch(const struct event_base *base, const struct event *ev, void *arg)
{
  if ((event_get_events(ev) & EV_WRITE) && event_pending(ev, EV_WRITE, NULL))
    ++*(int *)arg;
  return 0;
}

/* The commands asked in one loop pass leave at the end of that pass, without the socket's
 * write event (hiredis's own libevent adapter armed it for every batch: an epoll_ctl(2) and a
 * loop pass more; redis.c "the connection on the loop"), and every answer comes back, also for
 * a batch larger than what a socket takes at once. */
static void test_pass_written_without_write_event(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000001", 60000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  enum { N = 8000 }; /* below max_pending (10,000) */
  result_t *r = calloc(N, sizeof(*r));
  assert_non_null(r);
  for (int i = 0; i < N; i++)
    assert_int_equal(kedge_keystore_get(f->ks, rec.kedge_id, on_got, &r[i]), KEDGE_OK);
  int watching = 0;
  event_base_foreach_event(f->base, count_write_watch, &watching);
  assert_int_equal(watching, 0);
  int late = 0, done = 0;
  struct event *deadline = evtimer_new(f->base, deadline_hit, &late);
  struct timeval tv = {.tv_sec = 10};
  evtimer_add(deadline, &tv);
  while (done < N && !late) {
    event_base_loop(f->base, EVLOOP_ONCE);
    for (done = 0; done < N && r[done].calls == 1; done++)
      ;
  }
  event_free(deadline);
  for (int i = 0; i < N; i++) {
    assert_int_equal(r[i].calls, 1);
    assert_int_equal(r[i].err, KEDGE_OK);
    assert_same(&rec, &r[i].rec);
  }
  OPENSSL_cleanse(r, N * sizeof(*r));
  free(r);
  assert_int_equal(kedge_keystore_pending(f->ks), 0);
}

static void test_expiry_by_redis(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000003", 300);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);
  run_for(f->base, 450);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  /* gone from Redis itself, both keys */
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", rec.kedge_id), 0);
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:supi:%s", rec.supi), 0);
  /* already expired when put: never returned */
  make_rec(&rec, "imsi-001010000000004", -1000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
}

static bool file_contains(const char *path, const void *needle, size_t len)
{
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
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

/* A Redis dump alone reveals no key: neither the value nor dump.rdb holds the Kedge octets
 * (RDB compression is off in the fixture, so the search sees the bytes as stored). */
static void test_sealed_in_redis(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000005", 60000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  redisReply *reply = cmd(f->c, "GET kedge:kid:%s", rec.kedge_id);
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  assert_int_equal(reply->len, 18 + strlen(rec.supi) + 61);
  assert_null(memmem(reply->str, reply->len, rec.kedge, 16));
  assert_non_null(memmem(reply->str, reply->len, rec.supi, strlen(rec.supi)));
  freeReplyObject(reply);
  reply = cmd(f->c, "SAVE");
  assert_int_not_equal(reply->type, REDIS_REPLY_ERROR);
  freeReplyObject(reply);
  char path[200];
  snprintf(path, sizeof(path), "%s/dump.rdb", f->dir);
  assert_true(file_contains(path, rec.kedge_id, strlen(rec.kedge_id)));
  assert_false(file_contains(path, rec.kedge, 16));
  /* another master key: refused at open, with one line (the key-check record the first open
   * wrote, issue 11) */
  kedge_master_key_t other;
  assert_int_equal(RAND_bytes(other.key, sizeof(other.key)), 1);
  kedge_keystore_t *ks2 = NULL;
  char why[256] = "";
  assert_int_equal(kedge_keystore_open(f->uri, &other, f->base, &f->opts, &ks2, why, sizeof(why)),
                   KEDGE_ERR_MAC_FAILURE);
  assert_null(ks2);
  assert_non_null(strstr(why, "wrong master key?"));
  reply = cmd(f->c, "GET kedge:key-check");
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  assert_null(memmem(reply->str, reply->len, "kedge key check", 15)); /* sealed */
  freeReplyObject(reply);
  /* without the record (a store of an older kedge) it opens, writes its own, and the keys
   * sealed under the first key are absent to it */
  reply = cmd(f->c, "DEL kedge:key-check");
  freeReplyObject(reply);
  ks2 = open_store(f, f->uri, &other);
  assert_int_equal(get_one(f->base, ks2, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  kedge_keystore_close(ks2);
  /* a value moved to another Kedge ID does not open either (additional data = Kedge ID) */
  kedge_keystore_record_t moved;
  make_rec(&moved, "imsi-001010000000005", 60000);
  reply = cmd(f->c, "COPY kedge:kid:%s kedge:kid:%s", rec.kedge_id, moved.kedge_id);
  assert_int_equal(reply->type, REDIS_REPLY_INTEGER);
  freeReplyObject(reply);
  assert_int_equal(get_one(f->base, f->ks, moved.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);
  /* and garbage under a kedge key is absent, not a crash */
  reply = cmd(f->c, "SET kedge:kid:%s garbage", moved.kedge_id);
  freeReplyObject(reply);
  assert_int_equal(get_one(f->base, f->ks, moved.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
}

/* Two connections put keys for one SUPI concurrently: Redis interleaves their scripts, and
 * since each replacement is one script, exactly one record is left, the one the SUPI maps to. */
static void test_atomic_replacement(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_t *ks2 = open_store(f, f->uri, &f->mk);
  enum { N = 300 };
  static kedge_keystore_record_t recs[N];
  result_t r = {0};
  for (int i = 0; i < N; i++) {
    make_rec(&recs[i], "imsi-001010000000006", 60000);
    assert_int_equal(kedge_keystore_put(i % 2 ? ks2 : f->ks, &recs[i], on_done, &r), KEDGE_OK);
  }
  wait_calls(f->base, &r.calls, N);
  assert_int_equal(r.err, KEDGE_OK);
  redisReply *keys = cmd(f->c, "KEYS kedge:kid:*");
  assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
  assert_int_equal(keys->elements, 1);
  redisReply *map = cmd(f->c, "GET kedge:supi:%s", recs[0].supi);
  assert_int_equal(map->type, REDIS_REPLY_STRING);
  assert_string_equal(keys->element[0]->str + strlen("kedge:kid:"), map->str);
  int found = -1;
  for (int i = 0; i < N; i++)
    if (strcmp(recs[i].kedge_id, map->str) == 0)
      found = i;
  assert_true(found >= 0);
  freeReplyObject(keys);
  freeReplyObject(map);
  kedge_keystore_record_t got;
  assert_int_equal(get_one(f->base, ks2, recs[found].kedge_id, &got), KEDGE_OK);
  assert_same(&recs[found], &got);
  kedge_keystore_close(ks2);
  OPENSSL_cleanse(recs, sizeof(recs));
}

/* After a Redis restart or SCRIPT FLUSH the script cache is empty: EVALSHA says NOSCRIPT and
 * the store falls back to EVAL. */
static void test_noscript_fallback(void **state)
{
  fixture_t *f = *state;
  redisReply *reply = cmd(f->c, "SCRIPT FLUSH");
  freeReplyObject(reply);
  kedge_keystore_record_t a, b;
  make_rec(&a, "imsi-001010000000007", 60000);
  make_rec(&b, "imsi-001010000000007", 60000);
  assert_int_equal(put_one(f->base, f->ks, &a), KEDGE_OK);
  assert_int_equal(put_one(f->base, f->ks, &b), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, a.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, b.kedge_id, NULL), KEDGE_OK);
  reply = cmd(f->c, "SCRIPT FLUSH");
  freeReplyObject(reply);
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_supi(f->ks, b.supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, b.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
}

static void test_select_db(void **state)
{
  fixture_t *f = *state;
  char uri[80];
  snprintf(uri, sizeof(uri), "%s/3", f->uri);
  kedge_keystore_t *ks3 = open_store(f, uri, &f->mk);
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000008", 60000);
  assert_int_equal(put_one(f->base, ks3, &rec), KEDGE_OK);
  assert_int_equal(get_one(f->base, ks3, rec.kedge_id, NULL), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", rec.kedge_id), 0);
  freeReplyObject(cmd(f->c, "SELECT 3"));
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", rec.kedge_id), 1);
  freeReplyObject(cmd(f->c, "SELECT 0"));
  kedge_keystore_close(ks3);
  /* a database Redis does not have: refused at open */
  snprintf(uri, sizeof(uri), "%s/99", f->uri);
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  assert_int_equal(kedge_keystore_open(uri, &f->mk, f->base, &f->opts, &ks, why, sizeof(why)),
                   KEDGE_ERR_CONFIG);
  assert_non_null(strstr(why, "SELECT"));
}

/* Redis goes away: calls fail fast with UNAVAILABLE (the AUSF's 503); it comes back on the
 * same port: the store reconnects by itself. */
static void test_down_then_back(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000009", 60000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  redisFree(f->c);
  f->c = NULL;
  kedge_test_redis_stop(&f->redis);
  /* the first call may be the one that finds the connection closed */
  int64_t t0 = mono_ms();
  kedge_err_t err = get_one(f->base, f->ks, rec.kedge_id, NULL);
  assert_int_equal(err, KEDGE_ERR_UNAVAILABLE);
  assert_true(mono_ms() - t0 < 300);
  for (int i = 0; i < 20; i++) {
    t0 = mono_ms();
    assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_ERR_UNAVAILABLE);
    assert_true(mono_ms() - t0 < 300); /* fast, not the op timeout */
    run_for(f->base, 20);
  }
  assert_int_equal(kedge_test_redis_restart(&f->redis), 0);
  f->c = kedge_test_redis_connect(&f->redis);
  assert_non_null(f->c);
  /* back within a few back-off periods (max 400 ms here) */
  t0 = mono_ms();
  while ((err = put_one(f->base, f->ks, &rec)) == KEDGE_ERR_UNAVAILABLE && mono_ms() - t0 < 5000)
    run_for(f->base, 50);
  assert_int_equal(err, KEDGE_OK);
  kedge_keystore_record_t got;
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, &got), KEDGE_OK);
  assert_same(&rec, &got);
}

/* A stalled Redis (SIGSTOP): a call times out, the connection is dropped so later calls fail
 * fast; once Redis runs again the store is back by itself. */
static void test_stalled_then_back(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000010", 60000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);
  int64_t t0 = mono_ms();
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_TIMEOUT);
  int64_t took = mono_ms() - t0;
  assert_true(took >= 350 && took < 2000); /* op_timeout_ms 400 */
  run_for(f->base, 10);
  t0 = mono_ms();
  kedge_err_t err = get_one(f->base, f->ks, rec.kedge_id, NULL);
  /* dropped: UNAVAILABLE at once, or (if a reconnect is in progress) within connect timeout */
  assert_true(err == KEDGE_ERR_UNAVAILABLE);
  assert_true(mono_ms() - t0 < 1000);
  assert_int_equal(kill(f->redis.pid, SIGCONT), 0);
  t0 = mono_ms();
  while ((err = get_one(f->base, f->ks, rec.kedge_id, NULL)) != KEDGE_OK && mono_ms() - t0 < 5000)
    run_for(f->base, 50);
  assert_int_equal(err, KEDGE_OK);
}

static void count_undone(void *arg)
{
  (*(int *)arg)++;
}

/* Issue 17: a put the caller was told failed (timeout, or its connection dropped) but that a
 * stalled Redis applies when it resumes would leave a Kedge the AUSF said it did not store (503
 * KEY_STORE_UNAVAILABLE). The handle writes a delete of that Kedge ID behind each such put on
 * the same connection: once Redis has run the puts (the SUPI's old key is gone), their keys are
 * absent too. */
static void test_stalled_put_undone(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  f->opts.put_undone = count_undone;
  f->opts.put_undone_arg = &undone;
  kedge_keystore_t *ks = open_store(f, f->uri, &f->mk);
  kedge_keystore_record_t old, late, other;
  make_rec(&old, "imsi-001010000000011", 60000);
  make_rec(&late, "imsi-001010000000011", 60000);
  make_rec(&other, "imsi-001010000000012", 60000);
  assert_int_equal(put_one(f->base, ks, &old), KEDGE_OK);
  run_for(f->base, 20); /* the handle's connection is up */

  assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);
  result_t r1 = {0}, r2 = {0};
  assert_int_equal(kedge_keystore_put(ks, &late, on_done, &r1), KEDGE_OK);
  assert_int_equal(kedge_keystore_put(ks, &other, on_done, &r2), KEDGE_OK);
  wait_calls(f->base, &r1.calls, 1);
  wait_calls(f->base, &r2.calls, 1);
  assert_int_equal(r1.err, KEDGE_ERR_TIMEOUT);
  /* the second timed out too, or went with the dropped connection */
  assert_true(r2.err == KEDGE_ERR_TIMEOUT || r2.err == KEDGE_ERR_UNAVAILABLE);
  assert_int_equal(undone, 2);
  assert_int_equal(kill(f->redis.pid, SIGCONT), 0);

  /* Redis runs the dropped connection's commands in one go: the puts (which delete the SUPI's
   * old key) and the deletes behind them; wait for the first to show */
  char old_key[300], late_key[300], other_key[300];
  snprintf(old_key, sizeof(old_key), "kedge:kid:%s", old.kedge_id);
  snprintf(late_key, sizeof(late_key), "kedge:kid:%s", late.kedge_id);
  snprintf(other_key, sizeof(other_key), "kedge:kid:%s", other.kedge_id);
  int64_t t0 = mono_ms();
  while (cmd_int(f->c, "EXISTS %s", old_key) == 1 && mono_ms() - t0 < 5000)
    run_for(f->base, 20);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", old_key), 0); /* the late put was applied */
  assert_int_equal(cmd_int(f->c, "EXISTS %s", late_key), 0);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", other_key), 0);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", "kedge:supi:imsi-001010000000011"), 0);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", "kedge:supi:imsi-001010000000012"), 0);

  /* back by itself; a put that is answered is kept */
  kedge_err_t err;
  t0 = mono_ms();
  while ((err = put_one(f->base, ks, &late)) != KEDGE_OK && mono_ms() - t0 < 5000)
    run_for(f->base, 50);
  assert_int_equal(err, KEDGE_OK);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", late_key), 1);
  assert_int_equal(undone, 2);
  kedge_keystore_close(ks);
}

/* The clients connected to the test's Redis (CLIENT LIST, one line each). */
static long long clients(redisContext *c)
{
  redisReply *reply = cmd(c, "CLIENT LIST");
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  long long n = 0;
  for (size_t i = 0; i < reply->len; i++)
    n += reply->str[i] == '\n';
  freeReplyObject(reply);
  return n;
}

/* Issue 17: a put still out when its handle is closed (the AUSF's worker_fini after
 * sbi.limits.shutdown_grace: it answers the confirmation 503 KEY_STORE_UNAVAILABLE) is never
 * confirmed, yet a stalled Redis applies it when it resumes, replacing the SUPI's key with one
 * the SEAF never heard of. Its compensating delete goes behind it before the close. */
static void test_close_put_undone(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  f->opts.put_undone = count_undone;
  f->opts.put_undone_arg = &undone;
  const long long before = clients(f->c);
  kedge_keystore_t *ks = open_store(f, f->uri, &f->mk);
  kedge_keystore_record_t old, late;
  make_rec(&old, "imsi-001010000000021", 60000);
  make_rec(&late, "imsi-001010000000021", 60000);
  assert_int_equal(put_one(f->base, ks, &old), KEDGE_OK);
  run_for(f->base, 20);

  assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);
  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, &late, on_done, &r), KEDGE_OK);
  run_for(f->base, 50); /* written to the socket; op_timeout_ms (400) not yet reached */
  kedge_keystore_close(ks);
  assert_int_equal(r.calls, 0); /* close calls nobody back */
  assert_int_equal(undone, 1);
  assert_int_equal(kill(f->redis.pid, SIGCONT), 0);

  /* Redis runs what the closed connection sent, then sees it closed: once it is gone from
   * CLIENT LIST, the put (which deleted the SUPI's old key) and its delete have both run */
  int64_t t0 = mono_ms();
  while (clients(f->c) > before && mono_ms() - t0 < 5000)
    run_for(f->base, 20);
  assert_int_equal(clients(f->c), before);
  char old_key[300], late_key[300];
  snprintf(old_key, sizeof(old_key), "kedge:kid:%s", old.kedge_id);
  snprintf(late_key, sizeof(late_key), "kedge:kid:%s", late.kedge_id);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", old_key), 0); /* the late put was applied */
  assert_int_equal(cmd_int(f->c, "EXISTS %s", late_key), 0);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", "kedge:supi:imsi-001010000000021"), 0);
}

/* The calls of one command in Redis' INFO commandstats (0 if it never ran). */
static long long command_calls(redisContext *c, const char *command)
{
  redisReply *reply = cmd(c, "INFO commandstats");
  assert_int_equal(reply->type, REDIS_REPLY_STRING);
  char key[64];
  snprintf(key, sizeof(key), "cmdstat_%s:calls=", command);
  const char *p = strstr(reply->str, key);
  long long n = p ? atoll(p + strlen(key)) : 0;
  freeReplyObject(reply);
  return n;
}

/* Issue 17: the compensating deletes of a dropped connection are counted when they leave
 * hiredis' buffer, not when they are queued. Redis stalls (SIGSTOP) while the handle has more
 * puts out than the sockets between them hold (3 MB), so when they time out only the first
 * deletes behind them can be written: only those are counted, and the warning says how many
 * could not be sent. */
static void test_stalled_undo_counts_what_is_sent(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  f->opts.put_undone = count_undone;
  f->opts.put_undone_arg = &undone;
  enum { N = 3000 };
  f->opts.max_pending = N;
  kedge_keystore_t *ks = open_store(f, f->uri, &f->mk);
  run_for(f->base, 20); /* the handle's connection is up */
  freeReplyObject(cmd(f->c, "CONFIG RESETSTAT"));

  assert_int_equal(kill(f->redis.pid, SIGSTOP), 0);
  /* long SUPIs (NAI, 240 characters): about 1 KB a put, 3 MB in all */
  kedge_keystore_record_t rec;
  result_t r = {0};
  for (int i = 0; i < N; i++) {
    char supi[KEDGE_SUPI_MAX + 1];
    snprintf(supi, sizeof(supi), "nai-%05d%0*d@undo.example.org", i, 220, 0);
    make_rec(&rec, supi, 60000);
    assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
  }
  OPENSSL_cleanse(&rec, sizeof(rec));
  capture_start(); /* the warning of the dropped connection */
  wait_calls(f->base, &r.calls, N);
  char *log = capture_end();
  fputs(log, stderr);
  assert_true(r.err == KEDGE_ERR_TIMEOUT || r.err == KEDGE_ERR_UNAVAILABLE);
  const char *line = strstr(log, "put(s) not confirmed: ");
  assert_non_null(line);
  unsigned sent = 0, lost = 0, never = 0;
  assert_int_equal(sscanf(line,
                          "put(s) not confirmed: %u deleted behind (sent after the put, in case "
                          "Redis applies it later), %u whose delete could not be sent (if Redis "
                          "applies them, their keys stay until the SUPI's next key or their "
                          "expiry), %u not sent at all",
                          &sent, &lost, &never),
                   3);
  assert_int_equal(sent + lost + never, N);
  assert_int_equal(undone, sent);
  assert_true(sent < N && lost > 0); /* the sockets filled up behind the puts */
  free(log);

  /* What was sent runs: the dropped connection's socket stays open, half closed, until Redis
   * has read it all. Every put that left ran, and every delete that left removed its put. */
  assert_int_equal(kill(f->redis.pid, SIGCONT), 0);
  int64_t t0 = mono_ms();
  while (command_calls(f->c, "evalsha") + command_calls(f->c, "eval") <
             (long long)(2 * sent + lost) &&
         mono_ms() - t0 < 10000)
    run_for(f->base, 20);
  run_for(f->base, 50);
  assert_true(command_calls(f->c, "evalsha") == (long long)(sent + lost));
  assert_true(command_calls(f->c, "eval") == (long long)sent);
  redisReply *keys = cmd(f->c, "KEYS kedge:supi:nai-*"); /* the puts whose delete was lost */
  assert_int_equal(keys->type, REDIS_REPLY_ARRAY);
  assert_int_equal(keys->elements, lost);
  freeReplyObject(keys);
  kedge_keystore_close(ks);
  assert_int_equal(undone, sent); /* nothing more at close: the connection was given up */
}

/* Issue 17: a compensating delete that runs late must not delete a newer key of the same Kedge
 * ID. Put A is written and applied, but its answer not yet read, when the same Kedge ID is stored
 * again (B, another Kedge) through a fresh connection; then A's handle closes, and the delete
 * behind A runs after B. It deletes only A's record (compare and delete): B stays, readable. */
static void test_late_undo_keeps_newer_put(void **state)
{
  fixture_t *f = *state;
  int undone = 0;
  f->opts.put_undone = count_undone;
  f->opts.put_undone_arg = &undone;
  freeReplyObject(cmd(f->c, "CONFIG RESETSTAT"));
  const long long before = clients(f->c);
  kedge_keystore_t *ks = open_store(f, f->uri, &f->mk);
  struct event_base *other = event_base_new();
  assert_non_null(other);
  kedge_keystore_t *ks2 = NULL;
  char why[256] = "";
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, other, &f->opts, &ks2, why, sizeof(why)),
                   KEDGE_OK);
  kedge_keystore_record_t a, b, got;
  make_rec(&a, "imsi-001010000000031", 60000);
  b = a;
  assert_int_equal(RAND_bytes(b.kedge, KEDGE_KEY_LEN), 1);
  run_for(f->base, 20); /* A's connection is up */

  result_t r = {0};
  assert_int_equal(kedge_keystore_put(ks, &a, on_done, &r), KEDGE_OK);
  event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK); /* written; the answer not read */
  char kid_key[300];
  snprintf(kid_key, sizeof(kid_key), "kedge:kid:%s", a.kedge_id);
  int64_t t0 = mono_ms();
  while (cmd_int(f->c, "EXISTS %s", kid_key) == 0 && mono_ms() - t0 < 5000)
    usleep(1000);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", kid_key), 1);
  assert_int_equal(put_one(other, ks2, &b), KEDGE_OK);
  kedge_keystore_close(ks); /* A was never answered: its delete goes behind it */
  assert_int_equal(r.calls, 0);
  assert_int_equal(undone, 1);
  t0 = mono_ms();
  while (clients(f->c) > before + 1 && mono_ms() - t0 < 5000)
    run_for(f->base, 20);
  assert_int_equal(clients(f->c), before + 1);      /* ks2's */
  assert_int_equal(command_calls(f->c, "eval"), 1); /* the delete ran */
  assert_int_equal(get_one(f->base, f->ks, b.kedge_id, &got), KEDGE_OK);
  assert_same(&b, &got);
  assert_int_equal(cmd_int(f->c, "EXISTS %s", "kedge:supi:imsi-001010000000031"), 1);
  kedge_keystore_close(ks2);
  event_base_free(other);
  OPENSSL_cleanse(&got, sizeof(got));
}

/* Issue 17: a put can reach Redis long after it was issued, sent on a connection that was
 * dropped (a stall) and applied when Redis resumes, behind what was issued after it. Such a
 * put must neither replace a newer key nor bring back a key deleted after it was issued. The
 * time a put was issued is its record's created_ms (kedge_keystore_put: the caller's wall
 * clock, the AUSF's at the confirmation), so a late put is one whose created_ms is older than
 * what Redis already holds: each case below puts one through the store's own script. A put not
 * applied is answered as one applied and then replaced or deleted (KEDGE_OK). */
static void test_late_put_refused(void **state)
{
  fixture_t *f = *state;
  const char *supi = "imsi-001010000000041";
  kedge_keystore_record_t newer, late, got;
  int64_t now = wall_ms();

  /* a newer key of the SUPI (another Kedge ID) stays */
  make_rec(&newer, supi, 60000);
  newer.created_ms = now;
  make_rec(&late, supi, 60000);
  late.created_ms = now - 5000;
  assert_int_equal(put_one(f->base, f->ks, &newer), KEDGE_OK);
  capture_start();
  assert_int_equal(put_one(f->base, f->ks, &late), KEDGE_OK);
  char *log = capture_end();
  assert_non_null(strstr(log, "put not applied"));
  assert_non_null(strstr(log, late.kedge_id));
  free(log);
  assert_int_equal(get_one(f->base, f->ks, late.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, newer.kedge_id, &got), KEDGE_OK);
  assert_same(&newer, &got);
  /* a newer record of the same Kedge ID stays (another Kedge, as a retry would seal) */
  kedge_keystore_record_t again = newer;
  assert_int_equal(RAND_bytes(again.kedge, KEDGE_KEY_LEN), 1);
  again.created_ms = now - 1;
  assert_int_equal(put_one(f->base, f->ks, &again), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, newer.kedge_id, &got), KEDGE_OK);
  assert_same(&newer, &got);
  /* ... and one issued in the same millisecond or later replaces it */
  again.created_ms = now;
  assert_int_equal(put_one(f->base, f->ks, &again), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, newer.kedge_id, &got), KEDGE_OK);
  assert_same(&again, &got);

  /* a revocation (delete_supi) wins against every put issued before it */
  result_t r = {0};
  assert_int_equal(kedge_keystore_delete_supi(f->ks, supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 1);
  assert_int_equal(r.err, KEDGE_OK);
  long long revoked = assert_tombstone(f->c, "kedge:supi:", supi);
  assert_true(revoked >= now);
  make_rec(&late, supi, 60000);
  late.created_ms = revoked - 1;
  assert_int_equal(put_one(f->base, f->ks, &late), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, late.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, again.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", late.kedge_id), 0);
  assert_tombstone(f->c, "kedge:supi:", supi);
  /* a second revocation finds no key, and keeps the later of the two times */
  assert_int_equal(kedge_keystore_delete_supi(f->ks, supi, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 2);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  assert_true(assert_tombstone(f->c, "kedge:supi:", supi) >= revoked);
  /* a put issued after it (the UE's next authentication) is stored */
  kedge_keystore_record_t next;
  make_rec(&next, supi, 60000);
  assert_int_equal(put_one(f->base, f->ks, &next), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, next.kedge_id, &got), KEDGE_OK);
  assert_same(&next, &got);

  /* delete_key of the SUPI's key: neither that Kedge ID nor an older key comes back, a newer
   * one is stored */
  assert_int_equal(get_one(f->base, f->ks, next.kedge_id, &got), KEDGE_OK);
  assert_int_equal(kedge_keystore_delete_key(f->ks, supi, next.kedge_id, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 3);
  assert_int_equal(r.err, KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, next.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_tombstone(f->c, "kedge:kid:", next.kedge_id);
  assert_true(assert_tombstone(f->c, "kedge:supi:", supi) == got.created_ms);
  next.created_ms = got.created_ms + 1000; /* even one issued later: that key was revoked */
  assert_int_equal(put_one(f->base, f->ks, &next), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, next.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  make_rec(&late, supi, 60000);
  late.created_ms = got.created_ms - 1;
  assert_int_equal(put_one(f->base, f->ks, &late), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, late.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  kedge_keystore_record_t third;
  make_rec(&third, supi, 60000);
  assert_int_equal(put_one(f->base, f->ks, &third), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, third.kedge_id, NULL), KEDGE_OK);

  /* delete_key of a Kedge ID whose put has not arrived yet: NOT_FOUND, the SUPI's key stays,
   * and the put, when it comes, is not applied */
  make_rec(&late, supi, 60000);
  assert_int_equal(kedge_keystore_delete_key(f->ks, supi, late.kedge_id, on_done, &r), KEDGE_OK);
  wait_calls(f->base, &r.calls, 4);
  assert_int_equal(r.err, KEDGE_ERR_NOT_FOUND);
  assert_tombstone(f->c, "kedge:kid:", late.kedge_id);
  assert_int_equal(get_one(f->base, f->ks, third.kedge_id, NULL), KEDGE_OK);
  late.created_ms = wall_ms() + 1000;
  assert_int_equal(put_one(f->base, f->ks, &late), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, late.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, f->ks, third.kedge_id, NULL), KEDGE_OK);
  OPENSSL_cleanse(&got, sizeof(got));
}

/* The records and mappings an older kedge wrote (no tombstones) read and are replaced as
 * before; a value under the SUPI's current Kedge ID that is not a record (no creation time to
 * compare) is replaced too. */
static void test_old_records_replaced(void **state)
{
  fixture_t *f = *state;
  const char *supi = "imsi-001010000000042";
  kedge_keystore_record_t old, next, got;
  make_rec(&old, supi, 60000);
  assert_int_equal(put_one(f->base, f->ks, &old), KEDGE_OK);
  freeReplyObject(cmd(f->c, "SET kedge:kid:%s garbage", old.kedge_id));
  make_rec(&next, supi, 60000);
  assert_int_equal(put_one(f->base, f->ks, &next), KEDGE_OK);
  assert_int_equal(cmd_int(f->c, "EXISTS kedge:kid:%s", old.kedge_id), 0);
  assert_int_equal(get_one(f->base, f->ks, next.kedge_id, &got), KEDGE_OK);
  assert_same(&next, &got);
  OPENSSL_cleanse(&got, sizeof(got));
}

static void test_unreachable_at_open(void **state)
{
  fixture_t *f = *state;
  /* the fixture's port, after stopping it: nothing listens there */
  kedge_test_redis_stop(&f->redis);
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  int64_t t0 = mono_ms();
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, f->base, &f->opts, &ks, why, sizeof(why)),
                   KEDGE_ERR_UNAVAILABLE);
  assert_true(mono_ms() - t0 < 2000);
  assert_null(ks);
  assert_non_null(strstr(why, "cannot connect"));
  assert_null(strchr(why, '\n'));
}

/* Closing with calls in flight, and from inside a callback: no callback afterwards, nothing
 * leaks (ASan build), the fixture's handle goes on. */
static void close_in_callback(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  kedge_keystore_t **ks = arg;
  kedge_keystore_close(*ks);
  *ks = NULL;
}

static void test_close_with_calls_in_flight(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_t *ks = open_store(f, f->uri, &f->mk);
  result_t r = {0};
  kedge_keystore_record_t rec;
  for (int i = 0; i < 50; i++) {
    char supi[32];
    snprintf(supi, sizeof(supi), "imsi-00101%010d", 500 + i);
    make_rec(&rec, supi, 60000);
    assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
    assert_int_equal(kedge_keystore_get(ks, rec.kedge_id, on_got, &r), KEDGE_OK);
  }
  kedge_keystore_close(ks);
  run_for(f->base, 100);
  assert_int_equal(r.calls, 0);
  ks = open_store(f, f->uri, &f->mk);
  assert_int_equal(kedge_keystore_get(ks, rec.kedge_id, close_in_callback, &ks), KEDGE_OK);
  assert_int_equal(kedge_keystore_get(ks, rec.kedge_id, on_got, &r), KEDGE_OK);
  assert_int_equal(kedge_keystore_put(ks, &rec, on_done, &r), KEDGE_OK);
  for (int i = 0; i < 100 && ks; i++)
    run_for(f->base, 10);
  assert_null(ks);
  run_for(f->base, 100);
  assert_int_equal(r.calls, 0);
  /* the fixture's handle still answers; the put the close cut off went out with its
   * compensating delete behind it (test_close_put_undone), so its key is not there */
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
}

/* requirepass: the fixture's handle authenticates (also on its asynchronous connection);
 * without the password, or with a wrong one, open says why. */
static void test_auth(void **state)
{
  fixture_t *f = *state;
  kedge_keystore_record_t rec;
  make_rec(&rec, "imsi-001010000000011", 60000);
  assert_int_equal(put_one(f->base, f->ks, &rec), KEDGE_OK);
  assert_int_equal(get_one(f->base, f->ks, rec.kedge_id, NULL), KEDGE_OK);

  kedge_keystore_options_t o = f->opts;
  kedge_keystore_t *ks = NULL;
  char why[256] = "";
  o.redis_password = NULL;
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, f->base, &o, &ks, why, sizeof(why)),
                   KEDGE_ERR_FORBIDDEN);
  assert_null(ks);
  assert_non_null(strstr(why, "AUTH"));
  assert_null(strchr(why, '\n'));
  o.redis_password = "not-the-password";
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, f->base, &o, &ks, why, sizeof(why)),
                   KEDGE_ERR_FORBIDDEN);
  assert_non_null(strstr(why, "AUTH"));
  assert_non_null(strstr(why, "WRONGPASS"));
  assert_null(strstr(why, "not-the-password"));

  /* an ACL user with just what the key store needs, on the kedge: keys only */
  redisReply *reply =
      cmd(f->c, "ACL SETUSER ausf on >ausf-pass ~kedge:* resetchannels -@all +get +set +del "
                "+evalsha +eval +script|load +ping +select +info");
  assert_int_not_equal(reply->type, REDIS_REPLY_ERROR);
  freeReplyObject(reply);
  o.redis_user = "ausf";
  o.redis_password = "ausf-pass";
  ks = open_store(f, f->uri, &f->mk);
  kedge_keystore_close(ks);
  ks = NULL;
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, f->base, &o, &ks, why, sizeof(why)),
                   KEDGE_OK);
  kedge_keystore_record_t second;
  make_rec(&second, rec.supi, 60000);
  assert_int_equal(put_one(f->base, ks, &second), KEDGE_OK);
  assert_int_equal(get_one(f->base, ks, rec.kedge_id, NULL), KEDGE_ERR_NOT_FOUND);
  assert_int_equal(get_one(f->base, ks, second.kedge_id, NULL), KEDGE_OK);
  kedge_keystore_close(ks);
  ks = NULL;
  o.redis_user = "nobody";
  assert_int_equal(kedge_keystore_open(f->uri, &f->mk, f->base, &o, &ks, why, sizeof(why)),
                   KEDGE_ERR_FORBIDDEN);
  assert_non_null(strstr(why, "AUTH as nobody"));
  assert_null(strstr(why, "ausf-pass"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_round_trip_and_replace, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pass_written_without_write_event, setup, teardown),
      cmocka_unit_test_setup_teardown(test_expiry_by_redis, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sealed_in_redis, setup, teardown),
      cmocka_unit_test_setup_teardown(test_atomic_replacement, setup, teardown),
      cmocka_unit_test_setup_teardown(test_noscript_fallback, setup, teardown),
      cmocka_unit_test_setup_teardown(test_select_db, setup, teardown),
      cmocka_unit_test_setup_teardown(test_down_then_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stalled_then_back, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stalled_put_undone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_put_undone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stalled_undo_counts_what_is_sent, setup, teardown),
      cmocka_unit_test_setup_teardown(test_late_undo_keeps_newer_put, setup, teardown),
      cmocka_unit_test_setup_teardown(test_late_put_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_old_records_replaced, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unreachable_at_open, setup, teardown),
      cmocka_unit_test_setup_teardown(test_close_with_calls_in_flight, setup, teardown),
      cmocka_unit_test_setup_teardown(test_auth, setup_auth, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
