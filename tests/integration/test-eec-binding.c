/* EDGE-4 on one PSK connection (SPEC.md 4), with kedge-eec's own TLS-PSK and HTTP/2 client
 * code against real kedge-ecsd and kedge-keysource-testd processes: the first eecId is bound
 * to the connection (same one again: 200; another: 403; another connection: its own binding),
 * and bad ECSServProvReq bodies get ProblemDetails with invalidParams (TS 29.500 5.2.7). */
#include <setjmp.h>
#include <signal.h>
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

#include "eec.h"
#include "kedge/hex.h"
#include "testutil.h"

static char dir[64];
static pid_t ks_pid, ecs_pid;
static int ecs_port;
static eec_psk_t psk;

static void write_text(const char *name, const char *text)
{
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* Starts BIN/prog --config DIR/name.yaml --ports-file DIR/name.ports; returns the port. */
static int start(const char *prog, const char *name, pid_t *pid)
{
  char config[256], ports[256], log[256];
  snprintf(config, sizeof(config), "%s/%s.yaml", dir, name);
  snprintf(ports, sizeof(ports), "%s/%s.ports", dir, name);
  snprintf(log, sizeof(log), "%s/%s.log", dir, name);
  *pid = fork();
  assert_true(*pid >= 0);
  if (*pid == 0) {
    if (!freopen(log, "w", stderr))
      _exit(127);
    execl(run_bin(prog), prog, "--config", config, "--ports-file", ports, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    FILE *f = fopen(ports, "r");
    int port = 0;
    if (f) {
      int got = fscanf(f, "port=%d", &port);
      fclose(f);
      if (got == 1 && port > 0)
        return port;
    }
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  fail_msg("%s did not start (see %s)", prog, log);
  return 0;
}

static int setup(void **state)
{
  strcpy(dir, "/tmp/kedge-test-binding-XXXXXX");
  if (!mkdtemp(dir))
    return -1;
  char pki[128];
  snprintf(pki, sizeof(pki), "%s/pki", dir);
  run_result_t r;
  char *pki_argv[] = {(char *)run_bin("kedge"), "pki", "init", pki, NULL};
  run_capture(pki_argv, &r);
  assert_int_equal(r.status, 0);
  run_free(&r);
  char *derive_argv[] = {(char *)run_bin("kedge"),
                         "derive",
                         "kedge",
                         "--kausf",
                         "474698caf02cc715db2ec0726510cfee6caa5bb1a649cb01224f2e23af94de1b",
                         "--supi",
                         "imsi-001010000000001",
                         "--mcc",
                         "001",
                         "--mnc",
                         "01",
                         NULL};
  run_capture(derive_argv, &r);
  assert_int_equal(r.status, 0);
  json_t *j = json_loads(r.out, 0, NULL);
  run_free(&r);
  const char *id = json_string_value(json_object_get(j, "kedgeId"));
  const char *key = json_string_value(json_object_get(j, "kedge"));
  assert_non_null(id);
  snprintf(psk.identity, sizeof(psk.identity), "%s", id);
  assert_int_equal(kedge_hex_decode(key, psk.key, sizeof(psk.key)), KEDGE_OK);
  char text[2048];
  snprintf(text, sizeof(text), "%s %s\n", id, key);
  json_decref(j);
  write_text("keys.txt", text);
  snprintf(text, sizeof(text),
           "sbi:\n  port: 0\n  tls: {cert: %s/ausf.crt, key: %s/ausf.key, ca: %s/ca.crt}\n"
           "keysource: {keys_file: %s/keys.txt}\n",
           pki, pki, pki, dir);
  write_text("ks.yaml", text);
  int ks_port = start("kedge-keysource-testd", "ks", &ks_pid);
  snprintf(text, sizeof(text),
           "sbi: {port: 0}\n"
           "key_source:\n  uri: https://127.0.0.1:%d\n"
           "  tls: {ca: %s/ca.crt, cert: %s/ecs.crt, key: %s/ecs.key}\n"
           "service_provisioning:\n  edns:\n    - dnn: edge\n"
           "      eess: [{ees_id: ees-1, uri: \"https://ees-1:8443\"}]\n",
           ks_port, pki, pki, pki);
  write_text("ecs.yaml", text);
  ecs_port = start("kedge-ecsd", "ecs", &ecs_pid);
  return 0;
}

static int teardown(void **state)
{
  kill(ecs_pid, SIGTERM);
  kill(ks_pid, SIGTERM);
  int status;
  waitpid(ecs_pid, &status, 0);
  bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  waitpid(ks_pid, &status, 0);
  char cmd[128];
  snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
  if (system(cmd) != 0 || !clean)
    return -1; /* the ECS must shut down cleanly on SIGTERM */
  return 0;
}

typedef struct conn {
  int fd;
  SSL *ssl;
  eec_h2_t *h2;
} conn_t;

static void connect_ecs(conn_t *c)
{
  char why[256], where[64];
  snprintf(where, sizeof(where), "127.0.0.1:%d", ecs_port);
  if (eec_tcp_connect(where, 5000, &c->fd, why, sizeof(why)))
    fail_msg("%s", why);
  if (eec_tls_handshake(c->fd, &psk, false, 5000, &c->ssl, NULL, why, sizeof(why)))
    fail_msg("%s", why);
  assert_int_equal(eec_h2_open(c->ssl, &c->h2), KEDGE_OK);
}

static void close_ecs(conn_t *c)
{
  eec_h2_close(c->h2);
  SSL_free(c->ssl);
  close(c->fd);
}

/* POSTs `body`; returns the status, *problem the parsed body (caller frees). */
static int post(conn_t *c, const char *body, json_t **answer)
{
  eec_h2_response_t r;
  char why[256];
  if (eec_h2_request(c->h2, "ecs", "POST", "/eecs-serviceprovisioning/v1/request", body, &r, why,
                     sizeof(why)))
    fail_msg("%s", why);
  if (answer)
    *answer = r.body ? json_loads(r.body, 0, NULL) : NULL;
  int status = r.status;
  eec_h2_response_free(&r);
  return status;
}

static const char *cause_of(json_t *problem)
{
  return json_string_value(json_object_get(problem, "cause"));
}

static void first_eec_id_is_bound(void **state)
{
  conn_t a, b;
  json_t *j = NULL;
  connect_ecs(&a);
  assert_int_equal(post(&a, "{\"eecId\":\"eec-A\"}", &j), 200);
  assert_non_null(json_object_get(j, "ednCnfgInfo"));
  json_decref(j);
  assert_int_equal(post(&a, "{\"eecId\":\"eec-A\",\"acProfs\":[{\"acId\":\"x\"}]}", NULL), 200);
  assert_int_equal(post(&a, "{\"eecId\":\"eec-B\"}", &j), 403);
  assert_string_equal(cause_of(j), "EEC_NOT_AUTHORIZED");
  json_decref(j);
  assert_int_equal(post(&a, "{\"eecId\":\"eec-A\"}", NULL), 200); /* still bound to A */
  /* another connection with the same Kedge ID binds its own first eecId */
  connect_ecs(&b);
  assert_int_equal(post(&b, "{\"eecId\":\"eec-B\"}", NULL), 200);
  assert_int_equal(post(&b, "{\"eecId\":\"eec-A\"}", NULL), 403);
  close_ecs(&b);
  close_ecs(&a);
}

static void bad_bodies(void **state)
{
  conn_t c;
  json_t *j = NULL;
  connect_ecs(&c);
  assert_int_equal(post(&c, "{\"ueId\":\"msisdn-1\"}", &j), 400);
  assert_string_equal(cause_of(j), "MANDATORY_IE_MISSING");
  json_decref(j);
  assert_int_equal(post(&c, "{\"eecId\":42}", &j), 400);
  assert_string_equal(cause_of(j), "MANDATORY_IE_INCORRECT");
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_object_get(j, "invalidParams"), 0), "param")),
                      "/eecId");
  json_decref(j);
  assert_int_equal(
      post(&c, "{\"eecId\":\"e\",\"acProfs\":[{\"acId\":\"a\"},{\"acType\":\"t\"}]}", &j), 400);
  assert_string_equal(cause_of(j), "MANDATORY_IE_MISSING");
  assert_string_equal(json_string_value(json_object_get(
                          json_array_get(json_object_get(j, "invalidParams"), 0), "param")),
                      "/acProfs/1/acId");
  json_decref(j);
  assert_int_equal(post(&c, "{\"eecId\":\"\"}", NULL), 400);
  assert_int_equal(post(&c, "not json", NULL), 400);
  /* issue 12: an identifier's characters only; control characters, spaces, quotes, '%' and
   * non-ASCII are 400 MANDATORY_IE_INCORRECT naming /eecId, and bind nothing */
  static const char *const bad_ids[] = {"eec\\u0001x", "eec\\u001b[31m", "eec\\nid", "eec id",
                                        "eec\\\"id",   "eec%41",         "\\u00e9ec"};
  for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
    char body[128];
    snprintf(body, sizeof(body), "{\"eecId\":\"%s\"}", bad_ids[i]);
    assert_int_equal(post(&c, body, &j), 400);
    assert_string_equal(cause_of(j), "MANDATORY_IE_INCORRECT");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "invalidParams"), 0), "param")),
                        "/eecId");
    json_decref(j);
  }
  assert_int_equal(post(&c, "{\"eecId\":\"eec\\u0000x\"}", NULL), 400); /* NUL: not parsed */
  /* none of these bound an eecId: the first valid one is bound now */
  assert_int_equal(post(&c, "{\"eecId\":\"eec-C.1_~:x@realm.example\"}", NULL), 200);
  assert_int_equal(post(&c, "{\"eecId\":\"eec-A\"}", NULL), 403);
  close_ecs(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_eec_id_is_bound),
      cmocka_unit_test(bad_bodies),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
