/* nginx as a test fixture; see nginx.h. */
#include "nginx.h"

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

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  5000
#define START_TRIES      5

static void sleep_ms(long ms)
{
  struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Picks n distinct free ports: all sockets stay bound until every port is known. */
static int pick_ports(int *ports, int n)
{
  int fds[KEDGE_TEST_NGINX_MAX_PORTS];
  int ok = 0;
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0) {
      ok = -1;
      n = i + (fds[i] >= 0);
      break;
    }
    ports[i] = ntohs(sa.sin_port);
  }
  for (int i = 0; i < n; i++)
    close(fds[i]);
  return ok;
}

/* Appends s[0..n) to the growing string *out. */
static int append(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
  if (*len + n + 1 > *cap) {
    size_t ncap = (*cap ? *cap * 2 : 4096) + n;
    char *p = realloc(*out, ncap);
    if (!p)
      return -1;
    *out = p;
    *cap = ncap;
  }
  memcpy(*out + *len, s, n);
  *len += n;
  (*out)[*len] = '\0';
  return 0;
}

/* http_conf with @PORTi@ and @PREFIX@ substituted. */
static char *substitute(const char *in, const kedge_test_nginx_t *ng)
{
  char *out = NULL;
  size_t len = 0, cap = 0;
  char num[16];
  while (*in) {
    const char *at = strchr(in, '@');
    if (!at)
      at = in + strlen(in);
    if (append(&out, &len, &cap, in, (size_t)(at - in)))
      goto fail;
    in = at;
    if (!*in)
      break;
    if (strncmp(in, "@PORT", 5) == 0 && in[5] >= '0' && in[5] < '0' + KEDGE_TEST_NGINX_MAX_PORTS &&
        in[6] == '@') {
      snprintf(num, sizeof(num), "%d", ng->ports[in[5] - '0']);
      if (append(&out, &len, &cap, num, strlen(num)))
        goto fail;
      in += 7;
    } else if (strncmp(in, "@PREFIX@", 8) == 0) {
      if (append(&out, &len, &cap, ng->prefix, strlen(ng->prefix)))
        goto fail;
      in += 8;
    } else {
      if (append(&out, &len, &cap, in, 1))
        goto fail;
      in++;
    }
  }
  if (!out && append(&out, &len, &cap, "", 0))
    goto fail;
  return out;
fail:
  free(out);
  return NULL;
}

static int count_ports(const char *conf)
{
  int n = 0;
  for (const char *p = conf; (p = strstr(p, "@PORT")); p++)
    if (p[5] >= '0' && p[5] < '0' + KEDGE_TEST_NGINX_MAX_PORTS && p[6] == '@' && p[5] - '0' + 1 > n)
      n = p[5] - '0' + 1;
  return n;
}

static int write_conf(const kedge_test_nginx_t *ng, int workers, const char *main_conf,
                      const char *http_body)
{
  char path[600];
  snprintf(path, sizeof(path), "%s/nginx.conf", ng->prefix);
  FILE *f = fopen(path, "w");
  if (!f)
    return -1;
  const char *p = ng->prefix;
  fprintf(f, "# written by tests/util/nginx.c\n%s\n", main_conf ? main_conf : "");
  if (workers > 0) {
    fprintf(f, "worker_processes %d;\n", workers);
    /* As root, workers would switch to nobody and could not read files under PREFIX. */
    if (geteuid() == 0)
      fprintf(f, "user root;\n");
  } else {
    fprintf(f, "master_process off;\n");
  }
  fprintf(f,
          "pid %s/nginx.pid;\n"
          "error_log %s/error.log warn;\n"
          "events { worker_connections 1024; }\n"
          "http {\n"
          "  access_log off;\n"
          "  client_body_temp_path %s/client_body;\n"
          "  proxy_temp_path %s/proxy;\n"
          "  fastcgi_temp_path %s/fastcgi;\n"
          "  uwsgi_temp_path %s/uwsgi;\n"
          "  scgi_temp_path %s/scgi;\n"
          "%s\n"
          "}\n",
          p, p, p, p, p, p, p, http_body);
  return fclose(f) == 0 ? 0 : -1;
}

static void dump_error_log(const kedge_test_nginx_t *ng)
{
  char path[600], line[512];
  snprintf(path, sizeof(path), "%s/error.log", ng->prefix);
  FILE *f = fopen(path, "r");
  if (!f)
    return;
  while (fgets(line, sizeof(line), f))
    fprintf(stderr, "nginx: %s", line);
  fclose(f);
}

static bool error_log_says_in_use(const kedge_test_nginx_t *ng)
{
  char path[600], line[512];
  bool found = false;
  snprintf(path, sizeof(path), "%s/error.log", ng->prefix);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  while (!found && fgets(line, sizeof(line), f))
    found = strstr(line, "Address already in use") != NULL;
  fclose(f);
  return found;
}

static pid_t spawn(const kedge_test_nginx_t *ng)
{
  char conf[600], errlog[600];
  snprintf(conf, sizeof(conf), "%s/nginx.conf", ng->prefix);
  snprintf(errlog, sizeof(errlog), "%s/error.log", ng->prefix);
  const char *bin = getenv("KEDGE_NGINX");
  if (!bin || !*bin)
    bin = access("/usr/sbin/nginx", X_OK) == 0 ? "/usr/sbin/nginx" : "nginx";
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0)
    return pid;
  /* Child: die with the test process, even if it crashes before kedge_test_nginx_stop(). */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
    _exit(127);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
    close(devnull);
  }
  execlp(bin, bin, "-p", ng->prefix, "-c", conf, "-e", errlog, "-g", "daemon off;", (char *)NULL);
  fprintf(stderr, "nginx fixture: exec %s: %s\n", bin, strerror(errno));
  _exit(127);
}

static bool port_accepts(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t)port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
  close(fd);
  return ok;
}

/* 1: up; 0: nginx exited (maybe a lost port race); -1: gave up. */
static int wait_up(kedge_test_nginx_t *ng)
{
  for (int waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
    int status;
    if (waitpid(ng->pid, &status, WNOHANG) == ng->pid) {
      ng->pid = 0;
      return 0;
    }
    int up = 0;
    for (int i = 0; i < ng->nports; i++)
      up += port_accepts(ng->ports[i]);
    if (up == ng->nports)
      return 1;
    sleep_ms(20);
  }
  return -1;
}

int kedge_test_nginx_start(kedge_test_nginx_t *ng, const char *prefix, int workers,
                           const char *main_conf, const char *http_conf)
{
  memset(ng, 0, sizeof(*ng));
  if (!prefix || !http_conf || strlen(prefix) >= sizeof(ng->prefix) - 64) {
    fprintf(stderr, "nginx fixture: bad arguments\n");
    return -1;
  }
  snprintf(ng->prefix, sizeof(ng->prefix), "%s", prefix);
  ng->nports = count_ports(http_conf);
  for (int attempt = 0; attempt < START_TRIES; attempt++) {
    if (pick_ports(ng->ports, ng->nports) != 0) {
      fprintf(stderr, "nginx fixture: no free port: %s\n", strerror(errno));
      return -1;
    }
    char *body = substitute(http_conf, ng);
    if (!body || write_conf(ng, workers, main_conf, body) != 0) {
      free(body);
      fprintf(stderr, "nginx fixture: cannot write %s/nginx.conf\n", ng->prefix);
      return -1;
    }
    free(body);
    char errlog[600];
    snprintf(errlog, sizeof(errlog), "%s/error.log", ng->prefix);
    unlink(errlog);
    ng->pid = spawn(ng);
    if (ng->pid < 0) {
      ng->pid = 0;
      fprintf(stderr, "nginx fixture: fork: %s\n", strerror(errno));
      return -1;
    }
    int up = wait_up(ng);
    if (up == 1)
      return 0;
    if (up < 0) {
      fprintf(stderr, "nginx fixture: not accepting after %d ms\n", START_TIMEOUT_MS);
      dump_error_log(ng);
      kedge_test_nginx_stop(ng);
      return -1;
    }
    if (!error_log_says_in_use(ng))
      break;
  }
  fprintf(stderr, "nginx fixture: nginx exited at start-up\n");
  dump_error_log(ng);
  return -1;
}

void kedge_test_nginx_stop(kedge_test_nginx_t *ng)
{
  if (!ng || ng->pid <= 0)
    return;
  kill(ng->pid, SIGTERM);
  int status;
  for (int waited = 0; waited < STOP_TIMEOUT_MS; waited += 10) {
    pid_t r = waitpid(ng->pid, &status, WNOHANG);
    if (r == ng->pid || (r < 0 && errno == ECHILD)) {
      ng->pid = 0;
      return;
    }
    sleep_ms(10);
  }
  kill(ng->pid, SIGKILL);
  waitpid(ng->pid, &status, 0);
  ng->pid = 0;
}
