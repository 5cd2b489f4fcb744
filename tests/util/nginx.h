/* Test fixture: nginx (Debian nginx-light) as a child process on 127.0.0.1, serving a
 * configuration the test writes. Used by integration tests as an outside HTTP/2 server and by
 * benchmarks as the reference to compare with.
 *
 * The child gets SIGTERM when the test process dies (PR_SET_PDEATHSIG), so a crashed test
 * does not leave nginx behind; kedge_test_nginx_stop() is the normal way out. */
#ifndef KEDGE_TEST_NGINX_H
#define KEDGE_TEST_NGINX_H

#include <sys/types.h>

#define KEDGE_TEST_NGINX_MAX_PORTS 5

typedef struct kedge_test_nginx {
  pid_t pid; /* 0 when not running */
  int nports;
  int ports[KEDGE_TEST_NGINX_MAX_PORTS]; /* ports[i] replaced "@PORTi@" */
  char prefix[512];
} kedge_test_nginx_t;

/* Writes PREFIX/nginx.conf and starts `nginx -p PREFIX -c PREFIX/nginx.conf -e
 * PREFIX/error.log -g 'daemon off;'`, then waits (up to 10 s) until every port accepts TCP.
 *
 * prefix:    an existing writable directory; pid file, logs and temp files go there.
 * workers:   worker_processes; 0 runs a single process (master_process off), simplest for
 *            tests since then the PR_SET_PDEATHSIG guard covers every nginx process.
 * main_conf: extra main-context directives (e.g. load_module ...;), or NULL.
 * http_conf: the body of the http {} block. "@PORT0@".."@PORT3@" become free ports (the
 *            highest index used decides how many are allocated), "@PREFIX@" the prefix.
 *
 * Free ports are picked by binding port 0 and closing; if nginx then loses the race for one,
 * it is restarted on fresh ports (a few times). Returns 0, or -1 with the reason and
 * error.log on stderr. */
int kedge_test_nginx_start(kedge_test_nginx_t *ng, const char *prefix, int workers,
                           const char *main_conf, const char *http_conf);

/* SIGTERM, wait up to 5 s, then SIGKILL; safe to call twice or on a fixture never started. */
void kedge_test_nginx_stop(kedge_test_nginx_t *ng);

#endif
