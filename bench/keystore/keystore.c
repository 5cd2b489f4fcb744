/* bench/keystore: puts/s and gets/s of the AUSF's key store (kedge/keystore.h), each printed
 * beside a peer measured in the same run, with the ratio. Nothing is asserted.
 *
 *   sqlite: kedge's group-committed puts (WAL, synchronous=FULL: durable) against plain
 *           SQLite doing the same DELETE + INSERT with one transaction (one fsync) per put;
 *           kedge's gets (read on the handle's loop, lib/store/sqlite.c) against plain
 *           SELECTs by primary key on the calling thread. Then bytes per key of the file.
 *   redis:  kedge's puts (one EVALSHA of the replacement script each) and gets on one
 *           pipelined connection against `redis-benchmark -t set,get -q` on the same
 *           redis-server (started here on 127.0.0.1, no persistence). Then memory per key.
 *
 * Curves (env KEYSTORE_CURVE="10000,100000,..."): get rate, p99 and bytes per key (on disk and
 * in RSS) against the number of stored keys, for each backend; the gets of each size run
 * KEDGE_BENCH_RUNS times on the store populated once (the point: their median):
 *   sqlite: each size in a file of its own, bulk-loaded from empty into kedge's own schema
 *           (made by kedge_keystore_open) with the rows kedge_keystore_put would write, in
 *           Kedge-TID order with kedge's indexes built afterwards (sqlite_bulk); then opened
 *           through kedge_keystore_open (WAL, FULL) for the gets, which unseal every key.
 *           10M keys: a 2.7 GB file and about 1 GB of peak RSS; BENCH_DIR must be a disk
 *           (/var/tmp), not tmpfs (RAM).
 *   redis:  through kedge_keystore_put (the Lua replacement script; about 20k puts/s here), up
 *           to KEYSTORE_CURVE_REDIS_MAX keys (default 1,000,000: 10M would take ~10 minutes).
 *   Kedge-TIDs are SHA-256(i) so that a get can name any stored key without keeping a list.
 *
 * With KEDGE_BENCH_OUT: the result file keystore.json (bench/report/result.h).
 * Usage: bench-keystore [SECONDS]   (each kedge measurement runs SECONDS, default 1)
 *        env BENCH_DIR: where the SQLite files go (default: the current directory, so that
 *        fsync reaches a disk; /tmp may be tmpfs). WINDOW: calls in flight (default 256). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sqlite3.h>

#include "kedge/keystore.h"
#include "kedge/log.h"
#include "kedge/seal.h"
#include "kedge/work.h"
#include "result.h"

#define ID_LEN 96 /* the Kedge IDs made here are 83 characters */

static double seconds = 1.0;
static int window = 256;
static bench_result_t result;

/* CPU seconds of this process (every thread: the loop, the reader and writer threads). */
static double cpu_s(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds of another process so far, from /proc (utime + stime). */
static double proc_cpu_s(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  unsigned long ut = 0, st = 0;
  if (f) {
    if (fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
      ut = st = 0;
    fclose(f);
  }
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* VmRSS of a process in bytes (0: unknown). */
static long rss_bytes(pid_t pid)
{
  char path[64], line[128];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  long kb = 0;
  while (f && fgets(line, sizeof(line), f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb * 1024;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t epoch_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the load: WINDOW calls in flight on one handle, for `seconds` ---- */

typedef struct load {
  struct event_base *base;
  kedge_keystore_t *ks;
  bool put;
  double end;
  long issued, done, errors;
  long next_supi;
  char (*ids)[ID_LEN]; /* puts record their IDs here; gets pick from them */
  long n_ids, cap_ids;
  unsigned rnd;
  double cpu_us_per_call; /* of this process, over the last run_load */
} load_t;

static void issue(load_t *l);

static void put_done(kedge_err_t err, void *arg)
{
  load_t *l = arg;
  l->done++;
  l->errors += err != KEDGE_OK;
  if (now_s() < l->end)
    issue(l);
  else if (l->done == l->issued)
    event_base_loopbreak(l->base);
}

static void get_done(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  put_done(err, arg);
}

static void make_record(load_t *l, kedge_keystore_record_t *rec)
{
  kedge_id_t id;
  memset(&id, 0, sizeof(id));
  memset(rec, 0, sizeof(*rec));
  strcpy(id.rid, "0");
  RAND_bytes(id.tid, KEDGE_TID_LEN);
  kedge_plmn_parse("001", "01", &id.home);
  kedge_id_format(&id, rec->kedge_id);
  snprintf(rec->supi, sizeof(rec->supi), "imsi-00101%010ld", l->next_supi++);
  RAND_bytes(rec->kedge, KEDGE_KEY_LEN);
  rec->expiry_ms = epoch_ms() + 3600 * 1000;
}

static void issue(load_t *l)
{
  kedge_err_t err;
  if (l->put) {
    kedge_keystore_record_t rec;
    make_record(l, &rec);
    if (l->n_ids < l->cap_ids && strlen(rec.kedge_id) < ID_LEN)
      memcpy(l->ids[l->n_ids++], rec.kedge_id, strlen(rec.kedge_id) + 1);
    err = kedge_keystore_put(l->ks, &rec, put_done, l);
    OPENSSL_cleanse(&rec, sizeof(rec));
  } else {
    l->rnd = l->rnd * 1103515245u + 12345u;
    err = kedge_keystore_get(l->ks, l->ids[(l->rnd >> 8) % (unsigned long)l->n_ids], get_done, l);
  }
  if (err) {
    fprintf(stderr, "bench-keystore: call refused: %s\n", kedge_strerror(err));
    l->errors++;
    return;
  }
  l->issued++;
}

/* Calls per second. */
static double run_load(load_t *l, bool put)
{
  l->put = put;
  l->issued = l->done = l->errors = 0;
  double start = now_s(), cpu0 = cpu_s();
  l->end = start + seconds;
  for (int i = 0; i < window; i++)
    issue(l);
  event_base_dispatch(l->base);
  double took = now_s() - start;
  l->cpu_us_per_call = l->done ? (cpu_s() - cpu0) / l->done * 1e6 : 0;
  if (l->errors)
    printf("  (%ld of %ld calls failed)\n", l->errors, l->done);
  return l->done / took;
}

static void ratio(const char *what, double kedge, const char *peer_what, double peer)
{
  printf("  %-44s %10.0f /s\n", what, kedge);
  printf("  %-44s %10.0f /s   kedge/peer %.2f\n", peer_what, peer, peer > 0 ? kedge / peer : 0);
}

/* ---- sqlite ---- */

static const char peer_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE edge_key (tid BLOB PRIMARY KEY, rid TEXT NOT NULL, home TEXT NOT NULL,"
    " kedge BLOB NOT NULL, supi TEXT NOT NULL, expiry INTEGER NOT NULL,"
    " created INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX edge_key_supi ON edge_key (supi);"
    "CREATE INDEX edge_key_expiry ON edge_key (expiry);";

/* Plain SQLite, one transaction per put: what the store would do without group commit. */
static double peer_sqlite_puts(const char *path)
{
  sqlite3 *db;
  sqlite3_stmt *del, *ins;
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, peer_schema, NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "DELETE FROM edge_key WHERE supi = ?1", -1, &del, NULL) ||
      sqlite3_prepare_v2(db,
                         "INSERT OR REPLACE INTO edge_key VALUES (?1, '0', '001001', ?2, ?3, "
                         "?4, ?5)",
                         -1, &ins, NULL)) {
    fprintf(stderr, "bench-keystore: peer sqlite: %s\n", sqlite3_errmsg(db));
    return 0;
  }
  uint8_t tid[32], sealed[61];
  char supi[32];
  long n = 0;
  double start = now_s(), end = start + seconds;
  while (now_s() < end) {
    RAND_bytes(tid, sizeof(tid));
    RAND_bytes(sealed, sizeof(sealed));
    snprintf(supi, sizeof(supi), "imsi-00101%010ld", n);
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_bind_text(del, 1, supi, -1, SQLITE_STATIC);
    sqlite3_step(del);
    sqlite3_reset(del);
    sqlite3_bind_blob(ins, 1, tid, 32, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 2, sealed, 61, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, supi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, epoch_ms() + 3600000);
    sqlite3_bind_int64(ins, 5, epoch_ms());
    sqlite3_step(ins);
    sqlite3_reset(ins);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    n++;
  }
  double rate = n / (now_s() - start);
  sqlite3_finalize(del);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  return rate;
}

/* Plain SELECTs by primary key on this thread, on kedge's own file; *cpu_us: CPU per SELECT. */
static double peer_sqlite_gets(const char *path, load_t *l, double *cpu_us)
{
  sqlite3 *db;
  sqlite3_stmt *st;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT rid, home, kedge, supi, expiry, created FROM edge_key "
                         "WHERE tid = ?1",
                         -1, &st, NULL)) {
    fprintf(stderr, "bench-keystore: peer sqlite: %s\n", sqlite3_errmsg(db));
    return 0;
  }
  long n = 0, missing = 0;
  double start = now_s(), end = start + seconds, cpu0 = cpu_s();
  while (now_s() < end) {
    l->rnd = l->rnd * 1103515245u + 12345u;
    const char *text = l->ids[(l->rnd >> 8) % (unsigned long)l->n_ids];
    kedge_id_t id;
    kedge_id_parse(text, strlen(text), &id, NULL); /* as kedge does for every get */
    sqlite3_bind_blob(st, 1, id.tid, 32, SQLITE_STATIC);
    missing += sqlite3_step(st) != SQLITE_ROW;
    sqlite3_reset(st);
    n++;
  }
  double rate = n / (now_s() - start);
  *cpu_us = n ? (cpu_s() - cpu0) / n * 1e6 : 0;
  if (missing)
    printf("  (peer: %ld of %ld not found)\n", missing, n);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return rate;
}

static long file_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  return remove(path);
}

static void bench_sqlite(load_t *l, const kedge_master_key_t *mk)
{
  const char *parent = getenv("BENCH_DIR");
  char dir[512], path[600], peer[600], uri[620], why[256];
  snprintf(dir, sizeof(dir), "%s/bench-keystore-XXXXXX", parent && *parent ? parent : ".");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "bench-keystore: mkdtemp %s: %s\n", dir, strerror(errno));
    return;
  }
  struct statfs fs;
  bool tmpfs = statfs(dir, &fs) == 0 && fs.f_type == 0x01021994; /* TMPFS_MAGIC */
  snprintf(path, sizeof(path), "%s/keys.db", dir);
  snprintf(peer, sizeof(peer), "%s/peer.db", dir);
  snprintf(uri, sizeof(uri), "sqlite:%s", path);
  printf("sqlite: %s%s, %d calls in flight, %.1f s each\n", path,
         tmpfs ? " (tmpfs: fsync costs nothing here; set BENCH_DIR to a disk)" : "", window,
         seconds);
  kedge_keystore_t *ks = NULL;
  if (kedge_keystore_open(uri, mk, l->base, NULL, &ks, why, sizeof(why))) {
    fprintf(stderr, "bench-keystore: %s\n", why);
    return;
  }
  l->ks = ks;
  l->n_ids = 0;
  double puts = run_load(l, true);
  long keys = l->next_supi;
  double peer_puts = peer_sqlite_puts(peer);
  ratio("kedge put (group commit, durable)", puts, "peer: SQLite, one transaction per put",
        peer_puts);
  double put_cpu = l->cpu_us_per_call;
  double gets = run_load(l, false), get_cpu = l->cpu_us_per_call, peer_cpu = 0;
  double peer_gets = peer_sqlite_gets(path, l, &peer_cpu);
  ratio("kedge get (read on the loop, answered in its pass)", gets,
        "peer: SQLite SELECT on the calling thread", peer_gets);
  printf("  CPU per call: put %.1f us, get %.1f us (peer SELECT %.1f us)\n", put_cpu, get_cpu,
         peer_cpu);
  bench_figure(&result, "keystore.sqlite_put_rate",
               "SQLite key store puts/s (group commit, durable)", "/s", true, puts,
               "SQLite, one transaction per put", peer_puts, BENCH_NO_TARGET, 0);
  bench_figure(&result, "keystore.sqlite_get_rate", "SQLite key store gets/s (on the loop)", "/s",
               true, gets, "SQLite SELECT on the calling thread", peer_gets, BENCH_NO_TARGET, 0);
  bench_figure(&result, "keystore.sqlite_put_cpu_us_per_put",
               "SQLite key store CPU per put (all threads)", "us", false, put_cpu, NULL, 0,
               BENCH_NO_TARGET, 0);
  bench_figure(&result, "keystore.sqlite_get_cpu_us_per_get",
               "SQLite key store CPU per get (all threads, unseal included)", "us", false, get_cpu,
               "SQLite SELECT on the calling thread", peer_cpu, BENCH_NO_TARGET, 0);
  kedge_keystore_close(ks); /* the last handle: WAL checkpointed into the file */
  l->ks = NULL;
  char wal[620];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  long size = file_size(path) + file_size(wal);
  if (keys > 0) {
    printf("  footprint: %ld bytes for %ld keys: %.0f bytes per key\n", size, keys,
           (double)size / keys);
    bench_figure(&result, "keystore.sqlite_bytes_per_key", "SQLite key store file size per key",
                 "B", false, (double)size / keys, NULL, 0, BENCH_MAX, 300);
  }
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- redis ---- */

static pid_t redis_pid;

static int free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(sa);
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
    port = ntohs(sa.sin_port);
  if (fd >= 0)
    close(fd);
  return port;
}

static redisContext *redis_start(int *port)
{
  *port = free_port();
  char p[16];
  snprintf(p, sizeof(p), "%d", *port);
  pid_t parent = getpid();
  redis_pid = fork();
  if (redis_pid == 0) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
      _exit(127);
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, STDOUT_FILENO);
    execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--dir", "/tmp", "--daemonize", "no", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 500; i++) {
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", *port, tv);
    if (c && !c->err)
      return c;
    redisFree(c);
    struct timespec ts = {.tv_nsec = 20 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void redis_stop(void)
{
  if (redis_pid > 0) {
    kill(redis_pid, SIGTERM);
    waitpid(redis_pid, NULL, 0);
    redis_pid = 0;
  }
}

/* A numeric or dotted field of INFO, as text. */
static void info_field(redisContext *c, const char *section, const char *field, char *out,
                       size_t size)
{
  redisReply *reply = redisCommand(c, "INFO %s", section);
  const char *p;
  snprintf(out, size, "?");
  if (reply && reply->type == REDIS_REPLY_STRING && (p = strstr(reply->str, field)))
    snprintf(out, size, "%.*s", (int)strcspn(p + strlen(field), "\r\n"), p + strlen(field));
  freeReplyObject(reply);
}

static long long used_memory(redisContext *c)
{
  char v[32];
  info_field(c, "memory", "used_memory:", v, sizeof(v));
  return atoll(v);
}

/* `redis-benchmark ... -q` prints "SET: 101214.58 requests per second, p50=0.255 msec". */
static void redis_benchmark(int port, const char *extra, double *set, double *get)
{
  char cmd[256], line[512];
  snprintf(cmd, sizeof(cmd), "redis-benchmark -h 127.0.0.1 -p %d -t set,get -n 100000 -q %s", port,
           extra);
  *set = *get = 0;
  FILE *p = popen(cmd, "r");
  if (!p)
    return;
  while (fgets(line, sizeof(line), p)) {
    /* -q redraws progress with \r: the figure is after the last one */
    char *s = strrchr(line, '\r');
    s = s ? s + 1 : line;
    double v;
    if (sscanf(s, "SET: %lf", &v) == 1)
      *set = v;
    else if (sscanf(s, "GET: %lf", &v) == 1)
      *get = v;
  }
  pclose(p);
}

static void bench_redis(load_t *l, const kedge_master_key_t *mk)
{
  int port;
  redisContext *c = redis_start(&port);
  if (!c) {
    fprintf(stderr, "bench-keystore: cannot start redis-server (scripts/deps.sh)\n");
    redis_stop();
    return;
  }
  char uri[64], why[256];
  snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d", port);
  char version[32];
  info_field(c, "server", "redis_version:", version, sizeof(version));
  printf("redis: %s (redis-server %s), %d calls in flight on one connection, %.1f s each\n", uri,
         version, window, seconds);
  kedge_keystore_t *ks = NULL;
  if (kedge_keystore_open(uri, mk, l->base, NULL, &ks, why, sizeof(why))) {
    fprintf(stderr, "bench-keystore: %s\n", why);
    redisFree(c);
    redis_stop();
    return;
  }
  long long mem0 = used_memory(c);
  l->ks = ks;
  l->n_ids = 0;
  long supi0 = l->next_supi;
  double r0 = proc_cpu_s(redis_pid);
  double puts = run_load(l, true);
  long keys = l->next_supi - supi0;
  double put_cpu = l->cpu_us_per_call + (keys ? (proc_cpu_s(redis_pid) - r0) / keys * 1e6 : 0);
  long long mem1 = used_memory(c);
  r0 = proc_cpu_s(redis_pid);
  double gets = run_load(l, false);
  double get_cpu =
      l->cpu_us_per_call + (l->done ? (proc_cpu_s(redis_pid) - r0) / l->done * 1e6 : 0);
  long gets_done = l->done;
  kedge_keystore_close(ks);
  l->ks = NULL;
  double set50, get50, setp, getp;
  redis_benchmark(port, "", &set50, &get50);
  redis_benchmark(port, "-P 16", &setp, &getp);
  ratio("kedge put (EVALSHA replacement script)", puts, "peer: redis-benchmark SET, 50 clients",
        set50);
  printf("  %-44s %10.0f /s   kedge/peer %.2f\n", "peer: redis-benchmark SET -P 16", setp,
         setp > 0 ? puts / setp : 0);
  ratio("kedge get", gets, "peer: redis-benchmark GET, 50 clients", get50);
  printf("  %-44s %10.0f /s   kedge/peer %.2f\n", "peer: redis-benchmark GET -P 16", getp,
         getp > 0 ? gets / getp : 0);
  printf("  CPU per call (this process + redis-server): put %.1f us, get %.1f us\n", put_cpu,
         get_cpu);
  bench_figure(&result, "keystore.redis_put_rate", "Redis key store puts/s (EVALSHA)", "/s", true,
               puts, "redis-benchmark SET, 50 clients", set50, BENCH_NO_TARGET, 0);
  bench_figure(&result, "keystore.redis_get_rate", "Redis key store gets/s, one connection", "/s",
               true, gets, "redis-benchmark GET -P 16", getp, BENCH_NO_TARGET, 0);
  bench_figure(&result, "keystore.redis_put_cpu_us_per_put",
               "Redis key store CPU per put (this process + redis-server)", "us", false, put_cpu,
               NULL, 0, BENCH_NO_TARGET, 0);
  if (gets_done > 0)
    bench_figure(&result, "keystore.redis_get_cpu_us_per_get",
                 "Redis key store CPU per get (this process + redis-server)", "us", false, get_cpu,
                 NULL, 0, BENCH_NO_TARGET, 0);
  if (keys > 0) {
    printf("  memory: %.0f bytes per key (used_memory, %ld keys: record + SUPI mapping)\n",
           (double)(mem1 - mem0) / keys, keys);
    bench_figure(&result, "keystore.redis_bytes_per_key", "Redis used_memory per key", "B", false,
                 (double)(mem1 - mem0) / keys, NULL, 0, BENCH_NO_TARGET, 0);
  }
  redisFree(c);
  redis_stop();
}

/* ---- curves: get rate, p99 and bytes per key against the number of stored keys ---- */

static kedge_plmn_t curve_home;

/* The i-th key of the curves: Kedge-TID = SHA-256("kedge-bench-curve" || i), routing
 * indicator 0, home 001/01. */
static void curve_key(long i, char text[KEDGE_ID_MAX + 1])
{
  kedge_id_t id;
  memset(&id, 0, sizeof(id));
  char in[64];
  int n = snprintf(in, sizeof(in), "kedge-bench-curve %ld", i);
  SHA256((const unsigned char *)in, (size_t)n, id.tid);
  strcpy(id.rid, "0");
  id.home = curve_home;
  if (kedge_id_format(&id, text) != KEDGE_OK)
    abort(); /* a programmer error: the parts above are valid */
}

typedef struct curve_load curve_load_t;
typedef struct probe {
  curve_load_t *cl;
  double start;
} probe_t;

struct curve_load {
  struct event_base *base;
  kedge_keystore_t *ks;
  long keys, issued, done, errors, next_put;
  double end;
  double *lat; /* seconds per get, up to cap_lat of them */
  long n_lat, cap_lat;
  uint64_t rnd;
};

static void curve_issue(curve_load_t *c, probe_t *p);

static void curve_got(kedge_err_t err, const kedge_keystore_record_t *rec, void *arg)
{
  probe_t *p = arg;
  curve_load_t *c = p->cl;
  double t = now_s();
  c->done++;
  c->errors += err != KEDGE_OK;
  if (c->n_lat < c->cap_lat)
    c->lat[c->n_lat++] = t - p->start;
  if (t < c->end)
    curve_issue(c, p);
  else if (c->done == c->issued)
    event_base_loopbreak(c->base);
}

static void curve_issue(curve_load_t *c, probe_t *p)
{
  char text[KEDGE_ID_MAX + 1];
  c->rnd = c->rnd * 6364136223846793005ULL + 1442695040888963407ULL;
  curve_key((long)((c->rnd >> 24) % (uint64_t)c->keys), text);
  p->start = now_s();
  if (kedge_keystore_get(c->ks, text, curve_got, p) != KEDGE_OK) {
    c->errors++;
    return;
  }
  c->issued++;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Gets of random stored keys, WINDOW in flight, for `seconds`: the rate; *p99_ms, *cpu_us (of
 * this process plus `other`, when not 0, per get). */
static double curve_gets(curve_load_t *c, pid_t other, double *p99_ms, double *cpu_us)
{
  probe_t *probes = calloc((size_t)window, sizeof(*probes));
  if (!probes)
    return 0;
  c->issued = c->done = c->errors = c->n_lat = 0;
  double start = now_s(), cpu0 = cpu_s(), other0 = other ? proc_cpu_s(other) : 0;
  c->end = start + seconds;
  for (int i = 0; i < window; i++) {
    probes[i].cl = c;
    curve_issue(c, &probes[i]);
  }
  if (c->issued)
    event_base_dispatch(c->base);
  double took = now_s() - start;
  double cpu = cpu_s() - cpu0 + (other ? proc_cpu_s(other) - other0 : 0);
  free(probes);
  qsort(c->lat, (size_t)c->n_lat, sizeof(double), cmp_double);
  *p99_ms = c->n_lat ? c->lat[(long)((c->n_lat - 1) * 0.99)] * 1e3 : 0;
  *cpu_us = c->done ? cpu / c->done * 1e6 : 0;
  if (c->errors)
    printf("    (%ld of %ld gets failed)\n", c->errors, c->done);
  return c->errors ? 0 : c->done / took;
}

/* One row of the bulk load before it is written: its Kedge-TID and its index i. */
typedef struct bulk_row {
  uint8_t tid[KEDGE_TID_LEN];
  uint32_t i;
} bulk_row_t;

static int cmp_tid(const void *a, const void *b)
{
  return memcmp(((const bulk_row_t *)a)->tid, ((const bulk_row_t *)b)->tid, KEDGE_TID_LEN);
}

/* The rows 0 .. keys-1 written straight into kedge's SQLite file (schema and key-check record
 * made by kedge_keystore_open before), as kedge_keystore_put would write them (sqlite.c's
 * INSERT: the same columns, Kedge sealed by kedge_seal() with the Kedge ID as associated data),
 * but fast: the rows sorted by Kedge-TID, the table's primary key, so that each INSERT appends
 * to the B-tree's last leaf instead of dirtying a random one; kedge's two indexes dropped first
 * and made again afterwards from their own CREATE statements in sqlite_master (SQLite sorts an
 * index it builds, again appends); no journal, no fsync (a bulk load, not the AUSF's durable
 * path). The file is then a plain kedge key store: the gets open it through
 * kedge_keystore_open and unseal every key they fetch. *cpu_s: this process's CPU time. */
#define BULK_TXN 1000000
static int sqlite_bulk(const char *path, const kedge_master_key_t *mk, long keys, double *cpu_s_)
{
  double cpu0 = cpu_s();
  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL, *ix = NULL;
  char *index_sql[8] = {NULL};
  int n_index = 0, rc = -1;
  bulk_row_t *rows = keys <= (long)UINT32_MAX ? malloc((size_t)keys * sizeof(*rows)) : NULL;
  if (!rows) {
    fprintf(stderr, "bench-keystore: bulk load: no memory for %ld rows\n", keys);
    return -1;
  }
  for (long i = 0; i < keys; i++) { /* curve_key()'s Kedge-TID, without formatting the ID */
    char in[64];
    int n = snprintf(in, sizeof(in), "kedge-bench-curve %ld", i);
    SHA256((const unsigned char *)in, (size_t)n, rows[i].tid);
    rows[i].i = (uint32_t)i;
  }
  qsort(rows, (size_t)keys, sizeof(*rows), cmp_tid);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(db,
                         "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                         "tbl_name = 'edge_key' AND sql IS NOT NULL",
                         -1, &ix, NULL) != SQLITE_OK)
    goto fail;
  char *drop[8] = {NULL};
  while (sqlite3_step(ix) == SQLITE_ROW && n_index < 8) {
    drop[n_index] = sqlite3_mprintf("DROP INDEX \"%w\"", (const char *)sqlite3_column_text(ix, 0));
    index_sql[n_index++] = sqlite3_mprintf("%s", (const char *)sqlite3_column_text(ix, 1));
  }
  sqlite3_finalize(ix); /* a table cannot change under a running SELECT of sqlite_master */
  ix = NULL;
  int e = SQLITE_OK;
  for (int k = 0; k < n_index; k++) {
    if (e == SQLITE_OK)
      e = drop[k] ? sqlite3_exec(db, drop[k], NULL, NULL, NULL) : SQLITE_NOMEM;
    sqlite3_free(drop[k]);
  }
  if (e != SQLITE_OK)
    goto fail;
  if (sqlite3_prepare_v2(db,
                         "INSERT INTO edge_key (tid, rid, home, kedge, supi, expiry, created) "
                         "VALUES (?1, '0', '001001', ?2, ?3, ?4, ?5)",
                         -1, &ins, NULL) != SQLITE_OK)
    goto fail;
  int64_t now = epoch_ms();
  for (long r = 0; r < keys; r++) {
    if (r % BULK_TXN == 0 && sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
      goto fail;
    char text[KEDGE_ID_MAX + 1], supi[32];
    kedge_id_t id;
    memset(&id, 0, sizeof(id));
    memcpy(id.tid, rows[r].tid, KEDGE_TID_LEN);
    strcpy(id.rid, "0");
    id.home = curve_home;
    uint8_t kedge[KEDGE_KEY_LEN], sealed[KEDGE_KEY_LEN + KEDGE_SEAL_OVERHEAD];
    size_t sealed_len = 0;
    if (kedge_id_format(&id, text) != KEDGE_OK || RAND_bytes(kedge, sizeof(kedge)) != 1 ||
        kedge_seal(mk, text, strlen(text), kedge, sizeof(kedge), sealed, &sealed_len) != KEDGE_OK)
      goto fail;
    OPENSSL_cleanse(kedge, sizeof(kedge));
    snprintf(supi, sizeof(supi), "imsi-00101%010lu", (unsigned long)rows[r].i);
    sqlite3_bind_blob(ins, 1, id.tid, KEDGE_TID_LEN, SQLITE_STATIC);
    sqlite3_bind_blob(ins, 2, sealed, (int)sealed_len, SQLITE_STATIC);
    sqlite3_bind_text(ins, 3, supi, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 4, now + 24 * 3600 * 1000LL);
    sqlite3_bind_int64(ins, 5, now);
    int step = sqlite3_step(ins);
    sqlite3_reset(ins);
    if (step != SQLITE_DONE)
      goto fail;
    if ((r % BULK_TXN == BULK_TXN - 1 || r == keys - 1) &&
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
      goto fail;
  }
  for (int k = 0; k < n_index; k++)
    if (!index_sql[k] || sqlite3_exec(db, index_sql[k], NULL, NULL, NULL) != SQLITE_OK)
      goto fail;
  rc = 0;
  goto out;
fail:
  fprintf(stderr, "bench-keystore: bulk load %s: %s\n", path, sqlite3_errmsg(db));
out:
  for (int k = 0; k < n_index; k++)
    sqlite3_free(index_sql[k]);
  sqlite3_finalize(ix);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  free(rows);
  *cpu_s_ = cpu_s() - cpu0;
  return rc;
}

static void put_stored(kedge_err_t err, void *arg);

/* Puts [next_put, keys) through kedge_keystore_put, `window` in flight. */
static void curve_put_next(curve_load_t *c)
{
  while (c->next_put < c->keys && c->issued - c->done < window) {
    kedge_keystore_record_t rec;
    memset(&rec, 0, sizeof(rec));
    curve_key(c->next_put, rec.kedge_id);
    snprintf(rec.supi, sizeof(rec.supi), "imsi-00101%010ld", c->next_put);
    RAND_bytes(rec.kedge, KEDGE_KEY_LEN);
    rec.expiry_ms = epoch_ms() + 24 * 3600 * 1000LL;
    kedge_err_t err = kedge_keystore_put(c->ks, &rec, put_stored, c);
    OPENSSL_cleanse(&rec, sizeof(rec));
    if (err) {
      c->errors++;
      c->next_put = c->keys;
      break;
    }
    c->issued++;
    c->next_put++;
  }
  if (c->issued == c->done)
    event_base_loopbreak(c->base);
}

static void put_stored(kedge_err_t err, void *arg)
{
  curve_load_t *c = arg;
  c->done++;
  c->errors += err != KEDGE_OK;
  curve_put_next(c);
}

static void curve_points(const char *backend, long keys, double rate, double p99, double cpu,
                         double disk_bytes, const char *disk_what, double rss_bytes_,
                         const char *rss_what)
{
  printf("  %-6s %9ld keys: %9.0f gets/s  p99 %7.2f ms  CPU %6.1f us/get  %s %5.0f B/key  %s %5.0f "
         "B/key\n",
         backend, keys, rate, p99, cpu, disk_what, disk_bytes / keys, rss_what, rss_bytes_ / keys);
  char series[96];
  bench_point(&result, "keystore.get_rate_vs_keys", "Key store gets/s vs stored keys",
              "stored keys", "gets/s", true, backend, keys, rate);
  bench_point(&result, "keystore.get_p99_vs_keys", "Key store get p99 vs stored keys",
              "stored keys", "p99 (ms)", true, backend, keys, p99);
  bench_point(&result, "keystore.get_cpu_vs_keys", "Key store CPU per get vs stored keys",
              "stored keys", "CPU us per get", true, backend, keys, cpu);
  snprintf(series, sizeof(series), "%s: %s", backend, disk_what);
  bench_point(&result, "keystore.bytes_per_key_vs_keys", "Bytes per stored key", "stored keys",
              "bytes per key", true, series, keys, disk_bytes / keys);
  snprintf(series, sizeof(series), "%s: %s", backend, rss_what);
  bench_point(&result, "keystore.bytes_per_key_vs_keys", "Bytes per stored key", "stored keys",
              "bytes per key", true, series, keys, rss_bytes_ / keys);
}

static int parse_sizes(const char *text, long *sizes, int max)
{
  int n = 0;
  for (const char *p = text; *p && n < max;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v <= 0 || (n && v <= sizes[n - 1])) {
      fprintf(stderr,
              "bench-keystore: KEYSTORE_CURVE: expected increasing sizes, as 10000,100000\n");
      return -1;
    }
    sizes[n++] = v;
    p = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return n;
}

static double median3(double *v, int n)
{
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return n ? v[n / 2] : 0;
}

/* Gets on the curve's store KEDGE_BENCH_RUNS times (they share the populated store): the
 * medians of the rate, p99 and CPU per get; each run printed. */
static double curve_gets_runs(curve_load_t *c, pid_t other, double *p99_ms, double *cpu_us)
{
  int runs = getenv("KEDGE_BENCH_RUNS") ? atoi(getenv("KEDGE_BENCH_RUNS")) : 1;
  runs = runs < 1 ? 1 : runs > 9 ? 9 : runs;
  double rate[9], p99[9], cpu[9];
  for (int r = 0; r < runs; r++) {
    rate[r] = curve_gets(c, other, &p99[r], &cpu[r]);
    if (runs > 1)
      printf("    (run %d: %.0f gets/s, p99 %.2f ms, CPU %.1f us/get)\n", r + 1, rate[r], p99[r],
             cpu[r]);
  }
  *p99_ms = median3(p99, runs);
  *cpu_us = median3(cpu, runs);
  return median3(rate, runs);
}

static double loadavg1(void)
{
  double l = 0;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1)
      l = 0;
    fclose(f);
  }
  return l;
}

/* Each size in a file of its own, bulk-loaded from empty (sqlite_bulk), measured, removed. */
static void curve_sqlite(const long *sizes, int n, const kedge_master_key_t *mk,
                         struct event_base *base)
{
  const char *parent = getenv("BENCH_DIR");
  char dir[512], path[600], uri[620], why[256];
  snprintf(dir, sizeof(dir), "%s/bench-keystore-curve-XXXXXX", parent && *parent ? parent : ".");
  if (!mkdtemp(dir)) {
    fprintf(stderr, "bench-keystore: mkdtemp %s: %s\n", dir, strerror(errno));
    return;
  }
  printf("curve, sqlite: %s, each size bulk-loaded in Kedge-TID order, gets with %d in flight for "
         "%.1f s per size and run\n",
         dir, window, seconds);
  curve_load_t c = {.base = base, .rnd = 42, .cap_lat = 4000000};
  c.lat = malloc((size_t)c.cap_lat * sizeof(double));
  double load_cpu_total = 0, load_rows_total = 0;
  for (int i = 0; i < n && c.lat; i++) {
    snprintf(path, sizeof(path), "%s/keys-%ld.db", dir, sizes[i]);
    snprintf(uri, sizeof(uri), "sqlite:%s", path);
    kedge_keystore_t *ks = NULL;
    /* kedge makes the schema and the key-check record */
    if (kedge_keystore_open(uri, mk, base, NULL, &ks, why, sizeof(why))) {
      fprintf(stderr, "bench-keystore: %s\n", why);
      break;
    }
    kedge_keystore_close(ks);
    double t0 = now_s(), load_cpu = 0, la0 = loadavg1();
    if (sqlite_bulk(path, mk, sizes[i], &load_cpu))
      break;
    double load_s = now_s() - t0;
    load_cpu_total += load_cpu;
    load_rows_total += (double)sizes[i];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("    (bulk load of %ld rows: %.1f s, %.1f s CPU = %.2f us per row, load average "
           "%.1f -> %.1f, peak RSS so far %ld MB)\n",
           sizes[i], load_s, load_cpu, load_cpu / (double)sizes[i] * 1e6, la0, loadavg1(),
           ru.ru_maxrss / 1024);
    long rss0 = rss_bytes(getpid());
    if (kedge_keystore_open(uri, mk, base, NULL, &ks, why, sizeof(why))) {
      fprintf(stderr, "bench-keystore: %s\n", why);
      break;
    }
    c.ks = ks;
    c.keys = sizes[i];
    double p99, cpu, rate = curve_gets_runs(&c, 0, &p99, &cpu);
    long rss = rss_bytes(getpid()) - rss0;
    kedge_keystore_close(ks);
    char wal[620];
    snprintf(wal, sizeof(wal), "%s-wal", path);
    curve_points("SQLite", sizes[i], rate, p99, cpu, (double)(file_size(path) + file_size(wal)),
                 "file", (double)(rss > 0 ? rss : 0), "RSS growth of the process");
    char note[256];
    snprintf(note, sizeof(note),
             "SQLite curve, %ld keys: bulk load %.1f s wall, %.1f s CPU (%.2f us per row), "
             "file %.0f MB, load average %.1f",
             sizes[i], load_s, load_cpu, load_cpu / (double)sizes[i] * 1e6,
             (double)file_size(path) / 1e6, loadavg1());
    bench_note(&result, note);
    remove(path);
    remove(wal);
  }
  if (load_rows_total > 0)
    bench_figure(&result, "keystore.curve_bulk_cpu_us_per_row",
                 "SQLite curve bulk load: CPU per row (seal, sort, insert, indexes)", "us", false,
                 load_cpu_total / load_rows_total * 1e6, NULL, 0, BENCH_NO_TARGET, 0);
  free(c.lat);
  nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void curve_redis(const long *sizes, int n, const kedge_master_key_t *mk,
                        struct event_base *base)
{
  long max =
      getenv("KEYSTORE_CURVE_REDIS_MAX") ? atol(getenv("KEYSTORE_CURVE_REDIS_MAX")) : 1000000;
  int port;
  redisContext *rc = redis_start(&port);
  char uri[64], why[256];
  kedge_keystore_t *ks = NULL;
  snprintf(uri, sizeof(uri), "redis://127.0.0.1:%d", port);
  if (!rc || kedge_keystore_open(uri, mk, base, NULL, &ks, why, sizeof(why))) {
    fprintf(stderr, "bench-keystore: curve, redis: %s\n", rc ? why : "cannot start redis-server");
    redisFree(rc);
    redis_stop();
    return;
  }
  printf("curve, redis: %s, populated through kedge_keystore_put (up to %ld keys), gets with %d "
         "in flight for %.1f s per size\n",
         uri, max, window, seconds);
  long long mem0 = used_memory(rc);
  long rss0 = rss_bytes(redis_pid);
  curve_load_t c = {.base = base, .ks = ks, .rnd = 43, .cap_lat = 4000000};
  c.lat = malloc((size_t)c.cap_lat * sizeof(double));
  for (int i = 0; i < n && c.lat && sizes[i] <= max; i++) {
    double t0 = now_s();
    c.keys = sizes[i];
    c.issued = c.done = c.errors = 0;
    curve_put_next(&c);
    if (c.issued)
      event_base_dispatch(base);
    if (c.errors) {
      fprintf(stderr, "bench-keystore: curve, redis: %ld puts failed\n", c.errors);
      break;
    }
    printf("    (%ld puts: %.1f s)\n", c.issued, now_s() - t0);
    double p99, cpu, rate = curve_gets_runs(&c, redis_pid, &p99, &cpu);
    curve_points("Redis", sizes[i], rate, p99, cpu, (double)(used_memory(rc) - mem0), "used_memory",
                 (double)(rss_bytes(redis_pid) - rss0), "RSS growth of redis-server");
  }
  free(c.lat);
  kedge_keystore_close(ks);
  redisFree(rc);
  redis_stop();
}

static void curves(const char *spec, const kedge_master_key_t *mk, struct event_base *base)
{
  long sizes[16];
  int n = parse_sizes(spec, sizes, 16);
  if (n <= 0)
    return;
  kedge_plmn_parse("001", "01", &curve_home);
  curve_sqlite(sizes, n, mk, base);
  printf("\n");
  curve_redis(sizes, n, mk, base);
}

int main(int argc, char **argv)
{
  if (argc > 1 && (seconds = atof(argv[1])) <= 0)
    seconds = 1;
  if (getenv("WINDOW") && atoi(getenv("WINDOW")) > 0)
    window = atoi(getenv("WINDOW"));
  kedge_log_init("bench-keystore", KEDGE_LOG_WARN, false);
  if (kedge_work_threads_init())
    return 1;
  kedge_master_key_t mk;
  RAND_bytes(mk.key, sizeof(mk.key));
  load_t l = {.base = event_base_new(), .cap_ids = 1000000, .rnd = 12345};
  l.ids = malloc((size_t)l.cap_ids * ID_LEN);
  if (!l.base || !l.ids)
    return 1;
  bench_result_init(&result, "keystore");
  bench_sqlite(&l, &mk);
  printf("\n");
  bench_redis(&l, &mk);
  free(l.ids);
  if (getenv("KEYSTORE_CURVE") && *getenv("KEYSTORE_CURVE")) {
    printf("\n");
    curves(getenv("KEYSTORE_CURVE"), &mk, l.base);
  }
  event_base_free(l.base);
  kedge_master_key_clear(&mk);
  return bench_result_write(&result) ? 1 : 0;
}
