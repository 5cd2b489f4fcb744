/* Test fixture: Debian's redis-server as a child process on 127.0.0.1, for the key store's
 * Redis backend (tests/integration/test-keystore-redis.c) and bench/keystore.
 *
 * Started as `redis-server --port N --bind 127.0.0.1 --save '' --appendonly no --dir DIR
 * [--requirepass P]`: nothing is written unless the test asks (SAVE), and RDB compression is
 * off so that a test can search a dump for bytes. The child gets SIGKILL when the test process
 * dies (PR_SET_PDEATHSIG), so a crashed test leaves no redis-server behind. */
#ifndef KEDGE_TEST_REDIS_H
#define KEDGE_TEST_REDIS_H

#include <sys/types.h>

struct redisContext;

typedef struct kedge_test_redis {
  pid_t pid; /* 0 when not running */
  int port;  /* kept across stop and restart */
  char dir[256];
  char password[128]; /* "" for none */
} kedge_test_redis_t;

/* Starts redis-server on a free port (dir: an existing directory for its files and log;
 * password: NULL or the requirepass), and waits up to 10 s until it answers PING. 0, or -1
 * with the reason (and the server's log) on stderr. */
int kedge_test_redis_start(kedge_test_redis_t *r, const char *dir, const char *password);

/* Starts it again after kedge_test_redis_stop(), on the same port. */
int kedge_test_redis_restart(kedge_test_redis_t *r);

/* SIGTERM, wait up to 5 s, then SIGKILL; safe to call twice or on a fixture never started. */
void kedge_test_redis_stop(kedge_test_redis_t *r);

/* A blocking hiredis connection to it, AUTHenticated if it has a password; NULL on failure.
 * redisFree() it. */
struct redisContext *kedge_test_redis_connect(const kedge_test_redis_t *r);

#endif
