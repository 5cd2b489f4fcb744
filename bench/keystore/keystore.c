/* bench/keystore: puts/s and gets/s of the AUSF's key store (kedge/keystore.h), each printed
 * beside a peer measured in the same run, with the ratio. Nothing is asserted.
 *
 *   sqlite: kedge's group-committed puts (WAL, synchronous=FULL: durable) against plain
 *           SQLite doing the same DELETE + INSERT with one transaction (one fsync) per put;
 *           kedge's gets (on a reader thread, completing on the loop) against plain SELECTs
 *           by primary key on the calling thread. Then bytes per key of the file.
 *   redis:  kedge's puts (one EVALSHA of the replacement script each) and gets on one
 *           pipelined connection against `redis-benchmark -t set,get -q` on the same
 *           redis-server (started here on 127.0.0.1, no persistence). Then memory per key.
 *
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
#include <sqlite3.h>

#include "kedge/keystore.h"
#include "kedge/log.h"
#include "kedge/work.h"

#define ID_LEN 96 /* the Kedge IDs made here are 83 characters */

static double seconds = 1.0;
static int window = 256;

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
  double start = now_s();
  l->end = start + seconds;
  for (int i = 0; i < window; i++)
    issue(l);
  event_base_dispatch(l->base);
  double took = now_s() - start;
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

/* Plain SELECTs by primary key on this thread, on kedge's own file. */
static double peer_sqlite_gets(const char *path, load_t *l)
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
  double start = now_s(), end = start + seconds;
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
  double gets = run_load(l, false);
  double peer_gets = peer_sqlite_gets(path, l);
  ratio("kedge get (reader thread, back on the loop)", gets,
        "peer: SQLite SELECT on the calling thread", peer_gets);
  kedge_keystore_close(ks); /* the last handle: WAL checkpointed into the file */
  l->ks = NULL;
  char wal[620];
  snprintf(wal, sizeof(wal), "%s-wal", path);
  long size = file_size(path) + file_size(wal);
  if (keys > 0)
    printf("  footprint: %ld bytes for %ld keys: %.0f bytes per key\n", size, keys,
           (double)size / keys);
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
  double puts = run_load(l, true);
  long keys = l->next_supi - supi0;
  long long mem1 = used_memory(c);
  double gets = run_load(l, false);
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
  if (keys > 0)
    printf("  memory: %.0f bytes per key (used_memory, %ld keys: record + SUPI mapping)\n",
           (double)(mem1 - mem0) / keys, keys);
  redisFree(c);
  redis_stop();
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
  bench_sqlite(&l, &mk);
  printf("\n");
  bench_redis(&l, &mk);
  free(l.ids);
  event_base_free(l.base);
  kedge_master_key_clear(&mk);
  return 0;
}
