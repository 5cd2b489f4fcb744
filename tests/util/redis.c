/* redis-server as a test fixture; see redis.h. */
#include "redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  5000
#define START_TRIES      5

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

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

static pid_t spawn(const kedge_test_redis_t *r)
{
  char port[16], log[400];
  snprintf(port, sizeof(port), "%d", r->port);
  snprintf(log, sizeof(log), "%s/redis.log", r->dir);
  const char *bin = getenv("KEDGE_REDIS_SERVER");
  if (!bin || !*bin)
    bin = "redis-server";
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* Child: dies with the test, even if the test crashes before kedge_test_redis_stop(). */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
    _exit(127);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    close(devnull);
  }
  const char *argv[32];
  int n = 0;
  argv[n++] = bin;
  argv[n++] = "--port";
  argv[n++] = port;
  argv[n++] = "--bind";
  argv[n++] = "127.0.0.1";
  argv[n++] = "--save";
  argv[n++] = "";
  argv[n++] = "--appendonly";
  argv[n++] = "no";
  argv[n++] = "--rdbcompression";
  argv[n++] = "no";
  argv[n++] = "--dir";
  argv[n++] = r->dir;
  argv[n++] = "--logfile";
  argv[n++] = log;
  argv[n++] = "--daemonize";
  argv[n++] = "no";
  if (r->password[0]) {
    argv[n++] = "--requirepass";
    argv[n++] = r->password;
  }
  argv[n] = NULL;
  execvp(bin, (char *const *)argv);
  fprintf(stderr, "redis fixture: exec %s: %s\n", bin, strerror(errno));
  _exit(127);
}

static void dump_log(const kedge_test_redis_t *r)
{
  char path[400], line[512];
  snprintf(path, sizeof(path), "%s/redis.log", r->dir);
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  while (fgets(line, sizeof(line), f))
    fprintf(stderr, "redis: %s", line);
  fclose(f);
}

/* 1: answers; 0: exited; -1: gave up. Any reply counts, NOAUTH included. */
static int wait_up(kedge_test_redis_t *r)
{
  for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
    int status;
    if (waitpid(r->pid, &status, WNOHANG) == r->pid) {
      r->pid = 0;
      return 0;
    }
    struct timeval tv = {.tv_sec = 1};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
    redisReply *reply = c && !c->err ? redisCommand(c, "PING") : NULL;
    bool up = reply != NULL;
    freeReplyObject(reply);
    redisFree(c);
    if (up)
      return 1;
    sleep_ms(20);
  }
  return -1;
}

static int start(kedge_test_redis_t *r, bool pick_port)
{
  for (int attempt = 0; attempt < START_TRIES; attempt++) {
    if (pick_port && (r->port = free_port()) < 0) {
      fprintf(stderr, "redis fixture: no free port: %s\n", strerror(errno));
      return -1;
    }
    r->pid = spawn(r);
    if (r->pid < 0) {
      r->pid = 0;
      fprintf(stderr, "redis fixture: fork: %s\n", strerror(errno));
      return -1;
    }
    int up = wait_up(r);
    if (up == 1)
      return 0;
    if (up < 0) {
      fprintf(stderr, "redis fixture: no answer after %d ms\n", START_TIMEOUT_MS);
      dump_log(r);
      kedge_test_redis_stop(r);
      return -1;
    }
    if (!pick_port) /* the port is taken: nothing to retry */
      break;
  }
  fprintf(stderr, "redis fixture: redis-server exited at start-up\n");
  dump_log(r);
  return -1;
}

int kedge_test_redis_start(kedge_test_redis_t *r, const char *dir, const char *password)
{
  memset(r, 0, sizeof(*r));
  if (!dir || strlen(dir) >= sizeof(r->dir) ||
      (password && strlen(password) >= sizeof(r->password))) {
    fprintf(stderr, "redis fixture: bad arguments\n");
    return -1;
  }
  snprintf(r->dir, sizeof(r->dir), "%s", dir);
  if (password)
    snprintf(r->password, sizeof(r->password), "%s", password);
  return start(r, true);
}

int kedge_test_redis_restart(kedge_test_redis_t *r)
{
  if (r->pid > 0 || r->port <= 0)
    return -1;
  /* The kernel may still hold the port briefly after the old server's exit. */
  for (int i = 0; i < 50; i++) {
    if (start(r, false) == 0)
      return 0;
    sleep_ms(100);
  }
  return -1;
}

void kedge_test_redis_stop(kedge_test_redis_t *r)
{
  if (!r || r->pid <= 0)
    return;
  kill(r->pid, SIGCONT); /* in case a test stopped it */
  kill(r->pid, SIGTERM);
  int status;
  for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += 10) {
    pid_t got = waitpid(r->pid, &status, WNOHANG);
    if (got == r->pid || (got < 0 && errno == ECHILD)) {
      r->pid = 0;
      return;
    }
    sleep_ms(10);
  }
  kill(r->pid, SIGKILL);
  waitpid(r->pid, &status, 0);
  r->pid = 0;
}

redisContext *kedge_test_redis_connect(const kedge_test_redis_t *r)
{
  struct timeval tv = {.tv_sec = 5};
  redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
  if (!c || c->err) {
    redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  if (r->password[0]) {
    redisReply *reply = redisCommand(c, "AUTH %s", r->password);
    bool ok = reply && reply->type != REDIS_REPLY_ERROR;
    freeReplyObject(reply);
    if (!ok) {
      redisFree(c);
      return NULL;
    }
  }
  return c;
}
